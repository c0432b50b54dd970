//! The notify inbox and the job claims on SQLite and Postgres: many stored copies of one
//! verified notification applied concurrently change the order once; a notification
//! claimed by two workers is applied by one; disagreeing facts are refused, not applied;
//! concurrent claimers of due queries never get the same order; channels are seeded once.

mod support;

use std::collections::HashSet;

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus};
use paydesk_core::provider::NotifyEvent;
use paydesk_core::store::{NewChannel, NewOrder, Store, Verdict};
use paydesk_core::time::now_ms;

on_both_backends!(
    duplicate_notifications_applied_concurrently_change_the_order_once,
    one_inbox_row_is_applied_by_one_worker,
    disagreeing_notifications_are_refused_and_flagged,
    concurrent_claimers_never_share_a_due_order,
    seeding_channels_twice_creates_them_once,
);

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

async fn order(store: &Store, no: &str, minor: i64, next_query_at: Option<i64>) {
    store
        .create_order(
            NewOrder {
                out_trade_no: no,
                channel: "wechatpay-sandbox",
                amount: cny(minor),
                subject: "tea",
                creator: "mia",
                expires_at: now_ms() + 900_000,
                qr_code: Some("weixin://wxpay/x"),
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::User("mia".into()),
        )
        .await
        .expect("order");
}

fn paid(no: &str, minor: i64) -> NotifyEvent {
    NotifyEvent::Paid {
        out_trade_no: no.into(),
        trade_no: format!("4200{no}"),
        amount: cny(minor),
    }
}

async fn stored(store: &Store) -> String {
    store
        .insert_notification("wechatpay", "wechatpay-sandbox", now_ms(), "{}", "{}")
        .await
        .expect("stored")
}

async fn duplicate_notifications_applied_concurrently_change_the_order_once(store: &Store) {
    order(store, "INBOX-1", 990, None).await;
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(stored(store).await);
    }
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                store
                    .apply_notification(&id, "wechatpay-sandbox", &paid("INBOX-1", 990))
                    .await
                    .expect("apply")
                    .expect("claimed")
                    .verdict
            })
        })
        .collect();
    let mut verdicts = Vec::new();
    for t in tasks {
        verdicts.push(t.await.expect("task"));
    }
    let applied = verdicts.iter().filter(|v| **v == Verdict::Applied).count();
    let dup = verdicts
        .iter()
        .filter(|v| **v == Verdict::Duplicate)
        .count();
    assert_eq!((applied, dup), (1, 39), "{verdicts:?}");
    let o = store.order("INBOX-1").await.expect("r").expect("o");
    assert_eq!(o.status, OrderStatus::Paid);
    let events = store.order_events(&o.id).await.expect("events");
    assert_eq!(events.iter().filter(|e| e.kind == "paid").count(), 1);
}

async fn one_inbox_row_is_applied_by_one_worker(store: &Store) {
    order(store, "INBOX-2", 100, None).await;
    let id = stored(store).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                store
                    .apply_notification(&id, "wechatpay-sandbox", &paid("INBOX-2", 100))
                    .await
                    .expect("apply")
            })
        })
        .collect();
    let mut claimed = 0;
    for t in tasks {
        if t.await.expect("task").is_some() {
            claimed += 1;
        }
    }
    assert_eq!(claimed, 1, "exactly one worker claims the row");
    let row = store.notification(&id).await.expect("r").expect("row");
    assert_eq!(row.verdict, Verdict::Applied);
    assert_eq!(row.out_trade_no.as_deref(), Some("INBOX-2"));
}

async fn disagreeing_notifications_are_refused_and_flagged(store: &Store) {
    order(store, "INBOX-3", 500, None).await;
    let cases = [
        ("wechatpay-sandbox", paid("INBOX-3", 1), "paid 0.01 CNY"),
        ("alipay-sandbox", paid("INBOX-3", 500), "belongs to channel"),
        ("wechatpay-sandbox", paid("NO-SUCH", 500), "no order"),
    ];
    for (channel, event, why) in cases {
        let id = stored(store).await;
        let a = store
            .apply_notification(&id, channel, &event)
            .await
            .expect("apply")
            .expect("claimed");
        assert_eq!(a.verdict, Verdict::Refused);
        assert!(a.reason.as_deref().unwrap_or("").contains(why), "{a:?}");
        let row = store.notification(&id).await.expect("r").expect("row");
        assert_eq!((row.verdict, row.reason), (Verdict::Refused, a.reason));
    }
    let o = store.order("INBOX-3").await.expect("r").expect("o");
    assert_eq!(o.status, OrderStatus::Pending, "nothing applied");
    assert!(
        store
            .reject_notification(&stored(store).await, "bad signature")
            .await
            .expect("reject")
    );
}

async fn concurrent_claimers_never_share_a_due_order(store: &Store) {
    let due = now_ms() - 1;
    for i in 0..30 {
        order(store, &format!("CLAIM-{i:02}"), 100, Some(due)).await;
    }
    order(store, "CLAIM-LATER", 100, Some(now_ms() + 3_600_000)).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let batch = store
                        .claim_due_queries(now_ms(), 4, 60_000)
                        .await
                        .expect("claim");
                    if batch.is_empty() {
                        return got;
                    }
                    assert!(batch.len() <= 4, "never more than the limit");
                    got.extend(batch.into_iter().map(|o| o.out_trade_no));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 30, "each due order claimed once: {all:?}");
    assert_eq!(distinct.len(), 30);
    assert!(!distinct.contains(&"CLAIM-LATER".to_string()));
    let o = store.order("CLAIM-00").await.expect("r").expect("o");
    assert_eq!(o.query_count, 1);
    assert!(
        o.next_query_at.unwrap_or(0) > now_ms(),
        "leased into the future"
    );
}

async fn seeding_channels_twice_creates_them_once(store: &Store) {
    for _ in 0..2 {
        let id = Store::new_channel_id();
        store
            .insert_channel_if_absent(NewChannel {
                id: &id,
                name: "alipay-sandbox",
                provider: "alipay",
                mode: "sandbox",
                settings: "{}",
                sealed_secrets: "",
            })
            .await
            .expect("seed");
    }
    let all = store.channels().await.expect("channels");
    assert_eq!(all.len(), 1);
    store
        .set_channel_disabled("alipay-sandbox", true)
        .await
        .expect("disable");
    assert!(
        store
            .channel("alipay-sandbox")
            .await
            .expect("r")
            .expect("c")
            .disabled_at
            .is_some()
    );
}
