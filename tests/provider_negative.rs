//! Negative tests: each verification rule rejects what it must, with the specific reason.

mod provider_fixtures;

use std::sync::Arc;

use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::alipay::cert::AlipayCert;
use paydesk_core::provider::alipay::client::verify_response;
use paydesk_core::provider::alipay::notify;
use paydesk_core::provider::alipay::sign::{SignScope, string_to_sign};
use paydesk_core::provider::alipay::{AlipayConfig, AlipayKeys, CertMode};
use paydesk_core::provider::crypto::{RsaSigner, RsaVerifier, aes256gcm_decrypt, b64_decode};
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::stripe::{StripeClient, StripeConfig, webhook};
use paydesk_core::provider::wechatpay::resource::{self, EncryptedResource};
use paydesk_core::provider::wechatpay::verify::{
    PlatformKeys, PlatformPublicKey, SignedHeaders, verify_message,
};
use paydesk_core::provider::wechatpay::{WechatPayClient, WechatPayConfig};
use paydesk_core::provider::{
    FixedClock, HeaderMap, NotifyEvent, NullSink, Provider, ProviderError, VerifyError, form,
};
use provider_fixtures::{header_map, s};

// ---------------------------------------------------------------- helpers

/// The Alipay key pair of the vectors (stands in for "Alipay's key").
fn alipay_signer() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("alipay_notify", "alipay_private_key_pem")).expect("key")
}

fn alipay_cfg() -> AlipayConfig {
    AlipayConfig {
        channel: "neg".into(),
        app_id: "2021000000000000".into(),
        app_private_key: alipay_signer(),
        keys: AlipayKeys::PublicKey(
            RsaVerifier::from_pem_or_base64(&s("alipay_notify", "alipay_public_key_pem"))
                .expect("public key"),
        ),
        gateway_url: "http://127.0.0.1:9/gateway.do".into(),
    }
}

/// The WeChat key of the vectors; its certificate is serial D7CE59D1F522D701.
fn wechat_signer() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("wechatpay_rsa_sign", "private_key_pem")).expect("key")
}

const CERT_SERIAL: &str = "D7CE59D1F522D701";
const PUB_KEY_ID: &str = "PUB_KEY_ID_0112345678902025010100112233440000";
const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const NOW: i64 = 1_700_000_000;

fn wechat_headers(signer: &RsaSigner, serial: &str, ts: i64, body: &[u8]) -> HeaderMap {
    let nonce = "nonce123";
    let sig = signer.sign_b64(&verify_message(&ts.to_string(), nonce, body));
    header_map(&[
        ("Wechatpay-Timestamp", ts.to_string()),
        ("Wechatpay-Nonce", nonce.to_string()),
        ("Wechatpay-Serial", serial.to_string()),
        ("Wechatpay-Signature", sig),
    ])
}

/// Platform keys holding BOTH a certificate (and a second one, as during a rotation) and a
/// public key, the way a migrating merchant has them.
fn wechat_keys() -> PlatformKeys {
    let keys = PlatformKeys::new(Some(PlatformPublicKey {
        id: PUB_KEY_ID.into(),
        key: alipay_signer().verifier(),
    }));
    keys.add_certificate_pem(&s("wechatpay_notify_signature", "platform_certificate_pem"))
        .expect("cert 1");
    keys.add_certificate_pem(&s(
        "wechatpay_certificates_download",
        "decrypted_certificate_pem",
    ))
    .expect("cert 2");
    keys
}

