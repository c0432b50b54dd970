//! The Stripe [`Provider`]: Checkout Sessions for QR payments, Refunds.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName};
use serde_json::Value;

use super::{StripeConfig, webhook};
use crate::money::{Currency, Money};
use crate::provider::http::{HttpClient, HttpSettings, IncomingResponse, OutgoingRequest, Retry};
use crate::provider::{
    CallSink, CreateQrRequest, HeaderMap, NotifyAck, NotifyEvent, Provider, ProviderError,
    ProviderKind, ProviderRefundRequest, ProviderRefundStatus, QrCheckout, RefundRef, RefundState,
    SharedClock, TradeRef, TradeState, TradeStatus, VerifyError, form, header_str, json_str,
};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

pub struct StripeClient {
    cfg: StripeConfig,
    http: HttpClient,
    #[allow(dead_code)]
    clock: SharedClock,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("cfg", &self.cfg)
            .finish()
    }
}

fn error_code(resp: &IncomingResponse) -> Option<String> {
    let v: Value = serde_json::from_slice(&resp.body).ok()?;
    let e = v.get("error")?;
    json_str(e, "code")
        .or_else(|| json_str(e, "type"))
        .map(str::to_string)
}

/// Stripe ids are `[A-Za-z0-9_]`; checking keeps them safe as path segments.
fn id_segment(id: &str) -> Result<&str, ProviderError> {
    if !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(id)
    } else {
        Err(ProviderError::Config("not a Stripe object id".into()))
    }
}

impl StripeClient {
    pub fn new(
        cfg: StripeConfig,
        settings: HttpSettings,
        sink: Arc<dyn CallSink>,
        clock: SharedClock,
    ) -> Result<StripeClient, ProviderError> {
        let http = HttpClient::new(ProviderKind::Stripe, cfg.channel.clone(), settings, sink)?;
        Ok(StripeClient { cfg, http, clock })
    }

    pub fn config(&self) -> &StripeConfig {
        &self.cfg
    }

    /// `idempotency_key` is required for POSTs: Stripe stores the first result under the key
    /// for 24 h and replays it, which is what makes retrying a POST safe here.
    async fn call(
        &self,
        operation: &'static str,
        method: reqwest::Method,
        path: &str,
        params: &[(String, String)],
        idempotency_key: Option<String>,
    ) -> Result<Value, ProviderError> {
        let mut headers = vec![(
            AUTHORIZATION,
            format!("Bearer {}", self.cfg.secret_key.expose()),
        )];
        let (url, body, retry) = if method == reqwest::Method::GET {
            let q = form::encode(params);
            let url = if q.is_empty() {
                format!("{}{}", self.cfg.api_base.trim_end_matches('/'), path)
            } else {
                format!("{}{}?{}", self.cfg.api_base.trim_end_matches('/'), path, q)
            };
            (url, Vec::new(), Retry::Idempotent)
        } else {
            let key = idempotency_key
                .ok_or(ProviderError::Config("POST without Idempotency-Key".into()))?;
            headers.push((IDEMPOTENCY_KEY, key));
            headers.push((CONTENT_TYPE, "application/x-www-form-urlencoded".into()));
            (
                format!("{}{}", self.cfg.api_base.trim_end_matches('/'), path),
                form::encode(params).into_bytes(),
                Retry::Idempotent,
            )
        };
        let req = OutgoingRequest {
            operation,
            method,
            url,
            headers,
            body,
            retry,
        };
        let resp = self.http.send(&req, error_code).await?;
        let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        if !resp.is_success() {
            let e = v.get("error").cloned().unwrap_or(Value::Null);
            return Err(ProviderError::Http {
                status: resp.status,
                code: json_str(&e, "code")
                    .or_else(|| json_str(&e, "type"))
                    .map(str::to_string),
                message: json_str(&e, "message").unwrap_or("").to_string(),
            });
        }
        if !v.is_object() {
            return Err(ProviderError::Protocol(
                "stripe response is not a JSON object".into(),
            ));
        }
        Ok(v)
    }

