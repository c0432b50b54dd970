//! The mounted sandboxes, through the real application router on a socket: the real
//! provider clients create orders at `/sandbox/{alipay,wechatpay,stripe}`, a browser opens
//! the wallet page from the QR content and presses Pay (a plain form post), and a local
//! merchant endpoint — failing the first deliveries — receives a notification that the
//! client verifies. Also Cancel, keys surviving a restart, and the call log.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::alipay::AlipayClient;
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::stripe::StripeClient;
use paydesk_core::provider::wechatpay::WechatPayClient;
use paydesk_core::provider::{
    CallSink, CreateQrRequest, NotifyEvent, Provider, SystemClock, TradeRef, TradeState, for_trade,
};
use paydesk_core::sandbox::serve_local;
use paydesk_core::sandbox::set::SandboxSet;
use paydesk_core::store::{CallFilter, StoreCallSink};
use paydesk_core::time::now_ms;
use tokio::sync::mpsc;

mod support;

use support::TestApp as Server;

/// Starts the whole application on 127.0.0.1:0 with its data (SQLite) in `dir`.
async fn start(dir: &Path, stripe_webhook_url: Option<String>) -> Server {
    support::spawn_app(dir, stripe_webhook_url).await
}

impl Server {
    async fn sandboxes(&self) -> Arc<SandboxSet> {
        self.state.sandbox.get().await.expect("sandbox keys")
    }
}

/// A merchant notify endpoint that answers the first `failures` deliveries with the given
/// (wrong) answers, then acknowledges with `ack` and hands the delivery to the test.
struct Receiver {
    url: String,
    hits: Arc<AtomicUsize>,
    got: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
}

