//! The sandbox's queue of "paid" notifications owed to the merchant (`sandbox_deliveries`),
//! worked by `crate::sandbox::delivery::Deliverer`.
//!
//! * **Enqueue** in the transaction that records the payment ([`enqueue`]).
//! * **Claim** ([`Store::claim_due_sandbox_deliveries`]): one statement picks due pending
//!   rows and moves their `next_at` to the end of a lease; until then nobody else picks
//!   them. Postgres: `FOR UPDATE SKIP LOCKED` in a MATERIALIZED CTE, so instances sharing
//!   the database never pick the same row (same pattern as merchant notifications).
//!   If the process dies mid-send, the row is due again when the lease ends.
//! * **Finish** ([`Store::finish_sandbox_delivery`]): acknowledged, retry at, given up.
//!   Anything but an acknowledgement only applies if the row is still as this claim left
//!   it (same attempt count, `next_at` still the lease), so a worker whose lease ran out
//!   cannot undo a newer outcome.
//!
//! Delivery is at least once, as at the real gateways; paydesk deduplicates.

use super::super::{Store, StoreError, dialect, new_id};
use crate::provider::ProviderKind;
use crate::time::now_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// How much of an error is kept (characters).
const ERROR_CHARS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxDeliveryStatus {
    Pending,
    /// The merchant answered with the provider's acknowledgement.
    Acknowledged,
    /// The provider's retry schedule ran out.
    GivenUp,
    /// There was nowhere to send it (an Alipay order created without `notify_url`).
    Undeliverable,
}

impl SandboxDeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxDeliveryStatus::Pending => "pending",
            SandboxDeliveryStatus::Acknowledged => "acknowledged",
            SandboxDeliveryStatus::GivenUp => "given_up",
            SandboxDeliveryStatus::Undeliverable => "undeliverable",
        }
    }

    fn parse(s: &str) -> Result<SandboxDeliveryStatus, StoreError> {
        Ok(match s {
            "pending" => SandboxDeliveryStatus::Pending,
            "acknowledged" => SandboxDeliveryStatus::Acknowledged,
            "given_up" => SandboxDeliveryStatus::GivenUp,
            "undeliverable" => SandboxDeliveryStatus::Undeliverable,
            _ => return Err(StoreError::Corrupt("sandbox delivery status".into())),
        })
    }
}

/// A queued delivery, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxDelivery {
    pub id: String,
    pub provider: ProviderKind,
    pub out_trade_no: String,
    pub status: SandboxDeliveryStatus,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
}

/// A delivery a worker claimed and now sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedSandboxDelivery {
    pub id: String,
    pub provider: ProviderKind,
    pub out_trade_no: String,
    /// Attempts before this one: the position in the retry schedule, and the fence.
    pub attempts: i64,
    /// Until when this claim holds the row (its `next_at` now).
    pub lease_until: i64,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxDeliveryOutcome {
    Acknowledged,
    /// Not acknowledged; try again at this time (Unix ms). The text says why (no secrets:
    /// a status or an error without its URL).
    RetryAt(i64, String),
    /// Not acknowledged and the schedule is exhausted.
    GiveUp(String),
    Undeliverable,
}

fn provider_of(row: &AnyRow) -> Result<ProviderKind, StoreError> {
    let p: String = row.try_get("provider")?;
    crate::channel::parse_provider(&p)
        .ok_or_else(|| StoreError::Corrupt("sandbox delivery provider".into()))
}

fn truncate(s: &str) -> String {
    s.chars().take(ERROR_CHARS).collect()
}

