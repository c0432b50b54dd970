//! The dashboard's side: listing notifications, reading one and its attempts, resending;
//! and the backlog, for metrics.

use super::model::{
    MerchantNotification, MerchantNotificationAttempt, MerchantNotificationFilter,
    MerchantNotificationStatus,
};
use crate::store::{Store, StoreError};
use crate::time::now_ms;
use sqlx::Row;
use sqlx::any::AnyRow;

const COLUMNS: &str = "id, order_id, out_trade_no, api_key_id, url, event, body, status, attempts, \
     next_attempt_at, created_at, delivered_at, last_error";

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

impl Store {
    /// Notifications matching `filter`, newest first.
    pub async fn merchant_notifications(
        &self,
        filter: &MerchantNotificationFilter,
    ) -> Result<Vec<MerchantNotification>, StoreError> {
        // Keyset paging on (created_at, id): one order change can queue several events in
        // the same millisecond, so the id breaks ties and none is skipped at a page boundary.
        let (before_at, before_id) = crate::store::keyset(&filter.before);
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
