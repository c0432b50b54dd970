//! A live Alipay channel: its settings and secrets, the credentials form's fields, how a
//! form or the CLI becomes a channel, validation, the client config, and the Alipay
//! certificate rotation steps.

use serde::{Deserialize, Serialize};

use super::cert::AlipayCert;
use super::{AlipayConfig, AlipayKeys, CertMode, PRODUCTION_GATEWAY};
use crate::channel::config::{
    ChannelSummary, ConfigProblem, cert_facts, cert_serial, fingerprint, not_found, problem,
    required, signer, url, verifier,
};
use crate::channel::input::ChannelInput;
use crate::channel::rotation::Rotation;
use crate::channel_form::{FieldKind, FieldSpec};

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

/// The credentials form, in order (`gateway` is common to every provider).
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "app_id",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "app_private_key",
        kind: FieldKind::SecretPem,
    },
    FieldSpec {
        name: "alipay_mode",
        kind: FieldKind::Hint,
    },
    FieldSpec {
        name: "alipay_public_key",
        kind: FieldKind::Pem,
    },
    FieldSpec {
        name: "app_cert",
        kind: FieldKind::Pem,
    },
    FieldSpec {
        name: "alipay_cert",
        kind: FieldKind::Pem,
    },
    FieldSpec {
        name: "alipay_root_cert",
        kind: FieldKind::Pem,
    },
];

pub const DEFAULT_GATEWAY: &str = PRODUCTION_GATEWAY;

/// The channel the fields describe; secrets left empty keep `existing`'s.
pub fn from_input(
    input: &dyn ChannelInput,
    existing: Option<(&AlipaySettings, &AlipaySecrets)>,
) -> Result<(AlipaySettings, AlipaySecrets), ConfigProblem> {
    let settings = AlipaySettings {
        app_id: input.required("app_id")?,
        gateway_url: input
            .text("gateway")
            .unwrap_or_else(|| DEFAULT_GATEWAY.into()),
        alipay_public_key: input.text("alipay_public_key"),
        app_cert: input.text("app_cert"),
        alipay_cert: input.text("alipay_cert"),
        alipay_root_cert: input.text("alipay_root_cert"),
        previous_alipay_certs: existing
            .map(|(s, _)| s.previous_alipay_certs.clone())
            .unwrap_or_default(),
    };
    let secrets = AlipaySecrets {
        app_private_key: input.secret(
            "app_private_key",
            existing.map(|(_, k)| k.app_private_key.as_str()),
        )?,
    };
    Ok((settings, secrets))
}

/// The stored value of each field in [`FIELDS`] (and `gateway`), for the edit form.
pub fn form_value(s: &AlipaySettings, field: &str) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    match field {
        "gateway" => s.gateway_url.clone(),
        "app_id" => s.app_id.clone(),
        "alipay_public_key" => opt(&s.alipay_public_key),
        "app_cert" => opt(&s.app_cert),
        "alipay_cert" => opt(&s.alipay_cert),
        "alipay_root_cert" => opt(&s.alipay_root_cert),
        _ => String::new(),
    }
}

pub fn validate(s: &AlipaySettings, k: &AlipaySecrets) -> Result<ChannelSummary, ConfigProblem> {
    required("app_id", &s.app_id)?;
    url("gateway_url", &s.gateway_url)?;
    let app = signer("app_private_key", &k.app_private_key)?;
    let keys = keys(s)?;
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

fn keys(s: &AlipaySettings) -> Result<AlipayKeys, ConfigProblem> {
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

/// The client config of a validated channel.
pub fn config(
    channel: &str,
    s: &AlipaySettings,
    k: &AlipaySecrets,
) -> Result<AlipayConfig, ConfigProblem> {
    Ok(AlipayConfig {
        channel: channel.to_string(),
        app_id: s.app_id.clone(),
        app_private_key: signer("app_private_key", &k.app_private_key)?,
        keys: keys(s)?,
        gateway_url: s.gateway_url.clone(),
    })
}

/// The Alipay rotation steps; `Err(r)` hands back a step that is not Alipay's.
pub fn rotate(
    s: &mut AlipaySettings,
    r: Rotation,
) -> Result<Result<String, ConfigProblem>, Rotation> {
    Ok(match r {
        Rotation::AddAlipayCertificate { cert, root } => add_certificate(s, cert, root),
        Rotation::RetireAlipayCertificate(serial) => {
            let before = s.previous_alipay_certs.len();
            s.previous_alipay_certs
                .retain(|p| cert_serial(p).as_deref() != Some(serial.as_str()));
            if s.previous_alipay_certs.len() == before {
                Err(not_found("alipay_cert"))
            } else {
                Ok(serial)
            }
        }
        other => return Err(other),
    })
}

/// A new Alipay public certificate (and optionally root chain) becomes current; the old
/// one is still accepted until retired.
fn add_certificate(
    s: &mut AlipaySettings,
    cert: String,
    root: Option<String>,
) -> Result<String, ConfigProblem> {
    let serial = cert_serial(&cert).ok_or_else(|| problem("alipay_cert", "not a certificate"))?;
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
