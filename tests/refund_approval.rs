//! Refund approval in the store, on SQLite and Postgres: a held refund reserves its amount
//! (the bound still holds) but is not sendable; the requester cannot decide it; of
//! concurrent approvals exactly one applies; a rejection releases the reservation.

mod support;

use paydesk_core::approval::{ApprovalState, DecisionRefusal};
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, RefundStatus};
use paydesk_core::store::{ApprovalOutcome, NewOrder, Order, RefundRequest, Store};
use paydesk_core::time::now_ms;

on_both_backends!(
    a_held_refund_reserves_and_waits_and_its_requester_cannot_approve_it,
    concurrent_approvals_apply_once,
    rejection_releases_the_reservation,
);

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

async fn paid(store: &Store, no: &str) -> Order {
    store
        .create_order(
            NewOrder {
                out_trade_no: no,
                channel: "alipay-sandbox",
                amount: cny(100_000),
                subject: "tea",
                creator: "mia",
                expires_at: now_ms() + 60_000,
                qr_code: None,
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::User("mia".into()),
        )
        .await
        .expect("order");
    store
        .mark_paid(no, "PT1", cny(100_000), &Cause::Query)
        .await
        .expect("paid");
    store.order(no).await.expect("read").expect("order")
}

async fn held(store: &Store, no: &str, rf: &str, minor: i64, by: &str) {
    let r = store
        .request_refund_numbered(
            no,
            rf,
            None,
            cny(minor),
            "damaged",
            &Cause::User(by.into()),
            true,
        )
        .await
        .expect("request");
    let RefundRequest::Created(r) = r else {
        panic!("not created: {r:?}")
    };
    assert_eq!(r.status, RefundStatus::Pending);
    assert_eq!(r.approval.map(|a| a.state), Some(ApprovalState::Awaiting));
}

async fn a_held_refund_reserves_and_waits_and_its_requester_cannot_approve_it(store: &Store) {
    paid(store, "A1").await;
    held(store, "A1", "RFA1", 60_000, "sam").await;
    let order = store.order("A1").await.expect("read").expect("order");
    assert_eq!(
        (order.refund_reserved_minor, order.refunded_minor),
        (60_000, 0)
    );
    // The bound holds with the held refund counted.
    let over = store
        .request_refund("A1", "RFA2", cny(50_000), "", &Cause::User("ada".into()))
        .await
        .expect("request");
    assert!(matches!(over, RefundRequest::Refused { .. }), "{over:?}");
    let listed = store.awaiting_refunds(10).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].out_trade_no, "A1");
    let own = store
        .decide_refund("RFA1", true, &Cause::User("sam".into()), "")
        .await
        .expect("decide");
    assert!(matches!(
        own,
        ApprovalOutcome::Refused {
            why: DecisionRefusal::OwnRefund,
            ..
        }
    ));
    let ok = store
        .decide_refund("RFA1", true, &Cause::User("ada".into()), "checked")
        .await
        .expect("decide");
    let ApprovalOutcome::Applied(r) = ok else {
        panic!("{ok:?}")
    };
    let a = r.approval.expect("approval");
    assert_eq!(
        (a.state, a.by.as_deref()),
        (ApprovalState::Approved, Some("user:ada"))
    );
    // Still reserved and pending: the payments core sends it now.
    assert_eq!(r.status, RefundStatus::Pending);
    let order = store.order("A1").await.expect("read").expect("order");
    assert_eq!(order.refund_reserved_minor, 60_000);
    let kinds: Vec<String> = store
        .order_events(&order.id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&"refund_awaiting_approval".into()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"refund_approved".into()), "{kinds:?}");
    assert!(store.awaiting_refunds(10).await.expect("list").is_empty());
}

async fn concurrent_approvals_apply_once(store: &Store) {
    paid(store, "B1").await;
    held(store, "B1", "RFB1", 70_000, "sam").await;
    let mut tasks = Vec::new();
    for admin in ["ada", "bea", "cat", "dan"] {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .decide_refund("RFB1", admin != "dan", &Cause::User(admin.into()), "ok")
                .await
                .expect("decide")
        }));
    }
    let mut applied = 0;
    for t in tasks {
        match t.await.expect("join") {
            ApprovalOutcome::Applied(_) => applied += 1,
            ApprovalOutcome::Refused { why, .. } => assert_eq!(why, DecisionRefusal::NotAwaiting),
        }
    }
    assert_eq!(applied, 1, "exactly one decision applies");
    let order = store.order("B1").await.expect("read").expect("order");
    let events = store.order_events(&order.id).await.expect("events");
    let decided = events
        .iter()
        .filter(|e| e.kind == "refund_approved" || e.kind == "refund_rejected")
        .count();
    assert_eq!(decided, 1);
}

async fn rejection_releases_the_reservation(store: &Store) {
    paid(store, "C1").await;
    held(store, "C1", "RFC1", 100_000, "sam").await;
    let r = store
        .decide_refund(
            "RFC1",
            false,
            &Cause::User("ada".into()),
            "duplicate request",
        )
        .await
        .expect("decide");
    let ApprovalOutcome::Applied(r) = r else {
        panic!("{r:?}")
    };
    assert_eq!(r.status, RefundStatus::Failed);
    assert!(
        r.failure_reason
            .as_deref()
            .unwrap_or("")
            .contains("duplicate request")
    );
    let order = store.order("C1").await.expect("read").expect("order");
    assert_eq!(order.refund_reserved_minor, 0);
    assert_eq!(order.refundable_minor(), 100_000);
    // Deciding again changes nothing.
    let again = store
        .decide_refund("RFC1", true, &Cause::User("bea".into()), "")
        .await
        .expect("decide");
    assert!(matches!(
        again,
        ApprovalOutcome::Refused {
            why: DecisionRefusal::NotAwaiting,
            ..
        }
    ));
}
