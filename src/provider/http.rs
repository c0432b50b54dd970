//! The HTTP client every provider uses: reqwest over rustls with connect and total timeouts,
//! retries only where they are safe, and a [`ProviderCall`] record of every attempt (for the
//! logs view) with secrets masked.
//!
//! Retry rules (the "never a blind re-POST of a payment"):
//! - a connect error means no byte reached the provider, so any request may be retried;
//! - a timeout or a 5xx may mean the provider acted, so only requests marked
//!   [`Retry::Idempotent`] are retried (GETs, queries, closes, and Stripe POSTs which carry an
//!   `Idempotency-Key`);
//! - 4xx is never retried.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::secret::mask_url;
use super::{ProviderError, ProviderKind};

/// Timeouts and retry budget.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    /// Whole request including reading the body, per attempt.
    pub request_timeout: Duration,
    /// Attempts including the first one.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Responses larger than this are refused (a gateway never sends megabytes).
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_attempts: 3,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(3),
            max_body_bytes: 1 << 20,
        }
    }
}

/// Whether a request may be repeated after an ambiguous failure (timeout, 5xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Only after connect errors (the request certainly never arrived).
    ConnectOnly,
    /// Also after timeouts and 5xx: repeating cannot act twice.
    Idempotent,
}

#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    /// Our name for the operation (`precreate`, `refund`, …), recorded with the call.
    pub operation: &'static str,
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Vec<u8>,
    pub retry: Retry,
}

#[derive(Debug, Clone)]
pub struct IncomingResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl IncomingResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn body_text(&self) -> Result<&str, ProviderError> {
        std::str::from_utf8(&self.body)
            .map_err(|_| ProviderError::Protocol("response body is not UTF-8".into()))
    }
}

/// One attempt of one provider call, as shown in the logs view. The URL is masked; headers
/// and bodies (which carry signatures and personal data) are not recorded at all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProviderCall {
    pub provider: ProviderKind,
    pub channel: String,
    pub operation: &'static str,
    pub method: String,
    pub url: String,
    /// HTTP status, `None` when no response arrived.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// 1-based attempt number.
    pub attempt: u32,
    /// The provider's error code (Alipay `sub_code`/`code`, WeChat `code`, Stripe
    /// `error.code`), when the provider reported one.
    pub provider_code: Option<String>,
    /// Transport error description, without URL or secrets.
    pub error: Option<String>,
    /// When the attempt started, Unix milliseconds.
    pub started_at_ms: i64,
    /// The order the call was about, when the caller said so with [`for_trade`].
    pub out_trade_no: Option<String>,
}

tokio::task_local! {
    static CALL_TRADE: String;
}

/// Runs `f` (one or more provider calls) with every recorded [`ProviderCall`] linked to
/// `out_trade_no`. A task-local instead of a parameter: the order service knows the order,
/// the protocol clients do not need to, and no provider has to thread it through.
pub async fn for_trade<F: std::future::Future>(out_trade_no: impl Into<String>, f: F) -> F::Output {
    CALL_TRADE.scope(out_trade_no.into(), f).await
}

/// Where call records go. The store implements this later; tests use [`MemorySink`].
pub trait CallSink: Send + Sync {
    fn record(&self, call: ProviderCall);
}

/// Drops every record.
#[derive(Debug, Default)]
pub struct NullSink;

impl CallSink for NullSink {
    fn record(&self, _call: ProviderCall) {}
}

/// Keeps every record in memory.
#[derive(Debug, Default)]
pub struct MemorySink {
    calls: Mutex<Vec<ProviderCall>>,
}

impl MemorySink {
    pub fn calls(&self) -> Vec<ProviderCall> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl CallSink for MemorySink {
    fn record(&self, call: ProviderCall) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
    }
}

/// Extracts the provider's error code from a response, for the call record.
pub type CodeExtractor = fn(&IncomingResponse) -> Option<String>;

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    settings: HttpSettings,
    sink: Arc<dyn CallSink>,
    provider: ProviderKind,
    channel: String,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.provider)
            .field("channel", &self.channel)
            .field("settings", &self.settings)
            .finish()
    }
}

enum AttemptError {
    /// Nothing reached the provider.
    Connect(String),
    /// The request may have arrived (timeouts, resets mid-body).
    Ambiguous(String),
}

