//! Payments in batches: pending → paid for many orders in one `UPDATE … FROM (VALUES …)
//! RETURNING`, what makes the notification writer's group commit cheap.

use super::model::{STATS_FACTS, stats_facts};
use crate::money::Money;
use crate::store::StoreError;
use crate::store::order_stats::Changes;
use crate::time::now_ms;
use sqlx::{Any, Row, Transaction};

/// An order that a "paid" just moved from pending to paid.
pub(in crate::store) struct PaidNow {
    pub id: String,
    /// The order's version after the change (the timeline event's `seq`).
    pub version: i64,
    /// Its events go to a merchant system.
    pub forwards: bool,
}

/// The pending → paid `UPDATE` for an order of `channel` with exactly this amount,
/// returning what the caller needs so the common case is one statement. `None` when it
/// did not match (no such order, another channel's, not pending, another amount): the
/// caller reads the order to say why.
pub(in crate::store) async fn paid_returning(
    tx: &mut Transaction<'static, Any>,
    claim: PaidClaim<'_>,
) -> Result<Option<PaidNow>, StoreError> {
    let no = claim.out_trade_no;
    Ok(paid_many(tx, &[claim]).await?.remove(no))
}

/// A "paid" for [`paid_many`].
#[derive(Clone)]
pub(in crate::store) struct PaidClaim<'a> {
    pub channel: &'a str,
    pub out_trade_no: &'a str,
    pub provider_trade_no: &'a str,
    pub paid: Money,
}

/// pending → paid for many orders in one statement (`UPDATE … FROM (VALUES …)`), each
/// only if it is of the claim's channel, pending, and of exactly the claimed amount; a
/// statement per batch rather than per payment is what makes group commit cheap. Returns
/// the orders that changed, by order number. The claims must name distinct orders.
pub(in crate::store) async fn paid_many(
    tx: &mut Transaction<'static, Any>,
    claims: &[PaidClaim<'_>],
) -> Result<std::collections::HashMap<String, PaidNow>, StoreError> {
    let backend = crate::store::Backend::of(tx);
    let mut changed = std::collections::HashMap::with_capacity(claims.len());
    let now = now_ms();
    // By order number, so that on Postgres every writer (lanes of other instances too)
    // locks the orders it shares with another in the same order: no deadlock between
    // two batches holding copies of the same notifications.
    let mut sorted: Vec<&PaidClaim<'_>> = claims.iter().collect();
    sorted.sort_unstable_by_key(|c| c.out_trade_no);
    for chunk in sorted.chunks(crate::store::MULTI_ROW_MAX) {
        // One row has no order to get wrong.
        if crate::store::dialect::has_row_locks(backend) && chunk.len() > 1 {
            // An UPDATE … FROM locks rows in whatever order its plan meets them; a
            // sorted SELECT … FOR UPDATE locks them in its output order.
            let sql = format!(
                "SELECT 1 FROM orders WHERE out_trade_no IN ({}) \
                 ORDER BY out_trade_no FOR UPDATE",
                (1..=chunk.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c.out_trade_no);
            }
            q.persistent(false).execute(&mut **tx).await?;
        }
        let big = Some("BIGINT");
        let rows =
            crate::store::values_typed(backend, chunk.len(), &[None, None, big, None, None, big]);
        // VALUES columns are column1… on both databases.
        let sql = format!(
            "UPDATE orders SET status = 'paid', provider_trade_no = v.column2, paid_at = v.column6, \
             updated_at = v.column6, version = version + 1, next_query_at = NULL \
             FROM (VALUES {rows}) AS v \
             WHERE orders.out_trade_no = v.column1 AND orders.status = 'pending' \
             AND orders.amount_minor = v.column3 AND orders.currency = v.column4 \
             AND orders.channel = v.column5 \
             RETURNING id, version, out_trade_no, merchant_notify_url, api_key_id, {STATS_FACTS}"
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q
                .bind(c.out_trade_no)
                .bind(c.provider_trade_no)
                .bind(c.paid.minor())
                .bind(c.paid.currency().code())
                .bind(c.channel)
                .bind(now);
        }
        let rows = q.persistent(false).fetch_all(&mut **tx).await?;
        let mut stats = Changes::default();
        for row in &rows {
            stats.paid(&stats_facts(row)?, now);
        }
        stats.write(tx).await?;
        for row in rows {
            let url: Option<String> = row.try_get("merchant_notify_url")?;
            let key: Option<String> = row.try_get("api_key_id")?;
            changed.insert(
                row.try_get("out_trade_no")?,
                PaidNow {
                    id: row.try_get("id")?,
                    version: row.try_get("version")?,
                    forwards: url.is_some() && key.is_some(),
                },
            );
        }
    }
    Ok(changed)
}
