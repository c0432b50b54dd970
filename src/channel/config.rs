//! Live channels: the settings (stored as JSON, shown to admins) and secrets (sealed,
//! never shown again) of each provider, and building the provider's client config.
//!
//! Every constructor path parses the keys, so a channel with a malformed key is refused
//! when it is saved rather than failing at the first payment.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::input::ChannelInput;
use crate::channel_form::{FieldKind, FieldSpec, FormField};
use crate::provider::ProviderKind;
use crate::provider::crypto::{RsaSigner, RsaVerifier};
use crate::provider::secret::SecretString;
use crate::provider::{alipay, stripe, wechatpay};

pub use crate::provider::alipay::live::{AlipaySecrets, AlipaySettings};
pub use crate::provider::stripe::live::{StripeSecrets, StripeSettings};
pub use crate::provider::wechatpay::live::{
    PreviousKey, RetiredCertificate, WechatPaySecrets, WechatPaySettings,
};

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

pub(crate) fn verifier(field: &'static str, pem: &str) -> Result<RsaVerifier, ConfigProblem> {
    RsaVerifier::from_pem_or_base64(pem).map_err(|_| problem(field, "not an RSA public key"))
}

pub(crate) fn url(field: &'static str, u: &str) -> Result<(), ConfigProblem> {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "https" | "http") => Ok(()),
        _ => Err(problem(field, "must be an http(s) URL")),
    }
}

