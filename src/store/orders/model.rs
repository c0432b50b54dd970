//! The order and refund rows, the results of asking for a change, and how rows are read.

use crate::money::{Currency, Money};
use crate::order::{Cause, OrderStatus, PayMethod, RefundStatus};
use crate::payments::judge;
use crate::store::StoreError;
use crate::store::order_stats::OrderFacts;
use sqlx::Row;
use sqlx::any::AnyRow;

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
    pub pay_method: PayMethod,
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
    pub pay_method: PayMethod,
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
    pub approval: Option<crate::store::refund_approval::RefundApproval>,
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

pub(in crate::store) const ORDER_COLUMNS: &str = "id, out_trade_no, channel, amount_minor, currency, subject, status, provider_trade_no, \
     qr_code, creator, merchant_notify_url, created_at, updated_at, expires_at, paid_at, closed_at, refunded_minor, \
     refund_reserved_minor, version, provider_ref, api_key_id, next_query_at, query_count, merchant_no, pay_method";

pub(in crate::store) const REFUND_COLUMNS: &str = "id, out_refund_no, order_id, amount_minor, currency, reason, status, provider_refund_id, \
     failure_reason, requested_by, created_at, merchant_no, approval, approval_by, approval_reason, approval_at";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn money(row: &AnyRow) -> Result<Money, StoreError> {
    let currency: String = row.try_get("currency")?;
    let currency = Currency::from_code(&currency).map_err(corrupt)?;
    Money::new(row.try_get("amount_minor")?, currency).map_err(corrupt)
}

pub(in crate::store) fn order_from_row(row: &AnyRow) -> Result<Order, StoreError> {
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
        pay_method: {
            let m: String = row.try_get("pay_method")?;
            PayMethod::parse(&m).ok_or_else(|| corrupt(format!("pay_method {m}")))?
        },
    })
}

pub(in crate::store) fn refund_from_row(row: &AnyRow) -> Result<Refund, StoreError> {
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
        approval: crate::store::refund_approval::approval_from_row(row)?,
    })
}

/// The columns [`stats_facts`] reads, for a `RETURNING`.
pub(super) const STATS_FACTS: &str = "channel, currency, creator, created_at, amount_minor";

/// What the overview's roll-up needs of a changed order (a row with [`STATS_FACTS`]).
pub(super) fn stats_facts(row: &AnyRow) -> Result<OrderFacts, StoreError> {
    Ok(OrderFacts {
        channel: row.try_get("channel")?,
        currency: row.try_get("currency")?,
        creator: row.try_get("creator")?,
        created_at: row.try_get("created_at")?,
        amount_minor: row.try_get("amount_minor")?,
    })
}

pub(in crate::store) fn paid_text(m: Money) -> String {
    judge::money_text(m)
}

pub(in crate::store) fn cause_text(cause: &Cause) -> String {
    match cause.reference() {
        "" => cause.kind().to_string(),
        r => format!("{}:{r}", cause.kind()),
    }
}
