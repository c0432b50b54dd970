//! The refusals: tampered or foreign answers and notifications, XXE bodies, the
//! sandbox's own checks (signature, account, certificate), over plain HTTP on 127.0.0.1.

use std::sync::Arc;

use axum::Router;
use axum::routing::post;

use super::sandbox::{WechatPayV2Sandbox, router};
use super::sign::{sign, sign_map};
use super::xml::{self, XmlMap};
use super::{ClientIdentity, SignType, WechatPayV2Client, WechatPayV2Config};
use crate::money::{Currency, Money};
use crate::provider::http::HttpSettings;
use crate::provider::secret::SecretString;
use crate::provider::{
    CreateQrRequest, HeaderMap, NullSink, ProviderError, ProviderRefundRequest, SharedClock,
    SystemClock, TradeRef, VerifyError,
};
use crate::sandbox::{Ledger, serve_local};

const KEY: &str = "0123456789abcdefghijklmnopqrstuv";

fn cfg(base_url: &str) -> WechatPayV2Config {
    WechatPayV2Config {
        channel: "checks".into(),
        appid: "wxcheck".into(),
        mch_id: "1600000001".into(),
        api_key: SecretString::new(KEY),
        sign_type: SignType::Md5,
        base_url: base_url.into(),
        spbill_create_ip: "127.0.0.1".into(),
        identity: None,
        root_ca_pem: None,
    }
}

fn client(cfg: WechatPayV2Config) -> WechatPayV2Client {
    let settings = HttpSettings {
        max_attempts: 1,
        ..HttpSettings::default()
    };
    let clock: SharedClock = Arc::new(SystemClock);
    WechatPayV2Client::new(cfg, settings, Arc::new(NullSink), clock).expect("client")
}

fn sandbox() -> Arc<WechatPayV2Sandbox> {
    let clock: SharedClock = Arc::new(SystemClock);
    Arc::new(WechatPayV2Sandbox::new(
        "wxcheck",
        "1600000001",
        SecretString::new(KEY),
        "http://127.0.0.1:9/pay",
        Ledger::default(),
        clock,
    ))
}

/// An order-query answer for `out_trade_no`, signed with [`KEY`].
fn query_answer(appid: &str) -> XmlMap {
    let mut m = XmlMap::new();
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("return_msg", "OK"),
        ("appid", appid),
        ("mch_id", "1600000001"),
        ("nonce_str", "abc"),
        ("result_code", "SUCCESS"),
        ("out_trade_no", "T1"),
        ("trade_state", "SUCCESS"),
        ("transaction_id", "4200001"),
        ("total_fee", "100"),
    ] {
        m.set(k, v);
    }
    let s = sign(m.iter(), SignType::Md5, &SecretString::new(KEY));
    m.set("sign", s);
    m
}

/// A fake gateway that answers every order query with `body`.
async fn fake_gateway(body: String) -> String {
    let app = Router::new().route("/pay/orderquery", post(move || async move { body }));
    serve_local(app).await.expect("serve")
}

#[tokio::test]
async fn tampered_or_foreign_answers_are_refused() {
    let genuine = query_answer("wxcheck");
    let base = fake_gateway(genuine.to_xml()).await;
    let st = client(cfg(&base))
        .query(&TradeRef::new("T1"))
        .await
        .expect("genuine answer");
    assert_eq!(
        st.amount,
        Some(Money::new(100, Currency::Cny).expect("cny"))
    );

    let mut tampered = genuine.clone();
    tampered.set("total_fee", "1");
    let base = fake_gateway(tampered.to_xml()).await;
    let r = client(cfg(&base)).query(&TradeRef::new("T1")).await;
    assert_eq!(r, Err(ProviderError::Verify(VerifyError::BadSignature)));

    let base = fake_gateway(query_answer("wxother").to_xml()).await;
    let r = client(cfg(&base)).query(&TradeRef::new("T1")).await;
    assert_eq!(
        r,
        Err(ProviderError::Verify(VerifyError::WrongAccount("appid")))
    );

    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><return_code>&e;</return_code></xml>";
    let base = fake_gateway(xxe.into()).await;
    let r = client(cfg(&base)).query(&TradeRef::new("T1")).await;
    assert!(
        matches!(r, Err(ProviderError::Verify(VerifyError::Malformed(_)))),
        "{r:?}"
    );
}

