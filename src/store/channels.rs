//! Channel rows: one provider account each. The store keeps settings as JSON text and the
//! secrets document as the sealed string it was given; typing, sealing and building
//! provider clients happen in [`crate::channel`].

use super::{Store, StoreError, new_id};
use crate::time::now_ms;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub id: String,
    pub name: String,
    /// `alipay`, `wechatpay` or `stripe`.
    pub provider: String,
    /// `sandbox` or `live`.
    pub mode: String,
    /// Non-secret settings (JSON).
    pub settings: String,
    /// The sealed secrets document (`v1:…`), or empty for sandbox channels.
    pub sealed_secrets: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub disabled_at: Option<i64>,
    /// The last connection check's verdict (`ConnectionCheck::as_str`), if any.
    pub last_check: Option<String>,
}

impl ChannelRow {
    /// A live channel whose last check failed: marked, never pre-selected.
    pub fn failing(&self) -> bool {
        self.mode == "live" && self.last_check.as_deref().is_some_and(|c| c != "ok")
    }
}

impl std::fmt::Debug for ChannelRow {
    // Sealed text is not secret without the master key, but it is noise in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelRow")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("mode", &self.mode)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "id, name, provider, mode, settings, secrets, created_at, updated_at, disabled_at, last_check";

fn from_row(r: &AnyRow) -> Result<ChannelRow, StoreError> {
    Ok(ChannelRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        provider: r.try_get("provider")?,
        mode: r.try_get("mode")?,
        settings: r.try_get("settings")?,
        sealed_secrets: r.try_get("secrets")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        disabled_at: r.try_get("disabled_at")?,
        last_check: r.try_get("last_check")?,
    })
}

/// A channel to insert. The id is chosen by the caller because sealed secrets are bound to
/// it (see [`crate::channel::secrets_aad`]).
pub struct NewChannel<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub provider: &'a str,
    pub mode: &'a str,
    pub settings: &'a str,
    pub sealed_secrets: &'a str,
}

impl Store {
    /// A fresh id for a channel about to be created.
    pub fn new_channel_id() -> String {
        new_id()
    }

    /// Inserts a channel; `Conflict` when the name is taken.
    pub async fn insert_channel(&self, c: NewChannel<'_>) -> Result<ChannelRow, StoreError> {
        self.insert_channel_sql(&c, "").await?;
        self.channel(c.name).await?.ok_or(StoreError::NotFound)
    }

    /// Inserts the channel unless one with that name exists (several instances may seed
    /// the sandbox channels at once). Returns whether this call created it.
    pub async fn insert_channel_if_absent(&self, c: NewChannel<'_>) -> Result<bool, StoreError> {
        self.insert_channel_sql(&c, " ON CONFLICT (name) DO NOTHING")
            .await
    }

    async fn insert_channel_sql(
        &self,
        c: &NewChannel<'_>,
        on_conflict: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO channels (id, name, provider, mode, settings, secrets, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7){on_conflict}"
        );
        let done = sqlx::query(&sql)
            .bind(c.id)
            .bind(c.name)
            .bind(c.provider)
            .bind(c.mode)
            .bind(c.settings)
            .bind(c.sealed_secrets)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn channel(&self, name: &str) -> Result<Option<ChannelRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE name = $1");
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every channel, sandbox first, then by name.
    pub async fn channels(&self) -> Result<Vec<ChannelRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM channels ORDER BY mode DESC, name");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Records a connection check's verdict (only when it changes: a checkout that works
    /// on a working channel writes nothing).
    pub async fn record_channel_check(&self, name: &str, verdict: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE channels SET last_check = $1, last_check_at = $2 \
             WHERE name = $3 AND (last_check IS NULL OR last_check <> $1)",
        )
        .bind(verdict)
        .bind(now_ms())
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user's last channel that took a checkout.
    pub async fn last_channel_of(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT last_channel FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("last_channel")?,
            None => None,
        })
    }

    /// Remembers `channel` as the user's last working one (only when it changes).
    pub async fn remember_last_channel(
        &self,
        username: &str,
        channel: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET last_channel = $1 WHERE username = $2 \
             AND (last_channel IS NULL OR last_channel <> $1)",
        )
        .bind(channel)
        .bind(username)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces a channel's settings and sealed secrets (an edit or a key rotation).
    pub async fn update_channel(
        &self,
        name: &str,
        settings: &str,
        sealed_secrets: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE channels SET settings = $1, secrets = $2, updated_at = $3 WHERE name = $4",
        )
        .bind(settings)
        .bind(sealed_secrets)
        .bind(now_ms())
        .bind(name)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces a channel's settings and sealed secrets only if the row is still at
    /// `expected_updated_at` (compare-and-set): a background certificate merge and an
    /// admin's rotation never overwrite each other. `updated_at` always moves forward,
    /// also within one millisecond, so every version is distinct. Returns whether this
    /// call replaced it.
    pub async fn update_channel_if_unchanged(
        &self,
        name: &str,
        settings: &str,
        sealed_secrets: &str,
        expected_updated_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE channels SET settings = $1, secrets = $2, \
             updated_at = CASE WHEN $3 > updated_at THEN $3 ELSE updated_at + 1 END \
             WHERE name = $4 AND updated_at = $5",
        )
        .bind(settings)
        .bind(sealed_secrets)
        .bind(now_ms())
        .bind(name)
        .bind(expected_updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables (or with `disabled = false`, re-enables) a channel. Disabled channels
    /// create no checkouts; notifications and refunds for their existing orders still work.
    pub async fn set_channel_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        let at = disabled.then(now_ms);
        let done =
            sqlx::query("UPDATE channels SET disabled_at = $1, updated_at = $2 WHERE name = $3")
                .bind(at)
                .bind(now_ms())
                .bind(name)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
