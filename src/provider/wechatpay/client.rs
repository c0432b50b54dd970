//! The WeChat Pay [`Provider`].

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use super::auth::{AuthParams, authorization};
use super::certs::{self, DownloadedCert};
use super::verify::{PUBLIC_KEY_ID_PREFIX, PlatformKeys, SignedHeaders};
use super::wire::{api_error, cny_minor, error_code, parse_json, path_segment};
use super::{WechatPayConfig, notify, rfc3339_beijing};
use crate::money::{Currency, Money};
use crate::provider::crypto::random_alnum;
use crate::provider::http::{HttpClient, HttpSettings, IncomingResponse, OutgoingRequest, Retry};
use crate::provider::{
    CallSink, CodePayAnswer, CodePayRequest, CreateQrRequest, HeaderMap, NotifyAck, NotifyEvent,
    Provider, ProviderError, ProviderKind, ProviderRefundRequest, ProviderRefundStatus, QrCheckout,
    RefundRef, RefundState, SharedClock, TradeRef, TradeState, TradeStatus, VerifyError, json_str,
};

/// Minimum time between two certificate downloads triggered by unknown serials, so forged
/// notifications with random serials cannot make us hammer `/v3/certificates`.
pub const REFRESH_MIN_INTERVAL_SECS: i64 = 60;

pub struct WechatPayClient {
    cfg: WechatPayConfig,
    keys: PlatformKeys,
    http: HttpClient,
    clock: SharedClock,
    last_refresh: Mutex<Option<i64>>,
}

impl std::fmt::Debug for WechatPayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayClient")
            .field("cfg", &self.cfg)
            .finish()
    }
}

impl WechatPayClient {
    pub fn new(
        cfg: WechatPayConfig,
        settings: HttpSettings,
        sink: Arc<dyn CallSink>,
        clock: SharedClock,
    ) -> Result<WechatPayClient, ProviderError> {
        if cfg.apiv3_key.expose().len() != 32 {
            return Err(ProviderError::Config("APIv3 key must be 32 bytes".into()));
        }
        let keys = PlatformKeys::new(cfg.platform_public_key.clone());
        for pem in &cfg.platform_certificates {
            keys.add_certificate_pem(pem)?;
        }
        let http = HttpClient::new(ProviderKind::Wechatpay, cfg.channel.clone(), settings, sink)?;
        Ok(WechatPayClient {
            cfg,
            keys,
            http,
            clock,
            last_refresh: Mutex::new(None),
        })
    }

    pub fn config(&self) -> &WechatPayConfig {
        &self.cfg
    }

    pub fn platform_keys(&self) -> &PlatformKeys {
        &self.keys
    }

    /// Sends a signed request and verifies the answer: every success, and every error
    /// from the API itself (a JSON body with a `code`) except 401. WeChat Pay signs all
    /// answers to requests it authenticated, so a "no such order" that does not verify is
    /// a bad signature rather than an answer (else "Test connection" would pass with a
    /// wrong platform key); a 401 (our signature refused) and errors from something in
    /// front of the API (an HTML 404 or 502) come unsigned and are returned as they are.
    pub(super) async fn call(
        &self,
        operation: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<IncomingResponse, ProviderError> {
        let resp = self
            .send_signed(operation, method, path, body, retry)
            .await?;
        match api_error(&resp) {
            None => {
                self.verify_signed(&resp.headers, &resp.body).await?;
                Ok(resp)
            }
            Some(err) => {
                if let ProviderError::Http {
                    status,
                    code: Some(_),
                    ..
                } = &err
                    && *status != 401
                {
                    self.verify_signed(&resp.headers, &resp.body).await?;
                }
                Err(err)
            }
        }
    }

    /// Sends a signed request to `path` (`/v3/…`, with query) and returns the answer,
    /// whatever its status; nothing is verified yet.
    async fn send_signed(
        &self,
        operation: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        retry: Retry,
    ) -> Result<IncomingResponse, ProviderError> {
        let body_text = body.map(Value::to_string).unwrap_or_default();
        let nonce = random_alnum(32);
        let auth = authorization(
            &AuthParams {
                mchid: &self.cfg.mchid,
                serial_no: &self.cfg.merchant_serial,
                timestamp: self.clock.now_unix(),
                nonce: &nonce,
            },
            &self.cfg.merchant_private_key,
            method.as_str(),
            path,
            &body_text,
        );
        let mut headers = vec![
            (AUTHORIZATION, auth),
            (ACCEPT, "application/json".to_string()),
        ];
        if body.is_some() {
            headers.push((CONTENT_TYPE, "application/json".to_string()));
        }
        let req = OutgoingRequest {
            operation,
            method,
            url: format!("{}{}", self.cfg.base_url.trim_end_matches('/'), path),
            headers,
            body: body_text.into_bytes(),
            retry,
        };
        self.http.send(&req, error_code).await
    }

    /// Verifies a signed response or notification, downloading the platform certificates
    /// once if the serial is unknown (rotation) and downloading is enabled.
    pub async fn verify_signed(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), ProviderError> {
        let now = self.clock.now_unix();
        self.verify_signed_at(headers, body, now).await
    }

    async fn verify_signed_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), ProviderError> {
        let h = SignedHeaders::from_headers(headers)?;
        match self.keys.verify(&h, body, now) {
            Err(VerifyError::UnknownSerial(serial))
                if self.cfg.download_certificates && !serial.starts_with(PUBLIC_KEY_ID_PREFIX) =>
            {
                if self.refresh_allowed(now) {
                    self.refresh_certificates().await?;
                }
                Ok(self.keys.verify(&h, body, now)?)
            }
            other => Ok(other?),
        }
    }

