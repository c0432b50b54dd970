//! Every rule of [`judge`], without a database: each case names the rows as the store
//! would read them and the decision expected.

use super::*;
use crate::money::Currency;

const CH: &str = "wechatpay-sandbox";

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::Usd).expect("money")
}

fn order(status: OrderStatus) -> Order {
    Order {
        id: "o1".into(),
        out_trade_no: "T1".into(),
        channel: CH.into(),
        amount: cny(500),
        subject: "s".into(),
        status,
        provider_trade_no: (status != OrderStatus::Pending).then(|| "P1".into()),
        qr_code: None,
        creator: "alice".into(),
        merchant_notify_url: None,
        created_at: 0,
        updated_at: 0,
        expires_at: 0,
        paid_at: None,
        closed_at: None,
        refunded_minor: 0,
        refund_reserved_minor: 0,
        version: 1,
        provider_ref: None,
        api_key_id: None,
        next_query_at: None,
        query_count: 0,
        merchant_no: None,
        pay_method: crate::order::PayMethod::Qr,
    }
}

fn refund(status: RefundStatus) -> Refund {
    Refund {
        id: "r1".into(),
        out_refund_no: "R1".into(),
        order_id: "o1".into(),
        amount: cny(200),
        reason: "".into(),
        status,
        provider_refund_id: None,
        failure_reason: None,
        requested_by: "alice".into(),
        created_at: 0,
        merchant_no: None,
        approval: None,
    }
}

fn paid(no: &str, trade_no: &str, amount: Money) -> NotifyEvent {
    NotifyEvent::Paid {
        out_trade_no: no.into(),
        trade_no: trade_no.into(),
        amount,
    }
}

fn closed(no: &str) -> NotifyEvent {
    NotifyEvent::Closed {
        out_trade_no: no.into(),
        trade_no: None,
    }
}

fn refund_ok(no: &str, amount: Option<Money>) -> NotifyEvent {
    NotifyEvent::RefundSucceeded {
        out_trade_no: "T1".into(),
        out_refund_no: no.into(),
        refund_id: Some("PR1".into()),
        amount,
        refunded_total: None,
    }
}

fn refund_failed(no: &str, amount: Option<Money>) -> NotifyEvent {
    NotifyEvent::RefundFailed {
        out_trade_no: "T1".into(),
        out_refund_no: no.into(),
        refund_id: None,
        amount,
    }
}

fn refused(reason: &str) -> Decision<'static> {
    Decision::Refused(reason.into())
}

/// A case: (name, event, channel, order, refund, expected decision).
type Case<'a> = (
    &'a str,
    NotifyEvent,
    &'a str,
    Option<Order>,
    Option<Refund>,
    Decision<'a>,
);

/// Runs `cases`.
fn check(cases: Vec<Case<'_>>) {
    for (name, event, channel, order, refund, want) in cases {
        let got = judge(&event, channel, order.as_ref(), refund.as_ref());
        assert_eq!(got, want, "case {name}");
    }
}

#[test]
fn events_without_an_order_are_ignored() {
    let ignored = NotifyEvent::Ignored {
        kind: "WAIT_BUYER_PAY".into(),
    };
    check(vec![
        (
            "no order at all",
            ignored.clone(),
            CH,
            None,
            None,
            Decision::Ignored,
        ),
        (
            "even with rows",
            ignored,
            "other",
            Some(order(OrderStatus::Pending)),
            None,
            Decision::Ignored,
        ),
    ]);
}

#[test]
fn events_for_unknown_orders_are_refused() {
    let wrong_row = Order {
        out_trade_no: "T2".into(),
        ..order(OrderStatus::Pending)
    };
    check(vec![
        (
            "paid",
            paid("NO-SUCH", "P1", cny(500)),
            CH,
            None,
            None,
            refused("no order NO-SUCH"),
        ),
        (
            "closed",
            closed("NO-SUCH"),
            CH,
            None,
            None,
            refused("no order NO-SUCH"),
        ),
        (
            "refund",
            refund_ok("R1", None),
            CH,
            None,
            None,
            refused("no order T1"),
        ),
        (
            "another order's row",
            paid("T1", "P1", cny(500)),
            CH,
            Some(wrong_row),
            None,
            refused("no order T1"),
        ),
    ]);
}

