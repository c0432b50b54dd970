//! The sandbox's `POST /v3/pay/transactions/codepay` and `POST …/out-trade-no/{no}/reverse`:
//! a code from the sandbox wallet page (`/sandbox/wallet/wechatpay`) is charged once and does
//! what the wallet was set to do — pay at once (200, `SUCCESS`), wait for the password (202
//! `USERPAYING`, confirmed on the wallet page, found by the query) or decline (403
//! `NOT_ENOUGH`). Reversing closes an unpaid order and refunds a paid one in full; the query
//! then says `REVOKED` or `REFUND`.
//!
//! The stored docs give the request's fields but no error table for v3 codepay: the
//! sandbox answers v2 micropay's codes in v3's shape (HTTP status, `{code, message}`):
//! `AUTH_CODE_INVALID` for what is no WeChat code, `AUTH_CODE_EXPIRE` (v2 `AUTHCODEEXPIRE`)
//! for a code that is unknown, used or too old. Our client does not depend on the names:
//! any signed error but the undecided ones is a decline.

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

use super::{Reply, WechatPaySandbox, err, ledger_err};
use crate::money::{Currency, Money};
use crate::payment_code::{PaymentCode, Wallet};
use crate::provider::json_str;
use crate::sandbox::{CodeBehaviour, LedgerError, OrderState, SandboxOrder};

/// WeChat's codes are 18 digits starting 10–15. The v3 wallet's start 12, the v2 wallet's
/// 13: a code shows which sandbox issued it, and the two never collide in the shared
/// pay-code table.
pub const CODE_PREFIX: &str = "12";
pub const CODE_LEN: usize = 18;

/// Orders charged by code get wallet codes with this prefix, which is how the query tells
/// them from Native orders (`trade_type` `MICROPAY`, `USERPAYING`, `REVOKED`).
const CODE_ORDER_PREFIX: &str = "wxcode_";

/// `trade_type`, `trade_state` and its description of an order charged by code; `None`
/// for a Native order.
pub(super) fn code_order_state(o: &SandboxOrder) -> Option<(&'static str, &'static str)> {
    if !o.code.starts_with(CODE_ORDER_PREFIX) {
        return None;
    }
    Some(match o.state {
        OrderState::Pending => ("USERPAYING", "用户支付中"),
        // The sandbox does not tell a declined charge from a reversed one: both closed.
        OrderState::Closed => ("REVOKED", "已撤销"),
        OrderState::Paid if !o.refunds.is_empty() => ("REFUND", "转入退款"),
        OrderState::Paid => ("SUCCESS", "支付成功"),
    })
}

fn param(message: &str) -> Reply {
    err(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
}

fn expired() -> Reply {
    err(
        StatusCode::BAD_REQUEST,
        "AUTH_CODE_EXPIRE",
        "二维码已过期，请用户在微信上刷新后再试",
    )
}

/// The fields a codepay must carry, checked as the gateway checks them.
struct Charge<'a> {
    no: &'a str,
    description: &'a str,
    code: &'a str,
    amount: Money,
}

fn read_charge(b: &Value) -> Result<Charge<'_>, Reply> {
    let (Some(no), Some(description)) = (json_str(b, "out_trade_no"), json_str(b, "description"))
    else {
        return Err(param("缺少必填参数 out_trade_no 或 description"));
    };
    let code = b
        .get("payer")
        .and_then(|p| json_str(p, "auth_code"))
        .ok_or_else(|| param("/body/payer/auth_code 必填"))?;
    let amount = b.get("amount");
    if amount
        .and_then(|a| json_str(a, "currency"))
        .is_some_and(|c| c != "CNY")
    {
        return Err(param("amount.currency 仅支持 CNY"));
    }
    let amount = amount
        .and_then(|a| a.get("total"))
        .and_then(Value::as_i64)
        .and_then(|t| Money::new(t, Currency::Cny).ok())
        .filter(|m| !m.is_zero())
        .ok_or_else(|| param("amount.total 不合法"))?;
    let store = b.get("scene_info").and_then(|s| s.get("store_info"));
    let has_store = |k| {
        store
            .and_then(|s| json_str(s, k))
            .is_some_and(|v| !v.is_empty())
    };
    if !has_store("id") && !has_store("out_id") {
        return Err(param(
            "/body/scene_info 映射到字段“场景信息”必填性规则校验失败，此字段为必填项",
        ));
    }
    Ok(Charge {
        no,
        description,
        code,
        amount,
    })
}

