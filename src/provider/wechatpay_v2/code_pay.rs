//! 付款码 at the counter over API v2: `/pay/micropay` charges the code the customer shows,
//! and `/secapi/pay/reverse` (mutual TLS, like refunds) stops a payment that was not
//! decided in time — WeChat refunds it if it had gone through.
//!
//! WeChat's rules (付款码支付): `result_code=SUCCESS` is paid; `USERPAYING` means the
//! customer must confirm (a password) — query until decided; `SYSTEMERROR`, `BANKERROR`
//! and an unanswered call decide nothing — query; other `err_code`s (`AUTHCODEEXPIRE`,
//! `AUTH_CODE_INVALID`, `NOTENOUGH`, …) mean nothing was charged. A reverse answered
//! `recall=Y` must be sent again.

use super::WechatPayV2Client;
use super::answer::{business_error, fee};
use super::client::{REVERSE_PATH, cny_fen, number};
use super::truncate_bytes;
use super::xml::XmlMap;
use crate::provider::http::Retry;
use crate::provider::{CodePayAnswer, CodePayRequest, ProviderError, TradeRef};

pub const MICROPAY_PATH: &str = "/pay/micropay";

/// `err_code`s of a micropay that decide nothing: query.
const UNDECIDED: &[&str] = &["USERPAYING", "SYSTEMERROR", "BANKERROR"];

impl WechatPayV2Client {
    /// `/pay/micropay`.
    pub async fn pay_by_code(&self, req: &CodePayRequest) -> Result<CodePayAnswer, ProviderError> {
        let no = number(&req.out_trade_no, 32)?;
        let mut f = XmlMap::new();
        f.set("body", truncate_bytes(&req.subject, 128));
        f.set("out_trade_no", no);
        f.set("total_fee", cny_fen(&req.amount)?);
        f.set("fee_type", "CNY");
        f.set("spbill_create_ip", self.config().spbill_create_ip.as_str());
        f.set("auth_code", req.code.digits());
        // Charging: never re-sent blindly; an unanswered call is queried by the caller.
        let m = self
            .call("micropay", MICROPAY_PATH, f, Retry::ConnectOnly, no)
            .await?;
        match business_error(&m) {
            None => Ok(CodePayAnswer::Paid {
                trade_no: m.require("transaction_id")?.to_string(),
                amount: fee(&m, "total_fee", "fee_type")?,
            }),
            Some(ProviderError::Business { code, .. }) if code == "USERPAYING" => {
                Ok(CodePayAnswer::UserPaying)
            }
            Some(ProviderError::Business { code, message, .. })
                if !UNDECIDED.contains(&code.as_str()) =>
            {
                Ok(CodePayAnswer::Declined { code, message })
            }
            Some(e) => Err(e),
        }
    }

    /// `/secapi/pay/reverse`, over mutual TLS with the merchant API certificate.
    pub async fn cancel_code_payment(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        if self.config().identity.is_none() {
            return Err(ProviderError::Config(
                "cancelling a code payment needs the merchant API certificate".into(),
            ));
        }
        let no = number(&trade.out_trade_no, 32)?;
        let mut f = XmlMap::new();
        f.set("out_trade_no", no);
        let m = self
            .call("reverse", REVERSE_PATH, f, Retry::Idempotent, no)
            .await?;
        match business_error(&m) {
            // `recall=Y`: WeChat could not reverse yet; the caller tries again.
            None if m.get("recall") == Some("Y") => Err(ProviderError::Business {
                code: "recall".into(),
                sub_code: None,
                message: "wechat pay asks to reverse again".into(),
            }),
            None => Ok(()),
            // Never created at WeChat (the micropay was lost before it arrived).
            Some(ProviderError::Business { code, .. }) if code == "ORDERNOTEXIST" => Ok(()),
            Some(e) => Err(e),
        }
    }
}
