//! Amount bounds through the real application on a socket: a channel's maximum per order
//! (the default per currency, and one an admin sets on the Credentials page) refused in
//! the dashboard checkout (form post and server-function call) and the merchant API
//! (422 `amount_too_large`); the checkout's confirmation step above the "large amount",
//! with and without JavaScript; refunds whose amount would overflow; and the overview
//! with two huge old orders, on SQLite and Postgres.

mod support;

use std::time::Duration;

use paydesk_core::auth::hash_password;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::Cause;
use paydesk_core::role::Role;
use paydesk_core::store::{NewOrder, NewUser};
use paydesk_core::time::now_ms;
use paydesk_core::vault::MasterKey;
use paydesk_server::startup::SESSION_COOKIE;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use support::{Options, PgSchema, TestApp};

struct Client {
    app: TestApp,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    location: String,
    body: String,
}

impl Client {
    async fn start(database_url: Option<String>) -> Client {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = support::spawn_app_with(
            dir.path(),
            Options {
                database_url,
                ..Options::default()
            },
        )
        .await;
        for (name, role) in [("m1", Role::Merchant), ("root", Role::Admin)] {
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
            .timeout(Duration::from_secs(20))
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
        let location = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = r.text().await.expect("body");
        Reply {
            status,
            location,
            body,
        }
    }

    /// A form post as a browser without JavaScript sends it; `js`: as the hydrated page
    /// calls the server function (no `Accept: text/html`, so no real redirect).
    async fn post(&self, path: &str, body: &str, cookie: &str, js: bool) -> Reply {
        let mut req = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(COOKIE, cookie)
            .body(body.to_string());
        if !js {
            req = req.header(ACCEPT, "text/html");
        }
        Client::reply(req.send().await.expect("post")).await
    }

    async fn get(&self, path: &str, cookie: &str) -> Reply {
        let req = self
            .http
            .get(format!("{}{path}", self.app.base))
            .header(COOKIE, cookie);
        Client::reply(req.send().await.expect("get")).await
    }

    async fn api(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.app.base))
            .bearer_auth(key)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("api");
        let status = r.status();
        let text = r.text().await.expect("body");
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"));
        (status, v)
    }

    async fn api_key(&self) -> String {
        let master = MasterKey::load(&self.app.state.config.settings.data_dir).expect("master");
        self.app
            .state
            .store
            .create_api_key("pos", "test", &master)
            .await
            .expect("key")
            .secret
    }

    async fn orders(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM orders")
            .fetch_one(self.app.state.store.pool())
            .await
            .expect("count")
    }
}

