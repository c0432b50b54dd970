//! Live channels: the settings (stored as JSON, shown to admins) and secrets (sealed,
//! never shown again) of each provider, and building the provider's client config.
//!
//! Every constructor path parses the keys, so a channel with a malformed key is refused
//! when it is saved rather than failing at the first payment.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::provider::ProviderKind;
use crate::provider::alipay::cert::AlipayCert;
use crate::provider::alipay::{AlipayConfig, AlipayKeys, CertMode};
use crate::provider::crypto::{RsaSigner, RsaVerifier};
use crate::provider::secret::SecretString;
use crate::provider::stripe::StripeConfig;
use crate::provider::wechatpay::{PlatformPublicKey, WechatPayConfig};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AlipaySettings {
    pub app_id: String,
    /// Full gateway URL (`https://openapi.alipay.com/gateway.do`).
    pub gateway_url: String,
    /// Public-key mode: the Alipay public key (PEM or bare base64).
    #[serde(default)]
    pub alipay_public_key: Option<String>,
    /// Certificate mode: `appCertPublicKey_….crt`, `alipayCertPublicKey_RSA2.crt`,
    /// `alipayRootCert.crt`.
    #[serde(default)]
    pub app_cert: Option<String>,
    #[serde(default)]
    pub alipay_cert: Option<String>,
    #[serde(default)]
    pub alipay_root_cert: Option<String>,
    /// Certificate mode, during a rotation: Alipay certificates replaced by a newer one but
    /// still accepted (responses name theirs by `alipay_cert_sn`; notifications are tried
    /// against each) until retired.
    #[serde(default)]
    pub previous_alipay_certs: Vec<String>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct AlipaySecrets {
    pub app_private_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WechatPaySettings {
    pub mchid: String,
    pub appid: String,
    /// Serial of the merchant API certificate.
    pub merchant_serial: String,
    /// `https://api.mch.weixin.qq.com`
    pub base_url: String,
    /// WeChat Pay public-key mode: `PUB_KEY_ID_…` and its key.
    #[serde(default)]
    pub public_key_id: Option<String>,
    #[serde(default)]
    pub public_key: Option<String>,
    /// Platform certificates (PEM): pasted by an admin or merged from downloads
    /// (`channel::cert_refresh`). Every one verifies by its serial until it expires or is
    /// retired.
    #[serde(default)]
    pub platform_certificates: Vec<String>,
    /// Keep the platform certificates up to date by downloading `/v3/certificates`: every
    /// 12 hours (the server's background job) and when an unknown serial shows up.
    #[serde(default)]
    pub download_certificates: bool,
    /// Platform certificates an admin retired. Downloads do not bring them back (WeChat
    /// Pay keeps serving a certificate until it expires, and an admin who retired one had a
    /// reason); adding it by hand does. Each is forgotten once it has expired.
    #[serde(default)]
    pub retired_platform_certificates: Vec<RetiredCertificate>,
    /// Merchant keys replaced by a rotation: listed (serial and fingerprint, never the
    /// key) until an admin retires them, so nobody forgets to revoke them at WeChat Pay.
    /// Requests are always signed with the current key.
    #[serde(default)]
    pub previous_merchant_keys: Vec<PreviousKey>,
}

/// A platform certificate an admin retired: its serial, and its expiry (after which
/// nobody can use it and it is forgotten).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RetiredCertificate {
    pub serial: String,
    pub not_after: i64,
}

/// A replaced key, kept as a reminder: its serial and fingerprint only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PreviousKey {
    pub serial: String,
    pub fingerprint: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct WechatPaySecrets {
    pub merchant_private_key: String,
    pub apiv3_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StripeSettings {
    /// `https://api.stripe.com`
    pub api_base: String,
    /// Where Checkout sends the payer afterwards.
    pub success_url: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct StripeSecrets {
    pub secret_key: String,
    /// The newest webhook signing secret.
    pub webhook_secret: String,
    /// Older signing secrets still accepted during a rotation's overlap, newest first.
    #[serde(default)]
    pub previous_webhook_secrets: Vec<String>,
}

impl StripeSecrets {
    /// Every accepted webhook secret, newest first.
    pub fn webhook_secrets(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.webhook_secret.as_str())
            .chain(self.previous_webhook_secrets.iter().map(String::as_str))
    }
}

/// How a webhook secret is named in lists: SHA-256 prefix, useless for recovering it.
pub fn secret_fingerprint(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))[..16].to_string()
}

