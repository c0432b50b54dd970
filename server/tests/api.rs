//! The merchant API through the real application on a socket, with the built-in sandbox
//! gateways: create (idempotent), read, list, other keys, errors, close; pay through the
//! sandbox wallet, refund, over-refund; and the OpenAPI document covering every route.

use std::path::Path;
use std::time::{Duration, Instant};

use paydesk_core::vault::MasterKey;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod support;

struct Server {
    base: String,
    state: paydesk_server::startup::AppState,
    http: reqwest::Client,
}

async fn start(dir: &Path) -> Server {
    let app = support::spawn_app(dir, None).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    Server {
        base: app.base,
        state: app.state,
        http,
    }
}

impl Server {
    async fn api_key(&self, name: &str) -> String {
        let master = MasterKey::load(&self.state.config.settings.data_dir).expect("master key");
        self.state
            .store
            .create_api_key(name, "test", &master)
            .await
            .expect("api key")
            .secret
    }

    /// Sends a request; returns status, headers and the body as JSON (`Null` if empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        if let Some(i) = idempotency_key {
            req = req.header("Idempotency-Key", i);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        (status, headers, json)
    }

    async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.call(Method::GET, path, Some(key), None, None).await;
        (s, v)
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let (s, _, v) = self
            .call(Method::POST, path, Some(key), Some(&body.to_string()), None)
            .await;
        (s, v)
    }

    /// Polls the order until `status`, for at most 10 s.
    async fn wait_for_status(&self, key: &str, out_trade_no: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (s, o) = self
                .get(&format!("/api/v1/orders/{out_trade_no}"), key)
                .await;
            assert_eq!(s, StatusCode::OK, "{o}");
            if o["status"] == status {
                return o;
            }
            assert!(
                Instant::now() < deadline,
                "order not {status} within 10 s: {o}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {v}"))
}

