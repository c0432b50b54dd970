//! Refund approval (the two-person rule), as pure decisions. The store and
//! `payments::approval` execute them; the UI only shows what they decided.
//!
//! - [`gate`]: may this requester refund this amount now, must it wait for an admin's
//!   approval, or may it not refund at all?
//! - [`may_decide`]: may this approver approve or reject this refund? Never their own.
//!
//! Compiled for the browser too (no server dependencies).

use crate::money::{Currency, Money};
use crate::role::Role;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What a merchant API key may do with refunds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KeyRefundPolicy {
    #[default]
    Allowed,
    /// Its refunds wait for an admin's approval.
    NeedsApproval,
    Forbidden,
}

impl KeyRefundPolicy {
    pub const ALL: [KeyRefundPolicy; 3] = [
        KeyRefundPolicy::Allowed,
        KeyRefundPolicy::NeedsApproval,
        KeyRefundPolicy::Forbidden,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyRefundPolicy::Allowed => "allowed",
            KeyRefundPolicy::NeedsApproval => "approval",
            KeyRefundPolicy::Forbidden => "forbidden",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown refund policy `{0}` (expected allowed, approval or forbidden)")]
pub struct UnknownPolicy(pub String);

impl FromStr for KeyRefundPolicy {
    type Err = UnknownPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyRefundPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| UnknownPolicy(s.to_string()))
    }
}

/// Refunds by `role` above `above` (strictly) need an admin's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundThreshold {
    pub role: Role,
    pub above: Money,
}

/// The roles' refund approval thresholds. Empty (the default): nobody needs approval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPolicy {
    pub thresholds: Vec<RefundThreshold>,
}

/// The settings key a threshold is stored under.
pub fn threshold_key(role: Role, currency: Currency) -> String {
    format!("refund_approval.{}.{}", role.as_str(), currency.code())
}

impl RefundPolicy {
    /// The threshold for `role` in `currency`, if one is set.
    pub fn threshold(&self, role: Role, currency: Currency) -> Option<Money> {
        self.thresholds
            .iter()
            .find(|t| t.role == role && t.above.currency() == currency)
            .map(|t| t.above)
    }

    /// Reads the policy from stored settings (`key`, `value` = minor units); entries that
    /// are not thresholds or do not parse are ignored.
    pub fn from_settings<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let thresholds = entries
            .into_iter()
            .filter_map(|(key, value)| {
                let rest = key.strip_prefix("refund_approval.")?;
                let (role, code) = rest.split_once('.')?;
                let role: Role = role.parse().ok()?;
                let currency = Currency::from_code(code).ok()?;
                let above = Money::new(value.trim().parse().ok()?, currency).ok()?;
                Some(RefundThreshold { role, above })
            })
            .collect();
        RefundPolicy { thresholds }
    }
}

/// Who asks for a refund, with what their approval depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    User(Role),
    ApiKey(KeyRefundPolicy),
}

/// What happens to a refund request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundGate {
    /// Reserve and send it now.
    Send,
    /// Reserve it, but send it only when an admin approves it.
    Hold,
    /// Refuse it.
    Forbid,
}

/// Decides what a refund request of `amount` by `requester` needs.
pub fn gate(requester: Requester, amount: Money, policy: &RefundPolicy) -> RefundGate {
    match requester {
        Requester::ApiKey(KeyRefundPolicy::Allowed) => RefundGate::Send,
        Requester::ApiKey(KeyRefundPolicy::NeedsApproval) => RefundGate::Hold,
        Requester::ApiKey(KeyRefundPolicy::Forbidden) => RefundGate::Forbid,
        Requester::User(role) => match policy.threshold(role, amount.currency()) {
            Some(above) if amount.minor() > above.minor() => RefundGate::Hold,
            _ => RefundGate::Send,
        },
    }
}

/// Where a refund stands with respect to approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    Awaiting,
    Approved,
    Rejected,
}

impl ApprovalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Awaiting => "awaiting",
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
        }
    }
}

