//! An admin's amount limits per channel and currency (`channel_amount_limits`). Only
//! overrides are stored; the defaults and the decision live in [`crate::limits`].

use super::{Store, StoreError};
use crate::limits::AmountLimit;
use crate::money::Currency;
use crate::time::now_ms;
use sqlx::Row;
use sqlx::any::AnyRow;

fn from_row(r: &AnyRow) -> Result<AmountLimit, StoreError> {
    let code: String = r.try_get("currency")?;
    let currency = Currency::from_code(&code)
        .map_err(|_| StoreError::Corrupt(format!("amount limit in unknown currency {code}")))?;
    Ok(AmountLimit {
        currency,
        max_minor: r.try_get("max_minor")?,
        confirm_above_minor: r.try_get("confirm_above_minor")?,
    })
}

impl Store {
    /// The admin's limit of a channel in one currency, if one was set.
    pub async fn amount_limit(
        &self,
        channel_id: &str,
        currency: Currency,
    ) -> Result<Option<AmountLimit>, StoreError> {
        let row = sqlx::query(
            "SELECT currency, max_minor, confirm_above_minor FROM channel_amount_limits \
             WHERE channel_id = $1 AND currency = $2",
        )
        .bind(channel_id)
        .bind(currency.code())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every limit an admin set on a channel, by currency code.
    pub async fn amount_limits(&self, channel_id: &str) -> Result<Vec<AmountLimit>, StoreError> {
        let rows = sqlx::query(
            "SELECT currency, max_minor, confirm_above_minor FROM channel_amount_limits \
             WHERE channel_id = $1 ORDER BY currency",
        )
        .bind(channel_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Sets (or replaces) a channel's limit in the limit's currency. The caller has
    /// validated it (`limits::validate`); the table's CHECKs refuse nonsense regardless.
    pub async fn set_amount_limit(
        &self,
        channel_id: &str,
        limit: &AmountLimit,
        by: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO channel_amount_limits \
             (channel_id, currency, max_minor, confirm_above_minor, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (channel_id, currency) DO UPDATE SET max_minor = $3, \
             confirm_above_minor = $4, updated_at = $5, updated_by = $6",
        )
        .bind(channel_id)
        .bind(limit.currency.code())
        .bind(limit.max_minor)
        .bind(limit.confirm_above_minor)
        .bind(now_ms())
        .bind(by)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Goes back to the default limit in `currency`. Returns whether an override existed.
    pub async fn reset_amount_limit(
        &self,
        channel_id: &str,
        currency: Currency,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM channel_amount_limits WHERE channel_id = $1 AND currency = $2",
        )
        .bind(channel_id)
        .bind(currency.code())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
