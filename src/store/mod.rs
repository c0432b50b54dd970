//! The store: one set of portable SQL over sqlx's `Any` driver, so the backend
//! (SQLite or Postgres) is picked at run time from the database URL.
//!
//! Every query uses `$N` placeholders (understood by both drivers), BIGINT millisecond
//! timestamps and TEXT ids, so statements need no dialect branch — with one exception:
//! claiming merchant notifications takes row locks (`FOR UPDATE SKIP LOCKED`) on Postgres,
//! which SQLite has no syntax for (see `merchant_notifications`).

mod amount_limits;
mod api_keys;
mod audit;
pub mod backup;
mod cert_refresh;
mod channels;
mod checkpoint;
mod error;
mod gauges;
mod idempotency;
mod inbox;
mod inbox_writer;
mod merchant_notifications;
mod order_search;
mod order_stats;
mod order_sync;
mod orders;
mod provider_calls;
mod refund_approval;
mod sandbox_keys;
mod sandbox_ledger;
mod sessions;
mod throttle;
mod twofa;
mod users;

pub mod stats;

pub use api_keys::{ApiKeyInfo, NewApiKey};
pub use audit::{AuditEntry, AuditFilter};
pub use cert_refresh::CertRefreshState;
pub use channels::{ChannelRow, NewChannel};
pub use error::StoreError;
pub use gauges::Gauges;
pub use idempotency::{IDEMPOTENCY_STALE_MS, IdempotencyBegin};
pub use inbox::{
    Applied, InboxEntry, InboxFilter, MaskedPayload, PAYLOAD_VIEW_BYTES, Verdict, event_kind,
    is_secret_name,
};
pub use inbox_writer::{InboxWriter, MAX_BATCH, NewNotification, Outcome};
pub use merchant_notifications::{
    ClaimedMerchantNotification, MerchantNotification, MerchantNotificationAttempt,
    MerchantNotificationFilter, MerchantNotificationStatus, NewMerchantNotification,
    NotificationAttemptRecord, RESPONSE_SNIPPET_CHARS, enqueue_merchant_notification,
};
pub use order_search::{MAX_PAGE, OrderSearch, RefundListing, RefundSearch};
pub use order_sync::OrderFilter;
pub use orders::{NewOrder, Order, OrderEvent, Refund, RefundRequest, Transition};
pub use provider_calls::{CallFilter, CallLogWriter, StoreCallSink, StoredCall};
pub use refund_approval::{ApprovalOutcome, RefundApproval};
pub use sandbox_ledger::{
    ClaimedSandboxDelivery, Decided, NewSandboxOrder, SandboxDelivery, SandboxDeliveryOutcome,
    SandboxDeliveryStatus,
};
pub use sessions::{ActiveSession, SessionOwner, StoredSession};
pub use throttle::ThrottleState;
pub use twofa::TotpRow;
pub use users::{NewUser, User, UserUpdate};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The database a connection (or transaction) talks to.
    pub(crate) fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// Picks the backend from a database URL, or says why it cannot.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    // The pool's Debug would print connection options; keep credentials out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let max = match backend {
            // SQLite allows one writer at a time; a few connections serve concurrent
            // readers (WAL).
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        };
        let pool = pool_options(backend, "")
            .max_connections(max)
            .connect(url)
            .await
            .map_err(StoreError::Connect)?;
        Ok(Store { pool, backend })
    }

    /// Another store on the same database with a pool of its own (`connections` at
    /// most), opened on the calling thread's runtime: for work that runs on a thread of
    /// its own and must not wait for the shared pool (the notification writer).
    pub async fn dedicated(&self, connections: u32) -> Result<Store, StoreError> {
        self.dedicated_with(connections, "").await
    }

    /// [`Store::dedicated`] for the notification writer: on SQLite its connection does not
    /// checkpoint the WAL in its commits (a task beside it does; see `checkpoint`).
    pub(crate) async fn dedicated_writer(&self) -> Result<Store, StoreError> {
        self.dedicated_with(
            1,
            "PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;",
        )
        .await
    }

    async fn dedicated_with(
        &self,
        connections: u32,
        sqlite_pragmas: &'static str,
    ) -> Result<Store, StoreError> {
        let options = (*self.pool.connect_options()).clone();
        let pool = pool_options(self.backend, sqlite_pragmas)
            .max_connections(connections)
            .connect_with(options)
            .await
            .map_err(StoreError::Connect)?;
        Ok(Store {
            pool,
            backend: self.backend,
        })
    }

    /// Applies pending migrations (idempotent; on Postgres guarded by an advisory lock,
    /// so several instances may start at once).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        self.fill_order_stats_if_empty().await?;
        Ok(())
    }

    /// The newest migration this build knows; a database (or backup) beyond it was
    /// written by a newer paydesk.
    pub fn latest_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The two binds of a keyset condition `(t < $a OR (t = $a AND id < $b))` for a
