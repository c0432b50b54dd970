//! The sandbox's answers before they are signed: [`Reply`], success and failure payloads,
//! and the Alipay error codes for ledger failures.

use serde_json::{Value, json};

use crate::sandbox::LedgerError;

pub(super) struct Reply {
    pub(super) key: String,
    pub(super) payload: Value,
}

pub(super) fn ok(method: &str, mut fields: Value) -> Reply {
    fields["code"] = "10000".into();
    fields["msg"] = "Success".into();
    Reply {
        key: response_key(method),
        payload: fields,
    }
}

pub(super) fn fail(method: Option<&str>, code: &str, sub_code: &str, sub_msg: &str) -> Reply {
    let msg = match code {
        "40002" => "Invalid Arguments",
        "40004" => "Business Failed",
        _ => "Service Currently Unavailable",
    };
    Reply {
        key: method.map_or_else(|| "error_response".to_string(), response_key),
        payload: json!({ "code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg }),
    }
}

pub(super) fn response_key(method: &str) -> String {
    crate::provider::alipay::response::response_key(method)
}

pub(super) fn ledger_fail(method: &str, e: &LedgerError) -> Reply {
    let (sub, text) = match e {
        LedgerError::NotFound => ("ACQ.TRADE_NOT_EXIST", "交易不存在"),
        LedgerError::Conflict => ("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"),
        LedgerError::Closed => ("ACQ.TRADE_HAS_CLOSE", "交易已关闭"),
        LedgerError::NotPaid => ("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
        LedgerError::AlreadyPaid => ("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"),
        LedgerError::RefundExceedsAmount => ("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"),
        LedgerError::InsufficientBalance => ("ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足"),
        LedgerError::Money(_) => ("ACQ.INVALID_PARAMETER", "金额不合法"),
        LedgerError::Unavailable => {
            return fail(Some(method), "20000", "ACQ.SYSTEM_ERROR", "系统繁忙");
        }
    };
    fail(Some(method), "40004", sub, text)
}
