//! Refunds that wait for approval: approving or rejecting one is a compare-and-set on
//! `approval = 'awaiting'` that also refuses the requester (`requested_by <> approver`),
//! so concurrent approvals apply once and nobody approves their own refund, whatever
//! entry point they use. A rejection releases the reservation in the same transaction.

use super::orders::{
    REFUND_COLUMNS, cause_text, record_event, refund_from_row, refund_in, settle_refund_in,
};
use super::{RefundListing, Store, StoreError};
use crate::approval::{ApprovalState, DecisionRefusal};
use crate::order::{Cause, RefundStatus};
use crate::time::now_ms;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A refund's approval: waiting, or who decided it, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundApproval {
    pub state: ApprovalState,
    pub by: Option<String>,
    pub reason: Option<String>,
    pub at: Option<i64>,
}

pub(super) fn approval_from_row(row: &AnyRow) -> Result<Option<RefundApproval>, StoreError> {
    let Some(state) = row.try_get::<Option<String>, _>("approval")? else {
        return Ok(None);
    };
    Ok(Some(RefundApproval {
        state: state
            .parse()
            .map_err(|e: crate::approval::UnknownPolicy| StoreError::Corrupt(e.to_string()))?,
        by: row.try_get("approval_by")?,
        reason: row.try_get("approval_reason")?,
        at: row.try_get("approval_at")?,
    }))
}

/// What an approval or rejection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalOutcome {
    /// This call decided it; the refund as it is now.
    Applied(crate::store::Refund),
    Refused {
        refund: crate::store::Refund,
        why: DecisionRefusal,
    },
}

impl Store {
    /// Approves (`approve`) or rejects a refund waiting for approval, as `approver`.
    /// `NotFound` when there is no such refund.
    pub async fn decide_refund(
        &self,
        out_refund_no: &str,
        approve: bool,
        approver: &Cause,
        reason: &str,
    ) -> Result<ApprovalOutcome, StoreError> {
        let who = cause_text(approver);
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE refunds SET approval = $1, approval_by = $2, approval_reason = $3, approval_at = $4, \
             updated_at = $4 WHERE out_refund_no = $5 AND approval = 'awaiting' AND status = 'pending' \
             AND requested_by <> $2",
        )
        .bind(if approve { "approved" } else { "rejected" })
        .bind(&who)
        .bind(reason)
        .bind(now)
        .bind(out_refund_no)
        .execute(&mut *tx)
        .await?;
        let refund = refund_in(&mut tx, out_refund_no)
            .await?
            .ok_or(StoreError::NotFound)?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let why = if refund.requested_by == who {
                DecisionRefusal::OwnRefund
            } else {
                DecisionRefusal::NotAwaiting
            };
            return Ok(ApprovalOutcome::Refused { refund, why });
        }
        sqlx::query("UPDATE orders SET version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&refund.order_id)
            .execute(&mut *tx)
            .await?;
        let kind = if approve {
            "refund_approved"
        } else {
            "refund_rejected"
        };
        let detail = format!("{out_refund_no} {}", reason.trim());
        record_event(&mut tx, &refund.order_id, kind, approver, detail.trim()).await?;
        if !approve {
            let failure = format!("rejected by {}: {}", approver.reference(), reason.trim());
            settle_refund_in(
                &mut tx,
                out_refund_no,
                RefundStatus::Failed,
                None,
                Some(&failure),
                approver,
            )
            .await?;
        }
        tx.commit().await?;
        let refund = self
            .refund(out_refund_no)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(ApprovalOutcome::Applied(refund))
    }

    /// Refunds waiting for approval, oldest first (the order they are to be decided in).
    pub async fn awaiting_refunds(&self, limit: i64) -> Result<Vec<RefundListing>, StoreError> {
        let columns: Vec<String> = REFUND_COLUMNS
            .split(',')
            .map(|col| format!("r.{}", col.trim()))
            .collect();
        let sql = format!(
            "SELECT {}, o.out_trade_no FROM refunds r JOIN orders o ON o.id = r.order_id \
             WHERE r.approval = 'awaiting' AND r.status = 'pending' \
             ORDER BY r.created_at, r.id LIMIT $1",
            columns.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(limit.clamp(1, 500))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RefundListing {
                    refund: refund_from_row(r)?,
                    out_trade_no: r.try_get("out_trade_no")?,
                })
            })
            .collect()
    }
}
