//! Server functions: order search, order detail with its timeline, sync, close, refunds.
//! Each one starts with `crate::guard::require(Capability::…)`; merchants see and act on
//! only the orders they created (`orders.creator == username`).
//!
//! Mutations are plain `<form method="post">`s to these endpoints (no JavaScript needed):
//! each answers with a redirect to the order page carrying `?ok=` or `?error=` codes, so a
//! browser with and without JavaScript gets the same page.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use paydesk_core::order::{OrderStatus, RefundStatus};
use serde::{Deserialize, Serialize};

/// Orders per page of the orders list.
pub const PAGE_SIZE: i64 = 50;

/// The orders page's filters exactly as its GET form sends them; empty = unset. The same
/// text goes to the CSV export, so the export is always "what the page shows".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    /// out_trade_no (also the merchant's own order number) or the provider's trade number.
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

#[cfg(feature = "ssr")]
pub mod server {
    //! The server side of the filters: text to a store search, with merchant scoping.
    use super::*;
    pub use crate::server_fns::error::BadInput;
    use paydesk_core::money::{Currency, Money};
    use paydesk_core::store::{Order, OrderSearch, Refund, User};

    /// Turns the form's text into a search, or the filter the page explains.
    /// Merchants are always limited to their own orders, whatever the form says.
    pub fn to_search(q: &OrderQuery, user: &User, limit: i64) -> Result<OrderSearch, BadInput> {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let status = match q.status.as_str() {
            "" => None,
            s => Some(s.parse::<OrderStatus>().map_err(|_| BadInput::Status)?),
        };
        let currency = match q.currency.as_str() {
            "" => None,
            c => {
                Some(Currency::from_code(&c.to_ascii_uppercase()).map_err(|_| BadInput::Currency)?)
            }
        };
        let amount = |s: &str| -> Result<Option<i64>, BadInput> {
            if s.is_empty() {
                return Ok(None);
            }
            Money::parse_decimal(s, currency.unwrap_or(Currency::Cny))
                .map(|m| Some(m.minor()))
                .map_err(|_| BadInput::Amount)
        };
        let (min_minor, max_minor) = (amount(&q.min)?, amount(&q.max)?);
        // An amount only means something in one currency.
        let currency =
            currency.or((min_minor.is_some() || max_minor.is_some()).then_some(Currency::Cny));
        let day = |s: &str| -> Result<Option<i64>, BadInput> {
            if s.is_empty() {
                return Ok(None);
            }
            parse_day(s).map(Some).ok_or(BadInput::Date)
        };
        let from_ms = day(&q.from)?;
        // The "to" day is inclusive: stop at the start of the next day.
        let to_ms = day(&q.to)?.map(|t| t + 86_400_000);
        let after = match q.after.as_str() {
            "" => None,
            c => Some(parse_cursor(c).ok_or(BadInput::Cursor)?),
        };
        let creator = match paydesk_core::role::search_scope(user.role, &user.username) {
            Some(own) => Some(own.to_string()),
            None => opt(&q.creator),
        };
        Ok(OrderSearch {
            number: opt(&q.q),
            status,
            channel: opt(&q.channel),
            currency: currency.map(|c| c.code().to_string()),
            min_minor,
            max_minor,
            from_ms,
            to_ms,
            creator,
            oldest_first: q.oldest_first(),
            after,
            limit,
        })
    }

    /// Whether `user` may see (and act on, role permitting) `order`: `role::visible_to`
    /// for service.
    pub fn may_see(user: &User, order: &Order) -> bool {
        use paydesk_core::role::{OrderPurpose, Viewer, visible_to};
        let viewer = Viewer::User {
            role: user.role,
            username: &user.username,
        };
        visible_to(
            viewer,
            OrderPurpose::Service,
            &order.creator,
            order.api_key_id.as_deref(),
        )
    }

    pub fn order_row(o: &Order) -> OrderRow {
        OrderRow {
            out_trade_no: o.out_trade_no.clone(),
            provider_trade_no: o.provider_trade_no.clone(),
            channel: o.channel.clone(),
            subject: o.subject.clone(),
            amount_minor: o.amount.minor(),
            refunded_minor: o.refunded_minor,
            currency: o.amount.currency().code().to_string(),
            status: o.status,
            creator: o.creator.clone(),
            created_at: o.created_at,
        }
    }

