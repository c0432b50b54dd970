//! The overview's roll-up (`order_stats`): per UTC hour, channel, currency and creator, the
//! counts and sums that [`super::stats`] reports, so the overview adds up a few thousand
//! rows instead of scanning a month of orders (720 ms at 100k orders before this).
//!
//! Every change that moves a figure adds its [`Changes`] in the same transaction as the
//! change itself: an order created, pending → paid, pending → closed, a refund succeeded.
//! What each change adds is decided here, by pure functions over [`OrderFacts`]; the
//! store's transitions only collect and write them. [`Store::rebuild_order_stats`]
//! recomputes the whole table from the orders and refunds (after a migration, or when
//! rows were written behind the store's back, as the page-speed bench's seeding does).
//!
//! Hours are UTC, so any whole-hour time-zone offset gets exact calendar days (UTC+8
//! included). Money is kept as the two halves of `stats::money_sum`, so no increment can
//! overflow and fail the payment it belongs to.

use super::stats::{PAID_STATES, SPLIT, money_sum};
use super::{Backend, Store, StoreError, dialect};
use sqlx::{Any, Transaction};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub const HOUR_MS: i64 = 3_600_000;
/// Rows per hour and group that concurrent writers spread over. On Postgres each upsert
/// locks its row until commit; one row per hour would make every payment of a channel
/// wait for the previous transaction's commit. Readers sum over the slots.
const SLOTS: u64 = 8;

/// What the roll-up needs to know of an order.
#[derive(Debug, Clone)]
pub(super) struct OrderFacts {
    pub channel: String,
    pub currency: String,
    pub creator: String,
    pub created_at: i64,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    hour: i64,
    channel: String,
    currency: String,
    creator: String,
}

impl Key {
    fn of(facts: &OrderFacts, at_ms: i64) -> Key {
        Key {
            hour: at_ms.div_euclid(HOUR_MS),
            channel: facts.channel.clone(),
            currency: facts.currency.clone(),
            creator: facts.creator.clone(),
        }
    }
}

/// What one group's row gains (or loses: `created_pending`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Delta {
    created: i64,
    created_paid: i64,
    created_pending: i64,
    paid: i64,
    volume_hi: i64,
    volume_lo: i64,
    refund_count: i64,
    refunded_hi: i64,
    refunded_lo: i64,
}

impl Delta {
    fn as_binds(&self) -> [i64; 9] {
        [
            self.created,
            self.created_paid,
            self.created_pending,
            self.paid,
            self.volume_hi,
            self.volume_lo,
            self.refund_count,
            self.refunded_hi,
            self.refunded_lo,
        ]
    }
}

/// Amounts are never negative (a CHECK on the columns), so `/` and `%` split them the same
/// way as the SQL of the rebuild.
fn halves(minor: i64) -> (i64, i64) {
    (minor / SPLIT, minor % SPLIT)
}

/// The roll-up changes of one transaction, grouped by row.
#[derive(Debug, Default)]
pub(super) struct Changes(BTreeMap<Key, Delta>);

impl Changes {
    fn at(&mut self, facts: &OrderFacts, at_ms: i64) -> &mut Delta {
        self.0.entry(Key::of(facts, at_ms)).or_default()
    }

    /// A new pending order: created (and pending) in its creation hour.
    pub fn created(&mut self, o: &OrderFacts) {
        let d = self.at(o, o.created_at);
        d.created += 1;
        d.created_pending += 1;
    }

    /// pending → paid at `paid_at`: decided as paid in its creation hour, paid volume in
    /// the hour of payment.
    pub fn paid(&mut self, o: &OrderFacts, paid_at: i64) {
        let d = self.at(o, o.created_at);
        d.created_pending -= 1;
        d.created_paid += 1;
        let (hi, lo) = halves(o.amount_minor);
        let d = self.at(o, paid_at);
        d.paid += 1;
        d.volume_hi += hi;
        d.volume_lo += lo;
    }

