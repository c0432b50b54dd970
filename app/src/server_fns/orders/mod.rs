//! Server functions: order search, order detail with its timeline, sync, close, refunds.
//! Each one starts with `crate::guard::require(Capability::…)`; merchants see and act on
//! only the orders they created (`orders.creator == username`).
//!
//! Mutations are plain `<form method="post">`s to these endpoints (no JavaScript needed):
//! each answers with a redirect to the order page carrying `?ok=` or `?error=` codes, so a
//! browser with and without JavaScript gets the same page.

mod detail;
mod refunds;
#[cfg(feature = "ssr")]
pub mod server;

pub use detail::*;
pub use refunds::*;

use paydesk_core::order::{OrderStatus, RefundStatus};
use serde::{Deserialize, Serialize};

/// Orders per page of the orders list.
pub const PAGE_SIZE: i64 = 50;

/// The orders page's filters exactly as its GET form sends them; empty = unset. The same
/// text goes to the CSV export, so the export is always "what the page shows".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    /// The search box: fragments of the order number, the provider's trade number or the
    /// subject, amounts and `field:value` terms (`paydesk_core::order_query`).
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub currency: String,
    /// Decimal amounts in `currency` (CNY when none is chosen).
    #[serde(default)]
    pub min: String,
    #[serde(default)]
    pub max: String,
    /// `YYYY-MM-DD` dates in UTC+8, both inclusive.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub creator: String,
    /// `oldest` for oldest first; anything else is newest first.
    #[serde(default)]
    pub sort: String,
    /// Keyset cursor: continue after this row (`{created_at}.{id}`).
    #[serde(default)]
    pub after: String,
}

/// The query parameters, in form order.
const QUERY_KEYS: [&str; 11] = [
    "q", "status", "channel", "currency", "min", "max", "from", "to", "creator", "sort", "after",
];

impl OrderQuery {
    fn fields(&self) -> [&String; 11] {
        [
            &self.q,
            &self.status,
            &self.channel,
            &self.currency,
            &self.min,
            &self.max,
            &self.from,
            &self.to,
            &self.creator,
            &self.sort,
            &self.after,
        ]
    }

    /// Reads the filters from a query map (`use_query_map`).
    pub fn from_pairs(get: impl Fn(&str) -> Option<String>) -> OrderQuery {
        let v = |k: &str| get(k).map(|s| s.trim().to_string()).unwrap_or_default();
        OrderQuery {
            q: v("q"),
            status: v("status"),
            channel: v("channel"),
            currency: v("currency"),
            min: v("min"),
            max: v("max"),
            from: v("from"),
            to: v("to"),
            creator: v("creator"),
            sort: v("sort"),
            after: v("after"),
        }
    }

    /// `q=…&status=…` with the set filters (and `after` only when `with_cursor`).
    pub fn to_query_string(&self, with_cursor: bool) -> String {
        QUERY_KEYS
            .iter()
            .zip(self.fields())
            .filter(|(k, v)| !v.is_empty() && (with_cursor || **k != "after"))
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    pub fn oldest_first(&self) -> bool {
        self.sort == "oldest"
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One row of the orders list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub out_trade_no: String,
    pub provider_trade_no: Option<String>,
    pub channel: String,
    pub subject: String,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub status: OrderStatus,
    pub creator: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPage {
    pub rows: Vec<OrderRow>,
    /// The cursor of the next page, when this page was full.
    pub next: Option<String>,
    /// Channel names for the filter.
    pub channels: Vec<String>,
    /// Whether the caller may filter by creator (support, admin).
    pub all_creators: bool,
    /// Why the search box's text was not understood (then `rows` is empty).
    #[serde(default)]
    pub problem: Option<paydesk_core::order_query::QueryError>,
}

/// A refund as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRow {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reason: String,
    pub status: RefundStatus,
    pub failure_reason: Option<String>,
    pub provider_refund_id: Option<String>,
    pub requested_by: String,
    pub created_at: i64,
    /// Reserved, waiting for another admin's approval (status is still pending).
    #[serde(default)]
    pub awaiting_approval: bool,
}

/// Where a timeline entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// A state change of the order (`order_events`).
    Event,
    /// A call to the provider (create, query, close, refund …).
    ProviderCall,
    /// A notification the provider sent us.
    Notification,
    /// A refund request.
    Refund,
    /// An event we forwarded to the merchant's system.
    MerchantNotification,
}

/// One line of the order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub source: Source,
    /// Event kind, provider operation, notification event, refund number or merchant event.
    pub what: String,
    /// Verdict, HTTP status, refund or delivery status: also the CSS state class.
    pub state: Option<String>,
    /// A masked, human-readable summary.
    pub detail: String,
    /// Who or what caused it: (`user`/`api_key`/`notify`/`query`/`system`, reference).
    pub cause: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub order: OrderRow,
    pub qr_code: Option<String>,
    pub provider_ref: Option<String>,
    pub refundable_minor: i64,
    pub expires_at: i64,
    pub paid_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub refunds: Vec<RefundRow>,
    /// Oldest first.
    pub timeline: Vec<TimelineEntry>,
    pub can_refund: bool,
    pub can_close: bool,
    /// The refund number the confirmation form submits (see `refund_order`).
    pub refund_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPage {
    pub rows: Vec<RefundRow>,
    pub next: Option<String>,
    /// Whether the caller may retry failed refunds.
    pub can_retry: bool,
}

/// A keyset cursor `{created_at}.{id}`.
pub fn cursor(created_at: i64, id: &str) -> String {
    format!("{created_at}.{id}")
}

pub fn parse_cursor(s: &str) -> Option<(i64, String)> {
    let (at, id) = s.split_once('.')?;
    let at = at.parse().ok()?;
    (!id.is_empty() && id.len() <= 64).then(|| (at, id.to_string()))
}

/// The Unix ms at which `YYYY-MM-DD` begins in UTC+8 (the offset dates in filters are read
/// in: the providers' and most users' clock), or None when it is not a real date.
pub fn parse_day(s: &str) -> Option<i64> {
    use paydesk_core::timestamp::{CHINA, day_start, parse_date};
    parse_date(s).map(|d| day_start(d, CHINA).0)
}