    /// Everything that happened to `order`, merged by time (oldest first). Provider URLs
    /// were masked before they were stored; merchant URLs are masked here; notification
    /// bodies and headers are not shown.
    pub async fn timeline(
        store: &paydesk_core::store::Store,
        order: &Order,
        refunds: &[Refund],
    ) -> Result<Vec<TimelineEntry>, paydesk_core::store::StoreError> {
        use paydesk_core::provider::secret::mask_url;
        use paydesk_core::store::{CallFilter, InboxFilter, MerchantNotificationFilter};
        let no = Some(order.out_trade_no.clone());
        let mut out = Vec::new();
        let money = |m: &paydesk_core::money::Money| {
            crate::components::format::money(m.minor(), m.currency().code())
        };
        for e in store.order_events(&order.id).await? {
            // "created" records the bare decimal amount; shown with its currency.
            let detail = if e.kind == "created" {
                money(&order.amount)
            } else {
                e.detail
            };
            out.push(TimelineEntry {
                at: e.at,
                source: Source::Event,
                what: e.kind,
                state: None,
                detail,
                cause: Some((e.cause.kind().to_string(), e.cause.reference().to_string())),
            });
        }
        let calls = store
            .provider_calls(&CallFilter {
                out_trade_no: no.clone(),
                limit: 500,
                ..Default::default()
            })
            .await?;
        for c in calls {
            let failed =
                c.error.is_some() || c.provider_code.is_some() || c.status.is_none_or(|s| s >= 400);
            let mut detail = format!("{} {}", c.method, c.url);
            if let Some(s) = c.status {
                detail.push_str(&format!(" → HTTP {s}"));
            }
            for extra in [c.provider_code, c.error].into_iter().flatten() {
                detail.push_str(&format!(" · {extra}"));
            }
            detail.push_str(&format!(" · {} ms · #{}", c.latency_ms, c.attempt));
            out.push(TimelineEntry {
                at: c.at,
                source: Source::ProviderCall,
                what: c.operation,
                state: Some(if failed { "failed" } else { "succeeded" }.to_string()),
                detail,
                cause: None,
            });
        }
        let inbox = store
            .notifications(&InboxFilter {
                out_trade_no: no.clone(),
                limit: 500,
                ..Default::default()
            })
            .await?;
        for n in inbox {
            out.push(TimelineEntry {
                at: n.received_at,
                source: Source::Notification,
                what: n.event.unwrap_or_default(),
                state: Some(n.verdict.as_str().to_string()),
                detail: n.reason.unwrap_or_default(),
                cause: Some(("notify".to_string(), n.id)),
            });
        }
        for r in refunds {
            let mut detail = format!("{} {}", money(&r.amount), r.reason);
            if let Some(f) = &r.failure_reason {
                detail.push_str(&format!(" · {f}"));
            }
            let (kind, who) = r
                .requested_by
                .split_once(':')
                .unwrap_or((r.requested_by.as_str(), ""));
            out.push(TimelineEntry {
                at: r.created_at,
                source: Source::Refund,
                what: r.out_refund_no.clone(),
                state: Some(r.status.as_str().to_string()),
                detail: detail.trim().to_string(),
                cause: Some((kind.to_string(), who.to_string())),
            });
        }
        let forwarded = store
            .merchant_notifications(&MerchantNotificationFilter {
                order_id: Some(order.id.clone()),
                limit: 500,
                ..Default::default()
            })
            .await?;
        for m in forwarded {
            let mut detail = format!("{} · {}×", mask_url(&m.url), m.attempts);
            if let Some(e) = m.last_error {
                detail.push_str(&format!(" · {e}"));
            }
            out.push(TimelineEntry {
                at: m.created_at,
                source: Source::MerchantNotification,
                what: m.event,
                state: Some(m.status.as_str().to_string()),
                detail,
                cause: None,
            });
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }

    /// Sends the browser back to the order page with `?{key}={code}` (a 302 without
    /// JavaScript; a client-side navigation with it).
    pub fn back_to_order(no: &str, key: &str, code: &str) {
        leptos_axum::redirect(&format!("/orders/{}?{key}={}", encode(no), encode(code)));
    }

    /// The order `no`, if `user` may see it; 404 otherwise (never "exists but not yours").
    pub async fn visible_order(caller: &crate::guard::Caller, no: &str) -> Result<Order, AppError> {
        match caller.store.order(no).await {
            Ok(Some(o)) if may_see(&caller.user, &o) => Ok(o),
            Ok(_) => Err(crate::guard::not_found()),
            Err(e) => Err(crate::guard::internal(e)),
        }
    }

    pub fn refund_row(r: &Refund, out_trade_no: &str) -> RefundRow {
        RefundRow {
            out_refund_no: r.out_refund_no.clone(),
            out_trade_no: out_trade_no.to_string(),
            amount_minor: r.amount.minor(),
            currency: r.amount.currency().code().to_string(),
            reason: r.reason.clone(),
            status: r.status,
            failure_reason: r.failure_reason.clone(),
            provider_refund_id: r.provider_refund_id.clone(),
            requested_by: r.requested_by.clone(),
            created_at: r.created_at,
            awaiting_approval: r
                .approval
                .as_ref()
                .is_some_and(|a| a.state == paydesk_core::approval::ApprovalState::Awaiting),
        }
    }
}

#[server(prefix = "/rpc", endpoint = "search_orders")]
pub async fn search_orders(query: OrderQuery) -> Result<OrderPage, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let search =
        server::to_search(&query, &caller.user, PAGE_SIZE).map_err(crate::guard::invalid)?;
    let orders = caller
        .store
        .search_orders(&search)
        .await
        .map_err(crate::guard::internal)?;
    let next = (orders.len() as i64 == PAGE_SIZE)
        .then(|| orders.last().map(|o| cursor(o.created_at, &o.id)))
        .flatten();
    let channels = caller
        .store
        .channels()
        .await
        .map_err(crate::guard::internal)?
        .into_iter()
        .map(|c| c.name)
        .collect();
    Ok(OrderPage {
        rows: orders.iter().map(server::order_row).collect(),
        next,
        channels,
        all_creators: paydesk_core::role::search_scope(caller.user.role, "").is_none(),
    })
}

