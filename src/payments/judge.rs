//! What a verified provider notification does, as a pure function: [`judge`] looks at the
//! event, the channel it arrived on and the rows it names (as the caller read them) and
//! returns a [`Decision`]. No I/O: the store (`store::inbox`, `store::inbox_writer`) reads
//! the rows, asks here, and carries the decision out as one compare-and-set statement; if
//! that statement loses a race (the row moved on between the read and the write), it reads
//! again and asks again.
//!
//! The rules, in the order they are applied:
//!
//! 1. An event that names no order (`NotifyEvent::Ignored`) is **ignored**.
//! 2. An event for an order we do not have is **refused** (`no order …`).
//! 3. A notification proves something only about the account that signed it: an order of
//!    another channel is **refused** (`order … belongs to channel …, not …`).
//! 4. "Paid": a pending order of exactly that amount and currency is **marked paid**; a
//!    pending order of another amount is **refused** (`paid … but the order is …`); an
//!    order already paid (or refunded since) under the same provider trade number is a
//!    **duplicate**; anything else is **refused** (`cannot mark a … order paid`).
//! 5. "Closed": a pending order is **closed**; a closed one is a **duplicate**, and so is a
//!    fully refunded one (Alipay reports `TRADE_CLOSED` after a full refund); anything
//!    else is **refused** (`cannot close a … order`).
//! 6. "Refund succeeded/failed": an unknown refund is **refused** (`no refund …`), and so
//!    is a refund of another order, and one whose amount differs from the notification's
//!    (when it names one); a pending refund is **settled** (succeeded, or failed with
//!    the reason "the provider reported the refund failed"); a refund already in the
//!    reported state is a **duplicate**; one in the other final state is **refused**
//!    (`refund … is already …`).

use crate::money::Money;
use crate::order::{OrderStatus, RefundStatus};
use crate::provider::NotifyEvent;
use crate::store::{Order, Refund};

/// The failure reason stored on a refund the provider reported failed.
pub const REFUND_FAILED_REASON: &str = "the provider reported the refund failed";

/// What to do about a verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    /// pending → paid, with the provider's trade number and the paid amount.
    MarkPaid {
        provider_trade_no: &'a str,
        amount: Money,
    },
    /// pending → closed.
    Close,
    /// pending → `outcome` for the refund, with the order's side of it.
    SettleRefund {
        out_refund_no: &'a str,
        outcome: RefundStatus,
        provider_refund_id: Option<&'a str>,
        /// The failure reason to store (failed refunds only).
        failure: Option<&'static str>,
    },
    /// Already done: nothing to change.
    Duplicate,
    /// Authentic, but nothing for us to do.
    Ignored,
    /// The facts disagree with ours, or the transition is illegal: nothing changes and the
    /// notification is flagged for a person, with the reason.
    Refused(String),
}

/// Why a transition that was asked for changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unchanged {
    /// The order is already in the requested state.
    Duplicate,
    /// Illegal from the order's state, or the facts disagree.
    Refused(String),
}

impl From<Unchanged> for Decision<'_> {
    fn from(u: Unchanged) -> Self {
        match u {
            Unchanged::Duplicate => Decision::Duplicate,
            Unchanged::Refused(reason) => Decision::Refused(reason),
        }
    }
}

