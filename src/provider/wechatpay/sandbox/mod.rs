//! WeChat Pay APIv3 sandbox (routes relative to the API root: `/v3/…`).
//!
//! Every request must carry a valid `WECHATPAY2-SHA256-RSA2048` Authorization for the
//! configured merchant (serial, 5-minute timestamp window, signature over
//! `METHOD\nURL\nTS\nNONCE\nBODY\n` where URL is the path and query as received). Every
//! answer — errors and empty 204s included — is signed and carries `Wechatpay-Serial`: the
//! `PUB_KEY_ID_…` of the WeChat Pay public key, or the serial of the platform certificate
//! that signs (see [`WechatPaySandbox::sign_with_public_key`]).
//!
//! `GET /v3/certificates` serves the published platform certificates, each encrypted with
//! the merchant's APIv3 key, and is always signed with a platform certificate (as WeChat Pay
//! does: merchants verify it with the certificates it carries). The platform certificates
//! rotate like WeChat Pay's ([`CertRing`]): publish the new one, sign with it, withdraw the
//! old one. 付款码: `code_pay` (codepay, reverse).

mod code_pay;
pub mod keys;

pub use code_pay::{CODE_LEN, CODE_PREFIX};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::money::{Currency, Money};
use crate::provider::crypto::{RsaSigner, RsaVerifier, random_alnum};
use crate::provider::secret::SecretString;
use crate::provider::wechatpay::auth::{parse_authorization, request_message};
use crate::provider::wechatpay::certs::{self, PATH as CERTIFICATES_PATH};
use crate::provider::wechatpay::verify::{MAX_SKEW_SECS, verify_message};
use crate::provider::wechatpay::{resource, rfc3339_beijing};
use crate::provider::{SharedClock, json_str};
use crate::sandbox::certs::CertRing;
use crate::sandbox::{Ledger, LedgerError, OrderState, SandboxOrder, SandboxRefund};

/// The WeChat Pay public key of public-key mode and its id.
#[derive(Debug, Clone)]
pub struct SandboxPublicKey {
    /// `PUB_KEY_ID_…`
    pub id: String,
    pub key: RsaSigner,
}

pub struct WechatPaySandbox {
    pub mchid: String,
    pub appid: String,
    /// Serial and public key of the merchant API certificate (verifies our requests).
    pub merchant_serial: String,
    pub merchant_public_key: RsaVerifier,
    pub apiv3_key: SecretString,
    /// Public-key mode, when this merchant has a WeChat Pay public key.
    pub public_key: Option<SandboxPublicKey>,
    /// The platform certificates: served by `/v3/certificates`, rotating.
    pub platform_certs: CertRing,
    /// Sign answers and notifications with the public key (when there is one) instead of
    /// the signing platform certificate. Switchable at run time, like a merchant migrating
    /// between the two modes.
    pub sign_with_public_key: AtomicBool,
    /// Fault injection for tests: the next codepay charges, and its answer is lost.
    pub lose_next_pay_answer: AtomicBool,
    pub pay_base_url: String,
    pub ledger: Ledger,
    pub clock: SharedClock,
}

impl std::fmt::Debug for WechatPaySandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPaySandbox")
            .field("mchid", &self.mchid)
            .field("platform_certs", &self.platform_certs)
            .finish_non_exhaustive()
    }
}

pub fn router(sb: Arc<WechatPaySandbox>) -> Router {
    Router::new().fallback(handle).with_state(sb)
}

type Reply = (StatusCode, Option<Value>);

fn err(status: StatusCode, code: &str, message: &str) -> Reply {
    (status, Some(json!({ "code": code, "message": message })))
}

