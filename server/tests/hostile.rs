//! What strangers send: garbage notifications, sign-in and API-key floods, malformed
//! server-function calls, framing; and the headers every answer carries.

mod support;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus};
use paydesk_core::payments::CheckoutRequest;
use paydesk_server::rate_limit::{RateLimitSettings, RateLimits};
use sqlx::Row;
use std::net::SocketAddr;
use std::time::Duration;
use support::oneshot::RouterApp;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_notifications_get_4xx_are_kept_truncated_and_bounded_but_real_ones_pass() {
    let dir = tempfile::tempdir().expect("dir");
    let app = support::spawn_app(dir.path(), None).await;
    let http = client();
    let garbage = "x".repeat(60_000);
    let mut statuses = Vec::new();
    for provider in ["alipay", "wechatpay"] {
        for _ in 0..20 {
            let r = http
                .post(format!("{}/notify/{provider}/{provider}-sandbox", app.base))
                .header(header::CONTENT_TYPE, "application/json")
                .body(garbage.clone())
                .send()
                .await
                .expect("post");
            statuses.push(r.status().as_u16());
        }
    }
    // The default quota is 30 rejected notifications a minute per address: then 429.
    assert!(
        statuses.iter().all(|s| *s == 400 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        30,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 10);
    let rows = sqlx::query("SELECT body FROM notify_inbox WHERE status = 'rejected'")
        .fetch_all(app.state.store.pool())
        .await
        .expect("inbox");
    assert_eq!(rows.len(), 30, "limited ones are not stored");
    for row in rows {
        let body: String = row.try_get("body").expect("body");
        assert!(body.len() < 2_200, "kept truncated: {} bytes", body.len());
    }

    // A real notification from the same address (the sandbox on 127.0.0.1) is never
    // refused for rate.
    let order = app
        .state
        .payments
        .create_checkout(CheckoutRequest {
            channel: "alipay-sandbox".into(),
            amount: Money::new(1000, Currency::Cny).expect("cny"),
            subject: "tea".into(),
            out_trade_no: None,
            expires_in_secs: None,
            merchant_notify_url: None,
            api_key_id: None,
            cause: Cause::User("m1".into()),
        })
        .await
        .expect("checkout");
    let qr = order.qr_code.clone().expect("qr");
    let paid = http
        .post(format!("{qr}/pay"))
        .header("Origin", &app.base)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status().as_u16(), 303);
    for _ in 0..200 {
        let o = app
            .state
            .store
            .order(&order.out_trade_no)
            .await
            .expect("read")
            .expect("order");
        if o.status == OrderStatus::Paid {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the verified notification was not applied");
}

/// A request as if it came over a socket from `ip`.
fn from(ip: [u8; 4], req: axum::http::request::Builder, body: &str) -> Request<Body> {
    let mut req = req.body(Body::from(body.to_string())).expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    req
}

async fn limited_app() -> RouterApp {
    RouterApp::build(
        |_| {},
        |state| {
            state.rate_limits = RateLimits::new(&RateLimitSettings {
                login_per_minute: 3,
                api_auth_failures_per_minute: 2,
                ..RateLimitSettings::default()
            })
        },
    )
    .await
}

#[tokio::test]
async fn sign_in_posts_are_limited_per_address_and_nothing_is_stored_for_the_excess() {
    let app = limited_app().await;
    let login = || {
        Request::post("/auth/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
    };
    for _ in 0..3 {
        let r = app
            .send(from(
                [10, 0, 0, 5],
                login(),
                "username=admin&password=wrong-guess",
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    let r = app
        .send(from(
            [10, 0, 0, 5],
            login(),
            "username=admin&password=wrong-guess",
        ))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.body.contains("Wait a minute") && r.body.contains("请等待"),
        "{}",
        r.body
    );
    let failures = app
        .store
        .recent_audit(50)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "login_failed")
        .count();
    assert_eq!(failures, 3, "the limited attempt was not recorded");
    // Another address is not affected.
    let form = format!("username=admin&password={}", app.admin_password);
    let r = app.send(from([10, 0, 0, 6], login(), &form)).await;
    assert_eq!(r.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn failed_api_authentications_are_limited_per_address() {
    let app = limited_app().await;
    let call =
        || Request::get("/api/v1/orders/X-1").header(header::AUTHORIZATION, "Bearer pdk_wrong");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.send(from([10, 0, 0, 7], call(), "")).await.status);
    }
    assert_eq!(
        statuses,
        [401, 401, 429, 429].map(|s| StatusCode::from_u16(s).expect("status"))
    );
    let r = app.send(from([10, 0, 0, 7], call(), "")).await;
    assert!(r.body.contains("rate_limited"), "{}", r.body);
}

#[tokio::test]
async fn malformed_server_function_arguments_are_the_callers_mistake() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    for (name, form) in [
        ("order_detail", ""),
        ("order_detail", "no[]=%FF"),
        ("set_user_disabled", "username=admin&disabled=maybe"),
    ] {
        let r = app.rpc(name, form, Some(&admin)).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{name} {form}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_every_answer_the_security_headers() {
    let app = RouterApp::new().await;
    let res = app.router.clone().oneshot_get("/login").await;
    let csp = res.headers.get("content-security-policy").expect("csp");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a nonce in the policy");
    assert!(nonce.len() >= 16, "{csp}");
    assert!(
        res.body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the policy's nonce"
    );
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // A second render gets another nonce.
    let again = app.router.clone().oneshot_get("/login").await;
    assert_ne!(again.headers.get("content-security-policy"), Some(csp));
    for path in ["/login", "/", "/healthz", "/api/v1/orders/X"] {
        let r = app.router.clone().oneshot_get(path).await;
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
        ] {
            assert_eq!(
                r.headers.get(name).map(String::as_str),
                Some(value),
                "{path} {name}"
            );
        }
        assert!(r.headers.contains_key("content-security-policy"), "{path}");
        assert!(
            !r.headers.contains_key("strict-transport-security"),
            "plain http"
        );
    }
    let https = RouterApp::with_public_url(Some("https://pay.example.com")).await;
    let r = https.router.clone().oneshot_get("/healthz").await;
    assert!(
        r.headers
            .get("strict-transport-security")
            .is_some_and(|v| v.starts_with("max-age=")),
        "HSTS behind an https public URL"
    );
}

/// Status, headers (lower-case names, first value) and body of a GET.
struct Got {
    headers: std::collections::HashMap<String, String>,
    body: String,
}

trait OneshotGet {
    async fn oneshot_get(self, path: &str) -> Got;
}

impl OneshotGet for axum::Router {
    async fn oneshot_get(self, path: &str) -> Got {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let res = self
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let mut headers = std::collections::HashMap::new();
        for (k, v) in res.headers() {
            headers
                .entry(k.as_str().to_string())
                .or_insert_with(|| v.to_str().unwrap_or("").to_string());
        }
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Got {
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}