/// Decides what `event`, received (and verified) on `channel`, does. `order` is the order
/// the event names, `refund` the refund it names (refund events only), as read by the
/// caller; `None` when there is no such row. A row for another number counts as none.
pub fn judge<'a>(
    event: &'a NotifyEvent,
    channel: &str,
    order: Option<&Order>,
    refund: Option<&Refund>,
) -> Decision<'a> {
    let Some(out_trade_no) = event.out_trade_no() else {
        return Decision::Ignored;
    };
    let Some(order) = order.filter(|o| o.out_trade_no == out_trade_no) else {
        return Decision::Refused(format!("no order {out_trade_no}"));
    };
    if order.channel != channel {
        return Decision::Refused(format!(
            "order {out_trade_no} belongs to channel {}, not {channel}",
            order.channel
        ));
    }
    match event {
        NotifyEvent::Paid {
            trade_no, amount, ..
        } => judge_paid(order, trade_no, *amount),
        NotifyEvent::Closed { .. } => judge_closed(order),
        NotifyEvent::RefundSucceeded {
            out_refund_no,
            refund_id,
            amount,
            ..
        } => judge_refund(
            order,
            refund,
            RefundReport {
                out_refund_no,
                outcome: RefundStatus::Succeeded,
                refund_id: refund_id.as_deref(),
                amount: *amount,
            },
        ),
        NotifyEvent::RefundFailed {
            out_refund_no,
            refund_id,
            amount,
            ..
        } => judge_refund(
            order,
            refund,
            RefundReport {
                out_refund_no,
                outcome: RefundStatus::Failed,
                refund_id: refund_id.as_deref(),
                amount: *amount,
            },
        ),
        NotifyEvent::Ignored { .. } => Decision::Ignored,
    }
}

fn judge_paid<'a>(order: &Order, provider_trade_no: &'a str, amount: Money) -> Decision<'a> {
    if order.status == OrderStatus::Pending && order.amount == amount {
        return Decision::MarkPaid {
            provider_trade_no,
            amount,
        };
    }
    paid_unchanged(order, provider_trade_no, amount).into()
}

fn judge_closed<'a>(order: &Order) -> Decision<'a> {
    match order.status {
        OrderStatus::Pending => Decision::Close,
        // Alipay reports TRADE_CLOSED after a full refund: nothing left to do then.
        OrderStatus::Refunded => Decision::Duplicate,
        _ => close_unchanged(order).into(),
    }
}

/// What a refund notification reports.
struct RefundReport<'a> {
    out_refund_no: &'a str,
    outcome: RefundStatus,
    refund_id: Option<&'a str>,
    amount: Option<Money>,
}

fn judge_refund<'a>(
    order: &Order,
    refund: Option<&Refund>,
    report: RefundReport<'a>,
) -> Decision<'a> {
    let no = report.out_refund_no;
    let Some(refund) = refund.filter(|r| r.out_refund_no == no) else {
        return Decision::Refused(format!("no refund {no}"));
    };
    if refund.order_id != order.id {
        return Decision::Refused(format!("refund {no} belongs to another order"));
    }
    if let Some(a) = report.amount
        && a != refund.amount
    {
        return Decision::Refused(format!(
            "refund {no} is {} but the notification says {}",
            money_text(refund.amount),
            money_text(a)
        ));
    }
    match refund.status {
        RefundStatus::Pending => Decision::SettleRefund {
            out_refund_no: no,
            outcome: report.outcome,
            provider_refund_id: report.refund_id,
            failure: (report.outcome == RefundStatus::Failed).then_some(REFUND_FAILED_REASON),
        },
        s if s == report.outcome => Decision::Duplicate,
        s => Decision::Refused(format!("refund {no} is already {}", s.as_str())),
    }
}

/// Why a "paid" (`provider_trade_no`, `paid`) does not move `order` to paid, for an order
/// that is not pending with exactly that amount (for a pending one it names the amounts).
pub fn paid_unchanged(order: &Order, provider_trade_no: &str, paid: Money) -> Unchanged {
    match order.status {
        OrderStatus::Pending => Unchanged::Refused(format!(
            "paid {} but the order is {}",
            money_text(paid),
            money_text(order.amount)
        )),
        s if s != OrderStatus::Closed
            && order.provider_trade_no.as_deref() == Some(provider_trade_no) =>
        {
            Unchanged::Duplicate
        }
        s => Unchanged::Refused(format!("cannot mark a {s} order paid")),
    }
}

/// Why a close does not move `order` to closed, for an order that is not pending.
pub fn close_unchanged(order: &Order) -> Unchanged {
    match order.status {
        OrderStatus::Closed => Unchanged::Duplicate,
        s => Unchanged::Refused(format!("cannot close a {s} order")),
    }
}

/// `12.34 CNY`.
pub fn money_text(m: Money) -> String {
    format!("{} {}", m.to_decimal_string(), m.currency().code())
}

#[cfg(test)]
mod tests;