    async fn session(&self, trade: &TradeRef) -> Result<Value, ProviderError> {
        let id = trade.provider_ref.as_deref().ok_or(ProviderError::Config(
            "stripe needs the Checkout Session id".into(),
        ))?;
        self.call(
            "session_get",
            reqwest::Method::GET,
            &format!("/v1/checkout/sessions/{}", id_segment(id)?),
            &[],
            None,
        )
        .await
    }
}

fn p(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

fn money_of(v: &Value, field: &'static str) -> Result<Option<Money>, ProviderError> {
    match (
        v.get(field).and_then(Value::as_i64),
        json_str(v, "currency"),
    ) {
        (Some(minor), Some(c)) => Ok(Some(Money::new(minor, Currency::from_code(c)?)?)),
        _ => Ok(None),
    }
}

fn refund_status(v: &Value, out_refund_no: &str) -> Result<ProviderRefundStatus, ProviderError> {
    let state = match json_str(v, "status") {
        Some("succeeded") => RefundState::Succeeded,
        Some("pending") | Some("requires_action") => RefundState::Processing,
        Some("failed") | Some("canceled") => RefundState::Failed,
        Some(other) => RefundState::Other(other.to_string()),
        None => return Err(ProviderError::Protocol("refund without status".into())),
    };
    Ok(ProviderRefundStatus {
        out_refund_no: out_refund_no.to_string(),
        refund_id: json_str(v, "id").map(str::to_string),
        state,
        amount: money_of(v, "amount")?,
    })
}

#[async_trait]
impl Provider for StripeClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Stripe
    }

    async fn create_qr(&self, req: &CreateQrRequest) -> Result<QrCheckout, ProviderError> {
        let mut params = vec![
            p("mode", "payment"),
            p("line_items[0][quantity]", "1"),
            p(
                "line_items[0][price_data][currency]",
                req.amount.currency().lower_code(),
            ),
            // Stripe amounts are integer minor units (whole yen for zero-decimal currencies).
            p(
                "line_items[0][price_data][unit_amount]",
                req.amount.minor().to_string(),
            ),
            p(
                "line_items[0][price_data][product_data][name]",
                req.subject.clone(),
            ),
            p("client_reference_id", req.out_trade_no.clone()),
            p("metadata[out_trade_no]", req.out_trade_no.clone()),
            p(
                "payment_intent_data[metadata][out_trade_no]",
                req.out_trade_no.clone(),
            ),
            p("success_url", self.cfg.success_url.clone()),
        ];
        if let Some(c) = &self.cfg.cancel_url {
            params.push(p("cancel_url", c.clone()));
        }
        if let Some(exp) = req.expires_at {
            params.push(p("expires_at", exp.0.to_string()));
        }
        let v = self
            .call(
                "checkout_create",
                reqwest::Method::POST,
                "/v1/checkout/sessions",
                &params,
                // One session per order, however often we retry.
                Some(format!("paydesk-checkout-{}", req.out_trade_no)),
            )
            .await?;
        Ok(QrCheckout {
            out_trade_no: req.out_trade_no.clone(),
            qr_content: json_str(&v, "url")
                .ok_or(ProviderError::Protocol("session without url".into()))?
                .to_string(),
            provider_ref: json_str(&v, "id").map(str::to_string),
        })
    }

    async fn query(&self, trade: &TradeRef) -> Result<TradeStatus, ProviderError> {
        let v = self.session(trade).await?;
        let state = match (json_str(&v, "status"), json_str(&v, "payment_status")) {
            (_, Some("paid")) => TradeState::Paid,
            (Some("expired"), _) => TradeState::Closed,
            (Some("open"), _) | (Some("complete"), _) => TradeState::Pending,
            (s, _) => TradeState::Other(s.unwrap_or("").to_string()),
        };
        Ok(TradeStatus {
            out_trade_no: trade.out_trade_no.clone(),
            trade_no: json_str(&v, "payment_intent").map(str::to_string),
            state,
            amount: money_of(&v, "amount_total")?,
        })
    }

    async fn close(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        let id = trade.provider_ref.as_deref().ok_or(ProviderError::Config(
            "stripe needs the Checkout Session id".into(),
        ))?;
        self.call(
            "session_expire",
            reqwest::Method::POST,
            &format!("/v1/checkout/sessions/{}/expire", id_segment(id)?),
            &[],
            Some(format!("paydesk-expire-{}", trade.out_trade_no)),
        )
        .await
        .map(|_| ())
    }

    async fn refund(
        &self,
        req: &ProviderRefundRequest,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        let session = self.session(&req.trade).await?;
        let pi = json_str(&session, "payment_intent")
            .ok_or(ProviderError::Protocol("session has no payment yet".into()))?;
        let mut params = vec![
            p("payment_intent", pi),
            p("amount", req.amount.minor().to_string()),
            p("metadata[out_trade_no]", req.trade.out_trade_no.clone()),
            p("metadata[out_refund_no]", req.out_refund_no.clone()),
        ];
        if let Some(r) = &req.reason {
            // Stripe's `reason` is an enum; free text goes to metadata.
            params.push(p("metadata[reason]", r.clone()));
        }
        let v = self
            .call(
                "refund",
                reqwest::Method::POST,
                "/v1/refunds",
                &params,
                // Our refund number is the idempotency key: a retried POST cannot refund twice.
                Some(format!("paydesk-refund-{}", req.out_refund_no)),
            )
            .await?;
        refund_status(&v, &req.out_refund_no)
    }

    async fn query_refund(
        &self,
        refund: &RefundRef,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        if let Some(id) = refund.refund_id.as_deref() {
            let v = self
                .call(
                    "refund_get",
                    reqwest::Method::GET,
                    &format!("/v1/refunds/{}", id_segment(id)?),
                    &[],
                    None,
                )
                .await?;
            return refund_status(&v, &refund.out_refund_no);
        }
        // The create call's answer was lost (timeout, 5xx), so the `re_…` id is unknown:
        // find the refund by our number among the payment's refunds.
        let session = self.session(&refund.trade).await?;
        let pi = json_str(&session, "payment_intent")
            .ok_or(ProviderError::Protocol("session has no payment yet".into()))?;
        let list = self
            .call(
                "refund_list",
                reqwest::Method::GET,
                "/v1/refunds",
                &[p("payment_intent", pi), p("limit", "100")],
                None,
            )
            .await?;
        let found = list
            .get("data")
            .and_then(Value::as_array)
            .and_then(|items| {
                items.iter().find(|r| {
                    r.get("metadata").and_then(|m| json_str(m, "out_refund_no"))
                        == Some(refund.out_refund_no.as_str())
                })
            });
        match found {
            Some(r) => refund_status(r, &refund.out_refund_no),
            None => Ok(ProviderRefundStatus {
                out_refund_no: refund.out_refund_no.clone(),
                refund_id: None,
                state: RefundState::NotFound,
                amount: None,
            }),
        }
    }

    async fn parse_notify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<NotifyEvent, ProviderError> {
        let sig = header_str(headers, webhook::HEADER)
            .ok_or(VerifyError::MissingHeader("Stripe-Signature"))?;
        let secrets: Vec<&str> = std::iter::once(&self.cfg.webhook_secret)
            .chain(&self.cfg.previous_webhook_secrets)
            .map(|s| s.expose())
            .collect();
        webhook::verify_any(sig, body, &secrets, now, webhook::DEFAULT_TOLERANCE_SECS)?;
        webhook::parse_event(body)
    }

    fn ack_success(&self) -> NotifyAck {
        webhook::ack_success()
    }

    fn ack_failure(&self, message: &str) -> NotifyAck {
        webhook::ack_failure(message)
    }
}