fn wechat_client() -> WechatPayClient {
    let cfg = WechatPayConfig {
        channel: "neg".into(),
        mchid: "1230000109".into(),
        appid: "wxd678efh567hg6787".into(),
        merchant_serial: "MERCHANTSERIAL".into(),
        merchant_private_key: wechat_signer(),
        apiv3_key: APIV3_KEY.into(),
        base_url: "http://127.0.0.1:9".into(),
        platform_public_key: Some(PlatformPublicKey {
            id: PUB_KEY_ID.into(),
            key: alipay_signer().verifier(),
        }),
        platform_certificates: vec![s("wechatpay_notify_signature", "platform_certificate_pem")],
        download_certificates: false,
        retired_platform_serials: Vec::new(),
    };
    WechatPayClient::new(
        cfg,
        HttpSettings::default(),
        Arc::new(NullSink),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client")
}

fn wechat_notify_body(event_type: &str, resource_json: &serde_json::Value, aad: &str) -> Vec<u8> {
    let res = resource::encrypt(
        APIV3_KEY.as_bytes(),
        "abcdefghijkl",
        aad,
        resource_json.to_string().as_bytes(),
        Some("transaction"),
    )
    .expect("encrypt");
    serde_json::json!({
        "id": "evt-1",
        "create_time": "2023-11-15T06:13:20+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "支付成功",
        "resource": res,
    })
    .to_string()
    .into_bytes()
}

fn paid_resource(mchid: &str) -> serde_json::Value {
    serde_json::json!({
        "appid": "wxd678efh567hg6787",
        "mchid": mchid,
        "out_trade_no": "ORDER1",
        "transaction_id": "4200000001",
        "trade_state": "SUCCESS",
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    })
}

fn verify_err(r: Result<NotifyEvent, ProviderError>) -> VerifyError {
    match r {
        Err(ProviderError::Verify(v)) => v,
        other => panic!("expected a verification error, got {other:?}"),
    }
}

/// A notify body signed with the vector Alipay key after replacing parameters.
fn signed_alipay_notify(edit: impl Fn(&mut Vec<(String, String)>)) -> String {
    let body = s("alipay_notify", "form_body");
    let mut pairs: Vec<(String, String)> = form::decode(body.as_bytes())
        .expect("form")
        .into_iter()
        .filter(|(k, _)| k != "sign")
        .collect();
    edit(&mut pairs);
    let sign = alipay_signer().sign_b64(string_to_sign(&pairs, SignScope::Notify).as_bytes());
    pairs.push(("sign".into(), sign));
    form::encode(&pairs)
}

fn set(pairs: &mut [(String, String)], k: &str, v: &str) {
    for p in pairs.iter_mut() {
        if p.0 == k {
            p.1 = v.to_string();
        }
    }
}

// ---------------------------------------------------------------- Alipay notify

#[test]
fn alipay_notify_tampered_body() {
    let body = s("alipay_notify", "form_body").replace("total_amount=0.01", "total_amount=0.02");
    assert_eq!(
        notify::verify(body.as_bytes(), &alipay_cfg()),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn alipay_notify_wrong_key() {
    let mut cfg = alipay_cfg();
    cfg.keys = AlipayKeys::PublicKey(wechat_signer().verifier());
    assert_eq!(
        notify::verify(s("alipay_notify", "form_body").as_bytes(), &cfg),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn alipay_notify_double_decoded_plus() {
    let body = s("alipay_notify", "form_body");
    // A framework that already decoded the body once, then our decoder: %2B became '+'
    // and then a space.
    let predecoded = body.replace("%2B1", "+1");
    assert_eq!(
        notify::verify(predecoded.as_bytes(), &alipay_cfg()),
        Err(VerifyError::BadSignature)
    );
    // Decoding each value a second time yields "会员 1 测试", which was not what was signed.
    let once = form::decode(body.as_bytes()).expect("form");
    let twice: Vec<(String, String)> = once
        .iter()
        .map(|(k, v)| {
            let v2 = form::decode(format!("x={v}").as_bytes())
                .ok()
                .and_then(|p| p.into_iter().next())
                .map(|p| p.1)
                .unwrap_or_default();
            (k.clone(), v2)
        })
        .collect();
    let sts_twice = string_to_sign(&twice, SignScope::Notify);
    assert!(sts_twice.contains("subject=会员 1 测试"));
    let key = alipay_signer().verifier();
    assert!(
        key.verify_b64(sts_twice.as_bytes(), &s("alipay_notify", "sign"))
            .is_err()
    );
}

#[test]
fn alipay_notify_rejects_other_charset_and_sign_type() {
    let body = s("alipay_notify", "form_body");
    assert_eq!(
        notify::verify(
            body.replace("charset=utf-8", "charset=GBK").as_bytes(),
            &alipay_cfg()
        ),
        Err(VerifyError::UnsupportedCharset("GBK".into()))
    );
    assert_eq!(
        notify::verify(
            body.replace("sign_type=RSA2", "sign_type=RSA").as_bytes(),
            &alipay_cfg()
        ),
        Err(VerifyError::UnsupportedSignType("RSA".into()))
    );
    let no_sign = body.replace("&sign=", "&x_sign=");
    assert_eq!(
        notify::verify(no_sign.as_bytes(), &alipay_cfg()),
        Err(VerifyError::MissingField("sign"))
    );
    let dup = format!("{body}&out_trade_no=ORDER2");
    assert!(matches!(
        notify::verify(dup.as_bytes(), &alipay_cfg()),
        Err(VerifyError::Malformed(_))
    ));
    assert!(matches!(
        notify::verify(b"a=%ZZ", &alipay_cfg()),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn alipay_notify_checks_app_id_and_amount() {
    let other_app = signed_alipay_notify(|p| set(p, "app_id", "2021999999999999"));
    assert_eq!(
        verify_err(notify::parse(other_app.as_bytes(), &alipay_cfg())),
        VerifyError::WrongAccount("app_id")
    );
    let ev =
        notify::parse(s("alipay_notify", "form_body").as_bytes(), &alipay_cfg()).expect("event");
    assert_eq!(
        ev.check_paid_amount(Money::new(1, Currency::Cny).expect("m")),
        Ok(())
    );
    assert_eq!(
        ev.check_paid_amount(Money::new(100, Currency::Cny).expect("m")),
        Err(VerifyError::AmountMismatch)
    );
    // An amount with three decimals is refused rather than rounded.
    let odd = signed_alipay_notify(|p| set(p, "total_amount", "0.011"));
    assert!(matches!(
        notify::parse(odd.as_bytes(), &alipay_cfg()),
        Err(ProviderError::Money(_))
    ));
}

#[test]
fn alipay_notify_refund_and_closed() {
    let refund = signed_alipay_notify(|p| {
        p.push(("out_biz_no".into(), "R1".into()));
        p.push(("refund_fee".into(), "0.01".into()));
        set(p, "trade_status", "TRADE_CLOSED");
    });
    assert_eq!(
        notify::parse(refund.as_bytes(), &alipay_cfg()).expect("event"),
        NotifyEvent::RefundSucceeded {
            out_trade_no: "ORDER1".into(),
            out_refund_no: "R1".into(),
            refund_id: Some("2024010122001489861008118997".into()),
            amount: None,
            refunded_total: Some(Money::new(1, Currency::Cny).expect("m")),
        }
    );
    let closed = signed_alipay_notify(|p| set(p, "trade_status", "TRADE_CLOSED"));
    assert!(matches!(
        notify::parse(closed.as_bytes(), &alipay_cfg()).expect("event"),
        NotifyEvent::Closed { .. }
    ));
    let waiting = signed_alipay_notify(|p| set(p, "trade_status", "WAIT_BUYER_PAY"));
    assert!(matches!(
        notify::parse(waiting.as_bytes(), &alipay_cfg()).expect("event"),
        NotifyEvent::Ignored { .. }
    ));
}

// ---------------------------------------------------------------- Alipay responses

#[test]
fn alipay_response_tampered_or_reserialized() {
    let raw = s("alipay_precreate_response", "raw");
    let keys = alipay_cfg().keys;
    let tampered = raw.replace("bax03431", "bax99999");
    assert!(matches!(
        verify_response(&tampered, "alipay.trade.precreate", &keys),
        Err(ProviderError::Verify(VerifyError::BadSignature))
    ));
    // Same JSON value, different text (a space after ':'): the signature covers the text.
    let spaced = raw.replacen("\"code\":\"10000\"", "\"code\": \"10000\"", 1);
    assert!(matches!(
        verify_response(&spaced, "alipay.trade.precreate", &keys),
        Err(ProviderError::Verify(VerifyError::BadSignature))
    ));
    // Wrong key.
    let wrong = AlipayKeys::PublicKey(wechat_signer().verifier());
    assert!(matches!(
        verify_response(&raw, "alipay.trade.precreate", &wrong),
        Err(ProviderError::Verify(VerifyError::BadSignature))
    ));
    // Wrong method: the payload key is not there.
    assert!(matches!(
        verify_response(&raw, "alipay.trade.query", &keys),
        Err(ProviderError::Verify(VerifyError::MissingField(_)))
    ));
}

#[test]
fn alipay_response_codes_and_unsigned_success() {
    let keys = alipay_cfg().keys;
    let payload = r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_HAS_CLOSE","sub_msg":"交易已关闭"}"#;
    let sign = alipay_signer().sign_b64(payload.as_bytes());
    let body = format!(r#"{{"alipay_trade_refund_response":{payload},"sign":"{sign}"}}"#);
    assert_eq!(
        verify_response(&body, "alipay.trade.refund", &keys),
        Err(ProviderError::Business {
            code: "40004".into(),
            sub_code: Some("ACQ.TRADE_HAS_CLOSE".into()),
            message: "交易已关闭".into()
        })
    );
    let unsigned = r#"{"alipay_trade_refund_response":{"code":"10000","msg":"Success"}}"#;
    assert_eq!(
        verify_response(unsigned, "alipay.trade.refund", &keys),
        Err(ProviderError::Verify(VerifyError::MissingField("sign")))
    );
    let gateway_error = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}}"#;
    assert!(matches!(
        verify_response(gateway_error, "alipay.trade.refund", &keys),
        Err(ProviderError::Business { code, .. }) if code == "40002"
    ));
}

#[test]
fn alipay_cert_mode_picks_certificate_by_sn() {
    let e = "alipay_cert_sn_fzlee";
    let alipay_cert = AlipayCert::from_pem(&s(e, "alipay_cert_pem")).expect("cert");
    assert_eq!(alipay_cert.sn, s(e, "expected_alipay_cert_sn"));
    let mode = CertMode::from_pems(
        &s(e, "app_cert_pem"),
        &s(e, "alipay_cert_pem"),
        &s(e, "root_cert_chain_pem"),
    )
    .expect("cert mode");
    assert_eq!(mode.app_cert_sn, s(e, "expected_app_cert_sn"));
    assert_eq!(mode.alipay_root_cert_sn, s(e, "expected_root_cert_sn"));
    let keys = AlipayKeys::Certificate(mode);
    let payload = r#"{"code":"10000","msg":"Success"}"#;
    let body = format!(
        r#"{{"alipay_trade_close_response":{payload},"alipay_cert_sn":"0000","sign":"AAAA"}}"#
    );
    assert_eq!(
        verify_response(&body, "alipay.trade.close", &keys),
        Err(ProviderError::Verify(VerifyError::UnknownSerial(
            "0000".into()
        )))
    );
    // The right SN but a signature by another key.
    let sign = alipay_signer().sign_b64(payload.as_bytes());
    let body = format!(
        r#"{{"alipay_trade_close_response":{payload},"alipay_cert_sn":"{}","sign":"{sign}"}}"#,
        s(e, "expected_alipay_cert_sn")
    );
    assert_eq!(
        verify_response(&body, "alipay.trade.close", &keys),
        Err(ProviderError::Verify(VerifyError::BadSignature))
    );
}

// ---------------------------------------------------------------- WeChat Pay signatures

#[test]
fn wechat_accepts_certificate_and_public_key_at_once() {
    let keys = wechat_keys();
    assert_eq!(keys.certificate_serials().len(), 2);
    let body = br#"{"ok":true}"#;
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW, body);
    keys.verify(&SignedHeaders::from_headers(&h).expect("h"), body, NOW)
        .expect("certificate mode");
    // Lower-case serials are the same certificate.
    let h = wechat_headers(&wechat_signer(), &CERT_SERIAL.to_lowercase(), NOW, body);
    keys.verify(&SignedHeaders::from_headers(&h).expect("h"), body, NOW)
        .expect("case-insensitive serial");
    let h = wechat_headers(&alipay_signer(), PUB_KEY_ID, NOW, body);
    keys.verify(&SignedHeaders::from_headers(&h).expect("h"), body, NOW)
        .expect("public-key mode");
}

#[test]
fn wechat_tampered_body() {
    let keys = wechat_keys();
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW, br#"{"amount":1}"#);
    assert_eq!(
        keys.verify(
            &SignedHeaders::from_headers(&h).expect("h"),
            br#"{"amount":2}"#,
            NOW
        ),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn wechat_wrong_key_and_wrong_serial() {
    let keys = wechat_keys();
    let body = b"{}";
    // Signed by the public-key-mode key but naming the certificate: wrong key.
    let h = wechat_headers(&alipay_signer(), CERT_SERIAL, NOW, body);
    assert_eq!(
        keys.verify(&SignedHeaders::from_headers(&h).expect("h"), body, NOW),
        Err(VerifyError::BadSignature)
    );
    // Signed by the certificate key but naming the public key id.
    let h = wechat_headers(&wechat_signer(), PUB_KEY_ID, NOW, body);
    assert_eq!(
        keys.verify(&SignedHeaders::from_headers(&h).expect("h"), body, NOW),
        Err(VerifyError::BadSignature)
    );
    for serial in ["0123456789ABCDEF", "PUB_KEY_ID_OTHER"] {
        let h = wechat_headers(&wechat_signer(), serial, NOW, body);
        assert_eq!(
            keys.verify(&SignedHeaders::from_headers(&h).expect("h"), body, NOW),
            Err(VerifyError::UnknownSerial(serial.into()))
        );
    }
    // A certificate past its expiry is no longer used (the vector cert expires in 2031).
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, 2_000_000_000, body);
    assert_eq!(
        keys.verify(
            &SignedHeaders::from_headers(&h).expect("h"),
            body,
            2_000_000_000
        ),
        Err(VerifyError::UnknownSerial(CERT_SERIAL.into()))
    );
}

#[test]
fn wechat_stale_timestamp() {
    let keys = wechat_keys();
    let body = b"{}";
    for (ts, ok) in [
        (NOW - 300, true),
        (NOW + 300, true),
        (NOW - 301, false),
        (NOW + 301, false),
    ] {
        let h = wechat_headers(&wechat_signer(), CERT_SERIAL, ts, body);
        let r = keys.verify(&SignedHeaders::from_headers(&h).expect("h"), body, NOW);
        if ok {
            assert_eq!(r, Ok(()), "{ts}");
        } else {
            assert_eq!(r, Err(VerifyError::StaleTimestamp), "{ts}");
        }
    }
}

#[test]
fn wechat_signtest_probe_and_missing_headers() {
    let keys = wechat_keys();
    let h = header_map(&[
        ("Wechatpay-Timestamp", NOW.to_string()),
        ("Wechatpay-Nonce", "n".into()),
        ("Wechatpay-Serial", CERT_SERIAL.into()),
        ("Wechatpay-Signature", "WECHATPAY/SIGNTEST/abcdef".into()),
    ]);
    assert_eq!(
        keys.verify(&SignedHeaders::from_headers(&h).expect("h"), b"{}", NOW),
        Err(VerifyError::SignTestProbe)
    );
    let h = header_map(&[("Wechatpay-Timestamp", NOW.to_string())]);
    assert_eq!(
        SignedHeaders::from_headers(&h),
        Err(VerifyError::MissingHeader("Wechatpay-Nonce"))
    );
}

// ---------------------------------------------------------------- WeChat Pay AEAD

fn gcm_vector() -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    let e = "wechatpay_aead_aes_256_gcm";
    (
        s(e, "apiv3_key").into_bytes(),
        s(e, "nonce").into_bytes(),
        s(e, "associated_data").into_bytes(),
        b64_decode(&s(e, "ciphertext_b64")).expect("b64"),
    )
}

#[test]
fn gcm_truncated_tag() {
    let (k, n, a, mut ct) = gcm_vector();
    ct.pop();
    assert!(aes256gcm_decrypt(&k, &n, &a, &ct).is_err());
    ct.truncate(ct.len().saturating_sub(15));
    assert!(aes256gcm_decrypt(&k, &n, &a, &ct).is_err());
}

#[test]
fn gcm_wrong_aad_key_nonce_or_flipped_bit() {
    let (k, n, a, ct) = gcm_vector();
    assert!(aes256gcm_decrypt(&k, &n, b"associatedDatA", &ct).is_err());
    assert!(aes256gcm_decrypt(&k, &n, b"", &ct).is_err());
    let mut k2 = k.clone();
    k2[0] ^= 1;
    assert!(aes256gcm_decrypt(&k2, &n, &a, &ct).is_err());
    let mut n2 = n.clone();
    n2[0] ^= 1;
    assert!(aes256gcm_decrypt(&k, &n2, &a, &ct).is_err());
    let mut ct2 = ct.clone();
    ct2[0] ^= 1;
    assert!(aes256gcm_decrypt(&k, &n, &a, &ct2).is_err());
    assert!(aes256gcm_decrypt(&k, &n, &a, &ct).is_ok());
    // The resource wrapper refuses other algorithms before trying.
    let res = EncryptedResource {
        algorithm: "AEAD_AES_128_GCM".into(),
        ciphertext: s("wechatpay_aead_aes_256_gcm", "ciphertext_b64"),
        associated_data: String::from_utf8(a).expect("utf8"),
        nonce: String::from_utf8(n).expect("utf8"),
        original_type: None,
    };
    assert_eq!(
        resource::decrypt(&k, &res),
        Err(VerifyError::UnsupportedAlgorithm("AEAD_AES_128_GCM".into()))
    );
}

// ---------------------------------------------------------------- WeChat Pay notify, end to end

#[tokio::test]
async fn wechat_notify_paid_and_refund() {
    let client = wechat_client();
    let body = wechat_notify_body(
        "TRANSACTION.SUCCESS",
        &paid_resource("1230000109"),
        "transaction",
    );
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW, &body);
    assert_eq!(
        client.parse_notify(&h, &body, NOW).await.expect("paid"),
        NotifyEvent::Paid {
            out_trade_no: "ORDER1".into(),
            trade_no: "4200000001".into(),
            amount: Money::new(100, Currency::Cny).expect("m"),
        }
    );
    // The same through public-key mode.
    let h = wechat_headers(&alipay_signer(), PUB_KEY_ID, NOW, &body);
    assert!(client.parse_notify(&h, &body, NOW).await.is_ok());

    let refund = serde_json::json!({
        "mchid": "1230000109", "out_trade_no": "ORDER1", "transaction_id": "4200000001",
        "out_refund_no": "R1", "refund_id": "50000001", "refund_status": "SUCCESS",
        "amount": {"total": 100, "refund": 40, "payer_total": 100, "payer_refund": 40},
    });
    let body = wechat_notify_body("REFUND.SUCCESS", &refund, "refund");
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW, &body);
    assert_eq!(
        client.parse_notify(&h, &body, NOW).await.expect("refund"),
        NotifyEvent::RefundSucceeded {
            out_trade_no: "ORDER1".into(),
            out_refund_no: "R1".into(),
            refund_id: Some("50000001".into()),
            amount: Some(Money::new(40, Currency::Cny).expect("m")),
            refunded_total: None,
        }
    );
    let body = wechat_notify_body("REFUND.ABNORMAL", &refund, "refund");
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW, &body);
    assert!(matches!(
        client
            .parse_notify(&h, &body, NOW)
            .await
            .expect("refund failed"),
        NotifyEvent::RefundFailed { .. }
    ));
    assert_eq!(client.ack_success().status, 204);
    let fail = client.ack_failure("retry later");
    assert_eq!(fail.status, 500);
    assert_eq!(fail.body, r#"{"code":"FAIL","message":"retry later"}"#);
}

#[tokio::test]
async fn wechat_notify_rejections() {
    let client = wechat_client();
    // Another merchant's notification, validly signed and encrypted.
    let body = wechat_notify_body(
        "TRANSACTION.SUCCESS",
        &paid_resource("1999999999"),
        "transaction",
    );
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW, &body);
    assert_eq!(
        verify_err(client.parse_notify(&h, &body, NOW).await),
        VerifyError::WrongAccount("mchid")
    );
    // Stale.
    let body = wechat_notify_body(
        "TRANSACTION.SUCCESS",
        &paid_resource("1230000109"),
        "transaction",
    );
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW - 301, &body);
    assert_eq!(
        verify_err(client.parse_notify(&h, &body, NOW).await),
        VerifyError::StaleTimestamp
    );
    // Unknown serial and downloading disabled.
    let h = wechat_headers(&wechat_signer(), "ABCDEF", NOW, &body);
    assert_eq!(
        verify_err(client.parse_notify(&h, &body, NOW).await),
        VerifyError::UnknownSerial("ABCDEF".into())
    );
    // Signed correctly but the resource was encrypted under different associated data
    // than it claims: decryption fails.
    let mut v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    v["resource"]["associated_data"] = "refund".into();
    let body = v.to_string().into_bytes();
    let h = wechat_headers(&wechat_signer(), CERT_SERIAL, NOW, &body);
    assert_eq!(
        verify_err(client.parse_notify(&h, &body, NOW).await),
        VerifyError::Decrypt
    );
}

// ---------------------------------------------------------------- Stripe

fn stripe_vector() -> (String, i64, Vec<u8>, String) {
    let v = provider_fixtures::vectors();
    let e = &v["stripe_webhook"];
    (
        e["secret"].as_str().expect("s").to_string(),
        e["timestamp"].as_i64().expect("t"),
        e["payload"].as_str().expect("p").as_bytes().to_vec(),
        e["header"].as_str().expect("h").to_string(),
    )
}

#[test]
fn stripe_tampered_payload_and_wrong_secret() {
    let (secret, t, payload, header) = stripe_vector();
    let mut tampered = payload.clone();
    tampered.push(b' ');
    assert_eq!(
        webhook::verify(&header, &tampered, &secret, t, 300),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        webhook::verify(&header, &payload, "whsec_other", t, 300),
        Err(VerifyError::BadSignature)
    );
    // The whole `whsec_…` string is the key, not the part after the prefix.
    let stripped = secret.trim_start_matches("whsec_");
    assert_eq!(
        webhook::verify(&header, &payload, stripped, t, 300),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn stripe_tolerance_and_header_forms() {
    let (secret, t, payload, header) = stripe_vector();
    assert_eq!(
        webhook::verify(&header, &payload, &secret, t + 300, 300),
        Ok(())
    );
    assert_eq!(
        webhook::verify(&header, &payload, &secret, t + 301, 300),
        Err(VerifyError::StaleTimestamp)
    );
    let good_v1 = header.split(",v1=").nth(1).expect("v1");
    // Several v1 (secret rotation): one match is enough, in any position.
    let multi = format!("t={t},v1={},v1={good_v1},v0=deadbeef", "00".repeat(32));
    assert_eq!(webhook::verify(&multi, &payload, &secret, t, 300), Ok(()));
    // Only v0 is not trusted.
    let v0 = format!("t={t},v0={good_v1}");
    assert_eq!(
        webhook::verify(&v0, &payload, &secret, t, 300),
        Err(VerifyError::MissingField("v1"))
    );
    assert_eq!(
        webhook::verify(&format!("v1={good_v1}"), &payload, &secret, t, 300),
        Err(VerifyError::MissingField("t"))
    );
    // A timestamp other than the signed one breaks the signature.
    let moved = format!("t={},v1={good_v1}", t + 1);
    assert_eq!(
        webhook::verify(&moved, &payload, &secret, t, 300),
        Err(VerifyError::BadSignature)
    );
    let not_hex = format!("t={t},v1=zz");
    assert_eq!(
        webhook::verify(&not_hex, &payload, &secret, t, 300),
        Err(VerifyError::BadSignature)
    );
}

#[tokio::test]
async fn stripe_notify_end_to_end() {
    let client = StripeClient::new(
        StripeConfig {
            channel: "neg".into(),
            secret_key: "sk_test_x".into(),
            webhook_secret: "whsec_test_secret".into(),
            previous_webhook_secrets: Vec::new(),
            api_base: "http://127.0.0.1:9".into(),
            success_url: "https://example.com/ok".into(),
            cancel_url: None,
        },
        HttpSettings::default(),
        Arc::new(NullSink),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    let payload = serde_json::json!({
        "id": "evt_1", "object": "event", "type": "checkout.session.completed",
        "data": {"object": {
            "id": "cs_test_1", "object": "checkout.session", "client_reference_id": "ORDER1",
            "payment_intent": "pi_1", "payment_status": "paid", "status": "complete",
            "amount_total": 1999, "currency": "usd"
        }}
    })
    .to_string();
    let sig = webhook::sign_header("whsec_test_secret", NOW, payload.as_bytes());
    let h = header_map(&[("Stripe-Signature", sig.clone())]);
    assert_eq!(
        client
            .parse_notify(&h, payload.as_bytes(), NOW)
            .await
            .expect("paid"),
        NotifyEvent::Paid {
            out_trade_no: "ORDER1".into(),
            trade_no: "pi_1".into(),
            amount: Money::new(1999, Currency::Usd).expect("m"),
        }
    );
    assert_eq!(
        verify_err(client.parse_notify(&h, payload.as_bytes(), NOW + 301).await),
        VerifyError::StaleTimestamp
    );
    assert_eq!(
        verify_err(
            client
                .parse_notify(&HeaderMap::new(), payload.as_bytes(), NOW)
                .await
        ),
        VerifyError::MissingHeader("Stripe-Signature")
    );
    assert_eq!(client.ack_success().status, 200);
}
