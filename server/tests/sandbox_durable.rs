//! The sandbox remembers like a real gateway: its orders and the notifications it owes
//! live in the database.
//!
//! - A real `paydesk` process (SQLite) is killed with SIGKILL while hundreds of wallet
//!   payments are in flight, then restarted on the same data directory: what the sandbox
//!   owed at the kill is delivered before any new request, the wallet knows every order,
//!   every order the sandbox considers paid ends paid in paydesk exactly once, and every
//!   delivery is acknowledged.
//! - In process: a delivery cut short by a shutdown is sent by the next instance, whose
//!   wallet also shows the order paid.
//! - Two instances on one Postgres: an order created through one is paid in both wallets
//!   at once; it is paid once and its notification is sent once.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::OrderStatus;
use paydesk_core::provider::alipay::AlipayClient;
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::{CreateQrRequest, NullSink, Provider, SystemClock};
use paydesk_core::sandbox::serve_local;
use paydesk_core::store::{SandboxDeliveryStatus, Store};
use serde_json::Value;
use tokio::sync::Semaphore;

mod support;
use support::process::{api_key, client, free_port, serve};

/// Wallet payments in the crash test, and how many run at once.
const PAYMENTS: usize = 300;
const IN_FLIGHT: usize = 24;
/// The kill comes once this many payments were confirmed by the wallet.
const KILL_AFTER: usize = PAYMENTS / 3;

/// Creates `n` WeChat Pay sandbox checkouts over the merchant API: (out_trade_no, QR).
async fn create_orders(base: &str, key: &str, n: usize) -> Vec<(String, String)> {
    let http = client();
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (http, gate) = (http.clone(), gate.clone());
            let (base, key) = (base.to_string(), key.to_string());
            tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("gate");
                let body = serde_json::json!({
                    "channel": "wechatpay-sandbox", "amount": 100 + i, "currency": "CNY",
                    "subject": "tea",
                });
                let resp = http
                    .post(format!("{base}/api/v1/orders"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .expect("create");
                assert_eq!(resp.status(), StatusCode::CREATED);
                let v: Value = resp.json().await.expect("json");
                let s = |k: &str| v[k].as_str().expect(k).to_string();
                (s("out_trade_no"), s("qr_code"))
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("join"));
    }
    out
}

/// Presses Pay for each order (IN_FLIGHT at once); returns the orders whose press the
/// wallet confirmed (its redirect back to the page). Presses that fail (the server died)
/// are simply not confirmed.
async fn pay_all(
    base: &str,
    orders: &[(String, String)],
    confirmed: Arc<AtomicUsize>,
) -> Vec<String> {
    let http = client();
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let tasks: Vec<_> = orders
        .iter()
        .cloned()
        .map(|(no, qr)| {
            let (http, gate, confirmed) = (http.clone(), gate.clone(), confirmed.clone());
            let origin = base.to_string();
            tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("gate");
                let resp = http
                    .post(format!("{qr}/pay"))
                    .header("Origin", origin)
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status() == StatusCode::SEE_OTHER => {
                        confirmed.fetch_add(1, Ordering::SeqCst);
                        Some(no)
                    }
                    _ => None,
                }
            })
        })
        .collect();
    let mut ok = Vec::new();
    for t in tasks {
        if let Some(no) = t.await.expect("join") {
            ok.push(no);
        }
    }
    ok
}

