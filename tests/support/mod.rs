//! Test databases: a fresh SQLite file, or a fresh schema on the local Postgres.
//!
//! Postgres comes from `PAYDESK_TEST_POSTGRES_URL` (default: the local server's `test`
//! database). When it is unreachable the Postgres half of each story is skipped with a
//! loud line on stderr — except under `CI=true`, where a missing Postgres is a failure.
#![allow(dead_code)]

use std::sync::Arc;

use paydesk_core::channel::ChannelRegistry;
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::{CallSink, FixedClock};
use paydesk_core::store::Store;
use paydesk_core::vault::MasterKey;

pub struct TestDb {
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: Store, schema: String },
}

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn postgres_url() -> String {
    std::env::var("PAYDESK_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.to_string())
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let store = Store::connect(&url).await.expect("connect sqlite");
        store.migrate().await.expect("migrate sqlite");
        TestDb {
            store,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A store in a schema of its own, or None (skipped) when Postgres is unreachable.
    pub async fn postgres() -> Option<TestDb> {
        let base = postgres_url();
        let admin = match Store::connect(&base).await {
            Ok(s) if s.ping().await => s,
            other => {
                let why = other
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "no answer".into());
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("CI=true but Postgres at {base} is unreachable: {why}");
                }
                eprintln!("SKIPPED (postgres): {base} unreachable: {why}");
                return None;
            }
        };
        let schema = format!("t_{}", uuid_simple());
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(admin.pool())
            .await
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let store = Store::connect(&url).await.expect("connect postgres schema");
        store.migrate().await.expect("migrate postgres");
        Some(TestDb {
            store,
            cleanup: Cleanup::Postgres { admin, schema },
        })
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Postgres { admin, schema } = self.cleanup {
            let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(admin.pool())
                .await;
            admin.close().await;
        }
    }
}

fn uuid_simple() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:04x}", nanos, std::process::id() & 0xffff)
}

/// The channel registry of one instance on `store`: a fixed master key and clock (`now`,
/// Unix seconds), provider calls recorded in `sink`, one attempt per call (tests that
/// expect a failure need not wait for retries).
pub fn registry(store: &Store, sink: Arc<dyn CallSink>, now: i64) -> ChannelRegistry {
    ChannelRegistry::new(
        store.clone(),
        MasterKey::from_bytes([9; 32]),
        "http://127.0.0.1:9",
        sink,
        Arc::new(FixedClock(now)),
        HttpSettings {
            max_attempts: 1,
            ..HttpSettings::default()
        },
    )
}

/// Runs an async story `fn(&Store)` once on SQLite and once on Postgres.
#[macro_export]
macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::support::TestDb::sqlite().await;
                super::$story(&db.store).await;
                db.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::support::TestDb::postgres().await else { return };
                super::$story(&db.store).await;
                db.finish().await;
            }
        }
    )*};
}
