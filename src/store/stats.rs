//! Figures for the overview page: daily volume, per-channel counts and success rates,
//! pending orders and failed refunds. Volume and paid counts go by the day of payment,
//! success rates by the day of creation (see [`ChannelFigures`]). Volume and counts come
//! from the hourly roll-up that the store keeps as orders change (`order_stats.rs`), so
//! the page adds up hours, not orders; pending orders and failed refunds are read from
//! their indexes. Portable SQL on SQLite and Postgres.
//!
//! Postgres answers `SUM(bigint)` as NUMERIC, which the `Any` driver cannot decode, so
//! every sum is cast back to BIGINT. Sums of money are split so they cannot overflow
//! (see [`money_sum`]). Calendar days are computed as
//! `(t + offset) / 86_400_000` on BIGINT milliseconds, integer division on both backends
//! (timestamps are after 1970, so truncation and floor agree).

use super::order_stats::HOUR_MS;
use super::{Store, StoreError};
use sqlx::Row;

pub const DAY_MS: i64 = 86_400_000;

/// Order states that count as "the customer paid" (refunds come after paying).
pub(super) const PAID_STATES: &str = "('paid', 'partially_refunded', 'refunded')";

/// Whose orders to count: everybody's, or one creator's (a merchant sees their own).
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsScope<'a> {
    pub creator: Option<&'a str>,
}

/// Paid volume of one channel and currency on one calendar day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyVolume {
    /// Days since 1970-01-01 in the calendar of the requested offset.
    pub day: i64,
    pub channel: String,
    pub currency: String,
    pub count: i64,
    pub volume_minor: i64,
}

/// One channel and currency in a time window.
///
/// Two views of the window, on purpose: money is counted when it arrives, so `paid` and
/// `volume_minor` are the orders *paid* in the window (whenever they were created) — the
/// same orders, on the same days, as [`Store::daily_volume`] charts, so today's figure is
/// today's bar. The success rate asks "of the checkouts started in the window, how many
/// were paid", so it is over the orders *created* in the window (`created`,
/// `created_paid`, `created_pending`), wherever their payment fell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelFigures {
    pub channel: String,
    pub currency: String,
    /// Orders created in the window.
    pub created: i64,
    /// Of those, paid by now (including later refunded ones).
    pub created_paid: i64,
    /// Of those, still pending: not decided yet.
    pub created_pending: i64,
    /// Orders paid in the window (including later refunded ones).
    pub paid: i64,
    /// Their amount.
    pub volume_minor: i64,
    /// Succeeded refunds requested in the window (of any order of this channel).
    pub refund_count: i64,
    pub refunded_minor: i64,
}

