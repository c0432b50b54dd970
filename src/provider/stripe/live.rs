//! A live Stripe channel: its settings and secrets, the credentials form's fields, how a
//! form or the CLI becomes a channel, validation, the client config, and the webhook
//! secret rotation steps.

use serde::{Deserialize, Serialize};

use super::{PRODUCTION_API_BASE, StripeConfig};
use crate::channel::config::{
    ChannelSummary, ConfigProblem, not_found, problem, secret_fingerprint, url,
};
use crate::channel::input::ChannelInput;
use crate::channel::rotation::Rotation;
use crate::channel_form::{FieldKind, FieldSpec};
use crate::provider::secret::SecretString;

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

/// The credentials form, in order (`gateway` is common to every provider).
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "secret_key",
        kind: FieldKind::Secret,
    },
    FieldSpec {
        name: "webhook_secret",
        kind: FieldKind::Secret,
    },
    FieldSpec {
        name: "success_url",
        kind: FieldKind::Text,
    },
];

pub const DEFAULT_GATEWAY: &str = PRODUCTION_API_BASE;

/// The channel the fields describe; secrets left empty keep `existing`'s. Without a
/// `success_url`, Checkout sends the payer back to this server's front page.
pub fn from_input(
    input: &dyn ChannelInput,
    existing: Option<(&StripeSettings, &StripeSecrets)>,
    public_url: &str,
) -> Result<(StripeSettings, StripeSecrets), ConfigProblem> {
    let old = existing.map(|(_, k)| k);
    let settings = StripeSettings {
        api_base: input
            .text("gateway")
            .unwrap_or_else(|| DEFAULT_GATEWAY.into()),
        success_url: input
            .text("success_url")
            .unwrap_or_else(|| format!("{}/", public_url.trim_end_matches('/'))),
    };
    let secrets = StripeSecrets {
        secret_key: input.secret("secret_key", old.map(|k| k.secret_key.as_str()))?,
        webhook_secret: input.secret("webhook_secret", old.map(|k| k.webhook_secret.as_str()))?,
        previous_webhook_secrets: old
            .map(|k| k.previous_webhook_secrets.clone())
            .unwrap_or_default(),
    };
    Ok((settings, secrets))
}

/// The stored value of each field in [`FIELDS`] (and `gateway`), for the edit form.
pub fn form_value(s: &StripeSettings, field: &str) -> String {
    match field {
        "gateway" => s.api_base.clone(),
        "success_url" => s.success_url.clone(),
        _ => String::new(),
    }
}

pub fn validate(s: &StripeSettings, k: &StripeSecrets) -> Result<ChannelSummary, ConfigProblem> {
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

/// The client config of a validated channel.
pub fn config(channel: &str, s: &StripeSettings, k: &StripeSecrets) -> StripeConfig {
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

/// The webhook-secret rotation steps; `Err(r)` hands back a step that is not Stripe's.
pub fn rotate(
    k: &mut StripeSecrets,
    r: Rotation,
) -> Result<Result<String, ConfigProblem>, Rotation> {
    Ok(match r {
        Rotation::AddWebhookSecret(new) => add_webhook_secret(k, new),
        Rotation::RetireWebhookSecret(fp) => retire_webhook_secret(k, fp),
        other => return Err(other),
    })
}

/// The new signing secret becomes the newest; the old ones stay accepted.
fn add_webhook_secret(k: &mut StripeSecrets, new: String) -> Result<String, ConfigProblem> {
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

/// Stop accepting the secret with this fingerprint (never the last one).
fn retire_webhook_secret(k: &mut StripeSecrets, fp: String) -> Result<String, ConfigProblem> {
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
