//! The store: one set of portable SQL over sqlx's `Any` driver, so the backend
//! (SQLite or Postgres) is picked at run time from the database URL.
//!
//! Queries use `$N` placeholders (understood by both drivers), BIGINT millisecond
//! timestamps and TEXT ids, so most statements need no dialect branch. Every exception
//! (connection settings, multi-row placeholders, `BEGIN IMMEDIATE`, row and table locks,
//! claiming due rows with `SKIP LOCKED`, writer lanes, WAL checkpoints, backup) goes
//! through, or is listed in, `dialect`, with where it is used and why.
//!
//! Module map:
//!
//! - `dialect`: the SQLite/Postgres differences.
//! - `orders` (`model`, `transitions`, `paid_batch`, `refunds`, `timeline`, `fanout`):
//!   orders and refunds and their compare-and-set transitions; `order_sync` (claiming due
//!   active queries, provider answers, listing), `order_search`, `order_stats` (the
//!   overview's roll-up, written in the same transactions), `refund_approval`.
//! - `inbox` (notifications, their verdicts, applying one; the decisions themselves are
//!   `payments::judge`'s), `inbox_writer` (group commit of notifications), `inbox_mask`
//!   (what the logs view shows), `checkpoint` (the SQLite WAL beside the writer).
//! - `merchant_notifications`: the outbox of events for merchant systems.
//! - `channels`, `amount_limits`, `cert_refresh`, `provider_calls`, `sandbox_keys`,
//!   `sandbox_ledger`: provider channels and the sandbox.
//! - `users`, `sessions`, `twofa`, `throttle`, `api_keys`, `audit`, `idempotency`: people,
//!   keys and their traces.
//! - `stats`, `gauges`, `backup`, `error`.

mod amount_limits;
mod api_keys;
mod audit;
pub mod backup;
mod cert_refresh;
mod channels;
mod checkpoint;
mod counter;
mod dialect;
mod error;
mod gauges;
mod idempotency;
mod inbox;
mod inbox_mask;
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
mod sandbox_pay_codes;
mod sessions;
mod throttle;
mod twofa;
mod user_choices;
mod users;

pub mod stats;

pub use api_keys::{ApiKeyInfo, NewApiKey};
pub use audit::{AuditEntry, AuditFilter, SIGN_IN_ACTIONS, SignIns};
pub use cert_refresh::CertRefreshState;
pub use channels::{ChannelRow, NewChannel};
pub use error::StoreError;
pub use gauges::Gauges;
pub use idempotency::{IDEMPOTENCY_STALE_MS, IdempotencyBegin};
pub use inbox::{Applied, InboxEntry, InboxFilter, Verdict, event_kind};
pub use inbox_mask::{MaskedPayload, PAYLOAD_VIEW_BYTES, is_secret_name};
pub use inbox_writer::{InboxWriter, MAX_BATCH, NewNotification, Outcome};
pub use merchant_notifications::{
    ClaimedMerchantNotification, MerchantNotification, MerchantNotificationAttempt,
    MerchantNotificationFilter, MerchantNotificationStatus, NewMerchantNotification,
    NotificationAttemptRecord, RESPONSE_SNIPPET_CHARS, enqueue_merchant_notification,
};
pub use order_search::{Fragment, MAX_PAGE, OrderSearch, RefundListing, RefundSearch};
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
pub use user_choices::{FirstSteps, MAX_VIEWS, SaveOutcome, SavedView};
pub use users::{NewUser, User, UserUpdate};

pub use dialect::Backend;

pub(crate) use dialect::{MULTI_ROW_MAX, values_placeholders, values_typed};

use dialect::pool_options;
use sqlx::AnyPool;
use sqlx::any::install_default_drivers;

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
        let pool = pool_options(backend, "")
            .max_connections(dialect::max_connections(backend))
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
        self.dedicated_with(1, dialect::WRITER_PRAGMAS).await
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
        order_search::text::ensure_index(self).await?;
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

/// A fresh random id (UUID v4 text).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A fresh notify-inbox id: a UUID v7, which starts with the time, so the busiest insert
/// path appends to the end of its primary-key index instead of touching random pages.
pub fn new_notification_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