/// newest-first listing that continues after the (`time`, `id`) position `before`.
pub(crate) fn keyset(before: &Option<(i64, String)>) -> (Option<i64>, Option<&str>) {
    match before {
        Some((at, id)) => (Some(*at), Some(id.as_str())),
        None => (None, None),
    }
}

/// Most rows in one multi-row `INSERT`: far below SQLite's 32,766 and Postgres's 65,535
/// bound parameters for the widest row we batch (11 columns).
pub(crate) const MULTI_ROW_MAX: usize = 256;

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `columns` parameters; on SQLite
/// anonymous `(?, ?, ?), …` instead, because SQLite looks a named or numbered parameter up
/// in a list, linearly, both when preparing and when binding: quadratic in the number of
/// parameters, which a 256-row insert made visible in profiles.
pub(crate) fn values_placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    values_typed(backend, rows, &vec![None; columns])
}

/// [`values_placeholders`] with a type for some columns (`CAST(? AS BIGINT)`): Postgres
/// types a bare parameter in a `VALUES` that feeds an `UPDATE … FROM` as text.
pub(crate) fn values_typed(backend: Backend, rows: usize, types: &[Option<&str>]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows * types.len() * 6);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for (c, ty) in types.iter().enumerate() {
            if c > 0 {
                out.push_str(", ");
            }
            let param = match backend {
                Backend::Sqlite => "?".to_string(),
                Backend::Postgres => format!("${}", r * types.len() + c + 1),
            };
            let _ = match ty {
                Some(ty) => write!(out, "CAST({param} AS {ty})"),
                None => write!(out, "{param}"),
            };
        }
        out.push(')');
    }
    out
}

/// Pool settings shared by every pool on a database; `sqlite_pragmas` are run on each
/// new SQLite connection after the common ones.
fn pool_options(backend: Backend, sqlite_pragmas: &'static str) -> AnyPoolOptions {
    let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5));
    match backend {
        // Per connection: WAL, durable commits, and busy_timeout so a writer waits for the
        // write lock instead of failing.
        Backend::Sqlite => options.after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .await?;
                if !sqlite_pragmas.is_empty() {
                    conn.execute(sqlite_pragmas).await?;
                }
                Ok(())
            })
        }),
        Backend::Postgres => options,
    }
}

/// A fresh random id (UUID v4 text).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A fresh notify-inbox id: a UUID v7, which starts with the time, so the busiest insert
/// path appends to the end of its primary-key index instead of touching random pages.
pub fn new_notification_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::{Backend, values_placeholders, values_typed};

    #[test]
    fn placeholders_number_every_parameter_once() {
        assert_eq!(values_placeholders(Backend::Postgres, 1, 1), "($1)");
        assert_eq!(
            values_placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(values_placeholders(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(
            values_typed(Backend::Postgres, 2, &[None, Some("BIGINT")]),
            "($1, CAST($2 AS BIGINT)), ($3, CAST($4 AS BIGINT))"
        );
    }
}
