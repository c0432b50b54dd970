//! Two-factor state per user: the sealed TOTP secret, the last accepted step, and the
//! hashed one-time recovery codes. Every change is one compare-and-set statement, so two
//! sign-ins racing with the same code (or recovery code) succeed once.

use super::{Store, StoreError, new_id};
use crate::time::now_ms;
use sqlx::Row;

/// A user's authenticator row. `Debug` leaves out the sealed secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpRow {
    pub secret_sealed: String,
    /// Confirmed with a code; `false` while enrolment is under way.
    pub enabled: bool,
    pub last_step: i64,
}

impl std::fmt::Debug for TotpRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRow")
            .field("enabled", &self.enabled)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub async fn totp_row(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        let row = sqlx::query(
            "SELECT secret_sealed, enabled_at, last_step FROM user_totp WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(TotpRow {
                secret_sealed: r.try_get("secret_sealed")?,
                enabled: r.try_get::<Option<i64>, _>("enabled_at")?.is_some(),
                last_step: r.try_get("last_step")?,
            })
        })
        .transpose()
    }

    /// Starts (or restarts) an enrolment with a new sealed secret. Returns false, changing
    /// nothing, when the user's second factor is already enabled.
    pub async fn totp_begin(&self, user_id: &str, sealed: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO user_totp (user_id, secret_sealed, enabled_at, last_step, created_at) \
             VALUES ($1, $2, NULL, 0, $3) \
             ON CONFLICT (user_id) DO UPDATE SET secret_sealed = $2, created_at = $3 \
             WHERE user_totp.enabled_at IS NULL",
        )
        .bind(user_id)
        .bind(sealed)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Confirms an enrolment at `step` and replaces the recovery codes with `code_hashes`.
    /// False when there was no enrolment under way (already enabled, or reset meanwhile).
    pub async fn totp_enable(
        &self,
        user_id: &str,
        step: i64,
        code_hashes: &[String],
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE user_totp SET enabled_at = $1, last_step = $2 \
             WHERE user_id = $3 AND enabled_at IS NULL",
        )
        .bind(now)
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for hash in code_hashes {
            sqlx::query(
                "INSERT INTO user_recovery_codes (id, user_id, code_hash, used_at, created_at) \
                 VALUES ($1, $2, $3, NULL, $4)",
            )
            .bind(new_id())
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Accepts a code's step once: false when this or a later step was accepted before.
    pub async fn totp_accept_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE user_totp SET last_step = $1 \
             WHERE user_id = $2 AND enabled_at IS NOT NULL AND last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The user's unused recovery codes: (id, argon2id hash).
    pub async fn unused_recovery_codes(
        &self,
        user_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, code_hash FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL \
             ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("code_hash")?)))
            .collect()
    }

    /// Spends a recovery code: false when it was spent already (a race, or a replay).
    pub async fn spend_recovery_code(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE user_recovery_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes the user's second factor and recovery codes. False when there was none.
    pub async fn totp_reset(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every admin-set security setting (2FA policy, refund approval thresholds).
    pub async fn security_settings(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT key, value FROM security_settings ORDER BY key")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("key")?, r.try_get("value")?)))
            .collect()
    }

    /// Sets (`Some`) or removes (`None`) one setting.
    pub async fn set_security_setting(
        &self,
        key: &str,
        value: Option<&str>,
        by: &str,
    ) -> Result<(), StoreError> {
        let Some(value) = value else {
            sqlx::query("DELETE FROM security_settings WHERE key = $1")
                .bind(key)
                .execute(&self.pool)
                .await?;
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO security_settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = $2, updated_by = $3, updated_at = $4",
        )
        .bind(key)
        .bind(value)
        .bind(by)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
