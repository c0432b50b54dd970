//! The stored notification and its attempts, the status between them, the claim a worker
//! holds, and the filter for listing them.

use crate::provider::secret::mask_url;
use std::fmt;
use std::str::FromStr;

/// How much of the merchant's answer is kept per attempt (characters).
pub const RESPONSE_SNIPPET_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MerchantNotificationStatus {
    /// To be sent (again) at `next_attempt_at`.
    Pending,
    /// The merchant answered 2xx.
    Delivered,
    /// The retry schedule ran out; a person may resend it.
    Failed,
}

impl MerchantNotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MerchantNotificationStatus::Pending => "pending",
            MerchantNotificationStatus::Delivered => "delivered",
            MerchantNotificationStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for MerchantNotificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MerchantNotificationStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(MerchantNotificationStatus::Pending),
            "delivered" => Ok(MerchantNotificationStatus::Delivered),
            "failed" => Ok(MerchantNotificationStatus::Failed),
            other => Err(format!("unknown merchant notification status `{other}`")),
        }
    }
}

/// An event to deliver. `body` is sent byte for byte on every attempt (build it with
/// `jobs::merchant_notify::event_body`); `url` should have been checked with
/// `jobs::merchant_notify::validate_notify_url` when the order was created (a bad URL is
/// not refused here, so it can never abort the order transition: the worker records it
/// as a failed attempt instead).
#[derive(Clone, Copy)]
pub struct NewMerchantNotification<'a> {
    pub order_id: &'a str,
    pub out_trade_no: &'a str,
    /// The API key whose signing secret signs the notification.
    pub api_key_id: &'a str,
    pub url: &'a str,
    /// `order.paid`, `order.closed`, `refund.succeeded`, `refund.failed`, …
    pub event: &'a str,
    pub body: &'a str,
}

impl fmt::Debug for NewMerchantNotification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewMerchantNotification")
            .field("order_id", &self.order_id)
            .field("out_trade_no", &self.out_trade_no)
            .field("event", &self.event)
            .field("url", &mask_url(self.url))
            .finish_non_exhaustive()
    }
}

/// A stored notification, as the dashboard lists it.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct MerchantNotification {
    pub id: String,
    pub order_id: String,
    pub out_trade_no: String,
    pub api_key_id: String,
    pub url: String,
    pub event: String,
    pub body: String,
    pub status: MerchantNotificationStatus,
    /// Attempts so far, in total (resends included).
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    /// When a 2xx last came back.
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

impl fmt::Debug for MerchantNotification {
    // The URL may carry the merchant's own token in its query: masked, like provider URLs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantNotification")
            .field("id", &self.id)
            .field("out_trade_no", &self.out_trade_no)
            .field("event", &self.event)
            .field("url", &mask_url(&self.url))
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field("delivered_at", &self.delivered_at)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

/// A notification a worker has claimed and now sends.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimedMerchantNotification {
    pub id: String,
    pub order_id: String,
    pub out_trade_no: String,
    pub api_key_id: String,
    pub url: String,
    pub event: String,
    pub body: String,
    /// Attempts before this one, in total: the fence for recording this attempt.
    pub attempts: i64,
    /// Attempts before this one since the retry schedule (re)started: the position in the
    /// schedule.
    pub schedule_attempts: i64,
    /// Until when this claim reserves the notification (its `next_attempt_at` now).
    pub lease_until: i64,
}

impl fmt::Debug for ClaimedMerchantNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimedMerchantNotification")
            .field("id", &self.id)
            .field("out_trade_no", &self.out_trade_no)
            .field("event", &self.event)
            .field("url", &mask_url(&self.url))
            .field("attempts", &self.attempts)
            .field("schedule_attempts", &self.schedule_attempts)
            .field("lease_until", &self.lease_until)
            .finish_non_exhaustive()
    }
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MerchantNotificationAttempt {
    pub id: String,
    pub notification_id: String,
    pub at: i64,
    /// The HTTP status; `None` when no answer came (or nothing could be sent).
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// The first [`RESPONSE_SNIPPET_CHARS`] characters of the answer's body.
    pub response: Option<String>,
}

/// What happened on one attempt, to record.
#[derive(Debug, Clone, Copy)]
pub struct NotificationAttemptRecord<'a> {
    /// When the attempt started (Unix ms).
    pub at: i64,
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// Why it failed, when it did (never a secret: no URLs with tokens, no headers).
    pub error: Option<&'a str>,
    /// The answer's body; only the first [`RESPONSE_SNIPPET_CHARS`] characters are kept.
    pub response: Option<&'a str>,
}

impl NotificationAttemptRecord<'_> {
    /// Only a 2xx counts as delivered.
    pub fn delivered(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }
}

/// Which notifications to list. Default: the newest of every status.
#[derive(Debug, Clone, Default)]
pub struct MerchantNotificationFilter {
    pub status: Option<MerchantNotificationStatus>,
    pub order_id: Option<String>,
    pub out_trade_no: Option<String>,
    /// Only notifications after this (`created_at`, `id`) position in newest-first order,
    /// for paging backwards: the last one's [`MerchantNotification::cursor`].
    pub before: Option<(i64, String)>,
    /// At most this many (clamped to 1..=500).
    pub limit: i64,
}

impl MerchantNotification {
    /// This notification's position, for [`MerchantNotificationFilter::before`].
    pub fn cursor(&self) -> (i64, String) {
        (self.created_at, self.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips() {
        for s in [
            MerchantNotificationStatus::Pending,
            MerchantNotificationStatus::Delivered,
            MerchantNotificationStatus::Failed,
        ] {
            assert_eq!(s.as_str().parse::<MerchantNotificationStatus>(), Ok(s));
        }
        assert!("paid".parse::<MerchantNotificationStatus>().is_err());
    }
}
