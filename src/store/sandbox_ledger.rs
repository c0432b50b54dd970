//! The durable order book of the built-in sandboxes (`crate::sandbox::Ledger::durable`):
//! orders, refunds and pay codes in `sandbox_orders` / `sandbox_refunds`, the merchant
//! account in `sandbox_accounts`, and the queue of "paid" notifications owed to the
//! merchant ([`deliveries`]).
//!
//! Every change is one transaction that first takes the order's row — `SELECT … FOR
//! UPDATE` on Postgres, `BEGIN IMMEDIATE` (the write lock) on SQLite — then applies the
//! pure decision of `crate::sandbox::rules` to the order as it is now. So two wallets
//! paying one order at once (on one instance or two) pay it once, and concurrent refunds
//! never exceed the amount or the balance. Locks are always taken order row first, then
//! the account row, so two transactions never wait for each other in a circle.
//!
//! Methods return `Ok(Err(LedgerError))` when the gateway refuses (the rules said no) and
//! `Err(StoreError)` when the database failed.

mod deliveries;

pub use deliveries::{
    ClaimedSandboxDelivery, SandboxDelivery, SandboxDeliveryOutcome, SandboxDeliveryStatus,
};

use super::{Backend, Store, StoreError, dialect};
use crate::money::{Currency, Money};
use crate::provider::ProviderKind;
use crate::sandbox::rules::{self, RefundStep};
use crate::sandbox::{LedgerError, OrderState, SandboxOrder, SandboxRefund};
use crate::time::now_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};

/// A gateway's verdict (inner) or a database failure (outer).
pub type Decided<T> = Result<Result<T, LedgerError>, StoreError>;

/// An order to create (see `crate::sandbox::rules::new_order` for the numbering).
#[derive(Debug, Clone, Copy)]
pub struct NewSandboxOrder<'a> {
    /// Prefix of the gateway's transaction id (`2024`, `4200`, `pi_`).
    pub prefix: &'a str,
    /// Prefix of the pay code (`ali_`, `wx_`, `cs_test_`).
    pub code_prefix: &'a str,
    pub out_trade_no: &'a str,
    pub amount: Money,
    pub subject: &'a str,
    pub notify_url: &'a str,
}

