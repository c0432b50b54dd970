//! HTTPS for API v2: like [`crate::provider::http::HttpClient`] (same settings, retry
//! rules and [`ProviderCall`] records), but over a reqwest client that presents the
//! merchant API certificate (mutual TLS, required by `/secapi/…`) and may trust an extra
//! root CA (the sandbox's). The shared client cannot be given either, hence this module;
//! if `HttpClient` grows a constructor taking a prepared `reqwest::Client`, this one can
//! shrink to building that client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::WechatPayV2Config;
use super::xml;
use crate::provider::http::{HttpSettings, IncomingResponse, Retry};
use crate::provider::secret::mask_url;
use crate::provider::{CallSink, ProviderCall, ProviderError, ProviderKind};

/// The provider recorded on call records. `ProviderKind` has no v2 variant yet; when one
/// is added, it belongs here.
pub const CALL_PROVIDER: ProviderKind = ProviderKind::WechatpayV2;
/// The provider label of the call metrics.
pub const METRICS_PROVIDER: &str = "wechatpay_v2";

pub struct Transport {
    client: reqwest::Client,
    settings: HttpSettings,
    sink: Arc<dyn CallSink>,
    channel: String,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("channel", &self.channel)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Builds the reqwest client: rustls, the public roots plus `root_ca_pem`, the merchant
/// identity when configured, no redirects (a redirect would change what was signed).
fn build_client(
    cfg: &WechatPayV2Config,
    settings: &HttpSettings,
) -> Result<reqwest::Client, ProviderError> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("paydesk/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &cfg.root_ca_pem {
        let ca = reqwest::Certificate::from_pem(ca.as_bytes())
            .map_err(|_| ProviderError::Config("root CA is not a PEM certificate".into()))?;
        b = b.add_root_certificate(ca);
    }
    if let Some(id) = &cfg.identity {
        let mut pem = id.cert_pem.trim_end().to_string();
        pem.push('\n');
        pem.push_str(id.key_pem.expose());
        let identity = reqwest::Identity::from_pem(pem.as_bytes()).map_err(|_| {
            ProviderError::Config("merchant API certificate or key is not usable PEM".into())
        })?;
        b = b.identity(identity);
    }
    b.build()
        .map_err(|_| ProviderError::Config("cannot build the HTTP client".into()))
}

/// The v2 error code of an answer, for the call record: `err_code`, or `FAIL` when the
/// gateway refused the request itself (`return_code=FAIL`).
fn provider_code(resp: &IncomingResponse) -> Option<String> {
    let m = xml::parse(&resp.body).ok()?;
    if m.get("return_code") != Some("SUCCESS") {
        return Some(m.get("return_code").unwrap_or("FAIL").to_string());
    }
    m.non_empty("err_code").map(str::to_string)
}

impl Transport {
    pub fn new(
        cfg: &WechatPayV2Config,
        settings: HttpSettings,
        sink: Arc<dyn CallSink>,
    ) -> Result<Transport, ProviderError> {
        Ok(Transport {
            client: build_client(cfg, &settings)?,
            settings,
            sink,
            channel: cfg.channel.clone(),
        })
    }

    /// POSTs an XML body, retrying as `retry` allows, recording each attempt against
    /// `out_trade_no`.
    pub async fn post_xml(
        &self,
        operation: &'static str,
        url: &str,
        body: String,
        retry: Retry,
        out_trade_no: &str,
    ) -> Result<IncomingResponse, ProviderError> {
        let max = self.settings.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started_at_ms = crate::time::now_ms();
            let start = Instant::now();
            let result = self.attempt(url, &body).await;
            let mut record = ProviderCall {
                provider: CALL_PROVIDER,
                channel: self.channel.clone(),
                operation,
                method: "POST".into(),
                url: mask_url(url),
                status: None,
                latency_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
                attempt,
                provider_code: None,
                error: None,
                started_at_ms,
                out_trade_no: Some(out_trade_no.to_string()),
            };
            let again = match &result {
                Ok(resp) => {
                    record.status = Some(resp.status);
                    record.provider_code = provider_code(resp);
                    resp.status >= 500 && retry == Retry::Idempotent
                }
                Err((connect, e)) => {
                    record.error = Some(e.clone());
                    *connect || retry == Retry::Idempotent
                }
            };
            let outcome = match (&record.status, &record.provider_code) {
                (None, _) => "transport",
                (Some(s), _) if *s >= 400 => "http_error",
                (Some(_), Some(_)) => "provider_error",
                (Some(_), None) => "ok",
            };
            crate::metrics::provider_call(METRICS_PROVIDER, operation, outcome, start.elapsed());
            self.sink.record(record);
            if !again || attempt >= max {
                return result.map_err(|(_, e)| ProviderError::Transport(e));
            }
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    /// Exponential backoff with equal jitter (as the shared client).
    fn backoff(&self, attempt: u32) -> Duration {
        use rand::Rng;
        let exp = self
            .settings
            .backoff_base
            .saturating_mul(1u32 << (attempt - 1).min(16));
        let half = exp.min(self.settings.backoff_max) / 2;
        let jitter = u64::try_from(half.as_millis()).unwrap_or(0);
        half + Duration::from_millis(rand::thread_rng().gen_range(0..=jitter))
    }

    /// One attempt. The error says whether nothing can have reached the gateway
    /// (`true`: a connect error, safe to repeat).
    async fn attempt(&self, url: &str, body: &str) -> Result<IncomingResponse, (bool, String)> {
        let classify = |e: reqwest::Error| (e.is_connect(), e.without_url().to_string());
        let resp = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(body.to_string())
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let too_large = || (false, "response body too large".to_string());
        if resp
            .content_length()
            .is_some_and(|l| l > self.settings.max_body_bytes as u64)
        {
            return Err(too_large());
        }
        let bytes = resp.bytes().await.map_err(classify)?;
        if bytes.len() > self.settings.max_body_bytes {
            return Err(too_large());
        }
        Ok(IncomingResponse {
            status,
            headers,
            body: bytes.to_vec(),
        })
    }
}
