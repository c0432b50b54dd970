//! The built-in "needs attention" view (`is:attention`): orders a person should look at.
//!
//! - pending for more than [`PENDING_TOO_LONG_MS`] (the customer may be stuck);
//! - with a failed refund, or a refund awaiting approval;
//! - with a refused provider notification (a payment after the order closed, an amount or
//!   channel that disagrees: `payments::judge`).
//!
//! One `IN (… UNION …)` of ids, so each part is read through its own index and the few
//! orders they name are sorted into one page (an `OR` of subqueries would test every order).

use super::{Arg, Conds};

/// Pending longer than this needs attention (ms).
pub const PENDING_TOO_LONG_MS: i64 = 10 * 60 * 1000;

pub(super) fn condition(at: i64, c: &mut Conds) {
    let before = c.arg(Arg::Int(at - PENDING_TOO_LONG_MS));
    c.raw(format!(
        "id IN (SELECT id FROM orders WHERE status = 'pending' AND created_at < ${before} \
         UNION SELECT order_id FROM refunds WHERE status = 'failed' \
         UNION SELECT order_id FROM refunds WHERE approval = 'awaiting' \
         UNION SELECT o.id FROM notify_inbox n JOIN orders o ON o.out_trade_no = n.out_trade_no \
         WHERE n.status = 'refused')"
    ));
}
