//! Channels: named provider accounts, and turning one into a ready [`Provider`].
//!
//! A channel is stored as a row (`crate::store::ChannelRow`) with non-secret settings as JSON
//! and its secrets as one JSON document sealed under the master key. Sandbox channels store
//! neither: they use the sandbox's own keys and talk to the built-in sandbox at
//! `{public_url}/sandbox/…`. A fresh install gets one sandbox channel per provider
//! ([`sandbox_channels`]).
//!
//! - [`config`]: a live channel ([`LiveChannel`]): the shared checks, and the list of providers
//!   that can be live; each provider's settings, secrets, form fields, validation and
//!   rotation steps live in its folder (`src/provider/<name>/live.rs`)
//! - [`input`]: what an admin typed (the credentials form or the CLI), by field name
//! - [`registry`]: looks channels up by name and builds (and caches) their provider clients
//! - [`rotation`]: key rotation steps with an overlap window
//! - [`cert_refresh`]: downloading WeChat Pay platform certificates into a channel
//! - [`check`]: "Test connection"

pub mod cert_refresh;
pub mod check;
mod clients;
pub mod config;
pub mod input;
pub mod registry;
pub mod rotation;

pub use check::ConnectionCheck;
pub use config::{ChannelSummary, LiveChannel};
pub use registry::{ChannelError, ChannelRegistry, ResolvedChannel, RotateError};
pub use rotation::Rotation;

use crate::provider::ProviderKind;

/// The channels every fresh install has: `(name, provider)`, one per provider.
pub fn sandbox_channels() -> impl Iterator<Item = (&'static str, ProviderKind)> {
    ProviderKind::ALL
        .into_iter()
        .map(|k| (k.sandbox_channel(), k))
}

/// Sandbox or a real provider account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelMode {
    Sandbox,
    Live,
}

impl ChannelMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelMode::Sandbox => "sandbox",
            ChannelMode::Live => "live",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelMode> {
        match s {
            "sandbox" => Some(ChannelMode::Sandbox),
            "live" => Some(ChannelMode::Live),
            _ => None,
        }
    }
}

/// Parses a provider name as it appears in URLs and rows.
pub fn parse_provider(s: &str) -> Option<ProviderKind> {
    ProviderKind::parse(s)
}

/// Channel names appear in notify URLs: keep them to `[a-z0-9-_]{1,40}`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The associated data that binds a channel's sealed secrets to its row.
pub fn secrets_aad(channel_id: &str) -> String {
    format!("channels/{channel_id}/secrets")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_url_safe() {
        assert!(valid_name("alipay-sandbox"));
        assert!(valid_name("shop_2"));
        for bad in ["", "A", "a b", "a/b", "é", &"x".repeat(41)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn providers_and_modes_round_trip() {
        for (_, k) in sandbox_channels() {
            assert_eq!(parse_provider(k.as_str()), Some(k));
        }
        for m in [ChannelMode::Sandbox, ChannelMode::Live] {
            assert_eq!(ChannelMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(parse_provider("paypal"), None);
    }
}