fn ledger_err(e: &LedgerError) -> Reply {
    match e {
        LedgerError::NotFound => err(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"),
        LedgerError::Conflict => err(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "订单号重复"),
        LedgerError::Closed => err(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "订单已关闭"),
        LedgerError::AlreadyPaid => err(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付"),
        LedgerError::NotPaid => err(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "订单未支付"),
        LedgerError::RefundExceedsAmount => err(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "退款金额超过订单可退金额",
        ),
        LedgerError::InsufficientBalance => {
            err(StatusCode::FORBIDDEN, "NOT_ENOUGH", "基本账户余额不足")
        }
        LedgerError::Money(_) => err(StatusCode::BAD_REQUEST, "PARAM_ERROR", "金额不合法"),
        LedgerError::Unavailable => err(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误",
        ),
    }
}

impl WechatPaySandbox {
    /// The serial and key answers and notifications are signed with now.
    fn signer(&self) -> Option<(String, RsaSigner)> {
        let public = self
            .public_key
            .as_ref()
            .filter(|_| self.sign_with_public_key.load(Ordering::Relaxed))
            .map(|p| (p.id.clone(), p.key.clone()));
        public.or_else(|| self.certificate_signer())
    }

    fn certificate_signer(&self) -> Option<(String, RsaSigner)> {
        self.platform_certs
            .signing()
            .map(|c| (c.serial.clone(), c.key.clone()))
    }

    /// Headers signed like WeChat Pay signs responses and notifications (none when the
    /// sandbox has no key at all).
    pub fn signed_headers(&self, body: &[u8]) -> Vec<(&'static str, String)> {
        self.signer()
            .map(|signer| self.headers_signed_by(&signer, body))
            .unwrap_or_default()
    }

    fn headers_signed_by(
        &self,
        (serial, key): &(String, RsaSigner),
        body: &[u8],
    ) -> Vec<(&'static str, String)> {
        let ts = self.clock.now_unix().to_string();
        let nonce = random_alnum(32);
        let sig = key.sign_b64(&verify_message(&ts, &nonce, body));
        vec![
            ("Wechatpay-Timestamp", ts),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Serial", serial.clone()),
            ("Wechatpay-Signature", sig),
            (
                "Wechatpay-Signature-Type",
                "WECHATPAY2-SHA256-RSA2048".into(),
            ),
        ]
    }

    fn respond(&self, (status, body): Reply, signer: Option<(String, RsaSigner)>) -> Response {
        let text = body.map(|v| v.to_string()).unwrap_or_default();
        let mut resp = (status, text.clone()).into_response();
        let h = resp.headers_mut();
        let signed = match signer.or_else(|| self.signer()) {
            Some(s) => self.headers_signed_by(&s, text.as_bytes()),
            None => Vec::new(),
        };
        for (k, v) in signed {
            if let Ok(v) = v.parse() {
                h.insert(k, v);
            }
        }
        if let Ok(v) = "application/json".parse() {
            h.insert(header::CONTENT_TYPE, v);
        }
        if let Ok(v) = random_alnum(24).parse() {
            h.insert("Request-ID", v);
        }
        resp
    }

    /// Our rules for the merchant's Authorization header.
    fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Reply> {
        let denied = |m: &str| err(StatusCode::UNAUTHORIZED, "SIGN_ERROR", m);
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_authorization)
            .ok_or_else(|| denied("Authorization 缺失或格式错误"))?;
        if auth.mchid != self.mchid {
            return Err(denied("商户号与签名不匹配"));
        }
        if !auth.serial_no.eq_ignore_ascii_case(&self.merchant_serial) {
            return Err(denied("商户证书序列号有误"));
        }
        // abs_diff: a timestamp near i64::MIN (anyone can send one) must not overflow.
        if self.clock.now_unix().abs_diff(auth.timestamp) > MAX_SKEW_SECS.unsigned_abs() {
            return Err(denied("请求时间戳已过期"));
        }
        let body = std::str::from_utf8(body).map_err(|_| denied("请求体不是 UTF-8"))?;
        let url = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let msg = request_message(method.as_str(), url, auth.timestamp, &auth.nonce_str, body);
        self.merchant_public_key
            .verify_b64(msg.as_bytes(), &auth.signature)
            .map_err(|_| denied("签名错误"))
    }

    async fn route(&self, method: &Method, path: &str, body: &[u8]) -> Reply {
        let json_body = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segs.as_slice()) {
            ("POST", ["v3", "pay", "transactions", "native"]) => self.native(&json_body()).await,
            ("POST", ["v3", "pay", "transactions", "codepay"]) => self.codepay(&json_body()).await,
            ("POST", ["v3", "pay", "transactions", "out-trade-no", no, "reverse"]) => {
                self.reverse(no, &json_body()).await
            }
            ("GET", ["v3", "pay", "transactions", "out-trade-no", no]) => {
                match self.ledger.get(no).await {
                    Ok(Some(o)) => (StatusCode::OK, Some(self.transaction(&o))),
                    Ok(None) => ledger_err(&LedgerError::NotFound),
                    Err(e) => ledger_err(&e),
                }
            }
            ("POST", ["v3", "pay", "transactions", "out-trade-no", no, "close"]) => {
                if json_str(&json_body(), "mchid") != Some(self.mchid.as_str()) {
                    return err(StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 不匹配");
                }
                match self.ledger.close(no).await {
                    Ok(_) => (StatusCode::NO_CONTENT, None),
                    Err(e) => ledger_err(&e),
                }
            }
            ("POST", ["v3", "refund", "domestic", "refunds"]) => self.refund(&json_body()).await,
            ("GET", ["v3", "refund", "domestic", "refunds", no]) => {
                match self.ledger.find_refund(no).await {
                    Ok(Some((o, r))) => (StatusCode::OK, Some(refund_json(&o, &r))),
                    Ok(None) => err(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在"),
                    Err(e) => ledger_err(&e),
                }
            }
            ("GET", ["v3", "certificates"]) => self.certificates(),
            _ => err(StatusCode::NOT_FOUND, "NOT_FOUND", "接口不存在"),
        }
    }

    async fn native(&self, b: &Value) -> Reply {
        if json_str(b, "mchid") != Some(self.mchid.as_str())
            || json_str(b, "appid") != Some(self.appid.as_str())
        {
            return err(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "appid 或 mchid 不匹配",
            );
        }
        let total = b
            .get("amount")
            .and_then(|a| a.get("total"))
            .and_then(Value::as_i64);
        let Some(Ok(amount)) = total.map(|t| Money::new(t, Currency::Cny)) else {
            return err(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "amount.total 不合法",
            );
        };
        if amount.is_zero() {
            return err(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "amount.total 必须大于 0",
            );
        }
        let (Some(no), Some(desc), Some(url)) = (
            json_str(b, "out_trade_no"),
            json_str(b, "description"),
            json_str(b, "notify_url"),
        ) else {
            return err(StatusCode::BAD_REQUEST, "PARAM_ERROR", "缺少必填参数");
        };
        match self
            .ledger
            .create("4200", "wx_", no, amount, desc, url)
            .await
        {
            Ok(o) => (
                StatusCode::OK,
                Some(json!({ "code_url": self.code_url(&o) })),
            ),
            Err(e) => ledger_err(&e),
        }
    }

    async fn refund(&self, b: &Value) -> Reply {
        let a = b.get("amount");
        let get = |k: &str| a.and_then(|a| a.get(k)).and_then(Value::as_i64);
        let (Some(no), Some(rno), Some(refund), Some(total)) = (
            json_str(b, "out_trade_no"),
            json_str(b, "out_refund_no"),
            get("refund"),
            get("total"),
        ) else {
            return err(StatusCode::BAD_REQUEST, "PARAM_ERROR", "缺少必填参数");
        };
        let order = match self.ledger.get(no).await {
            Ok(Some(order)) => order,
            Ok(None) => return ledger_err(&LedgerError::NotFound),
            Err(e) => return ledger_err(&e),
        };
        if order.amount.minor() != total {
            return err(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "订单金额与原订单不符",
            );
        }
        let Ok(amount) = Money::new(refund, Currency::Cny) else {
            return err(StatusCode::BAD_REQUEST, "PARAM_ERROR", "退款金额不合法");
        };
        match self.ledger.refund(no, rno, amount).await {
            Ok((o, r)) => (StatusCode::OK, Some(refund_json(&o, &r))),
            Err(e) => ledger_err(&e),
        }
    }

    /// `GET /v3/certificates`: every published platform certificate, encrypted with the
    /// APIv3 key (associated data `certificate`).
    fn certificates(&self) -> Reply {
        let published = self.platform_certs.published();
        if published.is_empty() {
            return err(StatusCode::NOT_FOUND, "NOT_FOUND", "商户未开通平台证书");
        }
        let mut data = Vec::with_capacity(published.len());
        for cert in published {
            let Ok(enc) = resource::encrypt(
                self.apiv3_key.expose().as_bytes(),
                &random_alnum(12),
                certs::ASSOCIATED_DATA,
                cert.pem.as_bytes(),
                None,
            ) else {
                return err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    "加密失败",
                );
            };
            data.push(json!({
                "serial_no": cert.serial,
                "effective_time": rfc3339_beijing(cert.not_before),
                "expire_time": rfc3339_beijing(cert.not_after),
                "encrypt_certificate": enc,
            }));
        }
        (StatusCode::OK, Some(json!({ "data": data })))
    }

    pub fn code_url(&self, o: &SandboxOrder) -> String {
        format!("{}/{}", self.pay_base_url.trim_end_matches('/'), o.code)
    }

    fn transaction(&self, o: &SandboxOrder) -> Value {
        let by_code = code_pay::code_order_state(o);
        let (state, desc) = by_code.unwrap_or(match o.state {
            OrderState::Pending => ("NOTPAY", "未支付"),
            OrderState::Paid if !o.refunds.is_empty() => ("REFUND", "转入退款"),
            OrderState::Paid => ("SUCCESS", "支付成功"),
            OrderState::Closed => ("CLOSED", "已关闭"),
        });
        let mut v = json!({
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": o.out_trade_no,
            "trade_type": if by_code.is_some() { "MICROPAY" } else { "NATIVE" },
            "trade_state": state,
            "trade_state_desc": desc,
            "amount": { "total": o.amount.minor(), "currency": "CNY" },
        });
        if o.state == OrderState::Paid {
            v["transaction_id"] = o.trade_no.clone().into();
            v["amount"]["payer_total"] = o.amount.minor().into();
            v["amount"]["payer_currency"] = "CNY".into();
        }
        v
    }

    fn notify(
        &self,
        event_type: &str,
        summary: &str,
        original_type: &str,
        resource_json: &Value,
    ) -> (Vec<(&'static str, String)>, Vec<u8>) {
        let res = resource::encrypt(
            self.apiv3_key.expose().as_bytes(),
            &random_alnum(12),
            original_type,
            resource_json.to_string().as_bytes(),
            Some(original_type),
        );
        let body = json!({
            "id": crate::provider::crypto::random_alnum(36),
            "create_time": "2024-01-01T12:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": res.ok(),
        })
        .to_string()
        .into_bytes();
        (self.signed_headers(&body), body)
    }

    /// Headers and body of the `TRANSACTION.SUCCESS` notification for a paid order.
    pub fn paid_notify(&self, o: &SandboxOrder) -> (Vec<(&'static str, String)>, Vec<u8>) {
        let mut t = self.transaction(o);
        t["trade_state"] = "SUCCESS".into();
        self.notify("TRANSACTION.SUCCESS", "支付成功", "transaction", &t)
    }

    /// Headers and body of the `REFUND.SUCCESS` notification.
    pub fn refund_notify(
        &self,
        o: &SandboxOrder,
        r: &SandboxRefund,
    ) -> (Vec<(&'static str, String)>, Vec<u8>) {
        let mut v = refund_json(o, r);
        v["mchid"] = self.mchid.clone().into();
        v["refund_status"] = "SUCCESS".into();
        self.notify("REFUND.SUCCESS", "退款成功", "refund", &v)
    }
}

fn refund_json(o: &SandboxOrder, r: &SandboxRefund) -> Value {
    json!({
        "refund_id": r.refund_id,
        "out_refund_no": r.out_refund_no,
        "transaction_id": o.trade_no,
        "out_trade_no": o.out_trade_no,
        "channel": "ORIGINAL",
        "status": "SUCCESS",
        "amount": {
            "total": o.amount.minor(),
            "refund": r.amount.minor(),
            "payer_total": o.amount.minor(),
            "payer_refund": r.amount.minor(),
            "currency": "CNY",
        },
    })
}

async fn handle(
    State(sb): State<Arc<WechatPaySandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(reply) = sb.authenticate(&method, &uri, &headers, &body) {
        return sb.respond(reply, None);
    }
    let reply = sb.route(&method, uri.path(), &body).await;
    // The certificate download is signed with a platform certificate in either mode.
    let signer = (method == Method::GET && uri.path() == CERTIFICATES_PATH)
        .then(|| sb.certificate_signer())
        .flatten();
    sb.respond(reply, signer)
}

impl crate::sandbox::set::SandboxGateway for WechatPaySandbox {
    fn routes(self: Arc<Self>) -> axum::Router {
        router(self)
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn paid_notify(&self, o: &SandboxOrder) -> (Vec<(String, String)>, Vec<u8>) {
        let (h, body) = WechatPaySandbox::paid_notify(self, o);
        let mut headers: Vec<(String, String)> =
            h.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
        (headers, body)
    }

    fn pay_code_format(&self) -> Option<(&'static str, usize)> {
        Some((CODE_PREFIX, CODE_LEN))
    }
}
