//! Orders and refunds. Every change is one compare-and-set `UPDATE … WHERE <expected
//! state>` inside a transaction with its timeline event: whoever loses a race changes
//! nothing and is told what the order looks like now. No "read, check, then write".

use super::order_stats::{Changes, OrderFacts};
use super::{Store, StoreError, new_id};
use crate::money::{Currency, Money};
use crate::order::{Cause, OrderStatus, RefundStatus};
use crate::payments::judge;
use crate::time::now_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub out_trade_no: String,
    pub channel: String,
    pub amount: Money,
    pub subject: String,
    pub status: OrderStatus,
    pub provider_trade_no: Option<String>,
    pub qr_code: Option<String>,
    pub creator: String,
    pub merchant_notify_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
    pub paid_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub refunded_minor: i64,
    pub refund_reserved_minor: i64,
    pub version: i64,
    /// Stripe Checkout Session id; `None` for Alipay and WeChat.
    pub provider_ref: Option<String>,
    /// The merchant API key that created the order, if any.
    pub api_key_id: Option<String>,
    /// When the active-query job next asks the provider (pending orders only).
    pub next_query_at: Option<i64>,
    pub query_count: i64,
    /// The number the merchant's API key chose (then `out_trade_no` is derived from it).
    pub merchant_no: Option<String>,
}

impl Refund {
    /// The number its requester knows it by: the API key's own number, else `out_refund_no`.
    pub fn merchant_facing_no(&self) -> &str {
        self.merchant_no.as_deref().unwrap_or(&self.out_refund_no)
    }
}

impl Order {
    /// The number its creator knows it by: the API key's own number, else `out_trade_no`.
    pub fn merchant_facing_no(&self) -> &str {
        self.merchant_no.as_deref().unwrap_or(&self.out_trade_no)
    }

    /// What can still be refunded: paid minus pending and succeeded refunds.
    pub fn refundable_minor(&self) -> i64 {
        if self.status.is_refundable() {
            self.amount.minor() - self.refund_reserved_minor
        } else {
            0
        }
    }
}

pub struct NewOrder<'a> {
    pub out_trade_no: &'a str,
    pub channel: &'a str,
    pub amount: Money,
    pub subject: &'a str,
    pub creator: &'a str,
    pub expires_at: i64,
    pub qr_code: Option<&'a str>,
    pub merchant_notify_url: Option<&'a str>,
    pub api_key_id: Option<&'a str>,
    /// First active query; `None` = never queried (e.g. orders made in tests).
    pub next_query_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub out_refund_no: String,
    pub order_id: String,
    pub amount: Money,
    pub reason: String,
    pub status: RefundStatus,
    pub provider_refund_id: Option<String>,
    pub failure_reason: Option<String>,
    pub requested_by: String,
    pub created_at: i64,
    /// The number the merchant's API key chose (then `out_refund_no` is derived from it).
    pub merchant_no: Option<String>,
    /// Set when the refund needed an admin's approval (`crate::approval`).
    pub approval: Option<super::refund_approval::RefundApproval>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub cause: Cause,
    pub detail: String,
}

/// The result of asking for a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// This call made the change.
    Applied(Order),
    /// The order was already in the requested state (a duplicate notification, a query
    /// that lost the race): nothing changed.
    AlreadyDone(Order),
    /// The transition is illegal from the order's current state, or the facts disagree
    /// (amount, currency): nothing changed.
    Refused { order: Order, reason: String },
}

impl Transition {
    /// The order as it is after the call.
    pub fn order(&self) -> &Order {
        match self {
            Transition::Applied(o) | Transition::AlreadyDone(o) => o,
            Transition::Refused { order, .. } => order,
        }
    }
}

/// The result of a refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundRequest {
    Created(Refund),
    /// The same `out_refund_no` was asked for before: the original refund, unchanged.
    Existing(Refund),
    Refused {
        reason: String,
    },
}

