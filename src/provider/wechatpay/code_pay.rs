//! 付款码 at the counter over APIv3: `POST /v3/pay/transactions/codepay` (付款码支付) charges
//! the code the customer shows, and `POST /v3/pay/transactions/out-trade-no/{no}/reverse`
//! (撤销订单) stops a payment that was not decided in time — WeChat Pay closes it, or refunds
//! it if it had gone through.
//!
//! How we read WeChat Pay's rules (the official field tables of both APIs, the wechatpay-go
//! `payments/code` models, the v2 付款码 rules the v3 API carries over):
//!
//! - The request is `appid`, `mchid`, `description` (≤ 127 characters), `out_trade_no`
//!   (≤ 32), `payer.auth_code`, `amount.total` in fen with `currency`, and `scene_info`,
//!   which the gateway requires (`/body/scene_info … 必填`) with a `store_info` that has an
//!   `id` or an `out_id`. No `notify_url`: the official table has none (the go SDK's model
//!   marks one required, but 付款码 payments are not notified; the answer and the query
//!   decide them). No `device_ip` either: it is optional, and this server is not the till.
//! - 200 with `trade_state` `SUCCESS`: paid.
//! - `USERPAYING` — as an error `code` (the docs' 202, 用户支付中，需要输入密码) or as a
//!   `trade_state` — the customer must confirm: query until decided, reverse at the end of
//!   the wait.
//! - `SYSTEM_ERROR`, `BANK_ERROR`, `FREQUENCY_LIMITED`, `ORDERPAID`, any 5xx or 429, a 401
//!   (not signed by WeChat), an answer that does not verify, a timeout: undecided — the
//!   caller queries ("系统错误 … 调用查询订单API").
//! - Any other error `code` (`NOT_ENOUGH`, an expired or used code, `PARAM_ERROR`, …):
//!   declined, nothing charged. [`WechatPayClient::call`] verifies the signature of every
//!   error with a `code` but a 401, so a decline is always WeChat's own word.
//! - Reverse: 200 is done; `ORDER_NOT_EXIST` means the charge never reached WeChat and
//!   `ORDER_CLOSED` that it can no longer be paid (nothing to stop); any other error, or no
//!   answer, is tried again ("当撤销无返回或错误时，请再次调用"): 5xx and timeouts at once by
//!   the HTTP layer (`Retry::Idempotent`), the rest by the active-query job.

use serde_json::{Value, json};

use super::WechatPayConfig;
use super::client::WechatPayClient;
use super::wire::{cny_minor, parse_json, path_segment};
use crate::money::{Currency, Money};
use crate::provider::http::Retry;
use crate::provider::{CodePayAnswer, CodePayRequest, ProviderError, TradeRef, json_str};

pub const CODEPAY_PATH: &str = "/v3/pay/transactions/codepay";

/// The customer must confirm (a password) in the wallet.
pub const USERPAYING: &str = "USERPAYING";

/// Error `code`s of a codepay that decide nothing: query. `ORDERPAID` would mean an earlier
/// charge under this number went through.
const UNDECIDED: &[&str] = &[
    "SYSTEM_ERROR",
    "BANK_ERROR",
    "FREQUENCY_LIMITED",
    "ORDERPAID",
    "ORDER_PAID",
];

/// The longest `out_trade_no` codepay takes (string(32)).
const MAX_NUMBER: usize = 32;

/// The longest `description` (string(127), counted in characters).
const MAX_DESCRIPTION: usize = 127;

/// The path of the reverse (撤销订单) of one order.
pub fn reverse_path(out_trade_no: &str) -> Result<String, ProviderError> {
    Ok(format!(
        "/v3/pay/transactions/out-trade-no/{}/reverse",
        path_segment(out_trade_no)?
    ))
}

/// The codepay request body.
pub(super) fn codepay_body(
    cfg: &WechatPayConfig,
    req: &CodePayRequest,
) -> Result<Value, ProviderError> {
    codepay_fields(&cfg.appid, &cfg.mchid, &cfg.channel, req)
}

