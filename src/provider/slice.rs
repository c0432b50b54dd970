//! What every provider folder implements, and the one place that finds a provider's
//! implementation from its [`ProviderKind`] ([`ProviderKind::slice`]).
//!
//! A provider is one folder (`src/provider/<name>/`): protocol client, signing and
//! verification, notifications, its sandbox gateway and keys, its channel settings. The
//! plain facts (name, display name, currencies) are one line in `crate::provider_kind`.

use std::time::Duration;

use super::NotifyAck;

/// The behaviour of one provider that the shared machinery (notify route, sandbox
/// delivery) needs without holding a channel.
pub trait ProviderSlice: Send + Sync {
    /// The provider's "handled" answer to a notification, when no channel client is at hand
    /// (e.g. a notification addressed to an unknown channel).
    fn ack_success(&self) -> NotifyAck;

    /// The provider's "try again later" answer. `message` must not be secret.
    fn ack_failure(&self, message: &str) -> NotifyAck;

    /// Whether a merchant's answer to a notification makes the gateway stop retrying
    /// (the sandbox's delivery follows the real gateway's rule).
    fn acknowledged(&self, status: u16, body: &[u8]) -> bool;

    /// The waits between notification attempts the real gateway uses (before the 2nd,
    /// 3rd, … attempt).
    fn retry_schedule(&self) -> Vec<Duration>;

    /// The wallet whose payment codes (付款码) this provider charges, if it offers barcode
    /// payment (`Provider::pay_by_code`). The till and the merchant API pick a channel by
    /// the scanned code's wallet through this, never by a list of providers.
    fn charges_codes_of(&self) -> Option<crate::payment_code::Wallet> {
        None
    }

    /// Among enabled channels of the same mode charging one wallet's codes, lower ranks are
    /// picked first when the caller names no channel (ties: by channel name).
    fn code_channel_rank(&self) -> u8 {
        0
    }
}

/// Minutes, for retry schedules.
pub(crate) fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}
