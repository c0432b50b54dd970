//! Merchant notifications: forwarding order events (`order.paid`, `order.closed`,
//! `refund.succeeded`, `refund.failed`) to the notify URL the merchant gave with the order.
//!
//! # What the merchant receives
//!
//! `POST <notify_url>` with `Content-Type: application/json`, the body built by
//! [`event_body`] (the same bytes on every attempt), and these headers:
//!
//! * `Paydesk-Event`: the event type, e.g. `order.paid`.
//! * `Paydesk-Notification-Id`: the notification's id. Delivery is *at least once*: the
//!   same id may arrive more than once, so deduplicate by it.
//! * `Paydesk-Signature: t=<unix seconds>,v1=<hex>`, Stripe-like: `v1` is the lowercase hex
//!   HMAC-SHA256, keyed with the signing secret (`pdsec_…`) of the API key that created the
//!   order, over the bytes `"<t>." + body`. To verify ([`verify_signature`] does exactly
//!   this): recompute it over the *raw* body, compare in constant time, and reject a `t`
//!   more than a few minutes from your clock, so a captured request cannot be replayed
//!   later. `t` is fresh on each attempt.
//!
//! Only a 2xx answer counts as delivered; redirects are not followed (a 3xx is a failed
//! attempt). Until a 2xx comes back, the notification is retried on a schedule of about a
//! day ([`default_schedule`], with a little jitter), then marked failed; a person can
//! resend it. Every attempt is recorded (status, latency, error, the first 200 characters
//! of the answer).
//!
//! # Running
//!
//! [`MerchantNotifier::run`] polls the store for due notifications; any number of instances
//! may run it against one database (see `store::merchant_notifications` for how claims
//! keep two workers from sending the same notification at once).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::address_guard::{self, GuardedResolver};
use crate::provider::crypto::{ct_eq, hmac_sha256};
use crate::provider::secret::{SecretString, mask_url};
use crate::store::{
    ClaimedMerchantNotification, NotificationAttemptRecord, Order, Refund, Store, StoreError,
};
use crate::time::now_ms;
use crate::vault::MasterKey;

pub const SIGNATURE_HEADER: &str = "Paydesk-Signature";
pub const EVENT_HEADER: &str = "Paydesk-Event";
pub const NOTIFICATION_ID_HEADER: &str = "Paydesk-Notification-Id";
/// How far a signature's `t` may be from the verifier's clock, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

pub const EVENT_ORDER_PAID: &str = "order.paid";
pub const EVENT_ORDER_CLOSED: &str = "order.closed";
pub const EVENT_REFUND_SUCCEEDED: &str = "refund.succeeded";
pub const EVENT_REFUND_FAILED: &str = "refund.failed";

/// Longest notify URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// How much of an answer is read, at most, for the attempt record.
const MAX_RESPONSE_BYTES: usize = 1024;

/// The waits before the 2nd, 3rd, … attempt: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m,
/// 60m, 3h, 3h, 3h, 6h, 6h — about 24 hours and 16 attempts in all.
pub fn default_schedule() -> Vec<Duration> {
    let s = Duration::from_secs;
    let m = |n: u64| s(60 * n);
    vec![
        s(15),
        s(15),
        s(30),
        m(3),
        m(10),
        m(20),
        m(30),
        m(30),
        m(30),
        m(60),
        m(180),
        m(180),
        m(180),
        m(360),
        m(360),
    ]
}

#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// The waits between attempts; when they run out the notification is marked failed.
    pub schedule: Vec<Duration>,
    /// Each wait is lengthened by a random 0..=`jitter_percent` % of itself, so that
    /// notifications that failed together do not all come back at the same instant.
    pub jitter_percent: u32,
    pub connect_timeout: Duration,
    /// Per attempt: connecting, sending and reading the answer.
    pub timeout: Duration,
    /// How long a claimed notification is reserved for the worker that claimed it: another
    /// worker may send it once this runs out. Must outlast a whole round — a claimed
    /// notification may wait for a free send slot first — so it is raised to at least
    /// `timeout` × ⌈`batch` / `concurrency`⌉ + 10 s.
    pub lease: Duration,
    /// Notifications claimed per round.
    pub batch: usize,
    /// Sends in flight at once, per round.
    pub concurrency: usize,
    /// How often [`MerchantNotifier::run`] looks for due notifications.
    pub poll_interval: Duration,
    /// Deliver to loopback addresses (`127.0.0.1`, `localhost`): development and tests
    /// only. Link-local and reserved addresses are never allowed (see `address_guard`).
    pub allow_loopback: bool,
}