    fn refresh_allowed(&self, now: i64) -> bool {
        let Ok(mut last) = self.last_refresh.lock() else {
            return false;
        };
        match *last {
            Some(t) if now - t < REFRESH_MIN_INTERVAL_SECS => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }

    /// Downloads the platform certificates and checks the answer
    /// ([`certs::open_download`]: signature, decryption, serials). Nothing is trusted or
    /// stored yet; every certificate of the answer is returned, expired ones included.
    pub async fn download_certificates(&self) -> Result<Vec<DownloadedCert>, ProviderError> {
        let resp = self
            // Verified by `open_download`, which knows how a certificate answer is signed.
            .send_signed(
                "certificates",
                reqwest::Method::GET,
                certs::PATH,
                None,
                Retry::Idempotent,
            )
            .await?;
        // Errors are not verified here: none of them makes us trust anything.
        if let Some(err) = api_error(&resp) {
            return Err(err);
        }
        Ok(certs::open_download(
            &self.keys,
            self.cfg.apiv3_key.expose().as_bytes(),
            &resp.headers,
            &resp.body,
            self.clock.now_unix(),
        )?)
    }

    /// Downloads the platform certificates and adds the usable ones to this client's keys
    /// (in memory; the channel's stored set is merged by `channel::cert_refresh`). Known
    /// certificates are kept: several are valid during a rotation. Expired and retired
    /// ones are skipped. Returns the serials added or refreshed.
    pub async fn refresh_certificates(&self) -> Result<Vec<String>, ProviderError> {
        let downloaded = self.download_certificates().await?;
        let now = self.clock.now_unix();
        let mut serials = Vec::new();
        for d in downloaded {
            let retired = self
                .cfg
                .retired_platform_serials
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&d.serial));
            if retired || d.cert.not_after < now {
                continue;
            }
            serials.push(d.serial);
            self.keys.add_certificate(d.cert);
        }
        Ok(serials)
    }
}

fn refund_status(v: &Value, out_refund_no: &str) -> Result<ProviderRefundStatus, ProviderError> {
    let state = match json_str(v, "status") {
        Some("SUCCESS") => RefundState::Succeeded,
        Some("PROCESSING") => RefundState::Processing,
        Some("ABNORMAL") | Some("CLOSED") => RefundState::Failed,
        Some(other) => RefundState::Other(other.to_string()),
        None => return Err(ProviderError::Protocol("refund without status".into())),
    };
    let currency = v
        .get("amount")
        .and_then(|a| json_str(a, "currency"))
        .map(Currency::from_code)
        .transpose()?
        .unwrap_or(Currency::Cny);
    let amount = v
        .get("amount")
        .and_then(|a| a.get("refund"))
        .and_then(Value::as_i64)
        .map(|m| Money::new(m, currency))
        .transpose()?;
    Ok(ProviderRefundStatus {
        out_refund_no: json_str(v, "out_refund_no")
            .unwrap_or(out_refund_no)
            .to_string(),
        refund_id: json_str(v, "refund_id").map(str::to_string),
        state,
        amount,
    })
}

