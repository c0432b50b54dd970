//! Refunds: reserving part of a paid order (one atomic `UPDATE … WHERE amount <= paid -
//! reserved`), and settling a pending refund with the order's side of it.

use super::fanout::notify_merchant;
use super::model::{
    REFUND_COLUMNS, Refund, RefundRequest, STATS_FACTS, cause_text, paid_text, refund_from_row,
    stats_facts,
};
use super::timeline::record_event;
use crate::money::Money;
use crate::order::{Cause, RefundStatus};
use crate::store::order_stats::Changes;
use crate::store::{Store, StoreError, new_id};
use crate::time::now_ms;
use sqlx::{Any, Row, Transaction};

impl Store {
    /// Reserves `amount` of the order for a new refund. The reservation is one atomic
    /// `UPDATE … WHERE reserved + amount <= paid`, so concurrent requests can never
    /// together exceed what was paid. Resubmitting an `out_refund_no` returns the
    /// original refund.
    pub async fn request_refund(
        &self,
        out_trade_no: &str,
        out_refund_no: &str,
        amount: Money,
        reason: &str,
        cause: &Cause,
    ) -> Result<RefundRequest, StoreError> {
        self.request_refund_numbered(
            out_trade_no,
            out_refund_no,
            None,
            amount,
            reason,
            cause,
            false,
        )
        .await
    }

    /// [`Store::request_refund`] for a refund whose number the merchant's API key chose as
    /// `merchant_no` (shown by the API; `out_refund_no` is derived from it). With `hold`
    /// the refund is reserved but waits for approval (`approval = 'awaiting'`).
    #[allow(clippy::too_many_arguments)]
    pub async fn request_refund_numbered(
        &self,
        out_trade_no: &str,
        out_refund_no: &str,
        merchant_no: Option<&str>,
        amount: Money,
        reason: &str,
        cause: &Cause,
        hold: bool,
    ) -> Result<RefundRequest, StoreError> {
        if let Some(existing) = self.refund(out_refund_no).await? {
            return Ok(RefundRequest::Existing(existing));
        }
        let order = self
            .order(out_trade_no)
            .await?
            .ok_or(StoreError::NotFound)?;
        if amount.currency() != order.amount.currency() || amount.minor() <= 0 {
            return Ok(RefundRequest::Refused {
                reason: "refund currency or amount is invalid".into(),
            });
        }
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        if !reserve_in(&mut tx, &order.id, amount, now).await? {
            tx.rollback().await?;
            return self.not_reserved(&order.id, amount).await;
        }
        let row = RefundRow {
            out_refund_no,
            order_id: &order.id,
            amount,
            reason,
            requested_by: cause_text(cause),
            now,
            merchant_no,
            hold,
        };
        match insert_refund_in(&mut tx, &row).await {
            Ok(_) => {}
            // Another request with the same out_refund_no won the race: undo our reservation.
            Err(StoreError::Conflict) => {
                tx.rollback().await?;
                return match self.refund(out_refund_no).await? {
                    Some(r) => Ok(RefundRequest::Existing(r)),
                    None => Err(StoreError::Conflict),
                };
            }
            Err(e) => return Err(e),
        }
        record_event(
            &mut tx,
            &order.id,
            if hold {
                "refund_awaiting_approval"
            } else {
                "refund_requested"
            },
            cause,
            &format!("{out_refund_no} {}", paid_text(amount)),
        )
        .await?;
        tx.commit().await?;
        self.refund(out_refund_no)
            .await?
            .map(RefundRequest::Created)
            .ok_or(StoreError::NotFound)
    }

    /// Why a reservation of `amount` on order `order_id` did not match, as the order is now.
    async fn not_reserved(
        &self,
        order_id: &str,
        amount: Money,
    ) -> Result<RefundRequest, StoreError> {
        let order = self.order_by_id(order_id).await?;
        let reason = if order.status.is_refundable() {
            format!(
                "refund of {} exceeds the refundable {}",
                paid_text(amount),
                paid_text(
                    Money::new(order.refundable_minor(), amount.currency()).unwrap_or(amount)
                )
            )
        } else {
            format!("a {} order cannot be refunded", order.status)
        };
        Ok(RefundRequest::Refused { reason })
    }

    pub async fn refund(&self, out_refund_no: &str) -> Result<Option<Refund>, StoreError> {
        let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no = $1");
        let row = sqlx::query(&sql)
            .bind(out_refund_no)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(refund_from_row).transpose()
    }

    pub async fn refunds_of(&self, order_id: &str) -> Result<Vec<Refund>, StoreError> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(order_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(refund_from_row).collect()
    }

    /// pending → succeeded for a refund, moving the order to partially_refunded/refunded.
    /// Returns false when the refund was not pending (a duplicate notification).
    pub async fn complete_refund(
        &self,
        out_refund_no: &str,
        provider_refund_id: Option<&str>,
        cause: &Cause,
    ) -> Result<bool, StoreError> {
        self.settle_refund(
            out_refund_no,
            RefundStatus::Succeeded,
            provider_refund_id,
            None,
            cause,
        )
        .await
    }

    /// pending → failed for a refund, releasing its reservation so it can be retried.
    pub async fn fail_refund(
        &self,
        out_refund_no: &str,
        failure: &str,
        cause: &Cause,
    ) -> Result<bool, StoreError> {
        self.settle_refund(
            out_refund_no,
            RefundStatus::Failed,
            None,
            Some(failure),
            cause,
        )
        .await
    }

