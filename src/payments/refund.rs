//! Refunds: reserve the amount in the store (the bound that keeps pending + succeeded
//! refunds within what was paid, whatever runs concurrently), then ask the provider, then
//! settle. An answer that does not decide (timeout, 5xx, "processing") leaves the refund
//! pending; refund notifications and the refund query job settle it later.

use super::sync::SyncReport;
use super::{NumberKind, PaymentError, Payments, key_scoped_number, new_number, valid_number};
use crate::money::Money;
use crate::order::{Cause, RefundStatus};
use crate::provider::{
    ProviderError, ProviderRefundRequest, ProviderRefundStatus as ProviderRefund, RefundRef,
    RefundState, TradeRef, for_trade,
};
use crate::store::{self, Order, Refund};
use crate::time::now_ms;

const LEASE_MS: i64 = 60_000;
const MAX_QUERY_INTERVAL_MS: i64 = 5 * 60_000;

#[derive(Debug, Clone)]
pub struct RefundInput {
    pub amount: Money,
    pub reason: String,
    /// The caller's refund number (idempotent: the same number returns the same refund).
    pub out_refund_no: Option<String>,
}

/// The request's reason, trimmed, once its number and reason are within bounds.
fn checked_reason(input: &RefundInput) -> Result<&str, PaymentError> {
    if input
        .out_refund_no
        .as_deref()
        .is_some_and(|n| !valid_number(n))
    {
        return Err(PaymentError::invalid(
            "out_refund_no",
            "6 to 32 of 0-9, A-Z, a-z, _ and -",
        ));
    }
    let reason = input.reason.trim();
    if reason.chars().count() > 80 {
        return Err(PaymentError::invalid("reason", "at most 80 characters"));
    }
    Ok(reason)
}

/// The new refund's `out_refund_no`, and the number the merchant's API key chose for it
/// (if it chose one). A number chosen through an API key lives in that key's namespace
/// (see `key_scoped_number`); the dashboard's numbers are its own.
fn refund_number(chosen: Option<String>, cause: &Cause, order: &Order) -> (String, Option<String>) {
    match (chosen, cause, &order.api_key_id) {
        (Some(n), Cause::ApiKey(_), Some(key)) => {
            (key_scoped_number(key, NumberKind::Refund, &n), Some(n))
        }
        (Some(n), _, _) => (n, None),
        (None, _, _) => (new_number("RF"), None),
    }
}

impl Payments {
    pub async fn refund(
        &self,
        out_trade_no: &str,
        input: RefundInput,
        cause: &Cause,
    ) -> Result<Refund, PaymentError> {
        let reason = checked_reason(&input)?.to_owned();
        let order = self
            .store
            .order(out_trade_no)
            .await?
            .ok_or(PaymentError::OrderNotFound)?;
        let (out_refund_no, merchant_no) = refund_number(input.out_refund_no, cause, &order);
        if input.amount.currency() != order.amount.currency() {
            return Err(PaymentError::invalid(
                "currency",
                format!("the order is in {}", order.amount.currency().code()),
            ));
        }
        if input.amount.minor() <= 0 {
            return Err(PaymentError::invalid("amount", "must be positive"));
        }
        let hold = self
            .must_hold(&out_refund_no, &order, input.amount, cause)
            .await?;
        let refund = match self
            .store
            .request_refund_numbered(
                out_trade_no,
                &out_refund_no,
                merchant_no.as_deref(),
                input.amount,
                &reason,
                cause,
                hold,
            )
            .await?
        {
            store::RefundRequest::Created(r) => r,
            store::RefundRequest::Existing(r) => {
                if r.order_id != order.id || r.amount != input.amount {
                    return Err(PaymentError::invalid(
                        "out_refund_no",
                        "already used for another refund",
                    ));
                }
                return Ok(r);
            }
            store::RefundRequest::Refused { reason } => {
                return Err(PaymentError::NotAllowed(reason));
            }
        };
        self.audit_refund_request(cause, out_trade_no, &refund, &reason, hold)
            .await;
        if !hold {
            self.submit(&order, &refund, cause).await;
        }
        Ok(self
            .store
            .refund(&refund.out_refund_no)
            .await?
            .unwrap_or(refund))
    }

    /// Records who asked for `refund` (and whether it waits for approval) in the audit log.
    async fn audit_refund_request(
        &self,
        cause: &Cause,
        out_trade_no: &str,
        refund: &Refund,
        reason: &str,
        hold: bool,
    ) {
        let action = if hold {
            "refund_awaiting_approval"
        } else {
            "refund_requested"
        };
        let detail = format!(
            "{} {} {} {reason}",
            refund.out_refund_no,
            refund.amount.to_decimal_string(),
            refund.amount.currency().code()
        );
        self.audit(cause, action, out_trade_no, &detail).await;
    }

    /// A failed refund is retried as a new refund (new number, same amount and reason): the
    /// failed one keeps its reason on record.
    pub async fn retry_refund(
        &self,
        out_refund_no: &str,
        cause: &Cause,
    ) -> Result<Refund, PaymentError> {
        let failed = self
            .store
            .refund(out_refund_no)
            .await?
            .ok_or(PaymentError::RefundNotFound)?;
        if failed.status != RefundStatus::Failed {
            return Err(PaymentError::NotAllowed(format!(
                "only failed refunds can be retried; this one is {}",
                failed.status.as_str()
            )));
        }
        let order = self.store.order_by_id(&failed.order_id).await?;
        self.refund(
            &order.out_trade_no,
            RefundInput {
                amount: failed.amount,
                reason: failed.reason.clone(),
                out_refund_no: None,
            },
            cause,
        )
        .await
    }

