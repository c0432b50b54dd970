//! The order store's side of checkout and the background jobs: recording the QR a provider
//! returned, claiming pending orders and refunds that are due for an active query, and
//! listing orders page by page.
//!
//! Claiming is one `UPDATE … RETURNING …` over the due rows (`dialect::claim_due`) that pushes the claimed rows' `next_query_at` forward by a lease: with
//! several instances on one Postgres each due order goes to one of them, and an instance
//! that dies mid-query only delays the order by the lease.

use super::orders::{ORDER_COLUMNS, REFUND_COLUMNS, order_from_row, refund_from_row};
use super::{Order, Refund, Store, StoreError, dialect};
use crate::order::OrderStatus;
use crate::time::now_ms;

/// Which orders to list; newest first, keyset-paged by `(created_at, id)`.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub channel: Option<String>,
    /// Only orders created by this API key.
    pub api_key_id: Option<String>,
    /// created_at >= from_ms
    pub from_ms: Option<i64>,
    /// created_at < to_ms
    pub to_ms: Option<i64>,
    /// Continue after this `(created_at, id)` (exclusive).
    pub after: Option<(i64, String)>,
    /// Clamped to 1..=200.
    pub limit: i64,
}

impl Store {
    /// Stores what the provider returned for a new checkout.
    pub async fn set_checkout(
        &self,
        out_trade_no: &str,
        qr_code: &str,
        provider_ref: Option<&str>,
    ) -> Result<Order, StoreError> {
        sqlx::query(
            "UPDATE orders SET qr_code = $1, provider_ref = $2, updated_at = $3 WHERE out_trade_no = $4",
        )
        .bind(qr_code)
        .bind(provider_ref)
        .bind(now_ms())
        .bind(out_trade_no)
        .execute(&self.pool)
        .await?;
        self.order(out_trade_no).await?.ok_or(StoreError::NotFound)
    }

    /// Claims up to `limit` pending rows of `table` (orders or refunds) whose next query
    /// is due, leasing them for `lease_ms`, and reads them with `read`.
    async fn claim_due<T>(
        &self,
        table: &str,
        set: &str,
        columns: &str,
        read: fn(&sqlx::any::AnyRow) -> Result<T, StoreError>,
        (now, limit, lease_ms): (i64, i64, i64),
    ) -> Result<Vec<T>, StoreError> {
        let claim = dialect::Claim {
            table,
            set,
            due: "status = 'pending' AND next_query_at IS NOT NULL AND next_query_at <= $2",
            order: "next_query_at, id",
            columns,
        };
        let sql = dialect::claim_due(self.backend, &claim);
        let rows = sqlx::query(&sql)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(read).collect()
    }

    /// Sets when a pending row of `table` (keyed by `key_column`) is next queried
    /// (`None`: never again).
    async fn schedule(
        &self,
        table: &str,
        key_column: &str,
        key: &str,
        at: Option<i64>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE {table} SET next_query_at = $1 WHERE {key_column} = $2 AND status = 'pending'"
        );
        sqlx::query(&sql)
            .bind(at)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Claims up to `limit` pending orders whose next query is due, leasing them for
    /// `lease_ms` (the caller reschedules each after querying).
    pub async fn claim_due_queries(
        &self,
        now: i64,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<Order>, StoreError> {
        let set = "next_query_at = $1, query_count = query_count + 1";
        self.claim_due(
            "orders",
            set,
            ORDER_COLUMNS,
            order_from_row,
            (now, limit, lease_ms),
        )
        .await
    }

    /// Sets when a pending order is next queried (`None`: never again).
    pub async fn schedule_query(
        &self,
        out_trade_no: &str,
        at: Option<i64>,
    ) -> Result<(), StoreError> {
        self.schedule("orders", "out_trade_no", out_trade_no, at)
            .await
    }

    /// Claims pending refunds whose status query is due (see [`Store::claim_due_queries`]).
    pub async fn claim_due_refunds(
        &self,
        now: i64,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<Refund>, StoreError> {
        let set = "next_query_at = $1";
        self.claim_due(
            "refunds",
            set,
            REFUND_COLUMNS,
            refund_from_row,
            (now, limit, lease_ms),
        )
        .await
    }

    pub async fn schedule_refund_query(
        &self,
        out_refund_no: &str,
        at: Option<i64>,
    ) -> Result<(), StoreError> {
        self.schedule("refunds", "out_refund_no", out_refund_no, at)
            .await
    }

    pub async fn order_by_id(&self, id: &str) -> Result<Order, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(&self.pool).await?;
        order_from_row(&row)
    }

    /// One page of orders, newest first.
    pub async fn list_orders(&self, f: &OrderFilter) -> Result<Vec<Order>, StoreError> {
        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE 1 = 1");
        let mut texts: Vec<String> = Vec::new();
        let mut ints: Vec<i64> = Vec::new();
        // Placeholders are numbered in bind order; texts are bound first, then ints.
        let mut conds_text: Vec<(&str, String)> = Vec::new();
        if let Some(s) = f.status {
            conds_text.push(("status", s.as_str().to_string()));
        }
        if let Some(c) = &f.channel {
            conds_text.push(("channel", c.clone()));
        }
        if let Some(k) = &f.api_key_id {
            conds_text.push(("api_key_id", k.clone()));
        }
        for (col, v) in conds_text {
            texts.push(v);
            sql.push_str(&format!(" AND {col} = ${}", texts.len()));
        }
        let mut n = texts.len();
        let mut next = || {
            n += 1;
            n
        };
        if let Some(from) = f.from_ms {
            ints.push(from);
            sql.push_str(&format!(" AND created_at >= ${}", next()));
        }
        if let Some(to) = f.to_ms {
            ints.push(to);
            sql.push_str(&format!(" AND created_at < ${}", next()));
        }
        let after = f.after.clone();
        if let Some((at, _)) = &after {
            ints.push(*at);
            let a = next();
            ints.push(*at);
            let b = next();
            let c = next();
            sql.push_str(&format!(
                " AND (created_at < ${a} OR (created_at = ${b} AND id < ${c}))"
            ));
        }
        let l = next();
        sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT ${l}"));
        let mut q = sqlx::query(&sql);
        for t in &texts {
            q = q.bind(t);
        }
        let mut ints = ints.into_iter();
        if f.from_ms.is_some() {
            q = q.bind(ints.next());
        }
        if f.to_ms.is_some() {
            q = q.bind(ints.next());
        }
        if let Some((_, id)) = &after {
            q = q.bind(ints.next()).bind(ints.next()).bind(id.clone());
        }
        let rows = q.bind(f.limit.clamp(1, 200)).fetch_all(&self.pool).await?;
        rows.iter().map(order_from_row).collect()
    }
}
