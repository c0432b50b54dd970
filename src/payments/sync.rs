//! Active query (补单) and expiry. Notifications can be lost or late, so pending orders are
//! asked about on a schedule that starts fast and slows down ([`super::PaymentSettings`]);
//! an order past its expiry is closed at the provider and then here. What a query learns is
//! applied with the same compare-and-set transitions as a notification, so a query racing a
//! notification still yields one transition.

use super::{PaymentError, Payments};
use crate::order::{Cause, OrderStatus, PayMethod};
use crate::provider::{ProviderError, TradeRef, TradeState, for_trade};
use crate::store::{Order, Transition};
use crate::time::now_ms;

/// How long a claimed order is leased to this worker.
const LEASE_MS: i64 = 60_000;
/// Expired orders whose provider close keeps failing are closed here anyway after this long
/// (a later payment notification is then refused and flagged for a person).
const CLOSE_GRACE_MS: i64 = 30 * 60_000;

/// What one pass of the query job did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub queried: usize,
    pub paid: usize,
    pub closed: usize,
    pub errors: usize,
    pub refunds_settled: usize,
    /// Refunds the provider had no record of, sent again under the same number.
    pub refunds_resubmitted: usize,
}

fn trade(order: &Order) -> TradeRef {
    TradeRef {
        out_trade_no: order.out_trade_no.clone(),
        provider_ref: order.provider_ref.clone(),
    }
}

impl Payments {
    /// Asks the provider about one order and applies what it says. `None` when there was
    /// nothing to apply (still pending, or the order is not pending).
    pub async fn sync_order(&self, order: &Order) -> Result<Option<Transition>, PaymentError> {
        if order.status != OrderStatus::Pending {
            return Ok(None);
        }
        let channel = self.channels.resolve(&order.channel).await?;
        let status =
            match for_trade(&order.out_trade_no, channel.provider.query(&trade(order))).await {
                Ok(s) => s,
                // Not created at the provider yet (or never): still pending as far as we know.
                Err(ProviderError::Business { .. }) if order.qr_code.is_none() => return Ok(None),
                Err(e) => return Err(e.into()),
            };
        match status.state {
            TradeState::Paid | TradeState::Refunded => {
                let (Some(trade_no), Some(amount)) = (status.trade_no, status.amount) else {
                    return Err(PaymentError::ProviderUnavailable {
                        detail: "a paid order without transaction id or amount".into(),
                        cause: crate::channel::ConnectionCheck::Other,
                    });
                };
                Ok(Some(
                    self.store
                        .mark_paid(&order.out_trade_no, &trade_no, amount, &Cause::Query)
                        .await?,
                ))
            }
            TradeState::Closed => Ok(Some(
                self.store
                    .close_order(&order.out_trade_no, &Cause::Query)
                    .await?,
            )),
            TradeState::Pending | TradeState::Other(_) => Ok(None),
        }
    }

    /// "Sync now" from the dashboard: query, and say what the order is now.
    pub async fn sync_now(&self, out_trade_no: &str) -> Result<Order, PaymentError> {
        let order = self
            .store
            .order(out_trade_no)
            .await?
            .ok_or(PaymentError::OrderNotFound)?;
        match self.sync_order(&order).await? {
            Some(t) => Ok(t.order().clone()),
            None => Ok(order),
        }
    }

    /// One pass of the active-query job: every due pending order (and pending refund) is
    /// queried once; expired orders are closed.
    pub async fn run_due_queries(&self, limit: i64) -> SyncReport {
        let mut report = SyncReport::default();
        let now = now_ms();
        let due = match self.store.claim_due_queries(now, limit, LEASE_MS).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim orders to query");
                report.errors += 1;
                return report;
            }
        };
        for order in due {
            report.queried += 1;
            self.query_one(&order, now, &mut report).await;
        }
        self.run_due_refund_queries(limit, &mut report).await;
        report
    }

    async fn query_one(&self, order: &Order, now: i64, report: &mut SyncReport) {
        let out = &order.out_trade_no;
        match self.sync_order(order).await {
            Ok(Some(t)) => {
                match t.order().status {
                    OrderStatus::Pending => {}
                    OrderStatus::Closed => report.closed += 1,
                    _ => report.paid += 1,
                }
                if t.order().status != OrderStatus::Pending {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => {
                report.errors += 1;
                tracing::info!(error = %e, out_trade_no = %out, "active query failed");
            }
        }
        if now >= order.expires_at && self.expire(order, now).await {
            report.closed += 1;
            return;
        }
        let next = match order.pay_method {
            PayMethod::Qr => self.settings.next_query_at(order.created_at, now),
            PayMethod::Code => now + self.settings.code_query_ms,
        };
        if let Err(e) = self.store.schedule_query(out, Some(next)).await {
            tracing::warn!(error = %e, out_trade_no = %out, "cannot reschedule the query");
        }
    }

    /// Closes an expired order at the provider, then here. False when it stays pending.
    async fn expire(&self, order: &Order, now: i64) -> bool {
        let out = &order.out_trade_no;
        let at_provider = match self.channels.resolve(&order.channel).await {
            Ok(c) => for_trade(
                out,
                super::checkout::stop_at_provider(&c, order, &trade(order)),
            )
            .await
            .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = &at_provider
            && now < order.expires_at + CLOSE_GRACE_MS
        {
            tracing::info!(error = %e, out_trade_no = %out, "closing an expired order at the provider failed; will retry");
            return false;
        }
        let why = match at_provider {
            Ok(()) => "expired".to_string(),
            Err(e) => format!("expired; the provider could not close it: {e}"),
        };
        match self.store.close_order(out, &Cause::System(why)).await {
            Ok(Transition::Applied(_)) => true,
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(error = %e, out_trade_no = %out, "cannot close an expired order");
                false
            }
        }
    }
}
