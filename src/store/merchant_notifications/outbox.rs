//! The worker's side of the outbox: enqueueing an event in the order's transaction,
//! claiming due notifications under a lease, and recording an attempt behind its fence.

use super::model::{
    ClaimedMerchantNotification, MerchantNotificationStatus, NewMerchantNotification,
    NotificationAttemptRecord, RESPONSE_SNIPPET_CHARS,
};
use crate::store::{Store, StoreError, dialect, new_id};
use crate::time::now_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// How much of an error message is kept (characters).
const ERROR_CHARS: usize = 500;

fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
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
}