#[async_trait]
impl Provider for WechatPayClient {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Wechatpay
    }

    async fn create_qr(&self, req: &CreateQrRequest) -> Result<QrCheckout, ProviderError> {
        path_segment(&req.out_trade_no)?;
        let mut body = json!({
            "appid": self.cfg.appid,
            "mchid": self.cfg.mchid,
            "description": req.subject,
            "out_trade_no": req.out_trade_no,
            "notify_url": req.notify_url,
            "amount": { "total": cny_minor(&req.amount)?, "currency": "CNY" },
        });
        if let Some(exp) = req.expires_at {
            body["time_expire"] = Value::String(rfc3339_beijing(exp.0));
        }
        let resp = self
            .call(
                "native",
                reqwest::Method::POST,
                "/v3/pay/transactions/native",
                Some(&body),
                Retry::ConnectOnly,
            )
            .await?;
        let v = parse_json(&resp)?;
        let code_url = json_str(&v, "code_url")
            .ok_or(ProviderError::Protocol("native without code_url".into()))?;
        Ok(QrCheckout {
            out_trade_no: req.out_trade_no.clone(),
            qr_content: code_url.to_string(),
            provider_ref: None,
        })
    }

    async fn query(&self, trade: &TradeRef) -> Result<TradeStatus, ProviderError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            path_segment(&trade.out_trade_no)?,
            path_segment(&self.cfg.mchid)?
        );
        let resp = self
            .call(
                "query",
                reqwest::Method::GET,
                &path,
                None,
                Retry::Idempotent,
            )
            .await?;
        let v = parse_json(&resp)?;
        let state = match json_str(&v, "trade_state").unwrap_or("") {
            "NOTPAY" | "USERPAYING" => TradeState::Pending,
            "SUCCESS" => TradeState::Paid,
            "CLOSED" | "REVOKED" => TradeState::Closed,
            "REFUND" => TradeState::Refunded,
            other => TradeState::Other(other.to_string()),
        };
        let amount = match v
            .get("amount")
            .and_then(|a| a.get("total"))
            .and_then(Value::as_i64)
        {
            Some(total) => {
                let cur = v
                    .get("amount")
                    .and_then(|a| json_str(a, "currency"))
                    .map(Currency::from_code)
                    .transpose()?
                    .unwrap_or(Currency::Cny);
                Some(Money::new(total, cur)?)
            }
            None => None,
        };
        Ok(TradeStatus {
            out_trade_no: trade.out_trade_no.clone(),
            trade_no: json_str(&v, "transaction_id").map(str::to_string),
            state,
            amount,
        })
    }

    async fn close(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            path_segment(&trade.out_trade_no)?
        );
        let body = json!({ "mchid": self.cfg.mchid });
        self.call(
            "close",
            reqwest::Method::POST,
            &path,
            Some(&body),
            Retry::Idempotent,
        )
        .await
        .map(|_| ())
    }

    async fn refund(
        &self,
        req: &ProviderRefundRequest,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        path_segment(&req.out_refund_no)?;
        let mut body = json!({
            "out_trade_no": path_segment(&req.trade.out_trade_no)?,
            "out_refund_no": req.out_refund_no,
            "amount": {
                "refund": cny_minor(&req.amount)?,
                "total": cny_minor(&req.total)?,
                "currency": "CNY",
            },
        });
        if let Some(r) = &req.reason {
            body["reason"] = Value::String(r.clone());
        }
        if let Some(u) = &req.notify_url {
            body["notify_url"] = Value::String(u.clone());
        }
        let resp = self
            .call(
                "refund",
                reqwest::Method::POST,
                "/v3/refund/domestic/refunds",
                Some(&body),
                Retry::ConnectOnly,
            )
            .await?;
        refund_status(&parse_json(&resp)?, &req.out_refund_no)
    }

    async fn query_refund(
        &self,
        refund: &RefundRef,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        let path = format!(
            "/v3/refund/domestic/refunds/{}",
            path_segment(&refund.out_refund_no)?
        );
        let resp = self
            .call(
                "refund_query",
                reqwest::Method::GET,
                &path,
                None,
                Retry::Idempotent,
            )
            .await?;
        refund_status(&parse_json(&resp)?, &refund.out_refund_no)
    }

    async fn pay_by_code(&self, req: &CodePayRequest) -> Result<CodePayAnswer, ProviderError> {
        super::code_pay::pay(self, req).await
    }

    async fn cancel_code_payment(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        super::code_pay::reverse(self, trade).await
    }

    async fn parse_notify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<NotifyEvent, ProviderError> {
        self.verify_signed_at(headers, body, now).await?;
        notify::parse_verified(body, &self.cfg)
    }

    fn ack_success(&self) -> NotifyAck {
        notify::ack_success()
    }

    fn ack_failure(&self, message: &str) -> NotifyAck {
        notify::ack_failure(message)
    }
}
