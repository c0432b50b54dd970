//! Order lifecycle stories on SQLite and Postgres, including races: a storm of duplicate
//! "paid" notifications with racing queries, and concurrent refunds that together ask
//! for more than was paid.

mod support;

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus, RefundStatus};
use paydesk_core::store::{NewOrder, Order, RefundRequest, Store, StoreError, Transition};
use paydesk_core::time::now_ms;

on_both_backends!(
    lifecycle_is_traceable_from_creation_to_full_refund,
    a_notify_storm_with_racing_queries_pays_once,
    concurrent_refunds_never_exceed_the_paid_amount,
    failed_refunds_release_their_reservation,
    closed_orders_cannot_be_paid_and_paid_orders_cannot_close,
);

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

async fn new_order(store: &Store, out_trade_no: &str, minor: i64) -> Order {
    let new = NewOrder {
        out_trade_no,
        channel: "alipay-sandbox",
        amount: cny(minor),
        subject: "咖啡 × 2",
        creator: "mia",
        expires_at: now_ms() + 15 * 60_000,
        qr_code: Some("https://qr.example/abc"),
        merchant_notify_url: None,
        api_key_id: None,
        next_query_at: None,
        pay_method: paydesk_core::order::PayMethod::Qr,
    };
    store
        .create_order(new, &Cause::User("mia".into()))
        .await
        .expect("create order")
}

async fn lifecycle_is_traceable_from_creation_to_full_refund(store: &Store) {
    let order = new_order(store, "T1", 1000).await;
    assert_eq!(
        (order.status, order.amount, order.version),
        (OrderStatus::Pending, cny(1000), 1)
    );
    let dup = store
        .create_order(
            NewOrder {
                out_trade_no: "T1",
                channel: "c",
                amount: cny(1),
                subject: "s",
                creator: "x",
                expires_at: 0,
                qr_code: None,
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::Query,
        )
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict)),
        "out_trade_no is unique"
    );

    let paid = store
        .mark_paid(
            "T1",
            "2026112222001",
            cny(1000),
            &Cause::Notify("n-1".into()),
        )
        .await
        .expect("pay");
    let Transition::Applied(paid) = paid else {
        panic!("first notification applies: {paid:?}")
    };
    assert_eq!(
        (paid.status, paid.provider_trade_no.as_deref()),
        (OrderStatus::Paid, Some("2026112222001"))
    );
    assert!(paid.paid_at.is_some());
    let again = store
        .mark_paid(
            "T1",
            "2026112222001",
            cny(1000),
            &Cause::Notify("n-2".into()),
        )
        .await
        .expect("pay");
    assert!(matches!(again, Transition::AlreadyDone(_)), "{again:?}");

    let r1 = store
        .request_refund("T1", "R1", cny(300), "damaged", &Cause::User("sam".into()))
        .await
        .expect("refund");
    let RefundRequest::Created(r1) = r1 else {
        panic!("{r1:?}")
    };
    assert_eq!(
        (r1.status, r1.amount, r1.requested_by.as_str()),
        (RefundStatus::Pending, cny(300), "user:sam")
    );
    let resubmit = store
        .request_refund("T1", "R1", cny(300), "damaged", &Cause::User("sam".into()))
        .await
        .expect("refund");
    assert_eq!(
        resubmit,
        RefundRequest::Existing(r1.clone()),
        "same out_refund_no, same refund"
    );
    assert_eq!(
        store
            .order("T1")
            .await
            .expect("get")
            .expect("exists")
            .refundable_minor(),
        700
    );

    assert!(
        store
            .complete_refund("R1", Some("rf-1"), &Cause::Notify("n-3".into()))
            .await
            .expect("complete")
    );
    assert!(
        !store
            .complete_refund("R1", Some("rf-1"), &Cause::Query)
            .await
            .expect("complete"),
        "duplicate: no-op"
    );
    let order = store.order("T1").await.expect("get").expect("exists");
    assert_eq!(
        (order.status, order.refunded_minor),
        (OrderStatus::PartiallyRefunded, 300)
    );

    let RefundRequest::Created(_) = store
        .request_refund("T1", "R2", cny(700), "", &Cause::ApiKey("pos".into()))
        .await
        .expect("refund")
    else {
        panic!("the rest is refundable")
    };
    assert!(
        store
            .complete_refund("R2", None, &Cause::Query)
            .await
            .expect("complete")
    );
    let order = store.order("T1").await.expect("get").expect("exists");
    assert_eq!(
        (order.status, order.refunded_minor, order.refundable_minor()),
        (OrderStatus::Refunded, 1000, 0)
    );
    let refused = store
        .request_refund("T1", "R3", cny(1), "", &Cause::Query)
        .await
        .expect("refund");
    assert!(
        matches!(refused, RefundRequest::Refused { .. }),
        "{refused:?}"
    );

    let events = store.order_events(&order.id).await.expect("events");
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.seq, e.kind.as_str(), e.cause.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, "created", "user"),
            (2, "paid", "notify"),
            (3, "refund_requested", "user"),
            (4, "refund_succeeded", "notify"),
            (5, "refund_requested", "api_key"),
            (6, "refund_succeeded", "query"),
        ]
    );
    assert_eq!(events[1].cause, Cause::Notify("n-1".into()));
    assert_eq!(store.refunds_of(&order.id).await.expect("refunds").len(), 2);
}

