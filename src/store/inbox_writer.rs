//! Group commit for provider notifications.
//!
//! A notification is acknowledged only after what it says is durable, and on SQLite a
//! durable commit is an fsync: one per notification caps throughput at the disk's fsync
//! rate and makes every request queue for the single write lock. So the notify endpoint
//! hands its verified notification to an [`InboxWriter`] and waits; the writer takes
//! everything that queued up while its previous transaction was committing and writes it
//! in **one** transaction — each notification's inbox row and its order or refund
//! transition together — then answers every waiter after the commit. Under load the batch
//! grows by itself, and an idle writer commits a lone notification at once (no timer).
//!
//! Each notification is recorded in its final state in the same transaction that applies
//! it: if the process dies before the commit, nothing was acknowledged and the provider
//! sends it again, so storing the raw request in a separate, earlier commit buys nothing
//! and costs a second fsync. Rows that cannot be verified now (our side is broken) are
//! stored `received` and picked up by recovery.
//!
//! A batch is all-or-nothing. If it fails (a database error), each of its notifications is
//! written again in a transaction of its own, so one bad write cannot fail its neighbours
//! ([`Store::record_notifications`]).
//!
//! On Postgres, writes go through several lanes (each a writer with its own transaction),
//! chosen by order number, so notifications for one order always share a lane: two
//! batches never lock the same order rows in opposite orders.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::{Any, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::inbox::{Applied, Verdict, apply_event, event_kind};
use super::{Backend, Store, StoreError};
use crate::order::Cause;
use crate::provider::NotifyEvent;
use crate::time::now_ms;

/// Most notifications in one transaction: bounds a transaction's duration (and so the
/// wait of the last one in it) when a large backlog arrives at once.
pub const MAX_BATCH: usize = 256;
/// Notifications waiting per lane before callers wait to enqueue (backpressure).
const QUEUE: usize = 4096;

/// What became of a notification before it reached the database.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Verified: apply the event.
    Verified(NotifyEvent),
    /// Failed verification; kept with the reason.
    Rejected(String),
    /// Not verified yet because our side failed (e.g. the channel could not be loaded);
    /// kept `received` for recovery.
    Unprocessed,
}

/// A notification as received, with what verification decided.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// Chosen by the caller (logs name it before the write).
    pub id: String,
    pub provider: String,
    pub channel: String,
    pub received_at: i64,
    /// JSON object of the request headers, credentials removed.
    pub headers: String,
    pub body: String,
    pub outcome: Outcome,
}

impl NewNotification {
    /// Which lane writes it: by order number, so one order's notifications are serialised.
    fn lane(&self, lanes: usize) -> usize {
        let key = match &self.outcome {
            Outcome::Verified(e) => e.out_trade_no().unwrap_or(&self.id),
            _ => &self.id,
        };
        // FNV-1a: stable and cheap; only the spread matters.
        let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        (h % lanes as u64) as usize
    }
}

struct Job {
    note: NewNotification,
    reply: oneshot::Sender<Result<Applied, StoreError>>,
}

/// Batches notification writes; clones share the lanes. The lane tasks start on first use
/// (on the runtime of that caller) and end when the last `InboxWriter` is dropped, after
/// writing what is queued.
#[derive(Clone)]
pub struct InboxWriter {
    store: Store,
    lanes: Arc<Mutex<Option<Vec<mpsc::Sender<Job>>>>>,
    /// Batches written so far (for tests and the bench; operators have the histogram).
    batches: Arc<AtomicU64>,
}

impl std::fmt::Debug for InboxWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxWriter").finish_non_exhaustive()
    }
}

