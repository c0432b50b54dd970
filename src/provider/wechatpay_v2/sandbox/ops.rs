//! The five v2 operations of the sandbox, on a request whose signature and account were
//! already checked ([`super::WechatPayV2Sandbox::dispatch`]). Each returns the
//! operation's own answer fields or a v2 business failure.

use super::{Biz, WechatPayV2Sandbox};
use crate::money::{Currency, Money};
use crate::provider::wechatpay_v2::SignType;
use crate::provider::wechatpay_v2::xml::XmlMap;
use crate::sandbox::{LedgerError, OrderState, SandboxOrder, SandboxRefund};

/// `success_time` of refunds: `yyyy-MM-dd HH:mm:ss` in China time.
pub(crate) fn beijing_dashed(unix: i64) -> String {
    use time::macros::{format_description, offset};
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(offset!(+8)).format(&fmt).ok())
        .unwrap_or_default()
}

fn param(req: &XmlMap, key: &'static str) -> Result<String, Biz> {
    req.non_empty(key)
        .map(str::to_string)
        .ok_or(("PARAM_ERROR", format!("缺少参数 {key}")))
}

/// A positive fen amount in CNY.
fn fen(req: &XmlMap, key: &'static str) -> Result<Money, Biz> {
    let raw = param(req, key)?;
    let bad = || ("PARAM_ERROR", format!("{key} 不合法"));
    if raw.len() > 15 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let minor: i64 = raw.parse().map_err(|_| bad())?;
    match Money::new(minor, Currency::Cny) {
        Ok(m) if !m.is_zero() => Ok(m),
        _ => Err(bad()),
    }
}

fn cny_only(req: &XmlMap, key: &'static str) -> Result<(), Biz> {
    match req.non_empty(key) {
        None | Some("CNY") => Ok(()),
        Some(_) => Err(("PARAM_ERROR", format!("{key} 仅支持 CNY"))),
    }
}

fn ledger_err(e: &LedgerError) -> Biz {
    let (code, des) = match e {
        LedgerError::NotFound => ("ORDERNOTEXIST", "订单不存在"),
        LedgerError::Conflict => ("INVALID_REQUEST", "201 商户订单号重复"),
        LedgerError::Closed => ("ORDERCLOSED", "订单已关闭"),
        LedgerError::AlreadyPaid => ("ORDERPAID", "商户订单已支付"),
        LedgerError::NotPaid => ("ERROR", "订单未支付，不能退款"),
        LedgerError::RefundExceedsAmount => ("ERROR", "累计退款金额大于支付金额"),
        LedgerError::InsufficientBalance => ("NOTENOUGH", "基本账户余额不足，请充值后重新发起"),
        LedgerError::Money(_) => ("PARAM_ERROR", "金额不合法"),
        LedgerError::Unavailable => ("SYSTEMERROR", "系统超时，请稍后重试"),
    };
    (code, des.to_string())
}

fn fields<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> XmlMap {
    let mut m = XmlMap::new();
    for (k, v) in pairs {
        m.set(k, v);
    }
    m
}

impl WechatPayV2Sandbox {
    /// The order a request names by `out_trade_no` or `transaction_id`.
    async fn order_of(&self, req: &XmlMap) -> Result<SandboxOrder, Biz> {
        let found = match (
            req.non_empty("out_trade_no"),
            req.non_empty("transaction_id"),
        ) {
            (Some(no), _) => self.ledger.get(no).await,
            (None, Some(tid)) => self.ledger.with_trade_no(tid).await,
            (None, None) => {
                return Err(("PARAM_ERROR", "缺少参数 out_trade_no".into()));
            }
        };
        match found {
            Ok(Some(o)) => Ok(o),
            Ok(None) => Err(ledger_err(&LedgerError::NotFound)),
            Err(e) => Err(ledger_err(&e)),
        }
    }

    pub(super) async fn unified_order(&self, req: &XmlMap, st: SignType) -> Result<XmlMap, Biz> {
        if req.get("trade_type") != Some("NATIVE") {
            return Err(("PARAM_ERROR", "沙箱仅支持 trade_type=NATIVE".into()));
        }
        let body = param(req, "body")?;
        let no = param(req, "out_trade_no")?;
        let amount = fen(req, "total_fee")?;
        param(req, "spbill_create_ip")?;
        let notify_url = param(req, "notify_url")?;
        param(req, "product_id")?;
        cny_only(req, "fee_type")?;
        let o = self
            .ledger
            .create("4200", "wxv2_", &no, amount, &body, &notify_url)
            .await
            .map_err(|e| ledger_err(&e))?;
        self.remember_sign_type(&no, st);
        let prepay_id = format!("wx{}", o.trade_no);
        Ok(fields([
            ("trade_type", "NATIVE"),
            ("prepay_id", prepay_id.as_str()),
            ("code_url", &self.code_url(&o)),
        ]))
    }