pub(crate) fn required(field: &'static str, v: &str) -> Result<(), ConfigProblem> {
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

pub(crate) fn cert_facts(label: &str, pem: &str) -> Option<(String, String, i64)> {
    let blocks = crate::provider::crypto::pem_blocks(pem).ok()?;
    let der = blocks.first()?.der.clone();
    let info = crate::provider::crypto::CertInfo::from_der(&der).ok()?;
    Some((
        label.to_string(),
        info.serial_hex_upper(),
        info.not_after_unix,
    ))
}

/// "No such key on this channel" for a rotation step naming an unknown key.
pub(crate) fn not_found(field: &'static str) -> ConfigProblem {
    problem(field, "no such key on this channel")
}

/// The serial (upper-case hex) of the first certificate in `pem`.
pub(crate) fn cert_serial(pem: &str) -> Option<String> {
    let blocks = crate::provider::crypto::pem_blocks(pem).ok()?;
    let der = &blocks.iter().find(|b| b.label == "CERTIFICATE")?.der;
    crate::provider::crypto::CertInfo::from_der(der)
        .ok()
        .map(|i| i.serial_hex_upper())
}

/// The one field every provider's form starts with: where its gateway is.
const GATEWAY: FieldSpec = FieldSpec {
    name: "gateway",
    kind: FieldKind::Text,
};

// Each method hands the work to the provider's folder (`src/provider/<name>/live.rs`);
// these matches are the list of providers that can be configured as live channels.
impl LiveChannel {
    pub fn provider(&self) -> ProviderKind {
        match self {
            LiveChannel::Alipay(..) => ProviderKind::Alipay,
            LiveChannel::Wechatpay(..) => ProviderKind::Wechatpay,
            LiveChannel::Stripe(..) => ProviderKind::Stripe,
        }
    }

    /// The provider's credentials form fields after the gateway; `None` for a provider
    /// that has no live channels yet.
    pub fn fields_of(provider: ProviderKind) -> Option<&'static [FieldSpec]> {
        match provider {
            ProviderKind::Alipay => Some(alipay::live::FIELDS),
            ProviderKind::Wechatpay => Some(wechatpay::live::FIELDS),
            ProviderKind::Stripe => Some(stripe::live::FIELDS),
            ProviderKind::WechatpayV2 => None,
        }
    }

    /// The form for a new channel: the production gateway (the admin may point it at the
    /// built-in sandbox instead), everything else empty.
    pub fn blank_form(provider: ProviderKind, public_url: &str) -> Option<Vec<FormField>> {
        let gateway = match provider {
            ProviderKind::Alipay => alipay::live::DEFAULT_GATEWAY,
            ProviderKind::Wechatpay => wechatpay::live::DEFAULT_GATEWAY,
            ProviderKind::Stripe => stripe::live::DEFAULT_GATEWAY,
            ProviderKind::WechatpayV2 => return None,
        };
        let fields = LiveChannel::fields_of(provider)?;
        let value = |name: &str| match name {
            "gateway" => gateway.to_string(),
            "success_url" => format!("{}/", public_url.trim_end_matches('/')),
            _ => String::new(),
        };
        Some(
            std::iter::once(&GATEWAY)
                .chain(fields)
                .map(|f| FormField::of(f, value(f.name)))
                .collect(),
        )
    }

    /// This channel's form, filled with its stored settings (secrets empty).
    pub fn form(&self) -> Vec<FormField> {
        let fields = LiveChannel::fields_of(self.provider()).unwrap_or_default();
        std::iter::once(&GATEWAY)
            .chain(fields)
            .map(|f| {
                let value = match self {
                    LiveChannel::Alipay(s, _) => alipay::live::form_value(s, f.name),
                    LiveChannel::Wechatpay(s, _) => wechatpay::live::form_value(s, f.name),
                    LiveChannel::Stripe(s, _) => stripe::live::form_value(s, f.name),
                };
                FormField::of(f, value)
            })
            .collect()
    }

    /// The channel that `input` (the form or the CLI) describes. When editing, secrets
    /// left empty and the rotation history come from `existing`.
    pub fn from_input(
        provider: ProviderKind,
        input: &dyn ChannelInput,
        existing: Option<&LiveChannel>,
        public_url: &str,
    ) -> Result<LiveChannel, ConfigProblem> {
        Ok(match provider {
            ProviderKind::Alipay => {
                let old = match existing {
                    Some(LiveChannel::Alipay(s, k)) => Some((s, k)),
                    _ => None,
                };
                let (s, k) = alipay::live::from_input(input, old)?;
                LiveChannel::Alipay(s, k)
            }
            ProviderKind::Wechatpay => {
                let old = match existing {
                    Some(LiveChannel::Wechatpay(s, k)) => Some((s, k)),
                    _ => None,
                };
                let (s, k) = wechatpay::live::from_input(input, old)?;
                LiveChannel::Wechatpay(s, k)
            }
            ProviderKind::Stripe => {
                let old = match existing {
                    Some(LiveChannel::Stripe(s, k)) => Some((s, k)),
                    _ => None,
                };
                let (s, k) = stripe::live::from_input(input, old, public_url)?;
                LiveChannel::Stripe(s, k)
            }
            ProviderKind::WechatpayV2 => return Err(no_live_v2()),
        })
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
        fn parse<S, K>(settings: &str, secrets: &str) -> Result<(S, K), ConfigProblem>
        where
            S: serde::de::DeserializeOwned,
            K: serde::de::DeserializeOwned,
        {
            let bad = |what: &'static str| problem(what, "stored document is unreadable");
            Ok((
                serde_json::from_str(settings).map_err(|_| bad("settings"))?,
                serde_json::from_str(secrets).map_err(|_| bad("secrets"))?,
            ))
        }
        let k = secrets.expose();
        Ok(match provider {
            ProviderKind::Alipay => {
                let (s, k) = parse(settings, k)?;
                LiveChannel::Alipay(s, k)
            }
            ProviderKind::Wechatpay => {
                let (s, k) = parse(settings, k)?;
                LiveChannel::Wechatpay(s, k)
            }
            ProviderKind::Stripe => {
                let (s, k) = parse(settings, k)?;
                LiveChannel::Stripe(s, k)
            }
            ProviderKind::WechatpayV2 => return Err(no_live_v2()),
        })
    }

    /// Checks every field and key; what building the client would fail on fails here.
    pub fn validate(&self) -> Result<ChannelSummary, ConfigProblem> {
        match self {
            LiveChannel::Alipay(s, k) => alipay::live::validate(s, k),
            LiveChannel::Wechatpay(s, k) => wechatpay::live::validate(s, k),
            LiveChannel::Stripe(s, k) => stripe::live::validate(s, k),
        }
    }
}

fn no_live_v2() -> ConfigProblem {
    problem(
        "provider",
        "live WeChat Pay v2 channels cannot be configured yet (the sandbox channel works)",
    )
}
