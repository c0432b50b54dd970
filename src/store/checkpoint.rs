//! SQLite WAL checkpoints beside the notification writer instead of inside its commits.
//!
//! By default SQLite checkpoints in the COMMIT that takes the WAL past 1,000 pages: that
//! COMMIT copies the WAL's pages into the database file and fsyncs it before it returns,
//! so every notification of that batch, and every one queued behind it, waits for the
//! copy (issue 20: the intermittent p99 tail under wrk; see `BENCHMARKS.md`). So the
//! writer's connection has automatic checkpoints off (`PRAGMA wal_autocheckpoint = 0`)
//! and a task with a connection of its own runs `PRAGMA wal_checkpoint(PASSIVE)` after
//! commits, at most every [`PASS_EVERY`]: a passive checkpoint takes no write lock, so
//! the writer keeps committing while it copies.
//!
//! A WAL starts over from its beginning only when all of it is in the database file at
//! the start of a write transaction, which a checkpoint running beside a busy writer never
//! catches up with: left alone, the WAL would grow for as long as the load lasts. So once
//! it is past [`RESTART_FRAMES`], the checkpointer runs its passes back to back (each
//! copies only what came in during the last) and the writer finishes the job between two
//! batches — one passive pass over the few frames left, with nobody else writing — so its
//! next transaction rewrites the WAL from the start.
//!
//! Durability is SQLite's as before: a commit is durable once its WAL frames are fsynced
//! (`synchronous = FULL`); a checkpoint fsyncs the database file before any frame it
//! copied can be overwritten.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::Row;
use tokio::sync::{Mutex, Notify};

use super::{Store, StoreError};

/// Least time between two passes of the checkpointer while the WAL is small: each pass
/// ends with an fsync of the database file, and pages written several times meanwhile are
/// copied once.
pub const PASS_EVERY: Duration = Duration::from_millis(100);

/// WAL length (4 KiB pages) past which the WAL is brought back to its start (16 MiB).
pub const RESTART_FRAMES: i64 = 4096;

/// Shared by the writer lane and its checkpointer task.
#[derive(Default)]
pub(super) struct Checkpoints {
    /// A commit happened since the last pass.
    committed: Notify,
    /// The WAL is past `RESTART_FRAMES`: the writer should finish a pass between batches.
    restart: AtomicBool,
    /// Held during a pass: two at once would only make one of them return busy.
    pass: Mutex<()>,
    stop: AtomicBool,
}

/// What one `PRAGMA wal_checkpoint(PASSIVE)` reported.
struct Pass {
    /// Frames in the WAL.
    log: i64,
    /// Frames of it now in the database file.
    copied: i64,
}

async fn passive(store: &Store) -> Result<Pass, StoreError> {
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(store.pool())
        .await?;
    Ok(Pass {
        log: row.try_get::<i64, _>(1)?,
        copied: row.try_get::<i64, _>(2)?,
    })
}

impl Checkpoints {
    /// Called by the writer after each batch (its replies already sent).
    pub(super) async fn after_batch(&self, writer: &Store) {
        self.committed.notify_one();
        if !self.restart.load(Ordering::Relaxed) {
            return;
        }
        // Only between two of the checkpointer's passes, so this one copies what little
        // the last of them left.
        let Ok(_pass) = self.pass.try_lock() else {
            return;
        };
        match passive(writer).await {
            Ok(p) if p.copied == p.log => self.restart.store(false, Ordering::Relaxed),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint by the notification writer failed")
            }
        }
    }

    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.committed.notify_one();
    }

    /// The checkpointer: a pass after commits, at most every `PASS_EVERY`, back to back
    /// (with a short gap for the writer) while the WAL is to be restarted.
    pub(super) async fn run(self: Arc<Self>, store: Store) {
        loop {
            self.committed.notified().await;
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let pass = {
                let _pass = self.pass.lock().await;
                passive(&store).await
            };
            let pause = match pass {
                Ok(p) => {
                    let big = p.log >= RESTART_FRAMES;
                    self.restart.store(big, Ordering::Relaxed);
                    tracing::trace!(log = p.log, copied = p.copied, "WAL checkpoint pass");
                    if big {
                        Duration::from_millis(2)
                    } else {
                        PASS_EVERY
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                    PASS_EVERY
                }
            };
            tokio::time::sleep(pause).await;
        }
    }
}

/// A running checkpointer (SQLite only), for the writer lane that started it.
pub(super) struct Checkpointer {
    pub(super) shared: Arc<Checkpoints>,
    task: tokio::task::JoinHandle<()>,
    store: Store,
}

impl Checkpointer {
    /// Starts the checkpointer of the writer connection `writer` (autocheckpoint off) on
    /// the current runtime, with a connection of its own from `shared`. `None` on
    /// Postgres; if its connection cannot be opened, the writer checkpoints in its
    /// commits again, as SQLite does by default (the WAL must not grow without bound).
    pub(super) async fn start(shared: &Store, writer: &Store) -> Option<Checkpointer> {
        if shared.backend() != super::Backend::Sqlite {
            return None;
        }
        match shared.dedicated(1).await {
            Ok(store) => {
                let state = Arc::new(Checkpoints::default());
                let task = tokio::spawn(state.clone().run(store.clone()));
                Some(Checkpointer {
                    shared: state,
                    task,
                    store,
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "no WAL checkpointer; the writer checkpoints in its commits");
                let back = sqlx::query("PRAGMA wal_autocheckpoint = 1000")
                    .execute(writer.pool())
                    .await;
                if let Err(e) = back {
                    tracing::error!(error = %e, "cannot turn WAL checkpoints back on");
                }
                None
            }
        }
    }

    pub(super) async fn finish(self) {
        self.shared.stop();
        let _ = self.task.await;
        self.store.close().await;
    }
}
