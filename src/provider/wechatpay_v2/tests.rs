//! End-to-end tests of the v2 client against the v2 sandbox on 127.0.0.1: over mutual
//! TLS (the sandbox's CA, server and merchant certificates) and, for the checks that do
//! not need it, over plain HTTP.

use std::sync::Arc;

use super::sandbox::{SandboxTls, WechatPayV2Sandbox, router, serve_tls};
use super::sign::sign_map;
use super::xml::{self, XmlMap};
use super::{SignType, WechatPayV2Client};
use crate::money::{Currency, Money};
use crate::provider::http::HttpSettings;
use crate::provider::{
    CreateQrRequest, HeaderMap, MemorySink, NotifyEvent, ProviderError, ProviderRefundRequest,
    RefundRef, RefundState, SharedClock, SystemClock, TradeRef, TradeState,
};
use crate::sandbox::Ledger;

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("cny")
}

fn settings() -> HttpSettings {
    HttpSettings {
        max_attempts: 1,
        ..HttpSettings::default()
    }
}

fn now() -> i64 {
    crate::time::now_ms() / 1000
}

/// A sandbox served over mutual TLS and a client channel for it.
struct Tls {
    sb: Arc<WechatPayV2Sandbox>,
    tls: SandboxTls,
    base: String,
    client: WechatPayV2Client,
    sink: Arc<MemorySink>,
}

async fn over_tls(sign_type: SignType) -> Tls {
    let clock: SharedClock = Arc::new(SystemClock);
    let sb = Arc::new(WechatPayV2Sandbox::generate(
        "http://127.0.0.1:9/pay/wechatpay_v2",
        Ledger::default(),
        clock.clone(),
    ));
    let mch_id = sb.mch_id.clone();
    let tls = tokio::task::spawn_blocking(move || SandboxTls::generate(&mch_id, now()))
        .await
        .expect("join")
        .expect("certificates");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = tls.server_config().expect("server config");
    let base = serve_tls(listener, router(sb.clone()), config).expect("serve");
    let mut cfg = sb.client_config("v2", &base, &tls).expect("client config");
    cfg.sign_type = sign_type;
    let sink = Arc::new(MemorySink::default());
    let client = WechatPayV2Client::new(cfg, settings(), sink.clone(), clock).expect("client");
    Tls {
        sb,
        tls,
        base,
        client,
        sink,
    }
}

fn order(no: &str, minor: i64) -> CreateQrRequest {
    CreateQrRequest {
        out_trade_no: no.into(),
        amount: cny(minor),
        subject: "paydesk 测试订单".into(),
        notify_url: "https://merchant.example/notify/wechatpay_v2/v2".into(),
        expires_at: Some(crate::timestamp::UnixSecs(now() + 900)),
    }
}

fn refund_req(no: &str, rno: &str, minor: i64, total: i64) -> ProviderRefundRequest {
    ProviderRefundRequest {
        trade: TradeRef::new(no),
        out_refund_no: rno.into(),
        amount: cny(minor),
        total: cny(total),
        reason: Some("测试退款".into()),
        notify_url: Some("https://merchant.example/notify/wechatpay_v2/v2".into()),
    }
}

/// create_qr → pay → payment notification → query, on `env`.
async fn pay_flow(env: &Tls, no: &str, minor: i64) {
    let qr = env
        .client
        .create_qr(&order(no, minor))
        .await
        .expect("create_qr");
    assert!(
        qr.qr_content
            .starts_with("http://127.0.0.1:9/pay/wechatpay_v2/wxv2_")
    );
    let st = env.client.query(&TradeRef::new(no)).await.expect("query");
    assert_eq!(st.state, TradeState::Pending);

    let paid = env.sb.ledger.pay(no).await.expect("pay");
    let n = env.sb.paid_notification(&paid);
    assert_eq!(n.url, "https://merchant.example/notify/wechatpay_v2/v2");
    let event = env
        .client
        .parse_notify(&HeaderMap::new(), &n.body, now())
        .await
        .expect("notification verifies");
    assert_eq!(
        event,
        NotifyEvent::Paid {
            out_trade_no: no.into(),
            trade_no: paid.trade_no.clone(),
            amount: cny(minor),
        }
    );
    event.check_paid_amount(cny(minor)).expect("amount");

    let st = env.client.query(&TradeRef::new(no)).await.expect("query");
    assert_eq!(st.state, TradeState::Paid);
    assert_eq!(st.trade_no.as_deref(), Some(paid.trade_no.as_str()));
    assert_eq!(st.amount, Some(cny(minor)));
}

/// The refund request a client without a certificate would send, signed correctly.
fn signed_refund_body(env: &Tls, no: &str, rno: &str) -> String {
    let mut m = XmlMap::new();
    for (k, v) in [
        ("appid", env.sb.appid.as_str()),
        ("mch_id", &env.sb.mch_id),
        ("nonce_str", "n0nce"),
        ("out_trade_no", no),
        ("out_refund_no", rno),
        ("total_fee", "1234"),
        ("refund_fee", "100"),
    ] {
        m.set(k, v);
    }
    sign_map(&mut m, SignType::Md5, &env.sb.api_key);
    m.to_xml()
}

/// A reqwest client that trusts the sandbox CA and presents `identity` (or nothing).
fn raw_client(env: &Tls, identity: Option<&SandboxTls>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(env.tls.ca_pem().as_bytes()).expect("ca");
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca);
    if let Some(other) = identity {
        let id = other.client_identity().expect("identity");
        let pem = format!("{}\n{}", id.cert_pem, id.key_pem.expose());
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("pem"));
    }
    b.build().expect("client")
}

