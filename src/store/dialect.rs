//! Where SQLite and Postgres differ: the one place the store branches on its backend.
//!
//! The store is one SQL codebase over sqlx's `Any` driver. Portable, so **not** listed
//! here: `$N` placeholders, `ON CONFLICT … DO NOTHING / DO UPDATE … excluded.…` (SQLite
//! 3.24+), `RETURNING` (3.35+), `UPDATE … FROM` (3.33+), `VALUES` columns named
//! `column1…` in `UPDATE … FROM (VALUES …)`, BIGINT millisecond timestamps, TEXT ids.
//!
//! Every exception, with where it is used and why:
//!
//! | Exception | Function here | Used in | Why |
//! |---|---|---|---|
//! | Which backend a connection is | [`Backend::of`], [`Backend::from_url`] | everywhere below | picked at run time from the URL |
//! | Pool size and per-connection settings | [`pool_options`], [`max_connections`], [`WRITER_PRAGMAS`] | `mod.rs` (`connect`, `dedicated_writer`) | SQLite: WAL, `synchronous = FULL`, `foreign_keys`, `busy_timeout`, one writer so few connections; the writer's connection leaves WAL checkpoints to `checkpoint` |
//! | Multi-row `VALUES` placeholders | [`values_placeholders`], [`values_typed`] | `inbox_writer`, `orders/paid_batch`, `orders/timeline`, `order_stats` | SQLite looks numbered parameters up linearly (quadratic for a 256-row insert): anonymous `?` there; Postgres types a bare parameter in `VALUES` as text: `CAST($n AS BIGINT)` |
//! | Write lock at `BEGIN` | [`begin_write`] | `inbox_writer` (`record_batch`), `sandbox_ledger` (`begin_sandbox_write`), `orders/transitions` (`create_order`), `order_search/text` (`backfill`) | SQLite: `BEGIN IMMEDIATE`, or a read-then-write transaction fails with `SQLITE_BUSY` when another connection wrote in between (an order insert's FTS trigger reads the index first) |
//! | Fragment search index | — (`Backend` checks in `order_search/text`) | `order_search` (fragments), `migrate` (`ensure_index`) | SQLite: an FTS5 `trigram` table filled by a trigger, counted before it is used; Postgres: `pg_trgm` GIN on `orders.search_text`, chosen by the planner |
//! | Row and table locks | [`has_row_locks`], [`for_update`] | `orders/paid_batch` (sorted `FOR UPDATE` before a batch's `UPDATE … FROM`), `users` (admin rows before demoting), `order_stats` (`LOCK TABLE` for a rebuild), `sandbox_ledger` (`FOR UPDATE` read of a sandbox order) | Postgres runs writers concurrently; SQLite runs one writer at a time, which already serialises, and has no `FOR UPDATE` |
//! | Claiming due rows | [`claim_due`] | `order_sync` (active queries), `merchant_notifications`, `sandbox_ledger/deliveries` | Postgres: a `MATERIALIZED` CTE with `FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each other's rows; SQLite: the plain `IN (SELECT …)` form is already exclusive |
//! | Notification writer lanes | [`writer_lanes`] | `inbox_writer` | SQLite has one write lock (more lanes would queue on it); Postgres writes different rows in parallel |
//! | WAL checkpoints | — (SQLite only, `Backend::Sqlite` check) | `checkpoint` | a SQLite WAL file; Postgres has no equivalent to run |
//! | Online backup | — (SQLite only, refused on Postgres) | `backup` | copies the SQLite file; Postgres is backed up with `pg_dump` |

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::time::Duration;

use super::StoreError;

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

/// Connections in the shared pool.
pub(crate) fn max_connections(backend: Backend) -> u32 {
    match backend {
        // SQLite allows one writer at a time; a few connections serve concurrent
        // readers (WAL).
        Backend::Sqlite => 4,
        Backend::Postgres => 16,
    }
}

/// Extra settings of the notification writer's own SQLite connection: it does not
/// checkpoint the WAL in its commits (a task beside it does; see `checkpoint`).
pub(crate) const WRITER_PRAGMAS: &str =
    "PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;";