fn assert_error(status: StatusCode, v: &Value, want_status: StatusCode, want_code: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(error_code(v), want_code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_replay_get_list_isolate_and_close() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let key = server.api_key("pos-1").await;
    let other = server.api_key("shop-2").await;

    // Create, with an Idempotency-Key.
    let body = json!({"channel": "wechatpay-sandbox", "amount": 1234, "currency": "CNY",
                      "subject": "Jasmine tea", "notify_url": "https://shop.example/paydesk"})
    .to_string();
    let (status, headers, created) = server
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(&key),
            Some(&body),
            Some("idem-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(headers.get("idempotent-replayed").is_none());
    let no = created["out_trade_no"]
        .as_str()
        .expect("out_trade_no")
        .to_string();
    assert_eq!(created["status"], "pending");
    assert_eq!(created["amount"], 1234);
    assert_eq!(created["currency"], "CNY");
    assert_eq!(created["channel"], "wechatpay-sandbox");
    assert_eq!(created["refunded_amount"], 0);
    assert_eq!(created["refundable_amount"], 0);
    assert!(created["created_at"].is_i64() && created["expires_at"].is_i64());
    let qr = created["qr_code"].as_str().expect("qr_code");
    assert!(
        qr.starts_with(&format!("{}/sandbox/pay/", server.base)),
        "{qr}"
    );

    // The same key and body: the same response, no second order.
    let (status, headers, replay) = server
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(&key),
            Some(&body),
            Some("idem-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay, created);
    assert_eq!(
        headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    // The same key with another body: refused.
    let other_body = json!({"channel": "wechatpay-sandbox", "amount": 999, "currency": "CNY",
                            "subject": "Jasmine tea"})
    .to_string();
    let (status, _, v) = server
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(&key),
            Some(&other_body),
            Some("idem-1"),
        )
        .await;
    assert_error(
        status,
        &v,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    );
    // Keys are per API key: another key may use the same Idempotency-Key.
    let (status, _, v) = server
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(&other),
            Some(&other_body),
            Some("idem-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let others_no = v["out_trade_no"].as_str().expect("no").to_string();

    // Read and list.
    let (status, got) = server.get(&format!("/api/v1/orders/{no}"), &key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, created);
    let (status, page) = server.get("/api/v1/orders", &key).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let data = page["data"].as_array().expect("data");
    assert_eq!(
        data.len(),
        1,
        "one order for this key, despite the replay: {page}"
    );
    assert_eq!(data[0]["out_trade_no"], no.as_str());
    assert!(page["next_cursor"].is_null());
    let (_, page) = server.get("/api/v1/orders?status=paid", &key).await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(0), "{page}");
    let (status, v) = server.get("/api/v1/orders?status=bogus", &key).await;
    assert_error(status, &v, StatusCode::BAD_REQUEST, "invalid_request");

    // Another key sees neither the order nor it in its list, and cannot close it.
    let (status, v) = server.get(&format!("/api/v1/orders/{no}"), &other).await;
    assert_error(status, &v, StatusCode::NOT_FOUND, "order_not_found");
    let (status, v) = server
        .post(&format!("/api/v1/orders/{no}/close"), &other, &json!({}))
        .await;
    assert_error(status, &v, StatusCode::NOT_FOUND, "order_not_found");
    let (_, page) = server.get("/api/v1/orders", &other).await;
    let nos: Vec<&str> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|o| o["out_trade_no"].as_str())
        .collect();
    assert_eq!(nos, vec![others_no.as_str()]);

    // No key, a wrong key, a malformed header: 401 JSON with WWW-Authenticate.
    for auth in [None, Some("pdk_wrong"), Some("not-even-a-key")] {
        let (status, headers, v) = server
            .call(
                Method::GET,
                &format!("/api/v1/orders/{no}"),
                auth,
                None,
                None,
            )
            .await;
        assert_error(status, &v, StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(
            headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer")),
            "{headers:?}"
        );
    }
    let (status, _, v) = server
        .call(
            Method::POST,
            "/api/v1/orders",
            None,
            Some(&body),
            Some("idem-x"),
        )
        .await;
    assert_error(status, &v, StatusCode::UNAUTHORIZED, "unauthorized");

    // Bad input: JSON errors with 4xx.
    let bad = |amount: Value, currency: &str| {
        json!({"channel": "wechatpay-sandbox", "amount": amount, "currency": currency,
               "subject": "x"})
    };
    for (body, code) in [
        (bad(json!(12.34), "CNY"), "invalid_request"),
        (bad(json!("1234"), "CNY"), "invalid_request"),
        (bad(json!(-1), "CNY"), "invalid_request"),
        (bad(json!(0), "CNY"), "invalid_request"),
        (bad(json!(100), "XYZ"), "invalid_request"),
        (bad(json!(100), "USD"), "invalid_request"),
    ] {
        let (status, v) = server.post("/api/v1/orders", &key, &body).await;
        assert_error(status, &v, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let (status, _, v) = server
        .call(
            Method::POST,
            "/api/v1/orders",
            Some(&key),
            Some("{not json"),
            None,
        )
        .await;
    assert_error(status, &v, StatusCode::BAD_REQUEST, "invalid_json");
    let (status, v) = server
        .post(
            "/api/v1/orders",
            &key,
            &json!({"channel": "nope", "amount": 1, "currency": "CNY", "subject": "x"}),
        )
        .await;
    assert_error(status, &v, StatusCode::NOT_FOUND, "channel_not_found");
    let (status, v) = server
        .post(
            "/api/v1/orders",
            &key,
            &json!({"channel": "wechatpay-sandbox", "amount": 1, "currency": "CNY",
                    "subject": "x", "out_trade_no": no}),
        )
        .await;
    assert_error(status, &v, StatusCode::CONFLICT, "duplicate_out_trade_no");
    let huge = json!({"channel": "wechatpay-sandbox", "amount": 1, "currency": "CNY",
                      "subject": "x".repeat(70_000)});
    let (status, v) = server.post("/api/v1/orders", &key, &huge).await;
    assert_error(
        status,
        &v,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let (status, v) = server.get("/api/v1/nothing-here", &key).await;
    assert_error(status, &v, StatusCode::NOT_FOUND, "not_found");

    // Close the pending order; closing again is not allowed.
    let (status, closed) = server
        .post(&format!("/api/v1/orders/{no}/close"), &key, &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_i64());
    let (status, v) = server
        .post(&format!("/api/v1/orders/{no}/close"), &key, &json!({}))
        .await;
    assert_error(status, &v, StatusCode::CONFLICT, "not_allowed");
    let (_, page) = server.get("/api/v1/orders?status=closed", &key).await;
    assert_eq!(page["data"][0]["out_trade_no"], no.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_in_the_sandbox_wallet_then_refund() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let key = server.api_key("pos-1").await;
    let other = server.api_key("shop-2").await;

    let (status, order) = server
        .post(
            "/api/v1/orders",
            &key,
            &json!({"channel": "wechatpay-sandbox", "amount": 1000, "currency": "cny",
                    "subject": "Oolong", "out_trade_no": "API-PAY-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let qr = order["qr_code"].as_str().expect("qr").to_string();
    let code = qr.rsplit('/').next().expect("code");

    // Refunding an unpaid order is not allowed.
    let (status, v) = server
        .post(
            "/api/v1/orders/API-PAY-1/refunds",
            &key,
            &json!({"amount": 100}),
        )
        .await;
    assert_error(status, &v, StatusCode::CONFLICT, "not_allowed");

    // The payer presses Pay on the wallet page; the notification marks the order paid.
    let pressed = server
        .http
        .post(format!("{}/sandbox/pay/{code}/pay", server.base))
        .header("Origin", &server.base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "text/html")
        .body("")
        .send()
        .await
        .expect("pay");
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    let paid = server.wait_for_status(&key, "API-PAY-1", "paid").await;
    assert!(
        paid["paid_at"].is_i64() && paid["provider_trade_no"].is_string(),
        "{paid}"
    );
    assert_eq!(paid["refundable_amount"], 1000);

    // A partial refund, with an Idempotency-Key and our own number.
    let body = json!({"amount": 300, "reason": "one cup missing", "out_refund_no": "API-RF-1"})
        .to_string();
    let (status, _, refund) = server
        .call(
            Method::POST,
            "/api/v1/orders/API-PAY-1/refunds",
            Some(&key),
            Some(&body),
            Some("refund-1"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    assert_eq!(refund["out_refund_no"], "API-RF-1");
    assert_eq!(refund["out_trade_no"], "API-PAY-1");
    assert_eq!(refund["amount"], 300);
    assert_eq!(refund["currency"], "CNY");
    assert_eq!(refund["reason"], "one cup missing");
    let (status, _, again) = server
        .call(
            Method::POST,
            "/api/v1/orders/API-PAY-1/refunds",
            Some(&key),
            Some(&body),
            Some("refund-1"),
        )
        .await;
    assert_eq!((status, &again), (StatusCode::CREATED, &refund));

    // The refund settles (at once or via the provider's notification).
    let deadline = Instant::now() + Duration::from_secs(10);
    let settled = loop {
        let (status, r) = server.get("/api/v1/refunds/API-RF-1", &key).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        if r["status"] != "pending" {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "refund still pending after 10 s: {r}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(settled["status"], "succeeded", "{settled}");
    let (status, v) = server.get("/api/v1/refunds/API-RF-1", &other).await;
    assert_error(status, &v, StatusCode::NOT_FOUND, "refund_not_found");
    let (status, v) = server.get("/api/v1/refunds/NO-SUCH-RF", &key).await;
    assert_error(status, &v, StatusCode::NOT_FOUND, "refund_not_found");

    let order = server
        .wait_for_status(&key, "API-PAY-1", "partially_refunded")
        .await;
    assert_eq!(order["refunded_amount"], 300);
    assert_eq!(order["refundable_amount"], 700);

    // More than what is left: not allowed. Another key: no such order.
    let (status, v) = server
        .post(
            "/api/v1/orders/API-PAY-1/refunds",
            &key,
            &json!({"amount": 701}),
        )
        .await;
    assert_error(status, &v, StatusCode::CONFLICT, "not_allowed");
    let (status, v) = server
        .post(
            "/api/v1/orders/API-PAY-1/refunds",
            &other,
            &json!({"amount": 1}),
        )
        .await;
    assert_error(status, &v, StatusCode::NOT_FOUND, "order_not_found");
    let (status, v) = server
        .post(
            "/api/v1/orders/API-PAY-1/refunds",
            &key,
            &json!({"amount": 1.5}),
        )
        .await;
    assert_error(
        status,
        &v,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    // Closing a paid order is not allowed.
    let (status, v) = server
        .post("/api/v1/orders/API-PAY-1/close", &key, &json!({}))
        .await;
    assert_error(status, &v, StatusCode::CONFLICT, "not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_idempotency_key_create_one_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let key = server.api_key("pos-1").await;
    let body = json!({"channel": "alipay-sandbox", "amount": 500, "currency": "CNY",
                      "subject": "Pu-erh"})
    .to_string();
    let calls = (0..4).map(|_| {
        server.call(
            Method::POST,
            "/api/v1/orders",
            Some(&key),
            Some(&body),
            Some("same"),
        )
    });
    let results = futures_join_all(calls).await;
    let mut created = Vec::new();
    for (status, _, v) in &results {
        match *status {
            StatusCode::CREATED => created.push(v["out_trade_no"].clone()),
            StatusCode::CONFLICT => assert_eq!(error_code(v), "idempotency_in_progress"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(!created.is_empty());
    assert!(created.iter().all(|n| *n == created[0]), "{created:?}");
    let (_, page) = server.get("/api/v1/orders", &key).await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{page}");
}

/// Runs futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("done")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_is_in_the_openapi_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let (status, headers, doc) = server
        .call(Method::GET, "/api/v1/openapi.json", None, None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    );
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["webhooks"].as_object().is_some_and(|w| !w.is_empty()));
    let documented = doc["paths"].as_object().expect("paths");

    // Ask the router which methods each API path serves (anything but 405), and check
    // each is documented — and that each documented operation is served.
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    for path in paydesk_server::merchant_api::paths() {
        let concrete = path
            .replace("{out_trade_no}", "SOME-ORDER")
            .replace("{out_refund_no}", "SOME-REFUND");
        assert!(!concrete.contains('{'), "unknown parameter in {path}");
        let ops = documented
            .get(path)
            .unwrap_or_else(|| panic!("{path} is served but not documented"));
        for m in &methods {
            let (status, _, _) = server.call(m.clone(), &concrete, None, None, None).await;
            let served = status != StatusCode::METHOD_NOT_ALLOWED;
            let doc_has = ops.get(m.as_str().to_ascii_lowercase()).is_some();
            assert_eq!(
                served, doc_has,
                "{m} {path}: served {served}, documented {doc_has}"
            );
        }
    }
    for path in documented.keys() {
        assert!(
            paydesk_server::merchant_api::paths().contains(&path.as_str()),
            "{path} is documented but not served"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_with_an_opaque_cursor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let key = server.api_key("pos-1").await;
    let mut made = Vec::new();
    for i in 0..5 {
        let (status, o) = server
            .post(
                "/api/v1/orders",
                &key,
                &json!({"channel": "alipay-sandbox", "amount": 100 + i, "currency": "CNY",
                        "subject": format!("cup {i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{o}");
        made.push(o["out_trade_no"].as_str().expect("no").to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orders?limit=2&cursor={c}"),
            None => "/api/v1/orders?limit=2".to_string(),
        };
        let (status, page) = server.get(&path, &key).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for o in page["data"].as_array().expect("data") {
            seen.push(o["out_trade_no"].as_str().expect("no").to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    // Each order exactly once (orders created in the same millisecond are ordered by id,
    // so only the set is compared).
    let (mut seen_sorted, mut made_sorted) = (seen.clone(), made.clone());
    seen_sorted.sort();
    made_sorted.sort();
    assert_eq!(seen_sorted, made_sorted, "{seen:?}");
    assert_eq!(seen.len(), 5, "{seen:?}");

    let (status, page) = server.get("/api/v1/orders?from=0&to=1", &key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().map(Vec::len), Some(0));
    for bad in ["limit=0", "limit=201", "cursor=%21%21", "from=yesterday"] {
        let (status, v) = server.get(&format!("/api/v1/orders?{bad}"), &key).await;
        assert_error(status, &v, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_disabled_channels_are_refused_with_their_codes() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let key = server.api_key("pos").await;
    let order = |channel: &str| json!({"channel": channel, "amount": 100, "currency": "CNY", "subject": "tea"});

    let (s, v) = server
        .post("/api/v1/orders", &key, &order("no-such-channel"))
        .await;
    assert_error(s, &v, StatusCode::NOT_FOUND, "channel_not_found");

    server
        .state
        .store
        .set_channel_disabled("alipay-sandbox", true)
        .await
        .expect("disable");
    let (s, v) = server
        .post("/api/v1/orders", &key, &order("alipay-sandbox"))
        .await;
    assert_error(s, &v, StatusCode::CONFLICT, "channel_disabled");
    // Nothing was created for either refusal.
    let (s, v) = server.get("/api/v1/orders", &key).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(0), "{v}");

    // Enabled again, the same request goes through.
    server
        .state
        .store
        .set_channel_disabled("alipay-sandbox", false)
        .await
        .expect("enable");
    let (s, v) = server
        .post("/api/v1/orders", &key, &order("alipay-sandbox"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn each_key_has_its_own_order_and_refund_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let a = server.api_key("shop-a").await;
    let b = server.api_key("shop-b").await;
    let order = |no: &str| {
        json!({"channel": "wechatpay-sandbox", "amount": 1000, "currency": "CNY",
               "subject": "tea", "out_trade_no": no})
    };
    let (s, mine) = server
        .post("/api/v1/orders", &a, &order("INV-000123"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mine}");
    assert_eq!(
        mine["out_trade_no"], "INV-000123",
        "shown as the merchant chose it"
    );
    // Another key using the same number learns nothing and takes nothing: its own order.
    let (s, theirs) = server
        .post("/api/v1/orders", &b, &order("INV-000123"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{theirs}");
    assert_ne!(mine["qr_code"], theirs["qr_code"], "two different orders");
    // Within one key a number is still unique.
    let (s, v) = server
        .post("/api/v1/orders", &a, &order("INV-000123"))
        .await;
    assert_error(s, &v, StatusCode::CONFLICT, "duplicate_out_trade_no");
    // Each reads its own.
    let (_, got_a) = server.get("/api/v1/orders/INV-000123", &a).await;
    let (_, got_b) = server.get("/api/v1/orders/INV-000123", &b).await;
    assert_eq!(got_a["qr_code"], mine["qr_code"]);
    assert_eq!(got_b["qr_code"], theirs["qr_code"]);
    // The provider sees a number of the key's namespace, never the bare one.
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT out_trade_no FROM orders ORDER BY created_at")
            .fetch_all(server.state.store.pool())
            .await
            .expect("orders");
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().all(|n| n != "INV-000123" && n.len() == 32),
        "{stored:?}"
    );

    // Refund numbers too: both pay, both refund under the same number.
    for (key, o) in [(&a, &mine), (&b, &theirs)] {
        let code = o["qr_code"]
            .as_str()
            .expect("qr")
            .rsplit('/')
            .next()
            .expect("code")
            .to_string();
        let pressed = server
            .http
            .post(format!("{}/sandbox/pay/{code}/pay", server.base))
            .header("Origin", &server.base)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send()
            .await
            .expect("pay");
        assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
        server.wait_for_status(key, "INV-000123", "paid").await;
        let (s, r) = server
            .post(
                "/api/v1/orders/INV-000123/refunds",
                key,
                &json!({"amount": 100, "out_refund_no": "RFD-000777"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(
            (r["out_refund_no"].as_str(), r["out_trade_no"].as_str()),
            (Some("RFD-000777"), Some("INV-000123"))
        );
    }
    let (s, r) = server.get("/api/v1/refunds/RFD-000777", &a).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["amount"], 100);
}
