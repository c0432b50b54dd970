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

pub mod alipay;
pub mod certs;
pub mod delivery;
pub mod keys;
pub mod set;
pub mod stripe;
pub mod wechatpay;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::money::{Money, MoneyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    Pending,
    Paid,
    Closed,
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
}

#[derive(Debug, Default)]
struct LedgerInner {
    orders: HashMap<String, SandboxOrder>,
    /// Remaining balance available for refunds; `None` = unlimited.
    balance: Option<i64>,
    seq: u64,
}

/// The sandbox's order book.
#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<LedgerInner>,
}

impl Ledger {
    fn with<T>(&self, f: impl FnOnce(&mut LedgerInner) -> T) -> T {
        // A poisoned lock only means another request panicked mid-update; the map is still
        // usable for a sandbox.
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Limits the merchant balance available for refunds (to exercise "insufficient balance").
    pub fn set_refund_balance(&self, minor: Option<i64>) {
        self.with(|l| l.balance = minor);
    }

    /// Creates an order; re-creating with the same parameters returns the same order (the
    /// real gateways behave that way), different parameters are a conflict.
    pub fn create(
        &self,
        prefix: &str,
        code_prefix: &str,
        out_trade_no: &str,
        amount: Money,
        subject: &str,
        notify_url: &str,
    ) -> Result<SandboxOrder, LedgerError> {
        self.with(|l| {
            if let Some(o) = l.orders.get(out_trade_no) {
                if o.amount == amount && o.subject == subject {
                    return match o.state {
                        OrderState::Closed => Err(LedgerError::Closed),
                        OrderState::Paid => Err(LedgerError::AlreadyPaid),
                        OrderState::Pending => Ok(o.clone()),
                    };
                }
                return Err(LedgerError::Conflict);
            }
            l.seq += 1;
            let order = SandboxOrder {
                out_trade_no: out_trade_no.to_string(),
                trade_no: format!("{prefix}{:012}", l.seq),
                code: format!(
                    "{code_prefix}{:08}{}",
                    l.seq,
                    crate::provider::crypto::random_alnum(16)
                ),
                amount,
                subject: subject.to_string(),
                notify_url: notify_url.to_string(),
                state: OrderState::Pending,
                refunds: Vec::new(),
            };
            l.orders.insert(out_trade_no.to_string(), order.clone());
            Ok(order)
        })
    }

    pub fn get(&self, out_trade_no: &str) -> Option<SandboxOrder> {
        self.with(|l| l.orders.get(out_trade_no).cloned())
    }

    pub fn find_by_code(&self, code: &str) -> Option<SandboxOrder> {
        self.with(|l| l.orders.values().find(|o| o.code == code).cloned())
    }

    /// The payer paid (wallet page "Pay", or a test).
    pub fn pay(&self, out_trade_no: &str) -> Result<SandboxOrder, LedgerError> {
        self.with(|l| {
            let o = l
                .orders
                .get_mut(out_trade_no)
                .ok_or(LedgerError::NotFound)?;
            match o.state {
                OrderState::Closed => Err(LedgerError::Closed),
                OrderState::Paid => Err(LedgerError::AlreadyPaid),
                OrderState::Pending => {
                    o.state = OrderState::Paid;
                    Ok(o.clone())
                }
            }
        })
    }

    pub fn close(&self, out_trade_no: &str) -> Result<SandboxOrder, LedgerError> {
        self.with(|l| {
            let o = l
                .orders
                .get_mut(out_trade_no)
                .ok_or(LedgerError::NotFound)?;
            match o.state {
                OrderState::Paid => Err(LedgerError::AlreadyPaid),
                _ => {
                    o.state = OrderState::Closed;
                    Ok(o.clone())
                }
            }
        })
    }

    /// Refunds `amount`; the same `out_refund_no` again returns the first refund (gateways
    /// are idempotent on the merchant's refund number).
    pub fn refund(
        &self,
        out_trade_no: &str,
        out_refund_no: &str,
        amount: Money,
    ) -> Result<(SandboxOrder, SandboxRefund), LedgerError> {
        self.with(|l| {
            let balance = l.balance;
            l.seq += 1;
            let seq = l.seq;
            let o = l
                .orders
                .get_mut(out_trade_no)
                .ok_or(LedgerError::NotFound)?;
            if let Some(r) = o.refunds.iter().find(|r| r.out_refund_no == out_refund_no) {
                return Ok((o.clone(), r.clone()));
            }
            match o.state {
                OrderState::Pending => return Err(LedgerError::NotPaid),
                OrderState::Closed if o.refunds.is_empty() => return Err(LedgerError::Closed),
                _ => {}
            }
            let total = o.refunded()?.checked_add(amount)?;
            if amount.is_zero() || total.minor() > o.amount.minor() {
                return Err(LedgerError::RefundExceedsAmount);
            }
            if let Some(b) = balance
                && amount.minor() > b
            {
                return Err(LedgerError::InsufficientBalance);
            }
            let r = SandboxRefund {
                out_refund_no: out_refund_no.to_string(),
                refund_id: format!("re{seq:012}"),
                amount,
            };
            o.refunds.push(r.clone());
            let snapshot = o.clone();
            if let Some(b) = l.balance.as_mut() {
                *b -= amount.minor();
            }
            Ok((snapshot, r))
        })
    }

    pub fn find_refund(&self, out_refund_no: &str) -> Option<(SandboxOrder, SandboxRefund)> {
        self.with(|l| {
            l.orders.values().find_map(|o| {
                o.refunds
                    .iter()
                    .find(|r| r.out_refund_no == out_refund_no || r.refund_id == out_refund_no)
                    .map(|r| (o.clone(), r.clone()))
            })
        })
    }
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
