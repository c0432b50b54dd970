//! The notify inbox: every provider notification, recorded with its verdict. New ones are
//! recorded and applied in one transaction by `inbox_writer`; a row left `received`
//! (its channel could not be loaded, or an older paydesk crashed between storing and
//! applying) is applied by recovery in one transaction that claims it (`received` →
//! verdict) and makes the order or refund transition, so it is applied at most once even
//! when two recovery passes (or two instances) race on it.
//!
//! What a verified notification does (its verdict, and the transition if any) is decided
//! by the pure `payments::judge`; this module reads the rows it needs, asks, and carries
//! the decision out ([`apply_event_deferred`]).

use super::orders::{
    EventRow, PaidClaim, closed_in, insert_events, notify_merchant, order_in, paid_returning,
    record_event, refund_in, settle_refund_in,
};
use super::{Store, StoreError, new_id};
use crate::order::Cause;
use crate::payments::judge::{Decision, judge};
use crate::provider::NotifyEvent;
use crate::time::now_ms;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// What became of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Received,
    Applied,
    Duplicate,
    Ignored,
    Refused,
    Rejected,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Received,
        Verdict::Applied,
        Verdict::Duplicate,
        Verdict::Ignored,
        Verdict::Refused,
        Verdict::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Received => "received",
            Verdict::Applied => "applied",
            Verdict::Duplicate => "duplicate",
            Verdict::Ignored => "ignored",
            Verdict::Refused => "refused",
            Verdict::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The provider should stop resending: we handled it (or it can never succeed).
    /// `Refused` is acknowledged too: resending the same disagreeing facts cannot help,
    /// and the row is flagged for a person.
    pub fn acknowledge(self) -> bool {
        !matches!(self, Verdict::Received | Verdict::Rejected)
    }
}

/// One stored notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    pub id: String,
    pub provider: String,
    pub channel: String,
    pub received_at: i64,
    /// JSON object of the request headers (lower-case names).
    pub headers: String,
    pub body: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub event: Option<String>,
    pub out_trade_no: Option<String>,
    pub processed_at: Option<i64>,
}

/// The result of applying a verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub verdict: Verdict,
    pub reason: Option<String>,
    /// Order ids whose state this notification changed (for follow-up work).
    pub changed_order: Option<String>,
}

/// Which notifications to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub provider: Option<String>,
    pub channel: Option<String>,
    pub verdict: Option<Verdict>,
    pub out_trade_no: Option<String>,
    /// Only notifications after this (`received_at`, `id`) position in newest-first
    /// order, for paging backwards: the last entry's [`InboxEntry::cursor`].
    pub before: Option<(i64, String)>,
    /// Clamped to 1..=500.
    pub limit: i64,
}

impl InboxEntry {
    /// This entry's position, for [`InboxFilter::before`].
    pub fn cursor(&self) -> (i64, String) {
        (self.received_at, self.id.clone())
    }
}

const COLUMNS: &str = "id, provider, channel, received_at, headers, body, status, reason, event, out_trade_no, processed_at";

fn from_row(r: &AnyRow) -> Result<InboxEntry, StoreError> {
    let status: String = r.try_get("status")?;
    Ok(InboxEntry {
        id: r.try_get("id")?,
        provider: r.try_get("provider")?,
        channel: r.try_get("channel")?,
        received_at: r.try_get("received_at")?,
        headers: r.try_get("headers")?,
        body: r.try_get("body")?,
        verdict: Verdict::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("inbox status {status}")))?,
        reason: r.try_get("reason")?,
        event: r.try_get("event")?,
        out_trade_no: r.try_get("out_trade_no")?,
        processed_at: r.try_get("processed_at")?,
    })
}

/// A short name for the event kind, as stored and shown.
pub fn event_kind(e: &NotifyEvent) -> &str {
    match e {
        NotifyEvent::Paid { .. } => "paid",
        NotifyEvent::Closed { .. } => "closed",
        NotifyEvent::RefundSucceeded { .. } => "refund_succeeded",
        NotifyEvent::RefundFailed { .. } => "refund_failed",
        NotifyEvent::Ignored { kind } => kind,
    }
}

