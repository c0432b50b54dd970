//! Alipay gateway sandbox: `POST /gateway.do` with the OpenAPI form parameters.
//!
//! Requests are checked like Alipay does: UTF-8 only, known `app_id`, `sign_type=RSA2`, RSA2
//! signature over the request string-to-sign with the merchant's app public key. Answers are
//! `{"<method>_response":{…},"sign":"…"}` signed over the exact payload text with the
//! sandbox's Alipay key.
//!
//! Certificate mode ("公钥证书", [`AlipayCertSandbox`]): requests must also name the app
//! certificate and Alipay's root chain by SN (`app_cert_sn`, `alipay_root_cert_sn`), and
//! answers are signed with the Alipay certificate that signs now and name it
//! (`alipay_cert_sn`). Alipay's certificates rotate like any [`CertRing`]: the next one is
//! issued (merchants download it from the console), then Alipay signs with it.

mod code_pay;
pub mod keys;

pub use code_pay::{CODE_LEN, CODE_PREFIX};

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::money::{Currency, Money};
use crate::provider::alipay::cert;
use crate::provider::alipay::sign::{SignScope, format_timestamp, string_to_sign};
use crate::provider::crypto::{CryptoError, RsaSigner, RsaVerifier};
use crate::provider::{SharedClock, form};
use crate::sandbox::certs::{CertRing, SandboxCa, VALIDITY_SECS};
use crate::sandbox::{Ledger, LedgerError, OrderState, SandboxOrder, SandboxRefund};

pub struct AlipaySandbox {
    pub app_id: String,
    /// The merchant's app public key (verifies our requests).
    pub app_public_key: RsaVerifier,
    /// The sandbox's "Alipay" key (signs responses and notifications in public-key mode).
    /// The merchant configures its public half as the Alipay public key.
    pub alipay_key: RsaSigner,
    /// Certificate mode, when set.
    pub cert_mode: Option<AlipayCertSandbox>,
    /// Base of the wallet page the QR code points to (`{public}/sandbox/pay/alipay`).
    pub pay_base_url: String,
    pub ledger: Ledger,
    pub clock: SharedClock,
    /// Fault injection (tests): the next `alipay.trade.pay` is carried out but its answer
    /// is lost (HTTP 502), as in a timeout after Alipay charged the code.
    pub lose_next_pay_answer: std::sync::atomic::AtomicBool,
}

/// The three files the Alipay console hands out for certificate mode (PEM).
#[derive(Debug, Clone)]
pub struct AlipayCertFiles {
    /// `appCertPublicKey_<app_id>.crt`
    pub app_cert: String,
    /// `alipayCertPublicKey_RSA2.crt`
    pub alipay_cert: String,
    /// `alipayRootCert.crt`
    pub root_cert: String,
}

/// Alipay's side of certificate mode: its root, the SNs requests must carry, and its own
/// public-key certificates.
#[derive(Debug)]
pub struct AlipayCertSandbox {
    pub ca: SandboxCa,
    pub app_cert_sn: String,
    pub root_cert_sn: String,
    /// Alipay's certificates: the one that signs, and during a rotation the next one.
    pub alipay_certs: CertRing,
}

const ALIPAY_ROOT: &str = "CN=paydesk sandbox Alipay root,OU=paydesk sandbox,O=paydesk,C=CN";
const ALIPAY_CERT: &str = "CN=paydesk sandbox Alipay,OU=paydesk sandbox,O=paydesk,C=CN";

impl AlipayCertSandbox {
    /// Certificate mode for the merchant whose app key is `app_key`: a root, the app
    /// certificate and Alipay's first certificate, valid from `not_before`. Returns it
    /// with the files the merchant configures.
    pub fn issue(
        app_id: &str,
        app_key: &RsaSigner,
        not_before: i64,
    ) -> Result<(AlipayCertSandbox, AlipayCertFiles), CryptoError> {
        let ca = SandboxCa::generate(ALIPAY_ROOT, not_before)?;
        let not_after = not_before + VALIDITY_SECS;
        let app = ca.issue(
            &format!("CN={app_id},OU=paydesk sandbox app,O=paydesk,C=CN"),
            Some(app_key.clone()),
            not_before,
            not_after,
        )?;
        let alipay = ca.issue(ALIPAY_CERT, None, not_before, not_after)?;
        let files = AlipayCertFiles {
            app_cert: app.pem.clone(),
            alipay_cert: alipay.pem.clone(),
            root_cert: ca.cert.pem.clone(),
        };
        let sandbox = AlipayCertSandbox {
            app_cert_sn: cert::cert_sn(&app.pem)?,
            root_cert_sn: cert::root_cert_sn(&ca.cert.pem)?,
            alipay_certs: CertRing::new(alipay),
            ca,
        };
        Ok((sandbox, files))
    }

