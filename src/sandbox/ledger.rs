//! The sandbox's order book: orders, their refunds and pay codes, and the merchant balance
//! available for refunds.
//!
//! Two books run the same rules ([`super::rules`]):
//! - **durable** ([`Ledger::durable`], what the server mounts): rows in the database
//!   (`sandbox_orders`, `sandbox_refunds`, `sandbox_accounts`), each operation one
//!   transaction holding the order's row (`Store::*_sandbox_order`). It survives a crash
//!   and is shared by every instance on the same database, like a real gateway's.
//! - **in memory** ([`Ledger::default`]): for a stand-alone sandbox in tests and tools that
//!   have no database; it forgets everything when dropped.

use std::collections::HashMap;
use std::sync::Mutex;

use super::rules::{self, RefundStep};
use super::{
    CodeBehaviour, LedgerError, OrderState, PAY_CODE_VALID_MS, SandboxOrder, SandboxRefund,
};
use crate::money::Money;
use crate::provider::ProviderKind;
use crate::store::{NewSandboxOrder, Store, StoreError};

#[derive(Debug, Default)]
struct Memory {
    orders: HashMap<String, SandboxOrder>,
    /// Remaining balance available for refunds; `None` = unlimited.
    balance: Option<i64>,
    seq: i64,
    /// Payment codes: behaviour, issued at (ms), the order it was charged for.
    codes: HashMap<String, (CodeBehaviour, i64, Option<String>)>,
}

#[derive(Debug)]
enum Book {
    Memory(Mutex<Memory>),
    Durable {
        store: Store,
        provider: ProviderKind,
    },
}

/// The sandbox's order book (see the module docs).
#[derive(Debug)]
pub struct Ledger {
    book: Book,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            book: Book::Memory(Mutex::new(Memory::default())),
        }
    }
}

/// A database failure is the gateway's "system error", never "no such order": a merchant
/// told "not found" could close an order that was in fact paid.
fn unavailable(e: StoreError) -> LedgerError {
    tracing::error!(error = %e, "sandbox order book unavailable");
    LedgerError::Unavailable
}

/// Flattens the store's `Result<Result<T, LedgerError>, StoreError>`.
fn decided<T>(r: Result<Result<T, LedgerError>, StoreError>) -> Result<T, LedgerError> {
    r.map_err(unavailable)?
}

impl Ledger {
    /// The book of `provider`'s sandbox in `store`.
    pub fn durable(store: Store, provider: ProviderKind) -> Ledger {
        Ledger {
            book: Book::Durable { store, provider },
        }
    }

    pub fn is_durable(&self) -> bool {
        matches!(self.book, Book::Durable { .. })
    }

