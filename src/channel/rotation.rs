//! Key rotation with an overlap window: the new key or certificate is added next to the
//! old one, both work while the provider's side switches over, then the old one is retired.
//!
//! Each step is a pure change of a [`LiveChannel`]; the caller validates and stores the
//! result (so a rotation that would leave a channel unusable is refused like any edit).

use super::config::{ConfigProblem, LiveChannel, problem};
use crate::provider::{alipay, stripe, wechatpay};

/// One rotation step. Secrets inside are moved into the sealed document, never logged.
#[derive(Clone)]
pub enum Rotation {
    /// Stripe: the new signing secret becomes the newest; the old ones stay accepted.
    AddWebhookSecret(String),
    /// Stripe: stop accepting the secret with this fingerprint (never the last one).
    RetireWebhookSecret(String),
    /// WeChat Pay: another platform certificate, accepted by its serial.
    AddPlatformCertificate(String),
    /// WeChat Pay: drop the platform certificate with this serial.
    RetirePlatformCertificate(String),
    /// WeChat Pay public-key mode (`PUB_KEY_ID_…`): accepted next to the certificates.
    SetPublicKey { id: String, pem: String },
    /// WeChat Pay: sign with a new merchant key from now on; the old one stays listed.
    RotateMerchantKey { serial: String, private_key: String },
    /// WeChat Pay: forget a replaced merchant key (by serial).
    RetireMerchantKey(String),
    /// Alipay certificate mode: a new Alipay public certificate (and optionally the new
    /// root chain) becomes current; the old certificate is still accepted.
    AddAlipayCertificate { cert: String, root: Option<String> },
    /// Alipay: stop accepting the previous certificate with this serial (hex, upper case).
    RetireAlipayCertificate(String),
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.action())
    }
}

impl Rotation {
    /// The audit-log action name.
    pub fn action(&self) -> &'static str {
        match self {
            Rotation::AddWebhookSecret(_) => "webhook_secret_added",
            Rotation::RetireWebhookSecret(_) => "webhook_secret_retired",
            Rotation::AddPlatformCertificate(_) => "platform_certificate_added",
            Rotation::RetirePlatformCertificate(_) => "platform_certificate_retired",
            Rotation::SetPublicKey { .. } => "public_key_set",
            Rotation::RotateMerchantKey { .. } => "merchant_key_rotated",
            Rotation::RetireMerchantKey(_) => "merchant_key_retired",
            Rotation::AddAlipayCertificate { .. } => "alipay_certificate_added",
            Rotation::RetireAlipayCertificate(_) => "alipay_certificate_retired",
        }
    }
}

fn wrong_provider() -> ConfigProblem {
    problem("provider", "this rotation does not apply to this provider")
}

impl LiveChannel {
    /// Applies one rotation step. Returns a non-secret detail for the audit log
    /// (fingerprint or serial of what was added or removed).
    pub fn rotate(&mut self, r: Rotation) -> Result<String, ConfigProblem> {
        let handed_back = match self {
            LiveChannel::Alipay(s, _) => alipay::live::rotate(s, r),
            LiveChannel::Wechatpay(s, k) => wechatpay::live::rotate(s, k, r),
            LiveChannel::Stripe(_, k) => stripe::live::rotate(k, r),
        };
        handed_back.unwrap_or_else(|_| Err(wrong_provider()))
    }
}