pub(super) const ORDER_COLUMNS: &str = "id, out_trade_no, channel, amount_minor, currency, subject, status, provider_trade_no, \
     qr_code, creator, merchant_notify_url, created_at, updated_at, expires_at, paid_at, closed_at, refunded_minor, \
     refund_reserved_minor, version, provider_ref, api_key_id, next_query_at, query_count, merchant_no";

pub(super) const REFUND_COLUMNS: &str = "id, out_refund_no, order_id, amount_minor, currency, reason, status, provider_refund_id, \
     failure_reason, requested_by, created_at, merchant_no, approval, approval_by, approval_reason, approval_at";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn money(row: &AnyRow) -> Result<Money, StoreError> {
    let currency: String = row.try_get("currency")?;
    let currency = Currency::from_code(&currency).map_err(corrupt)?;
    Money::new(row.try_get("amount_minor")?, currency).map_err(corrupt)
}

pub(super) fn order_from_row(row: &AnyRow) -> Result<Order, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Order {
        id: row.try_get("id")?,
        out_trade_no: row.try_get("out_trade_no")?,
        channel: row.try_get("channel")?,
        amount: money(row)?,
        subject: row.try_get("subject")?,
        status: status.parse().map_err(corrupt)?,
        provider_trade_no: row.try_get("provider_trade_no")?,
        qr_code: row.try_get("qr_code")?,
        creator: row.try_get("creator")?,
        merchant_notify_url: row.try_get("merchant_notify_url")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        expires_at: row.try_get("expires_at")?,
        paid_at: row.try_get("paid_at")?,
        closed_at: row.try_get("closed_at")?,
        refunded_minor: row.try_get("refunded_minor")?,
        refund_reserved_minor: row.try_get("refund_reserved_minor")?,
        version: row.try_get("version")?,
        provider_ref: row.try_get("provider_ref")?,
        api_key_id: row.try_get("api_key_id")?,
        next_query_at: row.try_get("next_query_at")?,
        query_count: row.try_get("query_count")?,
        merchant_no: row.try_get("merchant_no")?,
    })
}

pub(super) fn refund_from_row(row: &AnyRow) -> Result<Refund, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Refund {
        id: row.try_get("id")?,
        out_refund_no: row.try_get("out_refund_no")?,
        order_id: row.try_get("order_id")?,
        amount: money(row)?,
        reason: row.try_get("reason")?,
        status: status.parse().map_err(corrupt)?,
        provider_refund_id: row.try_get("provider_refund_id")?,
        failure_reason: row.try_get("failure_reason")?,
        requested_by: row.try_get("requested_by")?,
        created_at: row.try_get("created_at")?,
        merchant_no: row.try_get("merchant_no")?,
        approval: super::refund_approval::approval_from_row(row)?,
    })
}