    pub(super) async fn order_query(&self, req: &XmlMap) -> Result<XmlMap, Biz> {
        let o = self.order_of(req).await?;
        let (state, desc) = match o.state {
            OrderState::Pending => ("NOTPAY", "订单未支付"),
            OrderState::Paid if !o.refunds.is_empty() => ("REFUND", "订单发生过退款"),
            OrderState::Paid => ("SUCCESS", "支付成功"),
            OrderState::Closed => ("CLOSED", "订单已关闭"),
        };
        let mut m = fields([
            ("out_trade_no", o.out_trade_no.as_str()),
            ("trade_state", state),
            ("trade_state_desc", desc),
        ]);
        if o.state == OrderState::Paid {
            let fee = o.amount.minor().to_string();
            for (k, v) in [
                ("transaction_id", o.trade_no.as_str()),
                ("openid", "oSandboxPayer000000000000000"),
                ("is_subscribe", "N"),
                ("trade_type", "NATIVE"),
                ("bank_type", "OTHERS"),
                ("total_fee", &fee),
                ("fee_type", "CNY"),
                ("cash_fee", &fee),
            ] {
                m.set(k, v);
            }
            m.set("time_end", super::beijing_compact(self.clock.now_unix()));
        }
        Ok(m)
    }

    pub(super) async fn close_order(&self, req: &XmlMap) -> Result<XmlMap, Biz> {
        let no = param(req, "out_trade_no")?;
        let o = self.order_of(req).await?;
        match o.state {
            OrderState::Paid => Err(ledger_err(&LedgerError::AlreadyPaid)),
            OrderState::Closed => Err(ledger_err(&LedgerError::Closed)),
            OrderState::Pending => match self.ledger.close(&no).await {
                Ok(_) => Ok(XmlMap::new()),
                Err(e) => Err(ledger_err(&e)),
            },
        }
    }

    pub(super) async fn refund(&self, req: &XmlMap) -> Result<XmlMap, Biz> {
        let o = self.order_of(req).await?;
        let rno = param(req, "out_refund_no")?;
        let total = fen(req, "total_fee")?;
        let amount = fen(req, "refund_fee")?;
        cny_only(req, "refund_fee_type")?;
        if total != o.amount {
            return Err((
                "INVALID_REQUEST",
                "订单金额或退款金额与之前请求不一致，请核实后再试".into(),
            ));
        }
        let (o, r) = self
            .ledger
            .refund(&o.out_trade_no, &rno, amount)
            .await
            .map_err(|e| ledger_err(&e))?;
        if let Some(url) = req.non_empty("notify_url") {
            self.remember_refund_url(&rno, url);
        }
        let (total, refund) = (o.amount.minor().to_string(), r.amount.minor().to_string());
        Ok(fields([
            ("transaction_id", o.trade_no.as_str()),
            ("out_trade_no", &o.out_trade_no),
            ("out_refund_no", &r.out_refund_no),
            ("refund_id", &r.refund_id),
            ("refund_fee", &refund),
            ("total_fee", &total),
            ("cash_fee", &total),
            ("cash_refund_fee", &refund),
        ]))
    }

    pub(super) async fn refund_query(&self, req: &XmlMap) -> Result<XmlMap, Biz> {
        let not_exist = || ("REFUNDNOTEXIST", "退款订单查询失败".to_string());
        let by_refund = req
            .non_empty("out_refund_no")
            .or_else(|| req.non_empty("refund_id"));
        let (o, refunds): (SandboxOrder, Vec<SandboxRefund>) = match by_refund {
            Some(no) => match self.ledger.find_refund(no).await {
                Ok(Some((o, r))) => (o, vec![r]),
                Ok(None) => return Err(not_exist()),
                Err(e) => return Err(ledger_err(&e)),
            },
            None => {
                let o = self.order_of(req).await?;
                let refunds = o.refunds.clone();
                (o, refunds)
            }
        };
        if refunds.is_empty() {
            return Err(not_exist());
        }
        let total = o.amount.minor().to_string();
        let mut m = fields([
            ("transaction_id", o.trade_no.as_str()),
            ("out_trade_no", &o.out_trade_no),
            ("total_fee", &total),
            ("cash_fee", &total),
        ]);
        m.set("refund_count", refunds.len().to_string());
        let when = beijing_dashed(self.clock.now_unix());
        for (n, r) in refunds.iter().enumerate() {
            let fee = r.amount.minor().to_string();
            m.set(format!("out_refund_no_{n}"), r.out_refund_no.as_str());
            m.set(format!("refund_id_{n}"), r.refund_id.as_str());
            m.set(format!("refund_fee_{n}"), fee.as_str());
            m.set(format!("settlement_refund_fee_{n}"), fee.as_str());
            m.set(format!("refund_status_{n}"), "SUCCESS");
            m.set(format!("refund_recv_accout_{n}"), "支付用户零钱");
            m.set(format!("refund_success_time_{n}"), when.as_str());
        }
        Ok(m)
    }
}
