//! Payment by the customer's code (付款码) over WeChat Pay APIv3 (`codepay`, `reverse`)
//! through the merchant API and the v3 sandbox, on SQLite and Postgres: paid at once; a
//! used code refused; a declined balance; a password confirmed on the sandbox wallet page
//! and found by the active query; a wait that runs out and is reversed at the sandbox;
//! hostile codes. The v3 channel is named: a WeChat code scanned without a channel still
//! goes to the v2 sandbox, as before v3 charged codes.

use std::time::Duration;

use paydesk_core::payments::PaymentSettings;
use paydesk_core::provider::ProviderKind;
use paydesk_core::sandbox::{CodeBehaviour, OrderState};
use paydesk_core::vault::MasterKey;
use serde_json::{Value, json};

mod support;
use support::{Options, PgSchema, TestApp, spawn_app_with};

const V3: &str = "wechatpay-sandbox";

fn settings() -> PaymentSettings {
    PaymentSettings {
        code_query_ms: 0,
        code_wait_secs: 2,
        ..PaymentSettings::default()
    }
}

async fn api_key(app: &TestApp) -> String {
    let master = MasterKey::load(&app.state.config.settings.data_dir).expect("master key");
    app.state
        .store
        .create_api_key("pos", "test", &master)
        .await
        .expect("api key")
        .secret
}

async fn code_of(app: &TestApp, kind: ProviderKind, behaviour: CodeBehaviour) -> String {
    let set = app.state.sandbox.get().await.expect("sandbox");
    set.issue_pay_code(kind, behaviour, paydesk_core::time::now_ms())
        .await
        .expect("issue")
        .expect("the WeChat Pay sandboxes have payment codes")
}

async fn code(app: &TestApp, behaviour: CodeBehaviour) -> String {
    code_of(app, ProviderKind::Wechatpay, behaviour).await
}

