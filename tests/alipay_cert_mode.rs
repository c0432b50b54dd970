//! Alipay certificate mode against the sandbox: real answers and notifications signed with
//! Alipay's new certificate verify once it is added, the old one's still verify during the
//! overlap, and after the old one is retired what it signs is refused. And "Test
//! connection": a signed "no such order" is the expected OK, while an answer that fails
//! verification, or comes unsigned, is a bad signature.

mod provider_fixtures;
mod support;

use std::sync::Arc;

use axum::routing::post;
use paydesk_core::channel::config::{AlipaySecrets, AlipaySettings};
use paydesk_core::channel::{ChannelRegistry, ConnectionCheck, LiveChannel, Rotation};
use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::alipay::sandbox::{AlipayCertFiles, AlipayCertSandbox, AlipaySandbox};
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::{
    CreateQrRequest, FixedClock, HeaderMap, NotifyEvent, NullSink, ProviderError, VerifyError,
};
use paydesk_core::sandbox::{Ledger, serve_local};
use provider_fixtures::s;

const NOW: i64 = 1_800_000_000;
const APP_ID: &str = "2021000000000001";

/// The merchant's app key (the vectors' WeChat key stands in).
fn app_key() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("wechatpay_rsa_sign", "private_key_pem")).expect("key")
}

/// Alipay's key in public-key mode (the vectors' Alipay key).
fn alipay_key() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("alipay_notify", "alipay_private_key_pem")).expect("key")
}

async fn gateway(cert_mode: Option<AlipayCertSandbox>) -> (Arc<AlipaySandbox>, String) {
    let sb = Arc::new(AlipaySandbox {
        app_id: APP_ID.into(),
        app_public_key: app_key().verifier(),
        alipay_key: alipay_key(),
        cert_mode,
        pay_base_url: "http://paydesk.test/sandbox/pay/alipay".into(),
        ledger: Ledger::default(),
        clock: Arc::new(FixedClock(NOW)),
        lose_next_pay_answer: Default::default(),
    });
    let base = serve_local(paydesk_core::provider::alipay::sandbox::router(sb.clone()))
        .await
        .expect("serve");
    (sb, format!("{base}/gateway.do"))
}

fn settings(gateway_url: &str) -> AlipaySettings {
    AlipaySettings {
        app_id: APP_ID.into(),
        gateway_url: gateway_url.into(),
        alipay_public_key: None,
        app_cert: None,
        alipay_cert: None,
        alipay_root_cert: None,
        previous_alipay_certs: Vec::new(),
    }
}

fn secrets() -> AlipaySecrets {
    AlipaySecrets {
        app_private_key: app_key().to_pkcs1_pem().expect("pem").expose().to_string(),
    }
}

fn cert_channel(gateway_url: &str, files: &AlipayCertFiles) -> LiveChannel {
    LiveChannel::Alipay(
        AlipaySettings {
            app_cert: Some(files.app_cert.clone()),
            alipay_cert: Some(files.alipay_cert.clone()),
            alipay_root_cert: Some(files.root_cert.clone()),
            ..settings(gateway_url)
        },
        secrets(),
    )
}

fn key_channel(gateway_url: &str, alipay_public: &RsaSigner) -> LiveChannel {
    LiveChannel::Alipay(
        AlipaySettings {
            alipay_public_key: Some(alipay_public.verifier().to_spki_pem().expect("pem")),
            ..settings(gateway_url)
        },
        secrets(),
    )
}

fn order(no: &str) -> CreateQrRequest {
    CreateQrRequest {
        out_trade_no: no.into(),
        amount: Money::new(1234, Currency::Cny).expect("money"),
        subject: "tea".into(),
        notify_url: "https://merchant.test/notify".into(),
        expires_at: None,
    }
}

