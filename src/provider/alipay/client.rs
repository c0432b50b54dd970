//! The Alipay [`Provider`]: builds signed gateway requests, verifies signed responses.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use super::response::{parse_payload, split_response};
use super::sign::{format_timestamp, sign_request};
use super::{AlipayConfig, AlipayKeys, notify};
use crate::money::{Currency, Money};
use crate::provider::http::{HttpClient, HttpSettings, IncomingResponse, OutgoingRequest, Retry};
use crate::provider::{
    CallSink, CreateQrRequest, HeaderMap, NotifyAck, NotifyEvent, Provider, ProviderError,
    ProviderKind, ProviderRefundRequest, ProviderRefundStatus, QrCheckout, RefundRef, RefundState,
    SharedClock, TradeRef, TradeState, TradeStatus, VerifyError, json_str,
};
use crate::provider::{CodePayAnswer, CodePayRequest};

/// Business success code of every Alipay OpenAPI response.
pub const CODE_SUCCESS: &str = "10000";

/// `sub_code` of "no such trade" (also the answer "Test connection" expects).
pub const TRADE_NOT_EXIST: &str = "ACQ.TRADE_NOT_EXIST";

pub struct AlipayClient {
    cfg: AlipayConfig,
    http: HttpClient,
    clock: SharedClock,
}

impl std::fmt::Debug for AlipayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayClient")
            .field("cfg", &self.cfg)
            .finish()
    }
}

/// For the call record: `sub_code` (or `code`) of a failed business response.
fn error_code(resp: &IncomingResponse) -> Option<String> {
    let v: Value = serde_json::from_slice(&resp.body).ok()?;
    let obj = v.as_object()?;
    let payload = obj
        .iter()
        .find(|(k, _)| k.ends_with("_response"))
        .map(|(_, v)| v)?;
    let code = json_str(payload, "code")?;
    if code == CODE_SUCCESS {
        return None;
    }
    Some(json_str(payload, "sub_code").unwrap_or(code).to_string())
}

impl AlipayClient {
    pub fn new(
        cfg: AlipayConfig,
        settings: HttpSettings,
        sink: Arc<dyn CallSink>,
        clock: SharedClock,
    ) -> Result<AlipayClient, ProviderError> {
        let http = HttpClient::new(ProviderKind::Alipay, cfg.channel.clone(), settings, sink)?;
        Ok(AlipayClient { cfg, http, clock })
    }

    pub fn config(&self) -> &AlipayConfig {
        &self.cfg
    }

    /// The signed parameters of one gateway call. `biz_content` is serialized once here and
    /// that exact string is both signed and sent.
    pub fn signed_params(
        &self,
        method: &str,
        biz: &Value,
        notify_url: Option<&str>,
    ) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = vec![
            ("app_id".into(), self.cfg.app_id.clone()),
            ("method".into(), method.into()),
            ("format".into(), "JSON".into()),
            ("charset".into(), "utf-8".into()),
            ("sign_type".into(), "RSA2".into()),
            ("timestamp".into(), format_timestamp(self.clock.now_unix())),
            ("version".into(), "1.0".into()),
            ("biz_content".into(), biz.to_string()),
        ];
        if let Some(url) = notify_url {
            params.push(("notify_url".into(), url.into()));
        }
        if let AlipayKeys::Certificate(c) = &self.cfg.keys {
            params.push(("app_cert_sn".into(), c.app_cert_sn.clone()));
            params.push(("alipay_root_cert_sn".into(), c.alipay_root_cert_sn.clone()));
        }
        let sign = sign_request(&params, &self.cfg.app_private_key);
        params.push(("sign".into(), sign));
        params
    }

    /// Calls `method` and returns its answer, signature checked (see [`Answer`]); the
    /// business outcome is the caller's ([`Answer::into_success`]).
    pub(super) async fn call(
        &self,
        operation: &'static str,
        method: &str,
        biz: Value,
        notify_url: Option<&str>,
        retry: Retry,
    ) -> Result<Answer, ProviderError> {
        let params = self.signed_params(method, &biz, notify_url);
        let req = OutgoingRequest {
            operation,
            method: reqwest::Method::POST,
            url: self.cfg.gateway_url.clone(),
            headers: vec![(
                CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=utf-8".into(),
            )],
            body: crate::provider::form::encode(&params).into_bytes(),
            retry,
        };
        let resp = self.http.send(&req, error_code).await?;
        if !resp.is_success() {
            return Err(ProviderError::Http {
                status: resp.status,
                code: None,
                message: "alipay gateway HTTP error".into(),
            });
        }
        verified_answer(resp.body_text()?, method, &self.cfg.keys)
    }
}

