//! Persisted sandbox key documents (see `crate::sandbox::keys` for what is in them).

use super::{Store, StoreError};
use crate::provider::secret::SecretString;
use crate::time::now_ms;
use sqlx::Row;

impl Store {
    /// The stored key document of one sandbox (`alipay`, `wechatpay`, `stripe`), if any.
    pub async fn sandbox_secrets(
        &self,
        provider: &str,
    ) -> Result<Option<SecretString>, StoreError> {
        let row = sqlx::query("SELECT secrets FROM sandbox_keys WHERE provider = $1")
            .bind(provider)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get::<String, _>("secrets").map(SecretString::new))
            .transpose()
            .map_err(StoreError::from)
    }

    /// Stores `secrets` unless the provider already has a document, and returns the one
    /// that is stored afterwards. When several instances start at once, the first insert
    /// wins and every instance ends up using the winner's keys.
    pub async fn insert_sandbox_secrets_if_absent(
        &self,
        provider: &str,
        secrets: &SecretString,
    ) -> Result<SecretString, StoreError> {
        sqlx::query(
            "INSERT INTO sandbox_keys (provider, secrets, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (provider) DO NOTHING",
        )
        .bind(provider)
        .bind(secrets.expose())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        self.sandbox_secrets(provider)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Replaces the stored document if it is still `old` (compare-and-set, so two
    /// instances completing an old document at once keep one version). Returns whether
    /// this call replaced it.
    pub async fn replace_sandbox_secrets(
        &self,
        provider: &str,
        old: &SecretString,
        new: &SecretString,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sandbox_keys SET secrets = $1 WHERE provider = $2 AND secrets = $3",
        )
        .bind(new.expose())
        .bind(provider)
        .bind(old.expose())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
