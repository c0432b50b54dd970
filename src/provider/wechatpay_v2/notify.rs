//! v2 notifications, both POSTed as XML to the `notify_url` of the order or refund:
//! - **payment** (`/pay/unifiedorder`'s `notify_url`): signed like answers (`sign`, with the
//!   channel's sign type; a `sign_type` field naming another is refused); `appid`/`mch_id` must be the channel's;
//!   `result_code=SUCCESS` is [`NotifyEvent::Paid`] with `transaction_id` and `total_fee`;
//! - **refund** (the refund's `notify_url`): unsigned, with `req_info` encrypted under the
//!   API key ([`super::crypt`]); decryption is the authenticity check.
//!
//! The answer WeChat waits for is XML with `return_code` `SUCCESS` (handled) or `FAIL`
//! (retry later).

use super::WechatPayV2Config;
use super::answer::{check_account, fee};
use super::crypt::decrypt_req_info;
use super::sign::{SignType, verify};
use super::xml::{self, XmlMap, write_xml};
use crate::provider::{NotifyAck, NotifyEvent, ProviderError, VerifyError};

/// `Content-Type` of acknowledgements.
pub const ACK_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// "Handled": WeChat stops notifying.
pub fn ack_success() -> NotifyAck {
    NotifyAck {
        status: 200,
        content_type: ACK_CONTENT_TYPE,
        body: write_xml([("return_code", "SUCCESS"), ("return_msg", "OK")]),
    }
}

/// "Not handled, try again": `return_code=FAIL` with the message. Sent with HTTP 500 so
/// that a relay which only looks at the status retries as well. `message` must not be
/// secret.
pub fn ack_failure(message: &str) -> NotifyAck {
    NotifyAck {
        status: 500,
        content_type: ACK_CONTENT_TYPE,
        body: write_xml([("return_code", "FAIL"), ("return_msg", message)]),
    }
}

/// Verifies and interprets a notification body (raw bytes, as received).
pub fn parse(body: &[u8], cfg: &WechatPayV2Config) -> Result<NotifyEvent, ProviderError> {
    let m = xml::parse(body)?;
    if m.get("return_code") != Some("SUCCESS") {
        return Err(
            VerifyError::Malformed("notification without return_code SUCCESS".into()).into(),
        );
    }
    match m.non_empty("req_info") {
        Some(req_info) => refund(&m, req_info, cfg),
        None => payment(&m, cfg),
    }
}

fn payment(m: &XmlMap, cfg: &WechatPayV2Config) -> Result<NotifyEvent, ProviderError> {
    // The notification is signed the way the order was created, i.e. with the channel's
    // sign type. A notification naming another one is refused rather than checked that
    // way: MD5's secret-suffix construction must not become a downgrade path for an
    // HMAC-SHA256 channel.
    if let Some(named) = m.non_empty("sign_type")
        && SignType::parse(named)? != cfg.sign_type
    {
        return Err(VerifyError::UnsupportedSignType(named.chars().take(32).collect()).into());
    }
    verify(m, cfg.sign_type, &cfg.api_key)?;
    check_account(m, cfg)?;
    if m.get("result_code") != Some("SUCCESS") {
        return Ok(NotifyEvent::Ignored {
            kind: format!(
                "wechatpay v2 payment {}",
                m.non_empty("err_code").unwrap_or("FAIL")
            ),
        });
    }
    Ok(NotifyEvent::Paid {
        out_trade_no: m.require("out_trade_no")?.to_string(),
        trade_no: m.require("transaction_id")?.to_string(),
        amount: fee(m, "total_fee", "fee_type")?,
    })
}

fn refund(
    m: &XmlMap,
    req_info: &str,
    cfg: &WechatPayV2Config,
) -> Result<NotifyEvent, ProviderError> {
    // Unauthenticated in the outer message, but a notification for another account is
    // misrouted: refuse it before trying its key.
    check_account(m, cfg)?;
    let r = decrypt_req_info(req_info, &cfg.api_key)?;
    let out_trade_no = r.require("out_trade_no")?.to_string();
    let out_refund_no = r.require("out_refund_no")?.to_string();
    let refund_id = r.non_empty("refund_id").map(str::to_string);
    // refund_fee: what was asked (what our refund record holds); the settlement amount
    // can be lower by coupons.
    let amount = fee(&r, "refund_fee", "refund_fee_type")?;
    match r.require("refund_status")? {
        "SUCCESS" => Ok(NotifyEvent::RefundSucceeded {
            out_trade_no,
            out_refund_no,
            refund_id,
            amount: Some(amount),
            refunded_total: None,
        }),
        "CHANGE" | "REFUNDCLOSE" => Ok(NotifyEvent::RefundFailed {
            out_trade_no,
            out_refund_no,
            refund_id,
            amount: Some(amount),
        }),
        other => Ok(NotifyEvent::Ignored {
            kind: format!(
                "wechatpay v2 refund {}",
                other.chars().take(32).collect::<String>()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_v2_xml() {
        let ok = ack_success();
        assert_eq!(ok.status, 200);
        assert_eq!(
            ok.body,
            "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
        );
        let fail = ack_failure("db down");
        assert_eq!(fail.status, 500);
        let m = xml::parse(fail.body.as_bytes()).expect("xml");
        assert_eq!(m.get("return_code"), Some("FAIL"));
        assert_eq!(m.get("return_msg"), Some("db down"));
    }
}
