//! An order's timeline: its state changes, provider calls, provider notifications, refunds
//! and the events forwarded to the merchant. The page tells it as a story
//! (`pages/orders/detail/story.rs`): causal order, calls under the step that made them.

use crate::server_fns::orders::{Source, TimelineEntry};
use paydesk_core::money::Money;
use paydesk_core::store::{
    CallFilter, InboxFilter, MerchantNotificationFilter, Order, Refund, Store, StoreError,
};

/// Rows read per source: far more than one order ever has.
const PER_SOURCE: i64 = 500;

/// Everything that happened to `order`: first its changes in the order they were made
/// (by sequence, not by clock: a refund's "succeeded" is never before its "requested"),
/// then the rest, each oldest first. Provider URLs were masked before they were stored;
/// merchant URLs are masked here; notification bodies and headers are not shown.
pub async fn timeline(
    store: &Store,
    order: &Order,
    refunds: &[Refund],
) -> Result<Vec<TimelineEntry>, StoreError> {
    let mut out = events(store, order).await?;
    out.extend(provider_calls(store, order).await?);
    out.extend(notifications(store, order).await?);
    out.extend(refunds.iter().map(refund_entry));
    out.extend(forwarded(store, order).await?);
    // Stable, and only after the changes: those keep their sequence.
    let changes = out.iter().filter(|e| e.source == Source::Event).count();
    out[changes..].sort_by_key(|e| e.at);
    Ok(out)
}

fn money(m: &Money) -> String {
    crate::components::format::money(m.minor(), m.currency().code())
}

/// The order's own state changes (`order_events`, by sequence).
async fn events(store: &Store, order: &Order) -> Result<Vec<TimelineEntry>, StoreError> {
    let events = store.order_events(&order.id).await?;
    Ok(events
        .into_iter()
        .map(|e| TimelineEntry {
            at: e.at,
            source: Source::Event,
            // "created" records the bare decimal amount; shown with its currency.
            detail: if e.kind == "created" {
                money(&order.amount)
            } else {
                e.detail
            },
            what: e.kind,
            state: None,
            cause: Some((e.cause.kind().to_string(), e.cause.reference().to_string())),
        })
        .collect())
}

/// The calls paydesk made to the provider about the order.
async fn provider_calls(store: &Store, order: &Order) -> Result<Vec<TimelineEntry>, StoreError> {
    let calls = store
        .provider_calls(&CallFilter {
            out_trade_no: Some(order.out_trade_no.clone()),
            limit: PER_SOURCE,
            ..Default::default()
        })
        .await?;
    Ok(calls
        .into_iter()
        .map(|c| {
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
            TimelineEntry {
                at: c.at,
                source: Source::ProviderCall,
                what: c.operation,
                state: Some(if failed { "failed" } else { "succeeded" }.to_string()),
                detail,
                cause: None,
            }
        })
        .collect())
}

/// The notifications the provider sent about the order (verdict and reason only).
async fn notifications(store: &Store, order: &Order) -> Result<Vec<TimelineEntry>, StoreError> {
    let inbox = store
        .notifications(&InboxFilter {
            out_trade_no: Some(order.out_trade_no.clone()),
            limit: PER_SOURCE,
            ..Default::default()
        })
        .await?;
    Ok(inbox
        .into_iter()
        .map(|n| TimelineEntry {
            at: n.received_at,
            source: Source::Notification,
            what: n.event.unwrap_or_default(),
            state: Some(n.verdict.as_str().to_string()),
            detail: n.reason.unwrap_or_default(),
            cause: Some(("notify".to_string(), n.id)),
        })
        .collect())
}

/// A refund request of the order.
fn refund_entry(r: &Refund) -> TimelineEntry {
    let mut detail = format!("{} {}", money(&r.amount), r.reason);
    if let Some(f) = &r.failure_reason {
        detail.push_str(&format!(" · {f}"));
    }
    let (kind, who) = r
        .requested_by
        .split_once(':')
        .unwrap_or((r.requested_by.as_str(), ""));
    TimelineEntry {
        at: r.created_at,
        source: Source::Refund,
        what: r.out_refund_no.clone(),
        state: Some(r.status.as_str().to_string()),
        detail: detail.trim().to_string(),
        cause: Some((kind.to_string(), who.to_string())),
    }
}

/// The events forwarded to the merchant's system (its URL masked).
async fn forwarded(store: &Store, order: &Order) -> Result<Vec<TimelineEntry>, StoreError> {
    use paydesk_core::provider::secret::mask_url;
    let forwarded = store
        .merchant_notifications(&MerchantNotificationFilter {
            order_id: Some(order.id.clone()),
            limit: PER_SOURCE,
            ..Default::default()
        })
        .await?;
    Ok(forwarded
        .into_iter()
        .map(|m| {
            let mut detail = format!("{} · {}×", mask_url(&m.url), m.attempts);
            if let Some(e) = m.last_error {
                detail.push_str(&format!(" · {e}"));
            }
            TimelineEntry {
                at: m.created_at,
                source: Source::MerchantNotification,
                what: m.event,
                state: Some(m.status.as_str().to_string()),
                detail,
                cause: None,
            }
        })
        .collect())
}