#[tokio::test]
async fn sandbox_refuses_bad_signatures_and_accounts() {
    let sb = sandbox();
    let base = serve_local(router(sb.clone())).await.expect("serve");
    let order = order_c1();
    let mut wrong_key = cfg(&base);
    wrong_key.api_key = SecretString::new("x".repeat(32));
    let r = client(wrong_key).create_qr(&order).await;
    assert!(
        matches!(&r, Err(ProviderError::Business { code, message, .. }) if code == "FAIL" && message == "签名错误"),
        "{r:?}"
    );
    let mut other_mch = cfg(&base);
    other_mch.mch_id = "1600000002".into();
    let r = client(other_mch).create_qr(&order).await;
    // The sandbox answers for its own account, which the client refuses first.
    assert_eq!(
        r,
        Err(ProviderError::Verify(VerifyError::WrongAccount("mch_id")))
    );
}

fn order_c1() -> CreateQrRequest {
    CreateQrRequest {
        out_trade_no: "C1".into(),
        amount: Money::new(10, Currency::Cny).expect("cny"),
        subject: "s".into(),
        notify_url: "https://m.example/n".into(),
        expires_at: None,
    }
}

#[tokio::test]
async fn refunds_without_a_verified_certificate_are_refused() {
    let sb = sandbox();
    let base = serve_local(router(sb.clone())).await.expect("serve");
    let c = client(cfg(&base));
    c.create_qr(&order_c1()).await.expect("create_qr");
    sb.ledger.pay("C1").await.expect("pay");
    let refund = ProviderRefundRequest {
        trade: TradeRef::new("C1"),
        out_refund_no: "CR1".into(),
        amount: Money::new(1, Currency::Cny).expect("cny"),
        total: Money::new(10, Currency::Cny).expect("cny"),
        reason: None,
        notify_url: None,
    };
    assert!(matches!(
        c.refund(&refund).await,
        Err(ProviderError::Config(_))
    ));

    // With a certificate configured but the router served without TLS, the sandbox
    // still refuses: no verified client certificate came with the request.
    let mut with_identity = cfg(&base);
    with_identity.identity = Some(ClientIdentity {
        cert_pem: String::new(),
        key_pem: SecretString::new(""),
    });
    assert!(
        matches!(
            WechatPayV2Client::new(
                with_identity,
                HttpSettings::default(),
                Arc::new(NullSink),
                Arc::new(SystemClock)
            ),
            Err(ProviderError::Config(_))
        ),
        "an unusable certificate is a configuration error"
    );
    let resp = reqwest::Client::new()
        .post(format!("{base}/secapi/pay/refund"))
        .body(signed(&[
            ("out_trade_no", "C1"),
            ("out_refund_no", "CR1"),
            ("total_fee", "10"),
            ("refund_fee", "1"),
        ]))
        .send()
        .await
        .expect("answer");
    let m = xml::parse(&resp.bytes().await.expect("body")).expect("xml");
    assert_eq!(m.get("return_code"), Some("FAIL"));
    assert_eq!(m.get("sign"), None, "gateway refusals are unsigned");
    assert!(
        sb.ledger
            .find_refund("CR1")
            .await
            .expect("ledger")
            .is_none()
    );
}

/// A request body for the sandbox of [`sandbox`], signed with [`KEY`].
fn signed(fields: &[(&str, &str)]) -> String {
    let mut m = XmlMap::new();
    m.set("appid", "wxcheck");
    m.set("mch_id", "1600000001");
    m.set("nonce_str", "nonce");
    for (k, v) in fields {
        m.set(*k, *v);
    }
    sign_map(&mut m, SignType::Md5, &SecretString::new(KEY));
    m.to_xml()
}

