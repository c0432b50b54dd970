//! Known-answer tests: every entry of `tests/fixtures/vectors.json`.

mod provider_fixtures;

use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::alipay::cert::{cert_sn, root_cert_sn};
use paydesk_core::provider::alipay::client::verify_response;
use paydesk_core::provider::alipay::notify;
use paydesk_core::provider::alipay::sign::{SignScope, sign_request, string_to_sign};
use paydesk_core::provider::alipay::{AlipayConfig, AlipayKeys};
use paydesk_core::provider::crypto::{RsaSigner, RsaVerifier, aes256gcm_decrypt, b64_decode};
use paydesk_core::provider::wechatpay::auth::{AuthParams, authorization, request_message};
use paydesk_core::provider::wechatpay::certs::decrypt_certificates;
use paydesk_core::provider::wechatpay::verify::{PlatformKeys, SignedHeaders, verify_message};
use paydesk_core::provider::{HeaderMap, NotifyEvent, form, stripe};
use provider_fixtures::{s, vectors};

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    h
}

fn alipay_cfg() -> AlipayConfig {
    AlipayConfig {
        channel: "kat".into(),
        app_id: "2021000000000000".into(),
        app_private_key: RsaSigner::from_pem_or_base64(&s(
            "alipay_notify",
            "alipay_private_key_pem",
        ))
        .expect("private key"),
        keys: AlipayKeys::PublicKey(
            RsaVerifier::from_pem_or_base64(&s("alipay_notify", "alipay_public_key_pem"))
                .expect("public key"),
        ),
        gateway_url: "http://127.0.0.1:1/gateway.do".into(),
    }
}

#[test]
fn every_vector_entry_has_a_test() {
    // Keep this list in sync with the tests below: a new entry must get a test.
    let covered = [
        "wechatpay_rsa_sign",
        "wechatpay_request_authorization",
        "wechatpay_notify_signature",
        "wechatpay_aead_aes_256_gcm",
        "wechatpay_certificates_download",
        "alipay_notify",
        "alipay_request",
        "alipay_precreate_response",
        "alipay_sync_response_real",
        "alipay_root_cert_sn",
        "alipay_cert_sn_fzlee",
        "stripe_webhook",
    ];
    let v = vectors();
    let mut entries: Vec<&String> = v.as_object().expect("object").keys().collect();
    entries.sort();
    let mut expected: Vec<&str> = covered.to_vec();
    expected.sort();
    assert_eq!(entries, expected);
}

#[test]
fn wechatpay_rsa_sign() {
    let key =
        RsaSigner::from_pem_or_base64(&s("wechatpay_rsa_sign", "private_key_pem")).expect("key");
    let msg = s("wechatpay_rsa_sign", "message");
    let sig = key.sign_b64(msg.as_bytes());
    assert_eq!(sig, s("wechatpay_rsa_sign", "signature_b64"));
    key.verifier()
        .verify_b64(msg.as_bytes(), &sig)
        .expect("verifies");
}

#[test]
fn wechatpay_request_authorization() {
    let key =
        RsaSigner::from_pem_or_base64(&s("wechatpay_rsa_sign", "private_key_pem")).expect("key");
    let message = s("wechatpay_request_authorization", "message");
    let parts: Vec<&str> = message.splitn(5, '\n').collect();
    let (method, url, ts, nonce) = (
        parts[0],
        parts[1],
        parts[2].parse::<i64>().expect("ts"),
        parts[3],
    );
    let body = parts[4].strip_suffix('\n').expect("trailing newline");
    assert_eq!(request_message(method, url, ts, nonce, body), message);
    let header = authorization(
        &AuthParams {
            mchid: &s("wechatpay_request_authorization", "mchid"),
            serial_no: &s("wechatpay_request_authorization", "merchant_serial"),
            timestamp: ts,
            nonce,
        },
        &key,
        method,
        url,
        body,
    );
    assert_eq!(
        header,
        s("wechatpay_request_authorization", "authorization_header")
    );
    assert!(header.contains(&s("wechatpay_request_authorization", "signature_b64")));
}

#[test]
fn wechatpay_notify_signature() {
    let v = vectors();
    let e = &v["wechatpay_notify_signature"];
    let keys = PlatformKeys::new(None);
    let serial = keys
        .add_certificate_pem(e["platform_certificate_pem"].as_str().expect("pem"))
        .expect("cert");
    assert_eq!(serial, "D7CE59D1F522D701");
    let hm: Vec<(&str, &str)> = e["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().expect("str")))
        .collect();
    let h = headers(&hm);
    let body = e["body"].as_str().expect("body").as_bytes();
    let sh = SignedHeaders::from_headers(&h).expect("headers");
    assert_eq!(
        verify_message(sh.timestamp, sh.nonce, body),
        e["verify_message"].as_str().expect("msg").as_bytes()
    );
    keys.verify(&sh, body, 1_624_523_846).expect("verifies");
}

#[test]
fn wechatpay_aead_aes_256_gcm() {
    let e = "wechatpay_aead_aes_256_gcm";
    let plain = aes256gcm_decrypt(
        s(e, "apiv3_key").as_bytes(),
        s(e, "nonce").as_bytes(),
        s(e, "associated_data").as_bytes(),
        &b64_decode(&s(e, "ciphertext_b64")).expect("b64"),
    )
    .expect("decrypts");
    assert_eq!(plain, s(e, "plaintext").as_bytes());
}

#[test]
fn wechatpay_certificates_download() {
    let e = "wechatpay_certificates_download";
    let certs = decrypt_certificates(
        s(e, "apiv3_key").as_bytes(),
        s(e, "response_body").as_bytes(),
    )
    .expect("decrypt");
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].serial, s(e, "decrypted_certificate_serial"));
    assert_eq!(
        certs[0].pem.trim(),
        s(e, "decrypted_certificate_pem").trim()
    );
}

