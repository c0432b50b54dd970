//! Figures read at scrape time for `/metrics`: what is waiting, rather than what happened.

use super::{Store, StoreError};
use sqlx::Row;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    pub pending_orders: i64,
    /// `created_at` of the oldest pending order (Unix ms).
    pub oldest_pending_created_ms: Option<i64>,
    /// Refund count per status (`pending`, `succeeded`, `failed`).
    pub refunds_by_status: Vec<(String, i64)>,
    /// Merchant notifications not yet delivered and not given up.
    pub merchant_notification_backlog: i64,
}

impl Store {
    pub async fn gauges(&self) -> Result<Gauges, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM orders WHERE status = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        let refunds = sqlx::query("SELECT status, COUNT(*) AS n FROM refunds GROUP BY status")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("status")?, r.try_get::<i64, _>("n")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Gauges {
            pending_orders: row.try_get("n")?,
            oldest_pending_created_ms: row.try_get("oldest")?,
            refunds_by_status: refunds,
            merchant_notification_backlog: self.merchant_notification_backlog().await?,
        })
    }
}