/// Which column finds the order.
#[derive(Clone, Copy)]
enum By<'a> {
    OutTradeNo(&'a str),
    Code(&'a str),
    /// Paid or closed orders only (a Stripe PaymentIntent exists once the session completes).
    TradeNo(&'a str),
}

const ORDER_COLUMNS: &str =
    "out_trade_no, trade_no, code, currency, amount, subject, notify_url, state";

fn order_from_row(row: &AnyRow) -> Result<SandboxOrder, StoreError> {
    let currency: String = row.try_get("currency")?;
    let currency = Currency::from_code(&currency)
        .map_err(|_| StoreError::Corrupt("sandbox order currency".into()))?;
    let amount = Money::new(row.try_get("amount")?, currency)
        .map_err(|_| StoreError::Corrupt("sandbox order amount".into()))?;
    let state: String = row.try_get("state")?;
    Ok(SandboxOrder {
        out_trade_no: row.try_get("out_trade_no")?,
        trade_no: row.try_get("trade_no")?,
        code: row.try_get("code")?,
        amount,
        subject: row.try_get("subject")?,
        notify_url: row.try_get("notify_url")?,
        state: OrderState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt("sandbox order state".into()))?,
        refunds: Vec::new(),
    })
}

/// The order (with its refunds, oldest first); `lock`: hold its row until the transaction
/// ends (Postgres; on SQLite the caller already holds the write lock).
async fn load(
    conn: &mut AnyConnection,
    provider: ProviderKind,
    by: By<'_>,
    lock: bool,
) -> Result<Option<SandboxOrder>, StoreError> {
    let (column, value, only_settled) = match by {
        By::OutTradeNo(v) => ("out_trade_no", v, ""),
        By::Code(v) => ("code", v, ""),
        By::TradeNo(v) => ("trade_no", v, " AND state <> 'pending'"),
    };
    let lock = if lock {
        dialect::for_update(Backend::of(conn))
    } else {
        ""
    };
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM sandbox_orders \
         WHERE provider = $1 AND {column} = $2{only_settled}{lock}"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(provider.as_str())
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut order = order_from_row(&row)?;
    let rows = sqlx::query(
        "SELECT out_refund_no, refund_id, amount FROM sandbox_refunds \
         WHERE provider = $1 AND out_trade_no = $2 ORDER BY seq",
    )
    .bind(provider.as_str())
    .bind(&order.out_trade_no)
    .fetch_all(&mut *conn)
    .await?;
    let currency = order.amount.currency();
    order.refunds = rows
        .iter()
        .map(|r| -> Result<SandboxRefund, StoreError> {
            Ok(SandboxRefund {
                out_refund_no: r.try_get("out_refund_no")?,
                refund_id: r.try_get("refund_id")?,
                amount: Money::new(r.try_get("amount")?, currency)
                    .map_err(|_| StoreError::Corrupt("sandbox refund amount".into()))?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(order))
}

/// Takes the account's next number (and its row lock); returns it with the balance left
/// for refunds. Rolled back with the transaction when the operation is refused.
async fn next_seq(
    tx: &mut Transaction<'static, Any>,
    provider: ProviderKind,
) -> Result<(i64, Option<i64>), StoreError> {
    let row = sqlx::query(
        "UPDATE sandbox_accounts SET seq = seq + 1 WHERE provider = $1 \
         RETURNING seq, refund_balance",
    )
    .bind(provider.as_str())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::Corrupt("sandbox account missing".into()))?;
    Ok((row.try_get("seq")?, row.try_get("refund_balance")?))
}

async fn set_state(
    tx: &mut Transaction<'static, Any>,
    provider: ProviderKind,
    o: &SandboxOrder,
    from: &str,
) -> Result<(), StoreError> {
    // `from` re-states what the rules checked; under the row lock it always holds, so a
    // miss means the database changed under us and the transaction must not commit.
    let done = sqlx::query(&format!(
        "UPDATE sandbox_orders SET state = $1, updated_at = $2 \
         WHERE provider = $3 AND out_trade_no = $4 AND state {from}"
    ))
    .bind(o.state.as_str())
    .bind(now_ms())
    .bind(provider.as_str())
    .bind(&o.out_trade_no)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

impl Store {
    /// A transaction for a read-decide-write: on SQLite it takes the write lock at BEGIN
    /// (a deferred transaction that reads first fails with SQLITE_BUSY, without waiting,
    /// when another connection wrote in between).
    async fn begin_sandbox_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        dialect::begin_write(&self.pool, self.backend).await
    }

    async fn sandbox_read(
        &self,
        provider: ProviderKind,
        by: By<'_>,
    ) -> Result<Option<SandboxOrder>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, provider, by, false).await
    }

    pub async fn sandbox_order(
        &self,
        provider: ProviderKind,
        out_trade_no: &str,
    ) -> Result<Option<SandboxOrder>, StoreError> {
        self.sandbox_read(provider, By::OutTradeNo(out_trade_no))
            .await
    }

    /// The order a wallet pay code belongs to.
    pub async fn sandbox_order_by_code(
        &self,
        provider: ProviderKind,
        code: &str,
    ) -> Result<Option<SandboxOrder>, StoreError> {
        self.sandbox_read(provider, By::Code(code)).await
    }

    /// The paid or closed order with this gateway transaction id.
    pub async fn sandbox_order_by_trade_no(
        &self,
        provider: ProviderKind,
        trade_no: &str,
    ) -> Result<Option<SandboxOrder>, StoreError> {
        self.sandbox_read(provider, By::TradeNo(trade_no)).await
    }

    /// A refund by the merchant's refund number or the gateway's refund id, with its order.
    pub async fn sandbox_refund(
        &self,
        provider: ProviderKind,
        refund_no: &str,
    ) -> Result<Option<(SandboxOrder, SandboxRefund)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some(row) = sqlx::query(
            "SELECT out_trade_no FROM sandbox_refunds \
             WHERE provider = $1 AND (out_refund_no = $2 OR refund_id = $2) ORDER BY seq LIMIT 1",
        )
        .bind(provider.as_str())
        .bind(refund_no)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let no: String = row.try_get("out_trade_no")?;
        let Some(order) = load(&mut conn, provider, By::OutTradeNo(&no), false).await? else {
            return Ok(None);
        };
        let refund = order
            .refunds
            .iter()
            .find(|r| r.out_refund_no == refund_no || r.refund_id == refund_no)
            .cloned();
        Ok(refund.map(|r| (order, r)))
    }

    /// Creates an order, or returns the existing one with the same number when the
    /// parameters match (`rules::recreate`).
    pub async fn create_sandbox_order(
        &self,
        provider: ProviderKind,
        new: NewSandboxOrder<'_>,
    ) -> Decided<SandboxOrder> {
        let mut tx = self.begin_sandbox_write().await?;
        let by = By::OutTradeNo(new.out_trade_no);
        if let Some(existing) = load(&mut tx, provider, by, true).await? {
            return Ok(rules::recreate(&existing, new.amount, new.subject));
        }
        let (seq, _) = next_seq(&mut tx, provider).await?;
        let o = rules::new_order(
            seq,
            new.prefix,
            new.code_prefix,
            new.out_trade_no,
            new.amount,
            new.subject,
            new.notify_url,
        );
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO sandbox_orders (provider, out_trade_no, trade_no, code, currency, amount, \
             subject, notify_url, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (provider, out_trade_no) DO NOTHING",
        )
        .bind(provider.as_str())
        .bind(&o.out_trade_no)
        .bind(&o.trade_no)
        .bind(&o.code)
        .bind(o.amount.currency().code())
        .bind(o.amount.minor())
        .bind(&o.subject)
        .bind(&o.notify_url)
        .bind(o.state.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // Postgres: another instance created the same number after our read (the
            // INSERT waited for it to commit). Answer as for a re-creation; the number
            // taken from the account is rolled back.
            let existing = load(&mut tx, provider, by, true)
                .await?
                .ok_or(StoreError::Conflict)?;
            return Ok(rules::recreate(&existing, new.amount, new.subject));
        }
        tx.commit().await?;
        Ok(Ok(o))
    }

    /// The payer paid. With `notify`, the "paid" notification is queued for delivery in
    /// the same transaction: a payment that committed is always notified.
    pub async fn pay_sandbox_order(
        &self,
        provider: ProviderKind,
        out_trade_no: &str,
        notify: bool,
    ) -> Decided<SandboxOrder> {
        let mut tx = self.begin_sandbox_write().await?;
        let Some(o) = load(&mut tx, provider, By::OutTradeNo(out_trade_no), true).await? else {
            return Ok(Err(LedgerError::NotFound));
        };
        let paid = match rules::pay(&o) {
            Ok(paid) => paid,
            Err(e) => return Ok(Err(e)),
        };
        set_state(&mut tx, provider, &paid, "= 'pending'").await?;
        if notify {
            deliveries::enqueue(&mut tx, provider, out_trade_no, now_ms()).await?;
        }
        tx.commit().await?;
        Ok(Ok(paid))
    }

    pub async fn close_sandbox_order(
        &self,
        provider: ProviderKind,
        out_trade_no: &str,
    ) -> Decided<SandboxOrder> {
        let mut tx = self.begin_sandbox_write().await?;
        let Some(o) = load(&mut tx, provider, By::OutTradeNo(out_trade_no), true).await? else {
            return Ok(Err(LedgerError::NotFound));
        };
        let closed = match rules::close(&o) {
            Ok(closed) => closed,
            Err(e) => return Ok(Err(e)),
        };
        set_state(&mut tx, provider, &closed, "<> 'paid'").await?;
        tx.commit().await?;
        Ok(Ok(closed))
    }

    /// Refunds `amount` under `out_refund_no` (`rules::refund`): the same number again
    /// returns the first refund; the sum never exceeds the paid amount or the balance.
    pub async fn refund_sandbox_order(
        &self,
        provider: ProviderKind,
        out_trade_no: &str,
        out_refund_no: &str,
        amount: Money,
    ) -> Decided<(SandboxOrder, SandboxRefund)> {
        let mut tx = self.begin_sandbox_write().await?;
        let Some(mut o) = load(&mut tx, provider, By::OutTradeNo(out_trade_no), true).await? else {
            return Ok(Err(LedgerError::NotFound));
        };
        let (seq, balance) = next_seq(&mut tx, provider).await?;
        let amount = match rules::refund(&o, out_refund_no, amount, balance) {
            Ok(RefundStep::New(amount)) => amount,
            Ok(RefundStep::Replay(r)) => return Ok(Ok((o, r))),
            Err(e) => return Ok(Err(e)),
        };
        if balance.is_some() {
            sqlx::query(
                "UPDATE sandbox_accounts SET refund_balance = refund_balance - $1 \
                 WHERE provider = $2",
            )
            .bind(amount.minor())
            .bind(provider.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let r = SandboxRefund {
            out_refund_no: out_refund_no.to_string(),
            refund_id: rules::refund_id(seq),
            amount,
        };
        sqlx::query(
            "INSERT INTO sandbox_refunds (provider, out_trade_no, out_refund_no, refund_id, \
             amount, seq, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(provider.as_str())
        .bind(out_trade_no)
        .bind(&r.out_refund_no)
        .bind(&r.refund_id)
        .bind(amount.minor())
        .bind(seq)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        o.refunds.push(r.clone());
        Ok(Ok((o, r)))
    }

    /// Sets the balance available for refunds (`None`: unlimited).
    pub async fn set_sandbox_refund_balance(
        &self,
        provider: ProviderKind,
        minor: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sandbox_accounts SET refund_balance = $1 WHERE provider = $2")
            .bind(minor)
            .bind(provider.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The Stripe sandbox's stored answer for an idempotency `scope`:
    /// (request body, HTTP status, response body).
    pub async fn sandbox_idempotent_answer(
        &self,
        scope: &str,
    ) -> Result<Option<(String, i64, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT request, status, response FROM sandbox_idempotency WHERE scope = $1",
        )
        .bind(scope)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("request")?,
                r.try_get("status")?,
                r.try_get("response")?,
            ))
        })
        .transpose()
    }

    /// Keeps the first successful answer for `scope` (a later one for the same scope, from
    /// another instance that ran the same request at the same time, is dropped).
    pub async fn keep_sandbox_idempotent_answer(
        &self,
        scope: &str,
        request: &str,
        status: i64,
        response: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sandbox_idempotency (scope, request, status, response, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope) DO NOTHING",
        )
        .bind(scope)
        .bind(request)
        .bind(status)
        .bind(response)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
