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
//!
//! Layout: `request` checks a call and dispatches it, `methods` answers each gateway
//! method, `reply` builds the answers (signed here, in `AlipaySandbox::respond`).

mod code_pay;
pub mod keys;
mod methods;
mod reply;
mod request;

pub use code_pay::{CODE_LEN, CODE_PREFIX};

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::provider::alipay::cert;
use crate::provider::alipay::sign::{SignScope, format_timestamp, string_to_sign};
use crate::provider::crypto::{CryptoError, RsaSigner, RsaVerifier};
use crate::provider::{SharedClock, form};
use crate::sandbox::certs::{CertRing, SandboxCa, VALIDITY_SECS};
use crate::sandbox::{Ledger, SandboxOrder, SandboxRefund};
use reply::Reply;

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
async fn gateway(State(sb): State<Arc<AlipaySandbox>>, body: Bytes) -> Response {
    let reply = sb.handle(&body).await;
    if reply.key == reply::response_key("alipay.trade.pay")
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