/// A gateway answer whose signature verified — or that had none, which Alipay allows
/// only for failures.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) payload: Value,
    pub(super) signed: bool,
}

impl Answer {
    /// The payload of a successful answer (code 10000), or the failure it reports.
    pub(super) fn into_success(self) -> Result<Value, ProviderError> {
        business_outcome(self.payload)
    }
}

/// Verifies a gateway response body for `method` and checks `code == "10000"`.
pub fn verify_response(
    text: &str,
    method: &str,
    keys: &AlipayKeys,
) -> Result<Value, ProviderError> {
    verified_answer(text, method, keys)?.into_success()
}

fn verified_answer(text: &str, method: &str, keys: &AlipayKeys) -> Result<Answer, ProviderError> {
    let raw = split_response(text, method)?;
    let payload = parse_payload(raw.payload)?;
    let code = json_str(&payload, "code").unwrap_or("");
    match &raw.sign {
        Some(sign) => {
            let key = keys.verifier_for(raw.alipay_cert_sn.as_deref())?;
            key.verify_b64(raw.payload.as_bytes(), sign)
                .map_err(|e| match e {
                    crate::provider::crypto::CryptoError::SignatureEncoding => {
                        VerifyError::SignatureEncoding
                    }
                    _ => VerifyError::BadSignature,
                })?;
        }
        // Alipay leaves gateway-level errors unsigned; an unsigned *success* is never trusted.
        None if code == CODE_SUCCESS => return Err(VerifyError::MissingField("sign").into()),
        None => {}
    }
    Ok(Answer {
        signed: raw.sign.is_some(),
        payload,
    })
}

/// The payload of a successful answer, or the business failure it reports.
fn business_outcome(payload: Value) -> Result<Value, ProviderError> {
    let code = json_str(&payload, "code").unwrap_or("").to_string();
    if code != CODE_SUCCESS {
        return Err(ProviderError::Business {
            code,
            sub_code: json_str(&payload, "sub_code").map(str::to_string),
            message: json_str(&payload, "sub_msg")
                .or_else(|| json_str(&payload, "msg"))
                .unwrap_or("")
                .to_string(),
        });
    }
    Ok(payload)
}

pub(super) fn cny(amount: &Money) -> Result<String, ProviderError> {
    // Alipay's `total_amount`/`refund_amount` are CNY yuan strings with two decimals.
    if amount.currency() != Currency::Cny {
        return Err(ProviderError::Unsupported("alipay charges in CNY only"));
    }
    Ok(amount.to_decimal_string())
}

pub(super) fn parse_cny(v: &Value, field: &'static str) -> Result<Option<Money>, ProviderError> {
    json_str(v, field)
        .map(|s| Money::parse_decimal(s, Currency::Cny))
        .transpose()
        .map_err(ProviderError::from)
}

fn trade_state(s: &str) -> TradeState {
    match s {
        "WAIT_BUYER_PAY" => TradeState::Pending,
        "TRADE_SUCCESS" | "TRADE_FINISHED" => TradeState::Paid,
        "TRADE_CLOSED" => TradeState::Closed,
        other => TradeState::Other(other.to_string()),
    }
}

