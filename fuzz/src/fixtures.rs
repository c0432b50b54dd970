//! Keys and channels from `tests/fixtures/vectors.json` — the same set-up as
//! `tests/provider_negative.rs`, so a seed that verifies here verifies there.

use std::sync::Arc;

use paydesk_core::provider::alipay::{AlipayClient, AlipayConfig, AlipayKeys};
use paydesk_core::provider::crypto::{RsaSigner, RsaVerifier};
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::stripe::{StripeClient, StripeConfig};
use paydesk_core::provider::wechatpay::{PlatformPublicKey, WechatPayClient, WechatPayConfig};
use paydesk_core::provider::{FixedClock, NullSink};

pub const VECTORS: &str = include_str!("../../tests/fixtures/vectors.json");

/// "Now" for every verification (Unix seconds): the seeds are signed for this instant and
/// the WeChat platform certificate of the vectors is valid at it.
pub const NOW: i64 = 1_700_000_000;

pub const ALIPAY_APP_ID: &str = "2021000000000000";
pub const WECHAT_MCHID: &str = "1230000109";
pub const WECHAT_APPID: &str = "wxd678efh567hg6787";
/// The 32-byte APIv3 key of the AEAD vector.
pub const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
/// Serial of `wechatpay_notify_signature.platform_certificate_pem` (key: `wechatpay_rsa_sign`).
pub const CERT_SERIAL: &str = "D7CE59D1F522D701";
/// Public-key mode id; its key is the Alipay vector key pair (as in the provider tests).
pub const PUB_KEY_ID: &str = "PUB_KEY_ID_0112345678902025010100112233440000";
pub const STRIPE_SECRET: &str = "whsec_test_secret";
/// A second, rolled webhook secret: both must verify during a rotation.
pub const STRIPE_OLD_SECRET: &str = "whsec_previous_secret";

/// `vectors[entry][field]` as a string.
pub fn vector(entry: &str, field: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(VECTORS).expect("vectors.json is JSON");
    v[entry][field]
        .as_str()
        .unwrap_or_else(|| panic!("vector {entry}.{field} missing"))
        .to_string()
}

/// The Alipay vector key pair (stands in for Alipay's key).
pub fn alipay_signer() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&vector("alipay_notify", "alipay_private_key_pem"))
        .expect("alipay private key")
}

pub fn alipay_keys() -> AlipayKeys {
    AlipayKeys::PublicKey(
        RsaVerifier::from_pem_or_base64(&vector("alipay_notify", "alipay_public_key_pem"))
            .expect("alipay public key"),
    )
}

pub fn alipay_cfg() -> AlipayConfig {
    AlipayConfig {
        channel: "fuzz".into(),
        app_id: ALIPAY_APP_ID.into(),
        app_private_key: alipay_signer(),
        keys: alipay_keys(),
        gateway_url: "http://127.0.0.1:9/gateway.do".into(),
    }
}

/// The WeChat merchant key of the vectors; its certificate has serial [`CERT_SERIAL`].
pub fn wechat_signer() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&vector("wechatpay_rsa_sign", "private_key_pem"))
        .expect("wechat private key")
}

/// A merchant holding a platform certificate AND a public key at once (a merchant
/// migrating between the two modes), so both verification paths are reachable.
pub fn wechat_cfg() -> WechatPayConfig {
    WechatPayConfig {
        channel: "fuzz".into(),
        mchid: WECHAT_MCHID.into(),
        appid: WECHAT_APPID.into(),
        merchant_serial: "MERCHANTSERIAL".into(),
        merchant_private_key: wechat_signer(),
        apiv3_key: APIV3_KEY.into(),
        base_url: "http://127.0.0.1:9".into(),
        platform_public_key: Some(PlatformPublicKey {
            id: PUB_KEY_ID.into(),
            key: alipay_signer().verifier(),
        }),
        platform_certificates: vec![vector(
            "wechatpay_notify_signature",
            "platform_certificate_pem",
        )],
        // Never reach for the network from a fuzz target.
        download_certificates: false,
        retired_platform_serials: Vec::new(),
    }
}

pub fn stripe_cfg() -> StripeConfig {
    StripeConfig {
        channel: "fuzz".into(),
        secret_key: "sk_test_fuzz".into(),
        webhook_secret: STRIPE_SECRET.into(),
        previous_webhook_secrets: vec![STRIPE_OLD_SECRET.into()],
        api_base: "http://127.0.0.1:9".into(),
        success_url: "https://example.com/ok".into(),
        cancel_url: None,
    }
}

pub fn alipay_client() -> AlipayClient {
    AlipayClient::new(
        alipay_cfg(),
        HttpSettings::default(),
        Arc::new(NullSink),
        Arc::new(FixedClock(NOW)),
    )
    .expect("alipay client")
}

pub fn wechat_client() -> WechatPayClient {
    WechatPayClient::new(
        wechat_cfg(),
        HttpSettings::default(),
        Arc::new(NullSink),
        Arc::new(FixedClock(NOW)),
    )
    .expect("wechat client")
}

pub fn stripe_client() -> StripeClient {
    StripeClient::new(
        stripe_cfg(),
        HttpSettings::default(),
        Arc::new(NullSink),
        Arc::new(FixedClock(NOW)),
    )
    .expect("stripe client")
}

/// A single-threaded runtime for the async entry points (nothing in them waits on I/O
/// except the store of `order_filter`).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