async fn post(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/orders", app.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

async fn get(app: &TestApp, key: &str, no: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/api/v1/orders/{no}", app.base))
        .bearer_auth(key)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json")
}

/// A sale on the v3 channel.
fn sale(code: &str, amount: i64) -> Value {
    json!({
        "amount": amount, "currency": "CNY", "subject": "counter sale",
        "auth_code": code, "channel": V3,
    })
}

async fn confirm(app: &TestApp, code: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/sandbox/wallet/wechatpay/confirm", app.base))
        .form(&[("code", code)])
        .send()
        .await
        .expect("confirm")
        .status()
        .as_u16()
}

/// The order as the v3 sandbox's book has it.
async fn at_wechat(app: &TestApp, merchant_no: &str) -> OrderState {
    let internal = app
        .state
        .store
        .list_orders(&Default::default())
        .await
        .expect("orders")
        .into_iter()
        .find(|o| o.merchant_facing_no() == merchant_no)
        .expect("the order");
    let set = app.state.sandbox.get().await.expect("sandbox");
    set.ledger(ProviderKind::Wechatpay)
        .get(&internal.out_trade_no)
        .await
        .expect("ledger")
        .expect("order at WeChat Pay")
        .state
}

async fn paid_declined_and_duplicate(app: &TestApp, key: &str) {
    // Paid at once.
    let c = code(app, CodeBehaviour::Pay).await;
    assert!(c.starts_with("12") && c.len() == 18, "{c}");
    let (status, paid) = post(app, key, sale(&c, 1234)).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!(paid["pay_result"], "paid", "{paid}");
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["pay_method"], "code");
    assert_eq!(paid["channel"], V3);
    assert!(
        paid["provider_trade_no"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let no = paid["out_trade_no"].as_str().expect("no");
    assert_eq!(at_wechat(app, no).await, OrderState::Paid);

    // The same code again is never charged twice.
    let (_, again) = post(app, key, sale(&c, 1234)).await;
    assert_eq!(again["pay_result"], "declined", "{again}");
    assert_eq!(again["decline_code"], "AUTH_CODE_EXPIRE");
    assert_eq!(again["status"], "closed");

    // Not enough balance: declined, nothing charged.
    let c = code(app, CodeBehaviour::Decline).await;
    let (_, declined) = post(app, key, sale(&c, 500)).await;
    assert_eq!(declined["pay_result"], "declined", "{declined}");
    assert_eq!(declined["decline_code"], "NOT_ENOUGH");
    assert_eq!(declined["status"], "closed");
}

async fn password(app: &TestApp, key: &str) {
    // The customer confirms with the password on the wallet page; the query finds it.
    let c = code(app, CodeBehaviour::Password).await;
    let (_, waiting) = post(app, key, sale(&c, 888)).await;
    assert_eq!(waiting["pay_result"], "user_paying", "{waiting}");
    assert_eq!(waiting["status"], "pending");
    let no = waiting["out_trade_no"].as_str().expect("no").to_string();
    assert_eq!(confirm(app, &c).await, 303);
    app.state.payments.run_due_queries(10).await;
    let found = get(app, key, &no).await;
    assert_eq!(found["status"], "paid", "{found}");

    // Nobody confirms: at the end of the wait the order is reversed at WeChat Pay (the
    // sandbox's book says closed), never merely closed here.
    let c = code(app, CodeBehaviour::Password).await;
    let (_, waiting) = post(app, key, sale(&c, 777)).await;
    assert_eq!(waiting["pay_result"], "user_paying", "{waiting}");
    let no = waiting["out_trade_no"].as_str().expect("no").to_string();
    app.state.payments.run_due_queries(10).await;
    assert_eq!(
        get(app, key, &no).await["status"],
        "pending",
        "still waiting"
    );
    assert_eq!(at_wechat(app, &no).await, OrderState::Pending);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.state.payments.run_due_queries(10).await;
    let reversed = get(app, key, &no).await;
    assert_eq!(reversed["status"], "closed", "{reversed}");
    assert_eq!(at_wechat(app, &no).await, OrderState::Closed);
    // Confirming now is too late: the wallet's order is closed.
    confirm(app, &c).await;
    app.state.payments.run_due_queries(10).await;
    assert_eq!(get(app, key, &no).await["status"], "closed");
    assert_eq!(at_wechat(app, &no).await, OrderState::Closed);
}

async fn hostile(app: &TestApp, key: &str) {
    // A code of the v2 wallet on the v3 channel: this wallet never issued it.
    let v2 = code_of(app, ProviderKind::WechatpayV2, CodeBehaviour::Pay).await;
    let (status, other) = post(app, key, sale(&v2, 100)).await;
    assert_eq!(status, 201, "{other}");
    assert_eq!(other["pay_result"], "declined", "{other}");
    assert_eq!(other["channel"], V3);
    // A WeChat-looking code nobody issued.
    let (_, forged) = post(app, key, sale("134567890123456789", 100)).await;
    assert_eq!(forged["pay_result"], "declined", "{forged}");
    // Not a payment code, an Alipay code on the WeChat channel: refused before any call.
    for bad in ["12ab", "28763443825664394", "1234567890123456789"] {
        let (status, body) = post(app, key, sale(bad, 100)).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
    }
    // Hostile input on the v3 wallet page.
    for bad in ["1\r\nSet-Cookie: x=1", "\"><script>", ""] {
        assert_eq!(confirm(app, bad).await, 404, "{bad:?}");
    }
    // The wallet page shows v3 codes.
    let page = reqwest::get(format!("{}/sandbox/wallet/wechatpay", app.base))
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("data-code=\"12"),
        "a v3 code on the wallet page"
    );

    // No channel named: a WeChat code still goes to the v2 sandbox, which does not know a
    // v3 wallet's code.
    let c = code(app, CodeBehaviour::Pay).await;
    let mut body = sale(&c, 100);
    body.as_object_mut().expect("object").remove("channel");
    let (_, unnamed) = post(app, key, body).await;
    assert_eq!(unnamed["channel"], "wechatpay-v2-sandbox", "{unnamed}");
    assert_eq!(unnamed["pay_result"], "declined", "{unnamed}");
}

/// The answer to a charge is lost (a timeout after WeChat took the money): the order is
/// queried at once and found paid, never charged again.
async fn lost_answer(app: &TestApp, key: &str) {
    let c = code(app, CodeBehaviour::Pay).await;
    let set = app.state.sandbox.get().await.expect("sandbox");
    set.wechatpay
        .lose_next_pay_answer
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, lost) = post(app, key, sale(&c, 4321)).await;
    assert_eq!(status, 201, "{lost}");
    assert_eq!(lost["pay_result"], "paid", "{lost}");
    assert_eq!(lost["status"], "paid");
    let no = lost["out_trade_no"].as_str().expect("no");
    assert_eq!(at_wechat(app, no).await, OrderState::Paid);
    let lost_it = set
        .wechatpay
        .lose_next_pay_answer
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(!lost_it, "the answer was lost (the fault was used)");
}

async fn story(app: &TestApp) {
    let key = api_key(app).await;
    paid_declined_and_duplicate(app, &key).await;
    lost_answer(app, &key).await;
    password(app, &key).await;
    hostile(app, &key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options {
        payment_settings: Some(settings()),
        ..Options::default()
    };
    let app = spawn_app_with(dir.path(), options).await;
    story(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(pg) = PgSchema::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options {
        database_url: Some(pg.url.clone()),
        payment_settings: Some(settings()),
        ..Options::default()
    };
    let app = spawn_app_with(dir.path(), options).await;
    story(&app).await;
    app.state.store.close().await;
    pg.drop().await;
}
