//! Delivering sandbox notifications the way the real gateways do: POST the signed body to
//! the merchant's notify URL and, until the provider's exact acknowledgement comes back,
//! try again on the provider's schedule.
//!
//! One generic mechanism; the per-provider part is only [`acknowledged`] and
//! [`real_schedule`]. Deliveries run as background tasks that are bounded (at most
//! `max_in_flight` at once; more are refused, not queued without limit) and stop when
//! [`Deliverer::shutdown`] is called.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::provider::ProviderKind;
use crate::provider::secret::mask_url;

/// One signed notification, ready to POST.
#[derive(Clone)]
pub struct Notification {
    pub provider: ProviderKind,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// For the log line (never the body: it carries signatures and payer data).
    pub out_trade_no: String,
}

impl std::fmt::Debug for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notification")
            .field("provider", &self.provider)
            .field("url", &mask_url(&self.url))
            .field("out_trade_no", &self.out_trade_no)
            .finish()
    }
}

/// Whether the merchant's answer tells the provider to stop retrying.
pub fn acknowledged(provider: ProviderKind, status: u16, body: &[u8]) -> bool {
    match provider {
        // Alipay keeps notifying until the body is exactly `success`; the status is not
        // enough (a 200 with "fail" or an HTML error page means "try again").
        ProviderKind::Alipay => status == 200 && body == b"success",
        ProviderKind::Wechatpay => status == 200 || status == 204,
        ProviderKind::Stripe => (200..300).contains(&status),
    }
}

/// The waits between attempts the real gateway uses (before the 2nd, 3rd, … attempt).
pub fn real_schedule(provider: ProviderKind) -> Vec<Duration> {
    let m = |n: u64| Duration::from_secs(60 * n);
    match provider {
        // Alipay: 4m, 10m, 10m, 1h, 2h, 6h, 15h.
        ProviderKind::Alipay => vec![m(4), m(10), m(10), m(60), m(120), m(360), m(900)],
        // WeChat Pay: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h.
        ProviderKind::Wechatpay => vec![
            Duration::from_secs(15),
            Duration::from_secs(15),
            Duration::from_secs(30),
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
        ],
        // Stripe: exponential backoff over up to three days.
        ProviderKind::Stripe => (0..12).map(|i| m(1 << i).min(m(12 * 60))).collect(),
    }
}

#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// `None`: each provider's [`real_schedule`]; tests use short fixed waits.
    pub delays: Option<Vec<Duration>>,
    /// Per attempt, connect and answer included.
    pub timeout: Duration,
    /// Deliveries running at once; more are refused.
    pub max_in_flight: usize,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            delays: None,
            timeout: Duration::from_secs(10),
            max_in_flight: 256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("too many notifications in flight")]
    Busy,
    #[error("shutting down")]
    Stopped,
    #[error("cannot build the HTTP client")]
    Client,
}

struct Inner {
    http: reqwest::Client,
    policy: DeliveryPolicy,
    permits: Arc<Semaphore>,
    stop: watch::Sender<bool>,
    tasks: Mutex<JoinSet<()>>,
}

/// Runs notification deliveries in the background. Clones share the same tasks.
#[derive(Clone)]
pub struct Deliverer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("policy", &self.inner.policy)
            .finish()
    }
}

impl Deliverer {
    pub fn new(policy: DeliveryPolicy) -> Result<Deliverer, DeliveryError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(policy.timeout)
            // A notify URL that redirects is a misconfiguration; the gateways do not follow.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| DeliveryError::Client)?;
        Ok(Deliverer {
            inner: Arc::new(Inner {
                http,
                permits: Arc::new(Semaphore::new(policy.max_in_flight.max(1))),
                policy,
                stop: watch::channel(false).0,
                tasks: Mutex::new(JoinSet::new()),
            }),
        })
    }

    /// Starts delivering `n` in the background (needs a Tokio runtime).
    pub fn submit(&self, n: Notification) -> Result<(), DeliveryError> {
        if *self.inner.stop.borrow() {
            return Err(DeliveryError::Stopped);
        }
        let permit = self
            .inner
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| DeliveryError::Busy)?;
        let delays = self
            .inner
            .policy
            .delays
            .clone()
            .unwrap_or_else(|| real_schedule(n.provider));
        let http = self.inner.http.clone();
        let stop = self.inner.stop.subscribe();
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        // Reap finished deliveries so the set only holds running ones.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            deliver(&http, &n, &delays, stop).await;
            drop(permit);
        });
        Ok(())
    }

    /// Stops every delivery (pending retries are abandoned, like a gateway outage would)
    /// and waits for the tasks to end.
    pub async fn shutdown(&self) {
        // `send_replace`, not `send`: with no delivery running there is no receiver, and
        // `send` would then leave the flag unset and later submissions would still start.
        self.inner.stop.send_replace(true);
        let mut tasks = {
            let mut guard = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *guard)
        };
        while tasks.join_next().await.is_some() {}
    }
}

/// Resolves when shutdown is requested (or the deliverer is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn deliver(
    http: &reqwest::Client,
    n: &Notification,
    delays: &[Duration],
    mut stop: watch::Receiver<bool>,
) {
    let url = mask_url(&n.url);
    for attempt in 0..=delays.len() {
        if let Some(wait) = attempt.checked_sub(1).and_then(|i| delays.get(i)) {
            tokio::select! {
                _ = tokio::time::sleep(*wait) => {}
                _ = stopped(&mut stop) => return,
            }
        }
        let mut req = http.post(&n.url).body(n.body.clone());
        for (k, v) in &n.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let outcome = tokio::select! {
            r = async {
                let resp = req.send().await?;
                let status = resp.status().as_u16();
                let body = resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, body))
            } => r,
            _ = stopped(&mut stop) => return,
        };
        match outcome {
            Ok((status, body)) if acknowledged(n.provider, status, &body) => {
                tracing::info!(provider = %n.provider, out_trade_no = %n.out_trade_no, %url, attempt = attempt + 1, "sandbox notification acknowledged");
                return;
            }
            Ok((status, _)) => {
                tracing::info!(provider = %n.provider, out_trade_no = %n.out_trade_no, %url, attempt = attempt + 1, status, "sandbox notification not acknowledged; will retry");
            }
            Err(e) => {
                let e = e.without_url();
                tracing::info!(provider = %n.provider, out_trade_no = %n.out_trade_no, %url, attempt = attempt + 1, error = %e, "sandbox notification failed; will retry");
            }
        }
    }
    tracing::warn!(provider = %n.provider, out_trade_no = %n.out_trade_no, %url, "sandbox notification given up after the last retry");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_has_its_own_acknowledgement() {
        assert!(acknowledged(ProviderKind::Alipay, 200, b"success"));
        assert!(!acknowledged(ProviderKind::Alipay, 200, b"success\n"));
        assert!(!acknowledged(ProviderKind::Alipay, 200, b"fail"));
        assert!(!acknowledged(ProviderKind::Alipay, 500, b"success"));
        assert!(acknowledged(ProviderKind::Wechatpay, 204, b""));
        assert!(acknowledged(ProviderKind::Wechatpay, 200, b""));
        assert!(!acknowledged(ProviderKind::Wechatpay, 202, b""));
        assert!(!acknowledged(ProviderKind::Wechatpay, 500, b""));
        assert!(acknowledged(ProviderKind::Stripe, 202, b""));
        assert!(!acknowledged(ProviderKind::Stripe, 400, b""));
    }
}