    async fn settle_refund(
        &self,
        out_refund_no: &str,
        outcome: RefundStatus,
        provider_refund_id: Option<&str>,
        failure: Option<&str>,
        cause: &Cause,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let settled = settle_refund_in(
            &mut tx,
            out_refund_no,
            outcome,
            provider_refund_id,
            failure,
            cause,
        )
        .await?;
        if settled.is_some() {
            tx.commit().await?;
            Ok(true)
        } else {
            tx.rollback().await?;
            Ok(false)
        }
    }
}

pub(in crate::store) async fn refund_in(
    tx: &mut Transaction<'static, Any>,
    out_refund_no: &str,
) -> Result<Option<Refund>, StoreError> {
    let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no = $1");
    let row = sqlx::query(&sql)
        .bind(out_refund_no)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(refund_from_row).transpose()
}

/// pending → succeeded/failed for a refund, with the order's side (refunded total and
/// status, or the released reservation) and the timeline event, inside the caller's
/// transaction. Returns the order id when it applied, `None` when the refund was not
/// pending.
pub(in crate::store) async fn settle_refund_in(
    tx: &mut Transaction<'static, Any>,
    out_refund_no: &str,
    outcome: RefundStatus,
    provider_refund_id: Option<&str>,
    failure: Option<&str>,
    cause: &Cause,
) -> Result<Option<String>, StoreError> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE refunds SET status = $1, provider_refund_id = COALESCE($2, provider_refund_id), \
         failure_reason = $3, updated_at = $4, next_query_at = NULL \
         WHERE out_refund_no = $5 AND status = 'pending'",
    )
    .bind(outcome.as_str())
    .bind(provider_refund_id)
    .bind(failure)
    .bind(now)
    .bind(out_refund_no)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT order_id, amount_minor, created_at FROM refunds WHERE out_refund_no = $1",
    )
    .bind(out_refund_no)
    .fetch_one(&mut **tx)
    .await?;
    let order_id: String = row.try_get("order_id")?;
    let amount: i64 = row.try_get("amount_minor")?;
    let requested_at: i64 = row.try_get("created_at")?;
    let (sql, kind) = match outcome {
        RefundStatus::Succeeded => (
            "UPDATE orders SET refunded_minor = refunded_minor + $1, \
             status = CASE WHEN refunded_minor + $1 >= amount_minor THEN 'refunded' ELSE 'partially_refunded' END, \
             updated_at = $2, version = version + 1 WHERE id = $3",
            "refund_succeeded",
        ),
        _ => (
            "UPDATE orders SET refund_reserved_minor = refund_reserved_minor - $1, updated_at = $2, \
             version = version + 1 WHERE id = $3",
            "refund_failed",
        ),
    };
    let sql = format!("{sql} RETURNING {STATS_FACTS}");
    let changed = sqlx::query(&sql)
        .bind(amount)
        .bind(now)
        .bind(&order_id)
        .fetch_one(&mut **tx)
        .await?;
    if outcome == RefundStatus::Succeeded {
        let mut stats = Changes::default();
        stats.refunded(&stats_facts(&changed)?, requested_at, amount);
        stats.write(tx).await?;
    }
    let detail = format!("{out_refund_no} {}", failure.unwrap_or(""));
    record_event(tx, &order_id, kind, cause, detail.trim()).await?;
    notify_merchant(tx, &order_id, kind, Some(out_refund_no)).await?;
    Ok(Some(order_id))
}

/// Reserves `amount` of a paid order for a refund, inside the caller's transaction. False
/// when the order is not refundable or has less than `amount` left.
async fn reserve_in(
    tx: &mut Transaction<'static, Any>,
    order_id: &str,
    amount: Money,
    now: i64,
) -> Result<bool, StoreError> {
    // Write first: in SQLite this takes the write lock at once, so the transaction never
    // has to upgrade a read snapshot (which could fail under concurrency). The bound is
    // written as `amount <= paid - reserved`, not `reserved + amount <= paid`: the
    // subtraction of two columns with 0 <= reserved <= paid cannot overflow, while an
    // addition with a huge requested amount would (an SQL error, not a refusal).
    let done = sqlx::query(
        "UPDATE orders SET refund_reserved_minor = refund_reserved_minor + $1, updated_at = $2, \
         version = version + 1 \
         WHERE id = $3 AND status IN ('paid', 'partially_refunded') \
         AND $1 <= amount_minor - refund_reserved_minor",
    )
    .bind(amount.minor())
    .bind(now)
    .bind(order_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A new pending refund, for [`insert_refund_in`].
struct RefundRow<'a> {
    out_refund_no: &'a str,
    order_id: &'a str,
    amount: Money,
    reason: &'a str,
    requested_by: String,
    now: i64,
    merchant_no: Option<&'a str>,
    /// Waits for an admin's approval.
    hold: bool,
}

/// Inserts the refund row; `Conflict` when its `out_refund_no` is taken.
async fn insert_refund_in(
    tx: &mut Transaction<'static, Any>,
    r: &RefundRow<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refunds (id, out_refund_no, order_id, amount_minor, currency, reason, status, requested_by, \
         created_at, updated_at, merchant_no, approval) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8, $9, $10)",
    )
    .bind(new_id())
    .bind(r.out_refund_no)
    .bind(r.order_id)
    .bind(r.amount.minor())
    .bind(r.amount.currency().code())
    .bind(r.reason)
    .bind(&r.requested_by)
    .bind(r.now)
    .bind(r.merchant_no)
    .bind(r.hold.then_some("awaiting"))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
