//! Group commit of notifications (`InboxWriter`) on SQLite and Postgres: a batch records
//! every notification in its final state with its order transition, in arrival order (a
//! duplicate in the same batch sees the first); concurrent writers of distinct and
//! repeated notifications pay each order once and share transactions; a batch with one
//! failing write fails only that one.

mod support;

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus};
use paydesk_core::provider::NotifyEvent;
use paydesk_core::store::{
    InboxWriter, NewNotification, NewOrder, Outcome, Store, StoreError, Verdict,
    new_notification_id,
};
use paydesk_core::time::now_ms;
use paydesk_core::vault::MasterKey;
use sqlx::Row;

on_both_backends!(
    a_batch_records_final_verdicts_in_arrival_order,
    concurrent_writes_share_transactions_and_pay_each_order_once,
    one_failing_write_does_not_fail_its_batch,
    payments_in_one_statement_still_queue_merchant_notifications,
);

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

async fn order(store: &Store, no: &str, minor: i64) {
    order_for(store, no, minor, None).await;
}

/// An order; with `forward_to` (api key id, url) its events go to a merchant system.
async fn order_for(store: &Store, no: &str, minor: i64, forward_to: Option<(&str, &str)>) {
    store
        .create_order(
            NewOrder {
                out_trade_no: no,
                channel: "alipay-sandbox",
                amount: cny(minor),
                subject: "tea",
                creator: "mia",
                expires_at: now_ms() + 900_000,
                qr_code: None,
                merchant_notify_url: forward_to.map(|(_, url)| url),
                api_key_id: forward_to.map(|(key, _)| key),
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::User("mia".into()),
        )
        .await
        .expect("order");
}

fn note(outcome: Outcome) -> NewNotification {
    NewNotification {
        id: new_notification_id(),
        provider: "alipay".into(),
        channel: "alipay-sandbox".into(),
        received_at: now_ms(),
        headers: "{}".into(),
        body: "trade_status=TRADE_SUCCESS".into(),
        outcome,
    }
}

fn paid(no: &str, minor: i64) -> Outcome {
    Outcome::Verified(NotifyEvent::Paid {
        out_trade_no: no.into(),
        trade_no: format!("2026{no}"),
        amount: cny(minor),
    })
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .expect("count")
        .try_get::<i64, _>(0)
        .expect("int")
}

async fn a_batch_records_final_verdicts_in_arrival_order(store: &Store) {
    order(store, "BATCH-1", 990).await;
    order(store, "BATCH-2", 500).await;
    let notes = [
        note(paid("BATCH-1", 990)),
        // The same payment again, in the same transaction: it sees the first.
        note(paid("BATCH-1", 990)),
        // Facts that disagree with the order: flagged, not applied.
        note(paid("BATCH-2", 1)),
        note(Outcome::Rejected("signature mismatch".into())),
        note(Outcome::Unprocessed),
        // Signed by another channel's key: proves nothing about this channel's order.
        NewNotification {
            channel: "alipay-other".into(),
            ..note(paid("BATCH-2", 500))
        },
        note(paid("BATCH-404", 500)),
    ];
    let refs: Vec<&NewNotification> = notes.iter().collect();
    // The batch itself, without the one-by-one fallback, which would give the same
    // verdicts and hide a broken batch.
    let results = store.record_batch(&refs).await.expect("one transaction");
    let verdicts: Vec<Verdict> = results.iter().map(|a| a.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Applied,
            Verdict::Duplicate,
            Verdict::Refused,
            Verdict::Rejected,
            Verdict::Received,
            Verdict::Refused,
            Verdict::Refused,
        ]
    );
    let reason = |i: usize| results[i].reason.clone().unwrap_or_default();
    assert!(
        reason(5).contains("belongs to channel alipay-sandbox"),
        "{}",
        reason(5)
    );
    assert!(reason(6).contains("no order BATCH-404"), "{}", reason(6));
    let first = &results[0];
    let o = store.order("BATCH-1").await.expect("read").expect("order");
    assert_eq!(o.status, OrderStatus::Paid);
    assert_eq!(first.changed_order.as_deref(), Some(o.id.as_str()));
    // The timeline names the notification that paid the order.
    let events = store.order_events(&o.id).await.expect("events");
    let paid_event = events.iter().find(|e| e.kind == "paid").expect("paid");
    assert_eq!(paid_event.cause, Cause::Notify(notes[0].id.clone()));
    assert_eq!(events.len(), 2, "created, paid: {events:?}");
    assert_eq!(
        paid_event.seq, o.version,
        "the event is numbered by the change it records"
    );
    assert_eq!(
        store.order("BATCH-2").await.expect("r").expect("o").status,
        OrderStatus::Pending
    );

    // Every row is stored in its final state, with what it was about.
    for (n, v) in notes.iter().zip(&verdicts) {
        let row = store.notification(&n.id).await.expect("r").expect("row");
        assert_eq!(row.verdict, *v);
        assert_eq!(row.body, n.body);
        assert_eq!(row.processed_at.is_some(), *v != Verdict::Received);
    }
    let refused = store
        .notification(&notes[2].id)
        .await
        .expect("r")
        .expect("row");
    assert!(
        refused
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("paid 0.01 CNY"),
        "{refused:?}"
    );
    assert_eq!(refused.out_trade_no.as_deref(), Some("BATCH-2"));
    let rejected = store
        .notification(&notes[3].id)
        .await
        .expect("r")
        .expect("row");
    assert_eq!(rejected.reason.as_deref(), Some("signature mismatch"));
    // The unprocessed one is left for recovery.
    let waiting = store
        .unprocessed_notifications(now_ms() + 1, 10)
        .await
        .expect("unprocessed");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, notes[4].id);
}

