//! One handler per gateway method the sandbox answers: `alipay.trade.precreate`, `.query`,
//! `.close`, `.refund` and `.fastpay.refund.query`, each on the shared [`Ledger`].
//!
//! [`Ledger`]: crate::sandbox::Ledger

use serde_json::{Value, json};

use super::AlipaySandbox;
use super::reply::{Reply, fail, ledger_fail, ok};
use crate::money::{Currency, Money, MoneyError};
use crate::sandbox::{LedgerError, OrderState, SandboxOrder};

/// A string field of `biz_content`; `""` when absent.
fn field(biz: &Value, k: &str) -> String {
    biz.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// An amount field of `biz_content`, in yuan.
fn amount(biz: &Value, k: &str) -> Result<Money, MoneyError> {
    Money::parse_decimal(&field(biz, k), Currency::Cny)
}

impl AlipaySandbox {
    pub(super) async fn precreate(&self, method: &str, biz: &Value, notify_url: &str) -> Reply {
        let s = |k: &str| field(biz, k);
        let Ok(total) = amount(biz, "total_amount") else {
            return fail(
                Some(method),
                "40002",
                "isv.invalid-parameter",
                "total_amount 不合法",
            );
        };
        match self
            .ledger
            .create(
                "2024",
                "ali_",
                &s("out_trade_no"),
                total,
                &s("subject"),
                notify_url,
            )
            .await
        {
            Ok(o) => ok(
                method,
                json!({ "out_trade_no": o.out_trade_no, "qr_code": self.qr_code(&o) }),
            ),
            Err(e) => ledger_fail(method, &e),
        }
    }

    pub(super) async fn query(&self, method: &str, biz: &Value) -> Reply {
        match self.ledger.get(&field(biz, "out_trade_no")).await {
            Ok(Some(o)) => ok(method, trade_fields(&o)),
            Ok(None) => ledger_fail(method, &LedgerError::NotFound),
            Err(e) => ledger_fail(method, &e),
        }
    }

    pub(super) async fn close(&self, method: &str, biz: &Value) -> Reply {
        match self.ledger.close(&field(biz, "out_trade_no")).await {
            Ok(o) => ok(
                method,
                json!({ "out_trade_no": o.out_trade_no, "trade_no": o.trade_no }),
            ),
            Err(e) => ledger_fail(method, &e),
        }
    }

    pub(super) async fn refund(&self, method: &str, biz: &Value) -> Reply {
        let s = |k: &str| field(biz, k);
        let Ok(a) = amount(biz, "refund_amount") else {
            return fail(
                Some(method),
                "40002",
                "isv.invalid-parameter",
                "refund_amount 不合法",
            );
        };
        // Without out_request_no Alipay treats the call as one full refund.
        let req_no = match s("out_request_no") {
            n if n.is_empty() => s("out_trade_no"),
            n => n,
        };
        match self.ledger.refund(&s("out_trade_no"), &req_no, a).await {
            Ok((o, _)) => ok(
                method,
                json!({
                    "out_trade_no": o.out_trade_no,
                    "trade_no": o.trade_no,
                    "fund_change": "Y",
                    "refund_fee": o.refunded().map(|m| m.to_decimal_string()).unwrap_or_default(),
                }),
            ),
            Err(e) => ledger_fail(method, &e),
        }
    }

    pub(super) async fn refund_query(&self, method: &str, biz: &Value) -> Reply {
        let s = |k: &str| field(biz, k);
        let o = match self.ledger.get(&s("out_trade_no")).await {
            Ok(o) => o,
            Err(e) => return ledger_fail(method, &e),
        };
        let r = o.as_ref().and_then(|o| {
            o.refunds
                .iter()
                .find(|r| r.out_refund_no == s("out_request_no"))
                .cloned()
        });
        match (o, r) {
            (Some(o), Some(r)) => ok(
                method,
                json!({
                    "out_trade_no": o.out_trade_no,
                    "trade_no": o.trade_no,
                    "out_request_no": r.out_refund_no,
                    "total_amount": o.amount.to_decimal_string(),
                    "refund_amount": r.amount.to_decimal_string(),
                    "refund_status": "REFUND_SUCCESS",
                }),
            ),
            // Alipay answers an unknown refund with success and no refund fields.
            (Some(o), None) => ok(method, json!({ "out_trade_no": o.out_trade_no })),
            (None, _) => ledger_fail(method, &LedgerError::NotFound),
        }
    }
}

pub(super) fn trade_fields(o: &SandboxOrder) -> Value {
    let status = match o.state {
        OrderState::Pending => "WAIT_BUYER_PAY",
        OrderState::Paid => "TRADE_SUCCESS",
        OrderState::Closed => "TRADE_CLOSED",
    };
    json!({
        "out_trade_no": o.out_trade_no,
        "trade_no": o.trade_no,
        "trade_status": status,
        "total_amount": o.amount.to_decimal_string(),
    })
}