async fn receiver(
    failures: Vec<(StatusCode, &'static str)>,
    ack: (StatusCode, &'static str),
) -> Receiver {
    let hits = Arc::new(AtomicUsize::new(0));
    let (tx, got) = mpsc::unbounded_channel();
    let counter = hits.clone();
    let router = Router::new().route(
        "/notify",
        post(move |headers: HeaderMap, body: Bytes| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let reply = match failures.get(n) {
                Some(fail) => *fail,
                None => {
                    let _ = tx.send((headers, body));
                    ack
                }
            };
            async move { reply.into_response() }
        }),
    );
    let base = serve_local(router).await.expect("receiver");
    Receiver {
        url: format!("{base}/notify"),
        hits,
        got,
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser")
}

fn order(no: &str, minor: i64, currency: Currency, notify_url: &str) -> CreateQrRequest {
    CreateQrRequest {
        out_trade_no: no.into(),
        amount: Money::new(minor, currency).expect("money"),
        subject: "Jasmine tea 茉莉花茶 <b>".into(),
        notify_url: notify_url.into(),
        expires_at: None,
    }
}

/// Opens the wallet page from the QR content and presses a button, like a phone would.
async fn press(server: &Server, qr: &str, button: &str) -> reqwest::Response {
    let resp = browser()
        .post(format!("{qr}/{button}"))
        .header("Origin", &server.base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "text/html")
        .body("")
        .send()
        .await
        .expect("press");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{button}");
    resp
}

async fn wallet(qr: &str, accept_language: &str) -> String {
    let resp = browser()
        .get(qr)
        .header("Accept-Language", accept_language)
        .send()
        .await
        .expect("wallet");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.expect("html")
}

/// The whole story for one provider: create → wallet → Pay → notification delivered
/// after two failures → verified by the client → query says paid.
async fn pay_story(server: &Server, client: &dyn Provider, mut rx: Receiver, req: CreateQrRequest) {
    let qr = client.create_qr(&req).await.expect("create_qr");
    let prefix = format!("{}/sandbox/pay/", server.base);
    assert!(qr.qr_content.starts_with(&prefix), "{}", qr.qr_content);

    let en = wallet(&qr.qr_content, "en-US,en;q=0.9").await;
    assert!(
        en.contains("Jasmine tea 茉莉花茶 &lt;b&gt;"),
        "subject, escaped: {en}"
    );
    assert!(
        en.contains(&req.amount.to_string()),
        "amount with currency: {en}"
    );
    assert!(en.contains(">Pay<") && en.contains(">Cancel<"), "{en}");
    let zh = wallet(&qr.qr_content, "zh-CN,zh;q=0.9").await;
    assert!(zh.contains(">付款<") && zh.contains(">取消<"), "{zh}");

    press(server, &qr.qr_content, "pay").await;
    let (headers, body) = tokio::time::timeout(Duration::from_secs(10), rx.got.recv())
        .await
        .expect("notification within 10 s")
        .expect("delivered");
    assert_eq!(
        rx.hits.load(Ordering::SeqCst),
        3,
        "two failures, then the ack"
    );
    let event = client
        .parse_notify(&headers, &body, now_ms() / 1000)
        .await
        .expect("the client verifies the notification");
    match event {
        NotifyEvent::Paid {
            out_trade_no,
            amount,
            ..
        } => {
            assert_eq!(out_trade_no, req.out_trade_no);
            assert_eq!(amount, req.amount);
        }
        other => panic!("expected Paid, got {other:?}"),
    }
    let trade = TradeRef {
        out_trade_no: req.out_trade_no.clone(),
        provider_ref: qr.provider_ref.clone(),
    };
    assert_eq!(
        client.query(&trade).await.expect("query").state,
        TradeState::Paid
    );

    // Acknowledged: no more deliveries. The page now says paid and offers no button.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits.load(Ordering::SeqCst), 3);
    let after = wallet(&qr.qr_content, "en").await;
    assert!(
        after.contains("Paid.") && !after.contains(">Pay<"),
        "{after}"
    );
    // Pressing Pay again changes nothing and sends nothing.
    press(server, &qr.qr_content, "pay").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.hits.load(Ordering::SeqCst), 3);
}

fn fast_http() -> HttpSettings {
    HttpSettings {
        backoff_base: Duration::from_millis(5),
        ..HttpSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alipay_wallet_pay_delivers_a_verified_notification_after_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), None).await;
    let keys = server.sandboxes().await.keys.clone();
    let (sink, writer) = StoreCallSink::spawn(server.state.store.clone());
    let client = AlipayClient::new(
        keys.alipay.client_config(
            "sandbox",
            &format!("{}/sandbox/alipay/gateway.do", server.base),
        ),
        fast_http(),
        sink.clone() as Arc<dyn CallSink>,
        Arc::new(SystemClock),
    )
    .expect("client");
    // Alipay retries until the body is exactly `success`: a 500 and a 200 "fail" are not it.
    let rx = receiver(
        vec![
            (StatusCode::INTERNAL_SERVER_ERROR, "busy"),
            (StatusCode::OK, "fail"),
        ],
        (StatusCode::OK, "success"),
    )
    .await;
    let req = order("ALI-1", 12345, Currency::Cny, &rx.url);
    for_trade("ALI-1", pay_story(&server, &client, rx, req)).await;

    // Every call the client made is in the log, linked to the order, URL masked.
    drop(client);
    drop(sink);
    writer.shutdown().await;
    let calls = server
        .state
        .store
        .provider_calls(&CallFilter {
            out_trade_no: Some("ALI-1".into()),
            limit: 50,
            ..CallFilter::default()
        })
        .await
        .expect("calls");
    let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    assert!(
        ops.contains(&"precreate") && ops.contains(&"query"),
        "{ops:?}"
    );
    assert!(
        calls
            .iter()
            .all(|c| c.status == Some(200) && c.provider == "alipay")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechatpay_wallet_pay_delivers_an_encrypted_verified_notification_after_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), None).await;
    let keys = server.sandboxes().await.keys.clone();
    let client = WechatPayClient::new(
        keys.wechatpay
            .client_config("sandbox", &format!("{}/sandbox/wechatpay", server.base)),
        fast_http(),
        Arc::new(paydesk_core::provider::NullSink),
        Arc::new(SystemClock),
    )
    .expect("client");
    let rx = receiver(
        vec![
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"code":"FAIL","message":"busy"}"#,
            ),
            (StatusCode::BAD_REQUEST, r#"{"code":"FAIL","message":"no"}"#),
        ],
        (StatusCode::NO_CONTENT, ""),
    )
    .await;
    let req = order("WX-1", 888, Currency::Cny, &rx.url);
    pay_story(&server, &client, rx, req).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_wallet_pay_delivers_a_signed_event_after_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Stripe sends events to the endpoint configured for the account, not to a URL in the
    // request; the sandbox's endpoint is pointed at the receiver.
    let rx = receiver(
        vec![
            (StatusCode::BAD_GATEWAY, ""),
            (StatusCode::INTERNAL_SERVER_ERROR, ""),
        ],
        (StatusCode::OK, "{}"),
    )
    .await;
    let server = start(dir.path(), Some(rx.url.clone())).await;
    let keys = server.sandboxes().await.keys.clone();
    let client = StripeClient::new(
        keys.stripe.client_config(
            "sandbox",
            &format!("{}/sandbox/stripe", server.base),
            &format!("{}/", server.base),
        ),
        fast_http(),
        Arc::new(paydesk_core::provider::NullSink),
        Arc::new(SystemClock),
    )
    .expect("client");
    let req = order("ST-1", 2500, Currency::Usd, "");
    pay_story(&server, &client, rx, req).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_closes_the_order_and_sends_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), None).await;
    let keys = server.sandboxes().await.keys.clone();
    let client = AlipayClient::new(
        keys.alipay.client_config(
            "sandbox",
            &format!("{}/sandbox/alipay/gateway.do", server.base),
        ),
        fast_http(),
        Arc::new(paydesk_core::provider::NullSink),
        Arc::new(SystemClock),
    )
    .expect("client");
    let rx = receiver(Vec::new(), (StatusCode::OK, "success")).await;
    let qr = client
        .create_qr(&order("ALI-C", 100, Currency::Cny, &rx.url))
        .await
        .expect("create");
    let resp = press(&server, &qr.qr_content, "cancel").await;
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(qr.qr_content.ends_with(&location), "{location}");
    let page = wallet(&qr.qr_content, "zh-CN").await;
    assert!(
        page.contains("该订单已关闭") && !page.contains(">付款<"),
        "{page}"
    );
    assert_eq!(
        client
            .query(&TradeRef::new("ALI-C"))
            .await
            .expect("query")
            .state,
        TradeState::Closed
    );
    // Pay after cancel: refused by the ledger, the page still says closed, nothing is sent.
    press(&server, &qr.qr_content, "pay").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.hits.load(Ordering::SeqCst), 0);
    // Unknown codes get a clear page, not a panic or a redirect to /login.
    let missing = browser()
        .get(format!("{}/sandbox/pay/ali_nope", server.base))
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_survive_a_restart_and_never_show_in_debug() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = start(dir.path(), None).await;
    let k1 = first.sandboxes().await.keys.clone();
    let second = start(dir.path(), None).await;
    let k2 = second.sandboxes().await.keys.clone();
    assert_eq!(
        k1.alipay.alipay_public_key_pem().expect("pem"),
        k2.alipay.alipay_public_key_pem().expect("pem")
    );
    assert_eq!(
        k1.wechatpay.platform_public_key_pem().expect("pem"),
        k2.wechatpay.platform_public_key_pem().expect("pem")
    );
    assert_eq!(k1.wechatpay.public_key_id, k2.wechatpay.public_key_id);
    assert_eq!(k1.stripe.webhook_secret, k2.stripe.webhook_secret);

    // A channel configured from the first instance's keys works against the second.
    let client = AlipayClient::new(
        k1.alipay.client_config(
            "sandbox",
            &format!("{}/sandbox/alipay/gateway.do", second.base),
        ),
        fast_http(),
        Arc::new(paydesk_core::provider::NullSink),
        Arc::new(SystemClock),
    )
    .expect("client");
    client
        .create_qr(&order("ALI-R", 1, Currency::Cny, "http://127.0.0.1:9/n"))
        .await
        .expect("second instance accepts the stored merchant key");

    // At rest the keys are sealed under the master key, created 0600 in the data dir.
    assert!(dir.path().join("master.key").exists());
    let row = first
        .state
        .store
        .sandbox_secrets("alipay")
        .await
        .expect("read")
        .expect("row");
    assert!(!row.expose().contains("PRIVATE KEY") && row.expose().starts_with("v1:"));

    let debug = format!("{k1:?} {:?}", first.state.sandbox);
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    assert!(
        !debug.contains(k1.stripe.webhook_secret.expose()),
        "{debug}"
    );
    assert!(!debug.contains(k1.wechatpay.apiv3_key.expose()), "{debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_pending_retries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), None).await;
    let keys = server.sandboxes().await.keys.clone();
    let client = AlipayClient::new(
        keys.alipay.client_config(
            "sandbox",
            &format!("{}/sandbox/alipay/gateway.do", server.base),
        ),
        fast_http(),
        Arc::new(paydesk_core::provider::NullSink),
        Arc::new(SystemClock),
    )
    .expect("client");
    // Never acknowledges.
    let rx = receiver(
        vec![(StatusCode::OK, "fail"); 100],
        (StatusCode::OK, "success"),
    )
    .await;
    let qr = client
        .create_qr(&order("ALI-S", 100, Currency::Cny, &rx.url))
        .await
        .expect("create");
    press(&server, &qr.qr_content, "pay").await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    tokio::time::timeout(Duration::from_secs(5), server.state.sandbox.shutdown())
        .await
        .expect("shutdown finishes promptly");
    let seen = rx.hits.load(Ordering::SeqCst);
    assert!(seen >= 1, "delivery started");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rx.hits.load(Ordering::SeqCst),
        seen,
        "no attempts after shutdown"
    );
}
