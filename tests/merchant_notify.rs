//! Merchant notifications on SQLite and Postgres: signed delivery to a local receiver with
//! retries until a 2xx, giving up after the schedule and resending, exactly-once claiming by
//! racing workers, and enqueueing inside the caller's transaction.
//!
//! Receivers listen on 127.0.0.1 only; schedules are milliseconds; every wait is bounded.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use paydesk_core::jobs::merchant_notify::{
    EVENT_ORDER_PAID, EVENT_REFUND_SUCCEEDED, MerchantNotifier, NotifierSettings, event_body,
    verify_signature,
};
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::Cause;
use paydesk_core::store::{
    MerchantNotificationFilter, MerchantNotificationStatus, NewApiKey, NewMerchantNotification,
    NewOrder, NotificationAttemptRecord, Order, RefundRequest, Store, StoreError, Transition,
    enqueue_merchant_notification,
};
use paydesk_core::time::now_ms;
use paydesk_core::vault::MasterKey;

on_both_backends!(
    a_flaky_receiver_gets_it_on_the_fourth_attempt,
    a_dead_receiver_fails_after_the_schedule_and_resend_revives_it,
    racing_workers_deliver_each_notification_exactly_once,
    claims_are_leased_and_stale_outcomes_are_fenced,
    concurrent_claims_never_overlap,
    enqueue_follows_the_callers_transaction,
    unsendable_notifications_fail_with_a_clear_record,
    signing_secrets_are_sealed_and_shown_once,
);

const DEADLINE: Duration = Duration::from_secs(30);

fn master() -> MasterKey {
    MasterKey::from_bytes([42; 32])
}

fn settings(schedule_ms: &[u64]) -> NotifierSettings {
    NotifierSettings {
        schedule: schedule_ms
            .iter()
            .map(|ms| Duration::from_millis(*ms))
            .collect(),
        jitter_percent: 0,
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        lease: Duration::from_secs(30),
        batch: 10,
        concurrency: 4,
        poll_interval: Duration::from_millis(10),
        // The receiver listens on 127.0.0.1.
        allow_loopback: true,
    }
}

/// What the receiver saw.
#[derive(Default)]
struct Receiver {
    /// Answer 500 to this many requests first, then 200 (unless `always_fail`).
    fail_first: u32,
    always_fail: AtomicBool,
    requests: AtomicU32,
    bad_signatures: AtomicU32,
    /// Deliveries by notification id, and the bodies received.
    by_id: Mutex<HashMap<String, u32>>,
    bodies: Mutex<Vec<String>>,
    /// Requests for the same notification that overlapped in time.
    in_flight: Mutex<HashMap<String, u32>>,
    overlaps: AtomicU32,
    secret: String,
    /// Handler delay, to widen race windows.
    delay: Duration,
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let now = now_ms() / 1000;
    let signed = verify_signature(&header("paydesk-signature"), &body, &r.secret, now, 300);
    let well_formed = header("content-type") == "application/json"
        && !header("paydesk-event").is_empty()
        && !header("paydesk-notification-id").is_empty();
    if !signed || !well_formed {
        r.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::BAD_REQUEST, "bad signature");
    }
    let id = header("paydesk-notification-id");
    {
        let mut flying = r.in_flight.lock().expect("lock");
        let c = flying.entry(id.clone()).or_default();
        if *c > 0 {
            r.overlaps.fetch_add(1, Ordering::SeqCst);
        }
        *c += 1;
    }
    if !r.delay.is_zero() {
        tokio::time::sleep(r.delay).await;
    }
    if let Some(c) = r.in_flight.lock().expect("lock").get_mut(&id) {
        *c -= 1;
    }
    if r.always_fail.load(Ordering::SeqCst) || n < r.fail_first {
        return (StatusCode::INTERNAL_SERVER_ERROR, "try again later");
    }
    *r.by_id.lock().expect("lock").entry(id).or_default() += 1;
    r.bodies
        .lock()
        .expect("lock")
        .push(String::from_utf8_lossy(&body).into_owned());
    (StatusCode::OK, "ok")
}