async fn concurrent_writes_share_transactions_and_pay_each_order_once(store: &Store) {
    const ORDERS: usize = 60;
    const COPIES: usize = 3;
    for i in 0..ORDERS {
        order(store, &format!("GROUP-{i:03}"), 100 + i as i64).await;
    }
    let writer = InboxWriter::new(store.clone());
    let mut tasks = Vec::new();
    for copy in 0..COPIES {
        for i in 0..ORDERS {
            let writer = writer.clone();
            let n = note(paid(&format!("GROUP-{i:03}"), 100 + i as i64));
            tasks.push(tokio::spawn(async move { (copy, writer.write(n).await) }));
        }
    }
    let mut applied = 0;
    let mut duplicate = 0;
    for t in tasks {
        let (_, r) = t.await.expect("task");
        match r.expect("written").verdict {
            Verdict::Applied => applied += 1,
            Verdict::Duplicate => duplicate += 1,
            v => panic!("unexpected verdict {v:?}"),
        }
    }
    assert_eq!((applied, duplicate), (ORDERS, ORDERS * (COPIES - 1)));
    // Writes that arrived while a transaction was committing went in later ones together.
    let batches = writer.batches();
    assert!(
        batches < (ORDERS * COPIES) as u64,
        "{batches} transactions for {} notifications",
        ORDERS * COPIES
    );
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM orders WHERE status = 'paid'").await,
        ORDERS as i64
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM order_events WHERE kind = 'paid'"
        )
        .await,
        ORDERS as i64
    );
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM notify_inbox").await,
        (ORDERS * COPIES) as i64
    );
}

async fn one_failing_write_does_not_fail_its_batch(store: &Store) {
    order(store, "ISOLATE-1", 100).await;
    order(store, "ISOLATE-2", 200).await;
    let first = note(Outcome::Rejected("bad signature".into()));
    store.record_notifications(&[&first]).await[0]
        .as_ref()
        .expect("written");
    // The same inbox id again cannot be stored: that write fails, its neighbours commit.
    let again = NewNotification {
        id: first.id.clone(),
        ..note(Outcome::Rejected("bad signature".into()))
    };
    let (a, b) = (note(paid("ISOLATE-1", 100)), note(paid("ISOLATE-2", 200)));
    let results = store.record_notifications(&[&a, &again, &b]).await;
    assert_eq!(
        results[0].as_ref().expect("a").verdict,
        Verdict::Applied,
        "{results:?}"
    );
    assert!(
        matches!(results[1], Err(StoreError::Conflict)),
        "{results:?}"
    );
    assert_eq!(results[2].as_ref().expect("b").verdict, Verdict::Applied);
    for no in ["ISOLATE-1", "ISOLATE-2"] {
        assert_eq!(
            store.order(no).await.expect("r").expect("o").status,
            OrderStatus::Paid
        );
    }
}

/// Several first payments in a batch are applied by one `UPDATE … FROM (VALUES …)`: each
/// still gets its timeline event and, for an order from the merchant API with a notify URL,
/// its merchant notification, in the same transaction; a later one for the same order in
/// the batch is a duplicate.
async fn payments_in_one_statement_still_queue_merchant_notifications(store: &Store) {
    let key = store
        .create_api_key("pos", "admin", &MasterKey::from_bytes([42; 32]))
        .await
        .expect("api key");
    let forward = Some((key.info.id.as_str(), "http://127.0.0.1:9/hook"));
    order_for(store, "FWD-1", 100, forward).await;
    order_for(store, "FWD-2", 200, forward).await;
    order_for(store, "FWD-3", 300, None).await;
    let notes = [
        note(paid("FWD-1", 100)),
        note(paid("FWD-2", 200)),
        note(paid("FWD-3", 300)),
        note(paid("FWD-2", 200)),
    ];
    let refs: Vec<&NewNotification> = notes.iter().collect();
    let verdicts: Vec<Verdict> = store
        .record_batch(&refs)
        .await
        .expect("one transaction, not the one-by-one fallback")
        .into_iter()
        .map(|a| a.verdict)
        .collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Applied,
            Verdict::Applied,
            Verdict::Applied,
            Verdict::Duplicate
        ]
    );
    for (no, n) in [
        ("FWD-1", &notes[0]),
        ("FWD-2", &notes[1]),
        ("FWD-3", &notes[2]),
    ] {
        let o = store.order(no).await.expect("r").expect("order");
        assert_eq!(o.status, OrderStatus::Paid, "{no}");
        assert_eq!(
            o.provider_trade_no.as_deref(),
            Some(format!("2026{no}").as_str())
        );
        let events = store.order_events(&o.id).await.expect("events");
        let paid = events
            .iter()
            .find(|e| e.kind == "paid")
            .expect("paid event");
        assert_eq!(
            (paid.seq, &paid.cause),
            (o.version, &Cause::Notify(n.id.clone()))
        );
    }
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM merchant_notifications WHERE event = 'order.paid'"
        )
        .await,
        2,
        "FWD-1 and FWD-2 forward their payment, FWD-3 has no merchant system"
    );
}
