//! The sandbox's `alipay.trade.pay` (`scene=bar_code`) and `alipay.trade.cancel`: a code
//! from the sandbox wallet page is charged once, and does what the wallet was set to do —
//! pay at once (`10000`), wait for the customer's password (`10003`, confirmed on the
//! wallet page) or decline for lack of balance (`40004 ACQ.BUYER_BALANCE_NOT_ENOUGH`).

use serde_json::{Value, json};

use super::AlipaySandbox;
use super::methods::trade_fields;
use super::reply::{Reply, fail, ledger_fail, ok, response_key};
use crate::money::{Currency, Money};
use crate::payment_code::{PaymentCode, Wallet};
use crate::provider::alipay::sign::format_timestamp;
use crate::sandbox::{CodeBehaviour, LedgerError, OrderState, SandboxOrder};

/// Alipay's codes start 25–30; the sandbox wallet's are 28 and 18 digits.
pub const CODE_PREFIX: &str = "28";
pub const CODE_LEN: usize = 18;

/// An unknown, used, expired or non-Alipay code.
fn code_invalid(method: &str) -> Reply {
    fail(
        Some(method),
        "40004",
        "ACQ.PAYMENT_AUTH_CODE_INVALID",
        "支付授权码无效",
    )
}

impl AlipaySandbox {
    pub(super) async fn trade_pay(&self, method: &str, biz: &Value, notify_url: &str) -> Reply {
        let s = |k: &str| biz.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if s("scene") != "bar_code" {
            return fail(
                Some(method),
                "40002",
                "isv.invalid-parameter",
                "scene 不合法",
            );
        }
        let Ok(total) = Money::parse_decimal(&s("total_amount"), Currency::Cny) else {
            return fail(
                Some(method),
                "40002",
                "isv.invalid-parameter",
                "total_amount 不合法",
            );
        };
        let out_trade_no = s("out_trade_no");
        let auth_code = s("auth_code");
        let invalid = || code_invalid(method);
        match PaymentCode::parse(&auth_code) {
            Ok(c) if c.wallet() == Wallet::Alipay => {}
            _ => return invalid(),
        }
        let now = self.clock.now_unix() * 1000;
        let behaviour = match self
            .ledger
            .take_pay_code(&auth_code, &out_trade_no, now)
            .await
        {
            Ok(Some(b)) => b,
            // The same request again (a till retrying after a lost answer): the same answer.
            Ok(None) => match self.ledger.pay_code_order(&auth_code).await {
                Ok(Some(o)) if o == out_trade_no => {
                    return self.replay(method, &out_trade_no).await;
                }
                Ok(_) => return invalid(),
                Err(e) => return ledger_fail(method, &e),
            },
            Err(e) => return ledger_fail(method, &e),
        };
        let created = self
            .ledger
            .create(
                "2024",
                "ali_",
                &out_trade_no,
                total,
                &s("subject"),
                notify_url,
            )
            .await;
        if let Err(e) = created {
            return ledger_fail(method, &e);
        }
        match behaviour {
            CodeBehaviour::Pay => match self.ledger.pay_and_notify(&out_trade_no).await {
                Ok(o) => ok(method, self.paid_fields(&o)),
                Err(e) => ledger_fail(method, &e),
            },
            CodeBehaviour::Password => self.replay(method, &out_trade_no).await,
            CodeBehaviour::Decline => {
                if let Err(e) = self.ledger.close(&out_trade_no).await {
                    return ledger_fail(method, &e);
                }
                fail(
                    Some(method),
                    "40004",
                    "ACQ.BUYER_BALANCE_NOT_ENOUGH",
                    "买家余额不足",
                )
            }
        }
    }

    /// The answer for an order charged by a code, as it stands now.
    async fn replay(&self, method: &str, out_trade_no: &str) -> Reply {
        match self.ledger.get(out_trade_no).await {
            Ok(Some(o)) => match o.state {
                OrderState::Paid => ok(method, self.paid_fields(&o)),
                OrderState::Pending => Reply {
                    key: response_key(method),
                    payload: json!({
                        "code": "10003",
                        "msg": "等待用户付款",
                        "out_trade_no": o.out_trade_no,
                        "trade_no": o.trade_no,
                        "total_amount": o.amount.to_decimal_string(),
                    }),
                },
                OrderState::Closed => ledger_fail(method, &LedgerError::Closed),
            },
            Ok(None) => ledger_fail(method, &LedgerError::NotFound),
            Err(e) => ledger_fail(method, &e),
        }
    }

    fn paid_fields(&self, o: &SandboxOrder) -> Value {
        let mut v = trade_fields(o);
        v["buyer_logon_id"] = "san***@sandbox.paydesk".into();
        v["receipt_amount"] = o.amount.to_decimal_string().into();
        v["gmt_payment"] = format_timestamp(self.clock.now_unix()).into();
        v
    }

    /// Stops the payment: an unpaid one is closed (`action=close`); a paid one is refunded
    /// in full (`action=refund`), as Alipay does.
    pub(super) async fn trade_cancel(&self, method: &str, out_trade_no: &str) -> Reply {
        let order = match self.ledger.get(out_trade_no).await {
            Ok(Some(o)) => o,
            Ok(None) => return ledger_fail(method, &LedgerError::NotFound),
            Err(e) => return ledger_fail(method, &e),
        };
        let action = match order.state {
            OrderState::Pending | OrderState::Closed => match self.ledger.close(out_trade_no).await
            {
                Ok(_) | Err(LedgerError::Closed) => "close",
                Err(e) => return ledger_fail(method, &e),
            },
            OrderState::Paid => {
                let refund_no = format!("{out_trade_no}-cancel");
                match self
                    .ledger
                    .refund(out_trade_no, &refund_no, order.amount)
                    .await
                {
                    Ok(_) => "refund",
                    Err(e) => return ledger_fail(method, &e),
                }
            }
        };
        ok(
            method,
            json!({
                "out_trade_no": order.out_trade_no,
                "trade_no": order.trade_no,
                "retry_flag": "N",
                "action": action,
            }),
        )
    }
}
