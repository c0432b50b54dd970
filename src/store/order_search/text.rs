//! Fragment search: "any piece of the order number or the subject the customer reads out",
//! case-insensitive, served by a trigram index so it stays fast on millions of orders.
//!
//! `orders.search_text` is the same on both databases (`order_query::search_text`); the
//! index over it is the one place the databases differ here (listed in `dialect`):
//! - SQLite: an FTS5 table with the trigram tokenizer, `order_text(search_text, order_id)`,
//!   filled by a trigger on insert. It keys rows by `order_id`, not by the orders table's
//!   implicit rowid, because `VACUUM INTO` (the backup) may renumber those.
//! - Postgres: `pg_trgm`'s GIN index on `search_text`, which serves `LIKE '%…%'`.
//!
//! A fragment that matches many orders is better served by walking the time-ordered index
//! and testing each row (a page fills at once) than by reading every match and sorting;
//! one that matches few the other way round. Postgres's planner decides from the index's
//! statistics; SQLite has none, so the search counts (up to a bound) and decides.

use crate::store::dialect::Backend;
use crate::store::{Store, StoreError};
use sqlx::Row;

/// Statements that make the SQLite index (idempotent).
const SQLITE_INDEX: [&str; 2] = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS order_text USING fts5(search_text, order_id UNINDEXED, \
     tokenize = 'trigram')",
    "CREATE TRIGGER IF NOT EXISTS order_text_insert AFTER INSERT ON orders BEGIN \
     INSERT INTO order_text (search_text, order_id) VALUES (new.search_text, new.id); END",
];

/// Rows filled per statement batch by [`backfill`].
const BACKFILL_BATCH: i64 = 500;

/// Makes the fragment index if it is missing, then fills `search_text` of orders from
/// before it. On Postgres without `pg_trgm` (not installed, no right to create it) the
/// search still works, without the index; the log says so once.
pub(crate) async fn ensure_index(store: &Store) -> Result<(), StoreError> {
    match store.backend() {
        Backend::Sqlite => {
            for sql in SQLITE_INDEX {
                sqlx::query(sql).execute(&store.pool).await?;
            }
        }
        Backend::Postgres => {
            let mut tx = store.pool.begin().await?;
            // Two instances starting at once: one makes the extension and the index.
            sqlx::query("SELECT pg_advisory_xact_lock(7311842018)")
                .execute(&mut *tx)
                .await?;
            let made = async {
                sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "CREATE INDEX IF NOT EXISTS orders_search_text_trgm ON orders \
                     USING gin (search_text gin_trgm_ops)",
                )
                .execute(&mut *tx)
                .await
            }
            .await;
            match made {
                Ok(_) => tx.commit().await?,
                Err(e) => {
                    tracing::warn!(error = %e, "no trigram index for the order search (pg_trgm); fragment searches will read every order");
                    tx.rollback().await?;
                }
            }
        }
    }
    backfill(store).await
}