#[test]
fn alipay_notify() {
    let body = s("alipay_notify", "form_body");
    let pairs = form::decode(body.as_bytes()).expect("form");
    assert_eq!(
        string_to_sign(&pairs, SignScope::Notify),
        s("alipay_notify", "string_to_sign")
    );
    let cfg = alipay_cfg();
    let verified = notify::verify(body.as_bytes(), &cfg).expect("verifies");
    assert_eq!(
        verified.get("sign"),
        Some(s("alipay_notify", "sign").as_str())
    );
    // The subject holds a literal '+' (sent as %2B) and a space (sent as '+').
    assert_eq!(verified.get("subject"), Some("会员+1 测试"));
    let ev = notify::parse(body.as_bytes(), &cfg).expect("event");
    assert_eq!(
        ev,
        NotifyEvent::Paid {
            out_trade_no: "ORDER1".into(),
            trade_no: "2024010122001489861008118997".into(),
            amount: Money::new(1, Currency::Cny).expect("money"),
        }
    );
    assert_eq!(notify::ack_success().body, "success");
}

#[test]
fn alipay_request() {
    let (sts, sign) = provider_fixtures::alipay_request();
    let params: Vec<(String, String)> = sts
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("k=v");
            (k.to_string(), v.to_string())
        })
        .rev() // order must not matter
        .collect();
    assert_eq!(string_to_sign(&params, SignScope::Request), sts);
    assert!(sts.contains("sign_type=RSA2"));
    let key = alipay_cfg().app_private_key;
    assert_eq!(sign_request(&params, &key), sign);
}

#[test]
fn alipay_precreate_response() {
    let raw = s("alipay_precreate_response", "raw");
    let v = verify_response(&raw, "alipay.trade.precreate", &alipay_cfg().keys).expect("verifies");
    assert_eq!(
        v["qr_code"],
        "https://qr.alipay.com/bax03431ljhokirwl38f00a7"
    );
    assert_eq!(v["out_trade_no"], "ORDER1");
}

#[test]
fn alipay_sync_response_real() {
    let e = "alipay_sync_response_real";
    let key =
        RsaVerifier::from_pem_or_base64(&s(e, "alipay_public_key_b64")).expect("bare base64 key");
    let content = s(e, "signed_content");
    key.verify_b64(content.as_bytes(), &s(e, "sign"))
        .expect("direct");
    // The same through the response parser, wrapped the way the gateway sends it.
    let body = format!(
        "{{\"alipay_trade_pay_response\":{content},\"sign\":\"{}\"}}",
        s(e, "sign")
    );
    let v =
        verify_response(&body, "alipay.trade.pay", &AlipayKeys::PublicKey(key)).expect("verifies");
    assert_eq!(v["trade_no"], "2019082922001432790585537960");
}

#[test]
fn alipay_root_cert_sn() {
    let e = "alipay_root_cert_sn";
    assert_eq!(
        root_cert_sn(&s(e, "root_cert_chain_pem")).expect("sn"),
        s(e, "expected_root_cert_sn")
    );
}

#[test]
fn alipay_cert_sn_fzlee() {
    let e = "alipay_cert_sn_fzlee";
    assert_eq!(
        cert_sn(&s(e, "app_cert_pem")).expect("sn"),
        s(e, "expected_app_cert_sn")
    );
    assert_eq!(
        cert_sn(&s(e, "alipay_cert_pem")).expect("sn"),
        s(e, "expected_alipay_cert_sn")
    );
    assert_eq!(
        root_cert_sn(&s(e, "root_cert_chain_pem")).expect("sn"),
        s(e, "expected_root_cert_sn")
    );
}

#[test]
fn stripe_webhook() {
    let v = vectors();
    let e = &v["stripe_webhook"];
    let t = e["timestamp"].as_i64().expect("t");
    let secret = e["secret"].as_str().expect("secret");
    let payload = e["payload"].as_str().expect("payload").as_bytes();
    let header = e["header"].as_str().expect("header");
    assert_eq!(stripe::webhook::sign_header(secret, t, payload), header);
    stripe::webhook::verify(header, payload, secret, t, 300).expect("verifies");
}