    /// pending → closed: decided, not paid.
    pub fn closed(&mut self, o: &OrderFacts) {
        self.at(o, o.created_at).created_pending -= 1;
    }

    /// A refund of the order, requested at `requested_at`, succeeded.
    pub fn refunded(&mut self, o: &OrderFacts, requested_at: i64, amount_minor: i64) {
        let (hi, lo) = halves(amount_minor);
        let d = self.at(o, requested_at);
        d.refund_count += 1;
        d.refunded_hi += hi;
        d.refunded_lo += lo;
    }

    /// Adds the changes to `order_stats`, inside the caller's transaction: one multi-row
    /// upsert, its rows in key order (so two Postgres writers lock shared rows in the same
    /// order), all in one slot per call.
    pub async fn write(self, tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
        static NEXT_SLOT: AtomicU64 = AtomicU64::new(0);
        if self.0.is_empty() {
            return Ok(());
        }
        let slot = (NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS) as i64;
        let backend = Backend::of(tx);
        let rows: Vec<(Key, Delta)> = self.0.into_iter().collect();
        for chunk in rows.chunks(super::MULTI_ROW_MAX) {
            let sql = format!(
                "INSERT INTO order_stats (hour, channel, currency, creator, slot, created, created_paid, \
                 created_pending, paid, volume_hi, volume_lo, refund_count, refunded_hi, refunded_lo) \
                 VALUES {} ON CONFLICT (hour, channel, currency, creator, slot) DO UPDATE SET \
                 created = order_stats.created + excluded.created, \
                 created_paid = order_stats.created_paid + excluded.created_paid, \
                 created_pending = order_stats.created_pending + excluded.created_pending, \
                 paid = order_stats.paid + excluded.paid, \
                 volume_hi = order_stats.volume_hi + excluded.volume_hi, \
                 volume_lo = order_stats.volume_lo + excluded.volume_lo, \
                 refund_count = order_stats.refund_count + excluded.refund_count, \
                 refunded_hi = order_stats.refunded_hi + excluded.refunded_hi, \
                 refunded_lo = order_stats.refunded_lo + excluded.refunded_lo",
                super::values_placeholders(backend, chunk.len(), 14)
            );
            let mut q = sqlx::query(&sql);
            for (key, delta) in chunk {
                q = q
                    .bind(key.hour)
                    .bind(key.channel.as_str())
                    .bind(key.currency.as_str())
                    .bind(key.creator.as_str())
                    .bind(slot);
                for v in delta.as_binds() {
                    q = q.bind(v);
                }
            }
            q.persistent(false).execute(&mut **tx).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Recomputes `order_stats` from the orders and refunds, in one transaction. Safe
    /// beside running writers: on Postgres the table is locked first, so a payment
    /// committing meanwhile either is in the snapshot the rebuild reads or adds its change
    /// after the rebuild commits; SQLite has one writer anyway.
    pub async fn rebuild_order_stats(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        if dialect::has_row_locks(self.backend) {
            sqlx::query("LOCK TABLE order_stats IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM order_stats")
            .execute(&mut *tx)
            .await?;
        // `WHERE` before `ON CONFLICT` in each: SQLite's parser needs it to tell the
        // upsert from a join's `ON`.
        let statements = [
            format!(
                "INSERT INTO order_stats (hour, channel, currency, creator, slot, created, created_paid, created_pending) \
                 SELECT created_at / {HOUR_MS}, channel, currency, creator, 0, COUNT(*), \
                 CAST(SUM(CASE WHEN status IN {PAID_STATES} THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM orders WHERE created_at >= 0 GROUP BY 1, 2, 3, 4"
            ),
            format!(
                "INSERT INTO order_stats (hour, channel, currency, creator, slot, paid, volume_hi, volume_lo) \
                 SELECT paid_at / {HOUR_MS}, channel, currency, creator, 0, COUNT(*), {} \
                 FROM orders WHERE status IN {PAID_STATES} AND paid_at >= 0 GROUP BY 1, 2, 3, 4 \
                 ON CONFLICT (hour, channel, currency, creator, slot) DO UPDATE SET \
                 paid = excluded.paid, volume_hi = excluded.volume_hi, volume_lo = excluded.volume_lo",
                money_sum("amount_minor", "v")
            ),
            format!(
                "INSERT INTO order_stats (hour, channel, currency, creator, slot, refund_count, refunded_hi, refunded_lo) \
                 SELECT r.created_at / {HOUR_MS}, o.channel, r.currency, o.creator, 0, COUNT(*), {} \
                 FROM refunds r JOIN orders o ON o.id = r.order_id \
                 WHERE r.status = 'succeeded' AND r.created_at >= 0 GROUP BY 1, 2, 3, 4 \
                 ON CONFLICT (hour, channel, currency, creator, slot) DO UPDATE SET \
                 refund_count = excluded.refund_count, refunded_hi = excluded.refunded_hi, \
                 refunded_lo = excluded.refunded_lo",
                money_sum("r.amount_minor", "r")
            ),
        ];
        for sql in &statements {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// After migrating: fills the roll-up when it is empty while orders exist (the first
    /// start after the upgrade that added it).
    pub(super) async fn fill_order_stats_if_empty(&self) -> Result<(), StoreError> {
        let has = |table: &'static str| async move {
            let sql = format!("SELECT 1 FROM {table} LIMIT 1");
            Ok::<bool, StoreError>(
                sqlx::query(&sql)
                    .fetch_optional(&self.pool)
                    .await?
                    .is_some(),
            )
        };
        if !has("order_stats").await? && has("orders").await? {
            tracing::info!("filling the overview's roll-up (order_stats) from the orders");
            self.rebuild_order_stats().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(created_at: i64, amount_minor: i64) -> OrderFacts {
        OrderFacts {
            channel: "alipay-sandbox".into(),
            currency: "CNY".into(),
            creator: "mia".into(),
            created_at,
            amount_minor,
        }
    }

    fn only(c: &Changes, hour: i64) -> Delta {
        c.0.iter()
            .find(|(k, _)| k.hour == hour)
            .map(|(_, d)| *d)
            .unwrap_or_default()
    }

    #[test]
    fn a_payment_moves_its_creation_hour_and_counts_in_its_payment_hour() {
        let o = facts(HOUR_MS + 5, 1234);
        let mut c = Changes::default();
        c.created(&o);
        c.paid(&o, 3 * HOUR_MS + 1);
        let created = only(&c, 1);
        assert_eq!(
            (
                created.created,
                created.created_pending,
                created.created_paid,
                created.paid
            ),
            (1, 0, 1, 0)
        );
        let paid = only(&c, 3);
        assert_eq!((paid.paid, paid.volume_hi, paid.volume_lo), (1, 0, 1234));
    }

    #[test]
    fn a_close_decides_without_paying_and_refunds_go_by_their_request() {
        let o = facts(0, 500);
        let mut c = Changes::default();
        c.created(&o);
        c.closed(&o);
        let d = only(&c, 0);
        assert_eq!((d.created, d.created_pending, d.created_paid), (1, 0, 0));
        c.refunded(&o, 10 * HOUR_MS, 200);
        assert_eq!(only(&c, 10).refund_count, 1);
        assert_eq!(only(&c, 10).refunded_lo, 200);
    }

    #[test]
    fn huge_amounts_split_into_halves_that_add_back_exactly() {
        let o = facts(0, i64::MAX);
        let mut c = Changes::default();
        c.paid(&o, 0);
        c.paid(&o, 0);
        let d = only(&c, 0);
        let total = (i128::from(d.volume_hi) << 32) + i128::from(d.volume_lo);
        assert_eq!(total, 2 * i128::from(i64::MAX));
    }
}
