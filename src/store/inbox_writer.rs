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
//! A batch costs a handful of statements, not a few per notification: the first "paid"
//! for each order in the batch is applied by one `UPDATE … FROM (VALUES …) RETURNING`,
//! anything else one by one in arrival order (same results as all in arrival order), then
//! the batch's timeline events and inbox rows are two multi-row `INSERT`s.
//!
//! A batch is all-or-nothing. If it fails (a database error), each of its notifications is
//! written again in a transaction of its own, so one bad write cannot fail its neighbours
//! ([`Store::record_notifications`]).
//!
//! On Postgres, writes go through several lanes (each a writer with its own transaction),
//! chosen by order number, so notifications for one order always share a lane: two
//! batches never lock the same order rows in opposite orders.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::{Any, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::checkpoint::{Checkpointer, Checkpoints};
use super::inbox::{Applied, Verdict, apply_event_deferred, event_kind};
use super::orders::{EventRow, PaidClaim, insert_events, notify_merchant, paid_many};
use super::{Backend, MULTI_ROW_MAX, Store, StoreError, dialect, values_placeholders};
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
        dialect::writer_lanes(self.store.backend())
    }

    fn sender(&self, note: &NewNotification) -> Option<mpsc::Sender<Job>> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        let lanes = lanes.get_or_insert_with(|| {
            (0..self.lane_count())
                .map(|_| {
                    let (tx, rx) = mpsc::channel(QUEUE);
                    spawn_lane(self.store.clone(), rx, self.batches.clone());
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

/// Starts a lane on a thread of its own with a single-threaded runtime and its own
/// database connection.
///
/// Why not a task on the server's runtime: a batch is a chain of statements, each waiting
/// for the database, and every wake-up of a task on a busy multi-threaded runtime queues
/// behind the request handlers. Measured with 64 connections of notifications on
/// Postgres: 2,400/s as a task, 4,000/s on a thread of its own (before batches became a
/// handful of statements; see `BENCHMARKS.md`). The requests' tasks stay on the server's
/// runtime.
fn spawn_lane(store: Store, rx: mpsc::Receiver<Job>, batches: Arc<AtomicU64>) {
    // Handed to the thread through a slot, so it can be taken back if no thread starts.
    let slot = Arc::new(Mutex::new(Some(rx)));
    let (thread_slot, thread_store, thread_batches) =
        (slot.clone(), store.clone(), batches.clone());
    let spawned = std::thread::Builder::new()
        .name("paydesk-inbox-writer".into())
        .spawn(move || {
            let Some(rx) = thread_slot.lock().ok().and_then(|mut r| r.take()) else {
                return;
            };
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the notification writer's runtime");
                    return;
                }
            };
            runtime.block_on(async move {
                // Its own connection, opened on this runtime (a Postgres socket belongs to
                // the runtime that opened it); the shared pool if that fails.
                match thread_store.dedicated_writer().await {
                    Ok(own) => {
                        let checkpointer = Checkpointer::start(&thread_store, &own).await;
                        let checkpoints = checkpointer.as_ref().map(|c| c.shared.clone());
                        run_lane(own.clone(), rx, thread_batches, checkpoints).await;
                        if let Some(c) = checkpointer {
                            c.finish().await;
                        }
                        own.close().await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "notification writer: using the shared pool");
                        run_lane(thread_store, rx, thread_batches, None).await;
                    }
                }
            });
        });
    if let Err(e) = spawned {
        // No thread: run the lane as a task on the caller's runtime instead.
        tracing::warn!(error = %e, "notification writer: no thread of its own");
        if let Some(rx) = slot.lock().ok().and_then(|mut r| r.take()) {
            tokio::spawn(run_lane(store, rx, batches, None));
        }
    }
}

async fn run_lane(
    store: Store,
    mut rx: mpsc::Receiver<Job>,
    batches: Arc<AtomicU64>,
    checkpoints: Option<Arc<Checkpoints>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        batches.fetch_add(1, Ordering::Relaxed);
        crate::metrics::notify_batch(batch.len());
        let started = std::time::Instant::now();
        let notes: Vec<&NewNotification> = batch.iter().map(|j| &j.note).collect();
        let results = store.record_notifications(&notes).await;
        let took = started.elapsed();
        crate::metrics::notify_batch_seconds(took);
        // What `RUST_LOG=paydesk_core::store::inbox_writer=debug` shows per transaction:
        // where a slow acknowledgement waited (see BENCHMARKS.md, issue 20).
        tracing::debug!(
            size = batch.len(),
            micros = took.as_micros() as u64,
            "notification batch committed"
        );
        for (job, result) in batch.drain(..).zip(results) {
            let _ = job.reply.send(result);
        }
        if let Some(c) = &checkpoints {
            c.after_batch(&store).await;
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
        match self.record_batch(notes).await {
            Ok(applied) => applied.into_iter().map(Ok).collect(),
            Err(e) if notes.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(error = %e, size = notes.len(), "a notification batch failed; writing each alone");
                let mut out = Vec::with_capacity(notes.len());
                for note in notes {
                    out.push(
                        self.record_batch(&[note])
                            .await
                            .and_then(|mut r| r.pop().ok_or(StoreError::WriterGone)),
                    );
                }
                out
            }
        }
    }

    /// All of `notes` in one transaction, or nothing (an error): what the writer tries
    /// first for each batch.
    ///
    /// Statements are what a batch costs (each one a round trip to the database's thread
    /// or socket), so the batch's payments are one `UPDATE … RETURNING`, and its timeline
    /// events and inbox rows two multi-row `INSERT`s at the end.
    pub async fn record_batch(
        &self,
        notes: &[&NewNotification],
    ) -> Result<Vec<Applied>, StoreError> {
        // SQLite: the write lock at BEGIN (see `dialect::begin_write`).
        let mut tx = dialect::begin_write(&self.pool, self.backend).await?;
        let mut events = Vec::new();
        let firsts = pay_first_claims(&mut tx, notes, &mut events).await?;
        let mut out = Vec::with_capacity(notes.len());
        for (note, first) in notes.iter().zip(firsts) {
            out.push(match first {
                First::Paid(applied) => applied,
                First::Missed => apply(&mut tx, note, &mut events, true).await?,
                First::NotTried => apply(&mut tx, note, &mut events, false).await?,
            });
        }
        insert_events(&mut tx, &events).await?;
        insert_inbox_rows(&mut tx, notes, &out).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// What the batch's payment statement did for one notification.
#[derive(Debug, Clone)]
enum First {
    /// Not a "paid" that is the first notification in the batch about its order.
    NotTried,
    /// Its "paid" did not match (not pending, another amount or channel, no such order):
    /// judged one by one, without running the same statement again.
    Missed,
    /// Applied.
    Paid(Applied),
}

/// Applies, in one statement, every verified "paid" of the batch that is the first
/// notification in it about its order, and returns what became of each (by position). The rest are then applied one by one in arrival order, which
/// gives the same results as applying everything in arrival order: an order's first
/// notification sees no earlier one about it, and later ones see it applied.
async fn pay_first_claims(
    tx: &mut Transaction<'static, Any>,
    notes: &[&NewNotification],
    events: &mut Vec<EventRow>,
) -> Result<Vec<First>, StoreError> {
    let mut done = vec![First::NotTried; notes.len()];
    let mut seen = HashSet::with_capacity(notes.len());
    let mut claims = Vec::new();
    for (i, note) in notes.iter().enumerate() {
        let Outcome::Verified(event) = &note.outcome else {
            continue;
        };
        let Some(no) = event.out_trade_no() else {
            continue;
        };
        if !seen.insert(no) {
            continue;
        }
        if let NotifyEvent::Paid {
            trade_no, amount, ..
        } = event
        {
            claims.push((
                i,
                PaidClaim {
                    channel: &note.channel,
                    out_trade_no: no,
                    provider_trade_no: trade_no,
                    paid: *amount,
                },
            ));
        }
    }
    if claims.is_empty() {
        return Ok(done);
    }
    let list: Vec<PaidClaim<'_>> = claims.iter().map(|(_, c)| c.clone()).collect();
    let mut paid = paid_many(tx, &list).await?;
    for (i, claim) in &claims {
        let Some(order) = paid.remove(claim.out_trade_no) else {
            done[*i] = First::Missed;
            continue;
        };
        let cause = Cause::Notify(notes[*i].id.clone());
        events.push(EventRow::new(
            &order.id,
            order.version,
            "paid",
            &cause,
            claim.provider_trade_no,
        ));
        if order.forwards {
            notify_merchant(tx, &order.id, "paid", None).await?;
        }
        done[*i] = First::Paid(Applied {
            verdict: Verdict::Applied,
            reason: None,
            changed_order: Some(order.id),
        });
    }
    Ok(done)
}

/// What `note` does to its order or refund (nothing unless verified); `paid_tried`: its
/// "paid" statement already ran in this transaction and did not match.
async fn apply(
    tx: &mut Transaction<'static, Any>,
    note: &NewNotification,
    events: &mut Vec<EventRow>,
    paid_tried: bool,
) -> Result<Applied, StoreError> {
    Ok(match &note.outcome {
        Outcome::Verified(event) => {
            let cause = Cause::Notify(note.id.clone());
            apply_event_deferred(tx, &note.channel, event, &cause, events, paid_tried).await?
        }
        Outcome::Rejected(reason) => Applied {
            verdict: Verdict::Rejected,
            reason: Some(reason.clone()),
            changed_order: None,
        },
        Outcome::Unprocessed => Applied {
            verdict: Verdict::Received,
            reason: None,
            changed_order: None,
        },
    })
}

/// The inbox rows of `notes`, each in its final state `applied[i]`.
async fn insert_inbox_rows(
    tx: &mut Transaction<'static, Any>,
    notes: &[&NewNotification],
    applied: &[Applied],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 11;
    let backend = Backend::of(tx);
    let rows: Vec<_> = notes.iter().zip(applied).collect();
    for chunk in rows.chunks(MULTI_ROW_MAX) {
        let sql = format!(
            "INSERT INTO notify_inbox (id, provider, channel, received_at, headers, body, status, \
             reason, event, out_trade_no, processed_at) VALUES {}",
            values_placeholders(backend, chunk.len(), COLUMNS)
        );
        let mut q = sqlx::query(&sql);
        for (note, applied) in chunk {
            let event = match &note.outcome {
                Outcome::Verified(e) => Some(e),
                _ => None,
            };
            let processed_at = (applied.verdict != Verdict::Received).then(now_ms);
            q = q
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
                .bind(processed_at);
        }
        // Not kept prepared: the text differs with the number of rows.
        q.persistent(false).execute(&mut **tx).await?;
    }
    Ok(())
}