/// A live channel's whole configuration. `Debug` shows settings only.
#[derive(Clone)]
pub enum LiveChannel {
    Alipay(AlipaySettings, AlipaySecrets),
    Wechatpay(WechatPaySettings, WechatPaySecrets),
    Stripe(StripeSettings, StripeSecrets),
}

impl std::fmt::Debug for LiveChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LiveChannel::Alipay(s, _) => f.debug_tuple("Alipay").field(s).finish_non_exhaustive(),
            LiveChannel::Wechatpay(s, _) => {
                f.debug_tuple("Wechatpay").field(s).finish_non_exhaustive()
            }
            LiveChannel::Stripe(s, _) => f.debug_tuple("Stripe").field(s).finish_non_exhaustive(),
        }
    }
}

/// Why a channel configuration is unusable. Messages name the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ConfigProblem {
    pub field: &'static str,
    pub problem: String,
}

pub(crate) fn problem(field: &'static str, p: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        field,
        problem: p.into(),
    }
}

pub(crate) fn signer(field: &'static str, pem: &str) -> Result<RsaSigner, ConfigProblem> {
    RsaSigner::from_pem_or_base64(pem).map_err(|_| problem(field, "not an RSA private key"))
}

fn verifier(field: &'static str, pem: &str) -> Result<RsaVerifier, ConfigProblem> {
    RsaVerifier::from_pem_or_base64(pem).map_err(|_| problem(field, "not an RSA public key"))
}

fn url(field: &'static str, u: &str) -> Result<(), ConfigProblem> {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "https" | "http") => Ok(()),
        _ => Err(problem(field, "must be an http(s) URL")),
    }
}

fn required(field: &'static str, v: &str) -> Result<(), ConfigProblem> {
    if v.trim().is_empty() {
        Err(problem(field, "is required"))
    } else {
        Ok(())
    }
}

/// Non-secret facts an admin sees about a channel's keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    /// e.g. "public key" or "certificate" (Alipay), "public key + platform certificates".
    pub key_mode: String,
    /// The account id at the provider (Alipay app id, WeChat mchid).
    pub account: String,
    /// `(label, SHA-256 fingerprint prefix)` of each key.
    pub fingerprints: Vec<(String, String)>,
    /// `(label, serial, not_after unix seconds)` of each certificate.
    pub certificates: Vec<(String, String, i64)>,
}

/// SHA-256 of the public key (SPKI PEM text), first 16 hex digits: enough to tell keys
/// apart in a list, useless for recovering them.
pub fn fingerprint(public: &RsaVerifier) -> String {
    let pem = public.to_spki_pem().unwrap_or_default();
    hex::encode(Sha256::digest(pem.as_bytes()))[..16].to_string()
}

fn cert_facts(label: &str, pem: &str) -> Option<(String, String, i64)> {
    let blocks = crate::provider::crypto::pem_blocks(pem).ok()?;
    let der = blocks.first()?.der.clone();
    let info = crate::provider::crypto::CertInfo::from_der(&der).ok()?;
    Some((
        label.to_string(),
        info.serial_hex_upper(),
        info.not_after_unix,
    ))
}

impl LiveChannel {
    pub fn provider(&self) -> ProviderKind {
        match self {
            LiveChannel::Alipay(..) => ProviderKind::Alipay,
            LiveChannel::Wechatpay(..) => ProviderKind::Wechatpay,
            LiveChannel::Stripe(..) => ProviderKind::Stripe,
        }
    }

    /// `(settings JSON, secrets JSON)` for storage; the secrets text is sealed by the caller.
    pub fn to_json(&self) -> (String, SecretString) {
        let (s, k) = match self {
            LiveChannel::Alipay(s, k) => (serde_json::to_string(s), serde_json::to_string(k)),
            LiveChannel::Wechatpay(s, k) => (serde_json::to_string(s), serde_json::to_string(k)),
            LiveChannel::Stripe(s, k) => (serde_json::to_string(s), serde_json::to_string(k)),
        };
        (
            s.unwrap_or_default(),
            SecretString::new(k.unwrap_or_default()),
        )
    }