#[server(prefix = "/rpc", endpoint = "order_detail")]
pub async fn order_detail(no: String) -> Result<OrderView, AppError> {
    use paydesk_core::order::OrderStatus;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let order = server::visible_order(&caller, &no).await?;
    let refunds = caller
        .store
        .refunds_of(&order.id)
        .await
        .map_err(crate::guard::internal)?;
    let timeline = server::timeline(&caller.store, &order, &refunds)
        .await
        .map_err(crate::guard::internal)?;
    Ok(OrderView {
        order: server::order_row(&order),
        qr_code: order.qr_code.clone(),
        provider_ref: order.provider_ref.clone(),
        refundable_minor: order.refundable_minor(),
        expires_at: order.expires_at,
        paid_at: order.paid_at,
        closed_at: order.closed_at,
        refunds: refunds
            .iter()
            .map(|r| server::refund_row(r, &order.out_trade_no))
            .collect(),
        timeline,
        can_refund: caller.user.role.can(Capability::Refund) && order.refundable_minor() > 0,
        can_close: caller.user.role.can(Capability::CloseOrders)
            && order.status == OrderStatus::Pending,
        refund_token: paydesk_core::payments::new_number("RF"),
    })
}

/// "Sync now": asks the provider for the order's state and records what it says.
#[server(prefix = "/rpc", endpoint = "sync_order")]
pub async fn sync_order(no: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let order = server::visible_order(&caller, &no).await?;
    match caller.payments.sync_now(&order.out_trade_no).await {
        Ok(_) => server::back_to_order(&no, "ok", "synced"),
        Err(e) => {
            tracing::info!(error = %e, out_trade_no = %no, "sync now failed");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}

/// Closes an unpaid order (at the provider first). Merchants may close their own orders.
#[server(prefix = "/rpc", endpoint = "close_order")]
pub async fn close_order(no: String) -> Result<(), AppError> {
    use paydesk_core::order::Cause;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::CloseOrders).await?;
    let order = server::visible_order(&caller, &no).await?;
    let cause = Cause::User(caller.user.username.clone());
    match caller.payments.close(&order.out_trade_no, &cause).await {
        Ok(_) => server::back_to_order(&no, "ok", "closed"),
        Err(e) => {
            tracing::info!(error = %e, out_trade_no = %no, "close failed");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}

/// Refunds `amount` (a decimal in the order's currency) after the confirmation step.
/// `token` is the refund number chosen when the confirmation was shown: posting the same
/// confirmation twice (reload, double click) refunds once.
#[server(prefix = "/rpc", endpoint = "refund_order")]
pub async fn refund_order(
    no: String,
    amount: String,
    reason: String,
    token: String,
) -> Result<(), AppError> {
    use paydesk_core::money::Money;
    use paydesk_core::order::Cause;
    use paydesk_core::payments::RefundInput;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Refund).await?;
    let order = server::visible_order(&caller, &no).await?;
    let Ok(money) = Money::parse_decimal(amount.trim(), order.amount.currency()) else {
        server::back_to_order(&no, "error", "bad_amount");
        return Ok(());
    };
    if !order.status.is_refundable() {
        server::back_to_order(&no, "error", "not_paid");
        return Ok(());
    }
    if money.minor() > order.refundable_minor() {
        server::back_to_order(&no, "error", "over_refund");
        return Ok(());
    }
    let input = RefundInput {
        amount: money,
        reason: reason.trim().to_string(),
        out_refund_no: (!token.is_empty()).then_some(token),
    };
    let cause = Cause::User(caller.user.username.clone());
    match caller.payments.refund(&no, input, &cause).await {
        Ok(r) => server::back_to_order(&no, "ok", &crate::server_fns::approvals::outcome_code(&r)),
        Err(e) => {
            tracing::info!(error = %e, out_trade_no = %no, "refund refused");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}

/// Retries a failed refund as a new refund of the same amount.
#[server(prefix = "/rpc", endpoint = "retry_refund")]
pub async fn retry_refund(out_refund_no: String) -> Result<(), AppError> {
    use paydesk_core::order::Cause;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Refund).await?;
    let failed = caller
        .store
        .refund(&out_refund_no)
        .await
        .map_err(crate::guard::internal)?
        .ok_or_else(crate::guard::not_found)?;
    let order = caller
        .store
        .order_by_id(&failed.order_id)
        .await
        .map_err(crate::guard::internal)?;
    let no = order.out_trade_no;
    let cause = Cause::User(caller.user.username.clone());
    match caller.payments.retry_refund(&out_refund_no, &cause).await {
        Ok(r) => server::back_to_order(&no, "ok", &crate::server_fns::approvals::outcome_code(&r)),
        Err(e) => {
            tracing::info!(error = %e, %out_refund_no, "refund retry refused");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}

/// The refunds list, newest first; `status` empty = all. `before` is a keyset cursor.
#[server(prefix = "/rpc", endpoint = "list_refunds")]
pub async fn list_refunds(status: String, before: String) -> Result<RefundPage, AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::RefundSearch;
    let caller = crate::guard::require(Capability::Refund).await?;
    let status = match status.trim() {
        "" => None,
        s => Some(
            s.parse::<RefundStatus>()
                .map_err(|_| crate::guard::invalid(crate::server_fns::error::BadInput::Status))?,
        ),
    };
    let before = match before.trim() {
        "" => None,
        c => Some(
            parse_cursor(c)
                .ok_or_else(|| crate::guard::invalid(crate::server_fns::error::BadInput::Cursor))?,
        ),
    };
    let creator =
        paydesk_core::role::search_scope(caller.user.role, &caller.user.username).map(String::from);
    let rows = caller
        .store
        .search_refunds(&RefundSearch {
            status,
            creator,
            before,
            limit: PAGE_SIZE,
        })
        .await
        .map_err(crate::guard::internal)?;
    let next = (rows.len() as i64 == PAGE_SIZE)
        .then(|| {
            rows.last()
                .map(|r| cursor(r.refund.created_at, &r.refund.id))
        })
        .flatten();
    Ok(RefundPage {
        rows: rows
            .iter()
            .map(|r| server::refund_row(&r.refund, &r.out_trade_no))
            .collect(),
        next,
        can_retry: true,
    })
}
