//! Key rotation with an overlap window: the new key or certificate is added next to the
//! old one, both work while the provider's side switches over, then the old one is retired.
//!
//! Each step is a pure change of a [`LiveChannel`]; the caller validates and stores the
//! result (so a rotation that would leave a channel unusable is refused like any edit).

use super::config::ConfigProblem;
use super::config::{
    LiveChannel, PreviousKey, RetiredCertificate, fingerprint, problem, secret_fingerprint, signer,
};
use crate::provider::wechatpay::verify::PlatformCert;

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

fn not_found(field: &'static str) -> ConfigProblem {
    problem(field, "no such key on this channel")
}

/// The serial (upper-case hex) of the first certificate in `pem`.
fn cert_serial(pem: &str) -> Option<String> {
    let blocks = crate::provider::crypto::pem_blocks(pem).ok()?;
    let der = &blocks.iter().find(|b| b.label == "CERTIFICATE")?.der;
    crate::provider::crypto::CertInfo::from_der(der)
        .ok()
        .map(|i| i.serial_hex_upper())
}

impl LiveChannel {
    /// Applies one rotation step. Returns a non-secret detail for the audit log
    /// (fingerprint or serial of what was added or removed).
    pub fn rotate(&mut self, r: Rotation) -> Result<String, ConfigProblem> {
        match (self, r) {
            (LiveChannel::Stripe(_, k), Rotation::AddWebhookSecret(new)) => {
                let new = new.trim().to_string();
                if !new.starts_with("whsec_") {
                    return Err(problem("webhook_secret", "must start with whsec_"));
                }
                if k.webhook_secrets().any(|w| w == new) {
                    return Err(problem("webhook_secret", "this secret is already accepted"));
                }
                let fp = secret_fingerprint(&new);
                let old = std::mem::replace(&mut k.webhook_secret, new);
                k.previous_webhook_secrets.insert(0, old);
                Ok(fp)
            }
            (LiveChannel::Stripe(_, k), Rotation::RetireWebhookSecret(fp)) => {
                if k.previous_webhook_secrets.is_empty() {
                    return Err(problem(
                        "webhook_secret",
                        "the only webhook secret cannot be retired; add its successor first",
                    ));
                }
                if secret_fingerprint(&k.webhook_secret) == fp {
                    // Retiring the newest promotes the next one.
                    k.webhook_secret = k.previous_webhook_secrets.remove(0);
                } else {
                    let before = k.previous_webhook_secrets.len();
                    k.previous_webhook_secrets
                        .retain(|w| secret_fingerprint(w) != fp);
                    if k.previous_webhook_secrets.len() == before {
                        return Err(not_found("webhook_secret"));
                    }
                }
                Ok(fp)
            }
            (LiveChannel::Wechatpay(s, _), Rotation::AddPlatformCertificate(pem)) => {
                let cert = PlatformCert::from_pem(&pem)
                    .map_err(|_| problem("platform_certificates", "not a certificate"))?;
                let known = s
                    .platform_certificates
                    .iter()
                    .filter_map(|p| PlatformCert::from_pem(p).ok())
                    .any(|c| c.serial == cert.serial);
                if known {
                    return Err(problem(
                        "platform_certificates",
                        "a certificate with this serial is already listed",
                    ));
                }
                // Adding by hand overrides an earlier retirement.
                s.retired_platform_certificates
                    .retain(|r| r.serial != cert.serial);
                s.platform_certificates.push(pem.trim().to_string());
                Ok(cert.serial)
            }
            (LiveChannel::Wechatpay(s, _), Rotation::RetirePlatformCertificate(serial)) => {
                let serial = serial.trim().to_ascii_uppercase();
                let Some(retired) = s
                    .platform_certificates
                    .iter()
                    .filter_map(|p| PlatformCert::from_pem(p).ok())
                    .find(|c| c.serial == serial)
                else {
                    return Err(not_found("platform_certificates"));
                };
                s.platform_certificates.retain(|p| {
                    PlatformCert::from_pem(p).ok().map(|c| c.serial).as_deref()
                        != Some(serial.as_str())
                });
                // Remembered, so a download does not bring it back.
                s.retired_platform_certificates.push(RetiredCertificate {
                    serial: serial.clone(),
                    not_after: retired.not_after,
                });
                Ok(serial)
            }
            (LiveChannel::Wechatpay(s, _), Rotation::SetPublicKey { id, pem }) => {
                s.public_key_id = Some(id.trim().to_string());
                s.public_key = Some(pem.trim().to_string());
                Ok(id)
            }
            (
                LiveChannel::Wechatpay(s, k),
                Rotation::RotateMerchantKey {
                    serial,
                    private_key,
                },
            ) => {
                let serial = serial.trim().to_string();
                if serial.is_empty() {
                    return Err(problem("merchant_serial", "is required"));
                }
                if serial == s.merchant_serial {
                    return Err(problem(
                        "merchant_serial",
                        "the new key needs the serial of its new certificate",
                    ));
                }
                signer("merchant_private_key", &private_key)?;
                let old = signer("merchant_private_key", &k.merchant_private_key)?;
                s.previous_merchant_keys.insert(
                    0,
                    PreviousKey {
                        serial: std::mem::replace(&mut s.merchant_serial, serial.clone()),
                        fingerprint: fingerprint(&old.verifier()),
                    },
                );
                k.merchant_private_key = private_key.trim().to_string();
                Ok(serial)
            }
            (LiveChannel::Wechatpay(s, _), Rotation::RetireMerchantKey(serial)) => {
                let before = s.previous_merchant_keys.len();
                s.previous_merchant_keys.retain(|p| p.serial != serial);
                if s.previous_merchant_keys.len() == before {
                    return Err(not_found("merchant_serial"));
                }
                Ok(serial)
            }
            (LiveChannel::Alipay(s, _), Rotation::AddAlipayCertificate { cert, root }) => {
                let serial = cert_serial(&cert)
                    .ok_or_else(|| problem("alipay_cert", "not a certificate"))?;
                let Some(current) = s.alipay_cert.take() else {
                    return Err(problem(
                        "alipay_cert",
                        "rotation needs certificate mode; save the three certificates first",
                    ));
                };
                if cert_serial(&current).as_deref() == Some(serial.as_str()) {
                    s.alipay_cert = Some(current);
                    return Err(problem(
                        "alipay_cert",
                        "this certificate is already current",
                    ));
                }
                s.previous_alipay_certs.insert(0, current);
                s.alipay_cert = Some(cert.trim().to_string());
                if let Some(root) = root.filter(|r| !r.trim().is_empty()) {
                    s.alipay_root_cert = Some(root.trim().to_string());
                }
                Ok(serial)
            }
            (LiveChannel::Alipay(s, _), Rotation::RetireAlipayCertificate(serial)) => {
                let before = s.previous_alipay_certs.len();
                s.previous_alipay_certs
                    .retain(|p| cert_serial(p).as_deref() != Some(serial.as_str()));
                if s.previous_alipay_certs.len() == before {
                    return Err(not_found("alipay_cert"));
                }
                Ok(serial)
            }
            _ => Err(wrong_provider()),
        }
    }
}
