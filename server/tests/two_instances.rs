//! Two paydesk instances on one Postgres database, both running their background jobs:
//! the same notifications sent to both apply once, merchant events go out once, and a
//! session started on one instance is valid on the other.

use std::collections::HashMap;
use std::time::Duration;

use paydesk_core::auth::hash_password;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus};
use paydesk_core::payments::CheckoutRequest;
use paydesk_core::provider::ProviderKind;
use paydesk_core::role::Role;
use paydesk_core::store::{NewUser, Verdict};
use support::{Options, PgSchema, spawn_app_with};
use tokio::sync::watch;

mod support;

const ORDERS: usize = 6;
const COPIES: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_sessions_jobs_and_notifications_exactly_once() {
    let Some(pg) = PgSchema::create().await else {
        return;
    };
    // One data directory: both instances read the same master key, as two hosts given the
    // same PAYDESK_MASTER_KEY would.
    let dir = tempfile::tempdir().expect("dir");
    let a = spawn_app_with(
        dir.path(),
        Options {
            database_url: Some(pg.url.clone()),
            ..Options::default()
        },
    )
    .await;
    // B answers on its own port but, like a second host behind one name, uses A's public
    // URL: sandbox gateways and notify URLs are the same for both.
    let b = spawn_app_with(
        dir.path(),
        Options {
            database_url: Some(pg.url.clone()),
            public_url: Some(a.base.clone()),
            ..Options::default()
        },
    )
    .await;

    // Both instances run every background loop, often.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut jobs = Vec::new();
    for app in [&a, &b] {
        let mut state = app.state.clone();
        state.jobs.query_every = Duration::from_millis(20);
        state.jobs.merchant_notify.poll_interval = Duration::from_millis(20);
        jobs.extend(state.spawn_jobs(stop_rx.clone()));
    }

    // Orders from both instances, each forwarding its events to one merchant receiver.
    let store = &a.state.store;
    let master = a.state.payments.channels().master().clone();
    let key = store
        .create_api_key("pos", "test", &master)
        .await
        .expect("key");
    let (hook, mut got) = receiver().await;
    let mut orders = Vec::new();
    for i in 0..ORDERS {
        let app = if i % 2 == 0 { &a } else { &b };
        let order = app
            .state
            .payments
            .create_checkout(CheckoutRequest {
                channel: "wechatpay-sandbox".into(),
                amount: Money::new(100 + i as i64, Currency::Cny).expect("cny"),
                subject: "tea".into(),
                out_trade_no: None,
                expires_in_secs: None,
                merchant_notify_url: Some(hook.clone()),
                api_key_id: Some(key.info.id.clone()),
                cause: Cause::ApiKey("pos".into()),
            })
            .await
            .expect("checkout");
        orders.push(order.out_trade_no);
    }

    // Paid at the gateway; its signed notification is sent COPIES times to each instance
    // at once, while both instances' query jobs may find the payment too.
    let set = a.state.sandbox.get().await.expect("sandbox");
    let http = reqwest::Client::new();
    let mut sends = Vec::new();
    for no in &orders {
        let paid = set.pay(ProviderKind::Wechatpay, no).await.expect("pay");
        let n = set
            .paid_notification(ProviderKind::Wechatpay, &paid)
            .expect("notification");
        for copy in 0..COPIES * 2 {
            let base = if copy % 2 == 0 { &a.base } else { &b.base };
            let path = n
                .url
                .split_once("/notify/")
                .map(|(_, p)| p)
                .expect("notify path");
            let mut req = http
                .post(format!("{base}/notify/{path}"))
                .body(n.body.clone());
            for (k, v) in &n.headers {
                req = req.header(k, v);
            }
            sends.push(tokio::spawn(req.send()));
        }
    }
    for s in sends {
        let resp = s.await.expect("join").expect("send");
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    for no in &orders {
        let order = wait_paid(store, no).await;
        let events = store.order_events(&order.id).await.expect("events");
        let paid = events.iter().filter(|e| e.kind == "paid").count();
        assert_eq!(paid, 1, "{no}: {events:?}");
        let inbox = store
            .notifications(&paydesk_core::store::InboxFilter {
                out_trade_no: Some(no.clone()),
                limit: 100,
                ..Default::default()
            })
            .await
            .expect("inbox");
        assert_eq!(inbox.len(), COPIES * 2, "every copy is on record");
        assert!(
            inbox
                .iter()
                .filter(|e| e.verdict == Verdict::Applied)
                .count()
                <= 1,
            "at most one copy applied (a query may have been first)"
        );
    }

    // One "paid" event per order reaches the merchant, though both instances deliver.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < ORDERS {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let body = tokio::time::timeout(left, got.recv())
            .await
            .expect("merchant events in time")
            .expect("receiver open");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let no = v["data"]["out_trade_no"].as_str().unwrap_or("").to_string();
        *seen.entry(no).or_default() += 1;
    }
    // Give a duplicate delivery the chance to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(body) = got.try_recv() {
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let no = v["data"]["out_trade_no"].as_str().unwrap_or("").to_string();
        *seen.entry(no).or_default() += 1;
    }
    for no in &orders {
        assert_eq!(seen.get(no), Some(&1), "{no}: {seen:?}");
    }

    // A session started on A is valid on B (sessions live in the database).
    let hash = hash_password("a long enough password".into())
        .await
        .expect("hash");
    store
        .create_user(NewUser {
            username: "sam",
            password_hash: &hash,
            role: Role::Support,
        })
        .await
        .expect("user");
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = no_redirect
        .post(format!("{}/auth/login", a.base))
        .header("Origin", &a.base)
        .form(&[("username", "sam"), ("password", "a long enough password")])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status().as_u16(), 303);
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("paydesk_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string();
    let page = no_redirect
        .get(format!("{}/", b.base))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("page on B");
    assert_eq!(page.status().as_u16(), 200, "signed in on B too");
    assert!(page.text().await.expect("html").contains("sam"));

    stop_tx.send(true).expect("stop");
    for j in jobs {
        tokio::time::timeout(Duration::from_secs(10), j)
            .await
            .expect("jobs stop")
            .expect("join");
    }
    pg.drop().await;
}

async fn wait_paid(store: &paydesk_core::store::Store, no: &str) -> paydesk_core::store::Order {
    for _ in 0..200 {
        let o = store.order(no).await.expect("read").expect("order");
        if o.status == OrderStatus::Paid {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{no} was not paid in time");
}

/// A merchant system that records the bodies paydesk forwards to it.
async fn receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<axum::body::Bytes>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |b: axum::body::Bytes| {
            let _ = tx.send(b);
            async { "ok" }
        }),
    );
    let base = paydesk_core::sandbox::serve_local(router)
        .await
        .expect("receiver");
    (format!("{base}/hook"), rx)
}
