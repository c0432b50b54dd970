//! The WeChat Pay API v2 sandbox: an `axum::Router` with v2's relative routes
//! (`/pay/unifiedorder`, `/pay/orderquery`, `/pay/closeorder`, `/secapi/pay/refund`,
//! `/pay/refundquery`) over a [`Ledger`], answering like the gateway:
//! - an unparsable body or a bad signature: `return_code=FAIL` with a `return_msg` and no
//!   `sign` (the gateway's "签名错误");
//! - otherwise a signed answer (same `sign_type` as the request) with `result_code` and,
//!   on failure, v2's `err_code`s (`ORDERPAID`, `ORDERCLOSED`, `ORDERNOTEXIST`,
//!   `REFUNDNOTEXIST`, `NOTENOUGH`, `ERROR`, `INVALID_REQUEST`, `PARAM_ERROR`,
//!   `APPID_MCHID_NOT_MATCH`, `SYSTEMERROR`);
//! - `/secapi/pay/refund` only over mutual TLS ([`tls::serve_tls`]): a request that did
//!   not come with a verified merchant certificate is refused even when the router is
//!   mounted without TLS.
//!
//! It also builds the notifications the gateway would send ([`V2Notification`]): the
//! signed payment notification and the refund notification with its encrypted
//! `req_info`.
//!
//! Two things the shared [`Ledger`] does not store are kept in memory here: the
//! `sign_type` an order was created with (its notification is signed the same way) and
//! the `notify_url` of each refund (without one, WeChat uses the order's, as here).

mod code_pay;
pub mod keys;
mod ops;
pub mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::client::{
    CLOSE_ORDER_PATH, ORDER_QUERY_PATH, REFUND_PATH, REFUND_QUERY_PATH, REVERSE_PATH,
    UNIFIED_ORDER_PATH,
};
use super::code_pay::MICROPAY_PATH;
use super::crypt::encrypt_req_info;
use super::sign::{SignType, sign, verify};
use super::xml::{self, XmlMap, write_xml};
use super::{WechatPayV2Config, beijing_compact};
use crate::provider::SharedClock;
use crate::provider::crypto::random_alnum;
use crate::provider::secret::{SecretString, mask_url};
use crate::sandbox::{Ledger, SandboxOrder, SandboxRefund};
pub use keys::{SandboxV2Keys, SandboxV2KeysDoc};
pub use tls::{SandboxTls, TlsPeer, serve_tls};

/// A v2 business failure: `err_code` and `err_code_des`.
pub(crate) type Biz = (&'static str, String);

/// One notification as the gateway would POST it. `Debug` shows no body (it is signed
/// and names the payer).
#[derive(Clone)]
pub struct V2Notification {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub out_trade_no: String,
}

impl std::fmt::Debug for V2Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2Notification")
            .field("url", &mask_url(&self.url))
            .field("out_trade_no", &self.out_trade_no)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Remembered {
    /// out_trade_no → the sign type of its unified order.
    sign_types: HashMap<String, SignType>,
    /// out_refund_no → the refund's notify_url.
    refund_urls: HashMap<String, String>,
}

pub struct WechatPayV2Sandbox {
    pub appid: String,
    pub mch_id: String,
    /// The merchant API key: verifies requests, signs answers, encrypts `req_info`.
    pub api_key: SecretString,
    /// Base of the wallet page that `code_url`s point to (`{base}/{pay code}`).
    pub pay_base_url: String,
    pub ledger: Ledger,
    pub clock: SharedClock,
    remembered: Mutex<Remembered>,
}

impl std::fmt::Debug for WechatPayV2Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayV2Sandbox")
            .field("appid", &self.appid)
            .field("mch_id", &self.mch_id)
            .finish_non_exhaustive()
    }
}

/// A v2 answer of the gateway itself (`return_code=FAIL`, unsigned).
fn return_fail(msg: &str) -> String {
    write_xml([("return_code", "FAIL"), ("return_msg", msg)])
}

impl WechatPayV2Sandbox {
    pub fn new(
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        api_key: SecretString,
        pay_base_url: impl Into<String>,
        ledger: Ledger,
        clock: SharedClock,
    ) -> WechatPayV2Sandbox {
        WechatPayV2Sandbox {
            appid: appid.into(),
            mch_id: mch_id.into(),
            api_key,
            pay_base_url: pay_base_url.into(),
            ledger,
            clock,
            remembered: Mutex::new(Remembered::default()),
        }
    }

    /// A sandbox merchant with fresh credentials: `wx…` appid, 10-digit `mch_id`, a
    /// 32-character API key (what the merchant platform lets merchants set).
    pub fn generate(pay_base_url: &str, ledger: Ledger, clock: SharedClock) -> WechatPayV2Sandbox {
        let digits: String = (0..8)
            .map(|_| char::from(b'0' + rand::random::<u8>() % 10))
            .collect();
        WechatPayV2Sandbox::new(
            format!("wx{}", random_alnum(16).to_ascii_lowercase()),
            format!("16{digits}"),
            SecretString::new(random_alnum(32)),
            pay_base_url,
            ledger,
            clock,
        )
    }