    /// Sends a reserved refund to the provider and settles what its answer decides.
    pub(super) async fn submit(&self, order: &Order, refund: &Refund, cause: &Cause) {
        let out = &refund.out_refund_no;
        let channel = match self.channels.resolve(&order.channel).await {
            Ok(c) => c,
            Err(e) => {
                self.settle(out, Err(PaymentError::from(e)), cause).await;
                return;
            }
        };
        let req = ProviderRefundRequest {
            trade: TradeRef {
                out_trade_no: order.out_trade_no.clone(),
                provider_ref: order.provider_ref.clone(),
            },
            out_refund_no: out.clone(),
            amount: refund.amount,
            total: order.amount,
            reason: (!refund.reason.is_empty()).then(|| refund.reason.clone()),
            notify_url: Some(self.channels.notify_url(channel.kind, &channel.row.name)),
        };
        let answer = for_trade(&order.out_trade_no, channel.provider.refund(&req)).await;
        self.settle(out, answer.map_err(PaymentError::from), cause)
            .await;
    }

    async fn settle(
        &self,
        out_refund_no: &str,
        answer: Result<ProviderRefund, PaymentError>,
        cause: &Cause,
    ) {
        let result = match answer {
            Ok(s) => match s.state {
                RefundState::Succeeded => self
                    .store
                    .complete_refund(out_refund_no, s.refund_id.as_deref(), cause)
                    .await
                    .map(drop),
                RefundState::Failed => self
                    .store
                    .fail_refund(
                        out_refund_no,
                        "the provider reported the refund failed",
                        cause,
                    )
                    .await
                    .map(drop),
                RefundState::Processing | RefundState::NotFound | RefundState::Other(_) => {
                    self.requery(out_refund_no, 0).await
                }
            },
            // The provider said no: final, and the reason is what support needs to see.
            Err(
                e @ (PaymentError::ProviderRefused { .. }
                | PaymentError::ChannelConfig(_)
                | PaymentError::Invalid { .. }),
            ) => self
                .store
                .fail_refund(out_refund_no, &e.to_string(), cause)
                .await
                .map(drop),
            // Undecided (timeout, 5xx): it may have happened. Ask again later.
            Err(e) => {
                tracing::info!(error = %e, %out_refund_no, "refund outcome unknown; will query");
                self.requery(out_refund_no, 0).await
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, %out_refund_no, "cannot record a refund outcome");
        }
    }

    async fn requery(&self, out_refund_no: &str, age_ms: i64) -> Result<(), store::StoreError> {
        let wait = (self.settings.refund_query_ms + age_ms / 2).min(MAX_QUERY_INTERVAL_MS);
        self.store
            .schedule_refund_query(out_refund_no, Some(now_ms() + wait))
            .await
    }

    /// Queries due pending refunds and settles what the provider decided.
    pub(super) async fn run_due_refund_queries(&self, limit: i64, report: &mut SyncReport) {
        let now = now_ms();
        let due = match self.store.claim_due_refunds(now, limit, LEASE_MS).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim refunds to query");
                report.errors += 1;
                return;
            }
        };
        for refund in due {
            let out = refund.out_refund_no.clone();
            match self.query_refund(&refund).await {
                Ok(s) if matches!(s.state, RefundState::Succeeded | RefundState::Failed) => {
                    self.settle(&out, Ok(s), &Cause::Query).await;
                    report.refunds_settled += 1;
                }
                // The first request never arrived: send it again under the same number
                // (idempotent at every provider), which settles or reschedules it.
                Ok(s) if s.state == RefundState::NotFound => match self.order_of(&refund).await {
                    Ok(order) => {
                        tracing::info!(out_refund_no = %out, "provider has no such refund; sending it again");
                        self.submit(&order, &refund, &Cause::Query).await;
                        report.refunds_resubmitted += 1;
                    }
                    Err(e) => {
                        report.errors += 1;
                        tracing::warn!(error = %e, out_refund_no = %out, "cannot resubmit refund");
                        let _ = self.requery(&out, now - refund.created_at).await;
                    }
                },
                Ok(_) => {
                    let _ = self.requery(&out, now - refund.created_at).await;
                }
                Err(e) => {
                    report.errors += 1;
                    tracing::info!(error = %e, out_refund_no = %out, "refund query failed");
                    let _ = self.requery(&out, now - refund.created_at).await;
                }
            }
        }
    }

    async fn order_of(&self, refund: &Refund) -> Result<Order, PaymentError> {
        Ok(self.store.order_by_id(&refund.order_id).await?)
    }

    async fn query_refund(&self, refund: &Refund) -> Result<ProviderRefund, PaymentError> {
        let order = self.order_of(refund).await?;
        let channel = self.channels.resolve(&order.channel).await?;
        let r = RefundRef {
            trade: TradeRef {
                out_trade_no: order.out_trade_no.clone(),
                provider_ref: order.provider_ref.clone(),
            },
            out_refund_no: refund.out_refund_no.clone(),
            refund_id: refund.provider_refund_id.clone(),
        };
        for_trade(&order.out_trade_no, channel.provider.query_refund(&r))
            .await
            .map_err(|e: ProviderError| e.into())
    }
}