#[tokio::test]
async fn notifications_are_verified() {
    let sb = sandbox();
    let c = client(cfg("http://127.0.0.1:9"));
    let h = HeaderMap::new();
    sb.ledger
        .create(
            "4200",
            "wxv2_",
            "N1",
            Money::new(500, Currency::Cny).expect("cny"),
            "s",
            "https://m.example/n",
        )
        .await
        .expect("create");
    let paid = sb.ledger.pay("N1").await.expect("pay");
    let good = sb.paid_notification(&paid);
    assert!(c.parse_notify(&h, &good.body, 0).await.is_ok());

    let mut m = xml::parse(&good.body).expect("xml");
    m.set("total_fee", "1");
    let r = c.parse_notify(&h, m.to_xml().as_bytes(), 0).await;
    assert_eq!(r, Err(ProviderError::Verify(VerifyError::BadSignature)));

    let mut foreign = cfg("http://127.0.0.1:9");
    foreign.appid = "wxother".into();
    let r = client(foreign).parse_notify(&h, &good.body, 0).await;
    assert_eq!(
        r,
        Err(ProviderError::Verify(VerifyError::WrongAccount("appid")))
    );

    let o = sb
        .ledger
        .refund("N1", "NR1", Money::new(5, Currency::Cny).expect("cny"))
        .await
        .expect("refund")
        .0;
    let refund = sb.refund_notification(&o, &o.refunds[0]);
    assert!(c.parse_notify(&h, &refund.body, 0).await.is_ok());
    let mut other_key = cfg("http://127.0.0.1:9");
    other_key.api_key = SecretString::new("y".repeat(32));
    let r = client(other_key).parse_notify(&h, &refund.body, 0).await;
    assert_eq!(r, Err(ProviderError::Verify(VerifyError::Decrypt)));

    let xxe = b"<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><return_code>SUCCESS</return_code><x>&e;</x></xml>";
    let r = c.parse_notify(&h, xxe, 0).await;
    assert!(matches!(
        r,
        Err(ProviderError::Verify(VerifyError::Malformed(_)))
    ));
    let r = c
        .parse_notify(&h, &vec![b' '; xml::MAX_XML_BYTES + 1], 0)
        .await;
    assert!(matches!(
        r,
        Err(ProviderError::Verify(VerifyError::Malformed(_)))
    ));
}

#[test]
fn secrets_stay_out_of_debug() {
    let mut c = cfg("http://127.0.0.1:9");
    c.identity = Some(ClientIdentity {
        cert_pem: "CERT".into(),
        key_pem: SecretString::new("-----BEGIN PRIVATE KEY-----TOPSECRET"),
    });
    let text = format!("{c:?}");
    assert!(!text.contains(KEY) && !text.contains("TOPSECRET"), "{text}");
}

#[tokio::test]
async fn hmac_channel_refuses_md5_notifications() {
    let sb = sandbox();
    let mut hmac = cfg("http://127.0.0.1:9");
    hmac.sign_type = SignType::HmacSha256;
    let c = client(hmac);
    let h = HeaderMap::new();
    let amount = Money::new(500, Currency::Cny).expect("cny");
    sb.ledger
        .create("4200", "wxv2_", "H1", amount, "s", "https://m.example/n")
        .await
        .expect("create");
    let paid = sb.ledger.pay("H1").await.expect("pay");
    // Created through the ledger directly: the sandbox signs this one MD5, unnamed.
    let md5 = sb.paid_notification(&paid);
    let r = c.parse_notify(&h, &md5.body, 0).await;
    assert_eq!(r, Err(ProviderError::Verify(VerifyError::BadSignature)));
    let mut named = xml::parse(&md5.body).expect("xml");
    named.set("sign_type", "MD5");
    let s = sign(named.iter(), SignType::Md5, &SecretString::new(KEY));
    named.set("sign", s);
    let r = c.parse_notify(&h, named.to_xml().as_bytes(), 0).await;
    assert_eq!(
        r,
        Err(ProviderError::Verify(VerifyError::UnsupportedSignType(
            "MD5".into()
        )))
    );
}
