//! The dashboard's order search and its CSV export: every filter the orders page offers,
//! keyset-paged on `(created_at, id)` in either direction.
//!
//! The SQL is built from the filters that are set (not `$n IS NULL OR …`), so each search
//! is a plain conjunction the planner can serve from an index whatever the plan cache
//! does; the indexes are in `20261123000011_order_search.sql`. Keyset paging compares the
//! row value `(created_at, id)` (Postgres and SQLite ≥ 3.15 both support it), so page
//! 10 000 costs the same as page 1 — no OFFSET anywhere.

mod attention;
pub(crate) mod text;

use super::orders::{ORDER_COLUMNS, REFUND_COLUMNS, order_from_row, refund_from_row};
use super::{Order, Refund, Store, StoreError};
use crate::order::{OrderStatus, RefundStatus};

/// The largest page a search returns.
pub const MAX_PAGE: i64 = 500;

/// What the orders page (and its export) asks for. Empty = every order, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderSearch {
    /// Our `out_trade_no` (which is also the merchant system's order number when the
    /// merchant API chose it) or the provider's trade number; exact match.
    pub number: Option<String>,
    /// Fragments from the search box (`order_query`), each already a needle
    /// (`order_query::needle`).
    pub fragments: Vec<Fragment>,
    pub status: Option<OrderStatus>,
    /// Any of these statuses (empty: no condition).
    pub statuses: Vec<OrderStatus>,
    /// None of these statuses.
    pub not_statuses: Vec<OrderStatus>,
    /// Any of these channels (empty: no condition).
    pub channels: Vec<String>,
    pub not_channels: Vec<String>,
    /// `qr` or `code` (`orders.pay_method`).
    pub pay_method: Option<String>,
    /// The "needs attention" view, as of this instant (ms): see [`attention`].
    pub attention_at: Option<i64>,
    pub channel: Option<String>,
    /// Only orders in this currency (ISO code).
    pub currency: Option<String>,
    /// amount_minor >= min_minor
    pub min_minor: Option<i64>,
    /// amount_minor <= max_minor
    pub max_minor: Option<i64>,
    /// created_at >= from_ms
    pub from_ms: Option<i64>,
    /// created_at < to_ms
    pub to_ms: Option<i64>,
    /// Only orders created by this user or API key name (`orders.creator`). Merchants are
    /// always scoped to themselves by the caller.
    pub creator: Option<String>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    /// Continue after this `(created_at, id)` in the chosen direction (exclusive).
    pub after: Option<(i64, String)>,
    /// Clamped to 1..=MAX_PAGE.
    pub limit: i64,
}

/// A fragment of the search box: contained in `orders.search_text` (number and subject),
/// or the start of the provider's trade number; or, negated, neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fragment {
    pub needle: String,
    pub negated: bool,
    /// The fragment as typed: the provider's trade number is matched case-sensitively
    /// (Stripe's ids are mixed case). Empty: the needle.
    pub typed: String,
}

/// Which refunds to list, newest first, keyset-paged on `(created_at, id)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefundSearch {
    pub status: Option<RefundStatus>,
    /// Only refunds of orders created by this creator (merchant scoping).
    pub creator: Option<String>,
    pub before: Option<(i64, String)>,
    /// Clamped to 1..=MAX_PAGE.
    pub limit: i64,
}

/// A refund with the order number it belongs to (for links).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundListing {
    pub refund: Refund,
    pub out_trade_no: String,
}

/// A bound value of a built statement.
enum Arg {
    Text(String),
    Int(i64),
}

/// Builds `WHERE` clauses with numbered placeholders in bind order.
#[derive(Default)]
struct Conds {
    sql: Vec<String>,
    args: Vec<Arg>,
}

impl Conds {
    /// Adds `template` with each `?` replaced by the next placeholder for one `arg`.
    fn push(&mut self, template: &str, arg: Arg) -> usize {
        self.args.push(arg);
        let n = self.args.len();
        self.sql.push(template.replace('?', &format!("${n}")));
        n
    }

    /// Binds `arg` and returns its placeholder number, for a condition written by hand.
    fn arg(&mut self, arg: Arg) -> usize {
        self.args.push(arg);
        self.args.len()
    }

    /// Adds a condition written with placeholders from [`Conds::arg`].
    fn raw(&mut self, sql: String) {
        self.sql.push(sql);
    }

    /// `{column} IN (…)` (or `NOT IN`) over `values`; nothing when `values` is empty.
    fn any_of(&mut self, column: &str, negated: bool, values: &[&str]) {
        if values.is_empty() {
            return;
        }
        let marks: Vec<String> = values
            .iter()
            .map(|v| format!("${}", self.arg(Arg::Text(v.to_string()))))
            .collect();
        let not = if negated { "NOT " } else { "" };
        self.raw(format!("{column} {not}IN ({})", marks.join(", ")));
    }

    fn text(&mut self, template: &str, v: &str) {
        self.push(template, Arg::Text(v.to_string()));
    }

    fn int(&mut self, template: &str, v: i64) {
        self.push(template, Arg::Int(v));
    }

    /// `(created_at, id) <op> ($a, $b)`.
    fn keyset(&mut self, prefix: &str, op: &str, (at, id): &(i64, String)) {
        self.args.push(Arg::Int(*at));
        let a = self.args.len();
        self.args.push(Arg::Text(id.clone()));
        let b = self.args.len();
        self.sql.push(format!(
            "({prefix}created_at, {prefix}id) {op} (${a}, ${b})"
        ));
    }

    fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }

    fn next(&self) -> usize {
        self.args.len() + 1
    }

    async fn fetch(
        self,
        sql: &str,
        limit: i64,
        store: &Store,
    ) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
        // Planned for these values each time: a cached generic plan (Postgres switches to
        // one after a few runs of a prepared statement) cannot know whether a filter
        // matches ten orders or half the table, and picks one plan for both.
        let mut q = sqlx::query(sql).persistent(false);
        for a in self.args {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        Ok(q.bind(limit).fetch_all(&store.pool).await?)
    }
}

/// Up to this many orders in an amount range are read through the amount index and sorted.
const FEW_IN_RANGE: i64 = 10_000;

impl Store {
    /// Whether at most [`FEW_IN_RANGE`] orders have an amount in `min..=max` (counted on the
    /// amount index, stopping at the bound). No range: false.
    async fn few_in_amount_range(
        &self,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Result<bool, StoreError> {
        use sqlx::Row;
        if min.is_none() && max.is_none() {
            return Ok(false);
        }
        let row = sqlx::query(
            "SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE amount_minor >= $1 \
             AND amount_minor <= $2 LIMIT $3) AS probe",
        )
        .bind(min.unwrap_or(i64::MIN))
        .bind(max.unwrap_or(i64::MAX))
        .bind(FEW_IN_RANGE + 1)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)? <= FEW_IN_RANGE)
    }

    /// One page of orders matching `s`.
    pub async fn search_orders(&self, s: &OrderSearch) -> Result<Vec<Order>, StoreError> {
        let mut c = Conds::default();
        if let Some(n) = s.number.as_deref() {
            // Two indexed equalities; `OR` across two unique-ish columns is a bitmap OR on
            // Postgres and a MULTI-INDEX OR on SQLite.
            c.push(
                "(out_trade_no = ? OR provider_trade_no = ?)",
                Arg::Text(n.to_string()),
            );
        }
        if let Some(st) = s.status {
            c.text("status = ?", st.as_str());
        }
        self.query_conditions(s, &mut c).await?;
        if let Some(ch) = s.channel.as_deref() {
            c.text("channel = ?", ch);
        }
        if let Some(cur) = s.currency.as_deref() {
            c.text("currency = ?", cur);
        }
        match (s.min_minor, s.max_minor) {
            // "The customer paid ¥123.45": an equality walks (amount, created_at, id) in
            // page order.
            (Some(min), Some(max)) if min == max => c.int("amount_minor = ?", min),
            (min, max) => {
                // A range cannot be walked in page order. When few orders match, read them
                // through the amount index and sort one page; when many match, walk the
                // time-ordered indexes and filter (a page fills quickly). Neither planner
                // knows which without histograms, so count (at most a bound) and decide:
                // `amount_minor + 0` keeps the term off the amount index.
                let column = if self.few_in_amount_range(min, max).await? {
                    "amount_minor"
                } else {
                    "amount_minor + 0"
                };
                if let Some(min) = min {
                    c.int(&format!("{column} >= ?"), min);
                }
                if let Some(max) = max {
                    c.int(&format!("{column} <= ?"), max);
                }
            }
        }
        if let Some(from) = s.from_ms {
            c.int("created_at >= ?", from);
        }
        if let Some(to) = s.to_ms {
            c.int("created_at < ?", to);
        }
        if let Some(cr) = s.creator.as_deref() {
            c.text("creator = ?", cr);
        }
        let (op, dir) = if s.oldest_first {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some(after) = &s.after {
            c.keyset("", op, after);
        }
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders{} ORDER BY created_at {dir}, id {dir} LIMIT ${}",
            c.where_clause(),
            c.next()
        );
        let rows = c.fetch(&sql, s.limit.clamp(1, MAX_PAGE), self).await?;
        rows.iter().map(order_from_row).collect()
    }

    /// One page of refunds matching `s`, newest first, with their order numbers.
    pub async fn search_refunds(&self, s: &RefundSearch) -> Result<Vec<RefundListing>, StoreError> {
        let mut c = Conds::default();
        if let Some(st) = s.status {
            c.text("r.status = ?", st.as_str());
        }
        if let Some(cr) = s.creator.as_deref() {
            c.text("o.creator = ?", cr);
        }
        if let Some(before) = &s.before {
            c.keyset("r.", "<", before);
        }
        let columns: Vec<String> = REFUND_COLUMNS
            .split(',')
            .map(|col| format!("r.{}", col.trim()))
            .collect();
        let sql = format!(
            "SELECT {}, o.out_trade_no FROM refunds r JOIN orders o ON o.id = r.order_id{} \
             ORDER BY r.created_at DESC, r.id DESC LIMIT ${}",
            columns.join(", "),
            c.where_clause(),
            c.next()
        );
        let rows = c.fetch(&sql, s.limit.clamp(1, MAX_PAGE), self).await?;
        rows.iter()
            .map(|r| {
                use sqlx::Row;
                Ok(RefundListing {
                    refund: refund_from_row(r)?,
                    out_trade_no: r.try_get("out_trade_no")?,
                })
            })
            .collect()
    }
}