impl ChannelFigures {
    /// Paid share of the decided orders created in the window (pending ones are not
    /// decided yet); `None` when nothing is decided.
    pub fn success_rate(&self) -> Option<f64> {
        let decided = self.created - self.created_pending;
        (decided > 0).then(|| self.created_paid as f64 / decided as f64)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingSummary {
    pub count: i64,
    pub oldest_created_at: Option<i64>,
}

/// A refund the provider refused, with its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRefund {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub channel: String,
    pub amount_minor: i64,
    pub currency: String,
    pub failure_reason: Option<String>,
    pub created_at: i64,
}

/// The split of [`money_sum`]: 2^32.
pub(super) const SPLIT: i64 = 1 << 32;

/// `SUM(expr)` over money as two BIGINT columns, `{alias}_hi` and `{alias}_lo`: the sums
/// of `expr / 2^32` and `expr % 2^32`, put back together in Rust by [`read_money_sum`].
///
/// Why: a plain `SUM(amount_minor)` fails the whole query once the total passes i64
/// (SQLite raises "integer overflow"; Postgres sums in NUMERIC but the cast back to
/// BIGINT raises "out of range"), and two old orders of 2^62 fen made the overview
/// answer 500 for 30 days. Amount ceilings bound new orders, but rows from before them
/// may exist. Each half stays small: per row the high part is below 2^31 and the low
/// part below 2^32, so a group would need over two billion rows to overflow either sum,
/// while the work stays one aggregate query in SQL on both databases (no rows loaded).
/// Amounts are never negative (a CHECK on the column), so `/` and `%` agree between
/// SQLite and Postgres.
pub(super) fn money_sum(expr: &str, alias: &str) -> String {
    format!(
        "CAST(SUM(({expr}) / {SPLIT}) AS BIGINT) AS {alias}_hi, \
         CAST(SUM(({expr}) % {SPLIT}) AS BIGINT) AS {alias}_lo"
    )
}

/// Reads a [`money_sum`] back: exact in i128, then saturated at `i64::MAX`. A total that
/// large (92 trillion yuan) only comes from broken old rows; showing the largest figure
/// the page can show is saner than failing the page. A group with no rows sums to NULL,
/// read as zero.
fn read_money_sum(r: &sqlx::any::AnyRow, alias: &str) -> Result<i64, StoreError> {
    let hi: Option<i64> = r.try_get(format!("{alias}_hi").as_str())?;
    let lo: Option<i64> = r.try_get(format!("{alias}_lo").as_str())?;
    Ok(saturate(combine(hi.unwrap_or(0), lo.unwrap_or(0))))
}

fn combine(hi: i64, lo: i64) -> i128 {
    i128::from(hi) * i128::from(SPLIT) + i128::from(lo)
}

fn saturate(total: i128) -> i64 {
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// Start (inclusive, ms) of the calendar day containing `t` at `offset_ms` from UTC.
pub fn day_start(t: i64, offset_ms: i64) -> i64 {
    (t + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms
}

/// The roll-up's two halves of a money sum, summed: read back by [`read_money_sum`].
fn rolled_money_sum(alias: &str) -> String {
    format!(
        "CAST(SUM({alias}_hi) AS BIGINT) AS {alias}_hi, CAST(SUM({alias}_lo) AS BIGINT) AS {alias}_lo"
    )
}

/// Appends `AND {col} = $n` for a creator scope, returning the bind if any.
fn scope_clause(sql: &mut String, col: &str, scope: StatsScope<'_>, n: usize) {
    if scope.creator.is_some() {
        sql.push_str(&format!(" AND {col} = ${n}"));
    }
}

impl Store {
    /// Paid volume per day, channel and currency for orders paid in `[from_ms, to_ms)`,
    /// from the hourly roll-up (`order_stats`): the window and the offset are taken in
    /// whole hours (rounded down), which every calendar day of a whole-hour offset is.
    pub async fn daily_volume(
        &self,
        from_ms: i64,
        to_ms: i64,
        offset_ms: i64,
        scope: StatsScope<'_>,
    ) -> Result<Vec<DailyVolume>, StoreError> {
        let mut sql = format!(
            "SELECT (hour * {HOUR_MS} + $1) / $2 AS day, channel, currency, \
             CAST(SUM(paid) AS BIGINT) AS n, {} FROM order_stats \
             WHERE hour >= $3 AND hour < $4",
            rolled_money_sum("volume")
        );
        scope_clause(&mut sql, "creator", scope, 5);
        sql.push_str(" GROUP BY 1, 2, 3 HAVING SUM(paid) > 0 ORDER BY 1, 2, 3");
        let mut q = sqlx::query(&sql)
            .bind(offset_ms.div_euclid(HOUR_MS) * HOUR_MS)
            .bind(DAY_MS)
            .bind(from_ms.div_euclid(HOUR_MS))
            .bind(to_ms.div_euclid(HOUR_MS));
        if let Some(c) = scope.creator {
            q = q.bind(c);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(DailyVolume {
                    day: r.try_get("day")?,
                    channel: r.try_get("channel")?,
                    currency: r.try_get("currency")?,
                    count: r.try_get("n")?,
                    volume_minor: read_money_sum(r, "volume")?,
                })
            })
            .collect()
    }

    /// Per channel and currency, for the window `[from_ms, to_ms)` (whole hours, rounded
    /// down): orders created in it and how they ended, orders paid in it and their volume,
    /// and the succeeded refunds requested in it, from the hourly roll-up. See
    /// [`ChannelFigures`] for why payments and creations are counted by different times.
    pub async fn channel_figures(
        &self,
        from_ms: i64,
        to_ms: i64,
        scope: StatsScope<'_>,
    ) -> Result<Vec<ChannelFigures>, StoreError> {
        let sum = |col: &str| format!("CAST(SUM({col}) AS BIGINT) AS {col}");
        let mut sql = format!(
            "SELECT channel, currency, {}, {}, {}, {}, {}, {}, {} FROM order_stats \
             WHERE hour >= $1 AND hour < $2",
            sum("created"),
            sum("created_paid"),
            sum("created_pending"),
            sum("paid"),
            rolled_money_sum("volume"),
            sum("refund_count"),
            rolled_money_sum("refunded"),
        );
        scope_clause(&mut sql, "creator", scope, 3);
        sql.push_str(" GROUP BY channel, currency ORDER BY channel, currency");
        let mut q = sqlx::query(&sql)
            .bind(from_ms.div_euclid(HOUR_MS))
            .bind(to_ms.div_euclid(HOUR_MS));
        if let Some(c) = scope.creator {
            q = q.bind(c);
        }
        let mut out = Vec::new();
        for r in q.fetch_all(&self.pool).await? {
            let f = ChannelFigures {
                channel: r.try_get("channel")?,
                currency: r.try_get("currency")?,
                created: r.try_get("created")?,
                created_paid: r.try_get("created_paid")?,
                created_pending: r.try_get("created_pending")?,
                paid: r.try_get("paid")?,
                volume_minor: read_money_sum(&r, "volume")?,
                refund_count: r.try_get("refund_count")?,
                refunded_minor: read_money_sum(&r, "refunded")?,
            };
            // A group with nothing in the window (only rows of other kinds of change).
            if f.created != 0 || f.paid != 0 || f.refund_count != 0 {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// How many orders are waiting to be paid, and since when.
    pub async fn pending_summary(
        &self,
        scope: StatsScope<'_>,
    ) -> Result<PendingSummary, StoreError> {
        let mut sql = "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM orders \
                       WHERE status = 'pending'"
            .to_string();
        scope_clause(&mut sql, "creator", scope, 1);
        let mut q = sqlx::query(&sql);
        if let Some(c) = scope.creator {
            q = q.bind(c);
        }
        let r = q.fetch_one(&self.pool).await?;
        Ok(PendingSummary {
            count: r.try_get("n")?,
            oldest_created_at: r.try_get("oldest")?,
        })
    }

    /// The newest failed refunds created at or after `since_ms`.
    pub async fn failed_refunds(
        &self,
        since_ms: i64,
        limit: i64,
        scope: StatsScope<'_>,
    ) -> Result<Vec<FailedRefund>, StoreError> {
        let mut sql = "SELECT r.out_refund_no AS out_refund_no, o.out_trade_no AS out_trade_no, \
             o.channel AS channel, r.amount_minor AS amount_minor, r.currency AS currency, \
             r.failure_reason AS failure_reason, r.created_at AS created_at \
             FROM refunds r JOIN orders o ON o.id = r.order_id \
             WHERE r.status = 'failed' AND r.created_at >= $1"
            .to_string();
        scope_clause(&mut sql, "o.creator", scope, 2);
        let limit_at = 2 + usize::from(scope.creator.is_some());
        sql.push_str(&format!(
            " ORDER BY r.created_at DESC, r.id DESC LIMIT ${limit_at}"
        ));
        let mut q = sqlx::query(&sql).bind(since_ms);
        if let Some(c) = scope.creator {
            q = q.bind(c);
        }
        let q = q.bind(limit.clamp(1, 100));
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(FailedRefund {
                    out_refund_no: r.try_get("out_refund_no")?,
                    out_trade_no: r.try_get("out_trade_no")?,
                    channel: r.try_get("channel")?,
                    amount_minor: r.try_get("amount_minor")?,
                    currency: r.try_get("currency")?,
                    failure_reason: r.try_get("failure_reason")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sums_put_back_together_exactly() {
        let split = |v: i64| (v / SPLIT, v % SPLIT);
        for v in [0, 1, SPLIT - 1, SPLIT, SPLIT + 1, 1 << 62, i64::MAX] {
            let (hi, lo) = split(v);
            assert_eq!(combine(hi, lo), i128::from(v), "{v}");
        }
        // Two rows of 2^62: one more than i64 holds, saturated rather than an error.
        let (hi, lo) = split(1 << 62);
        assert_eq!(combine(2 * hi, 2 * lo), 1i128 << 63);
        assert_eq!(saturate(combine(2 * hi, 2 * lo)), i64::MAX);
        assert_eq!(saturate(12_345), 12_345);
    }

    #[test]
    fn days_start_at_local_midnight() {
        let h8 = 8 * 3_600_000;
        // 2026-11-23 00:30 UTC+8 is 2026-11-22 16:30 UTC; the day began at 16:00 UTC.
        let t = 1_795_365_000_000; // 2026-11-22T16:30:00Z
        assert_eq!(day_start(t, h8), 1_795_363_200_000);
        assert_eq!(day_start(t, 0), 1_795_305_600_000);
    }
}