#[test]
fn a_channel_proves_nothing_about_another_channels_orders() {
    let why = "order T1 belongs to channel wechatpay-sandbox, not alipay-sandbox";
    check(vec![
        (
            "paid",
            paid("T1", "P1", cny(500)),
            "alipay-sandbox",
            Some(order(OrderStatus::Pending)),
            None,
            refused(why),
        ),
        (
            "closed",
            closed("T1"),
            "alipay-sandbox",
            Some(order(OrderStatus::Pending)),
            None,
            refused(why),
        ),
        (
            "refund",
            refund_ok("R1", None),
            "alipay-sandbox",
            Some(order(OrderStatus::Paid)),
            Some(refund(RefundStatus::Pending)),
            refused(why),
        ),
    ]);
}

#[test]
fn paid_marks_a_pending_order_of_exactly_that_amount_paid() {
    let mark = Decision::MarkPaid {
        provider_trade_no: "P9",
        amount: cny(500),
    };
    check(vec![
        (
            "pending, same amount",
            paid("T1", "P9", cny(500)),
            CH,
            Some(order(OrderStatus::Pending)),
            None,
            mark,
        ),
        (
            "pending, another amount",
            paid("T1", "P9", cny(1)),
            CH,
            Some(order(OrderStatus::Pending)),
            None,
            refused("paid 0.01 CNY but the order is 5.00 CNY"),
        ),
        (
            "pending, another currency",
            paid("T1", "P9", usd(500)),
            CH,
            Some(order(OrderStatus::Pending)),
            None,
            refused("paid 5.00 USD but the order is 5.00 CNY"),
        ),
    ]);
}

#[test]
fn paid_again_is_a_duplicate_and_paid_after_close_is_refused() {
    let again = || paid("T1", "P1", cny(500));
    check(vec![
        (
            "paid, same trade",
            again(),
            CH,
            Some(order(OrderStatus::Paid)),
            None,
            Decision::Duplicate,
        ),
        (
            "partially refunded since",
            again(),
            CH,
            Some(order(OrderStatus::PartiallyRefunded)),
            None,
            Decision::Duplicate,
        ),
        (
            "refunded since",
            again(),
            CH,
            Some(order(OrderStatus::Refunded)),
            None,
            Decision::Duplicate,
        ),
        (
            "paid under another trade number",
            paid("T1", "P2", cny(500)),
            CH,
            Some(order(OrderStatus::Paid)),
            None,
            refused("cannot mark a paid order paid"),
        ),
        (
            "closed",
            again(),
            CH,
            Some(order(OrderStatus::Closed)),
            None,
            refused("cannot mark a closed order paid"),
        ),
    ]);
}

#[test]
fn closed_closes_a_pending_order_only() {
    let close = || closed("T1");
    check(vec![
        (
            "pending",
            close(),
            CH,
            Some(order(OrderStatus::Pending)),
            None,
            Decision::Close,
        ),
        (
            "closed again",
            close(),
            CH,
            Some(order(OrderStatus::Closed)),
            None,
            Decision::Duplicate,
        ),
        // Alipay reports TRADE_CLOSED after a full refund.
        (
            "after a full refund",
            close(),
            CH,
            Some(order(OrderStatus::Refunded)),
            None,
            Decision::Duplicate,
        ),
        (
            "paid",
            close(),
            CH,
            Some(order(OrderStatus::Paid)),
            None,
            refused("cannot close a paid order"),
        ),
        (
            "partially refunded",
            close(),
            CH,
            Some(order(OrderStatus::PartiallyRefunded)),
            None,
            refused("cannot close a partially_refunded order"),
        ),
    ]);
}