/// Appends the timeline event for the change that just bumped the order to `version`.
pub(super) async fn record_event(
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

impl Store {
    /// Creates a pending order; `Conflict` if `out_trade_no` is taken.
    pub async fn create_order(
        &self,
        new: NewOrder<'_>,
        cause: &Cause,
    ) -> Result<Order, StoreError> {
        self.create_order_numbered(new, None, cause).await
    }

    /// [`Store::create_order`] for an order whose number the merchant's API key chose as
    /// `merchant_no` (shown by the API; `new.out_trade_no` is derived from it).
    pub async fn create_order_numbered(
        &self,
        new: NewOrder<'_>,
        merchant_no: Option<&str>,
        cause: &Cause,
    ) -> Result<Order, StoreError> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO orders (id, out_trade_no, channel, amount_minor, currency, subject, status, qr_code, creator, \
             merchant_notify_url, created_at, updated_at, expires_at, version, api_key_id, next_query_at, merchant_no) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $10, $11, 1, $12, $13, $14)",
        )
        .bind(&id)
        .bind(new.out_trade_no)
        .bind(new.channel)
        .bind(new.amount.minor())
        .bind(new.amount.currency().code())
        .bind(new.subject)
        .bind(new.qr_code)
        .bind(new.creator)
        .bind(new.merchant_notify_url)
        .bind(now)
        .bind(new.expires_at)
        .bind(new.api_key_id)
        .bind(new.next_query_at)
        .bind(merchant_no)
        .execute(&mut *tx)
        .await?;
        let mut stats = Changes::default();
        stats.created(&OrderFacts {
            channel: new.channel.to_string(),
            currency: new.amount.currency().code().to_string(),
            creator: new.creator.to_string(),
            created_at: now,
            amount_minor: new.amount.minor(),
        });
        stats.write(&mut tx).await?;
        record_event(
            &mut tx,
            &id,
            "created",
            cause,
            &new.amount.to_decimal_string(),
        )
        .await?;
        tx.commit().await?;
        self.order(new.out_trade_no)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The tail of every applied order transition: its timeline event, in the same
    /// transaction, then the order as it is now.
    async fn commit_transition(
        &self,
        mut tx: Transaction<'static, Any>,
        out_trade_no: &str,
        kind: &str,
        cause: &Cause,
        detail: &str,
    ) -> Result<Transition, StoreError> {
        let id: String = sqlx::query("SELECT id FROM orders WHERE out_trade_no = $1")
            .bind(out_trade_no)
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        record_event(&mut tx, &id, kind, cause, detail).await?;
        notify_merchant(&mut tx, &id, kind, None).await?;
        tx.commit().await?;
        Ok(Transition::Applied(self.order_by_id(&id).await?))
    }

    pub async fn order(&self, out_trade_no: &str) -> Result<Option<Order>, StoreError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE out_trade_no = $1");
        let row = sqlx::query(&sql)
            .bind(out_trade_no)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(order_from_row).transpose()
    }

    /// pending → paid, if the paid amount and currency are exactly the order's.
    pub async fn mark_paid(
        &self,
        out_trade_no: &str,
        provider_trade_no: &str,
        paid: Money,
        cause: &Cause,
    ) -> Result<Transition, StoreError> {
        let mut tx = self.pool.begin().await?;
        if paid_in(&mut tx, out_trade_no, provider_trade_no, paid).await? {
            return self
                .commit_transition(tx, out_trade_no, "paid", cause, provider_trade_no)
                .await;
        }
        tx.rollback().await?;
        let order = self
            .order(out_trade_no)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(not_paid(order, provider_trade_no, paid))
    }

    /// pending → closed (by a person, expiry or the provider).
    pub async fn close_order(
        &self,
        out_trade_no: &str,
        cause: &Cause,
    ) -> Result<Transition, StoreError> {
        let mut tx = self.pool.begin().await?;
        if closed_in(&mut tx, out_trade_no).await? {
            return self
                .commit_transition(tx, out_trade_no, "closed", cause, "")
                .await;
        }
        tx.rollback().await?;
        let order = self
            .order(out_trade_no)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(not_closed(order))
    }

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
        .bind(&order.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            let order = self.order_by_id(&order.id).await?;
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
            return Ok(RefundRequest::Refused { reason });
        }
        let insert = sqlx::query(
            "INSERT INTO refunds (id, out_refund_no, order_id, amount_minor, currency, reason, status, requested_by, \
             created_at, updated_at, merchant_no, approval) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(out_refund_no)
        .bind(&order.id)
        .bind(amount.minor())
        .bind(amount.currency().code())
        .bind(reason)
        .bind(cause_text(cause))
        .bind(now)
        .bind(merchant_no)
        .bind(hold.then_some("awaiting"))
        .execute(&mut *tx)
        .await;
        match insert.map_err(StoreError::from) {
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

/// Queues the event for the merchant system, in the transaction of the change it reports,
/// when the order asked for it (merchant API orders with a `notify_url`): the event exists
/// iff the change commits.
pub(super) async fn notify_merchant(
    tx: &mut Transaction<'static, Any>,
    order_id: &str,
    kind: &str,
    out_refund_no: Option<&str>,
) -> Result<(), StoreError> {
    use crate::jobs::merchant_notify as mn;
    let event = match kind {
        "paid" => mn::EVENT_ORDER_PAID,
        "closed" => mn::EVENT_ORDER_CLOSED,
        "refund_succeeded" => mn::EVENT_REFUND_SUCCEEDED,
        "refund_failed" => mn::EVENT_REFUND_FAILED,
        _ => return Ok(()),
    };
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await?;
    let order = order_from_row(&row)?;
    let (Some(url), Some(key)) = (&order.merchant_notify_url, &order.api_key_id) else {
        return Ok(());
    };
    let refund = match out_refund_no {
        Some(no) => refund_in(tx, no).await?,
        None => None,
    };
    let body = mn::event_body(event, &order, refund.as_ref());
    super::enqueue_merchant_notification(
        tx,
        super::NewMerchantNotification {
            order_id,
            out_trade_no: &order.out_trade_no,
            api_key_id: key,
            url,
            event,
            body: &body,
        },
    )
    .await?;
    Ok(())
}

/// The `UPDATE` of pending → paid, inside the caller's transaction. True when it applied;
/// the caller records the event.
pub(super) async fn paid_in(
    tx: &mut Transaction<'static, Any>,
    out_trade_no: &str,
    provider_trade_no: &str,
    paid: Money,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let done = sqlx::query(&format!(
        "UPDATE orders SET status = 'paid', provider_trade_no = $1, paid_at = $2, updated_at = $2, \
         version = version + 1, next_query_at = NULL \
         WHERE out_trade_no = $3 AND status = 'pending' AND amount_minor = $4 AND currency = $5 \
         RETURNING {STATS_FACTS}"
    ))
    .bind(provider_trade_no)
    .bind(now)
    .bind(out_trade_no)
    .bind(paid.minor())
    .bind(paid.currency().code())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = done else {
        return Ok(false);
    };
    let mut stats = Changes::default();
    stats.paid(&stats_facts(&row)?, now);
    stats.write(tx).await?;
    Ok(true)
}

/// The columns [`stats_facts`] reads, for a `RETURNING`.
const STATS_FACTS: &str = "channel, currency, creator, created_at, amount_minor";

/// What the overview's roll-up needs of a changed order (a row with [`STATS_FACTS`]).
fn stats_facts(row: &AnyRow) -> Result<OrderFacts, StoreError> {
    Ok(OrderFacts {
        channel: row.try_get("channel")?,
        currency: row.try_get("currency")?,
        creator: row.try_get("creator")?,
        created_at: row.try_get("created_at")?,
        amount_minor: row.try_get("amount_minor")?,
    })
}

/// An order that a "paid" just moved from pending to paid.
pub(super) struct PaidNow {
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
pub(super) async fn paid_returning(
    tx: &mut Transaction<'static, Any>,
    claim: PaidClaim<'_>,
) -> Result<Option<PaidNow>, StoreError> {
    let no = claim.out_trade_no;
    Ok(paid_many(tx, &[claim]).await?.remove(no))
}

/// A "paid" for [`paid_many`].
#[derive(Clone)]
pub(super) struct PaidClaim<'a> {
    pub channel: &'a str,
    pub out_trade_no: &'a str,
    pub provider_trade_no: &'a str,
    pub paid: Money,
}

/// pending → paid for many orders in one statement (`UPDATE … FROM (VALUES …)`), each
/// only if it is of the claim's channel, pending, and of exactly the claimed amount; a
/// statement per batch rather than per payment is what makes group commit cheap. Returns
/// the orders that changed, by order number. The claims must name distinct orders.
pub(super) async fn paid_many(
    tx: &mut Transaction<'static, Any>,
    claims: &[PaidClaim<'_>],
) -> Result<std::collections::HashMap<String, PaidNow>, StoreError> {
    let backend = super::Backend::of(tx);
    let mut changed = std::collections::HashMap::with_capacity(claims.len());
    let now = now_ms();
    // By order number, so that on Postgres every writer (lanes of other instances too)
    // locks the orders it shares with another in the same order: no deadlock between
    // two batches holding copies of the same notifications.
    let mut sorted: Vec<&PaidClaim<'_>> = claims.iter().collect();
    sorted.sort_unstable_by_key(|c| c.out_trade_no);
    for chunk in sorted.chunks(super::MULTI_ROW_MAX) {
        // One row has no order to get wrong.
        if backend == super::Backend::Postgres && chunk.len() > 1 {
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
        let rows = super::values_typed(backend, chunk.len(), &[None, None, big, None, None, big]);
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

/// A timeline event whose order change is already written, waiting to be inserted with
/// others in one statement ([`insert_events`]).
pub(super) struct EventRow {
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
    pub(super) fn new(
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
pub(super) async fn insert_events(
    tx: &mut Transaction<'static, Any>,
    events: &[EventRow],
) -> Result<(), StoreError> {
    const COLUMNS: usize = 7;
    let backend = super::Backend::of(tx);
    for chunk in events.chunks(super::MULTI_ROW_MAX) {
        let sql = format!(
            "INSERT INTO order_events (order_id, seq, at, kind, cause_kind, cause_ref, detail) VALUES {}",
            super::values_placeholders(backend, chunk.len(), COLUMNS)
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

/// Why a "paid" did not apply to `order`: a duplicate, or facts that disagree
/// (`payments::judge` has the rule).
pub(super) fn not_paid(order: Order, provider_trade_no: &str, paid: Money) -> Transition {
    let unchanged = judge::paid_unchanged(&order, provider_trade_no, paid);
    transition(order, unchanged)
}

/// The [`Transition`] of a compare-and-set that changed nothing.
fn transition(order: Order, unchanged: judge::Unchanged) -> Transition {
    match unchanged {
        judge::Unchanged::Duplicate => Transition::AlreadyDone(order),
        judge::Unchanged::Refused(reason) => Transition::Refused { order, reason },
    }
}

/// The `UPDATE` of pending → closed, inside the caller's transaction.
pub(super) async fn closed_in(
    tx: &mut Transaction<'static, Any>,
    out_trade_no: &str,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let done = sqlx::query(&format!(
        "UPDATE orders SET status = 'closed', closed_at = $1, updated_at = $1, version = version + 1, \
         next_query_at = NULL WHERE out_trade_no = $2 AND status = 'pending' RETURNING {STATS_FACTS}"
    ))
    .bind(now)
    .bind(out_trade_no)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = done else {
        return Ok(false);
    };
    let mut stats = Changes::default();
    stats.closed(&stats_facts(&row)?);
    stats.write(tx).await?;
    Ok(true)
}

pub(super) fn not_closed(order: Order) -> Transition {
    let unchanged = judge::close_unchanged(&order);
    transition(order, unchanged)
}

/// The order as the transaction sees it.
pub(super) async fn order_in(
    tx: &mut Transaction<'static, Any>,
    out_trade_no: &str,
) -> Result<Option<Order>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE out_trade_no = $1");
    let row = sqlx::query(&sql)
        .bind(out_trade_no)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(order_from_row).transpose()
}

pub(super) async fn refund_in(
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
pub(super) async fn settle_refund_in(
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

pub(super) fn paid_text(m: Money) -> String {
    judge::money_text(m)
}

pub(super) fn cause_text(cause: &Cause) -> String {
    match cause.reference() {
        "" => cause.kind().to_string(),
        r => format!("{}:{r}", cause.kind()),
    }
}