impl Default for NotifierSettings {
    fn default() -> Self {
        NotifierSettings {
            schedule: default_schedule(),
            jitter_percent: 10,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            lease: Duration::from_secs(120),
            batch: 32,
            concurrency: 16,
            poll_interval: Duration::from_secs(1),
            allow_loopback: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotifierError {
    #[error("cannot build the HTTP client for merchant notifications")]
    Client,
}

/// Why a notify URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotifyUrlError {
    #[error("the notify URL is not a valid absolute URL")]
    Invalid,
    #[error("the notify URL must start with http:// or https://")]
    Scheme,
    #[error("the notify URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("the notify URL points at a link-local or reserved address")]
    Forbidden,
}

/// Checks a merchant's notify URL: an absolute `http` or `https` URL with a host. Call it
/// when the order is created, so a bad URL is refused there; the worker checks again and
/// records a bad one as a failed attempt.
pub fn validate_notify_url(raw: &str) -> Result<(), NotifyUrlError> {
    if raw.len() > MAX_URL_LEN {
        return Err(NotifyUrlError::TooLong);
    }
    let url = url::Url::parse(raw).map_err(|_| NotifyUrlError::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(NotifyUrlError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(NotifyUrlError::Invalid);
    }
    // Metadata services and reserved addresses are never a shop backend. (Loopback
    // depends on the deployment and is checked when sending.)
    if let Some(ip) = literal_ip(raw)
        && !address_guard::allowed(ip, true)
    {
        return Err(NotifyUrlError::Forbidden);
    }
    Ok(())
}

/// The host of `url` when it is an IP address literal (`http://10.0.0.2/`, `http://[::1]/`).
fn literal_ip(url: &str) -> Option<std::net::IpAddr> {
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(_) => None,
    }
}

/// The JSON body of an event, as the merchant receives it:
///
/// ```json
/// {"type": "refund.succeeded", "created": 1763900000,
///  "data": {"out_trade_no": "T1", "status": "partially_refunded", "amount": 1000,
///           "currency": "CNY", "refunded_amount": 300, "provider_trade_no": "2026…",
///           "paid_at": 1763899000,
///           "refund": {"out_refund_no": "R1", "amount": 300, "status": "succeeded",
///                      "failure_reason": null}}}
/// ```
///
/// Amounts are integers in minor units (fen, cents); times are Unix seconds; `refund` is
/// `null` for order events. Pass the order (and refund) as they are after the transition.
pub fn event_body(event: &str, order: &Order, refund: Option<&Refund>) -> String {
    let secs = |ms: i64| ms.div_euclid(1000);
    let refund = refund.map(|r| {
        json!({
            "out_refund_no": r.merchant_facing_no(),
            "amount": r.amount.minor(),
            "status": r.status.as_str(),
            "failure_reason": r.failure_reason,
        })
    });
    json!({
        "type": event,
        "created": secs(now_ms()),
        "data": {
            "out_trade_no": order.merchant_facing_no(),
            "status": order.status.as_str(),
            "amount": order.amount.minor(),
            "currency": order.amount.currency().code(),
            "refunded_amount": order.refunded_minor,
            "provider_trade_no": order.provider_trade_no,
            "paid_at": order.paid_at.map(secs),
            "refund": refund,
        },
    })
    .to_string()
}

fn signature(secret: &str, t: i64, body: &[u8]) -> [u8; 32] {
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    hmac_sha256(secret.as_bytes(), &msg)
}

/// The `Paydesk-Signature` value for `body` sent at `t` (Unix seconds).
pub fn sign_header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(signature(secret, t, body)))
}

