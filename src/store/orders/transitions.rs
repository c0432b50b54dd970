//! Order creation and the order's own transitions (pending → paid, pending → closed),
//! each one compare-and-set `UPDATE … WHERE status = 'pending'` in a transaction with its
//! timeline event; the rules for what a transition that did not match means are
//! `payments::judge`'s.

use super::fanout::notify_merchant;
use super::model::{
    NewOrder, ORDER_COLUMNS, Order, STATS_FACTS, Transition, order_from_row, stats_facts,
};
use super::timeline::record_event;
use crate::money::Money;
use crate::order::Cause;
use crate::payments::judge;
use crate::store::order_stats::{Changes, OrderFacts};
use crate::store::{Store, StoreError, new_id};
use crate::time::now_ms;
use sqlx::{Any, Row, Transaction};

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
        // The write lock at BEGIN on SQLite: the insert's FTS trigger (the search index)
        // reads its index before the insert holds the lock, and a deferred transaction
        // that read first fails with SQLITE_BUSY when another connection committed.
        let mut tx = crate::store::dialect::begin_write(&self.pool, self.backend).await?;
        sqlx::query(
            "INSERT INTO orders (id, out_trade_no, channel, amount_minor, currency, subject, status, qr_code, creator, \
             merchant_notify_url, created_at, updated_at, expires_at, version, api_key_id, next_query_at, merchant_no, \
             pay_method, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $10, $11, 1, $12, $13, $14, $15, $16)",
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
        .bind(new.pay_method.as_str())
        .bind(crate::order_query::search_text(new.out_trade_no, new.subject))
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
}

/// The `UPDATE` of pending → paid, inside the caller's transaction. True when it applied;
/// the caller records the event.
async fn paid_in(
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

/// Why a "paid" did not apply to `order`: a duplicate, or facts that disagree
/// (`payments::judge` has the rule).
fn not_paid(order: Order, provider_trade_no: &str, paid: Money) -> Transition {
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
pub(in crate::store) async fn closed_in(
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

/// Why a close did not apply to `order`: already closed, or illegal from its state.
fn not_closed(order: Order) -> Transition {
    let unchanged = judge::close_unchanged(&order);
    transition(order, unchanged)
}

/// The order as the transaction sees it.
pub(in crate::store) async fn order_in(
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
