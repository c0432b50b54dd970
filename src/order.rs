//! The order state machine, as pure rules. The store applies them with compare-and-set
//! statements so that concurrent notifications, queries and people produce exactly one
//! transition.
//!
//! ```text
//! pending ──paid──▶ paid ──refund──▶ partially_refunded ──refund──▶ refunded
//!    │                 └───────────────full refund─────────────────────▲
//!    └──close (person, expiry, provider)──▶ closed
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    PartiallyRefunded,
    Refunded,
    Closed,
}

impl OrderStatus {
    /// Paid, or paid and (partly) refunded since.
    pub fn is_paid_like(self) -> bool {
        !matches!(self, OrderStatus::Pending | OrderStatus::Closed)
    }

    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Pending,
        OrderStatus::Paid,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
        OrderStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Closed => "closed",
        }
    }

    /// Whether money can still be refunded from an order in this state.
    pub fn is_refundable(self) -> bool {
        matches!(self, OrderStatus::Paid | OrderStatus::PartiallyRefunded)
    }

    /// No further payment transition can happen (refunds aside).
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Refunded | OrderStatus::Closed)
    }

    /// The state after a refund brings the refunded total to `refunded` of `amount`.
    pub fn after_refund(refunded: i64, amount: i64) -> OrderStatus {
        if refunded >= amount {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status `{0}`")]
pub struct UnknownStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// How an order is paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayMethod {
    /// The customer scans our QR code (or opens the Stripe link).
    #[default]
    Qr,
    /// The cashier scans the customer's payment code (付款码). Undecided at expiry, it is
    /// cancelled at the provider, not merely closed.
    Code,
}

impl PayMethod {
    /// As stored (`orders.pay_method`).
    pub fn as_str(self) -> &'static str {
        match self {
            PayMethod::Qr => "qr",
            PayMethod::Code => "code",
        }
    }

    pub fn parse(s: &str) -> Option<PayMethod> {
        match s {
            "qr" => Some(PayMethod::Qr),
            "code" => Some(PayMethod::Code),
            _ => None,
        }
    }
}

/// What caused a change: every transition is traceable to one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// A verified provider notification (its inbox id).
    Notify(String),
    /// An active query of the provider.
    Query,
    /// A signed-in person (user name).
    User(String),
    /// The merchant API (API key name).
    ApiKey(String),
    /// paydesk itself (e.g. expiry).
    System(String),
}

impl Cause {
    pub fn kind(&self) -> &'static str {
        match self {
            Cause::Notify(_) => "notify",
            Cause::Query => "query",
            Cause::User(_) => "user",
            Cause::ApiKey(_) => "api_key",
            Cause::System(_) => "system",
        }
    }

    pub fn reference(&self) -> &str {
        match self {
            Cause::Notify(r) | Cause::User(r) | Cause::ApiKey(r) | Cause::System(r) => r,
            Cause::Query => "",
        }
    }

    pub fn from_parts(kind: &str, reference: &str) -> Cause {
        let r = reference.to_string();
        match kind {
            "notify" => Cause::Notify(r),
            "query" => Cause::Query,
            "user" => Cause::User(r),
            "api_key" => Cause::ApiKey(r),
            _ => Cause::System(r),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }
}

impl FromStr for RefundStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            RefundStatus::Pending,
            RefundStatus::Succeeded,
            RefundStatus::Failed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_classify() {
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>(), Ok(s));
        }
        assert!("PAID".parse::<OrderStatus>().is_err());
        let refundable: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| s.is_refundable())
            .collect();
        assert_eq!(
            refundable,
            [OrderStatus::Paid, OrderStatus::PartiallyRefunded]
        );
        assert_eq!(OrderStatus::after_refund(100, 100), OrderStatus::Refunded);
        assert_eq!(
            OrderStatus::after_refund(99, 100),
            OrderStatus::PartiallyRefunded
        );
    }

    #[test]
    fn causes_round_trip_through_their_parts() {
        for c in [
            Cause::Notify("n1".into()),
            Cause::Query,
            Cause::User("alice".into()),
            Cause::ApiKey("pos".into()),
            Cause::System("expired".into()),
        ] {
            assert_eq!(Cause::from_parts(c.kind(), c.reference()), c);
        }
    }
}