async fn a_notify_storm_with_racing_queries_pays_once(store: &Store) {
    let order = new_order(store, "STORM", 2500).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        // Every fourth "delivery" is an active query racing the notifications.
        let cause = if i % 4 == 0 {
            Cause::Query
        } else {
            Cause::Notify(format!("n-{i}"))
        };
        tasks.push(tokio::spawn(async move {
            store.mark_paid("STORM", "trade-9", cny(2500), &cause).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        match t.await.expect("task").expect("store") {
            Transition::Applied(_) => applied += 1,
            Transition::AlreadyDone(o) => assert_eq!(o.status, OrderStatus::Paid),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(applied, 1, "exactly one transition");
    let events = store.order_events(&order.id).await.expect("events");
    assert_eq!(events.iter().filter(|e| e.kind == "paid").count(), 1);
    assert_eq!(
        store
            .order("STORM")
            .await
            .expect("get")
            .expect("exists")
            .version,
        2
    );
}

async fn concurrent_refunds_never_exceed_the_paid_amount(store: &Store) {
    new_order(store, "BIG", 1000).await;
    store
        .mark_paid("BIG", "trade-big", cny(1000), &Cause::Query)
        .await
        .expect("pay");
    let mut tasks = Vec::new();
    for i in 0..25 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .request_refund(
                    "BIG",
                    &format!("RB-{i}"),
                    cny(100),
                    "",
                    &Cause::User("sam".into()),
                )
                .await
        }));
    }
    let (mut created, mut refused) = (0, 0);
    for t in tasks {
        match t.await.expect("task").expect("store") {
            RefundRequest::Created(_) => created += 1,
            RefundRequest::Refused { .. } => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (created, refused),
        (10, 15),
        "1000 paid = ten refunds of 100"
    );
    let order = store.order("BIG").await.expect("get").expect("exists");
    assert_eq!(
        (order.refund_reserved_minor, order.refundable_minor()),
        (1000, 0)
    );
}

async fn failed_refunds_release_their_reservation(store: &Store) {
    new_order(store, "F1", 500).await;
    store
        .mark_paid("F1", "trade-f1", cny(500), &Cause::Query)
        .await
        .expect("pay");
    let RefundRequest::Created(_) = store
        .request_refund("F1", "RF-1", cny(500), "", &Cause::Query)
        .await
        .expect("refund")
    else {
        panic!("created")
    };
    assert!(matches!(
        store
            .request_refund("F1", "RF-2", cny(1), "", &Cause::Query)
            .await
            .expect("r"),
        RefundRequest::Refused { .. }
    ));
    assert!(
        store
            .fail_refund(
                "RF-1",
                "insufficient merchant balance",
                &Cause::Notify("n".into())
            )
            .await
            .expect("fail")
    );
    let failed = store.refund("RF-1").await.expect("get").expect("exists");
    assert_eq!(
        (failed.status, failed.failure_reason.as_deref()),
        (RefundStatus::Failed, Some("insufficient merchant balance"))
    );
    let order = store.order("F1").await.expect("get").expect("exists");
    assert_eq!(
        (order.status, order.refundable_minor()),
        (OrderStatus::Paid, 500)
    );
    assert!(matches!(
        store
            .request_refund("F1", "RF-3", cny(500), "retry", &Cause::Query)
            .await
            .expect("r"),
        RefundRequest::Created(_)
    ));
}

async fn closed_orders_cannot_be_paid_and_paid_orders_cannot_close(store: &Store) {
    new_order(store, "C1", 100).await;
    assert!(matches!(
        store
            .close_order("C1", &Cause::System("expired".into()))
            .await
            .expect("close"),
        Transition::Applied(_)
    ));
    assert!(matches!(
        store
            .close_order("C1", &Cause::User("mia".into()))
            .await
            .expect("close"),
        Transition::AlreadyDone(_)
    ));
    let late = store
        .mark_paid("C1", "trade-c1", cny(100), &Cause::Notify("n".into()))
        .await
        .expect("pay");
    let Transition::Refused { reason, order } = late else {
        panic!("{late:?}")
    };
    assert_eq!(order.status, OrderStatus::Closed);
    assert!(reason.contains("closed"), "{reason}");

    new_order(store, "C2", 100).await;
    let wrong = store
        .mark_paid("C2", "trade-c2", cny(99), &Cause::Notify("n".into()))
        .await
        .expect("pay");
    assert!(
        matches!(&wrong, Transition::Refused { reason, .. } if reason.contains("0.99 CNY")),
        "{wrong:?}"
    );
    let usd = Money::new(100, Currency::Usd).expect("money");
    assert!(matches!(
        store
            .mark_paid("C2", "trade-c2", usd, &Cause::Query)
            .await
            .expect("pay"),
        Transition::Refused { .. }
    ));
    store
        .mark_paid("C2", "trade-c2", cny(100), &Cause::Query)
        .await
        .expect("pay");
    assert!(matches!(
        store
            .close_order("C2", &Cause::User("mia".into()))
            .await
            .expect("close"),
        Transition::Refused { .. }
    ));
}
