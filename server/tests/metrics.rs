//! `/metrics`: Prometheus text with counters from real traffic and gauges from the
//! database, served to this machine or to the token holder only.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::Cause;
use paydesk_core::payments::CheckoutRequest;
use paydesk_server::startup::app;
use tower::ServiceExt;

mod support;

async fn scrape(base: &str, forwarded: bool) -> (reqwest::StatusCode, String) {
    scrape_via(base, forwarded.then_some("x-forwarded-for")).await
}

/// A scrape relayed by a local proxy that adds only `header`.
async fn scrape_via(base: &str, header: Option<&str>) -> (reqwest::StatusCode, String) {
    let mut req = reqwest::Client::new().get(format!("{base}/metrics"));
    if let Some(h) = header {
        req = req.header(h, "203.0.113.9");
    }
    let resp = req.send().await.expect("scrape");
    (resp.status(), resp.text().await.expect("text"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_real_traffic_and_stay_private() {
    let dir = tempfile::tempdir().expect("dir");
    let test = support::spawn_app(dir.path(), None).await;
    let order = test
        .state
        .payments
        .create_checkout(CheckoutRequest {
            channel: "wechatpay-sandbox".into(),
            amount: Money::new(100, Currency::Cny).expect("cny"),
            subject: "tea".into(),
            out_trade_no: None,
            expires_in_secs: None,
            api_key_id: None,
            merchant_notify_url: None,
            cause: Cause::User("m1".into()),
        })
        .await
        .expect("checkout");
    // The wallet pays it; the sandbox sends the signed notification to /notify/….
    let qr = order.qr_code.clone().expect("qr");
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{qr}/pay"))
        .header("Origin", &test.base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("pay");
    assert_eq!(resp.status().as_u16(), 303, "the wallet took the payment");
    let mut text = String::new();
    for _ in 0..100 {
        let (status, body) = scrape(&test.base, false).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        text = body;
        if text.contains(r#"paydesk_notifications_total{provider="wechatpay",verdict="applied"} 1"#)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for needle in [
        r#"paydesk_notifications_total{provider="wechatpay",verdict="applied"} 1"#,
        r#"paydesk_order_transitions_total{kind="paid"}"#,
        r#"paydesk_provider_calls_total{provider="wechatpay",operation="#,
        "paydesk_provider_call_duration_seconds_bucket",
        r#"paydesk_http_request_duration_seconds_bucket{method="POST",route="/notify/{provider}/{channel}",status="204""#,
        "paydesk_pending_orders 0",
        "paydesk_merchant_notification_backlog 0",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
    // No order number or other caller-chosen text becomes a label.
    assert!(!text.contains(&order.out_trade_no));

    // Through a proxy (public visitor): refused.
    let (status, _) = scrape(&test.base, true).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    // Proxies that say whom they relay for in another header are relays too.
    for header in ["x-real-ip", "forwarded", "cf-connecting-ip"] {
        let (status, _) = scrape_via(&test.base, Some(header)).await;
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{header}");
    }

    // With a token configured, only the bearer may read, from anywhere.
    let mut state = test.state.clone();
    let mut config = (*state.config).clone();
    config.settings.metrics_token = Some("scrape-token-123".into());
    state.config = Arc::new(config);
    let router = app(state);
    let get = |auth: Option<&str>| {
        let mut b = Request::get("/metrics");
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        b.body(Body::empty()).expect("request")
    };
    let resp = router.clone().oneshot(get(None)).await.expect("call");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = router
        .clone()
        .oneshot(get(Some("Bearer wrong")))
        .await
        .expect("call");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = router
        .oneshot(get(Some("Bearer scrape-token-123")))
        .await
        .expect("call");
    assert_eq!(resp.status(), StatusCode::OK);
}
