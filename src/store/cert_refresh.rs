//! When each channel's WeChat Pay platform certificates are next downloaded, and how the
//! last download went (see `migrations/…_platform_cert_refresh.sql`).
//!
//! Claiming is a compare-and-set on `next_at`, per channel: of several instances that find
//! a channel due, the first `UPDATE … WHERE next_at <= now` moves `next_at` past a lease
//! and the others match no row. On Postgres a concurrent UPDATE of the same row waits for
//! the first to commit and then re-checks the condition, which no longer holds; SQLite runs
//! one writing statement at a time. Channels are few, so one statement per channel is
//! simpler than a batch claim and just as safe.

use sqlx::Row;

use super::{Store, StoreError};

/// The refresh state of one channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertRefreshState {
    /// When the next download is due (ms).
    pub next_at: i64,
    pub attempted_at: Option<i64>,
    pub succeeded_at: Option<i64>,
    /// Outcome code of the last attempt.
    pub outcome: Option<String>,
}

impl Store {
    /// Claims the channel's download if it is due at `now` (a channel seen for the first
    /// time is due at once), leasing it until `now + lease_ms`. Returns whether this
    /// caller got it.
    pub async fn claim_cert_refresh(
        &self,
        channel_id: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        sqlx::query(
            "INSERT INTO platform_cert_refresh (channel_id, next_at) VALUES ($1, $2) \
             ON CONFLICT (channel_id) DO NOTHING",
        )
        .bind(channel_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let done = sqlx::query(
            "UPDATE platform_cert_refresh SET next_at = $1, attempted_at = $2 \
             WHERE channel_id = $3 AND next_at <= $2",
        )
        .bind(now + lease_ms)
        .bind(now)
        .bind(channel_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a download (claimed or asked for by an admin): its outcome, and when the
    /// next one is due.
    pub async fn finish_cert_refresh(
        &self,
        channel_id: &str,
        now: i64,
        next_at: i64,
        outcome: &str,
        succeeded: bool,
    ) -> Result<(), StoreError> {
        let succeeded_at = succeeded.then_some(now);
        sqlx::query(
            "INSERT INTO platform_cert_refresh \
             (channel_id, next_at, attempted_at, succeeded_at, outcome) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (channel_id) DO UPDATE SET next_at = $2, attempted_at = $3, \
             succeeded_at = COALESCE($4, platform_cert_refresh.succeeded_at), outcome = $5",
        )
        .bind(channel_id)
        .bind(next_at)
        .bind(now)
        .bind(succeeded_at)
        .bind(outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn cert_refresh_state(
        &self,
        channel_id: &str,
    ) -> Result<Option<CertRefreshState>, StoreError> {
        let row = sqlx::query(
            "SELECT next_at, attempted_at, succeeded_at, outcome FROM platform_cert_refresh \
             WHERE channel_id = $1",
        )
        .bind(channel_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(CertRefreshState {
                next_at: r.try_get("next_at")?,
                attempted_at: r.try_get("attempted_at")?,
                succeeded_at: r.try_get("succeeded_at")?,
                outcome: r.try_get("outcome")?,
            })
        })
        .transpose()
    }
}