/// Whether `header` (a `Paydesk-Signature` value) signs the raw `body` with `secret`, at a
/// `t` within `tolerance` seconds of `now` (Unix seconds). Any one `v1` matching is enough;
/// comparison is constant-time. This is what a merchant's receiver should do.
pub fn verify_signature(header: &str, body: &[u8], secret: &str, now: i64, tolerance: i64) -> bool {
    let mut t: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = v.parse().ok(),
            Some(("v1", v)) => {
                if let Ok(bytes) = hex::decode(v) {
                    candidates.push(bytes);
                }
            }
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if now.abs_diff(t) > tolerance.unsigned_abs() {
        return false;
    }
    let expected = signature(secret, t, body);
    // Check every candidate (no early exit on a match).
    candidates
        .iter()
        .fold(false, |ok, c| ct_eq(c, &expected) | ok)
}

fn jittered(wait: Duration, percent: u32) -> Duration {
    use rand::Rng;
    let max_extra = wait.as_millis().saturating_mul(u128::from(percent)) / 100;
    let max_extra = u64::try_from(max_extra).unwrap_or(u64::MAX);
    if max_extra == 0 {
        return wait;
    }
    wait.saturating_add(Duration::from_millis(
        rand::thread_rng().gen_range(0..=max_extra),
    ))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Sends due merchant notifications. Cheap to clone (clones share the HTTP client).
#[derive(Clone)]
pub struct MerchantNotifier {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    master: MasterKey,
    settings: NotifierSettings,
    http: reqwest::Client,
}

impl std::fmt::Debug for MerchantNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantNotifier")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// The outcome of one send, before it is recorded.
struct Sent {
    status: Option<u16>,
    error: Option<String>,
    response: Option<String>,
    /// Retrying cannot help (bad URL, no signing secret): give up now.
    permanent: bool,
}

impl Sent {
    fn permanent(error: impl Into<String>) -> Sent {
        Sent {
            status: None,
            error: Some(error.into()),
            response: None,
            permanent: true,
        }
    }

    fn transient(error: impl Into<String>) -> Sent {
        Sent {
            permanent: false,
            ..Sent::permanent(error)
        }
    }
}

/// Whether the address guard caused this error (somewhere down its source chain).
fn is_forbidden(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<address_guard::ForbiddenAddress>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// A reqwest error as one line: what failed and why, without the URL (which may carry a
/// token in its query).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

impl MerchantNotifier {
    pub fn new(
        store: Store,
        master_key: MasterKey,
        settings: NotifierSettings,
    ) -> Result<MerchantNotifier, NotifierError> {
        let mut settings = settings;
        settings.batch = settings.batch.max(1);
        settings.concurrency = settings.concurrency.max(1);
        let rounds =
            u32::try_from(settings.batch.div_ceil(settings.concurrency)).unwrap_or(u32::MAX);
        let round = settings
            .timeout
            .saturating_mul(rounds)
            .saturating_add(Duration::from_secs(10));
        settings.lease = settings.lease.max(round);
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            // A redirect could send the signed event to another host: never followed, a 3xx
            // is a failed attempt the merchant sees in the record.
            .redirect(reqwest::redirect::Policy::none())
            // Every name is resolved through the guard, on every attempt.
            .dns_resolver(Arc::new(GuardedResolver {
                allow_loopback: settings.allow_loopback,
            }))
            .user_agent(concat!("paydesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| NotifierError::Client)?;
        Ok(MerchantNotifier {
            inner: Arc::new(Inner {
                store,
                master: master_key,
                settings,
                http,
            }),
        })
    }

    pub fn settings(&self) -> &NotifierSettings {
        &self.inner.settings
    }

    /// One round: claims up to `batch` due notifications, sends them (at most
    /// `concurrency` at once) and records each attempt. Returns how many were attempted.
    pub async fn run_once(&self) -> usize {
        let settings = &self.inner.settings;
        let batch = i64::try_from(settings.batch).unwrap_or(i64::MAX);
        let claimed = match self
            .inner
            .store
            .claim_due_merchant_notifications(now_ms(), batch, millis(settings.lease))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim merchant notifications");
                return 0;
            }
        };
        let count = claimed.len();
        // Per round, so a claimed notification waits only for this round's other sends
        // (what the lease is sized for).
        let permits = Arc::new(Semaphore::new(settings.concurrency));
        let mut tasks = JoinSet::new();
        for n in claimed {
            let inner = self.inner.clone();
            let permits = permits.clone();
            tasks.spawn(async move {
                // The semaphore is never closed; without a permit, send anyway.
                let _permit = permits.acquire_owned().await.ok();
                inner.deliver(n).await;
            });
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a merchant notification send panicked");
            }
        }
        count
    }

    /// Runs rounds until `stop` turns true (or its sender is dropped): right away while
    /// rounds come back full, else every `poll_interval`. A round in progress is finished
    /// (its sends complete and are recorded) before returning.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!("merchant notifier started");
        loop {
            if *stop.borrow_and_update() {
                break;
            }
            let attempted = self.run_once().await;
            if *stop.borrow() {
                break;
            }
            if attempted >= self.inner.settings.batch {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.inner.settings.poll_interval) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
        tracing::info!("merchant notifier stopped");
    }
}

impl Inner {
    async fn deliver(&self, n: ClaimedMerchantNotification) {
        let at = now_ms();
        let start = Instant::now();
        let sent = self.send(&n).await;
        let latency_ms = millis(start.elapsed());
        let record = NotificationAttemptRecord {
            at,
            status: sent.status,
            latency_ms,
            error: sent.error.as_deref(),
            response: sent.response.as_deref(),
        };
        let attempt = n.attempts + 1;
        let url = mask_url(&n.url);
        let retry_at = if record.delivered() || sent.permanent {
            None
        } else {
            usize::try_from(n.schedule_attempts)
                .ok()
                .and_then(|i| self.settings.schedule.get(i))
                .map(|wait| {
                    now_ms().saturating_add(millis(jittered(*wait, self.settings.jitter_percent)))
                })
        };
        match self
            .store
            .record_merchant_notification_attempt(&n, &record, retry_at)
            .await
        {
            Ok(Some(status)) => tracing::info!(
                notification = %n.id, out_trade_no = %n.out_trade_no, event = %n.event, %url, attempt,
                http_status = ?record.status, error = ?record.error, %status,
                "merchant notification attempt"
            ),
            Ok(None) => tracing::info!(
                notification = %n.id, out_trade_no = %n.out_trade_no, %url, attempt,
                "merchant notification attempt recorded; another worker had moved it on"
            ),
            // The lease runs out and the notification is sent again: at least once.
            Err(e) => tracing::warn!(
                notification = %n.id, out_trade_no = %n.out_trade_no, error = %e,
                "cannot record a merchant notification attempt"
            ),
        }
    }

    async fn secret(&self, api_key_id: &str) -> Result<SecretString, Sent> {
        match self
            .store
            .api_key_signing_secret(api_key_id, &self.master)
            .await
        {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => Err(Sent::permanent(
                "the order's API key has no signing secret (it was created before merchant \
                 notifications existed); create a new API key for this merchant",
            )),
            Err(StoreError::NotFound) => Err(Sent::permanent("the order's API key does not exist")),
            // Wrong master key (a configuration fix away) or a database hiccup: retry.
            Err(e) => Err(Sent::transient(format!(
                "cannot read the signing secret: {e}"
            ))),
        }
    }

    async fn send(&self, n: &ClaimedMerchantNotification) -> Sent {
        if let Err(e) = validate_notify_url(&n.url) {
            return Sent::permanent(e.to_string());
        }
        // An IP literal never goes through the resolver: check it here.
        if let Some(ip) = literal_ip(&n.url)
            && !address_guard::allowed(ip, self.settings.allow_loopback)
        {
            return Sent::permanent(address_guard::ForbiddenAddress.to_string());
        }
        let secret = match self.secret(&n.api_key_id).await {
            Ok(s) => s,
            Err(sent) => return sent,
        };
        let t = now_ms().div_euclid(1000);
        let signature = sign_header(secret.expose(), t, n.body.as_bytes());
        drop(secret);
        let result = self
            .http
            .post(&n.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_HEADER, &n.event)
            .header(NOTIFICATION_ID_HEADER, &n.id)
            .body(n.body.clone())
            .send()
            .await;
        let mut resp = match result {
            Ok(r) => r,
            // The guard refused every address: retrying cannot help.
            Err(e) if is_forbidden(&e) => {
                return Sent::permanent(address_guard::ForbiddenAddress.to_string());
            }
            Err(e) => return Sent::transient(describe(e)),
        };
        let status = resp.status().as_u16();
        // Only the start of the answer is kept; the rest is not read.
        let mut body = Vec::new();
        let mut error = None;
        while body.len() < MAX_RESPONSE_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    error = Some(format!("reading the answer: {}", describe(e)));
                    break;
                }
            }
        }
        body.truncate(MAX_RESPONSE_BYTES);
        let text = String::from_utf8_lossy(&body).into_owned();
        Sent {
            status: Some(status),
            error: error.or_else(|| {
                (!(200..300).contains(&status)).then(|| match status {
                    300..=399 => format!("HTTP {status} (redirects are not followed)"),
                    _ => format!("HTTP {status}"),
                })
            }),
            response: (!text.is_empty()).then_some(text),
            permanent: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_and_replays() {
        let body = br#"{"type":"order.paid"}"#;
        let header = sign_header("pdsec_abc", 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify_signature(
            &header,
            body,
            "pdsec_abc",
            1_700_000_100,
            300
        ));
        assert!(
            !verify_signature(&header, body, "pdsec_abd", 1_700_000_100, 300),
            "other secret"
        );
        assert!(
            !verify_signature(&header, b"{}", "pdsec_abc", 1_700_000_100, 300),
            "other body"
        );
        assert!(
            !verify_signature(&header, body, "pdsec_abc", 1_700_000_301, 300),
            "too old"
        );
        assert!(
            !verify_signature(&header, body, "pdsec_abc", 1_699_999_699, 300),
            "from the future"
        );
        let rolled = format!("{header},v1={}", "00".repeat(32));
        assert!(
            verify_signature(&rolled, body, "pdsec_abc", 1_700_000_000, 300),
            "any v1"
        );
        assert!(
            !verify_signature("v1=00", body, "pdsec_abc", 0, 300),
            "no t"
        );
        assert!(
            !verify_signature("t=1700000000", body, "pdsec_abc", 1_700_000_000, 300),
            "no v1"
        );
        assert!(!verify_signature("garbage", body, "pdsec_abc", 0, 300));
    }

    #[test]
    fn a_known_vector() {
        // Computed independently: Python's hmac.new(b"pdsec_test", b'1700000000.{"type":"order.paid"}', sha256).
        assert_eq!(
            sign_header("pdsec_test", 1_700_000_000, br#"{"type":"order.paid"}"#),
            "t=1700000000,v1=0cfe5584a53dcf3c41af7cf99a72dbd00487b6e7e79002a36216548e324b79ff"
        );
    }

    #[test]
    fn notify_urls_must_be_http_or_https() {
        assert_eq!(
            validate_notify_url("https://shop.example/paydesk?token=x"),
            Ok(())
        );
        assert_eq!(validate_notify_url("http://127.0.0.1:8080/n"), Ok(()));
        assert_eq!(
            validate_notify_url("ftp://shop.example/"),
            Err(NotifyUrlError::Scheme)
        );
        assert_eq!(
            validate_notify_url("file:///etc/passwd"),
            Err(NotifyUrlError::Scheme)
        );
        assert_eq!(
            validate_notify_url("/relative"),
            Err(NotifyUrlError::Invalid)
        );
        assert_eq!(validate_notify_url(""), Err(NotifyUrlError::Invalid));
        assert_eq!(
            validate_notify_url("http://169.254.169.254/latest/meta-data"),
            Err(NotifyUrlError::Forbidden)
        );
        assert_eq!(
            validate_notify_url("http://[fe80::1]/n"),
            Err(NotifyUrlError::Forbidden)
        );
        let long = format!("https://shop.example/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(validate_notify_url(&long), Err(NotifyUrlError::TooLong));
    }

    #[test]
    fn the_default_schedule_lasts_about_a_day() {
        let total: Duration = default_schedule().iter().sum();
        let hours = total.as_secs_f64() / 3600.0;
        assert!((20.0..=26.0).contains(&hours), "{hours} h");
        let w = Duration::from_secs(100);
        for _ in 0..100 {
            let j = jittered(w, 10);
            assert!(j >= w && j <= Duration::from_secs(110), "{j:?}");
        }
        assert_eq!(
            jittered(Duration::from_millis(5), 10),
            Duration::from_millis(5)
        );
    }
}