impl HttpClient {
    pub fn new(
        provider: ProviderKind,
        channel: impl Into<String>,
        settings: HttpSettings,
        sink: Arc<dyn CallSink>,
    ) -> Result<HttpClient, ProviderError> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            // A redirect would change the URL that was signed; gateways never redirect APIs.
            .redirect(reqwest::redirect::Policy::none())
            // WeChat Pay rejects requests without a User-Agent.
            .user_agent(concat!("paydesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ProviderError::Config("cannot build the HTTP client".into()))?;
        Ok(HttpClient {
            client,
            settings,
            sink,
            provider,
            channel: channel.into(),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Sends `req`, retrying as its [`Retry`] allows, recording every attempt.
    pub async fn send(
        &self,
        req: &OutgoingRequest,
        code_of: CodeExtractor,
    ) -> Result<IncomingResponse, ProviderError> {
        let max = self.settings.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started_at_ms = crate::time::now_ms();
            let start = Instant::now();
            let result = self.attempt(req).await;
            let latency_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
            let mut record = ProviderCall {
                provider: self.provider,
                channel: self.channel.clone(),
                operation: req.operation,
                method: req.method.to_string(),
                url: mask_url(&req.url),
                status: None,
                latency_ms,
                attempt,
                provider_code: None,
                error: None,
                started_at_ms,
                out_trade_no: CALL_TRADE.try_with(Clone::clone).ok(),
            };
            let retry = match &result {
                Ok(resp) => {
                    record.status = Some(resp.status);
                    // Asked even on 200: Alipay reports business errors inside a 200.
                    record.provider_code = code_of(resp);
                    resp.status >= 500 && req.retry == Retry::Idempotent
                }
                Err(AttemptError::Connect(e)) => {
                    record.error = Some(e.clone());
                    true
                }
                Err(AttemptError::Ambiguous(e)) => {
                    record.error = Some(e.clone());
                    req.retry == Retry::Idempotent
                }
            };
            crate::metrics::provider_call(
                self.provider.as_str(),
                req.operation,
                match (&record.status, &record.provider_code) {
                    (None, _) => "transport",
                    (Some(s), _) if *s >= 400 => "http_error",
                    (Some(_), Some(_)) => "provider_error",
                    (Some(_), None) => "ok",
                },
                start.elapsed(),
            );
            self.sink.record(record);
            if !retry || attempt >= max {
                return match result {
                    Ok(resp) => Ok(resp),
                    Err(AttemptError::Connect(e) | AttemptError::Ambiguous(e)) => {
                        Err(ProviderError::Transport(e))
                    }
                };
            }
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so
    /// retries of many clients spread out but never retry immediately.
    fn backoff(&self, attempt: u32) -> Duration {
        use rand::Rng;
        let exp = self
            .settings
            .backoff_base
            .saturating_mul(1u32 << (attempt - 1).min(16));
        let capped = exp.min(self.settings.backoff_max);
        let half = capped / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(0);
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::thread_rng().gen_range(0..=jitter_ms)
        };
        half + Duration::from_millis(extra)
    }

    async fn attempt(&self, req: &OutgoingRequest) -> Result<IncomingResponse, AttemptError> {
        let mut builder = self.client.request(req.method.clone(), &req.url);
        for (name, value) in &req.headers {
            let value = HeaderValue::from_str(value)
                .map_err(|_| AttemptError::Connect("invalid header value".into()))?;
            builder = builder.header(name.clone(), value);
        }
        if !req.body.is_empty() {
            builder = builder.body(req.body.clone());
        }
        let resp = builder.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(len) = resp.content_length()
            && len > self.settings.max_body_bytes as u64
        {
            return Err(AttemptError::Ambiguous("response body too large".into()));
        }
        let body = resp.bytes().await.map_err(classify)?;
        if body.len() > self.settings.max_body_bytes {
            return Err(AttemptError::Ambiguous("response body too large".into()));
        }
        Ok(IncomingResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}

fn classify(e: reqwest::Error) -> AttemptError {
    // `without_url` keeps query strings (which may hold signatures) out of the message.
    let connect = e.is_connect();
    let msg = e.without_url().to_string();
    if connect {
        AttemptError::Connect(msg)
    } else {
        AttemptError::Ambiguous(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let settings = HttpSettings {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            ..HttpSettings::default()
        };
        let c = HttpClient::new(ProviderKind::Stripe, "t", settings, Arc::new(NullSink))
            .expect("client");
        for _ in 0..50 {
            let d1 = c.backoff(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = c.backoff(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            let d20 = c.backoff(20);
            assert!(d20 >= Duration::from_millis(500) && d20 <= Duration::from_millis(1000));
        }
    }
}