#[test]
fn refund_notifications_settle_a_pending_refund_of_that_order_and_amount() {
    let paid_order = || Some(order(OrderStatus::PartiallyRefunded));
    let pending = || Some(refund(RefundStatus::Pending));
    check(vec![
        (
            "succeeded",
            refund_ok("R1", Some(cny(200))),
            CH,
            paid_order(),
            pending(),
            Decision::SettleRefund {
                out_refund_no: "R1",
                outcome: RefundStatus::Succeeded,
                provider_refund_id: Some("PR1"),
                failure: None,
            },
        ),
        (
            "succeeded, no amount named",
            refund_ok("R1", None),
            CH,
            paid_order(),
            pending(),
            Decision::SettleRefund {
                out_refund_no: "R1",
                outcome: RefundStatus::Succeeded,
                provider_refund_id: Some("PR1"),
                failure: None,
            },
        ),
        (
            "failed",
            refund_failed("R1", None),
            CH,
            paid_order(),
            pending(),
            Decision::SettleRefund {
                out_refund_no: "R1",
                outcome: RefundStatus::Failed,
                provider_refund_id: None,
                failure: Some(REFUND_FAILED_REASON),
            },
        ),
    ]);
}

#[test]
fn refund_notifications_that_disagree_are_refused() {
    let paid_order = || Some(order(OrderStatus::Paid));
    let other_order = Refund {
        order_id: "o2".into(),
        ..refund(RefundStatus::Pending)
    };
    let other_number = Refund {
        out_refund_no: "R2".into(),
        ..refund(RefundStatus::Pending)
    };
    check(vec![
        (
            "unknown refund",
            refund_ok("R9", None),
            CH,
            paid_order(),
            None,
            refused("no refund R9"),
        ),
        (
            "another refund's row",
            refund_ok("R1", None),
            CH,
            paid_order(),
            Some(other_number),
            refused("no refund R1"),
        ),
        (
            "another order's refund",
            refund_ok("R1", None),
            CH,
            paid_order(),
            Some(other_order),
            refused("refund R1 belongs to another order"),
        ),
        (
            "another amount",
            refund_failed("R1", Some(cny(300))),
            CH,
            paid_order(),
            Some(refund(RefundStatus::Pending)),
            refused("refund R1 is 2.00 CNY but the notification says 3.00 CNY"),
        ),
    ]);
}

#[test]
fn settled_refunds_are_duplicates_or_refused() {
    let paid_order = || Some(order(OrderStatus::Refunded));
    check(vec![
        (
            "succeeded again",
            refund_ok("R1", None),
            CH,
            paid_order(),
            Some(refund(RefundStatus::Succeeded)),
            Decision::Duplicate,
        ),
        (
            "failed again",
            refund_failed("R1", None),
            CH,
            paid_order(),
            Some(refund(RefundStatus::Failed)),
            Decision::Duplicate,
        ),
        (
            "failed after success",
            refund_failed("R1", None),
            CH,
            paid_order(),
            Some(refund(RefundStatus::Succeeded)),
            refused("refund R1 is already succeeded"),
        ),
        (
            "succeeded after failure",
            refund_ok("R1", None),
            CH,
            paid_order(),
            Some(refund(RefundStatus::Failed)),
            refused("refund R1 is already failed"),
        ),
    ]);
}

#[test]
fn the_shared_rules_of_direct_transitions() {
    let p = order(OrderStatus::Pending);
    assert_eq!(
        paid_unchanged(&p, "P1", cny(500)),
        Unchanged::Refused("paid 5.00 CNY but the order is 5.00 CNY".into()),
        "after a failed compare-and-set a pending order names the amounts"
    );
    assert_eq!(
        paid_unchanged(&order(OrderStatus::Paid), "P1", cny(500)),
        Unchanged::Duplicate
    );
    assert_eq!(
        close_unchanged(&order(OrderStatus::Closed)),
        Unchanged::Duplicate
    );
    assert_eq!(
        close_unchanged(&order(OrderStatus::Refunded)),
        Unchanged::Refused("cannot close a refunded order".into()),
        "only a notification treats a close after a full refund as a duplicate"
    );
    assert_eq!(money_text(usd(12_345)), "123.45 USD");
}