/// Pool settings shared by every pool on a database; `sqlite_pragmas` are run on each
/// new SQLite connection after the common ones.
pub(crate) fn pool_options(backend: Backend, sqlite_pragmas: &'static str) -> AnyPoolOptions {
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

/// A transaction that will read, decide and write. SQLite: take the write lock at
/// `BEGIN`; a deferred transaction that reads first and writes later fails with
/// `SQLITE_BUSY` (without waiting) when another connection committed in between.
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, Any>, StoreError> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Whether concurrent writers need explicit locks (`SELECT … FOR UPDATE`, `LOCK TABLE`).
/// Postgres runs writers concurrently; SQLite runs one writing transaction at a time, so
/// its writers are serialised already (and it has no `FOR UPDATE`).
pub(crate) fn has_row_locks(backend: Backend) -> bool {
    backend == Backend::Postgres
}

/// `" FOR UPDATE"` to append to a `SELECT` whose rows the transaction will change, where
/// the database has row locks; empty on SQLite.
pub(crate) fn for_update(backend: Backend) -> &'static str {
    if has_row_locks(backend) {
        " FOR UPDATE"
    } else {
        ""
    }
}

/// How many notification writers (each with its own transactions) to run.
pub(crate) fn writer_lanes(backend: Backend) -> usize {
    match backend {
        // A single write lock: more lanes would only queue on it.
        Backend::Sqlite => 1,
        // Different rows are written in parallel.
        Backend::Postgres => 4,
    }
}

/// What [`claim_due`] claims: `UPDATE {table} SET {set}` for at most `$3` rows matching
/// `due`, picked in `order`, returning `columns` (a `, `-separated list).
pub(crate) struct Claim<'a> {
    pub table: &'a str,
    pub set: &'a str,
    pub due: &'a str,
    pub order: &'a str,
    pub columns: &'a str,
}

/// The statement that claims due rows (a lease: `set` pushes them into the future).
///
/// Both forms pick the due rows first, once, then update exactly those. Postgres: `FOR
/// UPDATE SKIP LOCKED` skips rows another worker is claiming (no waiting, no double
/// pick) and re-checks the conditions against rows changed since the statement began.
/// The pick is a `MATERIALIZED` CTE, not `id IN (SELECT … LIMIT n FOR UPDATE)`: the
/// planner may run such a subquery again for every row of a nested loop, and a re-run
/// skips the rows this statement already updated and returns the next ones — claiming
/// more than `n`. SQLite has no row locks and needs none: one writing statement runs at a
/// time, and an uncorrelated `IN (SELECT …)` is evaluated once.
pub(crate) fn claim_due(backend: Backend, c: &Claim<'_>) -> String {
    let Claim {
        table,
        set,
        due,
        order,
        columns,
    } = c;
    match backend {
        Backend::Postgres => {
            // Qualified: `due` has an `id` too.
            let returning: Vec<String> = columns
                .split(", ")
                .map(|col| format!("{table}.{}", col.trim()))
                .collect();
            format!(
                "WITH due AS MATERIALIZED (SELECT id FROM {table} WHERE {due} ORDER BY {order} \
                 LIMIT $3 FOR UPDATE SKIP LOCKED) UPDATE {table} SET {set} FROM due \
                 WHERE {table}.id = due.id RETURNING {}",
                returning.join(", ")
            )
        }
        Backend::Sqlite => format!(
            "UPDATE {table} SET {set} WHERE id IN (SELECT id FROM {table} WHERE {due} \
             ORDER BY {order} LIMIT $3) RETURNING {columns}"
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn claims_lock_and_skip_on_postgres_only() {
        let c = Claim {
            table: "t",
            set: "next_at = $1",
            due: "next_at <= $2",
            order: "next_at, id",
            columns: "id, next_at",
        };
        assert_eq!(
            claim_due(Backend::Postgres, &c),
            "WITH due AS MATERIALIZED (SELECT id FROM t WHERE next_at <= $2 ORDER BY next_at, id \
             LIMIT $3 FOR UPDATE SKIP LOCKED) UPDATE t SET next_at = $1 FROM due \
             WHERE t.id = due.id RETURNING t.id, t.next_at"
        );
        assert_eq!(
            claim_due(Backend::Sqlite, &c),
            "UPDATE t SET next_at = $1 WHERE id IN (SELECT id FROM t WHERE next_at <= $2 \
             ORDER BY next_at, id LIMIT $3) RETURNING id, next_at"
        );
        assert_eq!(for_update(Backend::Sqlite), "");
        assert_eq!(for_update(Backend::Postgres), " FOR UPDATE");
    }
}
