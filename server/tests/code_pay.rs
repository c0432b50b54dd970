//! Payment by the customer's code (付款码) through the merchant API and the Alipay sandbox,
//! on SQLite and Postgres: paid at once; a used code refused; a password confirmed on the
//! sandbox wallet page and found by the active query; a declined balance; a wait that runs
//! out and is cancelled at the provider; and an answer lost in a timeout settled by the
//! query. The sandbox's codes come from its wallet (`SandboxSet::issue_pay_code`), as a
//! phone would show them.

use std::time::Duration;

use paydesk_core::payments::PaymentSettings;
use paydesk_core::provider::ProviderKind;
use paydesk_core::sandbox::{CodeBehaviour, OrderState};
use paydesk_core::vault::MasterKey;
use serde_json::{Value, json};

mod support;
use support::{Options, PgSchema, TestApp, spawn_app_with};

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

async fn code(app: &TestApp, behaviour: CodeBehaviour) -> String {
    code_of(app, ProviderKind::Alipay, behaviour).await
}

async fn code_of(app: &TestApp, kind: ProviderKind, behaviour: CodeBehaviour) -> String {
    let set = app.state.sandbox.get().await.expect("sandbox");
    set.issue_pay_code(kind, behaviour, paydesk_core::time::now_ms())
        .await
        .expect("issue")
        .expect("the Alipay sandbox has payment codes")
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

fn sale(code: &str, amount: i64) -> Value {
    json!({"amount": amount, "currency": "CNY", "subject": "counter sale", "auth_code": code})
}

async fn story(app: &TestApp) {
    let key = api_key(app).await;

    // Paid at once; the channel is picked by the code's wallet.
    let c = code(app, CodeBehaviour::Pay).await;
    let (status, paid) = post(app, &key, sale(&c, 1234)).await;
    assert_eq!(status, 201, "{paid}");
    assert_eq!(paid["pay_result"], "paid", "{paid}");
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["pay_method"], "code");
    assert_eq!(paid["channel"], "alipay-sandbox");
    assert!(
        paid["provider_trade_no"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    // The same code again is never charged twice.
    let (_, again) = post(app, &key, sale(&c, 1234)).await;
    assert_eq!(again["pay_result"], "declined", "{again}");
    assert_eq!(again["decline_code"], "ACQ.PAYMENT_AUTH_CODE_INVALID");
    assert_eq!(again["status"], "closed");

    // Not enough balance: declined, nothing charged.
    let c = code(app, CodeBehaviour::Decline).await;
    let (_, declined) = post(app, &key, sale(&c, 500)).await;
    assert_eq!(declined["pay_result"], "declined", "{declined}");
    assert_eq!(declined["decline_code"], "ACQ.BUYER_BALANCE_NOT_ENOUGH");
    assert_eq!(declined["status"], "closed");

    // The customer confirms with the password on the wallet page; the query finds it.
    let c = code(app, CodeBehaviour::Password).await;
    let (_, waiting) = post(app, &key, sale(&c, 888)).await;
    assert_eq!(waiting["pay_result"], "user_paying", "{waiting}");
    assert_eq!(waiting["status"], "pending");
    let no = waiting["out_trade_no"].as_str().expect("no").to_string();
    let confirm = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/sandbox/wallet/alipay/confirm", app.base))
        .form(&[("code", c.as_str())])
        .send()
        .await
        .expect("confirm");
    assert_eq!(confirm.status().as_u16(), 303);
    app.state.payments.run_due_queries(10).await;
    assert_eq!(get(app, &key, &no).await["status"], "paid");

    // Nobody confirms: at the end of the wait the order is cancelled at Alipay (and the
    // sandbox's order book says closed), never merely closed here.
    let c = code(app, CodeBehaviour::Password).await;
    let (_, waiting) = post(app, &key, sale(&c, 777)).await;
    assert_eq!(waiting["pay_result"], "user_paying");
    let no = waiting["out_trade_no"].as_str().expect("no").to_string();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.state.payments.run_due_queries(10).await;
    let cancelled = get(app, &key, &no).await;
    assert_eq!(cancelled["status"], "closed", "{cancelled}");
    let set = app.state.sandbox.get().await.expect("sandbox");
    let internal = app
        .state
        .store
        .list_orders(&Default::default())
        .await
        .expect("orders")
        .into_iter()
        .find(|o| o.merchant_facing_no() == no)
        .expect("the order");
    let at_alipay = set
        .ledger(ProviderKind::Alipay)
        .get(&internal.out_trade_no)
        .await
        .expect("ledger")
        .expect("order at Alipay");
    assert_eq!(at_alipay.state, OrderState::Closed);
    // Confirming now is too late: the wallet's order is closed.
    let _ = reqwest::Client::new()
        .post(format!("{}/sandbox/wallet/alipay/confirm", app.base))
        .form(&[("code", c.as_str())])
        .send()
        .await;
    app.state.payments.run_due_queries(10).await;
    assert_eq!(get(app, &key, &no).await["status"], "closed");

    // The answer to a charge is lost (a timeout after Alipay charged the code): the order
    // is queried at once and found paid, never charged again.
    let c = code(app, CodeBehaviour::Pay).await;
    set.alipay
        .lose_next_pay_answer
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, lost) = post(app, &key, sale(&c, 4321)).await;
    assert_eq!(status, 201, "{lost}");
    assert_eq!(lost["pay_result"], "paid", "{lost}");
    assert_eq!(lost["status"], "paid");

    // Hostile input on the wallet page: a code that is no code (newline, quote) is 404,
    // never a broken redirect.
    for bad in ["1\r\nSet-Cookie: x=1", "\"><script>", ""] {
        let r = reqwest::Client::new()
            .post(format!("{}/sandbox/wallet/alipay/confirm", app.base))
            .form(&[("code", bad)])
            .send()
            .await
            .expect("confirm");
        assert_eq!(r.status().as_u16(), 404, "{bad:?}");
    }
    let page = reqwest::get(format!(
        "{}/sandbox/wallet/alipay?code=%22%3E%3Cscript%3E&t=9999999999999",
        app.base
    ))
    .await
    .expect("page")
    .text()
    .await
    .expect("text");
    assert!(!page.contains("\"><script>"), "escaped");

    // Hostile input: not a payment code, another wallet's code on the Alipay channel.
    let (status, bad) = post(app, &key, sale("12ab", 100)).await;
    assert_eq!(status, 422, "{bad}");
    let wechat = "134567890123456789";
    let mut body = sale(wechat, 100);
    body["channel"] = "alipay-sandbox".into();
    let (status, bad) = post(app, &key, body).await;
    assert_eq!(status, 422, "{bad}");
    // A WeChat code the wallet never issued: declined by WeChat, nothing charged.
    let (status, bad) = post(app, &key, sale(wechat, 100)).await;
    assert_eq!(status, 201, "{bad}");
    assert_eq!(bad["pay_result"], "declined", "{bad}");
    assert_eq!(bad["channel"], "wechatpay-v2-sandbox");

    // WeChat Pay v2 micropay: paid at once…
    let c = code_of(app, ProviderKind::WechatpayV2, CodeBehaviour::Pay).await;
    let (_, paid) = post(app, &key, sale(&c, 660)).await;
    assert_eq!(paid["pay_result"], "paid", "{paid}");
    assert_eq!(paid["channel"], "wechatpay-v2-sandbox");
    // …declined…
    let c = code_of(app, ProviderKind::WechatpayV2, CodeBehaviour::Decline).await;
    let (_, declined) = post(app, &key, sale(&c, 660)).await;
    assert_eq!(declined["decline_code"], "NOTENOUGH", "{declined}");
    // …and USERPAYING until the wait runs out: reversed over mutual TLS.
    let c = code_of(app, ProviderKind::WechatpayV2, CodeBehaviour::Password).await;
    let (_, waiting) = post(app, &key, sale(&c, 660)).await;
    assert_eq!(waiting["pay_result"], "user_paying", "{waiting}");
    let no = waiting["out_trade_no"].as_str().expect("no").to_string();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.state.payments.run_due_queries(10).await;
    assert_eq!(get(app, &key, &no).await["status"], "closed");
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