fn codepay_fields(
    appid: &str,
    mchid: &str,
    channel: &str,
    req: &CodePayRequest,
) -> Result<Value, ProviderError> {
    let no = path_segment(&req.out_trade_no)?;
    if no.len() > MAX_NUMBER {
        return Err(ProviderError::Config(
            "a code payment's order number is at most 32 characters".into(),
        ));
    }
    let description: String = req.subject.chars().take(MAX_DESCRIPTION).collect();
    // `out_id` is the merchant's own store code: the channel is the till's account.
    let store: String = channel.chars().take(32).collect();
    Ok(json!({
        "appid": appid,
        "mchid": mchid,
        "description": description,
        "out_trade_no": no,
        "payer": { "auth_code": req.code.digits() },
        "amount": { "total": cny_minor(&req.amount)?, "currency": "CNY" },
        "scene_info": { "store_info": { "out_id": store } },
    }))
}

/// `POST /v3/pay/transactions/codepay`.
pub(super) async fn pay(
    client: &WechatPayClient,
    req: &CodePayRequest,
) -> Result<CodePayAnswer, ProviderError> {
    let body = codepay_body(client.config(), req)?;
    // Charging: never re-sent blindly; an unanswered call is queried by the caller.
    let answer = client
        .call(
            "codepay",
            reqwest::Method::POST,
            CODEPAY_PATH,
            Some(&body),
            Retry::ConnectOnly,
        )
        .await
        .and_then(|resp| parse_json(&resp));
    classify(answer, &req.out_trade_no, req.amount)
}

/// What a verified codepay answer (`Ok`: a 2xx body) or error decides; see the module docs.
pub(super) fn classify(
    answer: Result<Value, ProviderError>,
    out_trade_no: &str,
    asked: Money,
) -> Result<CodePayAnswer, ProviderError> {
    match answer {
        Ok(body) => {
            if json_str(&body, "code") == Some(USERPAYING) {
                return Ok(CodePayAnswer::UserPaying);
            }
            match json_str(&body, "trade_state") {
                Some("SUCCESS") => paid(&body, out_trade_no, asked),
                Some(USERPAYING) => Ok(CodePayAnswer::UserPaying),
                other => Err(ProviderError::Protocol(format!(
                    "codepay answered trade_state {other:?}"
                ))),
            }
        }
        Err(ProviderError::Http {
            code: Some(code), ..
        }) if code == USERPAYING => Ok(CodePayAnswer::UserPaying),
        Err(ProviderError::Http {
            status,
            code: Some(code),
            message,
        }) if (400..500).contains(&status)
            && status != 401
            && status != 429
            && !UNDECIDED.contains(&code.as_str()) =>
        {
            Ok(CodePayAnswer::Declined { code, message })
        }
        Err(e) => Err(e),
    }
}

fn paid(body: &Value, out_trade_no: &str, asked: Money) -> Result<CodePayAnswer, ProviderError> {
    if json_str(body, "out_trade_no").is_some_and(|no| no != out_trade_no) {
        return Err(ProviderError::Protocol(
            "codepay answered for another order".into(),
        ));
    }
    let trade_no = json_str(body, "transaction_id").ok_or(ProviderError::Protocol(
        "codepay SUCCESS without transaction_id".into(),
    ))?;
    let amount = body.get("amount");
    let amount = match amount.and_then(|a| a.get("total")).and_then(Value::as_i64) {
        Some(total) => {
            let currency = amount
                .and_then(|a| json_str(a, "currency"))
                .map(Currency::from_code)
                .transpose()?
                .unwrap_or(Currency::Cny);
            Money::new(total, currency)?
        }
        None => asked,
    };
    Ok(CodePayAnswer::Paid {
        trade_no: trade_no.to_string(),
        amount,
    })
}