/// Without the merchant certificate (or with one from another CA) the TLS handshake
/// fails: no HTTP answer at all, and no refund is made.
async fn refund_refused_without_certificate(env: &Tls, no: &str) {
    let url = format!("{}/secapi/pay/refund", env.base);
    let body = signed_refund_body(env, no, "R-nocert");
    let err = raw_client(env, None)
        .post(&url)
        .body(body.clone())
        .send()
        .await
        .expect_err("the TLS layer refuses a client without certificate");
    // rustls on the server asks for the certificate and aborts the handshake.
    assert!(
        format!("{err:?}").contains("CertificateRequired"),
        "refused by the TLS layer: {err:?}"
    );

    let foreign = {
        let mch = env.sb.mch_id.clone();
        tokio::task::spawn_blocking(move || SandboxTls::generate(&mch, now()))
            .await
            .expect("join")
            .expect("foreign certificates")
    };
    let err = raw_client(env, Some(&foreign))
        .post(&url)
        .body(body)
        .send()
        .await
        .expect_err("a certificate from another CA is refused too");
    assert!(
        format!("{err:?}").contains("AlertReceived"),
        "TLS alert: {err:?}"
    );
    let o = env.sb.ledger.get(no).await.expect("ledger").expect("order");
    assert!(o.refunds.iter().all(|r| r.out_refund_no != "R-nocert"));
}

async fn refund_flow(env: &Tls, no: &str) {
    let r = env
        .client
        .refund(&refund_req(no, "R-1", 100, 1234))
        .await
        .expect("refund over mutual TLS");
    assert_eq!(r.state, RefundState::Processing);
    assert_eq!(r.amount, Some(cny(100)));
    let refund_id = r.refund_id.clone().expect("refund_id");

    refund_refused_without_certificate(env, no).await;

    let (o, rec) = env
        .sb
        .ledger
        .find_refund("R-1")
        .await
        .expect("ledger")
        .expect("refund");
    let n = env.sb.refund_notification(&o, &rec);
    assert!(
        !String::from_utf8_lossy(&n.body).contains("<sign>"),
        "refund notifications are unsigned"
    );
    let event = env
        .client
        .parse_notify(&HeaderMap::new(), &n.body, now())
        .await
        .expect("refund notification decrypts");
    assert_eq!(
        event,
        NotifyEvent::RefundSucceeded {
            out_trade_no: no.into(),
            out_refund_no: "R-1".into(),
            refund_id: Some(refund_id.clone()),
            amount: Some(cny(100)),
            refunded_total: None,
        }
    );
    let rref = |rno: &str| RefundRef {
        trade: TradeRef::new(no),
        out_refund_no: rno.into(),
        refund_id: None,
    };
    let q = env
        .client
        .query_refund(&rref("R-1"))
        .await
        .expect("refundquery");
    assert_eq!(q.state, RefundState::Succeeded);
    assert_eq!(q.refund_id, Some(refund_id));
    assert_eq!(q.amount, Some(cny(100)));
    let missing = env
        .client
        .query_refund(&rref("R-none"))
        .await
        .expect("refundquery");
    assert_eq!(missing.state, RefundState::NotFound);
    let st = env.client.query(&TradeRef::new(no)).await.expect("query");
    assert_eq!(st.state, TradeState::Refunded);

    let too_much = env.client.refund(&refund_req(no, "R-2", 1200, 1234)).await;
    assert!(matches!(too_much, Err(ProviderError::Business { code, .. }) if code == "ERROR"));
    env.sb
        .ledger
        .set_refund_balance(Some(10))
        .await
        .expect("balance");
    let poor = env.client.refund(&refund_req(no, "R-3", 11, 1234)).await;
    assert!(matches!(poor, Err(ProviderError::Business { code, .. }) if code == "NOTENOUGH"));
}

#[tokio::test]
async fn full_flow_over_mutual_tls() {
    let env = over_tls(SignType::Md5).await;
    pay_flow(&env, "V2-FLOW-1", 1234).await;
    refund_flow(&env, "V2-FLOW-1").await;

    env.client
        .create_qr(&order("V2-FLOW-2", 50))
        .await
        .expect("create_qr");
    env.client
        .close(&TradeRef::new("V2-FLOW-2"))
        .await
        .expect("close");
    env.client
        .close(&TradeRef::new("V2-FLOW-2"))
        .await
        .expect("closing again is fine");
    let st = env
        .client
        .query(&TradeRef::new("V2-FLOW-2"))
        .await
        .expect("query");
    assert_eq!(st.state, TradeState::Closed);
    let paid = env.client.close(&TradeRef::new("V2-FLOW-1")).await;
    assert!(matches!(paid, Err(ProviderError::Business { code, .. }) if code == "ORDERPAID"));
    let missing = env.client.query(&TradeRef::new("V2-NOPE")).await;
    assert!(
        matches!(missing, Err(ProviderError::Business { code, .. }) if code == "ORDERNOTEXIST")
    );

    let calls = env.sink.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "refund" && c.status == Some(200))
    );
    assert!(calls.iter().all(|c| !c.url.contains("sign")));
}

#[tokio::test]
async fn hmac_sha256_channel_flow() {
    let env = over_tls(SignType::HmacSha256).await;
    pay_flow(&env, "V2-HMAC-1", 88).await;
    let o = env
        .sb
        .ledger
        .get("V2-HMAC-1")
        .await
        .expect("ledger")
        .expect("order");
    let n = env.sb.paid_notification(&o);
    let m = xml::parse(&n.body).expect("xml");
    assert_eq!(m.get("sign_type"), Some("HMAC-SHA256"));
    assert_eq!(m.get("sign").map(str::len), Some(64));
}
