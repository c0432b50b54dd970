//! Merchant notifications: the outbox of order events to forward to the merchant's system,
//! and the record of every delivery attempt. The worker that sends them is
//! `jobs::merchant_notify`.
//!
//! * **Enqueue** inside the transaction that changes the order
//!   ([`enqueue_merchant_notification`]), so an event exists iff its transition committed.
//! * **Claim** ([`Store::claim_due_merchant_notifications`]): one statement picks due pending
//!   rows and pushes their `next_attempt_at` forward by a lease, so other workers skip them
//!   while they are being sent. On Postgres the pick is `FOR UPDATE SKIP LOCKED`: workers on
//!   several instances never pick the same row, and never wait for each other. SQLite has a
//!   single writer, so the plain statement is already atomic (one instance per SQLite file).
//! * **Record** ([`Store::record_merchant_notification_attempt`]): the attempt row, and the
//!   notification's next state (delivered, retry at, or failed), in one transaction. A
//!   failure only moves the row if it is still exactly as this claim left it (same attempt
//!   count, `next_attempt_at` still this claim's lease): a worker whose lease ran out cannot
//!   undo a newer outcome, and a resend made during the send is not overwritten.
//!
//! Delivery is at least once: a worker that dies between sending and recording leaves the
//! row to be sent again when its lease ends. Merchants deduplicate by notification id.

use super::{Store, StoreError, dialect, new_id};
use crate::provider::secret::mask_url;
use crate::time::now_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::fmt;
use std::str::FromStr;

/// How much of the merchant's answer is kept per attempt (characters).
pub const RESPONSE_SNIPPET_CHARS: usize = 200;
/// How much of an error message is kept (characters).
const ERROR_CHARS: usize = 500;

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

const COLUMNS: &str = "id, order_id, out_trade_no, api_key_id, url, event, body, status, attempts, \
     next_attempt_at, created_at, delivered_at, last_error";

fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn notification_from_row(r: &AnyRow) -> Result<MerchantNotification, StoreError> {
    let status: String = r.try_get("status")?;
    Ok(MerchantNotification {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        out_trade_no: r.try_get("out_trade_no")?,
        api_key_id: r.try_get("api_key_id")?,
        url: r.try_get("url")?,
        event: r.try_get("event")?,
        body: r.try_get("body")?,
        status: status.parse().map_err(StoreError::Corrupt)?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
        last_error: r.try_get("last_error")?,
    })
}

fn claimed_from_row(r: &AnyRow) -> Result<ClaimedMerchantNotification, StoreError> {
    let attempts: i64 = r.try_get("attempts")?;
    let base: i64 = r.try_get("schedule_base")?;
    Ok(ClaimedMerchantNotification {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        out_trade_no: r.try_get("out_trade_no")?,
        api_key_id: r.try_get("api_key_id")?,
        url: r.try_get("url")?,
        event: r.try_get("event")?,
        body: r.try_get("body")?,
        attempts,
        schedule_attempts: (attempts - base).max(0),
        lease_until: r.try_get("next_attempt_at")?,
    })
}