/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/reverse`.
pub(super) async fn reverse(
    client: &WechatPayClient,
    trade: &TradeRef,
) -> Result<(), ProviderError> {
    let path = reverse_path(&trade.out_trade_no)?;
    let cfg = client.config();
    let body = json!({ "appid": cfg.appid, "mchid": cfg.mchid });
    let answer = client
        .call(
            "reverse",
            reqwest::Method::POST,
            &path,
            Some(&body),
            Retry::Idempotent,
        )
        .await;
    reverse_outcome(answer.map(|_| ()))
}

/// What a reverse's answer means; an `Err` is tried again by the caller.
pub(super) fn reverse_outcome(answer: Result<(), ProviderError>) -> Result<(), ProviderError> {
    match answer {
        // Never created at WeChat (the codepay was lost before it arrived), or closed: it
        // can no longer be paid. Signed answers only (a 401 is not WeChat's word).
        Err(ProviderError::Http {
            status,
            code: Some(code),
            ..
        }) if status != 401
            && matches!(
                code.as_str(),
                "ORDER_NOT_EXIST" | "ORDERNOTEXIST" | "ORDER_CLOSED"
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment_code::PaymentCode;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::Cny).expect("money")
    }

    fn http(status: u16, code: Option<&str>) -> Result<Value, ProviderError> {
        Err(ProviderError::Http {
            status,
            code: code.map(str::to_string),
            message: "微信支付说".into(),
        })
    }

    fn classify_ok(body: Value) -> Result<CodePayAnswer, ProviderError> {
        classify(Ok(body), "T1", cny(500))
    }

    #[test]
    fn success_is_paid_with_the_answers_amount() {
        let body = json!({
            "out_trade_no": "T1", "transaction_id": "4200000001", "trade_type": "MICROPAY",
            "trade_state": "SUCCESS", "amount": { "total": 480, "currency": "CNY" },
        });
        assert_eq!(
            classify_ok(body),
            Ok(CodePayAnswer::Paid {
                trade_no: "4200000001".into(),
                amount: cny(480)
            })
        );
        // No amount in the answer: what we asked for.
        let body = json!({ "trade_state": "SUCCESS", "transaction_id": "42" });
        assert!(
            matches!(classify_ok(body), Ok(CodePayAnswer::Paid { amount, .. }) if amount == cny(500))
        );
    }

    #[test]
    fn a_success_that_is_not_ours_or_has_no_id_decides_nothing() {
        let other =
            json!({ "out_trade_no": "T2", "transaction_id": "42", "trade_state": "SUCCESS" });
        assert!(matches!(
            classify_ok(other),
            Err(ProviderError::Protocol(_))
        ));
        let no_id = json!({ "out_trade_no": "T1", "trade_state": "SUCCESS" });
        assert!(matches!(
            classify_ok(no_id),
            Err(ProviderError::Protocol(_))
        ));
    }

    #[test]
    fn userpaying_in_any_shape_waits_for_the_password() {
        // The docs' 202 (a success status with an error body), a trade_state, an error.
        let waiting = Ok(CodePayAnswer::UserPaying);
        assert_eq!(
            classify_ok(json!({ "code": "USERPAYING", "message": "需要用户输入支付密码" })),
            waiting
        );
        assert_eq!(classify_ok(json!({ "trade_state": "USERPAYING" })), waiting);
        assert_eq!(
            classify(http(202, Some("USERPAYING")), "T1", cny(1)),
            waiting
        );
        assert_eq!(
            classify(http(403, Some("USERPAYING")), "T1", cny(1)),
            waiting
        );
    }

    #[test]
    fn signed_errors_are_declines() {
        for (status, code) in [
            (403, "NOT_ENOUGH"),
            (400, "PARAM_ERROR"),
            (400, "AUTH_CODE_INVALID"),
            (404, "ORDER_NOT_EXIST"),
        ] {
            assert_eq!(
                classify(http(status, Some(code)), "T1", cny(1)),
                Ok(CodePayAnswer::Declined {
                    code: code.into(),
                    message: "微信支付说".into()
                }),
                "{status} {code}"
            );
        }
    }

    #[test]
    fn errors_that_decide_nothing_are_left_to_the_query() {
        let undecided = [
            http(500, Some("SYSTEM_ERROR")),
            http(500, Some("BANK_ERROR")),
            http(400, Some("SYSTEM_ERROR")),
            http(429, Some("FREQUENCY_LIMITED")),
            http(403, Some("FREQUENCY_LIMITED")),
            http(400, Some("ORDERPAID")),
            http(502, Some("PARAM_ERROR")),
            // Our signature refused: unsigned, not WeChat's word on the payment.
            http(401, Some("SIGN_ERROR")),
            // Something in front of the API (an HTML page).
            http(404, None),
            Err(ProviderError::Transport("timeout".into())),
            Err(ProviderError::Verify(
                crate::provider::VerifyError::BadSignature,
            )),
            Ok(json!({ "trade_state": "PAYERROR" })),
            Ok(json!({ "trade_state": "NOTPAY" })),
            Ok(json!({})),
        ];
        for answer in undecided {
            let shown = format!("{answer:?}");
            assert!(classify(answer, "T1", cny(1)).is_err(), "{shown}");
        }
    }

    #[test]
    fn reverse_answers() {
        let err = |status, code: &str| {
            Err(ProviderError::Http {
                status,
                code: Some(code.into()),
                message: String::new(),
            })
        };
        assert_eq!(reverse_outcome(Ok(())), Ok(()));
        assert_eq!(reverse_outcome(err(404, "ORDER_NOT_EXIST")), Ok(()));
        assert_eq!(reverse_outcome(err(400, "ORDER_CLOSED")), Ok(()));
        // Unsigned, or asking to try again: tried again.
        assert!(reverse_outcome(err(401, "ORDER_NOT_EXIST")).is_err());
        assert!(reverse_outcome(err(500, "SYSTEM_ERROR")).is_err());
        assert!(reverse_outcome(err(202, "USERPAYING")).is_err());
        assert!(reverse_outcome(Err(ProviderError::Transport("timeout".into()))).is_err());
    }

    #[test]
    fn the_request_has_the_fields_the_gateway_requires() {
        let req = CodePayRequest {
            out_trade_no: "PD20260101ABC".into(),
            amount: cny(1234),
            subject: "咖".repeat(200),
            code: PaymentCode::parse("134567890123456789").expect("code"),
            notify_url: "https://example.test/notify".into(),
        };
        let body = |req: &CodePayRequest| codepay_fields("wxapp", "1900000109", "till-1", req);
        let b = body(&req).expect("body");
        assert_eq!(b["appid"], "wxapp");
        assert_eq!(b["mchid"], "1900000109");
        assert_eq!(b["out_trade_no"], "PD20260101ABC");
        assert_eq!(b["payer"]["auth_code"], "134567890123456789");
        assert_eq!(b["amount"], json!({ "total": 1234, "currency": "CNY" }));
        assert_eq!(b["scene_info"]["store_info"]["out_id"], "till-1");
        assert_eq!(
            b["description"].as_str().map(|d| d.chars().count()),
            Some(127)
        );
        assert!(b.get("notify_url").is_none(), "codepay takes no notify_url");
        // Numbers codepay refuses, and other currencies.
        let long = CodePayRequest {
            out_trade_no: "A".repeat(33),
            ..req.clone()
        };
        assert!(body(&long).is_err());
        let slash = CodePayRequest {
            out_trade_no: "a/b".into(),
            ..req.clone()
        };
        assert!(body(&slash).is_err());
        let usd = CodePayRequest {
            amount: Money::new(100, Currency::Usd).expect("usd"),
            ..req
        };
        assert!(body(&usd).is_err());
        assert_eq!(
            reverse_path("PD1").as_deref(),
            Ok("/v3/pay/transactions/out-trade-no/PD1/reverse")
        );
    }
}