impl Store {
    /// Removes notifications that failed verification and arrived before `before` (they
    /// are kept for diagnosis only; anyone can send them); returns how many.
    pub async fn prune_rejected_notifications(&self, before: i64) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM notify_inbox WHERE status = 'rejected' AND received_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    /// Stores a notification as received, durably (committed before this returns).
    pub async fn insert_notification(
        &self,
        provider: &str,
        channel: &str,
        received_at: i64,
        headers: &str,
        body: &str,
    ) -> Result<String, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO notify_inbox (id, provider, channel, received_at, headers, body, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'received')",
        )
        .bind(&id)
        .bind(provider)
        .bind(channel)
        .bind(received_at)
        .bind(headers)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Marks a received notification as failing verification. False if it was no longer
    /// `received` (someone else processed it).
    pub async fn reject_notification(&self, id: &str, reason: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE notify_inbox SET status = 'rejected', reason = $1, processed_at = $2 \
             WHERE id = $3 AND status = 'received'",
        )
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn notification(&self, id: &str) -> Result<Option<InboxEntry>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM notify_inbox WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Notifications still `received` that arrived before `before_ms`: their processing was
    /// interrupted (a crash, a restart). Oldest first.
    pub async fn unprocessed_notifications(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notify_inbox WHERE status = 'received' AND received_at < $1 \
             ORDER BY received_at LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(before_ms)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Notifications matching `f`, newest first.
    pub async fn notifications(&self, f: &InboxFilter) -> Result<Vec<InboxEntry>, StoreError> {
        // Keyset paging on (received_at, id): a provider often sends several notifications
        // in one millisecond, so the id breaks ties and no row is skipped or repeated at a
        // page boundary. Optional filters as `$n IS NULL OR col = $n` (one statement).
        let (before_at, before_id) = super::keyset(&f.before);
        let sql = format!(
            "SELECT {COLUMNS} FROM notify_inbox \
             WHERE ($1 IS NULL OR provider = $1) \
               AND ($2 IS NULL OR channel = $2) \
               AND ($3 IS NULL OR status = $3) \
               AND ($4 IS NULL OR out_trade_no = $4) \
               AND ($5 IS NULL OR received_at < $5 OR (received_at = $5 AND id < $6)) \
             ORDER BY received_at DESC, id DESC LIMIT $7"
        );
        let rows = sqlx::query(&sql)
            .bind(f.provider.as_deref())
            .bind(f.channel.as_deref())
            .bind(f.verdict.map(Verdict::as_str))
            .bind(f.out_trade_no.as_deref())
            .bind(before_at)
            .bind(before_id)
            .bind(f.limit.clamp(1, 500))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Applies a verified notification received on `channel`, in one transaction with
    /// claiming its inbox row. Returns `None` when the row was not `received` any more
    /// (another worker applied it first): nothing changed.
    pub async fn apply_notification(
        &self,
        inbox_id: &str,
        channel: &str,
        event: &NotifyEvent,
    ) -> Result<Option<Applied>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Claim first: a write, so SQLite takes its write lock at once, and on Postgres a
        // concurrent claimer of the same row waits here and then finds it taken.
        let claimed = sqlx::query(
            "UPDATE notify_inbox SET status = 'applied', processed_at = $1, event = $2, \
             out_trade_no = $3 WHERE id = $4 AND status = 'received'",
        )
        .bind(now_ms())
        .bind(event_kind(event))
        .bind(event.out_trade_no())
        .bind(inbox_id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let cause = Cause::Notify(inbox_id.to_string());
        let applied = apply_event(&mut tx, channel, event, &cause).await?;
        sqlx::query("UPDATE notify_inbox SET status = $1, reason = $2 WHERE id = $3")
            .bind(applied.verdict.as_str())
            .bind(applied.reason.as_deref())
            .bind(inbox_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(applied))
    }
}

fn verdict(v: Verdict, reason: impl Into<Option<String>>) -> Applied {
    Applied {
        verdict: v,
        reason: reason.into(),
        changed_order: None,
    }
}

/// The notification changed order `order_id`.
fn changed(order_id: String) -> Applied {
    Applied {
        verdict: Verdict::Applied,
        reason: None,
        changed_order: Some(order_id),
    }
}

/// Whether the order's events go to a merchant system (set at creation, never changed):
/// saves re-reading the order on the busiest path when they do not.
fn forwards_events(order: &super::Order) -> bool {
    order.merchant_notify_url.is_some() && order.api_key_id.is_some()
}

pub(super) async fn apply_event(
    tx: &mut Transaction<'static, Any>,
    channel: &str,
    event: &NotifyEvent,
    cause: &Cause,
) -> Result<Applied, StoreError> {
    let mut events = Vec::new();
    let applied = apply_event_deferred(tx, channel, event, cause, &mut events, false).await?;
    insert_events(tx, &events).await?;
    Ok(applied)
}

/// How often a notification is judged again when carrying out its decision lost a race
/// (the row changed between reading and writing it). States only move forward, so the
/// second judgement already sees the final state; the bound is a guard.
const JUDGEMENTS: usize = 3;

/// [`apply_event`], except that the timeline event of a "paid" that applied is pushed to
/// `events` for the caller to insert (with others, in one statement) in the same
/// transaction: the notification writer's batches then cost one statement per payment.
///
/// The decision is [`judge`]'s; this only reads the rows it needs and carries it out.
/// `paid_tried`: the caller already ran this "paid"'s compare-and-set in `tx` (the
/// writer's batch statement) and it did not match, so it is not run again before judging.
pub(super) async fn apply_event_deferred(
    tx: &mut Transaction<'static, Any>,
    channel: &str,
    event: &NotifyEvent,
    cause: &Cause,
    events: &mut Vec<EventRow>,
    paid_tried: bool,
) -> Result<Applied, StoreError> {
    let Some(out_trade_no) = event.out_trade_no() else {
        // No row to read: the event alone decides (it is ignored).
        let decision = judge(event, channel, None, None);
        return Ok(no_change(&decision).unwrap_or_else(|| verdict(Verdict::Ignored, None)));
    };
    let at = Target {
        channel,
        out_trade_no,
        cause,
    };
    // The common case, a payment of a pending order of this channel, in one statement:
    // what `judge` decides for it, done before reading the order (which it then needs
    // only when the statement did not match).
    if let NotifyEvent::Paid {
        trade_no, amount, ..
    } = event
        && !paid_tried
        && let Some(applied) = mark_paid(tx, &at, trade_no, *amount, events).await?
    {
        return Ok(applied);
    }
    for _ in 0..JUDGEMENTS {
        let order = order_in(tx, out_trade_no).await?;
        let refund = match (refund_no(event), &order) {
            (Some(no), Some(_)) => refund_in(tx, no).await?,
            _ => None,
        };
        let decision = judge(event, channel, order.as_ref(), refund.as_ref());
        if let Some(applied) = execute(tx, &at, decision, order.as_ref(), events).await? {
            return Ok(applied);
        }
    }
    // Not reached while states only move forward; an error is not acknowledged, so the
    // provider sends the notification again.
    Err(StoreError::Conflict)
}

/// The refund a notification is about, if any.
fn refund_no(event: &NotifyEvent) -> Option<&str> {
    match event {
        NotifyEvent::RefundSucceeded { out_refund_no, .. }
        | NotifyEvent::RefundFailed { out_refund_no, .. } => Some(out_refund_no),
        _ => None,
    }
}

/// What a notification is applied to.
struct Target<'a> {
    channel: &'a str,
    out_trade_no: &'a str,
    cause: &'a Cause,
}

