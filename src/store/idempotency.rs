//! Merchant API idempotency keys: the first response to an `Idempotency-Key` is kept for
//! 24 h and replayed to retries of the same request.
//!
//! A request first inserts a placeholder row (`status = 0`); the primary key
//! `(api_key_id, key)` lets only one of two concurrent requests with the same key insert
//! it, so only one of them runs. The winner then stores its response
//! ([`Store::idempotency_finish`]) or, when the outcome should not be replayed (a 5xx),
//! removes the placeholder ([`Store::idempotency_abandon`]) so that a retry runs again.

use super::{Store, StoreError};
use sqlx::Row;

/// A placeholder older than this belongs to a request that died mid-way (crash, restart):
/// it no longer blocks the key.
pub const IDEMPOTENCY_STALE_MS: i64 = 5 * 60_000;

/// What [`Store::idempotency_begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// This request holds the key now: run it, then finish or abandon.
    Started,
    /// Another request with this key is running.
    InProgress,
    /// The key was used for a different request (method, path or body).
    Mismatch,
    /// The key's first request finished with this status and response body.
    Replay { status: i64, response: String },
}

impl Store {
    /// Claims `key` for the request whose fingerprint is `request_sha`, or says why not.
    /// Rows created before `now - ttl_ms` are deleted first (they are forgotten).
    pub async fn idempotency_begin(
        &self,
        api_key_id: &str,
        key: &str,
        request_sha: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<IdempotencyBegin, StoreError> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE created_at < $1 \
             OR (api_key_id = $2 AND key = $3 AND status = 0 AND created_at < $4)",
        )
        .bind(now - ttl_ms)
        .bind(api_key_id)
        .bind(key)
        .bind(now - IDEMPOTENCY_STALE_MS)
        .execute(&self.pool)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (api_key_id, key, request_sha, status, response, created_at) \
             VALUES ($1, $2, $3, 0, '', $4)",
        )
        .bind(api_key_id)
        .bind(key)
        .bind(request_sha)
        .bind(now)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => return Ok(IdempotencyBegin::Started),
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict => {}
                e => return Err(e),
            },
        }
        let row = sqlx::query(
            "SELECT request_sha, status, response FROM idempotency_keys \
             WHERE api_key_id = $1 AND key = $2",
        )
        .bind(api_key_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Finished and abandoned between our insert and this read: still running
            // as far as the caller can tell; a retry will run it.
            return Ok(IdempotencyBegin::InProgress);
        };
        let sha: String = row.try_get("request_sha")?;
        let status: i64 = row.try_get("status")?;
        if sha != request_sha {
            Ok(IdempotencyBegin::Mismatch)
        } else if status == 0 {
            Ok(IdempotencyBegin::InProgress)
        } else {
            Ok(IdempotencyBegin::Replay {
                status,
                response: row.try_get("response")?,
            })
        }
    }

    /// Stores the response of the request that holds `key`.
    pub async fn idempotency_finish(
        &self,
        api_key_id: &str,
        key: &str,
        status: i64,
        response: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2 \
             WHERE api_key_id = $3 AND key = $4 AND status = 0",
        )
        .bind(status)
        .bind(response)
        .bind(api_key_id)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Releases `key` without a stored response, so the next request with it runs.
    pub async fn idempotency_abandon(&self, api_key_id: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key = $2 AND status = 0",
        )
        .bind(api_key_id)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