impl FromStr for ApprovalState {
    type Err = UnknownPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            ApprovalState::Awaiting,
            ApprovalState::Approved,
            ApprovalState::Rejected,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| UnknownPolicy(s.to_string()))
    }
}

/// Why an approval or rejection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionRefusal {
    /// The refund does not wait for approval (never did, or was decided already).
    NotAwaiting,
    /// The approver asked for this refund themselves.
    OwnRefund,
    /// The approver's role may not approve refunds.
    NotAllowed,
    /// A rejection needs a reason.
    ReasonMissing,
}

/// May `approver` (whose requester text is `approver_ref`, e.g. `user:alice`, and whose
/// role is `role`) decide a refund requested by `requested_by` whose approval is `state`?
pub fn may_decide(
    state: Option<ApprovalState>,
    requested_by: &str,
    approver_ref: &str,
    role: Role,
    approve: bool,
    reason: &str,
) -> Result<(), DecisionRefusal> {
    if !role.can(crate::role::Capability::ApproveRefunds) {
        return Err(DecisionRefusal::NotAllowed);
    }
    if state != Some(ApprovalState::Awaiting) {
        return Err(DecisionRefusal::NotAwaiting);
    }
    if requested_by == approver_ref {
        return Err(DecisionRefusal::OwnRefund);
    }
    if !approve && reason.trim().is_empty() {
        return Err(DecisionRefusal::ReasonMissing);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::Cny).expect("money")
    }

    #[test]
    fn users_above_their_roles_threshold_wait() {
        let policy = RefundPolicy::from_settings([
            ("refund_approval.support.CNY", "50000"),
            ("refund_approval.support.XXX", "1"),
            ("twofa.required", "admin"),
        ]);
        assert_eq!(policy.thresholds.len(), 1);
        let support = Requester::User(Role::Support);
        assert_eq!(gate(support, cny(50000), &policy), RefundGate::Send);
        assert_eq!(gate(support, cny(50001), &policy), RefundGate::Hold);
        let usd = Money::new(9_999_900, Currency::Usd).expect("usd");
        assert_eq!(gate(support, usd, &policy), RefundGate::Send, "no USD rule");
        // Off by default for admins.
        let admin = Requester::User(Role::Admin);
        assert_eq!(gate(admin, cny(10_000_000), &policy), RefundGate::Send);
    }

    #[test]
    fn api_keys_follow_their_own_policy() {
        let p = RefundPolicy::default();
        for (policy, want) in [
            (KeyRefundPolicy::Allowed, RefundGate::Send),
            (KeyRefundPolicy::NeedsApproval, RefundGate::Hold),
            (KeyRefundPolicy::Forbidden, RefundGate::Forbid),
        ] {
            assert_eq!(gate(Requester::ApiKey(policy), cny(1), &p), want);
            assert_eq!(policy.as_str().parse::<KeyRefundPolicy>(), Ok(policy));
        }
        assert!("maybe".parse::<KeyRefundPolicy>().is_err());
    }

    #[test]
    fn nobody_decides_their_own_refund() {
        let w = Some(ApprovalState::Awaiting);
        let ok = may_decide(w, "user:sam", "user:ada", Role::Admin, true, "");
        assert_eq!(ok, Ok(()));
        assert_eq!(
            may_decide(w, "user:ada", "user:ada", Role::Admin, true, ""),
            Err(DecisionRefusal::OwnRefund)
        );
        assert_eq!(
            may_decide(w, "user:sam", "user:bo", Role::Support, true, ""),
            Err(DecisionRefusal::NotAllowed)
        );
        assert_eq!(
            may_decide(None, "user:sam", "user:ada", Role::Admin, true, ""),
            Err(DecisionRefusal::NotAwaiting)
        );
        let approved = Some(ApprovalState::Approved);
        assert_eq!(
            may_decide(approved, "user:sam", "user:ada", Role::Admin, false, "x"),
            Err(DecisionRefusal::NotAwaiting)
        );
        assert_eq!(
            may_decide(w, "user:sam", "user:ada", Role::Admin, false, " "),
            Err(DecisionRefusal::ReasonMissing)
        );
    }
}
