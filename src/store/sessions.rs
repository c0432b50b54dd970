use super::{Store, StoreError};
use sqlx::Row;

/// A session as stored: opaque serialized data and its expiry (ms since epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub data: String,
    pub expires_at: i64,
}

impl Store {
    /// Inserts a new session; `Conflict` if the id exists (the caller picks another id).
    pub async fn insert_session(&self, id: &str, s: &StoredSession) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&s.data)
            .bind(s.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Inserts or replaces a session.
    pub async fn upsert_session(&self, id: &str, s: &StoredSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(&s.data)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Loads a session that has not expired at `now`.
    pub async fn load_session(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<StoredSession>, StoreError> {
        let row =
            sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(StoredSession {
                data: r.try_get("data")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