/// Serves `r` on 127.0.0.1; returns the notify URL.
async fn serve(r: Arc<Receiver>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new()
        .route("/paydesk/notify", post(receive))
        .with_state(r);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}/paydesk/notify?token=merchant-own-token")
}

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

async fn api_key(store: &Store, name: &str) -> NewApiKey {
    store
        .create_api_key(name, "admin", &master())
        .await
        .expect("api key")
}

/// A paid order with a notify URL.
async fn paid_order(store: &Store, out_trade_no: &str, url: &str) -> Order {
    store
        .create_order(
            NewOrder {
                out_trade_no,
                channel: "alipay-sandbox",
                amount: cny(1000),
                subject: "咖啡",
                creator: "pos-1",
                expires_at: now_ms() + 15 * 60_000,
                qr_code: None,
                merchant_notify_url: Some(url),
                // No key on the order: these stories enqueue by hand.
                api_key_id: None,
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::ApiKey("pos-1".into()),
        )
        .await
        .expect("create order");
    match store
        .mark_paid(
            out_trade_no,
            &format!("2026{out_trade_no}"),
            cny(1000),
            &Cause::Query,
        )
        .await
        .expect("pay")
    {
        Transition::Applied(o) => o,
        other => panic!("{other:?}"),
    }
}

async fn enqueue_paid(store: &Store, order: &Order, key: &NewApiKey, url: &str) -> String {
    let body = event_body(EVENT_ORDER_PAID, order, None);
    store
        .enqueue_merchant_notification(NewMerchantNotification {
            order_id: &order.id,
            out_trade_no: &order.out_trade_no,
            api_key_id: &key.info.id,
            url,
            event: EVENT_ORDER_PAID,
            body: &body,
        })
        .await
        .expect("enqueue")
}

async fn status_of(store: &Store, id: &str) -> MerchantNotificationStatus {
    store
        .merchant_notification(id)
        .await
        .expect("get")
        .expect("exists")
        .status
}

/// Runs rounds of `notifier` until `id` is no longer pending (bounded).
async fn drive_until_settled(store: &Store, notifier: &MerchantNotifier, id: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while status_of(store, id).await == MerchantNotificationStatus::Pending {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not settled in time"
        );
        notifier.run_once().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn a_flaky_receiver_gets_it_on_the_fourth_attempt(store: &Store) {
    let key = api_key(store, "pos-1").await;
    let receiver = Arc::new(Receiver {
        fail_first: 3,
        secret: key.signing_secret.expose().to_string(),
        ..Receiver::default()
    });
    let url = serve(receiver.clone()).await;
    let order = paid_order(store, "T1", &url).await;
    let id = enqueue_paid(store, &order, &key, &url).await;
    assert_eq!(store.merchant_notification_backlog().await.expect("n"), 1);

    // Through `run`, stopped once it is delivered.
    let notifier = MerchantNotifier::new(store.clone(), master(), settings(&[10, 10, 10, 10, 10]))
        .expect("notifier");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(notifier.run(stop_rx));
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while status_of(store, &id).await == MerchantNotificationStatus::Pending {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not delivered in time"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop_tx.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), worker)
        .await
        .expect("run returns when stopped")
        .expect("no panic");

    let n = store
        .merchant_notification(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(n.status, MerchantNotificationStatus::Delivered);
    assert_eq!(n.attempts, 4);
    assert!(n.delivered_at.is_some() && n.last_error.is_none(), "{n:?}");
    assert!(
        !format!("{n:?}").contains("merchant-own-token"),
        "Debug masks the URL's token"
    );
    let attempts = store
        .merchant_notification_attempts(&id)
        .await
        .expect("attempts");
    let statuses: Vec<_> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(500), Some(200)]);
    assert_eq!(attempts[0].response.as_deref(), Some("try again later"));
    assert_eq!(attempts[0].error.as_deref(), Some("HTTP 500"));
    assert_eq!(attempts[3].error, None);
    assert!(attempts.windows(2).all(|w| w[0].at <= w[1].at));

    assert_eq!(receiver.requests.load(Ordering::SeqCst), 4);
    assert_eq!(
        receiver.bad_signatures.load(Ordering::SeqCst),
        0,
        "all signed"
    );
    assert_eq!(
        *receiver.bodies.lock().expect("lock"),
        vec![n.body.clone()],
        "the stored body, byte for byte"
    );
    let body: serde_json::Value = serde_json::from_str(&n.body).expect("json");
    assert_eq!(body["type"], "order.paid");
    assert_eq!(body["data"]["out_trade_no"], "T1");
    assert_eq!(body["data"]["status"], "paid");
    assert_eq!(body["data"]["amount"], 1000);
    assert_eq!(body["data"]["currency"], "CNY");
    assert_eq!(body["data"]["refunded_amount"], 0);
    assert_eq!(body["data"]["provider_trade_no"], "2026T1");
    assert_eq!(body["data"]["paid_at"], order.paid_at.expect("paid") / 1000);
    assert!(body["data"]["refund"].is_null());
    assert_eq!(store.merchant_notification_backlog().await.expect("n"), 0);
}

async fn a_dead_receiver_fails_after_the_schedule_and_resend_revives_it(store: &Store) {
    let key = api_key(store, "pos-1").await;
    let receiver = Arc::new(Receiver {
        secret: key.signing_secret.expose().to_string(),
        ..Receiver::default()
    });
    receiver.always_fail.store(true, Ordering::SeqCst);
    let url = serve(receiver.clone()).await;
    let order = paid_order(store, "T2", &url).await;
    // A refund event, to see the refund in the body.
    let RefundRequest::Created(_) = store
        .request_refund("T2", "R2", cny(300), "damaged", &Cause::User("sam".into()))
        .await
        .expect("refund")
    else {
        panic!("refund not created")
    };
    assert!(
        store
            .complete_refund("R2", Some("re_1"), &Cause::Query)
            .await
            .expect("complete")
    );
    let order_now = store.order("T2").await.expect("get").expect("exists");
    let refund = store.refund("R2").await.expect("get").expect("exists");
    let body = event_body(EVENT_REFUND_SUCCEEDED, &order_now, Some(&refund));
    let id = store
        .enqueue_merchant_notification(NewMerchantNotification {
            order_id: &order.id,
            out_trade_no: "T2",
            api_key_id: &key.info.id,
            url: &url,
            event: EVENT_REFUND_SUCCEEDED,
            body: &body,
        })
        .await
        .expect("enqueue");

    let notifier =
        MerchantNotifier::new(store.clone(), master(), settings(&[5, 5, 5])).expect("notifier");
    drive_until_settled(store, &notifier, &id).await;
    let n = store
        .merchant_notification(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(n.status, MerchantNotificationStatus::Failed, "{n:?}");
    assert_eq!(
        n.attempts, 4,
        "the first attempt and one per scheduled wait"
    );
    assert_eq!(n.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(
        store
            .merchant_notification_attempts(&id)
            .await
            .expect("attempts")
            .len(),
        4
    );
    assert_eq!(store.merchant_notification_backlog().await.expect("n"), 0);
    assert_eq!(notifier.run_once().await, 0, "failed is not retried");
    let failed = store
        .merchant_notifications(&MerchantNotificationFilter {
            status: Some(MerchantNotificationStatus::Failed),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(failed.len(), 1);

    // The merchant fixes their system; support resends.
    receiver.always_fail.store(false, Ordering::SeqCst);
    store
        .resend_merchant_notification(&id)
        .await
        .expect("resend");
    assert_eq!(
        status_of(store, &id).await,
        MerchantNotificationStatus::Pending
    );
    assert_eq!(
        store
            .merchant_notification_attempts(&id)
            .await
            .expect("attempts")
            .len(),
        4,
        "resend records no attempt by itself"
    );
    assert_eq!(store.merchant_notification_backlog().await.expect("n"), 1);
    drive_until_settled(store, &notifier, &id).await;
    let n = store
        .merchant_notification(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (n.status, n.attempts),
        (MerchantNotificationStatus::Delivered, 5)
    );
    // Delivered notifications can be resent too.
    store
        .resend_merchant_notification(&id)
        .await
        .expect("resend");
    drive_until_settled(store, &notifier, &id).await;
    assert_eq!(
        status_of(store, &id).await,
        MerchantNotificationStatus::Delivered
    );
    assert!(matches!(
        store.resend_merchant_notification("nope").await,
        Err(StoreError::NotFound)
    ));

    let got = receiver.bodies.lock().expect("lock").clone();
    assert_eq!(got.len(), 2);
    let body: serde_json::Value = serde_json::from_str(&got[0]).expect("json");
    assert_eq!(body["type"], "refund.succeeded");
    assert_eq!(body["data"]["status"], "partially_refunded");
    assert_eq!(body["data"]["refunded_amount"], 300);
    assert_eq!(body["data"]["refund"]["out_refund_no"], "R2");
    assert_eq!(body["data"]["refund"]["amount"], 300);
    assert_eq!(body["data"]["refund"]["status"], "succeeded");
    assert!(body["data"]["refund"]["failure_reason"].is_null());
    assert_eq!(receiver.bad_signatures.load(Ordering::SeqCst), 0);
}

async fn racing_workers_deliver_each_notification_exactly_once(store: &Store) {
    let key = api_key(store, "pos-1").await;
    let receiver = Arc::new(Receiver {
        secret: key.signing_secret.expose().to_string(),
        delay: Duration::from_millis(20),
        ..Receiver::default()
    });
    let url = serve(receiver.clone()).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let order = paid_order(store, &format!("R{i:02}"), &url).await;
        ids.push(enqueue_paid(store, &order, &key, &url).await);
    }
    let small_batches = NotifierSettings {
        batch: 3,
        ..settings(&[5, 5, 5])
    };
    let a = MerchantNotifier::new(store.clone(), master(), small_batches.clone()).expect("a");
    let b = MerchantNotifier::new(store.clone(), master(), small_batches).expect("b");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut attempted = 0;
    while store.merchant_notification_backlog().await.expect("n") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "backlog not drained in time"
        );
        let (x, y) = tokio::join!(a.run_once(), b.run_once());
        attempted += x + y;
    }
    assert_eq!(attempted, 20, "each claimed once");
    let by_id = receiver.by_id.lock().expect("lock").clone();
    assert_eq!(by_id.len(), 20);
    for id in &ids {
        assert_eq!(by_id.get(id), Some(&1), "{id} delivered exactly once");
        assert_eq!(
            store
                .merchant_notification_attempts(id)
                .await
                .expect("attempts")
                .len(),
            1
        );
        assert_eq!(
            status_of(store, id).await,
            MerchantNotificationStatus::Delivered
        );
    }
    assert_eq!(receiver.requests.load(Ordering::SeqCst), 20);
    assert_eq!(receiver.overlaps.load(Ordering::SeqCst), 0);
    let listed = store
        .merchant_notifications(&MerchantNotificationFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(listed.len(), 20);
    assert!(
        listed
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
    let one = store
        .merchant_notifications(&MerchantNotificationFilter {
            out_trade_no: Some("R07".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(one.len(), 1);
    let by_order = store
        .merchant_notifications(&MerchantNotificationFilter {
            order_id: Some(one[0].order_id.clone()),
            status: Some(MerchantNotificationStatus::Delivered),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(by_order, one);
}

async fn claims_are_leased_and_stale_outcomes_are_fenced(store: &Store) {
    let key = api_key(store, "pos-1").await;
    let url = "http://127.0.0.1:9/unused";
    for i in 0..3 {
        let order = paid_order(store, &format!("L{i}"), url).await;
        enqueue_paid(store, &order, &key, url).await;
    }
    let now = now_ms() + 1;
    let first = store
        .claim_due_merchant_notifications(now, 2, 60_000)
        .await
        .expect("claim");
    assert_eq!(first.len(), 2, "limited");
    let second = store
        .claim_due_merchant_notifications(now, 10, 60_000)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1, "only the unclaimed one");
    assert!(first.iter().all(|c| c.id != second[0].id));
    assert!(
        store
            .claim_due_merchant_notifications(now, 10, 60_000)
            .await
            .expect("claim")
            .is_empty(),
        "all leased"
    );
    // The lease runs out (the first worker died, say): claimable again.
    let later = store
        .claim_due_merchant_notifications(now + 60_001, 10, 60_000)
        .await
        .expect("claim");
    assert_eq!(later.len(), 3);
    let stale = &first[0];
    let fresh = later.iter().find(|c| c.id == stale.id).expect("reclaimed");
    assert_eq!((fresh.attempts, fresh.schedule_attempts), (0, 0));

    let long_answer = "x".repeat(500);
    let failure = NotificationAttemptRecord {
        at: now_ms(),
        status: Some(503),
        latency_ms: 3,
        error: None,
        response: Some(&long_answer),
    };
    assert_eq!(
        store
            .record_merchant_notification_attempt(fresh, &failure, Some(now + 1_000))
            .await
            .expect("record"),
        Some(MerchantNotificationStatus::Pending)
    );
    // The stale worker's failure does not move the notification again...
    assert_eq!(
        store
            .record_merchant_notification_attempt(stale, &failure, None)
            .await
            .expect("record"),
        None
    );
    let n = store
        .merchant_notification(&stale.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (n.status, n.attempts, n.next_attempt_at),
        (MerchantNotificationStatus::Pending, 1, now + 1_000)
    );
    // ...but its attempt is on record, with the answer cut to 200 characters.
    let attempts = store
        .merchant_notification_attempts(&stale.id)
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 2);
    assert!(
        attempts
            .iter()
            .all(|a| a.response.as_deref().map(str::len) == Some(200))
    );
    assert_eq!(n.last_error.as_deref(), Some("HTTP 503"));
    // A 2xx is a fact whoever reports it.
    let ok = NotificationAttemptRecord {
        status: Some(204),
        response: None,
        ..failure
    };
    assert_eq!(
        store
            .record_merchant_notification_attempt(stale, &ok, None)
            .await
            .expect("record"),
        Some(MerchantNotificationStatus::Delivered)
    );
    assert_eq!(store.merchant_notification_backlog().await.expect("n"), 2);

    // A resend while a send is in flight: the send's failure does not push it back.
    let in_flight = store
        .claim_due_merchant_notifications(now + 200_000, 1, 60_000)
        .await
        .expect("claim")
        .pop()
        .expect("one due");
    store
        .resend_merchant_notification(&in_flight.id)
        .await
        .expect("resend");
    assert_eq!(
        store
            .record_merchant_notification_attempt(&in_flight, &failure, None)
            .await
            .expect("record"),
        None
    );
    let n = store
        .merchant_notification(&in_flight.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(n.status, MerchantNotificationStatus::Pending);
    assert!(
        n.next_attempt_at <= now_ms(),
        "still due now, as the resend asked"
    );
}

async fn concurrent_claims_never_overlap(store: &Store) {
    let key = api_key(store, "pos-1").await;
    let url = "http://127.0.0.1:9/unused";
    let order = paid_order(store, "C1", url).await;
    let body = event_body(EVENT_ORDER_PAID, &order, None);
    let mut tx = store.pool().begin().await.expect("begin");
    for _ in 0..60 {
        enqueue_merchant_notification(
            &mut tx,
            NewMerchantNotification {
                order_id: &order.id,
                out_trade_no: "C1",
                api_key_id: &key.info.id,
                url,
                event: EVENT_ORDER_PAID,
                body: &body,
            },
        )
        .await
        .expect("enqueue");
    }
    tx.commit().await.expect("commit");
    let now = now_ms() + 1;
    // Eight claimers at once, each claiming up to 4 at a time until nothing is left.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_due_merchant_notifications(now, 4, 60_000)
                    .await
                    .expect("claim");
                assert!(got.len() <= 4, "never more than the limit");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|c| c.id));
            }
        });
    }
    let mut all = Vec::new();
    while let Some(mine) = tasks.join_next().await {
        all.extend(mine.expect("claimer"));
    }
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "every notification claimed");
    assert_eq!(distinct.len(), 60, "by exactly one claimer");
}

async fn enqueue_follows_the_callers_transaction(store: &Store) {
    let key = api_key(store, "pos-1").await;
    let url = "http://127.0.0.1:9/unused";
    let order = paid_order(store, "X1", url).await;
    let body = event_body(EVENT_ORDER_PAID, &order, None);
    let n = NewMerchantNotification {
        order_id: &order.id,
        out_trade_no: "X1",
        api_key_id: &key.info.id,
        url,
        event: EVENT_ORDER_PAID,
        body: &body,
    };

    // The order change and its event in one transaction, rolled back: neither stays.
    let mut tx = store.pool().begin().await.expect("begin");
    sqlx::query("UPDATE orders SET subject = 'changed' WHERE id = $1")
        .bind(&order.id)
        .execute(&mut *tx)
        .await
        .expect("update");
    let id = enqueue_merchant_notification(&mut tx, n)
        .await
        .expect("enqueue");
    tx.rollback().await.expect("rollback");
    assert_eq!(store.merchant_notification(&id).await.expect("get"), None);
    assert_eq!(store.merchant_notification_backlog().await.expect("n"), 0);
    assert_eq!(
        store
            .order("X1")
            .await
            .expect("get")
            .expect("exists")
            .subject,
        "咖啡"
    );
    assert!(
        store
            .claim_due_merchant_notifications(now_ms() + 1, 10, 1_000)
            .await
            .expect("claim")
            .is_empty()
    );

    // Committed: both stay.
    let mut tx = store.pool().begin().await.expect("begin");
    sqlx::query("UPDATE orders SET subject = 'changed' WHERE id = $1")
        .bind(&order.id)
        .execute(&mut *tx)
        .await
        .expect("update");
    let id = enqueue_merchant_notification(&mut tx, n)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let stored = store
        .merchant_notification(&id)
        .await
        .expect("get")
        .expect("committed");
    assert_eq!(
        (stored.status, stored.attempts, stored.body.as_str()),
        (MerchantNotificationStatus::Pending, 0, body.as_str())
    );
    assert_eq!(store.merchant_notification_backlog().await.expect("n"), 1);
}

async fn unsendable_notifications_fail_with_a_clear_record(store: &Store) {
    let receiver = Arc::new(Receiver::default());
    let url = serve(receiver.clone()).await;
    let notifier =
        MerchantNotifier::new(store.clone(), master(), settings(&[5, 5, 5])).expect("notifier");

    // A key from before signing secrets existed.
    let legacy = api_key(store, "legacy").await;
    sqlx::query("UPDATE api_keys SET signing_secret = NULL WHERE id = $1")
        .bind(&legacy.info.id)
        .execute(store.pool())
        .await
        .expect("null");
    let order = paid_order(store, "U1", &url).await;
    let id = enqueue_paid(store, &order, &legacy, &url).await;
    drive_until_settled(store, &notifier, &id).await;
    let n = store
        .merchant_notification(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (n.status, n.attempts),
        (MerchantNotificationStatus::Failed, 1),
        "given up at once: retrying cannot help"
    );
    assert!(
        n.last_error
            .as_deref()
            .is_some_and(|e| e.contains("no signing secret")),
        "{n:?}"
    );
    let attempts = store
        .merchant_notification_attempts(&id)
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status, None);

    // Not an http(s) URL.
    let key = api_key(store, "pos-1").await;
    let order = paid_order(store, "U2", "ftp://127.0.0.1/n").await;
    let id = enqueue_paid(store, &order, &key, "ftp://127.0.0.1/n").await;
    drive_until_settled(store, &notifier, &id).await;
    let n = store
        .merchant_notification(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(n.status, MerchantNotificationStatus::Failed);
    assert!(
        n.last_error.as_deref().is_some_and(|e| e.contains("http")),
        "{n:?}"
    );

    // Nobody listening: a transport error, retried on the schedule, then failed.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/n", l.local_addr().expect("addr"))
    };
    let order = paid_order(store, "U3", &dead).await;
    let id = enqueue_paid(store, &order, &key, &dead).await;
    drive_until_settled(store, &notifier, &id).await;
    let attempts = store
        .merchant_notification_attempts(&id)
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 4);
    assert!(
        attempts
            .iter()
            .all(|a| a.status.is_none() && a.error.is_some()),
        "{attempts:?}"
    );

    // Loopback is refused unless the deployment allows it: by IP literal and by a name
    // that resolves to it, once, as a permanent failure, and nothing reaches the receiver.
    let strict = MerchantNotifier::new(
        store.clone(),
        master(),
        NotifierSettings {
            allow_loopback: false,
            ..settings(&[5, 5, 5])
        },
    )
    .expect("notifier");
    let by_name = url.replace("127.0.0.1", "localhost");
    for (no, target) in [("U5", url.as_str()), ("U6", by_name.as_str())] {
        let order = paid_order(store, no, target).await;
        let id = enqueue_paid(store, &order, &key, target).await;
        drive_until_settled(store, &strict, &id).await;
        let n = store
            .merchant_notification(&id)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(
            (n.status, n.attempts),
            (MerchantNotificationStatus::Failed, 1),
            "{target}: {n:?}"
        );
        assert!(
            n.last_error
                .as_deref()
                .is_some_and(|e| e.contains("does not send to")),
            "{n:?}"
        );
    }

    // A different master key: the secret cannot be opened; retried (a configuration fix
    // away), and the error says nothing secret.
    let order = paid_order(store, "U4", &url).await;
    let id = enqueue_paid(store, &order, &key, &url).await;
    let wrong = MerchantNotifier::new(
        store.clone(),
        MasterKey::from_bytes([7; 32]),
        settings(&[60_000]),
    )
    .expect("notifier");
    assert_eq!(wrong.run_once().await, 1);
    let n = store
        .merchant_notification(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(n.status, MerchantNotificationStatus::Pending, "{n:?}");
    let error = n.last_error.unwrap_or_default();
    assert!(
        error.contains("cannot be opened") && !error.contains(key.signing_secret.expose()),
        "{error}"
    );
    assert_eq!(
        receiver.requests.load(Ordering::SeqCst),
        0,
        "nothing was sent"
    );
}

async fn signing_secrets_are_sealed_and_shown_once(store: &Store) {
    let key = api_key(store, "pos-1").await;
    let secret = key.signing_secret.expose().to_string();
    assert!(
        secret.starts_with("pdsec_") && secret.len() == 6 + 43,
        "{}",
        secret.len()
    );
    let debug = format!("{key:?}");
    assert!(
        !debug.contains(&secret) && !debug.contains(&key.secret),
        "{debug}"
    );

    let raw: Vec<Option<String>> = sqlx::query_scalar("SELECT signing_secret FROM api_keys")
        .fetch_all(store.pool())
        .await
        .expect("raw");
    assert!(
        raw.iter().all(|s| s
            .as_deref()
            .is_some_and(|s| s.starts_with("v1:") && !s.contains(&secret))),
        "stored sealed"
    );
    assert_eq!(
        store
            .api_key_signing_secret(&key.info.id, &master())
            .await
            .expect("open")
            .map(|s| s.expose().to_string()),
        Some(secret.clone())
    );
    let wrong = store
        .api_key_signing_secret(&key.info.id, &MasterKey::from_bytes([1; 32]))
        .await;
    assert!(
        matches!(wrong, Err(StoreError::SecretUnreadable)),
        "{wrong:?}"
    );
    assert!(
        !wrong
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains(&secret)
    );
    assert!(matches!(
        store.api_key_signing_secret("nope", &master()).await,
        Err(StoreError::NotFound)
    ));

    // Sealed to its row: copied into another key's row, it does not open there.
    let other = api_key(store, "pos-2").await;
    sqlx::query("UPDATE api_keys SET signing_secret = (SELECT signing_secret FROM api_keys WHERE id = $1) WHERE id = $2")
        .bind(&key.info.id)
        .bind(&other.info.id)
        .execute(store.pool())
        .await
        .expect("copy");
    assert!(matches!(
        store
            .api_key_signing_secret(&other.info.id, &master())
            .await,
        Err(StoreError::SecretUnreadable)
    ));
    assert_ne!(other.signing_secret, key.signing_secret);
}
