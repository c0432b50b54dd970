//! What each gateway operation does to a sandbox order, as pure functions: given the order
//! as it is (and the merchant balance), the outcome. Both order books execute these — the
//! in-memory one under a lock, the durable one (`Store::sandbox_*`) inside a transaction
//! holding the order's row — so the rules cannot drift apart between them.

use super::{LedgerError, OrderState, SandboxOrder, SandboxRefund};
use crate::money::Money;

/// A new order, numbered `seq` (the account's next number): `trade_no` is the gateway's
/// transaction id, `code` the pay code (unguessable: it is all a wallet URL needs).
pub fn new_order(
    seq: i64,
    prefix: &str,
    code_prefix: &str,
    out_trade_no: &str,
    amount: Money,
    subject: &str,
    notify_url: &str,
) -> SandboxOrder {
    SandboxOrder {
        out_trade_no: out_trade_no.to_string(),
        trade_no: format!("{prefix}{seq:012}"),
        code: format!(
            "{code_prefix}{seq:08}{}",
            crate::provider::crypto::random_alnum(16)
        ),
        amount,
        subject: subject.to_string(),
        notify_url: notify_url.to_string(),
        state: OrderState::Pending,
        refunds: Vec::new(),
    }
}

/// Creating an order number that exists: the same parameters return the same (still
/// payable) order, as the real gateways do; different ones are a conflict.
pub fn recreate(
    existing: &SandboxOrder,
    amount: Money,
    subject: &str,
) -> Result<SandboxOrder, LedgerError> {
    if existing.amount != amount || existing.subject != subject {
        return Err(LedgerError::Conflict);
    }
    match existing.state {
        OrderState::Closed => Err(LedgerError::Closed),
        OrderState::Paid => Err(LedgerError::AlreadyPaid),
        OrderState::Pending => Ok(existing.clone()),
    }
}

/// The payer paid: the order afterwards.
pub fn pay(o: &SandboxOrder) -> Result<SandboxOrder, LedgerError> {
    match o.state {
        OrderState::Closed => Err(LedgerError::Closed),
        OrderState::Paid => Err(LedgerError::AlreadyPaid),
        OrderState::Pending => Ok(SandboxOrder {
            state: OrderState::Paid,
            ..o.clone()
        }),
    }
}

/// The merchant (or the payer backing out) closed the order: the order afterwards.
/// Closing a closed order is allowed (the gateways answer success again).
pub fn close(o: &SandboxOrder) -> Result<SandboxOrder, LedgerError> {
    match o.state {
        OrderState::Paid => Err(LedgerError::AlreadyPaid),
        OrderState::Pending | OrderState::Closed => Ok(SandboxOrder {
            state: OrderState::Closed,
            ..o.clone()
        }),
    }
}

/// What a refund request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundStep {
    /// The refund number was used before on this order: the first refund again (gateways
    /// are idempotent on the merchant's refund number, whatever the amount says now).
    Replay(SandboxRefund),
    /// A new refund of this amount; the merchant balance (when limited) drops by it.
    New(Money),
}

