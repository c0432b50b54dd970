//! Key rotation with an overlap window: during the overlap both the old and the new key
//! verify; retiring removes the old one; no secret ever shows in Debug output or in the
//! channel summary. Channel stories run on SQLite and on Postgres.

mod support;

use std::sync::Arc;

use paydesk_core::channel::config::{
    PreviousKey, StripeSecrets, StripeSettings, WechatPaySecrets, WechatPaySettings,
};
use paydesk_core::channel::{ChannelRegistry, LiveChannel, RotateError, Rotation};
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::stripe::webhook::sign_header;
use paydesk_core::provider::wechatpay::PlatformKeys;
use paydesk_core::provider::wechatpay::verify::SignedHeaders;
use paydesk_core::provider::{FixedClock, HeaderMap, NullSink, ProviderError, VerifyError};
use paydesk_core::store::Store;
use paydesk_core::vault::MasterKey;

const NOW: i64 = 1_800_000_000;
const OLD: &str = "whsec_old_secret_0123456789";
const NEW: &str = "whsec_new_secret_9876543210";

on_both_backends!(
    stripe_webhook_secrets_overlap_then_retire,
    rotations_are_stored_sealed_and_survive_a_reload,
);

fn registry(store: &Store) -> ChannelRegistry {
    ChannelRegistry::new(
        store.clone(),
        MasterKey::from_bytes([9; 32]),
        "http://127.0.0.1:9",
        Arc::new(NullSink),
        Arc::new(FixedClock(NOW)),
        HttpSettings::default(),
    )
}

fn stripe(webhook: &str) -> LiveChannel {
    LiveChannel::Stripe(
        StripeSettings {
            api_base: "http://127.0.0.1:9/sandbox/stripe".into(),
            success_url: "http://127.0.0.1:9/".into(),
        },
        StripeSecrets {
            secret_key: "sk_test_rotation_secret".into(),
            webhook_secret: webhook.into(),
            previous_webhook_secrets: Vec::new(),
        },
    )
}

fn vectors() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vectors.json"
    ))
    .expect("vectors");
    serde_json::from_str(&text).expect("json")
}

fn pem(v: &serde_json::Value, entry: &str, field: &str) -> String {
    v[entry][field].as_str().expect("pem").to_string()
}

fn wechat(certs: Vec<String>) -> LiveChannel {
    let key = RsaSigner::generate().expect("key");
    let pem = key.to_pkcs1_pem().expect("pem").expose().to_string();
    LiveChannel::Wechatpay(
        WechatPaySettings {
            mchid: "1900000001".into(),
            appid: "wx0000000000000001".into(),
            merchant_serial: "AAAA0001".into(),
            base_url: "http://127.0.0.1:9/sandbox/wechatpay".into(),
            public_key_id: None,
            public_key: None,
            platform_certificates: certs,
            download_certificates: false,
            retired_platform_certificates: Vec::new(),
            previous_merchant_keys: Vec::new(),
        },
        WechatPaySecrets {
            merchant_private_key: pem,
            apiv3_key: "0123456789abcdef0123456789abcdef".into(),
        },
    )
}

fn event() -> Vec<u8> {
    br#"{"type":"charge.succeeded","data":{"object":{}}}"#.to_vec()
}

async fn stripe_notify(reg: &ChannelRegistry, secret: &str) -> Result<(), ProviderError> {
    let body = event();
    let mut h = HeaderMap::new();
    h.insert(
        "stripe-signature",
        sign_header(secret, NOW, &body).parse().expect("header"),
    );
    let ch = reg.resolve("shop").await.expect("resolve");
    ch.provider.parse_notify(&h, &body, NOW).await.map(|_| ())
}

async fn stripe_webhook_secrets_overlap_then_retire(store: &Store) {
    let reg = registry(store);
    reg.add_live("shop", &stripe(OLD)).await.expect("add");
    stripe_notify(&reg, OLD).await.expect("old secret verifies");
    assert!(stripe_notify(&reg, NEW).await.is_err(), "not yet known");

    reg.rotate("shop", Rotation::AddWebhookSecret(NEW.into()))
        .await
        .expect("add new");
    // Overlap: both verify.
    stripe_notify(&reg, OLD).await.expect("old still verifies");
    stripe_notify(&reg, NEW).await.expect("new verifies");

    let fp_old = paydesk_core::channel::config::secret_fingerprint(OLD);
    reg.rotate("shop", Rotation::RetireWebhookSecret(fp_old))
        .await
        .expect("retire old");
    assert_eq!(
        stripe_notify(&reg, OLD).await,
        Err(ProviderError::Verify(VerifyError::BadSignature))
    );
    stripe_notify(&reg, NEW).await.expect("new still verifies");

    // The last secret cannot be retired; unknown fingerprints are refused.
    let fp_new = paydesk_core::channel::config::secret_fingerprint(NEW);
    let last = reg
        .rotate("shop", Rotation::RetireWebhookSecret(fp_new))
        .await;
    assert!(
        matches!(&last, Err(RotateError::Problem(p)) if p.field == "webhook_secret"),
        "{last:?}"
    );
    let bad = reg
        .rotate("shop", Rotation::AddWebhookSecret("not-a-secret".into()))
        .await;
    assert!(matches!(&bad, Err(RotateError::Problem(p)) if p.field == "webhook_secret"));
}

