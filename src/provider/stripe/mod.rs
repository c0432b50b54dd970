//! Stripe: form-encoded API calls with `Authorization: Bearer sk_…` and an `Idempotency-Key`
//! on every POST; Checkout Sessions as the QR target; webhook `Stripe-Signature` verification.
//!
//! - [`webhook`]: signature header and event interpretation
//! - [`client`]: the [`Provider`](crate::provider::Provider) implementation

pub mod client;
pub mod live;
pub mod sandbox;
pub mod slice;
pub mod webhook;

pub use client::StripeClient;

use crate::provider::secret::SecretString;

pub const PRODUCTION_API_BASE: &str = "https://api.stripe.com";

/// One Stripe account channel.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// Our channel name (the `{channel}` of the notify URL).
    pub channel: String,
    /// `sk_live_…` / `sk_test_…` (or a restricted `rk_…` key).
    pub secret_key: SecretString,
    /// The endpoint's `whsec_…` signing secret, used whole as the HMAC key.
    pub webhook_secret: SecretString,
    /// Older signing secrets still accepted while a rotation overlaps (Stripe keeps a
    /// rolled secret valid for a while); events signed with any of them verify.
    pub previous_webhook_secrets: Vec<SecretString>,
    /// [`PRODUCTION_API_BASE`] or our sandbox (`{base}/sandbox/stripe`); `/v1/…` is appended.
    pub api_base: String,
    /// Where Checkout sends the payer after paying (required by Stripe).
    pub success_url: String,
    pub cancel_url: Option<String>,
}
