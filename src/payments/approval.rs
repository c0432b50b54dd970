//! Refund approval: what a refund request needs ([`crate::approval::gate`]), and
//! approving or rejecting one that waits ([`Payments::decide_refund`]). The rules are the
//! pure functions in `crate::approval`; the store applies the decision with a
//! compare-and-set, so it holds for every entry point (pages, server functions, API).

use super::{PaymentError, Payments};
use crate::approval::{DecisionRefusal, RefundGate, RefundPolicy, Requester, gate, may_decide};
use crate::money::Money;
use crate::order::Cause;
use crate::role::Role;
use crate::store::{ApprovalOutcome, Order, Refund, User};

pub(super) fn refusal_code(r: DecisionRefusal) -> &'static str {
    match r {
        DecisionRefusal::NotAwaiting => "not_awaiting_approval",
        DecisionRefusal::OwnRefund => "own_refund",
        DecisionRefusal::NotAllowed => "approval_not_allowed",
        DecisionRefusal::ReasonMissing => "reason_missing",
    }
}

/// How a cause is recorded as a refund's requester (`refunds.requested_by`).
pub fn requester_ref(cause: &Cause) -> String {
    match cause.reference() {
        "" => cause.kind().to_string(),
        r => format!("{}:{r}", cause.kind()),
    }
}

impl Payments {
    /// The roles' refund thresholds as the admins set them.
    pub async fn refund_policy(&self) -> Result<RefundPolicy, PaymentError> {
        let settings = self.store.security_settings().await?;
        Ok(RefundPolicy::from_settings(
            settings.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }

    /// What a refund of `amount` on `order` asked for by `cause` needs.
    pub(super) async fn refund_gate(
        &self,
        order: &Order,
        amount: Money,
        cause: &Cause,
    ) -> Result<RefundGate, PaymentError> {
        let requester = match cause {
            Cause::User(name) => match self.store.user_by_name(name).await? {
                // A disabled user cannot refund at all.
                Some(u) if u.disabled => return Ok(RefundGate::Forbid),
                Some(u) => Requester::User(u.role),
                // Not a dashboard user (a script or test acting under a name): the rules
                // of support, the role with the least trust that refunds.
                None => Requester::User(Role::Support),
            },
            // The API refunds only the key's own orders, so the order names the key.
            Cause::ApiKey(_) => match &order.api_key_id {
                Some(id) => Requester::ApiKey(self.store.api_key_refund_policy(id).await?),
                None => return Ok(RefundGate::Forbid),
            },
            // paydesk itself never starts refunds; treat anything else as a person.
            _ => Requester::User(Role::Support),
        };
        Ok(gate(requester, amount, &self.refund_policy().await?))
    }

    /// Whether a new refund numbered `out_refund_no` must wait for approval (`Forbid`
    /// refuses it). A repeated number answers with the refund made the first time,
    /// whatever the policy says now, so it never waits.
    pub(super) async fn must_hold(
        &self,
        out_refund_no: &str,
        order: &Order,
        amount: Money,
        cause: &Cause,
    ) -> Result<bool, PaymentError> {
        if self.store.refund(out_refund_no).await?.is_some() {
            return Ok(false);
        }
        match self.refund_gate(order, amount, cause).await? {
            RefundGate::Send => Ok(false),
            RefundGate::Hold => Ok(true),
            RefundGate::Forbid => Err(PaymentError::RefundForbidden),
        }
    }

    /// Approves (`approve`) or rejects a refund waiting for approval. An approved refund
    /// is sent to the provider at once; a rejected one releases its reservation. Nobody
    /// decides their own refund; of concurrent decisions exactly one applies.
    pub async fn decide_refund(
        &self,
        out_refund_no: &str,
        approver: &User,
        approve: bool,
        reason: &str,
    ) -> Result<Refund, PaymentError> {
        let reason = reason.trim();
        if reason.chars().count() > 200 {
            return Err(PaymentError::invalid("reason", "at most 200 characters"));
        }
        let refund = self
            .store
            .refund(out_refund_no)
            .await?
            .ok_or(PaymentError::RefundNotFound)?;
        let cause = Cause::User(approver.username.clone());
        let state = refund.approval.as_ref().map(|a| a.state);
        may_decide(
            state,
            &refund.requested_by,
            &requester_ref(&cause),
            approver.role,
            approve,
            reason,
        )
        .map_err(PaymentError::ApprovalRefused)?;
        let refund = match self
            .store
            .decide_refund(out_refund_no, approve, &cause, reason)
            .await?
        {
            ApprovalOutcome::Applied(r) => r,
            ApprovalOutcome::Refused { why, .. } => {
                return Err(PaymentError::ApprovalRefused(why));
            }
        };
        let order = self.store.order_by_id(&refund.order_id).await?;
        let action = if approve {
            "refund_approved"
        } else {
            "refund_rejected"
        };
        let detail = format!(
            "{out_refund_no} {} {} {reason}",
            refund.amount.to_decimal_string(),
            refund.amount.currency().code()
        );
        self.audit(&cause, action, &order.out_trade_no, detail.trim())
            .await;
        if approve {
            self.submit(&order, &refund, &cause).await;
        }
        Ok(self.store.refund(out_refund_no).await?.unwrap_or(refund))
    }
}