impl InboxWriter {
    pub fn new(store: Store) -> InboxWriter {
        InboxWriter {
            store,
            lanes: Arc::new(Mutex::new(None)),
            batches: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many batches (transactions, unless one failed) the lanes have written.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// One writer for SQLite (a single write lock: more lanes would only queue on it);
    /// several for Postgres, which writes different rows in parallel.
    fn lane_count(&self) -> usize {
        match self.store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        }
    }

    fn sender(&self, note: &NewNotification) -> Option<mpsc::Sender<Job>> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        let lanes = lanes.get_or_insert_with(|| {
            (0..self.lane_count())
                .map(|_| {
                    let (tx, rx) = mpsc::channel(QUEUE);
                    tokio::spawn(run_lane(self.store.clone(), rx, self.batches.clone()));
                    tx
                })
                .collect()
        });
        lanes.get(note.lane(lanes.len())).cloned()
    }

    /// Writes `note` (with its order transition, if verified) in the next batch and returns
    /// once that batch is committed.
    pub async fn write(&self, note: NewNotification) -> Result<Applied, StoreError> {
        let sender = self.sender(&note).ok_or(StoreError::WriterGone)?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Job { note, reply })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run_lane(store: Store, mut rx: mpsc::Receiver<Job>, batches: Arc<AtomicU64>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        batches.fetch_add(1, Ordering::Relaxed);
        crate::metrics::notify_batch(batch.len());
        let notes: Vec<&NewNotification> = batch.iter().map(|j| &j.note).collect();
        let results = store.record_notifications(&notes).await;
        for (job, result) in batch.drain(..).zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

impl Store {
    /// Records `notes` and applies the verified ones, in one transaction when it can:
    /// if that transaction fails, each note is written again on its own, so one bad write
    /// fails only itself. The results are in the order of `notes`.
    pub async fn record_notifications(
        &self,
        notes: &[&NewNotification],
    ) -> Vec<Result<Applied, StoreError>> {
        match self.write_notifications(notes).await {
            Ok(applied) => applied.into_iter().map(Ok).collect(),
            Err(e) if notes.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, size = notes.len(), "a notification batch failed; writing each alone");
                let mut out = Vec::with_capacity(notes.len());
                for note in notes {
                    out.push(
                        self.write_notifications(&[note])
                            .await
                            .and_then(|mut r| r.pop().ok_or(StoreError::WriterGone)),
                    );
                }
                out
            }
        }
    }

    /// All of `notes` in one transaction, or nothing.
    async fn write_notifications(
        &self,
        notes: &[&NewNotification],
    ) -> Result<Vec<Applied>, StoreError> {
        // SQLite: take the write lock at BEGIN. A deferred transaction that reads first
        // and writes later fails with SQLITE_BUSY (without waiting) when another
        // connection committed in between.
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        let mut out = Vec::with_capacity(notes.len());
        for note in notes {
            out.push(write_one(&mut tx, note).await?);
        }
        tx.commit().await?;
        Ok(out)
    }
}

async fn write_one(
    tx: &mut Transaction<'static, Any>,
    note: &NewNotification,
) -> Result<Applied, StoreError> {
    let (applied, event) = match &note.outcome {
        Outcome::Verified(event) => {
            let cause = Cause::Notify(note.id.clone());
            (
                apply_event(tx, &note.channel, event, &cause).await?,
                Some(event),
            )
        }
        Outcome::Rejected(reason) => (
            Applied {
                verdict: Verdict::Rejected,
                reason: Some(reason.clone()),
                changed_order: None,
            },
            None,
        ),
        Outcome::Unprocessed => (
            Applied {
                verdict: Verdict::Received,
                reason: None,
                changed_order: None,
            },
            None,
        ),
    };
    let processed_at = (applied.verdict != Verdict::Received).then(now_ms);
    sqlx::query(
        "INSERT INTO notify_inbox (id, provider, channel, received_at, headers, body, status, \
         reason, event, out_trade_no, processed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&note.id)
    .bind(&note.provider)
    .bind(&note.channel)
    .bind(note.received_at)
    .bind(&note.headers)
    .bind(&note.body)
    .bind(applied.verdict.as_str())
    .bind(applied.reason.as_deref())
    .bind(event.map(event_kind))
    .bind(event.and_then(|e| e.out_trade_no()))
    .bind(processed_at)
    .execute(&mut **tx)
    .await?;
    Ok(applied)
}