    pub fn from_json(
        provider: ProviderKind,
        settings: &str,
        secrets: &SecretString,
    ) -> Result<LiveChannel, ConfigProblem> {
        let bad = |what: &'static str| problem(what, "stored document is unreadable");
        let k = secrets.expose();
        Ok(match provider {
            ProviderKind::Alipay => LiveChannel::Alipay(
                serde_json::from_str(settings).map_err(|_| bad("settings"))?,
                serde_json::from_str(k).map_err(|_| bad("secrets"))?,
            ),
            ProviderKind::Wechatpay => LiveChannel::Wechatpay(
                serde_json::from_str(settings).map_err(|_| bad("settings"))?,
                serde_json::from_str(k).map_err(|_| bad("secrets"))?,
            ),
            ProviderKind::WechatpayV2 => {
                return Err(problem(
                    "provider",
                    "live WeChat Pay v2 channels cannot be configured yet (the sandbox channel works)",
                ));
            }
            ProviderKind::Stripe => LiveChannel::Stripe(
                serde_json::from_str(settings).map_err(|_| bad("settings"))?,
                serde_json::from_str(k).map_err(|_| bad("secrets"))?,
            ),
        })
    }

    /// Checks every field and key; what [`LiveChannel::build`] would fail on fails here.
    pub fn validate(&self) -> Result<ChannelSummary, ConfigProblem> {
        match self {
            LiveChannel::Alipay(s, k) => {
                required("app_id", &s.app_id)?;
                url("gateway_url", &s.gateway_url)?;
                let app = signer("app_private_key", &k.app_private_key)?;
                let keys = alipay_keys(s)?;
                let mut summary = ChannelSummary {
                    account: s.app_id.clone(),
                    fingerprints: vec![("app key".into(), fingerprint(&app.verifier()))],
                    ..ChannelSummary::default()
                };
                match &keys {
                    AlipayKeys::PublicKey(v) => {
                        summary.key_mode = "public key".into();
                        summary
                            .fingerprints
                            .push(("Alipay public key".into(), fingerprint(v)));
                    }
                    AlipayKeys::Certificate(_) => {
                        summary.key_mode = "certificate".into();
                        for (label, pem) in [
                            ("app certificate", &s.app_cert),
                            ("Alipay certificate", &s.alipay_cert),
                        ] {
                            if let Some(f) = pem.as_deref().and_then(|p| cert_facts(label, p)) {
                                summary.certificates.push(f);
                            }
                        }
                        for pem in &s.previous_alipay_certs {
                            if let Some(f) = cert_facts("previous Alipay certificate", pem) {
                                summary.certificates.push(f);
                            }
                        }
                    }
                }
                Ok(summary)
            }
            LiveChannel::Wechatpay(s, k) => {
                required("mchid", &s.mchid)?;
                required("appid", &s.appid)?;
                required("merchant_serial", &s.merchant_serial)?;
                url("base_url", &s.base_url)?;
                let key = signer("merchant_private_key", &k.merchant_private_key)?;
                if k.apiv3_key.len() != 32 {
                    return Err(problem("apiv3_key", "must be exactly 32 characters"));
                }
                let public = wechat_public_key(s)?;
                if public.is_none()
                    && s.platform_certificates.is_empty()
                    && !s.download_certificates
                {
                    return Err(problem(
                        "public_key",
                        "give the WeChat Pay public key (PUB_KEY_ID_…) or platform certificates, or allow downloading them",
                    ));
                }
                let mut summary = ChannelSummary {
                    account: s.mchid.clone(),
                    fingerprints: vec![(
                        format!("merchant key {}", s.merchant_serial),
                        fingerprint(&key.verifier()),
                    )],
                    ..ChannelSummary::default()
                };
                for old in &s.previous_merchant_keys {
                    summary.fingerprints.push((
                        format!("previous merchant key {}", old.serial),
                        old.fingerprint.clone(),
                    ));
                }
                let mut modes = Vec::new();
                if let Some(p) = &public {
                    modes.push("public key");
                    summary
                        .fingerprints
                        .push((p.id.clone(), fingerprint(&p.key)));
                }
                if !s.platform_certificates.is_empty() || s.download_certificates {
                    modes.push("platform certificates");
                }
                summary.key_mode = modes.join(" + ");
                for pem in &s.platform_certificates {
                    let f = cert_facts("platform certificate", pem)
                        .ok_or_else(|| problem("platform_certificates", "not a certificate"))?;
                    summary.certificates.push(f);
                }
                Ok(summary)
            }
            LiveChannel::Stripe(s, k) => {
                url("api_base", &s.api_base)?;
                url("success_url", &s.success_url)?;
                if !(k.secret_key.starts_with("sk_") || k.secret_key.starts_with("rk_")) {
                    return Err(problem("secret_key", "must start with sk_ or rk_"));
                }
                for w in k.webhook_secrets() {
                    if !w.starts_with("whsec_") {
                        return Err(problem("webhook_secret", "must start with whsec_"));
                    }
                }
                let mut fingerprints = vec![(
                    "secret key".to_string(),
                    crate::provider::secret::mask_tail(&k.secret_key, 8),
                )];
                for (i, w) in k.webhook_secrets().enumerate() {
                    let label = if i == 0 {
                        "webhook secret"
                    } else {
                        "previous webhook secret"
                    };
                    fingerprints.push((label.to_string(), secret_fingerprint(w)));
                }
                Ok(ChannelSummary {
                    key_mode: "secret key".into(),
                    account: String::new(),
                    fingerprints,
                    certificates: Vec::new(),
                })
            }
        }
    }
}