/// Fills `search_text` (and on SQLite the FTS table) of orders that have none.
async fn backfill(store: &Store) -> Result<(), StoreError> {
    let mut filled = 0u64;
    loop {
        let rows = sqlx::query(
            "SELECT id, out_trade_no, subject FROM orders WHERE search_text = '' LIMIT $1",
        )
        .bind(BACKFILL_BATCH)
        .fetch_all(&store.pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut tx = crate::store::dialect::begin_write(&store.pool, store.backend()).await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let text = crate::order_query::search_text(
                &r.try_get::<String, _>("out_trade_no")?,
                &r.try_get::<String, _>("subject")?,
            );
            sqlx::query("UPDATE orders SET search_text = $1 WHERE id = $2")
                .bind(&text)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            if store.backend() == Backend::Sqlite {
                sqlx::query("INSERT INTO order_text (search_text, order_id) VALUES ($1, $2)")
                    .bind(&text)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
    if filled > 0 {
        tracing::info!(orders = filled, "order search text filled in");
    }
    Ok(())
}

/// Up to this many matches, a fragment is read through the index and one page sorted.
pub(super) const FEW_MATCHES: i64 = 10_000;

/// SQLite: whether at most [`FEW_MATCHES`] orders contain `needle` (counted on the FTS
/// index, stopping at the bound).
pub(super) async fn few_contain(store: &Store, needle: &str) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM (SELECT 1 FROM order_text WHERE order_text MATCH $1 LIMIT $2) AS probe",
    )
    .bind(fts_phrase(needle))
    .bind(FEW_MATCHES + 1)
    .fetch_one(&store.pool)
    .await?;
    Ok(row.try_get::<i64, _>(0)? <= FEW_MATCHES)
}

/// An FTS5 phrase: the needle in double quotes (inner quotes doubled), which the trigram
/// tokenizer matches as a substring.
pub(super) fn fts_phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

/// A `LIKE` pattern for "contains `needle`" (`\` escapes `%`, `_` and itself; Postgres's
/// default escape character).
pub(super) fn like_contains(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The smallest string greater than every string starting with `prefix` (for a prefix
/// range on an ordinary index), or None when there is none.
pub(super) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl Store {
    /// The conditions of the search box's terms: fragments, status and channel lists,
    /// the payment method and the "needs attention" view.
    pub(super) async fn query_conditions(
        &self,
        s: &super::OrderSearch,
        c: &mut super::Conds,
    ) -> Result<(), StoreError> {
        for f in &s.fragments {
            self.fragment_condition(f, c).await?;
        }
        let names = |v: &[crate::order::OrderStatus]| -> Vec<&'static str> {
            v.iter().map(|s| s.as_str()).collect()
        };
        c.any_of("status", false, &names(&s.statuses));
        c.any_of("status", true, &names(&s.not_statuses));
        let channels: Vec<&str> = s.channels.iter().map(String::as_str).collect();
        let not_channels: Vec<&str> = s.not_channels.iter().map(String::as_str).collect();
        c.any_of("channel", false, &channels);
        c.any_of("channel", true, &not_channels);
        if let Some(m) = s.pay_method.as_deref() {
            c.text("pay_method = ?", m);
        }
        if let Some(at) = s.attention_at {
            super::attention::condition(at, c);
        }
        Ok(())
    }

    async fn fragment_condition(
        &self,
        f: &super::Fragment,
        c: &mut super::Conds,
    ) -> Result<(), StoreError> {
        use super::Arg;
        let sqlite = self.backend() == Backend::Sqlite;
        let needle = f.needle.as_str();
        let indexable = needle.chars().count() >= 3;
        if f.negated {
            if sqlite {
                c.text("instr(search_text, ?) = 0", needle);
            } else {
                c.text("search_text NOT LIKE ?", &like_contains(needle));
            }
            return Ok(());
        }
        let contains = if sqlite && indexable && few_contain(self, needle).await? {
            let n = c.arg(Arg::Text(fts_phrase(needle)));
            format!("id IN (SELECT order_id FROM order_text WHERE order_text MATCH ${n})")
        } else if sqlite {
            let n = c.arg(Arg::Text(needle.to_string()));
            format!("instr(search_text, ${n}) > 0")
        } else {
            let n = c.arg(Arg::Text(like_contains(needle)));
            format!("search_text LIKE ${n}")
        };
        // The provider's trade number: the fragment as its beginning (an ordinary index
        // range; Chinese needles are never trade numbers).
        let prefix = if f.typed.is_empty() {
            needle
        } else {
            f.typed.as_str()
        };
        match prefix_end(prefix).filter(|_| !needle.starts_with('§')) {
            Some(end) => {
                let a = c.arg(Arg::Text(prefix.to_string()));
                let b = c.arg(Arg::Text(end));
                c.raw(format!(
                    "({contains} OR (provider_trade_no >= ${a} AND provider_trade_no < ${b}))"
                ));
            }
            None => c.raw(contains),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_what_they_must() {
        assert_eq!(like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(fts_phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a9").as_deref(), Some("a:"));
        assert_eq!(prefix_end(""), None);
    }
}