async fn rotations_are_stored_sealed_and_survive_a_reload(store: &Store) {
    let reg = registry(store);
    reg.add_live("shop", &stripe(OLD)).await.expect("add");
    reg.rotate("shop", Rotation::AddWebhookSecret(NEW.into()))
        .await
        .expect("add new");
    let row = store.channel("shop").await.expect("row").expect("exists");
    for secret in [OLD, NEW, "sk_test_rotation_secret"] {
        assert!(!row.settings.contains(secret), "settings hold no secret");
        assert!(!row.sealed_secrets.contains(secret), "secrets are sealed");
    }
    // A fresh registry (another process) reads both secrets back.
    let again = registry(store);
    stripe_notify(&again, OLD).await.expect("old");
    stripe_notify(&again, NEW).await.expect("new");
}

fn wechat_verify(keys_of: &LiveChannel) -> Result<(), VerifyError> {
    let v = vectors();
    let e = &v["wechatpay_notify_signature"];
    let LiveChannel::Wechatpay(s, _) = keys_of else {
        panic!("wechat")
    };
    let keys = PlatformKeys::new(None);
    for pem in &s.platform_certificates {
        keys.add_certificate_pem(pem).expect("cert");
    }
    let mut h = HeaderMap::new();
    for (k, val) in e["headers"].as_object().expect("headers") {
        h.insert(
            k.to_ascii_lowercase()
                .parse::<reqwest::header::HeaderName>()
                .expect("name"),
            val.as_str().expect("str").parse().expect("value"),
        );
    }
    let signed = SignedHeaders::from_headers(&h)?;
    let ts: i64 = e["headers"]["Wechatpay-Timestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("ts");
    keys.verify(&signed, e["body"].as_str().expect("body").as_bytes(), ts)
}

#[test]
fn wechat_platform_certificates_overlap_by_serial_then_retire() {
    let v = vectors();
    let signing = pem(&v, "wechatpay_notify_signature", "platform_certificate_pem");
    let other = pem(
        &v,
        "wechatpay_certificates_download",
        "decrypted_certificate_pem",
    );
    let mut ch = wechat(vec![other.clone()]);
    assert!(matches!(
        wechat_verify(&ch),
        Err(VerifyError::UnknownSerial(_))
    ));
    let serial = ch
        .rotate(Rotation::AddPlatformCertificate(signing.clone()))
        .expect("add");
    assert_eq!(serial, "D7CE59D1F522D701");
    ch.validate().expect("valid with two certificates");
    wechat_verify(&ch).expect("the new certificate verifies by its serial");
    assert_eq!(ch.validate().expect("summary").certificates.len(), 2);

    // Adding the same serial twice is refused.
    assert!(
        ch.rotate(Rotation::AddPlatformCertificate(signing))
            .is_err()
    );

    ch.rotate(Rotation::RetirePlatformCertificate(serial))
        .expect("retire");
    assert!(matches!(
        wechat_verify(&ch),
        Err(VerifyError::UnknownSerial(_))
    ));
    assert_eq!(ch.validate().expect("summary").certificates.len(), 1);
}

#[test]
fn wechat_migrates_from_certificates_to_the_public_key() {
    let v = vectors();
    let cert = pem(&v, "wechatpay_notify_signature", "platform_certificate_pem");
    let mut ch = wechat(vec![cert]);
    assert_eq!(ch.validate().expect("ok").key_mode, "platform certificates");
    let public = RsaSigner::generate()
        .expect("key")
        .verifier()
        .to_spki_pem()
        .expect("pem");
    ch.rotate(Rotation::SetPublicKey {
        id: "PUB_KEY_ID_0112345678901234567890".into(),
        pem: public,
    })
    .expect("public key");
    // Overlap: both kinds accepted at once.
    assert_eq!(
        ch.validate().expect("ok").key_mode,
        "public key + platform certificates"
    );
    wechat_verify(&ch).expect("certificate still verifies during the overlap");
    ch.rotate(Rotation::RetirePlatformCertificate(
        "D7CE59D1F522D701".into(),
    ))
    .expect("retire certificates");
    assert_eq!(ch.validate().expect("ok").key_mode, "public key");
}

#[test]
fn wechat_merchant_key_rotation_switches_signing_and_lists_the_old_key() {
    let mut ch = wechat(vec![pem(
        &vectors(),
        "wechatpay_notify_signature",
        "platform_certificate_pem",
    )]);
    let old_fp = ch.validate().expect("ok").fingerprints[0].1.clone();
    let new_key = RsaSigner::generate().expect("key");
    let new_pem = new_key.to_pkcs1_pem().expect("pem").expose().to_string();
    assert!(
        ch.rotate(Rotation::RotateMerchantKey {
            serial: "AAAA0001".into(),
            private_key: new_pem.clone(),
        })
        .is_err(),
        "a new key needs a new serial"
    );
    ch.rotate(Rotation::RotateMerchantKey {
        serial: "BBBB0002".into(),
        private_key: new_pem.clone(),
    })
    .expect("rotate");
    let LiveChannel::Wechatpay(s, k) = &ch else {
        panic!("wechat")
    };
    assert_eq!(s.merchant_serial, "BBBB0002");
    assert_eq!(k.merchant_private_key, new_pem.trim());
    assert_eq!(
        s.previous_merchant_keys,
        vec![PreviousKey {
            serial: "AAAA0001".into(),
            fingerprint: old_fp.clone(),
        }]
    );
    let summary = ch.validate().expect("ok");
    assert_ne!(summary.fingerprints[0].1, old_fp, "signs with the new key");
    assert!(summary.fingerprints.iter().any(|(_, f)| *f == old_fp));

    ch.rotate(Rotation::RetireMerchantKey("AAAA0001".into()))
        .expect("retire");
    let summary = ch.validate().expect("ok");
    assert!(!summary.fingerprints.iter().any(|(_, f)| *f == old_fp));
    assert!(
        ch.rotate(Rotation::RetireMerchantKey("AAAA0001".into()))
            .is_err()
    );
}

#[test]
fn secrets_never_show_in_debug_or_summary() {
    let mut ch = stripe(OLD);
    let step = Rotation::AddWebhookSecret(NEW.into());
    let step_debug = format!("{step:?}");
    ch.rotate(step).expect("add");
    let mut w = wechat(Vec::new());
    if let LiveChannel::Wechatpay(s, _) = &mut w {
        s.download_certificates = true;
    }
    let LiveChannel::Wechatpay(_, wk) = &w else {
        panic!("wechat")
    };
    let texts = [
        step_debug,
        format!("{ch:?}"),
        format!("{:?}", ch.validate().expect("ok")),
        serde_json::to_string(&ch.validate().expect("ok")).expect("json"),
        format!("{w:?}"),
        format!("{:?}", w.validate().expect("ok")),
    ];
    let secrets = [
        OLD,
        NEW,
        "sk_test_rotation_secret",
        wk.apiv3_key.as_str(),
        "PRIVATE KEY",
    ];
    for text in &texts {
        for s in secrets {
            assert!(!text.contains(s), "{s} leaked in {text}");
        }
    }
}

#[test]
fn alipay_certificates_overlap_then_retire() {
    use paydesk_core::channel::config::{AlipaySecrets, AlipaySettings};
    let v = vectors();
    let app_key = RsaSigner::generate().expect("key");
    let mut ch = LiveChannel::Alipay(
        AlipaySettings {
            app_id: "2021000000000001".into(),
            gateway_url: "http://127.0.0.1:9/sandbox/alipay/gateway.do".into(),
            alipay_public_key: None,
            app_cert: Some(pem(&v, "alipay_cert_sn_fzlee", "app_cert_pem")),
            alipay_cert: Some(pem(&v, "alipay_cert_sn_fzlee", "alipay_cert_pem")),
            alipay_root_cert: Some(pem(&v, "alipay_cert_sn_fzlee", "root_cert_chain_pem")),
            previous_alipay_certs: Vec::new(),
        },
        AlipaySecrets {
            app_private_key: app_key.to_pkcs1_pem().expect("pem").expose().to_string(),
        },
    );
    let before = ch.validate().expect("certificate mode");
    assert_eq!(before.key_mode, "certificate");
    let old_serial = before
        .certificates
        .iter()
        .find(|c| c.0 == "Alipay certificate")
        .map(|c| c.1.clone())
        .expect("alipay cert listed");
    // Any RSA certificate stands in for Alipay's next one.
    let next = pem(&v, "wechatpay_notify_signature", "platform_certificate_pem");
    let serial = ch
        .rotate(Rotation::AddAlipayCertificate {
            cert: next.clone(),
            root: None,
        })
        .expect("add");
    let during = ch.validate().expect("both accepted");
    let labels: Vec<(&str, &str)> = during
        .certificates
        .iter()
        .map(|c| (c.0.as_str(), c.1.as_str()))
        .collect();
    assert!(
        labels.contains(&("Alipay certificate", serial.as_str())),
        "{labels:?}"
    );
    assert!(
        labels.contains(&("previous Alipay certificate", old_serial.as_str())),
        "{labels:?}"
    );
    assert!(
        ch.rotate(Rotation::AddAlipayCertificate {
            cert: next,
            root: None
        })
        .is_err(),
        "already current"
    );
    ch.rotate(Rotation::RetireAlipayCertificate(old_serial.clone()))
        .expect("retire");
    let after = ch.validate().expect("ok");
    assert!(!after.certificates.iter().any(|c| c.1 == old_serial));
    assert!(
        ch.rotate(Rotation::RetireAlipayCertificate(old_serial))
            .is_err()
    );
}
