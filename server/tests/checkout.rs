//! The checkout pages and their server functions through the real application on a
//! socket: role checks, creating a sandbox WeChat Pay checkout by a plain form post,
//! amount validation that goes back to the form with the input, the QR PNG and who may
//! download it, paying in the sandbox wallet and closing.

mod support;

use std::time::Duration;

use paydesk_core::auth::hash_password;
use paydesk_core::order::OrderStatus;
use paydesk_core::role::Role;
use paydesk_core::store::NewUser;
use paydesk_server::startup::SESSION_COOKIE;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use support::TestApp;

struct Client {
    app: TestApp,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    location: String,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    async fn start() -> Client {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = support::spawn_app(dir.path(), None).await;
        for (name, role) in [
            ("m1", Role::Merchant),
            ("m2", Role::Merchant),
            ("sam", Role::Support),
            ("root", Role::Admin),
        ] {
            let hash = hash_password("correct horse battery".into())
                .await
                .expect("hash");
            app.state
                .store
                .create_user(NewUser {
                    username: name,
                    password_hash: &hash,
                    role,
                })
                .await
                .expect("user");
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Client {
            app,
            http,
            _dir: dir,
        }
    }

    async fn login(&self, user: &str) -> String {
        let r = self
            .http
            .post(format!("{}/auth/login", self.app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("username={user}&password=correct+horse+battery"))
            .send()
            .await
            .expect("login");
        assert!(r.status().is_redirection(), "{user}: {}", r.status());
        r.headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
            .and_then(|c| c.split(';').next())
            .map(String::from)
            .unwrap_or_else(|| panic!("{user} signed in"))
    }

    async fn reply(r: reqwest::Response) -> Reply {
        let status = r.status();
        let header = |h| {
            r.headers()
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let location = header(LOCATION);
        let content_type = header(CONTENT_TYPE);
        let body = r.bytes().await.expect("body").to_vec();
        Reply {
            status,
            location,
            content_type,
            body,
        }
    }

    /// A form post as a browser without JavaScript sends it (so redirects are real 302s).
    async fn form(&self, path: &str, body: &str, cookie: Option<&str>) -> Reply {
        let mut req = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "text/html")
            .body(body.to_string());
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        Client::reply(req.send().await.expect("post")).await
    }

    /// A server function call as the hydrated app makes it.
    async fn rpc(&self, name: &str, body: &str, cookie: Option<&str>) -> Reply {
        let mut req = self
            .http
            .post(format!("{}/rpc/{name}", self.app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.to_string());
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        Client::reply(req.send().await.expect("rpc")).await
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = self.http.get(format!("{}{path}", self.app.base));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        Client::reply(req.send().await.expect("get")).await
    }

    /// Creates a CNY checkout on `channel` as `cookie`'s user; returns its number.
    async fn checkout(&self, cookie: &str, channel: &str, amount: &str) -> String {
        let r = self
            .form(
                "/rpc/create_checkout",
                &format!("channel={channel}&amount={amount}&currency=CNY&subject=Latte+%E6%8B%BF%E9%93%81"),
                Some(cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
        r.location
            .strip_prefix("/checkout/")
            .unwrap_or_else(|| panic!("went to the status page: {}", r.location))
            .to_string()
    }
}

#[tokio::test]
async fn checkout_server_functions_check_the_role() {
    let c = Client::start().await;
    let anonymous = c.rpc("checkout_channels", "", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let anonymous = c
        .rpc(
            "create_checkout",
            "channel=wechatpay-sandbox&amount=1&currency=CNY&subject=x",
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let support = c.login("sam").await;
    for (name, body) in [
        ("checkout_channels", ""),
        (
            "create_checkout",
            "channel=wechatpay-sandbox&amount=1&currency=CNY&subject=x",
        ),
        ("checkout_status", "no=PD123456"),
    ] {
        let r = c.rpc(name, body, Some(&support)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.text());
    }
    assert_eq!(
        c.get("/checkout", Some(&support)).await.status,
        StatusCode::FORBIDDEN
    );
    let overview = c.rpc("overview", "", Some(&support)).await;
    assert_eq!(
        overview.status,
        StatusCode::OK,
        "every role has an overview"
    );

    let merchant = c.login("m1").await;
    let r = c.rpc("checkout_channels", "", Some(&merchant)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let list: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    let names: Vec<_> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|c| (c["name"].as_str().unwrap_or(""), c["sandbox"].as_bool()))
        .collect();
    assert_eq!(
        names,
        [
            ("alipay-sandbox", Some(true)),
            ("stripe-sandbox", Some(true)),
            ("wechatpay-sandbox", Some(true)),
            ("wechatpay-v2-sandbox", Some(true)),
        ]
    );
    let page = c.get("/checkout", Some(&merchant)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(r#"action="/rpc/create_checkout""#), "{html}");
    assert!(html.contains("WeChat Pay") && html.contains("Sandbox"));
}

#[tokio::test]
async fn a_merchant_takes_a_wechat_payment_in_the_sandbox() {
    let c = Client::start().await;
    let m1 = c.login("m1").await;
    let no = c.checkout(&m1, "wechatpay-sandbox", "12.34").await;

    let order = c
        .app
        .state
        .store
        .order(&no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(order.creator, "m1");
    assert_eq!(order.amount.minor(), 1234);
    let qr = order.qr_code.clone().expect("qr content");
    assert!(
        qr.starts_with(&format!("{}/sandbox/pay/", c.app.base)),
        "the sandbox QR opens the sandbox wallet: {qr}"
    );

    // The status page renders the QR as SVG, the amount with its currency and the
    // no-JavaScript refresh while pending.
    let page = c.get(&format!("/checkout/{no}"), Some(&m1)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("<svg") && html.contains("crispEdges"),
        "{html}"
    );
    assert!(html.contains("¥12.34 CNY"));
    assert!(html.contains("Latte 拿铁"));
    assert!(html.contains("http-equiv"), "meta refresh inside noscript");
    assert!(html.contains(&format!(r#"data-qr-content="{qr}""#)));

    let png = c.get(&format!("/checkout/{no}/qr.png"), Some(&m1)).await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.content_type, "image/png");
    assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");

    // The customer pays in the sandbox wallet; the state the page polls turns to paid.
    let code = qr.rsplit('/').next().expect("code");
    let wallet = c.get(&format!("/sandbox/pay/{code}"), None).await;
    assert_eq!(wallet.status, StatusCode::OK);
    let paid = c.form(&format!("/sandbox/pay/{code}/pay"), "", None).await;
    assert!(paid.status.is_redirection() || paid.status.is_success());
    let mut status = String::new();
    for _ in 0..100 {
        let r = c
            .rpc("checkout_state", &format!("no={no}"), Some(&m1))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        status = v["status"].as_str().unwrap_or_default().to_string();
        if status == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "paid");
    let html = c.get(&format!("/checkout/{no}"), Some(&m1)).await.text();
    assert!(!html.contains("http-equiv"), "no refresh once paid");
    assert!(html.contains("status paid"));

    // Closing a paid order is refused with a message, not an error page.
    let r = c
        .form("/rpc/close_checkout", &format!("no={no}"), Some(&m1))
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.location, format!("/checkout/{no}?error=not_allowed"));
}

#[tokio::test]
async fn other_merchants_cannot_see_a_checkout_but_admins_can() {
    let c = Client::start().await;
    let m1 = c.login("m1").await;
    let no = c.checkout(&m1, "alipay-sandbox", "5").await;

    let m2 = c.login("m2").await;
    for path in [format!("/checkout/{no}/qr.png"), format!("/checkout/{no}")] {
        let r = c.get(&path, Some(&m2)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text().contains("<svg"), "{path}");
    }
    let r = c
        .rpc("checkout_status", &format!("no={no}"), Some(&m2))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c
        .form("/rpc/close_checkout", &format!("no={no}"), Some(&m2))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        c.get(&format!("/checkout/{no}/qr.png"), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let sam = c.login("sam").await;
    assert_eq!(
        c.get(&format!("/checkout/{no}/qr.png"), Some(&sam))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let root = c.login("root").await;
    assert_eq!(
        c.get(&format!("/checkout/{no}/qr.png"), Some(&root))
            .await
            .status,
        StatusCode::OK
    );

    // The creator closes it.
    let r = c
        .form("/rpc/close_checkout", &format!("no={no}"), Some(&m1))
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text());
    assert_eq!(r.location, format!("/checkout/{no}?ok=closed"));
    let order = c
        .app
        .state
        .store
        .order(&no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(order.status, OrderStatus::Closed);
    let html = c
        .get(&format!("/checkout/{no}?ok=closed"), Some(&m1))
        .await
        .text();
    assert!(html.contains("The checkout was closed."));
}

#[tokio::test]
async fn invalid_amounts_go_back_to_the_form_with_the_input() {
    let c = Client::start().await;
    let m1 = c.login("m1").await;
    for (channel, amount, currency, code) in [
        ("wechatpay-sandbox", "1.234", "CNY", "amount_decimals"),
        ("wechatpay-sandbox", "abc", "CNY", "amount_malformed"),
        ("wechatpay-sandbox", "0", "CNY", "amount_positive"),
        ("wechatpay-sandbox", "", "CNY", "amount_empty"),
        ("wechatpay-sandbox", "5.00", "USD", "currency_unsupported"),
        ("stripe-sandbox", "1.5", "JPY", "amount_decimals"),
        ("nope", "1", "CNY", "channel_not_found"),
    ] {
        let r = c
            .form(
                "/rpc/create_checkout",
                &format!("channel={channel}&amount={amount}&currency={currency}&subject=Tea"),
                Some(&m1),
            )
            .await;
        assert_eq!(r.status, StatusCode::FOUND, "{amount} {currency}");
        assert!(
            r.location.starts_with(&format!("/checkout?error={code}&")),
            "{amount} {currency}: {}",
            r.location
        );
    }

    let back = "/checkout?error=amount_decimals&channel=wechatpay-sandbox&amount=1.234&currency=CNY&subject=Tea";
    let html = c.get(back, Some(&m1)).await.text();
    assert!(
        html.contains("CNY allows at most 2 decimals"),
        "a clear message: {html}"
    );
    assert!(html.contains(r#"value="1.234""#), "the input is kept");
    assert!(html.contains(r#"value="Tea""#));

    let zh = format!("{m1}; paydesk_lang=zh");
    let html = c.get(back, Some(&zh)).await.text();
    assert!(html.contains("CNY 最多允许 2 位小数"), "{html}");

    let html = c
        .get(
            "/checkout?error=amount_decimals&channel=stripe-sandbox&amount=1.5&currency=JPY&subject=Tea",
            Some(&m1),
        )
        .await
        .text();
    assert!(html.contains("JPY has no decimals"));
    // Nothing was created.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
        .fetch_one(c.app.state.store.pool())
        .await
        .expect("count");
    assert_eq!(n, 0);
}