#[async_trait]
impl Provider for AlipayClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Alipay
    }

    async fn create_qr(&self, req: &CreateQrRequest) -> Result<QrCheckout, ProviderError> {
        let mut biz = json!({
            "out_trade_no": req.out_trade_no,
            "total_amount": cny(&req.amount)?,
            "subject": req.subject,
        });
        if let Some(exp) = req.expires_at {
            biz["time_expire"] = Value::String(format_timestamp(exp.0));
        }
        // Creating a payment: retried only after connect errors.
        let v = self
            .call(
                "precreate",
                "alipay.trade.precreate",
                biz,
                Some(&req.notify_url),
                Retry::ConnectOnly,
            )
            .await?
            .into_success()?;
        let qr = json_str(&v, "qr_code")
            .ok_or(ProviderError::Protocol("precreate without qr_code".into()))?;
        Ok(QrCheckout {
            out_trade_no: req.out_trade_no.clone(),
            qr_content: qr.to_string(),
            provider_ref: None,
        })
    }

    async fn query(&self, trade: &TradeRef) -> Result<TradeStatus, ProviderError> {
        let biz = json!({ "out_trade_no": trade.out_trade_no });
        let answer = self
            .call("query", "alipay.trade.query", biz, None, Retry::Idempotent)
            .await?;
        let signed = answer.signed;
        match answer.into_success() {
            Ok(v) => Ok(TradeStatus {
                out_trade_no: trade.out_trade_no.clone(),
                trade_no: json_str(&v, "trade_no").map(str::to_string),
                state: trade_state(json_str(&v, "trade_status").unwrap_or("")),
                amount: parse_cny(&v, "total_amount")?,
            }),
            // A precreated order exists at Alipay only once the QR code was scanned. That
            // answer is believed only when signed: an unsigned "no such order" could come
            // from anyone, and would let "Test connection" (which asks exactly this) pass
            // with a wrong Alipay key.
            Err(ProviderError::Business {
                sub_code: Some(sc), ..
            }) if sc == TRADE_NOT_EXIST => {
                if !signed {
                    return Err(VerifyError::MissingField("sign").into());
                }
                Ok(TradeStatus {
                    out_trade_no: trade.out_trade_no.clone(),
                    trade_no: None,
                    state: TradeState::Pending,
                    amount: None,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn close(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        let biz = json!({ "out_trade_no": trade.out_trade_no });
        self.call("close", "alipay.trade.close", biz, None, Retry::Idempotent)
            .await?
            .into_success()
            .map(|_| ())
    }

    async fn refund(
        &self,
        req: &ProviderRefundRequest,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        let mut biz = json!({
            "out_trade_no": req.trade.out_trade_no,
            "refund_amount": cny(&req.amount)?,
            // Our refund number makes partial refunds distinct and re-sends harmless.
            "out_request_no": req.out_refund_no,
        });
        if let Some(reason) = &req.reason {
            biz["refund_reason"] = Value::String(reason.clone());
        }
        let v = self
            .call(
                "refund",
                "alipay.trade.refund",
                biz,
                None,
                Retry::ConnectOnly,
            )
            .await?
            .into_success()?;
        // fund_change = "Y": money moved by this call; otherwise query to learn the outcome.
        let state = if json_str(&v, "fund_change") == Some("Y") {
            RefundState::Succeeded
        } else {
            RefundState::Processing
        };
        Ok(ProviderRefundStatus {
            out_refund_no: req.out_refund_no.clone(),
            refund_id: json_str(&v, "trade_no").map(str::to_string),
            state,
            amount: Some(req.amount),
        })
    }

    async fn query_refund(
        &self,
        refund: &RefundRef,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        let biz = json!({
            "out_trade_no": refund.trade.out_trade_no,
            "out_request_no": refund.out_refund_no,
            "query_options": ["gmt_refund_pay"],
        });
        let v = self
            .call(
                "refund_query",
                "alipay.trade.fastpay.refund.query",
                biz,
                None,
                Retry::Idempotent,
            )
            .await?
            .into_success()?;
        let state = match json_str(&v, "refund_status") {
            Some("REFUND_SUCCESS") => RefundState::Succeeded,
            Some(other) => RefundState::Other(other.to_string()),
            // No refund_status: the refund is unknown or not done yet.
            None => RefundState::Processing,
        };
        Ok(ProviderRefundStatus {
            out_refund_no: refund.out_refund_no.clone(),
            refund_id: json_str(&v, "trade_no").map(str::to_string),
            state,
            amount: parse_cny(&v, "refund_amount")?,
        })
    }

    async fn pay_by_code(&self, req: &CodePayRequest) -> Result<CodePayAnswer, ProviderError> {
        super::code_pay::pay(self, req).await
    }

    async fn cancel_code_payment(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        super::code_pay::cancel(self, trade).await
    }

    async fn parse_notify(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
        _now: i64,
    ) -> Result<NotifyEvent, ProviderError> {
        // Alipay notifications carry no timestamp window rule; replays are harmless because
        // events are applied idempotently by order number.
        notify::parse(body, &self.cfg)
    }

    fn ack_success(&self) -> NotifyAck {
        notify::ack_success()
    }

    fn ack_failure(&self, _message: &str) -> NotifyAck {
        notify::ack_failure()
    }
}