fn alipay_keys(s: &AlipaySettings) -> Result<AlipayKeys, ConfigProblem> {
    match (
        &s.alipay_public_key,
        &s.app_cert,
        &s.alipay_cert,
        &s.alipay_root_cert,
    ) {
        (Some(pk), None, None, None) => {
            Ok(AlipayKeys::PublicKey(verifier("alipay_public_key", pk)?))
        }
        (None, Some(app), Some(alipay), Some(root)) => {
            let mut mode = CertMode::from_pems(app, alipay, root)
                .map_err(|e| problem("certificates", e.to_string()))?;
            for pem in &s.previous_alipay_certs {
                mode.alipay_certs.push(
                    AlipayCert::from_pem(pem)
                        .map_err(|_| problem("alipay_cert", "not a certificate"))?,
                );
            }
            Ok(AlipayKeys::Certificate(mode))
        }
        _ => Err(problem(
            "alipay_public_key",
            "give either the Alipay public key, or all three certificates (app, Alipay, root)",
        )),
    }
}

fn wechat_public_key(s: &WechatPaySettings) -> Result<Option<PlatformPublicKey>, ConfigProblem> {
    match (&s.public_key_id, &s.public_key) {
        (Some(id), Some(pem)) => {
            if !id.starts_with("PUB_KEY_ID_") {
                return Err(problem("public_key_id", "must start with PUB_KEY_ID_"));
            }
            Ok(Some(PlatformPublicKey {
                id: id.clone(),
                key: verifier("public_key", pem)?,
            }))
        }
        (None, None) => Ok(None),
        _ => Err(problem(
            "public_key_id",
            "the public key and its id go together",
        )),
    }
}

/// Client configs of a validated live channel.
pub(crate) fn alipay_config(
    channel: &str,
    s: &AlipaySettings,
    k: &AlipaySecrets,
) -> Result<AlipayConfig, ConfigProblem> {
    Ok(AlipayConfig {
        channel: channel.to_string(),
        app_id: s.app_id.clone(),
        app_private_key: signer("app_private_key", &k.app_private_key)?,
        keys: alipay_keys(s)?,
        gateway_url: s.gateway_url.clone(),
    })
}

pub(crate) fn wechatpay_config(
    channel: &str,
    s: &WechatPaySettings,
    k: &WechatPaySecrets,
) -> Result<WechatPayConfig, ConfigProblem> {
    Ok(WechatPayConfig {
        channel: channel.to_string(),
        mchid: s.mchid.clone(),
        appid: s.appid.clone(),
        merchant_serial: s.merchant_serial.clone(),
        merchant_private_key: signer("merchant_private_key", &k.merchant_private_key)?,
        apiv3_key: SecretString::new(k.apiv3_key.clone()),
        base_url: s.base_url.clone(),
        platform_public_key: wechat_public_key(s)?,
        platform_certificates: s.platform_certificates.clone(),
        download_certificates: s.download_certificates,
        retired_platform_serials: s
            .retired_platform_certificates
            .iter()
            .map(|r| r.serial.clone())
            .collect(),
    })
}

pub(crate) fn stripe_config(channel: &str, s: &StripeSettings, k: &StripeSecrets) -> StripeConfig {
    StripeConfig {
        channel: channel.to_string(),
        secret_key: SecretString::new(k.secret_key.clone()),
        webhook_secret: SecretString::new(k.webhook_secret.clone()),
        previous_webhook_secrets: k
            .previous_webhook_secrets
            .iter()
            .map(|w| SecretString::new(w.clone()))
            .collect(),
        api_base: s.api_base.clone(),
        success_url: s.success_url.clone(),
        cancel_url: None,
    }
}
