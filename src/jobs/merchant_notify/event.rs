//! The events forwarded to merchants: their names and the JSON body the merchant receives.

use serde_json::json;

use crate::store::{Order, Refund};
use crate::time::now_ms;

pub const EVENT_ORDER_PAID: &str = "order.paid";
pub const EVENT_ORDER_CLOSED: &str = "order.closed";
pub const EVENT_REFUND_SUCCEEDED: &str = "refund.succeeded";
pub const EVENT_REFUND_FAILED: &str = "refund.failed";

/// The JSON body of an event, as the merchant receives it:
///
/// ```json
/// {"type": "refund.succeeded", "created": 1763900000,
///  "data": {"out_trade_no": "T1", "status": "partially_refunded", "amount": 1000,
///           "currency": "CNY", "refunded_amount": 300, "provider_trade_no": "2026…",
///           "paid_at": 1763899000,
///           "refund": {"out_refund_no": "R1", "amount": 300, "status": "succeeded",
///                      "failure_reason": null}}}
/// ```
///
/// Amounts are integers in minor units (fen, cents); times are Unix seconds; `refund` is
/// `null` for order events. Pass the order (and refund) as they are after the transition.
pub fn event_body(event: &str, order: &Order, refund: Option<&Refund>) -> String {
    let secs = |ms: i64| ms.div_euclid(1000);
    let refund = refund.map(|r| {
        json!({
            "out_refund_no": r.merchant_facing_no(),
            "amount": r.amount.minor(),
            "status": r.status.as_str(),
            "failure_reason": r.failure_reason,
        })
    });
    json!({
        "type": event,
        "created": secs(now_ms()),
        "data": {
            "out_trade_no": order.merchant_facing_no(),
            "status": order.status.as_str(),
            "amount": order.amount.minor(),
            "currency": order.amount.currency().code(),
            "refunded_amount": order.refunded_minor,
            "provider_trade_no": order.provider_trade_no,
            "paid_at": order.paid_at.map(secs),
            "refund": refund,
        },
    })
    .to_string()
}
