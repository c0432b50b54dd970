//! A live WeChat Pay (API v3) channel: its settings and secrets, the credentials form's
//! fields, how a form or the CLI becomes a channel, validation, the client config, and the
//! rotation steps (platform certificates, the public key, the merchant key).

use serde::{Deserialize, Serialize};

use super::verify::PlatformCert;
use super::{PRODUCTION_BASE_URL, PlatformPublicKey, WechatPayConfig};
use crate::channel::config::{
    ChannelSummary, ConfigProblem, cert_facts, fingerprint, not_found, problem, required, signer,
    url, verifier,
};
use crate::channel::input::{ChannelInput, split_certificates};
use crate::channel::rotation::Rotation;
use crate::channel_form::{FieldKind, FieldSpec};
use crate::provider::secret::SecretString;

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

/// The credentials form, in order (`gateway` is common to every provider).
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "mchid",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "appid",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "merchant_serial",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "merchant_private_key",
        kind: FieldKind::SecretPem,
    },
    FieldSpec {
        name: "apiv3_key",
        kind: FieldKind::Secret,
    },
    FieldSpec {
        name: "wechat_mode",
        kind: FieldKind::Hint,
    },
    FieldSpec {
        name: "public_key_id",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "public_key",
        kind: FieldKind::Pem,
    },
    FieldSpec {
        name: "platform_certificates",
        kind: FieldKind::Certificates,
    },
    FieldSpec {
        name: "download_certificates",
        kind: FieldKind::Checkbox,
    },
];

pub const DEFAULT_GATEWAY: &str = PRODUCTION_BASE_URL;

/// The channel the fields describe; secrets left empty keep `existing`'s.
pub fn from_input(
    input: &dyn ChannelInput,
    existing: Option<(&WechatPaySettings, &WechatPaySecrets)>,
) -> Result<(WechatPaySettings, WechatPaySecrets), ConfigProblem> {
    let settings = WechatPaySettings {
        mchid: input.required("mchid")?,
        appid: input.required("appid")?,
        merchant_serial: input.required("merchant_serial")?,
        base_url: input
            .text("gateway")
            .unwrap_or_else(|| DEFAULT_GATEWAY.into()),
        public_key_id: input.text("public_key_id"),
        public_key: input.text("public_key"),
        platform_certificates: split_certificates(
            &input.text("platform_certificates").unwrap_or_default(),
        ),
        download_certificates: input.flag("download_certificates"),
        retired_platform_certificates: existing
            .map(|(s, _)| s.retired_platform_certificates.clone())
            .unwrap_or_default(),
        previous_merchant_keys: existing
            .map(|(s, _)| s.previous_merchant_keys.clone())
            .unwrap_or_default(),
    };
    let secrets = WechatPaySecrets {
        merchant_private_key: input.secret(
            "merchant_private_key",
            existing.map(|(_, k)| k.merchant_private_key.as_str()),
        )?,
        apiv3_key: input.secret("apiv3_key", existing.map(|(_, k)| k.apiv3_key.as_str()))?,
    };
    Ok((settings, secrets))
}

/// The stored value of each field in [`FIELDS`] (and `gateway`), for the edit form.
pub fn form_value(s: &WechatPaySettings, field: &str) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    match field {
        "gateway" => s.base_url.clone(),
        "mchid" => s.mchid.clone(),
        "appid" => s.appid.clone(),
        "merchant_serial" => s.merchant_serial.clone(),
        "public_key_id" => opt(&s.public_key_id),
        "public_key" => opt(&s.public_key),
        "platform_certificates" => s.platform_certificates.join("\n"),
        "download_certificates" if s.download_certificates => "1".into(),
        _ => String::new(),
    }
}

pub fn validate(
    s: &WechatPaySettings,
    k: &WechatPaySecrets,
) -> Result<ChannelSummary, ConfigProblem> {
    required("mchid", &s.mchid)?;
    required("appid", &s.appid)?;
    required("merchant_serial", &s.merchant_serial)?;
    url("base_url", &s.base_url)?;
    let key = signer("merchant_private_key", &k.merchant_private_key)?;
    if k.apiv3_key.len() != 32 {
        return Err(problem("apiv3_key", "must be exactly 32 characters"));
    }
    let public = public_key(s)?;
    if public.is_none() && s.platform_certificates.is_empty() && !s.download_certificates {
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

fn public_key(s: &WechatPaySettings) -> Result<Option<PlatformPublicKey>, ConfigProblem> {
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

/// The client config of a validated channel.
pub fn config(
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
        platform_public_key: public_key(s)?,
        platform_certificates: s.platform_certificates.clone(),
        download_certificates: s.download_certificates,
        retired_platform_serials: s
            .retired_platform_certificates
            .iter()
            .map(|r| r.serial.clone())
            .collect(),
    })
}

/// The WeChat Pay rotation steps; `Err(r)` hands back a step that is not WeChat Pay's.
pub fn rotate(
    s: &mut WechatPaySettings,
    k: &mut WechatPaySecrets,
    r: Rotation,
) -> Result<Result<String, ConfigProblem>, Rotation> {
    Ok(match r {
        Rotation::AddPlatformCertificate(pem) => add_platform_certificate(s, pem),
        Rotation::RetirePlatformCertificate(serial) => retire_platform_certificate(s, serial),
        Rotation::SetPublicKey { id, pem } => {
            s.public_key_id = Some(id.trim().to_string());
            s.public_key = Some(pem.trim().to_string());
            Ok(id)
        }
        Rotation::RotateMerchantKey {
            serial,
            private_key,
        } => rotate_merchant_key(s, k, serial, private_key),
        Rotation::RetireMerchantKey(serial) => {
            let before = s.previous_merchant_keys.len();
            s.previous_merchant_keys.retain(|p| p.serial != serial);
            if s.previous_merchant_keys.len() == before {
                Err(not_found("merchant_serial"))
            } else {
                Ok(serial)
            }
        }
        other => return Err(other),
    })
}

fn add_platform_certificate(
    s: &mut WechatPaySettings,
    pem: String,
) -> Result<String, ConfigProblem> {
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

fn retire_platform_certificate(
    s: &mut WechatPaySettings,
    serial: String,
) -> Result<String, ConfigProblem> {
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
        PlatformCert::from_pem(p).ok().map(|c| c.serial).as_deref() != Some(serial.as_str())
    });
    // Remembered, so a download does not bring it back.
    s.retired_platform_certificates.push(RetiredCertificate {
        serial: serial.clone(),
        not_after: retired.not_after,
    });
    Ok(serial)
}

/// Sign with a new merchant key from now on; the old one stays listed.
fn rotate_merchant_key(
    s: &mut WechatPaySettings,
    k: &mut WechatPaySecrets,
    serial: String,
    private_key: String,
) -> Result<String, ConfigProblem> {
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
