//! tower-sessions storage in our own database, so sessions survive restarts and are
//! shared by several instances on one Postgres.

use crate::store::{SessionOwner, Store, StoreError, StoredSession};
use crate::time::now_ms;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> DbSessionStore {
        DbSessionStore { store }
    }
}

/// Where axum-login keeps the signed-in user in a session (set in `startup.rs`).
pub const AUTH_DATA_KEY: &str = "axum-login.data";
/// Where paydesk keeps a signed-in session's own facts ([`SessionMeta`]).
pub const SESSION_META_KEY: &str = "paydesk.session";

/// What paydesk remembers about a signed-in session, inside the session itself: when
/// the user signed in (for the absolute lifetime), when it was last seen (for the idle
/// timeout, refreshed at most every so often) and where it came from (for the list).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionMeta {
    pub signed_in_at: i64,
    pub seen_at: i64,
    pub user_agent: String,
    pub ip: String,
}

/// The non-secret name of a session: the first 16 hex digits of the SHA-256 of its id.
pub fn session_handle(id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(id.as_bytes())[..8])
}

/// The owner columns, copied out of the record's data when a user is signed in to it.
fn owner(id: &str, record: &Record) -> Option<SessionOwner> {
    let user_id = record
        .data
        .get(AUTH_DATA_KEY)?
        .get("user_id")?
        .as_str()?
        .to_string();
    let meta: Option<SessionMeta> = record
        .data
        .get(SESSION_META_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let now = now_ms();
    let meta = meta.unwrap_or(SessionMeta {
        signed_in_at: now,
        seen_at: now,
        user_agent: String::new(),
        ip: String::new(),
    });
    Some(SessionOwner {
        user_id,
        handle: session_handle(id),
        signed_in_at: meta.signed_in_at,
        last_seen: meta.seen_at,
        user_agent: meta.user_agent,
        ip: meta.ip,
    })
}

fn encode(record: &Record) -> session_store::Result<StoredSession> {
    let data =
        serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires_at = (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64;
    Ok(StoredSession {
        data,
        expires_at,
        owner: owner(&record.id.to_string(), record),
    })
}

fn backend_err(e: StoreError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Session ids are 128 random bits; a collision is practically impossible, but
        // the contract asks us to handle it, so draw a new id and try again.
        loop {
            let stored = encode(record)?;
            match self
                .store
                .insert_session(&record.id.to_string(), &stored)
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => record.id = Id::default(),
                Err(e) => return Err(backend_err(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let stored = encode(record)?;
        self.store
            .upsert_session(&record.id.to_string(), &stored)
            .await
            .map_err(backend_err)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(data) = self
            .store
            .load_session(&id.to_string(), now_ms())
            .await
            .map_err(backend_err)?
        else {
            return Ok(None);
        };
        serde_json::from_str(&data)
            .map(Some)
            .map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .delete_session(&id.to_string())
            .await
            .map_err(backend_err)
    }
}
