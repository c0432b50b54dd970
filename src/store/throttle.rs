use super::{Store, StoreError};
use sqlx::Row;

/// Failed-login state of one key within the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThrottleState {
    pub failures: i64,
    pub window_start: i64,
    pub locked_until: i64,
}

impl Store {
    pub async fn throttle_state(&self, key: &str) -> Result<ThrottleState, StoreError> {
        let row = sqlx::query(
            "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => ThrottleState {
                failures: r.try_get("failures")?,
                window_start: r.try_get("window_start")?,
                locked_until: r.try_get("locked_until")?,
            },
            None => ThrottleState::default(),
        })
    }

    /// Counts one failure for `key` in one atomic statement (so concurrent attempts on
    /// several instances are all counted). A window older than `window_ms` starts over.
    /// Returns the failure count after this one.
    pub async fn throttle_record_failure(
        &self,
        key: &str,
        now: i64,
        window_ms: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 1, $2, 0) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
               window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(now - window_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("failures")?)
    }

    pub async fn throttle_lock(&self, key: &str, until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE key = $2")
            .bind(until)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes back one counted failure (a reserved attempt that turned out right).
    pub async fn throttle_forgive(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn throttle_clear(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
