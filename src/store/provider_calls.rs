//! The provider call log: a [`CallSink`] that writes every [`ProviderCall`] to
//! `provider_calls`, and the query behind the logs view.
//!
//! `CallSink::record` is synchronous (it is called from inside the HTTP client's retry
//! loop), so records go through a bounded queue to one writer task: a slow database never
//! slows a payment call, and a flood of calls cannot grow memory without limit (records
//! beyond the queue are dropped with a warning — the log is for people, not bookkeeping).

use std::sync::Arc;

use sqlx::Row;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::{Store, StoreError, new_id};
use crate::provider::{CallSink, ProviderCall};

/// How many records may wait for the writer.
const QUEUE: usize = 1024;

/// One stored call, as the logs view reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredCall {
    pub id: String,
    pub at: i64,
    pub provider: String,
    pub channel: String,
    pub operation: String,
    pub method: String,
    /// Masked before it was stored.
    pub url: String,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub attempt: i64,
    pub provider_code: Option<String>,
    pub error: Option<String>,
    pub out_trade_no: Option<String>,
}

/// Which calls to list. Empty filter = the newest calls of every channel.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub provider: Option<String>,
    pub channel: Option<String>,
    pub out_trade_no: Option<String>,
    /// Only calls after this (`at`, `id`) position in newest-first order, for paging
    /// backwards: [`StoredCall::cursor`] of the last call of the previous page.
    pub before: Option<(i64, String)>,
    /// Only failed calls: no answer, HTTP status >= 400, or a provider error code.
    pub failed_only: bool,
    /// At most this many (clamped to 1..=500).
    pub limit: i64,
}

impl Store {
    pub async fn record_provider_call(&self, call: &ProviderCall) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO provider_calls (id, at, provider, channel, operation, method, url, status, \
             latency_ms, attempt, provider_code, error, out_trade_no) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(new_id())
        .bind(call.started_at_ms)
        .bind(call.provider.as_str())
        .bind(&call.channel)
        .bind(call.operation)
        .bind(&call.method)
        .bind(&call.url)
        .bind(call.status.map(i64::from))
        .bind(i64::try_from(call.latency_ms).unwrap_or(i64::MAX))
        .bind(i64::from(call.attempt))
        .bind(call.provider_code.as_deref())
        .bind(call.error.as_deref())
        .bind(call.out_trade_no.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Calls matching `filter`, newest first.
    pub async fn provider_calls(&self, filter: &CallFilter) -> Result<Vec<StoredCall>, StoreError> {
        // Optional filters as `$n IS NULL OR col = $n`: one portable statement instead of
        // string-built SQL. `failed_only` is bound as 0/1 (no BOOLEAN in this schema).
        // Keyset paging on (at, id): calls of the same millisecond (retries, concurrent
        // checkouts) are ordered by id, so none is skipped or repeated at a page boundary.
        let (before_at, before_id) = super::keyset(&filter.before);
        let rows = sqlx::query(
            "SELECT id, at, provider, channel, operation, method, url, status, latency_ms, attempt, \
             provider_code, error, out_trade_no FROM provider_calls \
             WHERE ($1 IS NULL OR provider = $1) \
               AND ($2 IS NULL OR channel = $2) \
               AND ($3 IS NULL OR out_trade_no = $3) \
               AND ($4 IS NULL OR at < $4 OR (at = $4 AND id < $5)) \
               AND ($6 = 0 OR status IS NULL OR status >= 400 OR provider_code IS NOT NULL) \
             ORDER BY at DESC, id DESC LIMIT $7",
        )
        .bind(filter.provider.as_deref())
        .bind(filter.channel.as_deref())
        .bind(filter.out_trade_no.as_deref())
        .bind(before_at)
        .bind(before_id)
        .bind(i64::from(filter.failed_only))
        .bind(filter.limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredCall {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    provider: r.try_get("provider")?,
                    channel: r.try_get("channel")?,
                    operation: r.try_get("operation")?,
                    method: r.try_get("method")?,
                    url: r.try_get("url")?,
                    status: r.try_get("status")?,
                    latency_ms: r.try_get("latency_ms")?,
                    attempt: r.try_get("attempt")?,
                    provider_code: r.try_get("provider_code")?,
                    error: r.try_get("error")?,
                    out_trade_no: r.try_get("out_trade_no")?,
                })
            })
            .collect()
    }
}

impl StoredCall {
    /// This call's position, for [`CallFilter::before`].
    pub fn cursor(&self) -> (i64, String) {
        (self.at, self.id.clone())
    }
}

/// The store-backed [`CallSink`]. Cheap to share (`Arc`); see the module docs.
#[derive(Debug)]
pub struct StoreCallSink {
    tx: mpsc::Sender<ProviderCall>,
}

impl CallSink for StoreCallSink {
    fn record(&self, call: ProviderCall) {
        if self.tx.try_send(call).is_err() {
            tracing::warn!("provider call log is backed up; a call record was dropped");
        }
    }
}

/// Owns the writer task; [`CallLogWriter::shutdown`] writes what is queued and stops it.
#[derive(Debug)]
pub struct CallLogWriter {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl StoreCallSink {
    /// Starts the writer task (needs a Tokio runtime) and returns the sink and its writer.
    pub fn spawn(store: Store) -> (Arc<StoreCallSink>, CallLogWriter) {
        let (tx, mut rx) = mpsc::channel::<ProviderCall>(QUEUE);
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    call = rx.recv() => match call {
                        Some(call) => write(&store, &call).await,
                        None => return,
                    },
                    _ = stopped.changed() => {
                        // Drain what was queued before the stop, then end.
                        while let Ok(call) = rx.try_recv() {
                            write(&store, &call).await;
                        }
                        return;
                    }
                }
            }
        });
        (Arc::new(StoreCallSink { tx }), CallLogWriter { stop, task })
    }
}

async fn write(store: &Store, call: &ProviderCall) {
    if let Err(e) = store.record_provider_call(call).await {
        tracing::warn!(error = %e, provider = %call.provider, "cannot store a provider call record");
    }
}

impl CallLogWriter {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
