//! In-process emulations of the three gateways, as `axum::Router`s.
//!
//! Each sandbox verifies our signed requests by the provider's rules and answers in the
//! provider's response shapes, signed with the sandbox's own keys, including the error cases
//! (bad signature, order closed, refund exceeding the amount, insufficient balance). Each also
//! builds signed (and for WeChat, encrypted) notifications, for the wallet page to send.
//!
//! Mounting (`/sandbox/alipay/gateway.do`, `/sandbox/wechatpay/v3/…`, `/sandbox/stripe/v1/…`)
//! and persisting the generated keys are the server's job; the routers here are relative.
//!
//! The order book ([`Ledger`]) is shared by the three sandboxes; only the wire formats differ.
//! What an operation does to an order is decided by the pure functions in [`rules`]; the
//! server's book keeps its orders in the database, so the sandbox remembers them across
//! restarts and instances like a real gateway.

pub mod certs;
pub mod delivery;
pub mod keys;
mod ledger;
pub mod rules;
pub mod set;

pub use ledger::Ledger;

use crate::money::{Money, MoneyError};

/// What a sandbox wallet does when the cashier charges its payment code (付款码).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeBehaviour {
    /// Paid at once (small amounts, 免密).
    Pay,
    /// The customer must confirm with the password on the wallet page.
    Password,
    /// Declined: not enough balance.
    Decline,
}

impl CodeBehaviour {
    pub const ALL: [CodeBehaviour; 3] = [
        CodeBehaviour::Pay,
        CodeBehaviour::Password,
        CodeBehaviour::Decline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CodeBehaviour::Pay => "pay",
            CodeBehaviour::Password => "password",
            CodeBehaviour::Decline => "decline",
        }
    }

    pub fn parse(s: &str) -> Option<CodeBehaviour> {
        CodeBehaviour::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// How long a sandbox payment code can be charged: the wallet shows a new one every
/// minute, and the one before stays good a little longer, as in the real wallets.
pub const PAY_CODE_VALID_MS: i64 = 120_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    Pending,
    Paid,
    Closed,
}

impl OrderState {
    /// As stored (`sandbox_orders.state`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Pending => "pending",
            OrderState::Paid => "paid",
            OrderState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<OrderState> {
        match s {
            "pending" => Some(OrderState::Pending),
            "paid" => Some(OrderState::Paid),
            "closed" => Some(OrderState::Closed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxRefund {
    pub out_refund_no: String,
    pub refund_id: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxOrder {
    pub out_trade_no: String,
    /// The sandbox's own transaction id (Alipay `trade_no`, WeChat `transaction_id`, Stripe
    /// `pi_…`).
    pub trade_no: String,
    /// Stripe Checkout Session id; a stable pay code for the others.
    pub code: String,
    pub amount: Money,
    pub subject: String,
    pub notify_url: String,
    pub state: OrderState,
    pub refunds: Vec<SandboxRefund>,
}

impl SandboxOrder {
    pub fn refunded(&self) -> Result<Money, MoneyError> {
        self.refunds
            .iter()
            .try_fold(Money::zero(self.amount.currency()), |acc, r| {
                acc.checked_add(r.amount)
            })
    }
}

/// Why the sandbox refuses an operation; each provider maps these to its own error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("order does not exist")]
    NotFound,
    #[error("order number reused with different parameters")]
    Conflict,
    #[error("order is closed")]
    Closed,
    #[error("order is not paid")]
    NotPaid,
    #[error("order is already paid")]
    AlreadyPaid,
    #[error("refund exceeds the paid amount")]
    RefundExceedsAmount,
    #[error("merchant balance is insufficient")]
    InsufficientBalance,
    #[error("amount: {0}")]
    Money(#[from] MoneyError),
    /// The order book cannot be read or written (database down): the gateway's "system
    /// error, try again", never an answer about the order.
    #[error("the sandbox order book is unavailable")]
    Unavailable,
}

/// Starts `router` on `127.0.0.1:0` (tests, local tools) and returns its base URL.
pub async fn serve_local(router: axum::Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(format!("http://{addr}"))
}