async fn sandbox_paid(store: &Store) -> HashSet<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT out_trade_no FROM sandbox_orders WHERE provider = 'wechatpay' AND state = 'paid'",
    )
    .fetch_all(store.pool())
    .await
    .expect("sandbox orders");
    rows.into_iter().map(|(no,)| no).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_mid_payments_every_sandbox_payment_ends_paid_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut first = serve(dir.path(), port, "first.log").await;
    let key = api_key(dir.path(), port);
    let t = Instant::now();
    let orders = create_orders(&base, &key, PAYMENTS).await;
    eprintln!("{PAYMENTS} checkouts created in {:?}", t.elapsed());

    // Hundreds of wallet payments; SIGKILL once a third of them were confirmed.
    let confirmed = Arc::new(AtomicUsize::new(0));
    let paying = {
        let (base, orders, confirmed) = (base.clone(), orders.clone(), confirmed.clone());
        tokio::spawn(async move { pay_all(&base, &orders, confirmed).await })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while confirmed.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(Instant::now() < deadline, "payments too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let before_crash: HashSet<String> = paying.await.expect("join").into_iter().collect();
    assert!(
        before_crash.len() >= KILL_AFTER && before_crash.len() < PAYMENTS,
        "killed mid-way: {} confirmed",
        before_crash.len()
    );

    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("paydesk.db").display()
    );
    let store = Store::connect(&url).await.expect("open the database");
    let paid_at_crash = sandbox_paid(&store).await;
    assert!(
        before_crash.is_subset(&paid_at_crash),
        "every payment the wallet confirmed is on the sandbox's books"
    );
    let owed_at_crash = store
        .sandbox_deliveries(None)
        .await
        .expect("deliveries")
        .iter()
        .filter(|d| d.status == SandboxDeliveryStatus::Pending)
        .count();
    eprintln!(
        "at the kill: {} confirmed by the wallet, {} paid at the sandbox, {owed_at_crash} deliveries owed",
        before_crash.len(),
        paid_at_crash.len()
    );

    // Restart on the same data; the wallet still knows every order (those paid before the
    // crash say so, the others can be paid now).
    let t = Instant::now();
    let mut second = serve(dir.path(), port, "second.log").await;
    eprintln!("restarted in {:?}", t.elapsed());
    // Before any wallet press: what the sandbox owed at the kill is delivered (claims the
    // dead process held lapse after their lease).
    let t = Instant::now();
    let deadline = t + Duration::from_secs(60);
    loop {
        let deliveries = store.sandbox_deliveries(None).await.expect("deliveries");
        let owed = deliveries
            .iter()
            .filter(|d| d.status == SandboxDeliveryStatus::Pending)
            .count();
        if owed == 0 {
            assert_eq!(deliveries.len(), paid_at_crash.len(), "one per payment");
            break;
        }
        assert!(Instant::now() < deadline, "{owed} deliveries still owed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "the {owed_at_crash} deliveries owed at the kill were delivered {:?} after the restart",
        t.elapsed()
    );
    let t = Instant::now();
    let again = pay_all(&base, &orders, Arc::new(AtomicUsize::new(0))).await;
    assert_eq!(again.len(), PAYMENTS, "the wallet answers for every order");
    eprintln!(
        "{PAYMENTS} wallet presses after the restart in {:?}",
        t.elapsed()
    );
    let t = Instant::now();

    // Bounded wait: paydesk learns every payment (redelivered notifications or its active
    // query) and the sandbox's queue drains.
    let all: HashSet<String> = orders.iter().map(|(no, _)| no.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut unpaid = Vec::new();
        for no in &all {
            let o = store.order(no).await.expect("read").expect("order");
            if o.status != OrderStatus::Paid {
                unpaid.push(no.clone());
            }
        }
        let owed = store
            .sandbox_deliveries(None)
            .await
            .expect("deliveries")
            .iter()
            .filter(|d| d.status == SandboxDeliveryStatus::Pending)
            .count();
        if unpaid.is_empty() && owed == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 120 s: {} unpaid ({:?}…), {owed} deliveries owed",
            unpaid.len(),
            unpaid.first()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "all paid in paydesk and the queue drained {:?} after the presses",
        t.elapsed()
    );

    assert_eq!(
        sandbox_paid(&store).await,
        all,
        "the sandbox considers all paid"
    );
    // None paid twice: one "paid" event per order, one delivery per payment, all acknowledged.
    for no in &all {
        let o = store.order(no).await.expect("read").expect("order");
        let events = store.order_events(&o.id).await.expect("events");
        let paid = events.iter().filter(|e| e.kind == "paid").count();
        assert_eq!(paid, 1, "{no}: {events:?}");
        assert_eq!(o.refunded_minor, 0);
    }
    let deliveries = store.sandbox_deliveries(None).await.expect("deliveries");
    let mut per_order: HashMap<&str, usize> = HashMap::new();
    for d in &deliveries {
        *per_order.entry(d.out_trade_no.as_str()).or_default() += 1;
        assert_eq!(d.status, SandboxDeliveryStatus::Acknowledged, "{d:?}");
    }
    assert_eq!(per_order.len(), PAYMENTS);
    assert!(
        per_order.values().all(|n| *n == 1),
        "one delivery per payment"
    );

    let _ = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    let _ = second.wait();
    store.close().await;
}

/// A merchant endpoint that hangs (never answers) until `ack` is set, then acknowledges
/// the way Alipay requires (200, body `success`).
async fn merchant(ack: Arc<AtomicBool>, hits: Arc<AtomicUsize>) -> String {
    let router = Router::new().route(
        "/notify",
        post(move || {
            let (ack, hits) = (ack.clone(), hits.clone());
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                if !ack.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                (StatusCode::OK, "success").into_response()
            }
        }),
    );
    format!("{}/notify", serve_local(router).await.expect("merchant"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_cut_short_by_a_shutdown_is_sent_by_the_next_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = support::spawn_app(dir.path(), None).await;
    let set = first.state.sandbox.get().await.expect("sandbox");
    let (ack, hits) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let notify_url = merchant(ack.clone(), hits.clone()).await;
    let alipay = AlipayClient::new(
        set.keys.alipay.client_config(
            "sandbox",
            &format!("{}/sandbox/alipay/gateway.do", first.base),
        ),
        HttpSettings::default(),
        Arc::new(NullSink),
        Arc::new(SystemClock),
    )
    .expect("client");
    let qr = alipay
        .create_qr(&CreateQrRequest {
            out_trade_no: "DUR-1".into(),
            amount: Money::new(500, Currency::Cny).expect("cny"),
            subject: "tea".into(),
            notify_url: notify_url.clone(),
            expires_at: None,
        })
        .await
        .expect("create");
    let pressed = client()
        .post(format!("{}/pay", qr.qr_content))
        .header("Origin", &first.base)
        .send()
        .await
        .expect("pay");
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    let deadline = Instant::now() + Duration::from_secs(10);
    while hits.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "no delivery attempt");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The attempt hangs; the instance shuts down and gives the delivery back.
    tokio::time::timeout(Duration::from_secs(5), first.state.sandbox.shutdown())
        .await
        .expect("shutdown finishes promptly");
    let store = first.state.store.clone();
    let owed = store.sandbox_deliveries(Some("DUR-1")).await.expect("list");
    assert_eq!(owed.len(), 1);
    assert_eq!(
        (owed[0].status, owed[0].attempts),
        (SandboxDeliveryStatus::Pending, 0)
    );

    // The next instance on the same data finds it owed and sends it without any request.
    ack.store(true, Ordering::SeqCst);
    let second = support::spawn_app(dir.path(), None).await;
    second.state.sandbox.resume();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let d = &store.sandbox_deliveries(Some("DUR-1")).await.expect("list")[0];
        if d.status == SandboxDeliveryStatus::Acknowledged {
            assert_eq!(d.attempts, 1, "the cut-short attempt did not count");
            break;
        }
        assert!(Instant::now() < deadline, "not redelivered: {d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // The second instance's wallet knows the order, paid; its gateway answers the query.
    let code = qr.qr_content.rsplit('/').next().expect("code");
    let page = client()
        .get(format!("{}/sandbox/pay/{code}", second.base))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("wallet")
        .text()
        .await
        .expect("html");
    assert!(page.contains("Paid.") && !page.contains(">Pay<"), "{page}");
    second.state.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_on_one_postgres_share_the_wallet_and_deliver_each_payment_once() {
    let Some(pg) = support::PgSchema::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let pg_app = |public_url: Option<String>| support::Options {
        database_url: Some(pg.url.clone()),
        public_url,
        ..support::Options::default()
    };
    let a = support::spawn_app_with(dir.path(), pg_app(None)).await;
    // B answers on its own port behind A's public URL, like a second host behind one name.
    let b = support::spawn_app_with(dir.path(), pg_app(Some(a.base.clone()))).await;

    const ORDERS: usize = 12;
    let mut orders = Vec::new();
    for i in 0..ORDERS {
        let app = if i % 2 == 0 { &a } else { &b };
        let o = app
            .state
            .payments
            .create_checkout(paydesk_core::payments::CheckoutRequest {
                channel: "wechatpay-sandbox".into(),
                amount: Money::new(100 + i as i64, Currency::Cny).expect("cny"),
                subject: "tea".into(),
                out_trade_no: None,
                expires_in_secs: None,
                merchant_notify_url: None,
                api_key_id: None,
                cause: paydesk_core::order::Cause::User("mia".into()),
            })
            .await
            .expect("checkout");
        let code = o
            .qr_code
            .as_deref()
            .and_then(|qr| qr.rsplit('/').next())
            .expect("code")
            .to_string();
        orders.push((o.out_trade_no, code));
    }
    // Each order is paid in both instances' wallets at once: one payment, one delivery.
    let http = client();
    let mut presses = Vec::new();
    for (_, code) in &orders {
        for base in [&a.base, &b.base] {
            let req = http
                .post(format!("{base}/sandbox/pay/{code}/pay"))
                .header("Origin", &a.base)
                .send();
            presses.push(tokio::spawn(req));
        }
    }
    for p in presses {
        let resp = p.await.expect("join").expect("press");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    let store = &a.state.store;
    let deadline = Instant::now() + Duration::from_secs(30);
    for (no, _) in &orders {
        loop {
            let d = store.sandbox_deliveries(Some(no)).await.expect("list");
            assert_eq!(d.len(), 1, "{no}: one payment, one delivery: {d:?}");
            if d[0].status == SandboxDeliveryStatus::Acknowledged {
                break;
            }
            assert!(Instant::now() < deadline, "{no}: not delivered: {d:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let o = store.order(no).await.expect("read").expect("order");
        assert_eq!(o.status, OrderStatus::Paid, "{no}");
        let events = store.order_events(&o.id).await.expect("events");
        assert_eq!(
            events.iter().filter(|e| e.kind == "paid").count(),
            1,
            "{no}"
        );
        // Sent once: the instances never both claimed it.
        let inbox = store
            .notifications(&paydesk_core::store::InboxFilter {
                out_trade_no: Some(no.clone()),
                limit: 10,
                ..Default::default()
            })
            .await
            .expect("inbox");
        assert_eq!(inbox.len(), 1, "{no}: {inbox:?}");
    }
    a.state.sandbox.shutdown().await;
    b.state.sandbox.shutdown().await;
    a.state.store.close().await;
    b.state.store.close().await;
    pg.drop().await;
}
