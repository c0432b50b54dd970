//! The sandbox's `/pay/micropay` and `/secapi/pay/reverse`: a code from the sandbox
//! wallet page is charged once and does what the wallet was set to do — pay at once,
//! wait for the password (`USERPAYING`, confirmed on the wallet page) or decline
//! (`NOTENOUGH`). Reversing closes an unpaid order and refunds a paid one in full.

use super::{Biz, WechatPayV2Sandbox};
use crate::money::{Currency, Money};
use crate::payment_code::{PaymentCode, Wallet};
use crate::provider::wechatpay_v2::xml::XmlMap;
use crate::sandbox::{CodeBehaviour, LedgerError, OrderState, SandboxOrder};

/// WeChat's codes are 18 digits starting 10–15; the sandbox wallet's start 13.
pub const CODE_PREFIX: &str = "13";
pub const CODE_LEN: usize = 18;

fn biz(code: &'static str, des: &str) -> Biz {
    (code, des.to_string())
}

fn ledger_biz(e: &LedgerError) -> Biz {
    match e {
        LedgerError::Unavailable => biz("SYSTEMERROR", "系统超时，请稍后重试"),
        LedgerError::Conflict => biz("INVALID_REQUEST", "201 商户订单号重复"),
        LedgerError::Closed => biz("ORDERCLOSED", "订单已关闭"),
        LedgerError::NotFound => biz("ORDERNOTEXIST", "订单不存在"),
        other => biz("SYSTEMERROR", &other.to_string()),
    }
}

impl WechatPayV2Sandbox {
    pub(super) async fn micropay(&self, req: &XmlMap) -> Result<XmlMap, Biz> {
        let get = |k: &'static str| {
            req.non_empty(k)
                .map(str::to_string)
                .ok_or_else(|| biz("PARAM_ERROR", &format!("缺少参数 {k}")))
        };
        let body = get("body")?;
        let no = get("out_trade_no")?;
        get("spbill_create_ip")?;
        let fee: i64 = get("total_fee")?
            .parse()
            .map_err(|_| biz("PARAM_ERROR", "total_fee 不合法"))?;
        let amount = Money::new(fee, Currency::Cny)
            .ok()
            .filter(|m| !m.is_zero())
            .ok_or_else(|| biz("PARAM_ERROR", "total_fee 不合法"))?;
        let code = get("auth_code")?;
        let invalid = || biz("AUTH_CODE_INVALID", "授权码检验错误");
        match PaymentCode::parse(&code) {
            Ok(c) if c.wallet() == Wallet::Wechat => {}
            _ => return Err(invalid()),
        }
        let now = self.clock.now_unix() * 1000;
        let behaviour = match self.ledger.take_pay_code(&code, &no, now).await {
            Ok(Some(b)) => b,
            // The same request again (a lost answer): the same answer.
            Ok(None) => {
                return match self.ledger.pay_code_order(&code).await {
                    Ok(Some(o)) if o == no => self.code_answer(&no).await,
                    Ok(_) => Err(biz(
                        "AUTHCODEEXPIRE",
                        "二维码已过期，请用户在微信上刷新后再试",
                    )),
                    Err(e) => Err(ledger_biz(&e)),
                };
            }
            Err(e) => return Err(ledger_biz(&e)),
        };
        self.ledger
            .create("4200", "wxv2_", &no, amount, &body, "")
            .await
            .map_err(|e| ledger_biz(&e))?;
        match behaviour {
            CodeBehaviour::Pay => {
                self.ledger.pay(&no).await.map_err(|e| ledger_biz(&e))?;
                self.code_answer(&no).await
            }
            CodeBehaviour::Password => self.code_answer(&no).await,
            CodeBehaviour::Decline => {
                self.ledger.close(&no).await.map_err(|e| ledger_biz(&e))?;
                Err(biz("NOTENOUGH", "用户余额不足"))
            }
        }
    }

    /// A charged order's answer as it stands now.
    async fn code_answer(&self, no: &str) -> Result<XmlMap, Biz> {
        match self.ledger.get(no).await {
            Ok(Some(o)) => match o.state {
                OrderState::Paid => Ok(self.paid_fields(&o)),
                OrderState::Pending => Err(biz("USERPAYING", "需要用户输入支付密码")),
                OrderState::Closed => Err(biz("ORDERCLOSED", "订单已关闭")),
            },
            Ok(None) => Err(biz("ORDERNOTEXIST", "订单不存在")),
            Err(e) => Err(ledger_biz(&e)),
        }
    }

    fn paid_fields(&self, o: &SandboxOrder) -> XmlMap {
        let fee = o.amount.minor().to_string();
        let mut m = XmlMap::new();
        for (k, v) in [
            ("out_trade_no", o.out_trade_no.as_str()),
            ("transaction_id", o.trade_no.as_str()),
            ("openid", "oSandboxPayer000000000000000"),
            ("is_subscribe", "N"),
            ("trade_type", "MICROPAY"),
            ("bank_type", "OTHERS"),
            ("total_fee", &fee),
            ("fee_type", "CNY"),
            ("cash_fee", &fee),
        ] {
            m.set(k, v);
        }
        m.set("time_end", super::beijing_compact(self.clock.now_unix()));
        m
    }

    pub(super) async fn reverse(&self, req: &XmlMap) -> Result<XmlMap, Biz> {
        let no = req
            .non_empty("out_trade_no")
            .ok_or_else(|| biz("PARAM_ERROR", "缺少参数 out_trade_no"))?;
        let o = match self.ledger.get(no).await {
            Ok(Some(o)) => o,
            Ok(None) => return Err(biz("ORDERNOTEXIST", "订单不存在")),
            Err(e) => return Err(ledger_biz(&e)),
        };
        match o.state {
            OrderState::Pending => {
                self.ledger.close(no).await.map_err(|e| ledger_biz(&e))?;
            }
            OrderState::Paid => {
                let refund_no = format!("{no}-reverse");
                self.ledger
                    .refund(no, &refund_no, o.amount)
                    .await
                    .map_err(|e| ledger_biz(&e))?;
            }
            OrderState::Closed => {}
        }
        let mut m = XmlMap::new();
        m.set("recall", "N");
        Ok(m)
    }
}