fn checkout_form(channel: &str, amount: &str, currency: &str, confirm: &str) -> String {
    format!("channel={channel}&amount={amount}&currency={currency}&subject=Tea&confirm={confirm}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_over_the_channel_maximum_are_refused_everywhere() {
    let c = Client::start(None).await;
    let m1 = c.login("m1").await;
    let root = c.login("root").await;

    // The default maximum in CNY is ¥50,000.00: one fen more is refused by the form
    // (with and without JavaScript), before any confirmation and before anything is stored.
    for js in [false, true] {
        let r = c
            .post(
                "/rpc/create_checkout",
                &checkout_form("wechatpay-sandbox", "50000.01", "CNY", "5000001CNY"),
                &m1,
                js,
            )
            .await;
        let want = if js {
            StatusCode::OK
        } else {
            StatusCode::FOUND
        };
        assert_eq!(r.status, want, "{}", r.body);
        assert!(
            r.location.starts_with(
                "/checkout?error=amount_over_limit&channel=wechatpay-sandbox&amount=50000.01"
            ),
            "{}",
            r.location
        );
    }
    let back = "/checkout?error=amount_over_limit&channel=wechatpay-sandbox&amount=50000.01&currency=CNY&subject=Tea";
    let html = c.get(back, &m1).await.body;
    assert!(
        html.contains("maximum of ¥50,000.00 CNY per order"),
        "names the maximum: {html}"
    );
    let zh = format!("{m1}; paydesk_lang=zh");
    let html = c.get(back, &zh).await.body;
    assert!(html.contains("单笔最高 ¥50,000.00 CNY 的限额"), "{html}");
    // An amount beyond i64 says the same, not "malformed".
    let r = c
        .post(
            "/rpc/create_checkout",
            &checkout_form("wechatpay-sandbox", "99999999999999999999", "CNY", ""),
            &m1,
            false,
        )
        .await;
    assert!(r.location.starts_with("/checkout?error=amount_over_limit&"));

    // The merchant API: 422 with a code and a message that says what to do.
    let key = c.api_key().await;
    for (channel, amount, currency) in [
        ("wechatpay-sandbox", 5_000_001, "CNY"),
        ("alipay-sandbox", i64::MAX, "CNY"),
        ("stripe-sandbox", 1_000_001, "USD"),
        ("stripe-sandbox", 1_500_001, "JPY"),
    ] {
        let (status, v) = c
            .api(
                "/api/v1/orders",
                &key,
                &json!({"channel": channel, "amount": amount, "currency": currency, "subject": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{channel} {v}");
        assert_eq!(v["error"]["code"], "amount_too_large", "{v}");
        let msg = v["error"]["message"].as_str().expect("message");
        assert!(
            msg.contains("maximum of") && msg.contains("split it"),
            "{msg}"
        );
    }
    assert_eq!(c.orders().await, 0, "nothing was stored");

    // An admin lowers alipay-sandbox's CNY maximum to ¥100.00 on the Credentials page.
    let r = c
        .post(
            "/rpc/save_amount_limit",
            "name=alipay-sandbox&currency=CNY&max=100.00&confirm_above=80.00",
            &root,
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(
        r.location,
        "/credentials?limits=alipay-sandbox&ok=limit_saved&currency=CNY"
    );
    let page = c.get(&r.location, &root).await.body;
    assert!(
        page.contains("The CNY limits of alipay-sandbox were saved"),
        "{page}"
    );
    assert!(page.contains(r#"value="100.00""#) && page.contains("Set by an admin"));
    let (status, v) = c
        .api(
            "/api/v1/orders",
            &key,
            &json!({"channel": "alipay-sandbox", "amount": 10_001, "currency": "CNY", "subject": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("100.00 CNY"),
        "{v}"
    );
    let r = c
        .post(
            "/rpc/create_checkout",
            &checkout_form("alipay-sandbox", "100.01", "CNY", "10001CNY"),
            &m1,
            false,
        )
        .await;
    assert!(
        r.location.starts_with("/checkout?error=amount_over_limit&"),
        "{}",
        r.location
    );
    let back = "/checkout?error=amount_over_limit&channel=alipay-sandbox&amount=100.01&currency=CNY&subject=Tea";
    let html = c.get(back, &m1).await.body;
    assert!(html.contains("maximum of ¥100.00 CNY per order"), "{html}");
    // Exactly the maximum goes through (the admin's 80.00 asks to confirm first).
    let (status, v) = c
        .api(
            "/api/v1/orders",
            &key,
            &json!({"channel": "alipay-sandbox", "amount": 10_000, "currency": "CNY", "subject": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_limits_are_checked_and_only_admins_set_them() {
    let c = Client::start(None).await;
    let m1 = c.login("m1").await;
    let root = c.login("root").await;
    let r = c
        .post(
            "/rpc/save_amount_limit",
            "name=alipay-sandbox&currency=CNY&max=1.00&confirm_above=1.00",
            &m1,
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post("/rpc/channel_limits", "name=alipay-sandbox", &m1, true)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for (form, code) in [
        ("currency=USD&max=1.00&confirm_above=1.00", "limit_currency"),
        ("currency=CNY&max=abc&confirm_above=1.00", "limit_malformed"),
        ("currency=CNY&max=0&confirm_above=0", "limit_max_positive"),
        (
            "currency=CNY&max=100000000.01&confirm_above=1.00",
            "limit_above_provider",
        ),
        (
            "currency=CNY&max=10.00&confirm_above=10.01",
            "limit_confirm_above_max",
        ),
    ] {
        let r = c
            .post(
                "/rpc/save_amount_limit",
                &format!("name=alipay-sandbox&{form}"),
                &root,
                false,
            )
            .await;
        assert!(
            r.location.contains(&format!("&error={code}&")),
            "{form}: {}",
            r.location
        );
    }
    let page = c
        .get(
            "/credentials?limits=alipay-sandbox&error=limit_above_provider&currency=CNY",
            &root,
        )
        .await
        .body;
    assert!(
        page.contains(
            "The provider accepts at most ¥100,000,000.00 CNY per order. Enter a maximum up to that."
        ),
        "{page}"
    );
    let zh = format!("{root}; paydesk_lang=zh");
    let page = c
        .get(
            "/credentials?limits=alipay-sandbox&error=limit_confirm_above_max&currency=CNY",
            &zh,
        )
        .await
        .body;
    assert!(page.contains("需确认的金额不能高于单笔最高金额"), "{page}");
    // The list shows each channel's maximum and links to its limits.
    let list = c.get("/credentials", &root).await.body;
    assert!(list.contains("at most ¥50,000.00 CNY per order"), "{list}");
    assert!(list.contains(r#"href="/credentials?limits=stripe-sandbox""#));
    // Reset goes back to the default.
    c.post(
        "/rpc/save_amount_limit",
        "name=alipay-sandbox&currency=CNY&max=10.00&confirm_above=5.00",
        &root,
        false,
    )
    .await;
    let r = c
        .post(
            "/rpc/save_amount_limit",
            "name=alipay-sandbox&currency=CNY&reset=1",
            &root,
            false,
        )
        .await;
    assert!(
        r.location.ends_with("&ok=limit_reset&currency=CNY"),
        "{}",
        r.location
    );
    let ch = c
        .app
        .state
        .store
        .channel("alipay-sandbox")
        .await
        .expect("r")
        .expect("ch");
    assert_eq!(
        c.app.state.store.amount_limits(&ch.id).await.expect("l"),
        []
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_amounts_are_confirmed_before_the_qr_code_is_made() {
    let c = Client::start(None).await;
    let m1 = c.login("m1").await;
    // ¥10,000.00 is the default "large amount": up to it, no question.
    let r = c
        .post(
            "/rpc/create_checkout",
            &checkout_form("wechatpay-sandbox", "10000.00", "CNY", ""),
            &m1,
            false,
        )
        .await;
    assert!(r.location.starts_with("/checkout/PD"), "{}", r.location);
    assert_eq!(c.orders().await, 1);

    // Above it, with and without JavaScript: back to the confirmation step, nothing stored
    // (a confirmation of another amount does not count).
    for (js, confirm) in [(false, ""), (true, ""), (false, "1234400CNY")] {
        let r = c
            .post(
                "/rpc/create_checkout",
                &checkout_form("wechatpay-sandbox", "12345.00", "CNY", confirm),
                &m1,
                js,
            )
            .await;
        assert_eq!(
            r.location,
            "/checkout?confirm=1&channel=wechatpay-sandbox&amount=12345.00&currency=CNY&subject=Tea",
            "js={js} confirm={confirm}"
        );
    }
    assert_eq!(c.orders().await, 1);
    let step =
        "/checkout?confirm=1&channel=wechatpay-sandbox&amount=12345.00&currency=CNY&subject=Tea";
    let html = c.get(step, &m1).await.body;
    assert!(html.contains("Yes, charge ¥12,345.00 CNY"), "{html}");
    assert!(
        html.contains(r#"name="confirm" value="1234500CNY""#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/checkout?channel=wechatpay-sandbox&amp;amount=12345.00&amp;currency=CNY&amp;subject=Tea""#),
        "a way back to change the amount: {html}"
    );
    let zh = format!("{m1}; paydesk_lang=zh");
    assert!(
        c.get(step, &zh)
            .await
            .body
            .contains("确认收款 ¥12,345.00 CNY")
    );

    // "Yes, charge": the same form with the token of the amount shown.
    let r = c
        .post(
            "/rpc/create_checkout",
            &checkout_form("wechatpay-sandbox", "12345.00", "CNY", "1234500CNY"),
            &m1,
            false,
        )
        .await;
    let no = r
        .location
        .strip_prefix("/checkout/")
        .unwrap_or_else(|| panic!("went to the status page: {}", r.location));
    let order = c
        .app
        .state
        .store
        .order(no)
        .await
        .expect("r")
        .expect("order");
    assert_eq!(order.amount.minor(), 1_234_500);
}

/// On Postgres `reserved + amount` in the reservation's bound raised "bigint out of
/// range" (a 500); SQLite quietly turned it into a float. Both must refuse it plainly.
async fn refunds_that_would_overflow_are_refused_cleanly(database_url: Option<String>) {
    let c = Client::start(database_url).await;
    let key = c.api_key().await;
    let (status, order) = c
        .api(
            "/api/v1/orders",
            &key,
            &json!({"channel": "wechatpay-sandbox", "amount": 1000, "currency": "CNY",
                    "subject": "Oolong", "out_trade_no": "BIG-RF-ORDER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let qr = order["qr_code"].as_str().expect("qr");
    let pressed = c
        .http
        .post(format!("{qr}/pay"))
        .header("Origin", &c.app.base)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("pay");
    assert_eq!(pressed.status(), StatusCode::SEE_OTHER);
    // Read through the API: the key's number is stored in the key's namespace.
    for _ in 0..200 {
        let o: serde_json::Value = c
            .http
            .get(format!("{}/api/v1/orders/BIG-RF-ORDER", c.app.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if o["paid_at"].is_i64() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refunds = "/api/v1/orders/BIG-RF-ORDER/refunds";
    let (status, v) = c.api(refunds, &key, &json!({"amount": 1})).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    // With 1 reserved, `reserved + amount` overflows i64: refused, never a 500.
    for amount in [i64::MAX, i64::MAX - 1, 1 << 62, 1001] {
        let (status, v) = c.api(refunds, &key, &json!({"amount": amount})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{amount}: {v}");
        assert_eq!(v["error"]["code"], "not_allowed", "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("exceeds the refundable 9.99 CNY"),
            "{v}"
        );
    }
    // Beyond i64 the JSON cannot be read as an amount: 422, also not a 500.
    let r = c
        .http
        .post(format!("{}{refunds}", c.app.base))
        .bearer_auth(&key)
        .header(CONTENT_TYPE, "application/json")
        .body(r#"{"amount": 99999999999999999999}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, v) = c.api(refunds, &key, &json!({"amount": 999})).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the rest can still be refunded: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_that_would_overflow_are_refused_cleanly_on_sqlite() {
    refunds_that_would_overflow_are_refused_cleanly(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_that_would_overflow_are_refused_cleanly_on_postgres() {
    let Some(pg) = PgSchema::create().await else {
        return;
    };
    refunds_that_would_overflow_are_refused_cleanly(Some(pg.url.clone())).await;
    pg.drop().await;
}

/// Two paid orders of 2^62 fen from before the ceilings: the overview answers, with the
/// largest figure it can show, on SQLite and on Postgres.
async fn overview_survives_huge_old_orders(database_url: Option<String>) {
    let c = Client::start(database_url).await;
    let store = &c.app.state.store;
    let huge = 1i64 << 62;
    for no in ["HUGE-OLD-1", "HUGE-OLD-2"] {
        let amount = Money::new(huge, Currency::Cny).expect("money");
        store
            .create_order(
                NewOrder {
                    out_trade_no: no,
                    channel: "alipay-sandbox",
                    amount,
                    subject: "old",
                    creator: "m1",
                    expires_at: now_ms() + 60_000,
                    qr_code: None,
                    merchant_notify_url: None,
                    api_key_id: None,
                    next_query_at: None,
                    pay_method: paydesk_core::order::PayMethod::Qr,
                },
                &Cause::User("m1".into()),
            )
            .await
            .expect("order");
        store
            .mark_paid(no, &format!("P{no}"), amount, &Cause::Query)
            .await
            .expect("paid");
    }
    for user in ["root", "m1"] {
        let cookie = c.login(user).await;
        let r = c.post("/rpc/overview", "", &cookie, true).await;
        assert_eq!(r.status, StatusCode::OK, "{user}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).expect("json");
        assert_eq!(v["month_lines"][0]["volume_minor"], i64::MAX, "{v}");
        assert_eq!(v["month_lines"][0]["paid"], 2, "{v}");
        let page = c.get("/", &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("¥92,233,720,368,547,758.07 CNY"),
            "{}",
            page.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_survives_huge_old_orders_on_sqlite() {
    overview_survives_huge_old_orders(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_survives_huge_old_orders_on_postgres() {
    let Some(pg) = PgSchema::create().await else {
        return;
    };
    overview_survives_huge_old_orders(Some(pg.url.clone())).await;
    pg.drop().await;
}

/// `paydesk channel limit` as an operator uses it.
#[test]
fn channel_limit_lists_sets_and_resets_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PAYDESK_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .args(["channel", "limit"])
            .args(args)
            .output()
            .expect("run paydesk");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["alipay-sandbox"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("CNY  max 50000.00  confirm above 10000.00  (default; the provider accepts up to 100000000.00)"),
        "{out}"
    );
    // A lower maximum also lowers the confirmation amount that was above it.
    let (ok, out, err) = run(&["alipay-sandbox", "--currency", "CNY", "--max", "200.00"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("CNY  max 200.00  confirm above 200.00  (set;"),
        "{out}"
    );
    let (ok, out, err) = run(&[
        "alipay-sandbox",
        "--currency",
        "cny",
        "--confirm-above",
        "50",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("CNY  max 200.00  confirm above 50.00  (set;"),
        "{out}"
    );
    let (ok, _, err) = run(&[
        "alipay-sandbox",
        "--currency",
        "CNY",
        "--max",
        "100000000.01",
    ]);
    assert!(
        !ok && err.contains("above what the provider accepts"),
        "{err}"
    );
    let (ok, _, err) = run(&["wechatpay-sandbox", "--currency", "USD", "--max", "1"]);
    assert!(!ok && err.contains("does not charge in USD"), "{err}");
    let (ok, _, err) = run(&["alipay-sandbox", "--max", "1"]);
    assert!(!ok && err.contains("--currency"), "{err}");
    let (ok, out, err) = run(&["alipay-sandbox", "--currency", "CNY", "--reset"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("CNY  max 50000.00  confirm above 10000.00  (default;"),
        "{out}"
    );
    let (ok, out, _) = run(&["stripe-sandbox"]);
    assert!(
        ok && out.contains("USD  max 10000.00") && out.contains("JPY  max 1500000"),
        "{out}"
    );
}