    fn memory<T>(m: &Mutex<Memory>, f: impl FnOnce(&mut Memory) -> T) -> T {
        // A poisoned lock only means another request panicked mid-update; the map is still
        // usable for a sandbox.
        let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Limits the merchant balance available for refunds (to exercise "insufficient
    /// balance"); `None` lifts the limit.
    pub async fn set_refund_balance(&self, minor: Option<i64>) -> Result<(), LedgerError> {
        match &self.book {
            Book::Memory(m) => {
                Ledger::memory(m, |l| l.balance = minor);
                Ok(())
            }
            Book::Durable { store, provider } => store
                .set_sandbox_refund_balance(*provider, minor)
                .await
                .map_err(unavailable),
        }
    }

    /// Creates an order; re-creating with the same parameters returns the same order (the
    /// real gateways behave that way), different parameters are a conflict.
    pub async fn create(
        &self,
        prefix: &str,
        code_prefix: &str,
        out_trade_no: &str,
        amount: Money,
        subject: &str,
        notify_url: &str,
    ) -> Result<SandboxOrder, LedgerError> {
        let new = NewSandboxOrder {
            prefix,
            code_prefix,
            out_trade_no,
            amount,
            subject,
            notify_url,
        };
        match &self.book {
            Book::Memory(m) => Ledger::memory(m, |l| {
                if let Some(o) = l.orders.get(out_trade_no) {
                    return rules::recreate(o, amount, subject);
                }
                l.seq += 1;
                let o = rules::new_order(
                    l.seq,
                    prefix,
                    code_prefix,
                    out_trade_no,
                    amount,
                    subject,
                    notify_url,
                );
                l.orders.insert(out_trade_no.to_string(), o.clone());
                Ok(o)
            }),
            Book::Durable { store, provider } => {
                decided(store.create_sandbox_order(*provider, new).await)
            }
        }
    }

    pub async fn get(&self, out_trade_no: &str) -> Result<Option<SandboxOrder>, LedgerError> {
        match &self.book {
            Book::Memory(m) => Ok(Ledger::memory(m, |l| l.orders.get(out_trade_no).cloned())),
            Book::Durable { store, provider } => store
                .sandbox_order(*provider, out_trade_no)
                .await
                .map_err(unavailable),
        }
    }

    /// The order a wallet pay code (or Stripe Checkout Session id) belongs to.
    pub async fn find_by_code(&self, code: &str) -> Result<Option<SandboxOrder>, LedgerError> {
        match &self.book {
            Book::Memory(m) => Ok(Ledger::memory(m, |l| {
                l.orders.values().find(|o| o.code == code).cloned()
            })),
            Book::Durable { store, provider } => store
                .sandbox_order_by_code(*provider, code)
                .await
                .map_err(unavailable),
        }
    }

    /// The paid (or closed) order with this gateway transaction id (a Stripe PaymentIntent
    /// exists only once the session is complete).
    pub async fn with_trade_no(&self, trade_no: &str) -> Result<Option<SandboxOrder>, LedgerError> {
        match &self.book {
            Book::Memory(m) => Ok(Ledger::memory(m, |l| {
                l.orders
                    .values()
                    .find(|o| o.trade_no == trade_no && o.state != OrderState::Pending)
                    .cloned()
            })),
            Book::Durable { store, provider } => store
                .sandbox_order_by_trade_no(*provider, trade_no)
                .await
                .map_err(unavailable),
        }
    }

    /// The payer paid (a test, or the wallet through [`Ledger::pay_and_notify`]).
    pub async fn pay(&self, out_trade_no: &str) -> Result<SandboxOrder, LedgerError> {
        self.pay_inner(out_trade_no, false).await
    }

    /// The payer paid in the wallet: in the durable book the "paid" notification is queued
    /// for delivery in the same transaction, so a payment that happened is always
    /// notified, even across a crash (the in-memory book has no queue: same as
    /// [`Ledger::pay`]).
    pub async fn pay_and_notify(&self, out_trade_no: &str) -> Result<SandboxOrder, LedgerError> {
        self.pay_inner(out_trade_no, true).await
    }

    async fn pay_inner(
        &self,
        out_trade_no: &str,
        notify: bool,
    ) -> Result<SandboxOrder, LedgerError> {
        match &self.book {
            Book::Memory(m) => Ledger::memory(m, |l| {
                let o = l
                    .orders
                    .get_mut(out_trade_no)
                    .ok_or(LedgerError::NotFound)?;
                *o = rules::pay(o)?;
                Ok(o.clone())
            }),
            Book::Durable { store, provider } => decided(
                store
                    .pay_sandbox_order(*provider, out_trade_no, notify)
                    .await,
            ),
        }
    }

    pub async fn close(&self, out_trade_no: &str) -> Result<SandboxOrder, LedgerError> {
        match &self.book {
            Book::Memory(m) => Ledger::memory(m, |l| {
                let o = l
                    .orders
                    .get_mut(out_trade_no)
                    .ok_or(LedgerError::NotFound)?;
                *o = rules::close(o)?;
                Ok(o.clone())
            }),
            Book::Durable { store, provider } => {
                decided(store.close_sandbox_order(*provider, out_trade_no).await)
            }
        }
    }

    /// Refunds `amount`; the same `out_refund_no` again returns the first refund (gateways
    /// are idempotent on the merchant's refund number).
    pub async fn refund(
        &self,
        out_trade_no: &str,
        out_refund_no: &str,
        amount: Money,
    ) -> Result<(SandboxOrder, SandboxRefund), LedgerError> {
        match &self.book {
            Book::Memory(m) => Ledger::memory(m, |l| {
                let balance = l.balance;
                let o = l
                    .orders
                    .get_mut(out_trade_no)
                    .ok_or(LedgerError::NotFound)?;
                match rules::refund(o, out_refund_no, amount, balance)? {
                    RefundStep::Replay(r) => Ok((o.clone(), r)),
                    RefundStep::New(amount) => {
                        l.seq += 1;
                        let r = SandboxRefund {
                            out_refund_no: out_refund_no.to_string(),
                            refund_id: rules::refund_id(l.seq),
                            amount,
                        };
                        o.refunds.push(r.clone());
                        let snapshot = o.clone();
                        if let Some(b) = l.balance.as_mut() {
                            *b -= amount.minor();
                        }
                        Ok((snapshot, r))
                    }
                }
            }),
            Book::Durable { store, provider } => decided(
                store
                    .refund_sandbox_order(*provider, out_trade_no, out_refund_no, amount)
                    .await,
            ),
        }
    }

    /// A refund by the merchant's refund number or the gateway's refund id.
    pub async fn find_refund(
        &self,
        refund_no: &str,
    ) -> Result<Option<(SandboxOrder, SandboxRefund)>, LedgerError> {
        match &self.book {
            Book::Memory(m) => Ok(Ledger::memory(m, |l| {
                l.orders.values().find_map(|o| {
                    o.refunds
                        .iter()
                        .find(|r| r.out_refund_no == refund_no || r.refund_id == refund_no)
                        .map(|r| (o.clone(), r.clone()))
                })
            })),
            Book::Durable { store, provider } => store
                .sandbox_refund(*provider, refund_no)
                .await
                .map_err(unavailable),
        }
    }

    /// A new single-use payment code for this wallet (`prefix` and random digits up to
    /// `len`), charged with `behaviour`.
    pub async fn issue_pay_code(
        &self,
        prefix: &str,
        len: usize,
        behaviour: CodeBehaviour,
        now: i64,
    ) -> Result<String, LedgerError> {
        let code = format!(
            "{prefix}{}",
            crate::sandbox::keys::digits(len.saturating_sub(prefix.len()))
        );
        match &self.book {
            Book::Memory(m) => Ledger::memory(m, |l| {
                l.codes.insert(code.clone(), (behaviour, now, None));
            }),
            Book::Durable { store, provider } => store
                .issue_sandbox_pay_code(*provider, &code, behaviour, now)
                .await
                .map_err(unavailable)?,
        }
        Ok(code)
    }

    /// Charges a payment code for `out_trade_no`, once: its behaviour, or `None` for a
    /// code that is unknown, used or expired.
    pub async fn take_pay_code(
        &self,
        code: &str,
        out_trade_no: &str,
        now: i64,
    ) -> Result<Option<CodeBehaviour>, LedgerError> {
        let not_before = now - PAY_CODE_VALID_MS;
        match &self.book {
            Book::Memory(m) => Ok(Ledger::memory(m, |l| match l.codes.get_mut(code) {
                Some((b, issued, used @ None)) if *issued >= not_before => {
                    *used = Some(out_trade_no.to_string());
                    Some(*b)
                }
                _ => None,
            })),
            Book::Durable { store, provider } => store
                .take_sandbox_pay_code(*provider, code, out_trade_no, not_before, now)
                .await
                .map_err(unavailable),
        }
    }

    /// The order a payment code was charged for, if it was.
    pub async fn pay_code_order(&self, code: &str) -> Result<Option<String>, LedgerError> {
        match &self.book {
            Book::Memory(m) => Ok(Ledger::memory(m, |l| {
                l.codes.get(code).and_then(|(_, _, o)| o.clone())
            })),
            Book::Durable { store, provider } => store
                .sandbox_pay_code_order(*provider, code)
                .await
                .map_err(unavailable),
        }
    }
}