/// The inbox's record of a decision that changes nothing; `None` for a change.
fn no_change(decision: &Decision<'_>) -> Option<Applied> {
    match decision {
        Decision::Duplicate => Some(verdict(Verdict::Duplicate, None)),
        Decision::Ignored => Some(verdict(Verdict::Ignored, None)),
        Decision::Refused(reason) => Some(verdict(Verdict::Refused, reason.clone())),
        Decision::MarkPaid { .. } | Decision::Close | Decision::SettleRefund { .. } => None,
    }
}

/// Carries out `decision` for the order `order` (as read before judging) in `tx`. `None`
/// when its compare-and-set did not match: the rows changed since they were read, so the
/// caller reads them and judges again.
async fn execute(
    tx: &mut Transaction<'static, Any>,
    at: &Target<'_>,
    decision: Decision<'_>,
    order: Option<&super::Order>,
    events: &mut Vec<EventRow>,
) -> Result<Option<Applied>, StoreError> {
    let (no, cause) = (at.out_trade_no, at.cause);
    match decision {
        Decision::MarkPaid {
            provider_trade_no,
            amount,
        } => mark_paid(tx, at, provider_trade_no, amount, events).await,
        Decision::Close => {
            let Some(order) = order else {
                return Ok(None);
            };
            if !closed_in(tx, no).await? {
                return Ok(None);
            }
            record_event(tx, &order.id, "closed", cause, "provider").await?;
            if forwards_events(order) {
                notify_merchant(tx, &order.id, "closed", None).await?;
            }
            Ok(Some(changed(order.id.clone())))
        }
        Decision::SettleRefund {
            out_refund_no,
            outcome,
            provider_refund_id,
            failure,
        } => Ok(settle_refund_in(
            tx,
            out_refund_no,
            outcome,
            provider_refund_id,
            failure,
            cause,
        )
        .await?
        .map(changed)),
        nothing => Ok(no_change(&nothing)),
    }
}

/// The pending → paid compare-and-set for an order of `channel` with exactly `amount`,
/// with its timeline event (deferred to `events`) and merchant fan-out. `None` when it
/// did not match.
async fn mark_paid(
    tx: &mut Transaction<'static, Any>,
    at: &Target<'_>,
    provider_trade_no: &str,
    amount: crate::money::Money,
    events: &mut Vec<EventRow>,
) -> Result<Option<Applied>, StoreError> {
    let claim = PaidClaim {
        channel: at.channel,
        out_trade_no: at.out_trade_no,
        provider_trade_no,
        paid: amount,
    };
    let Some(paid) = paid_returning(tx, claim).await? else {
        return Ok(None);
    };
    events.push(EventRow::new(
        &paid.id,
        paid.version,
        "paid",
        at.cause,
        provider_trade_no,
    ));
    if paid.forwards {
        notify_merchant(tx, &paid.id, "paid", None).await?;
    }
    Ok(Some(changed(paid.id)))
}
