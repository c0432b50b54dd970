//! 付款码 at the counter: `alipay.trade.pay` (`scene=bar_code`) charges the code the
//! customer shows, and `alipay.trade.cancel` stops a payment that was not decided in time.
//!
//! Alipay's rules (当面付, 条码支付): `10000` is paid; `10003` means the customer must
//! confirm in the wallet (`WAIT_BUYER_PAY`) — query until decided; `20000` and
//! `ACQ.SYSTEM_ERROR` decide nothing — query; a `40004` names why nothing was charged. A
//! payment still undecided after the wait is cancelled, and Alipay refunds it if it had
//! gone through (the answer's `action` is then `refund`).

use serde_json::json;

use super::client::{AlipayClient, cny, parse_cny};
use crate::provider::http::Retry;
use crate::provider::{
    CodePayAnswer, CodePayRequest, ProviderError, TradeRef, VerifyError, json_str,
};

/// The customer must confirm (password) in the wallet.
const CODE_USER_PAYING: &str = "10003";
/// Business failure: nothing was charged; `sub_code` says why.
const CODE_BUSINESS_FAILED: &str = "40004";
/// Sub-codes of a `40004` that still decide nothing (Alipay says: query).
const UNDECIDED_SUB_CODES: &[&str] = &["ACQ.SYSTEM_ERROR", "ACQ.TRADE_HAS_SUCCESS"];

pub(super) async fn pay(
    client: &AlipayClient,
    req: &CodePayRequest,
) -> Result<CodePayAnswer, ProviderError> {
    let biz = json!({
        "out_trade_no": req.out_trade_no,
        "scene": "bar_code",
        "auth_code": req.code.digits(),
        "product_code": "FACE_TO_FACE_PAYMENT",
        "total_amount": cny(&req.amount)?,
        "subject": req.subject,
    });
    // Charging: never re-sent blindly; an unanswered call is queried by the caller.
    let answer = client
        .call(
            "pay",
            "alipay.trade.pay",
            biz,
            Some(&req.notify_url),
            Retry::ConnectOnly,
        )
        .await?;
    let signed = answer.signed;
    let p = &answer.payload;
    let code = json_str(p, "code").unwrap_or("");
    let sub_code = json_str(p, "sub_code").unwrap_or("");
    match code {
        super::client::CODE_SUCCESS => {
            let trade_no = json_str(p, "trade_no").ok_or(ProviderError::Protocol(
                "pay answer without trade_no".into(),
            ))?;
            let amount = parse_cny(p, "total_amount")?.unwrap_or(req.amount);
            Ok(CodePayAnswer::Paid {
                trade_no: trade_no.to_string(),
                amount,
            })
        }
        CODE_USER_PAYING => Ok(CodePayAnswer::UserPaying),
        // A decline closes our order; an unsigned one could come from anyone on the path,
        // so it decides nothing and the order is queried instead.
        CODE_BUSINESS_FAILED if !UNDECIDED_SUB_CODES.contains(&sub_code) => {
            if !signed {
                return Err(VerifyError::MissingField("sign").into());
            }
            Ok(CodePayAnswer::Declined {
                code: sub_code.to_string(),
                message: json_str(p, "sub_msg").unwrap_or("").to_string(),
            })
        }
        _ => answer.into_success().map(|_| CodePayAnswer::UserPaying),
    }
}

pub(super) async fn cancel(client: &AlipayClient, trade: &TradeRef) -> Result<(), ProviderError> {
    let biz = json!({ "out_trade_no": trade.out_trade_no });
    let answer = client
        .call(
            "cancel",
            "alipay.trade.cancel",
            biz,
            None,
            Retry::Idempotent,
        )
        .await?;
    let signed = answer.signed;
    let v = match answer.into_success() {
        Ok(v) => v,
        // Never created at Alipay (the pay call was lost before it arrived): nothing to
        // stop. Believed only when signed, like the query's.
        Err(ProviderError::Business {
            sub_code: Some(sc), ..
        }) if sc == super::client::TRADE_NOT_EXIST && signed => return Ok(()),
        Err(e) => return Err(e),
    };
    // `retry_flag=Y`: Alipay could not cancel yet; the caller tries again.
    if json_str(&v, "retry_flag") == Some("Y") {
        return Err(ProviderError::Business {
            code: "retry".into(),
            sub_code: None,
            message: "alipay asks to cancel again".into(),
        });
    }
    Ok(())
}