/// Decides a refund of `amount` under `out_refund_no` with `balance` (minor units, `None`
/// unlimited) left for refunds. Never lets the refunds exceed the paid amount.
pub fn refund(
    o: &SandboxOrder,
    out_refund_no: &str,
    amount: Money,
    balance: Option<i64>,
) -> Result<RefundStep, LedgerError> {
    if let Some(r) = o.refunds.iter().find(|r| r.out_refund_no == out_refund_no) {
        return Ok(RefundStep::Replay(r.clone()));
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
    if balance.is_some_and(|b| amount.minor() > b) {
        return Err(LedgerError::InsufficientBalance);
    }
    Ok(RefundStep::New(amount))
}

/// The gateway's id of the refund numbered `seq`.
pub fn refund_id(seq: i64) -> String {
    format!("re{seq:012}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::Cny).expect("cny")
    }

    fn order(state: OrderState, refunds: &[(&str, i64)]) -> SandboxOrder {
        let mut o = new_order(7, "2024", "ali_", "A1", cny(1000), "tea", "http://x/n");
        o.state = state;
        o.refunds = refunds
            .iter()
            .enumerate()
            .map(|(i, (no, minor))| SandboxRefund {
                out_refund_no: (*no).to_string(),
                refund_id: refund_id(i as i64),
                amount: cny(*minor),
            })
            .collect();
        o
    }

    #[test]
    fn a_new_order_is_numbered_and_pending_with_an_unguessable_code() {
        let a = new_order(7, "2024", "ali_", "A1", cny(1000), "tea", "u");
        let b = new_order(7, "2024", "ali_", "A1", cny(1000), "tea", "u");
        assert_eq!(a.trade_no, "2024000000000007");
        assert!(a.code.starts_with("ali_00000007") && a.code.len() == 28);
        assert_ne!(a.code, b.code);
        assert_eq!(a.state, OrderState::Pending);
    }

    #[test]
    fn recreating_returns_the_pending_order_or_says_why_not() {
        let o = order(OrderState::Pending, &[]);
        assert_eq!(recreate(&o, cny(1000), "tea"), Ok(o.clone()));
        assert_eq!(recreate(&o, cny(999), "tea"), Err(LedgerError::Conflict));
        assert_eq!(recreate(&o, cny(1000), "milk"), Err(LedgerError::Conflict));
        let paid = order(OrderState::Paid, &[]);
        assert_eq!(
            recreate(&paid, cny(1000), "tea"),
            Err(LedgerError::AlreadyPaid)
        );
        let closed = order(OrderState::Closed, &[]);
        assert_eq!(
            recreate(&closed, cny(1000), "tea"),
            Err(LedgerError::Closed)
        );
    }

    #[test]
    fn only_a_pending_order_can_be_paid_and_a_paid_one_not_closed() {
        let paid = pay(&order(OrderState::Pending, &[])).expect("pay");
        assert_eq!(paid.state, OrderState::Paid);
        assert_eq!(pay(&paid), Err(LedgerError::AlreadyPaid));
        assert_eq!(close(&paid), Err(LedgerError::AlreadyPaid));
        let closed = close(&order(OrderState::Pending, &[])).expect("close");
        assert_eq!(closed.state, OrderState::Closed);
        assert_eq!(pay(&closed), Err(LedgerError::Closed));
        assert_eq!(close(&closed).map(|o| o.state), Ok(OrderState::Closed));
    }

    #[test]
    fn refunds_are_bounded_by_the_paid_amount_and_the_balance() {
        let o = order(OrderState::Paid, &[("R1", 600)]);
        assert_eq!(
            refund(&o, "R2", cny(400), None),
            Ok(RefundStep::New(cny(400)))
        );
        assert_eq!(
            refund(&o, "R2", cny(401), None),
            Err(LedgerError::RefundExceedsAmount)
        );
        assert_eq!(
            refund(&o, "R2", cny(0), None),
            Err(LedgerError::RefundExceedsAmount)
        );
        assert_eq!(
            refund(&o, "R2", cny(300), Some(299)),
            Err(LedgerError::InsufficientBalance)
        );
        assert_eq!(
            refund(&o, "R2", cny(300), Some(300)),
            Ok(RefundStep::New(cny(300)))
        );
        // The same refund number replays the first refund, even with another amount.
        assert_eq!(
            refund(&o, "R1", cny(1), Some(0)),
            Ok(RefundStep::Replay(o.refunds[0].clone()))
        );
        assert_eq!(
            refund(&o, "R3", Money::new(5, Currency::Usd).expect("usd"), None),
            Err(LedgerError::Money(
                crate::money::MoneyError::CurrencyMismatch
            ))
        );
    }

    #[test]
    fn unpaid_orders_cannot_be_refunded() {
        assert_eq!(
            refund(&order(OrderState::Pending, &[]), "R1", cny(1), None),
            Err(LedgerError::NotPaid)
        );
        assert_eq!(
            refund(&order(OrderState::Closed, &[]), "R1", cny(1), None),
            Err(LedgerError::Closed)
        );
    }
}