impl WechatPaySandbox {
    /// `codepay`; with `lose_next_pay_answer` set, it charges and the answer is lost (a 502,
    /// as in a timeout after WeChat took the money).
    pub(super) async fn codepay(&self, b: &Value) -> Reply {
        let reply = self.charge_code(b).await;
        if self.lose_next_pay_answer.swap(false, Ordering::SeqCst) {
            return (StatusCode::BAD_GATEWAY, None);
        }
        reply
    }

    async fn charge_code(&self, b: &Value) -> Reply {
        if json_str(b, "mchid") != Some(self.mchid.as_str())
            || json_str(b, "appid") != Some(self.appid.as_str())
        {
            return err(
                StatusCode::BAD_REQUEST,
                "APPID_MCHID_NOT_MATCH",
                "appid 和 mchid 不匹配",
            );
        }
        let c = match read_charge(b) {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if !matches!(PaymentCode::parse(c.code), Ok(p) if p.wallet() == Wallet::Wechat) {
            return err(StatusCode::BAD_REQUEST, "AUTH_CODE_INVALID", "付款码无效");
        }
        let now = self.clock.now_unix() * 1000;
        let behaviour = match self.ledger.take_pay_code(c.code, c.no, now).await {
            Ok(Some(b)) => b,
            // The same request again (a lost answer): the same answer.
            Ok(None) => {
                return match self.ledger.pay_code_order(c.code).await {
                    Ok(Some(o)) if o == c.no => self.code_answer(c.no).await,
                    Ok(_) => expired(),
                    Err(e) => ledger_err(&e),
                };
            }
            Err(e) => return ledger_err(&e),
        };
        let created = self
            .ledger
            .create("4200", CODE_ORDER_PREFIX, c.no, c.amount, c.description, "")
            .await;
        if let Err(e) = created {
            return ledger_err(&e);
        }
        match behaviour {
            CodeBehaviour::Pay => match self.ledger.pay(c.no).await {
                Ok(_) => self.code_answer(c.no).await,
                Err(e) => ledger_err(&e),
            },
            CodeBehaviour::Password => self.code_answer(c.no).await,
            CodeBehaviour::Decline => match self.ledger.close(c.no).await {
                Ok(_) => ledger_err(&LedgerError::InsufficientBalance),
                Err(e) => ledger_err(&e),
            },
        }
    }

    /// A charged order's answer as it stands now.
    async fn code_answer(&self, no: &str) -> Reply {
        match self.ledger.get(no).await {
            Ok(Some(o)) => match o.state {
                OrderState::Paid => (StatusCode::OK, Some(self.code_paid(&o))),
                OrderState::Pending => err(
                    StatusCode::ACCEPTED,
                    "USERPAYING",
                    "用户支付中，需要输入密码",
                ),
                OrderState::Closed => ledger_err(&LedgerError::Closed),
            },
            Ok(None) => ledger_err(&LedgerError::NotFound),
            Err(e) => ledger_err(&e),
        }
    }

    fn code_paid(&self, o: &SandboxOrder) -> Value {
        let mut v = self.transaction(o);
        v["bank_type"] = "OTHERS".into();
        v["success_time"] = super::rfc3339_beijing(self.clock.now_unix()).into();
        v["payer"] = json!({ "openid": "oSandboxPayer000000000000000" });
        v
    }

    /// 撤销订单: only for orders charged by code.
    pub(super) async fn reverse(&self, no: &str, b: &Value) -> Reply {
        if json_str(b, "mchid") != Some(self.mchid.as_str())
            || json_str(b, "appid") != Some(self.appid.as_str())
        {
            return err(
                StatusCode::BAD_REQUEST,
                "APPID_MCHID_NOT_MATCH",
                "appid 和 mchid 不匹配",
            );
        }
        let o = match self.ledger.get(no).await {
            Ok(Some(o)) => o,
            Ok(None) => return ledger_err(&LedgerError::NotFound),
            Err(e) => return ledger_err(&e),
        };
        if code_order_state(&o).is_none() {
            return err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "仅付款码支付的订单可以撤销",
            );
        }
        let done = match o.state {
            OrderState::Pending => self.ledger.close(no).await.map(|_| ()),
            // What is not refunded yet goes back to the customer.
            OrderState::Paid => match o.refunded().and_then(|r| o.amount.checked_sub(r)) {
                Ok(rest) if rest.is_zero() => Ok(()),
                Ok(rest) => self
                    .ledger
                    .refund(no, &format!("{no}-reverse"), rest)
                    .await
                    .map(|_| ()),
                Err(e) => Err(LedgerError::Money(e)),
            },
            OrderState::Closed => Ok(()),
        };
        match done {
            Ok(()) => (
                StatusCode::OK,
                Some(json!({ "appid": self.appid, "mchid": self.mchid, "out_trade_no": no })),
            ),
            Err(e) => ledger_err(&e),
        }
    }
}