    /// A channel configuration that talks to this sandbox at `base_url` (the
    /// [`serve_tls`] URL), presenting the merchant certificate of `tls`.
    pub fn client_config(
        &self,
        channel: &str,
        base_url: &str,
        tls: &SandboxTls,
    ) -> Result<WechatPayV2Config, crate::provider::crypto::CryptoError> {
        Ok(WechatPayV2Config {
            channel: channel.to_string(),
            appid: self.appid.clone(),
            mch_id: self.mch_id.clone(),
            api_key: self.api_key.clone(),
            sign_type: SignType::Md5,
            base_url: base_url.to_string(),
            spbill_create_ip: "127.0.0.1".into(),
            identity: Some(tls.client_identity()?),
            root_ca_pem: Some(tls.ca_pem().to_string()),
        })
    }

    fn remember<T>(&self, f: impl FnOnce(&mut Remembered) -> T) -> T {
        let mut g = self.remembered.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    pub(crate) fn remember_sign_type(&self, out_trade_no: &str, st: SignType) {
        self.remember(|r| r.sign_types.insert(out_trade_no.to_string(), st));
    }

    pub(crate) fn remember_refund_url(&self, out_refund_no: &str, url: &str) {
        self.remember(|r| {
            r.refund_urls
                .insert(out_refund_no.to_string(), url.to_string())
        });
    }

    pub fn code_url(&self, o: &SandboxOrder) -> String {
        format!("{}/{}", self.pay_base_url.trim_end_matches('/'), o.code)
    }

    /// `fields` signed with `st` (no `sign_type` added: answers do not carry one).
    fn signed(&self, mut fields: XmlMap, st: SignType) -> String {
        let s = sign(fields.iter(), st, &self.api_key);
        fields.set("sign", s);
        fields.to_xml()
    }

    /// The envelope of every signed answer around an operation's outcome.
    fn answer(&self, outcome: Result<XmlMap, Biz>, st: SignType) -> String {
        let mut m = XmlMap::new();
        m.set("return_code", "SUCCESS");
        m.set("return_msg", "OK");
        m.set("appid", self.appid.as_str());
        m.set("mch_id", self.mch_id.as_str());
        m.set("nonce_str", random_alnum(32));
        match outcome {
            Ok(fields) => {
                m.set("result_code", "SUCCESS");
                for (k, v) in fields.iter() {
                    m.set(k, v);
                }
            }
            Err((code, des)) => {
                m.set("result_code", "FAIL");
                m.set("err_code", code);
                m.set("err_code_des", des);
            }
        }
        self.signed(m, st)
    }

    /// Checks a request and runs the operation at `path`.
    async fn dispatch(&self, path: &str, peer: Option<&TlsPeer>, body: &[u8]) -> String {
        let Ok(req) = xml::parse(body) else {
            return return_fail("XML格式错误");
        };
        let st = match req.non_empty("sign_type").map(SignType::parse) {
            None => SignType::Md5,
            Some(Ok(st)) => st,
            Some(Err(_)) => return return_fail("签名类型错误"),
        };
        if verify(&req, st, &self.api_key).is_err() {
            return return_fail("签名错误");
        }
        let needs_cert = path == REFUND_PATH || path == REVERSE_PATH;
        if needs_cert && peer.and_then(|p| p.client_cert_serial.as_ref()).is_none() {
            return return_fail("请使用商户API证书调用此接口");
        }
        if req.non_empty("nonce_str").is_none() {
            return self.answer(Err(("PARAM_ERROR", "缺少参数 nonce_str".into())), st);
        }
        if req.get("appid") != Some(self.appid.as_str())
            || req.get("mch_id") != Some(self.mch_id.as_str())
        {
            let e = ("APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配".to_string());
            return self.answer(Err(e), st);
        }
        let outcome = match path {
            UNIFIED_ORDER_PATH => self.unified_order(&req, st).await,
            ORDER_QUERY_PATH => self.order_query(&req).await,
            CLOSE_ORDER_PATH => self.close_order(&req).await,
            REFUND_PATH => self.refund(&req).await,
            REFUND_QUERY_PATH => self.refund_query(&req).await,
            MICROPAY_PATH => self.micropay(&req).await,
            REVERSE_PATH => self.reverse(&req).await,
            _ => Err(("INVALID_REQUEST", "接口不存在".into())),
        };
        self.answer(outcome, st)
    }

    /// The payment notification of a paid order, signed like its unified order was.
    pub fn paid_notification(&self, o: &SandboxOrder) -> V2Notification {
        let st = self
            .remember(|r| r.sign_types.get(&o.out_trade_no).copied())
            .unwrap_or_default();
        let mut m = XmlMap::new();
        let fee = o.amount.minor().to_string();
        let fields = [
            ("return_code", "SUCCESS"),
            ("appid", &self.appid),
            ("mch_id", &self.mch_id),
            ("result_code", "SUCCESS"),
            ("openid", "oSandboxPayer000000000000000"),
            ("is_subscribe", "N"),
            ("trade_type", "NATIVE"),
            ("bank_type", "OTHERS"),
            ("total_fee", &fee),
            ("fee_type", "CNY"),
            ("cash_fee", &fee),
            ("transaction_id", &o.trade_no),
            ("out_trade_no", &o.out_trade_no),
        ];
        for (k, v) in fields {
            m.set(k, v);
        }
        m.set("nonce_str", random_alnum(32));
        m.set("time_end", beijing_compact(self.clock.now_unix()));
        if st == SignType::HmacSha256 {
            m.set("sign_type", st.as_str());
        }
        notification(o.notify_url.clone(), self.signed(m, st), &o.out_trade_no)
    }

    /// The refund notification: unsigned, the refund in `req_info` encrypted with the
    /// API key.
    pub fn refund_notification(&self, o: &SandboxOrder, r: &SandboxRefund) -> V2Notification {
        let url = self
            .remember(|m| m.refund_urls.get(&r.out_refund_no).cloned())
            .unwrap_or_else(|| o.notify_url.clone());
        let mut info = XmlMap::new();
        let (total, refund) = (o.amount.minor().to_string(), r.amount.minor().to_string());
        let fields = [
            ("transaction_id", o.trade_no.as_str()),
            ("out_trade_no", &o.out_trade_no),
            ("refund_id", &r.refund_id),
            ("out_refund_no", &r.out_refund_no),
            ("total_fee", &total),
            ("settlement_total_fee", &total),
            ("refund_fee", &refund),
            ("settlement_refund_fee", &refund),
            ("refund_status", "SUCCESS"),
            ("refund_recv_accout", "支付用户零钱"),
            ("refund_account", "REFUND_SOURCE_RECHARGE_FUNDS"),
            ("refund_request_source", "API"),
        ];
        for (k, v) in fields {
            info.set(k, v);
        }
        info.set("success_time", ops::beijing_dashed(self.clock.now_unix()));
        let body = write_xml([
            ("return_code", "SUCCESS"),
            ("appid", self.appid.as_str()),
            ("mch_id", self.mch_id.as_str()),
            ("nonce_str", &random_alnum(32)),
            ("req_info", &encrypt_req_info(&info, &self.api_key)),
        ]);
        notification(url, body, &o.out_trade_no)
    }
}

fn notification(url: String, body: String, out_trade_no: &str) -> V2Notification {
    V2Notification {
        url,
        headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
        body: body.into_bytes(),
        out_trade_no: out_trade_no.to_string(),
    }
}

/// The v2 routes (POST only, as at the gateway), relative: mount them where the sandbox
/// lives, or serve them with [`serve_tls`].
pub fn router(sb: Arc<WechatPayV2Sandbox>) -> Router {
    Router::new()
        .route(UNIFIED_ORDER_PATH, post(handle))
        .route(ORDER_QUERY_PATH, post(handle))
        .route(CLOSE_ORDER_PATH, post(handle))
        .route(REFUND_PATH, post(handle))
        .route(REFUND_QUERY_PATH, post(handle))
        .route(MICROPAY_PATH, post(handle))
        .route(REVERSE_PATH, post(handle))
        .with_state(sb)
}

async fn handle(State(sb): State<Arc<WechatPayV2Sandbox>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let peer = req
        .extensions()
        .get::<ConnectInfo<TlsPeer>>()
        .map(|c| c.0.clone());
    let text = match axum::body::to_bytes(req.into_body(), xml::MAX_XML_BYTES).await {
        Ok(body) => sb.dispatch(&path, peer.as_ref(), &body).await,
        Err(_) => return_fail("XML格式错误"),
    };
    let mut resp = (StatusCode::OK, Body::from(text)).into_response();
    if let Ok(v) = "text/xml; charset=utf-8".parse() {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

impl crate::sandbox::set::SandboxGateway for WechatPayV2Sandbox {
    fn routes(self: Arc<Self>) -> axum::Router {
        router(self)
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn pay_code_format(&self) -> Option<(&'static str, usize)> {
        Some((code_pay::CODE_PREFIX, code_pay::CODE_LEN))
    }

    /// The notification already carries its `Content-Type` (XML).
    fn paid_notify(&self, o: &SandboxOrder) -> (Vec<(String, String)>, Vec<u8>) {
        let n = self.paid_notification(o);
        (n.headers, n.body)
    }
}