    /// Issues Alipay's next certificate and publishes it; answers stay signed with the
    /// current one until [`CertRing::sign_with`] switches. Returns its PEM (what the
    /// merchant downloads from the console) and serial.
    pub fn issue_next(&self, not_before: i64) -> Result<(String, String), CryptoError> {
        let next = self
            .ca
            .issue(ALIPAY_CERT, None, not_before, not_before + VALIDITY_SECS)?;
        let out = (next.pem.clone(), next.serial.clone());
        self.alipay_certs.publish(next);
        Ok(out)
    }
}

pub fn router(sb: Arc<AlipaySandbox>) -> Router {
    Router::new()
        .route("/gateway.do", post(gateway))
        .with_state(sb)
}

struct Reply {
    key: String,
    payload: Value,
}

fn ok(method: &str, mut fields: Value) -> Reply {
    fields["code"] = "10000".into();
    fields["msg"] = "Success".into();
    Reply {
        key: response_key(method),
        payload: fields,
    }
}

fn fail(method: Option<&str>, code: &str, sub_code: &str, sub_msg: &str) -> Reply {
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

fn response_key(method: &str) -> String {
    crate::provider::alipay::response::response_key(method)
}

fn ledger_fail(method: &str, e: &LedgerError) -> Reply {
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

impl AlipaySandbox {
    /// The key answers and notifications are signed with now, and in certificate mode the
    /// SN of its certificate.
    fn signer(&self) -> (RsaSigner, Option<String>) {
        let current = self
            .cert_mode
            .as_ref()
            .and_then(|c| c.alipay_certs.signing());
        match current {
            Some(c) => (c.key.clone(), cert::cert_sn(&c.pem).ok()),
            None => (self.alipay_key.clone(), None),
        }
    }

    fn respond(&self, r: Reply) -> Response {
        // Serialized once; the signature covers exactly this text.
        let payload = r.payload.to_string();
        let (key, cert_sn) = self.signer();
        let sign = key.sign_b64(payload.as_bytes());
        let body = match cert_sn {
            Some(sn) => format!(
                r#"{{"{}":{},"alipay_cert_sn":"{sn}","sign":"{}"}}"#,
                r.key, payload, sign
            ),
            None => format!(r#"{{"{}":{},"sign":"{}"}}"#, r.key, payload, sign),
        };
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
            body,
        )
            .into_response()
    }

    async fn handle(&self, body: &[u8]) -> Reply {
        let Ok(pairs) = form::decode(body) else {
            return fail(None, "40002", "isv.invalid-parameter", "请求参数格式错误");
        };
        let p: HashMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let method = p.get("method").copied();
        if let Some(cs) = p.get("charset")
            && !cs.eq_ignore_ascii_case("utf-8")
        {
            return fail(method, "40002", "isv.invalid-charset", "字符集错误");
        }
        if p.get("app_id").copied() != Some(self.app_id.as_str()) {
            return fail(method, "40002", "isv.invalid-app-id", "无效的AppID参数");
        }
        if p.get("sign_type").copied() != Some("RSA2") {
            return fail(
                method,
                "40002",
                "isv.invalid-signature-type",
                "无效的签名类型",
            );
        }
        if let Some(c) = &self.cert_mode {
            let expected = [
                ("app_cert_sn", &c.app_cert_sn, "应用公钥证书序列号不匹配"),
                (
                    "alipay_root_cert_sn",
                    &c.root_cert_sn,
                    "支付宝根证书序列号不匹配",
                ),
            ];
            for (param, sn, text) in expected {
                if p.get(param).copied() != Some(sn.as_str()) {
                    return fail(
                        method,
                        "40002",
                        &format!("isv.invalid-{}", param.replace('_', "-")),
                        text,
                    );
                }
            }
        }
        let sign = p.get("sign").copied().unwrap_or("");
        let sts = string_to_sign(&pairs, SignScope::Request);
        if self
            .app_public_key
            .verify_b64(sts.as_bytes(), sign)
            .is_err()
        {
            return fail(method, "40002", "isv.invalid-signature", "验签出错");
        }
        let Some(method) = method else {
            return fail(None, "40002", "isv.missing-method", "缺少方法名参数");
        };
        let Some(biz) = p
            .get("biz_content")
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        else {
            return fail(
                Some(method),
                "40002",
                "isv.invalid-parameter",
                "biz_content 不合法",
            );
        };
        let s = |k: &str| biz.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let amount = |k: &str| Money::parse_decimal(&s(k), Currency::Cny);
        match method {
            "alipay.trade.precreate" => {
                let Ok(total) = amount("total_amount") else {
                    return fail(
                        Some(method),
                        "40002",
                        "isv.invalid-parameter",
                        "total_amount 不合法",
                    );
                };
                let notify_url = p.get("notify_url").copied().unwrap_or("");
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
            "alipay.trade.pay" => {
                let notify_url = p.get("notify_url").copied().unwrap_or("");
                self.trade_pay(method, &biz, notify_url).await
            }
            "alipay.trade.cancel" => self.trade_cancel(method, &s("out_trade_no")).await,
            "alipay.trade.query" => match self.ledger.get(&s("out_trade_no")).await {
                Ok(Some(o)) => ok(method, trade_fields(&o)),
                Ok(None) => ledger_fail(method, &LedgerError::NotFound),
                Err(e) => ledger_fail(method, &e),
            },
            "alipay.trade.close" => match self.ledger.close(&s("out_trade_no")).await {
                Ok(o) => ok(
                    method,
                    json!({ "out_trade_no": o.out_trade_no, "trade_no": o.trade_no }),
                ),
                Err(e) => ledger_fail(method, &e),
            },
            "alipay.trade.refund" => {
                let Ok(a) = amount("refund_amount") else {
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
            "alipay.trade.fastpay.refund.query" => {
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
            _ => fail(
                Some(method),
                "40004",
                "isv.invalid-method",
                "不存在的方法名",
            ),
        }
    }

    pub fn qr_code(&self, o: &SandboxOrder) -> String {
        format!("{}/{}", self.pay_base_url.trim_end_matches('/'), o.code)
    }

    fn sign_notify(&self, mut params: Vec<(String, String)>) -> Vec<u8> {
        params.push(("sign_type".into(), "RSA2".into()));
        let sts = string_to_sign(&params, SignScope::Notify);
        params.push(("sign".into(), self.signer().0.sign_b64(sts.as_bytes())));
        form::encode(&params).into_bytes()
    }

    fn notify_base(&self, o: &SandboxOrder, status: &str) -> Vec<(String, String)> {
        let now = format_timestamp(self.clock.now_unix());
        vec![
            ("notify_time".into(), now.clone()),
            ("notify_type".into(), "trade_status_sync".into()),
            (
                "notify_id".into(),
                crate::provider::crypto::random_alnum(32),
            ),
            ("charset".into(), "utf-8".into()),
            ("version".into(), "1.0".into()),
            ("app_id".into(), self.app_id.clone()),
            ("auth_app_id".into(), self.app_id.clone()),
            ("trade_no".into(), o.trade_no.clone()),
            ("out_trade_no".into(), o.out_trade_no.clone()),
            ("trade_status".into(), status.into()),
            ("total_amount".into(), o.amount.to_decimal_string()),
            ("receipt_amount".into(), o.amount.to_decimal_string()),
            ("subject".into(), o.subject.clone()),
            ("gmt_payment".into(), now),
        ]
    }

    /// The form body Alipay posts when the order is paid.
    pub fn paid_notify(&self, o: &SandboxOrder) -> Vec<u8> {
        self.sign_notify(self.notify_base(o, "TRADE_SUCCESS"))
    }

    /// The form body Alipay posts after a refund (`refund_fee` is cumulative).
    pub fn refund_notify(&self, o: &SandboxOrder, r: &SandboxRefund) -> Vec<u8> {
        let full = o.refunded().map(|m| m == o.amount).unwrap_or(false);
        let mut p = self.notify_base(
            o,
            if full {
                "TRADE_CLOSED"
            } else {
                "TRADE_SUCCESS"
            },
        );
        p.push(("out_biz_no".into(), r.out_refund_no.clone()));
        p.push((
            "refund_fee".into(),
            o.refunded()
                .map(|m| m.to_decimal_string())
                .unwrap_or_default(),
        ));
        p.push(("gmt_refund".into(), format_timestamp(self.clock.now_unix())));
        self.sign_notify(p)
    }
}

fn trade_fields(o: &SandboxOrder) -> Value {
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

async fn gateway(State(sb): State<Arc<AlipaySandbox>>, body: Bytes) -> Response {
    let reply = sb.handle(&body).await;
    if reply.key == response_key("alipay.trade.pay")
        && sb
            .lose_next_pay_answer
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    {
        return (StatusCode::BAD_GATEWAY, "answer lost").into_response();
    }
    sb.respond(reply)
}

impl crate::sandbox::set::SandboxGateway for AlipaySandbox {
    fn routes(self: Arc<Self>) -> axum::Router {
        router(self)
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn paid_notify(&self, o: &SandboxOrder) -> (Vec<(String, String)>, Vec<u8>) {
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let headers = vec![("Content-Type".to_string(), content_type.to_string())];
        (headers, AlipaySandbox::paid_notify(self, o))
    }

    fn pay_code_format(&self) -> Option<(&'static str, usize)> {
        Some((CODE_PREFIX, CODE_LEN))
    }
}
