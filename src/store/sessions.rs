use super::{Store, StoreError};
use sqlx::Row;

/// A session as stored: opaque serialized data, its expiry (ms since epoch) and, once
/// someone signed in to it, whose it is and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub data: String,
    pub expires_at: i64,
    pub owner: Option<SessionOwner>,
}

/// The signed-in part of a session, copied out of its data for listing and ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOwner {
    pub user_id: String,
    /// Non-secret name of the session (the id is a bearer secret).
    pub handle: String,
    pub signed_in_at: i64,
    pub last_seen: i64,
    pub user_agent: String,
    pub ip: String,
}

/// One live session of a user, for the sessions list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSession {
    pub handle: String,
    pub signed_in_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub user_agent: String,
    pub ip: String,
}

const COLUMNS: &str =
    "id, data, expires_at, user_id, handle, signed_in_at, last_seen, user_agent, ip";

fn bind_session<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    id: &'q str,
    s: &'q StoredSession,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let o = s.owner.as_ref();
    q.bind(id)
        .bind(&s.data)
        .bind(s.expires_at)
        .bind(o.map(|o| o.user_id.as_str()))
        .bind(o.map(|o| o.handle.as_str()))
        .bind(o.map(|o| o.signed_in_at))
        .bind(o.map(|o| o.last_seen))
        .bind(o.map(|o| o.user_agent.as_str()))
        .bind(o.map(|o| o.ip.as_str()))
}

impl Store {
    /// Inserts a new session; `Conflict` if the id exists (the caller picks another id).
    pub async fn insert_session(&self, id: &str, s: &StoredSession) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        bind_session(sqlx::query(&sql), id, s)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Inserts or replaces a session.
    pub async fn upsert_session(&self, id: &str, s: &StoredSession) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             user_id = excluded.user_id, handle = excluded.handle, \
             signed_in_at = excluded.signed_in_at, last_seen = excluded.last_seen, \
             user_agent = excluded.user_agent, ip = excluded.ip"
        );
        bind_session(sqlx::query(&sql), id, s)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Loads the data of a session that has not expired at `now`.
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(r.try_get("data")?)).transpose()
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A user's sessions that are still alive at `now`, most recently used first.
    pub async fn sessions_of_user(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<ActiveSession>, StoreError> {
        let rows = sqlx::query(
            "SELECT handle, signed_in_at, last_seen, expires_at, user_agent, ip FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen DESC, handle",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActiveSession {
                    handle: r.try_get("handle")?,
                    signed_in_at: r.try_get("signed_in_at")?,
                    last_seen: r.try_get("last_seen")?,
                    expires_at: r.try_get("expires_at")?,
                    user_agent: r.try_get("user_agent")?,
                    ip: r.try_get("ip")?,
                })
            })
            .collect()
    }

    /// Ends one session of a user, named by its handle; false when there was none (a
    /// handle of someone else's session ends nothing).
    pub async fn end_session_of_user(
        &self,
        user_id: &str,
        handle: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND handle = $2")
            .bind(user_id)
            .bind(handle)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends every session of a user (after a role change, or by an admin); returns how many.
    pub async fn end_sessions_of_user(&self, user_id: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
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
