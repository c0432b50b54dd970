//! Alipay asynchronous notifications (`POST` form to our `notify_url`).
//!
//! Rules: form-decode the body exactly once; only `charset=utf-8`; `sign_type` must be RSA2;
//! drop `sign` and `sign_type` and empty values, sort, verify with Alipay's key; then check
//! `app_id` is ours and read `out_trade_no` and `total_amount` (the caller compares the
//! amount with the stored order via [`NotifyEvent::check_paid_amount`]). Acknowledge with the
//! exact body `success`; anything else makes Alipay retry.

use std::collections::HashMap;

use super::AlipayConfig;
use super::sign::{SignScope, string_to_sign};
use crate::money::{Currency, Money};
use crate::provider::{NotifyAck, NotifyEvent, ProviderError, VerifyError, form};

pub const ACK_SUCCESS: &str = "success";

pub fn ack_success() -> NotifyAck {
    NotifyAck {
        status: 200,
        content_type: "text/plain; charset=utf-8",
        body: ACK_SUCCESS.to_string(),
    }
}

pub fn ack_failure() -> NotifyAck {
    NotifyAck {
        status: 500,
        content_type: "text/plain; charset=utf-8",
        body: "fail".to_string(),
    }
}

/// A decoded, signature-checked notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNotify {
    pub params: HashMap<String, String>,
}

impl VerifiedNotify {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.params
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Decodes and verifies the raw body. Does not check `app_id`; see [`parse`].
pub fn verify(body: &[u8], cfg: &AlipayConfig) -> Result<VerifiedNotify, VerifyError> {
    let pairs = form::decode(body).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let mut params = HashMap::with_capacity(pairs.len());
    for (k, v) in &pairs {
        if params.insert(k.clone(), v.clone()).is_some() {
            // Two values for one key: which one did Alipay sign? Refuse to guess.
            return Err(VerifyError::Malformed(format!("duplicate parameter {k}")));
        }
    }
    // The body was percent-decoded as UTF-8; a GBK notification would verify against the
    // wrong text, so it is refused outright.
    if let Some(cs) = params.get("charset")
        && !(cs.eq_ignore_ascii_case("utf-8") || cs.eq_ignore_ascii_case("utf8"))
    {
        return Err(VerifyError::UnsupportedCharset(cs.clone()));
    }
    match params.get("sign_type").map(String::as_str) {
        Some("RSA2") => {}
        Some(other) => return Err(VerifyError::UnsupportedSignType(other.to_string())),
        None => return Err(VerifyError::MissingField("sign_type")),
    }
    let sign = params
        .get("sign")
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingField("sign"))?;
    let message = string_to_sign(&pairs, SignScope::Notify);
    let mut last = VerifyError::BadSignature;
    for key in cfg.keys.all_verifiers() {
        match key.verify_b64(message.as_bytes(), sign) {
            Ok(()) => return Ok(VerifiedNotify { params }),
            Err(crate::provider::crypto::CryptoError::SignatureEncoding) => {
                last = VerifyError::SignatureEncoding
            }
            Err(_) => {}
        }
    }
    Err(last)
}

fn money(n: &VerifiedNotify, field: &'static str) -> Result<Option<Money>, ProviderError> {
    n.get(field)
        .map(|s| Money::parse_decimal(s, Currency::Cny))
        .transpose()
        .map_err(ProviderError::from)
}

/// Verifies and interprets a notification.
pub fn parse(body: &[u8], cfg: &AlipayConfig) -> Result<NotifyEvent, ProviderError> {
    let n = verify(body, cfg)?;
    if n.get("app_id") != Some(cfg.app_id.as_str()) {
        return Err(VerifyError::WrongAccount("app_id").into());
    }
    let out_trade_no = n
        .get("out_trade_no")
        .ok_or(VerifyError::MissingField("out_trade_no"))?
        .to_string();
    let trade_no = n.get("trade_no").map(str::to_string);
    let status = n.get("trade_status").unwrap_or("");

    // A refund is reported as a trade_status_sync carrying our refund number (`out_biz_no`)
    // and the cumulative `refund_fee`; the status is TRADE_SUCCESS for a partial refund and
    // TRADE_CLOSED once everything is refunded.
    if let (Some(out_biz_no), Some(_)) = (n.get("out_biz_no"), n.get("refund_fee")) {
        return Ok(NotifyEvent::RefundSucceeded {
            out_trade_no,
            out_refund_no: out_biz_no.to_string(),
            refund_id: trade_no,
            amount: None,
            refunded_total: money(&n, "refund_fee")?,
        });
    }
    match status {
        "TRADE_SUCCESS" | "TRADE_FINISHED" => {
            let amount =
                money(&n, "total_amount")?.ok_or(VerifyError::MissingField("total_amount"))?;
            Ok(NotifyEvent::Paid {
                out_trade_no,
                trade_no: trade_no.ok_or(VerifyError::MissingField("trade_no"))?,
                amount,
            })
        }
        "TRADE_CLOSED" => Ok(NotifyEvent::Closed {
            out_trade_no,
            trade_no,
        }),
        other => Ok(NotifyEvent::Ignored {
            kind: format!("alipay trade_status {other}"),
        }),
    }
}
