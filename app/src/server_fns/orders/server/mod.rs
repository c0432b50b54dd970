//! The server side of the order server functions: the filters' text to a store search
//! (with merchant scoping), who may see an order, and the rows the pages show.

mod terms;
mod timeline;

use super::*;
use crate::server_fns::error::AppError;
pub use crate::server_fns::error::BadInput;
use paydesk_core::money::{Currency, Money};
use paydesk_core::store::{Order, OrderSearch, Refund, User};
pub use timeline::timeline;

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
        c => Some(Currency::from_code(&c.to_ascii_uppercase()).map_err(|_| BadInput::Currency)?),
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
    let mut search = OrderSearch {
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
        ..OrderSearch::default()
    };
    let query = paydesk_core::order_query::parse(&q.q).map_err(|_| BadInput::Query)?;
    terms::apply(&mut search, &query, paydesk_core::time::now_ms())?;
    if let Some(own) = paydesk_core::role::search_scope(user.role, &user.username) {
        // Merchants see their own orders, whatever `creator:` says.
        search.creator = Some(own.to_string());
    }
    Ok(search)
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