/// Queues the "paid" notification of `out_trade_no`, due at once.
pub(super) async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    provider: ProviderKind,
    out_trade_no: &str,
    now: i64,
) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO sandbox_deliveries (id, provider, out_trade_no, status, attempts, next_at, \
         created_at, updated_at, last_error) VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4, NULL)",
    )
    .bind(&id)
    .bind(provider.as_str())
    .bind(out_trade_no)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// Claims up to `limit` pending deliveries due at `now` (oldest due first) for
    /// `lease_ms`, which must outlast one attempt.
    pub async fn claim_due_sandbox_deliveries(
        &self,
        now: i64,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<ClaimedSandboxDelivery>, StoreError> {
        // Locks and skips on Postgres; see `dialect::claim_due` for why that form.
        let sql = dialect::claim_due(
            self.backend,
            &dialect::Claim {
                table: "sandbox_deliveries",
                set: "next_at = $1, updated_at = $2",
                due: "status = 'pending' AND next_at <= $2",
                order: "next_at, id",
                columns: "id, provider, out_trade_no, attempts, next_at",
            },
        );
        let rows = sqlx::query(&sql)
            .bind(now.saturating_add(lease_ms.max(0)))
            .bind(now)
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| -> Result<ClaimedSandboxDelivery, StoreError> {
                Ok(ClaimedSandboxDelivery {
                    id: r.try_get("id")?,
                    provider: provider_of(r)?,
                    out_trade_no: r.try_get("out_trade_no")?,
                    attempts: r.try_get("attempts")?,
                    lease_until: r.try_get("next_at")?,
                })
            })
            .collect()
    }

    /// Records how an attempt of `claimed` ended. Returns false when the row moved on
    /// since the claim (nothing changed then).
    pub async fn finish_sandbox_delivery(
        &self,
        claimed: &ClaimedSandboxDelivery,
        outcome: &SandboxDeliveryOutcome,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let (status, next_at, error) = match outcome {
            SandboxDeliveryOutcome::Acknowledged => {
                // An acknowledgement is a fact, whoever else is trying: no fence.
                let done = sqlx::query(
                    "UPDATE sandbox_deliveries SET status = 'acknowledged', \
                     attempts = attempts + 1, updated_at = $1, last_error = NULL \
                     WHERE id = $2 AND status = 'pending'",
                )
                .bind(now)
                .bind(&claimed.id)
                .execute(&self.pool)
                .await?;
                return Ok(done.rows_affected() == 1);
            }
            SandboxDeliveryOutcome::RetryAt(at, why) => {
                (SandboxDeliveryStatus::Pending, *at, Some(truncate(why)))
            }
            SandboxDeliveryOutcome::GiveUp(why) => {
                (SandboxDeliveryStatus::GivenUp, now, Some(truncate(why)))
            }
            SandboxDeliveryOutcome::Undeliverable => {
                (SandboxDeliveryStatus::Undeliverable, now, None)
            }
        };
        let done = sqlx::query(
            "UPDATE sandbox_deliveries SET status = $1, attempts = attempts + 1, next_at = $2, \
             updated_at = $3, last_error = $4 \
             WHERE id = $5 AND status = 'pending' AND attempts = $6 AND next_at = $7",
        )
        .bind(status.as_str())
        .bind(next_at)
        .bind(now)
        .bind(error)
        .bind(&claimed.id)
        .bind(claimed.attempts)
        .bind(claimed.lease_until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a claimed delivery back without counting an attempt (the worker is stopping):
    /// due again at once, for this instance after a restart or for another one.
    pub async fn release_sandbox_delivery(
        &self,
        claimed: &ClaimedSandboxDelivery,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE sandbox_deliveries SET next_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'pending' AND attempts = $3 AND next_at = $4",
        )
        .bind(now)
        .bind(&claimed.id)
        .bind(claimed.attempts)
        .bind(claimed.lease_until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether any delivery is still pending (a restarted server resumes them).
    pub async fn has_pending_sandbox_deliveries(&self) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM sandbox_deliveries \
             WHERE status = 'pending' LIMIT 1) AS p",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// The deliveries of one order (`None`: all), oldest first: for tests and diagnosis.
    pub async fn sandbox_deliveries(
        &self,
        out_trade_no: Option<&str>,
    ) -> Result<Vec<SandboxDelivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, provider, out_trade_no, status, attempts, next_at, last_error \
             FROM sandbox_deliveries WHERE (CAST($1 AS TEXT) IS NULL OR out_trade_no = $1) \
             ORDER BY created_at, id",
        )
        .bind(out_trade_no)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| -> Result<SandboxDelivery, StoreError> {
                let status: String = r.try_get("status")?;
                Ok(SandboxDelivery {
                    id: r.try_get("id")?,
                    provider: provider_of(r)?,
                    out_trade_no: r.try_get("out_trade_no")?,
                    status: SandboxDeliveryStatus::parse(&status)?,
                    attempts: r.try_get("attempts")?,
                    next_at: r.try_get("next_at")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }
}