/// A precreate answer for order `no`, then the notification that it was paid, both from
/// the sandbox and checked by the channel's client.
async fn answer_and_notification(
    reg: &ChannelRegistry,
    sb: &AlipaySandbox,
    no: &str,
) -> (
    Result<(), ProviderError>,
    Result<NotifyEvent, ProviderError>,
) {
    let provider = reg.resolve("ali").await.expect("resolve").provider;
    let answer = provider.create_qr(&order(no)).await.map(|_| ());
    // The sandbox's ledger has the order even when our side refused its answer.
    let paid = sb.ledger.pay(no).await.expect("pay");
    let notification = provider
        .parse_notify(&HeaderMap::new(), &sb.paid_notify(&paid), NOW)
        .await;
    (answer, notification)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_signed_with_the_new_and_the_old_certificate_verify_until_the_old_is_retired() {
    let db = support::TestDb::sqlite().await;
    let reg = support::registry(&db.store, Arc::new(NullSink), NOW);
    let (cert_mode, files) =
        AlipayCertSandbox::issue(APP_ID, &app_key(), NOW - 86_400).expect("certificates");
    let old_serial = cert_mode
        .alipay_certs
        .signing()
        .expect("signing certificate")
        .serial
        .clone();
    let (sb, url) = gateway(Some(cert_mode)).await;
    reg.add_live("ali", &cert_channel(&url, &files))
        .await
        .expect("add");
    let (answer, notification) = answer_and_notification(&reg, &sb, "A1").await;
    answer.expect("signed with the current certificate");
    assert!(matches!(notification, Ok(NotifyEvent::Paid { .. })));

    // Alipay issues its next certificate; the merchant adds it next to the old one.
    let certs = sb.cert_mode.as_ref().expect("certificate mode");
    let (next_pem, next_serial) = certs.issue_next(NOW - 3600).expect("next certificate");
    reg.rotate(
        "ali",
        Rotation::AddAlipayCertificate {
            cert: next_pem,
            root: None,
        },
    )
    .await
    .expect("add the new certificate");

    // Overlap: Alipay signs with the new certificate; answers name it, notifications
    // name none; both verify. What the old one signs still verifies.
    certs.alipay_certs.sign_with(&next_serial).expect("switch");
    let (answer, notification) = answer_and_notification(&reg, &sb, "A2").await;
    answer.expect("signed with the new certificate");
    assert!(matches!(notification, Ok(NotifyEvent::Paid { .. })));
    certs.alipay_certs.sign_with(&old_serial).expect("back");
    let (answer, notification) = answer_and_notification(&reg, &sb, "A3").await;
    answer.expect("signed with the old certificate during the overlap");
    assert!(matches!(notification, Ok(NotifyEvent::Paid { .. })));

    // Retired: what the old certificate signs is refused, what the new one signs is not.
    reg.rotate("ali", Rotation::RetireAlipayCertificate(old_serial.clone()))
        .await
        .expect("retire the old certificate");
    let (answer, notification) = answer_and_notification(&reg, &sb, "A4").await;
    assert!(
        matches!(
            answer,
            Err(ProviderError::Verify(VerifyError::UnknownSerial(_)))
        ),
        "{answer:?}"
    );
    assert_eq!(
        notification,
        Err(ProviderError::Verify(VerifyError::BadSignature))
    );
    certs.alipay_certs.sign_with(&next_serial).expect("switch");
    let (answer, notification) = answer_and_notification(&reg, &sb, "A5").await;
    answer.expect("the new certificate still verifies");
    assert!(matches!(notification, Ok(NotifyEvent::Paid { .. })));
    db.finish().await;
}

/// A gateway answering every call with an unsigned "no such order".
async fn unsigned_gateway() -> String {
    let router = axum::Router::new().route(
        "/gateway.do",
        post(|| async {
            r#"{"alipay_trade_query_response":{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}}"#
        }),
    );
    format!("{}/gateway.do", serve_local(router).await.expect("serve"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_is_ok_only_for_a_verified_no_such_order() {
    let db = support::TestDb::sqlite().await;
    let reg = support::registry(&db.store, Arc::new(NullSink), NOW);
    let (_sb, url) = gateway(None).await;
    // Public-key mode: the right Alipay key, then a wrong one.
    reg.add_live("ali", &key_channel(&url, &alipay_key()))
        .await
        .expect("add");
    assert_eq!(
        reg.test_connection("ali").await.expect("test"),
        ConnectionCheck::Ok,
        "a signed ACQ.TRADE_NOT_EXIST that verifies is the expected answer"
    );
    reg.add_live("ali-wrong-key", &key_channel(&url, &app_key()))
        .await
        .expect("add");
    assert_eq!(
        reg.test_connection("ali-wrong-key").await.expect("test"),
        ConnectionCheck::BadSignature
    );
    // An unsigned "no such order" proves nothing about Alipay's key.
    let unsigned = unsigned_gateway().await;
    reg.add_live("ali-unsigned", &key_channel(&unsigned, &alipay_key()))
        .await
        .expect("add");
    assert_eq!(
        reg.test_connection("ali-unsigned").await.expect("test"),
        ConnectionCheck::BadSignature
    );

    // Certificate mode: answers signed with a certificate the channel does not list.
    let (cert_mode, files) =
        AlipayCertSandbox::issue(APP_ID, &app_key(), NOW - 86_400).expect("certificates");
    let (next_pem, next_serial) = cert_mode.issue_next(NOW).expect("next");
    let (sb, url) = gateway(Some(cert_mode)).await;
    reg.add_live("ali-cert", &cert_channel(&url, &files))
        .await
        .expect("add");
    assert_eq!(
        reg.test_connection("ali-cert").await.expect("test"),
        ConnectionCheck::Ok
    );
    let certs = sb.cert_mode.as_ref().expect("certificate mode");
    certs.alipay_certs.sign_with(&next_serial).expect("switch");
    assert_eq!(
        reg.test_connection("ali-cert").await.expect("test"),
        ConnectionCheck::BadSignature
    );
    reg.rotate(
        "ali-cert",
        Rotation::AddAlipayCertificate {
            cert: next_pem,
            root: None,
        },
    )
    .await
    .expect("add");
    assert_eq!(
        reg.test_connection("ali-cert").await.expect("test"),
        ConnectionCheck::Ok
    );
    db.finish().await;
}
