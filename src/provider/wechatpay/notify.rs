//! WeChat Pay notifications: signature (by the caller, with [`super::PlatformKeys`]), then
//! AEAD_AES_256_GCM decryption of `resource`, then the account and amount fields.
//! Acknowledge with 204 and no body; on failure answer 5xx with
//! `{"code":"FAIL","message":"…"}` so WeChat retries.

use serde::Deserialize;
use serde_json::Value;

use super::WechatPayConfig;
use super::resource::{EncryptedResource, decrypt};
use crate::money::{Currency, Money};
use crate::provider::{NotifyAck, NotifyEvent, ProviderError, VerifyError, json_str};

#[derive(Debug, Deserialize)]
struct Envelope {
    event_type: String,
    resource: EncryptedResource,
}

pub fn ack_success() -> NotifyAck {
    NotifyAck {
        status: 204,
        content_type: "application/json",
        body: String::new(),
    }
}

pub fn ack_failure(message: &str) -> NotifyAck {
    NotifyAck {
        status: 500,
        content_type: "application/json",
        body: serde_json::json!({ "code": "FAIL", "message": message }).to_string(),
    }
}

fn amount(v: &Value, field: &'static str, currency: Currency) -> Result<Money, ProviderError> {
    let minor = v
        .get("amount")
        .and_then(|a| a.get(field))
        .and_then(Value::as_i64)
        .ok_or(VerifyError::MissingField("amount"))?;
    Ok(Money::new(minor, currency)?)
}

fn currency(v: &Value) -> Result<Currency, ProviderError> {
    // Refund notifications carry no currency; domestic refunds are CNY.
    match v.get("amount").and_then(|a| json_str(a, "currency")) {
        Some(c) => Ok(Currency::from_code(c)?),
        None => Ok(Currency::Cny),
    }
}

fn field(v: &Value, name: &'static str) -> Result<String, ProviderError> {
    Ok(json_str(v, name)
        .ok_or(VerifyError::MissingField(name))?
        .to_string())
}

/// Decrypts and interprets a notification body whose signature was already verified.
pub fn parse_verified(body: &[u8], cfg: &WechatPayConfig) -> Result<NotifyEvent, ProviderError> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|_| VerifyError::Malformed("notification body".into()))?;
    let plain = decrypt(cfg.apiv3_key.expose().as_bytes(), &env.resource)?;
    let r: Value =
        serde_json::from_slice(&plain).map_err(|_| VerifyError::Malformed("resource".into()))?;
    // The notification must be for this merchant (and app, when named).
    if json_str(&r, "mchid") != Some(cfg.mchid.as_str()) {
        return Err(VerifyError::WrongAccount("mchid").into());
    }
    if let Some(appid) = json_str(&r, "appid")
        && appid != cfg.appid
    {
        return Err(VerifyError::WrongAccount("appid").into());
    }
    let cur = currency(&r)?;
    match env.event_type.as_str() {
        "TRANSACTION.SUCCESS" => {
            if json_str(&r, "trade_state") != Some("SUCCESS") {
                return Ok(NotifyEvent::Ignored {
                    kind: format!("wechatpay {} not SUCCESS", env.event_type),
                });
            }
            Ok(NotifyEvent::Paid {
                out_trade_no: field(&r, "out_trade_no")?,
                trade_no: field(&r, "transaction_id")?,
                amount: amount(&r, "total", cur)?,
            })
        }
        "REFUND.SUCCESS" => Ok(NotifyEvent::RefundSucceeded {
            out_trade_no: field(&r, "out_trade_no")?,
            out_refund_no: field(&r, "out_refund_no")?,
            refund_id: json_str(&r, "refund_id").map(str::to_string),
            amount: Some(amount(&r, "refund", cur)?),
            refunded_total: None,
        }),
        "REFUND.ABNORMAL" | "REFUND.CLOSED" => Ok(NotifyEvent::RefundFailed {
            out_trade_no: field(&r, "out_trade_no")?,
            out_refund_no: field(&r, "out_refund_no")?,
            refund_id: json_str(&r, "refund_id").map(str::to_string),
            amount: amount(&r, "refund", cur).ok(),
        }),
        other => Ok(NotifyEvent::Ignored {
            kind: format!("wechatpay {other}"),
        }),
    }
}