/// Adds `n` to the outbox inside the caller's transaction (the one that changes the order),
/// due at once; returns its id. Rolling the transaction back leaves nothing behind.
pub async fn enqueue_merchant_notification(
    tx: &mut Transaction<'static, Any>,
    n: NewMerchantNotification<'_>,
) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO merchant_notifications (id, order_id, out_trade_no, api_key_id, url, event, body, status, \
         attempts, schedule_base, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, 0, $8, $8)",
    )
    .bind(&id)
    .bind(n.order_id)
    .bind(n.out_trade_no)
    .bind(n.api_key_id)
    .bind(n.url)
    .bind(n.event)
    .bind(n.body)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// [`enqueue_merchant_notification`] in a transaction of its own.
    pub async fn enqueue_merchant_notification(
        &self,
        n: NewMerchantNotification<'_>,
    ) -> Result<String, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = enqueue_merchant_notification(&mut tx, n).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` pending notifications due at `now_ms` (oldest due first) by
    /// moving their `next_attempt_at` to `now_ms + lease_ms`: until then no other worker
    /// claims them. The lease must outlast a send (the HTTP timeout); if the worker dies,
    /// the notification is due again when the lease ends.
    pub async fn claim_due_merchant_notifications(
        &self,
        now_ms: i64,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<ClaimedMerchantNotification>, StoreError> {
        // Locks and skips on Postgres; see `dialect::claim_due` for why that form.
        let sql = dialect::claim_due(
            self.backend,
            &dialect::Claim {
                table: "merchant_notifications",
                set: "next_attempt_at = $1",
                due: "status = 'pending' AND next_attempt_at <= $2",
                order: "next_attempt_at, id",
                columns: "id, order_id, out_trade_no, api_key_id, url, event, body, attempts, \
                          schedule_base, next_attempt_at",
            },
        );
        let rows = sqlx::query(&sql)
            .bind(now_ms.saturating_add(lease_ms.max(0)))
            .bind(now_ms)
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(claimed_from_row).collect()
    }

    /// Records one attempt of `claimed` and moves the notification on: a 2xx marks it
    /// delivered; otherwise it is due again at `retry_at`, or, with `None` (the schedule is
    /// exhausted, or retrying cannot help), failed. Returns the notification's new status,
    /// or `None` when the notification moved on since this claim (another worker recorded
    /// an attempt after the lease ran out, or it was resent meanwhile): the attempt row is
    /// still kept, the notification is left as it is.
    pub async fn record_merchant_notification_attempt(
        &self,
        claimed: &ClaimedMerchantNotification,
        attempt: &NotificationAttemptRecord<'_>,
        retry_at: Option<i64>,
    ) -> Result<Option<MerchantNotificationStatus>, StoreError> {
        let now = now_ms();
        let error = attempt.error.map(|e| truncate_chars(e, ERROR_CHARS));
        let response = attempt
            .response
            .map(|r| truncate_chars(r, RESPONSE_SNIPPET_CHARS));
        let mut tx = self.pool.begin().await?;
        // Write first (SQLite: takes the write lock at once).
        sqlx::query(
            "INSERT INTO merchant_notification_attempts (id, notification_id, at, status, latency_ms, error, response) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(&claimed.id)
        .bind(attempt.at)
        .bind(attempt.status.map(i64::from))
        .bind(attempt.latency_ms.max(0))
        .bind(error)
        .bind(response)
        .execute(&mut *tx)
        .await?;
        let (status, done) = if attempt.delivered() {
            // A 2xx is a fact, whoever else is trying: no fence on the attempt count.
            let done = sqlx::query(
                "UPDATE merchant_notifications SET status = 'delivered', attempts = attempts + 1, \
                 delivered_at = $1, last_error = NULL WHERE id = $2 AND status = 'pending'",
            )
            .bind(now)
            .bind(&claimed.id)
            .execute(&mut *tx)
            .await?;
            (MerchantNotificationStatus::Delivered, done)
        } else {
            let last_error = match (error, attempt.status) {
                (Some(e), _) => e.to_string(),
                (None, Some(code)) => format!("HTTP {code}"),
                (None, None) => "no answer".to_string(),
            };
            let (status, next) = match retry_at {
                Some(at) => (MerchantNotificationStatus::Pending, at),
                None => (MerchantNotificationStatus::Failed, now),
            };
            let done = sqlx::query(
                "UPDATE merchant_notifications SET status = $1, attempts = attempts + 1, next_attempt_at = $2, \
                 last_error = $3 WHERE id = $4 AND status = 'pending' AND attempts = $5 AND next_attempt_at = $6",
            )
            .bind(status.as_str())
            .bind(next)
            .bind(&last_error)
            .bind(&claimed.id)
            .bind(claimed.attempts)
            .bind(claimed.lease_until)
            .execute(&mut *tx)
            .await?;
            (status, done)
        };
        tx.commit().await?;
        Ok((done.rows_affected() == 1).then_some(status))
    }

    /// Notifications matching `filter`, newest first.
    pub async fn merchant_notifications(
        &self,
        filter: &MerchantNotificationFilter,
    ) -> Result<Vec<MerchantNotification>, StoreError> {
        // Keyset paging on (created_at, id): one order change can queue several events in
        // the same millisecond, so the id breaks ties and none is skipped at a page boundary.
        let (before_at, before_id) = super::keyset(&filter.before);
        let sql = format!(
            "SELECT {COLUMNS} FROM merchant_notifications \
             WHERE ($1 IS NULL OR status = $1) \
               AND ($2 IS NULL OR order_id = $2) \
               AND ($3 IS NULL OR out_trade_no = $3) \
               AND ($4 IS NULL OR created_at < $4 OR (created_at = $4 AND id < $5)) \
             ORDER BY created_at DESC, id DESC LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(filter.status.map(MerchantNotificationStatus::as_str))
            .bind(filter.order_id.as_deref())
            .bind(filter.out_trade_no.as_deref())
            .bind(before_at)
            .bind(before_id)
            .bind(filter.limit.clamp(1, 500))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(notification_from_row).collect()
    }

    pub async fn merchant_notification(
        &self,
        id: &str,
    ) -> Result<Option<MerchantNotification>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM merchant_notifications WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(notification_from_row).transpose()
    }

    /// The attempts of one notification, oldest first.
    pub async fn merchant_notification_attempts(
        &self,
        notification_id: &str,
    ) -> Result<Vec<MerchantNotificationAttempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, notification_id, at, status, latency_ms, error, response \
             FROM merchant_notification_attempts WHERE notification_id = $1 ORDER BY at, id",
        )
        .bind(notification_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MerchantNotificationAttempt {
                    id: r.try_get("id")?,
                    notification_id: r.try_get("notification_id")?,
                    at: r.try_get("at")?,
                    status: r.try_get("status")?,
                    latency_ms: r.try_get("latency_ms")?,
                    error: r.try_get("error")?,
                    response: r.try_get("response")?,
                })
            })
            .collect()
    }

    /// Makes the notification pending and due now, whatever its status, with a fresh retry
    /// schedule; records nothing else. `NotFound` if there is no such notification.
    ///
    /// A resend of a notification that is being sent right now may make a second worker
    /// send it too (merchants deduplicate by notification id); the send in flight, if it
    /// fails, does not push the resent notification back.
    pub async fn resend_merchant_notification(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE merchant_notifications SET status = 'pending', next_attempt_at = $1, \
             schedule_base = attempts WHERE id = $2",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// How many notifications are waiting to be delivered (pending, due or not): the
    /// backlog, for metrics.
    pub async fn merchant_notification_backlog(&self) -> Result<i64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM merchant_notifications WHERE status = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_cut_at_characters_not_bytes() {
        assert_eq!(truncate_chars("abc", 2), "ab");
        assert_eq!(truncate_chars("abc", 5), "abc");
        let long = "支".repeat(300);
        assert_eq!(
            truncate_chars(&long, RESPONSE_SNIPPET_CHARS)
                .chars()
                .count(),
            RESPONSE_SNIPPET_CHARS
        );
    }

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
