//! Merchant API keys: created by an admin, shown once, stored as a hash, revocable.
//!
//! Each key also has a signing secret (`pdsec_…`) that signs the notifications paydesk sends
//! to the merchant's system (see `jobs::merchant_notify`). Unlike the key, paydesk must be
//! able to use it later, so it is stored sealed under the master key rather than hashed.

use super::{Store, StoreError, new_id};
use crate::provider::secret::SecretString;
use crate::time::now_ms;
use crate::vault::MasterKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

/// What a list of keys shows: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key just created: the only moment its secret exists outside the caller's hands.
/// `Debug` prints neither the key nor the signing secret.
pub struct NewApiKey {
    pub info: ApiKeyInfo,
    pub secret: String,
    /// The secret that signs this key's merchant notifications (`pdsec_…`). The merchant
    /// needs it to verify `Paydesk-Signature`; paydesk keeps it sealed, never shows it again.
    pub signing_secret: SecretString,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

const KEY_PREFIX: &str = "pdk_";
/// How stale "last used" may be (ms).
pub const LAST_USED_RESOLUTION_MS: i64 = 60_000;
const SIGNING_SECRET_PREFIX: &str = "pdsec_";

/// `prefix` + 32 random bytes, base64url.
fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The associated data that binds a sealed signing secret to its key's row.
fn signing_secret_aad(api_key_id: &str) -> String {
    format!("api_keys/{api_key_id}/signing_secret")
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn info_from_row(r: &AnyRow) -> Result<ApiKeyInfo, StoreError> {
    Ok(ApiKeyInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const COLUMNS: &str = "id, name, prefix, created_by, created_at, last_used_at, revoked_at";

impl Store {
    /// Creates a key named `name` with a fresh signing secret, sealed under `master`;
    /// `Conflict` if the name is taken.
    pub async fn create_api_key(
        &self,
        name: &str,
        created_by: &str,
        master: &MasterKey,
    ) -> Result<NewApiKey, StoreError> {
        let secret = random_secret(KEY_PREFIX);
        let prefix: String = secret.chars().take(KEY_PREFIX.len() + 6).collect();
        let signing_secret = SecretString::new(random_secret(SIGNING_SECRET_PREFIX));
        let id = new_id();
        let sealed = master.seal(&signing_secret_aad(&id), &signing_secret);
        sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, prefix, created_by, created_at, signing_secret) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(name)
        .bind(hash(&secret))
        .bind(&prefix)
        .bind(created_by)
        .bind(now_ms())
        .bind(&sealed)
        .execute(&self.pool)
        .await?;
        let info = self
            .api_keys()
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(StoreError::NotFound)?;
        Ok(NewApiKey {
            info,
            secret,
            signing_secret,
        })
    }

    /// The signing secret of the key `api_key_id` (revoked or not), opened with `master`.
    /// `Ok(None)` for a key created before keys had signing secrets; `NotFound` if there is
    /// no such key; `SecretUnreadable` if the sealed value does not open (wrong master key).
    pub async fn api_key_signing_secret(
        &self,
        api_key_id: &str,
        master: &MasterKey,
    ) -> Result<Option<SecretString>, StoreError> {
        let row = sqlx::query("SELECT signing_secret FROM api_keys WHERE id = $1")
            .bind(api_key_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let sealed: Option<String> = row.try_get("signing_secret")?;
        sealed
            .map(|s| {
                master
                    .open(&signing_secret_aad(api_key_id), &s)
                    .map_err(|_| StoreError::SecretUnreadable)
            })
            .transpose()
    }

    /// The key that `presented` is, if it exists and is not revoked; records its use.
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
    ) -> Result<Option<ApiKeyInfo>, StoreError> {
        if !presented.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let sql =
            format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL");
        let row = sqlx::query(&sql)
            .bind(hash(presented))
            .fetch_optional(&self.pool)
            .await?;
        let Some(info) = row.as_ref().map(info_from_row).transpose()? else {
            return Ok(None);
        };
        // At most one write per key per minute: "last used" is for people, and a busy
        // merchant must not turn every API request into a row update.
        let now = now_ms();
        if info
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION_MS)
        {
            sqlx::query(
                "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 \
                 AND (last_used_at IS NULL OR last_used_at <= $3)",
            )
            .bind(now)
            .bind(&info.id)
            .bind(now - LAST_USED_RESOLUTION_MS)
            .execute(&self.pool)
            .await?;
        }
        Ok(Some(info))
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY name");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(info_from_row).collect()
    }

    /// Revokes the key named `name`; `NotFound` if there is no such live key.
    pub async fn revoke_api_key(&self, name: &str) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
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

impl Store {
    /// What the key with id `key_id` may do with refunds (`crate::approval`).
    pub async fn api_key_refund_policy(
        &self,
        key_id: &str,
    ) -> Result<crate::approval::KeyRefundPolicy, StoreError> {
        let row = sqlx::query("SELECT refund_policy FROM api_keys WHERE id = $1")
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let text: String = row.try_get("refund_policy")?;
        text.parse()
            .map_err(|e: crate::approval::UnknownPolicy| StoreError::Corrupt(e.to_string()))
    }

    /// Sets a key's refund policy; `NotFound` when there is no such active key.
    pub async fn set_api_key_refund_policy(
        &self,
        name: &str,
        policy: crate::approval::KeyRefundPolicy,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET refund_policy = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
        .bind(policy.as_str())
        .bind(name)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Active keys by name with their refund policy.
    pub async fn api_key_refund_policies(
        &self,
    ) -> Result<Vec<(String, crate::approval::KeyRefundPolicy)>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, refund_policy FROM api_keys WHERE revoked_at IS NULL ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("refund_policy")?;
                let policy = text.parse().map_err(|e: crate::approval::UnknownPolicy| {
                    StoreError::Corrupt(e.to_string())
                })?;
                Ok((r.try_get("name")?, policy))
            })
            .collect()
    }
}
