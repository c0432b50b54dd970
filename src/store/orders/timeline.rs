//! The order timeline (`order_events`): one row per change, its `seq` the order version
//! the change produced; written one at a time or many in one statement.

use super::model::OrderEvent;
use crate::order::Cause;
use crate::store::{Store, StoreError};
use crate::time::now_ms;
use sqlx::{Any, Row, Transaction};

impl Store {
    /// The order's timeline, oldest first.
    pub async fn order_events(&self, order_id: &str) -> Result<Vec<OrderEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, kind, cause_kind, cause_ref, detail FROM order_events WHERE order_id = $1 ORDER BY seq",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("cause_kind")?;
                let reference: String = r.try_get("cause_ref")?;
                Ok(OrderEvent {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    cause: Cause::from_parts(&kind, &reference),
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}

/// Appends the timeline event for the change that just bumped the order to `version`.
pub(in crate::store) async fn record_event(
    tx: &mut Transaction<'static, Any>,
    order_id: &str,
    kind: &str,
    cause: &Cause,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO order_events (order_id, seq, at, kind, cause_kind, cause_ref, detail) \
         SELECT id, version, $2, $3, $4, $5, $6 FROM orders WHERE id = $1",
    )
    .bind(order_id)
    .bind(now_ms())
    .bind(kind)
    .bind(cause.kind())
    .bind(cause.reference())
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    crate::metrics::order_transition(kind);
    Ok(())
}

/// A timeline event whose order change is already written, waiting to be inserted with
/// others in one statement ([`insert_events`]).
pub(in crate::store) struct EventRow {
    order_id: String,
    seq: i64,
    at: i64,
    kind: &'static str,
    cause_kind: &'static str,
    cause_ref: String,
    detail: String,
}

impl EventRow {
    /// The event for the change that bumped order `order_id` to `version`.
    pub(in crate::store) fn new(
        order_id: &str,
        version: i64,
        kind: &'static str,
        cause: &Cause,
        detail: &str,
    ) -> EventRow {
        EventRow {
            order_id: order_id.to_string(),
            seq: version,
            at: now_ms(),
            kind,
            cause_kind: cause.kind(),
            cause_ref: cause.reference().to_string(),
            detail: detail.to_string(),
        }
    }
}

/// Inserts `events` with as few statements as the database's parameter limit allows.
pub(in crate::store) async fn insert_events(
    tx: &mut Transaction<'static, Any>,
    events: &[EventRow],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 7;
    let backend = crate::store::Backend::of(tx);
    for chunk in events.chunks(crate::store::MULTI_ROW_MAX) {
        let sql = format!(
            "INSERT INTO order_events (order_id, seq, at, kind, cause_kind, cause_ref, detail) VALUES {}",
            crate::store::values_placeholders(backend, chunk.len(), COLUMNS)
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(&e.order_id)
                .bind(e.seq)
                .bind(e.at)
                .bind(e.kind)
                .bind(e.cause_kind)
                .bind(&e.cause_ref)
                .bind(&e.detail);
        }
        // Not kept prepared: the text differs with the number of rows.
        q.persistent(false).execute(&mut **tx).await?;
        for e in chunk {
            crate::metrics::order_transition(e.kind);
        }
    }
    Ok(())
}
