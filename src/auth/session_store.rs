//! tower-sessions storage in our own database, so sessions survive restarts and are
//! shared by several instances on one Postgres.

use crate::store::{Store, StoreError, StoredSession};
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

fn encode(record: &Record) -> session_store::Result<StoredSession> {
    let data =
        serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires_at = (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64;
    Ok(StoredSession { data, expires_at })
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
        let Some(stored) = self
            .store
            .load_session(&id.to_string(), now_ms())
            .await
            .map_err(backend_err)?
        else {
            return Ok(None);
        };
        serde_json::from_str(&stored.data)
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
