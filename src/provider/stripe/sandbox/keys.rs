//! The Stripe sandbox's keys: the secret key and the webhook signing secret.

use serde::{Deserialize, Serialize};

use super::StripeSandbox;
use crate::provider::crypto::random_alnum;
use crate::provider::secret::SecretString;
use crate::provider::stripe::StripeConfig;
use crate::provider::{ProviderKind, SharedClock};

use crate::sandbox::keys::{KeyError, PersistedKeys};
// Stripe

#[derive(Debug, Clone)]
pub struct StripeSandboxKeys {
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
}

#[derive(Serialize, Deserialize)]
pub struct StripeDoc {
    secret_key: String,
    webhook_secret: String,
}

impl PersistedKeys for StripeSandboxKeys {
    const PROVIDER: ProviderKind = ProviderKind::Stripe;
    type Doc = StripeDoc;
    fn generate() -> Result<Self, KeyError> {
        Ok(StripeSandboxKeys {
            secret_key: SecretString::new(format!("sk_test_{}", random_alnum(48))),
            webhook_secret: SecretString::new(format!("whsec_{}", random_alnum(32))),
        })
    }
    fn to_doc(&self) -> Result<StripeDoc, KeyError> {
        Ok(StripeDoc {
            secret_key: self.secret_key.expose().to_string(),
            webhook_secret: self.webhook_secret.expose().to_string(),
        })
    }
    fn from_doc(d: StripeDoc) -> Result<Self, KeyError> {
        Ok(StripeSandboxKeys {
            secret_key: SecretString::new(d.secret_key),
            webhook_secret: SecretString::new(d.webhook_secret),
        })
    }
}

impl StripeSandboxKeys {
    /// Where a live channel reaches this sandbox, under `{public_url}/sandbox/`.
    pub const LIVE_GATEWAY_PATH: &'static str = "stripe";

    /// The files `paydesk channel sandbox-keys stripe` writes: what an admin gives a live
    /// channel whose gateway is this sandbox (named after the form's fields).
    pub fn live_channel_files(&self) -> Result<Vec<(&'static str, String)>, KeyError> {
        Ok(vec![
            ("secret_key.txt", self.secret_key.expose().to_string()),
            (
                "webhook_secret.txt",
                self.webhook_secret.expose().to_string(),
            ),
        ])
    }

    pub fn sandbox(&self, pay_base_url: &str, clock: SharedClock) -> StripeSandbox {
        StripeSandbox::new(
            self.secret_key.clone(),
            self.webhook_secret.clone(),
            pay_base_url.to_string(),
            clock,
        )
    }

    /// A channel that talks to the sandbox at `api_base` (`…/sandbox/stripe`).
    pub fn client_config(&self, channel: &str, api_base: &str, success_url: &str) -> StripeConfig {
        StripeConfig {
            channel: channel.to_string(),
            secret_key: self.secret_key.clone(),
            webhook_secret: self.webhook_secret.clone(),
            previous_webhook_secrets: Vec::new(),
            api_base: api_base.to_string(),
            success_url: success_url.to_string(),
            cancel_url: None,
        }
    }
}
