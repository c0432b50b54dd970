//! Delivering sandbox notifications the way the real gateways do: POST the signed body to
//! the merchant's notify URL and, until the provider's exact acknowledgement comes back,
//! try again on the provider's schedule.
//!
//! One generic mechanism; the per-provider part is only [`acknowledged`] and
//! [`real_schedule`]. Deliveries are rows in the database (`sandbox_deliveries`, queued in
//! the transaction that records the payment), worked by [`Deliverer`]: it claims due rows
//! (one instance per row), builds each notification afresh (signed now, as the gateways
//! sign every retry) from the order book, sends it and records the outcome. So a delivery
//! outlives a crash: after a restart — or on another instance — it is sent again once its
//! claim's lease ends. At most `max_in_flight` attempts run at once; the rest wait in the
//! table. [`Deliverer::shutdown`] stops the worker and hands claimed rows back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use super::set::SandboxSet;
use crate::provider::ProviderKind;
use crate::provider::secret::mask_url;
use crate::store::{ClaimedSandboxDelivery, SandboxDeliveryOutcome, Store};
use crate::time::now_ms;

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
    provider.slice().acknowledged(status, body)
}

/// The waits between attempts the real gateway uses (before the 2nd, 3rd, … attempt).
pub fn real_schedule(provider: ProviderKind) -> Vec<Duration> {
    provider.slice().retry_schedule()
}

#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// `None`: each provider's [`real_schedule`]; tests use short fixed waits.
    pub delays: Option<Vec<Duration>>,
    /// Per attempt, connect and answer included.
    pub timeout: Duration,
    /// Attempts running at once; more wait in the queue.
    pub max_in_flight: usize,
    /// How often the queue is looked at without being woken (a payment wakes it; this
    /// finds retries that fell due and rows other instances gave back).
    pub poll_every: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            delays: None,
            timeout: Duration::from_secs(10),
            max_in_flight: 256,
            poll_every: Duration::from_millis(500),
        }
    }
}

impl DeliveryPolicy {
    /// How long a claim holds a row: one attempt, with room to record it. A crashed
    /// instance's claims are due again after this.
    pub fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(5)
    }

    fn delays_for(&self, provider: ProviderKind) -> Vec<Duration> {
        self.delays
            .clone()
            .unwrap_or_else(|| real_schedule(provider))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
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
    wake: Notify,
    started: AtomicBool,
    tasks: Mutex<JoinSet<()>>,
}

/// Works the delivery queue in the background. Clones share the same worker.
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
                wake: Notify::new(),
                started: AtomicBool::new(false),
                tasks: Mutex::new(JoinSet::new()),
            }),
        })
    }

    pub fn policy(&self) -> &DeliveryPolicy {
        &self.inner.policy
    }

    /// Starts the worker on `store`'s queue, building notifications with `set` (needs a
    /// Tokio runtime). Only the first call starts one; none after [`Deliverer::shutdown`].
    pub fn start(&self, set: Arc<SandboxSet>, store: Store) -> Result<(), DeliveryError> {
        if self.is_stopped() {
            return Err(DeliveryError::Stopped);
        }
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let inner = self.inner.clone();
        self.spawn(async move { run(inner, set, store).await });
        Ok(())
    }

    /// Runs `task` as part of this deliverer: [`Deliverer::shutdown`] waits for it (it
    /// should end when [`Deliverer::stopping`] flips).
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// Resolves once shutdown is requested.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut stop = self.inner.stop.subscribe();
        async move { stopped(&mut stop).await }
    }

    pub fn is_stopped(&self) -> bool {
        *self.inner.stop.borrow()
    }

    /// A delivery was queued: look at the queue now rather than at the next poll.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Stops the worker: attempts in flight are cut short and their rows handed back
    /// (due at once, for the next start or another instance); waits for the tasks to end.
    pub async fn shutdown(&self) {
        // `send_replace`, not `send`: with no receiver left, `send` would leave the flag
        // unset and a later `start` would still run.
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

/// The worker: claim what is due (as many as there are free attempt slots), start each
/// attempt, sleep until woken or the next poll.
async fn run(inner: Arc<Inner>, set: Arc<SandboxSet>, store: Store) {
    let mut stop = inner.stop.subscribe();
    let mut attempts = JoinSet::new();
    loop {
        while attempts.try_join_next().is_some() {}
        loop {
            let free = inner.permits.available_permits();
            if free == 0 || *stop.borrow() {
                break;
            }
            let lease = i64::try_from(inner.policy.lease().as_millis()).unwrap_or(i64::MAX);
            let limit = i64::try_from(free.min(64)).unwrap_or(64);
            let claimed = match store
                .claim_due_sandbox_deliveries(now_ms(), limit, lease)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "sandbox deliveries: cannot claim; will retry");
                    break;
                }
            };
            let full = claimed.len() as i64 == limit;
            for c in claimed {
                let Ok(permit) = inner.permits.clone().try_acquire_owned() else {
                    // Only this loop takes permits, so this does not happen; if it did, the
                    // row is handed back rather than sent beyond the limit.
                    let _ = store.release_sandbox_delivery(&c).await;
                    continue;
                };
                let job = Attempt {
                    http: inner.http.clone(),
                    delays: inner.policy.delays_for(c.provider),
                    set: set.clone(),
                    store: store.clone(),
                    stop: inner.stop.subscribe(),
                    _permit: permit,
                };
                attempts.spawn(job.run(c));
            }
            if !full {
                break;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(inner.policy.poll_every) => {}
            _ = inner.wake.notified() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    while attempts.join_next().await.is_some() {}
}

/// One attempt of one claimed delivery.
struct Attempt {
    http: reqwest::Client,
    delays: Vec<Duration>,
    set: Arc<SandboxSet>,
    store: Store,
    stop: watch::Receiver<bool>,
    /// Held while the attempt runs: the in-flight bound.
    _permit: OwnedSemaphorePermit,
}

impl Attempt {
    async fn run(mut self, c: ClaimedSandboxDelivery) {
        let order = match self.set.ledger(c.provider).get(&c.out_trade_no).await {
            Ok(order) => order,
            Err(_) => {
                // The order book is unavailable (logged there): try again after the lease.
                return;
            }
        };
        let Some(n) = order.and_then(|o| self.set.paid_notification(c.provider, &o)) else {
            self.finish(&c, SandboxDeliveryOutcome::Undeliverable).await;
            return;
        };
        let outcome = tokio::select! {
            r = send(&self.http, &n) => r,
            _ = stopped(&mut self.stop) => {
                // Cut short by shutdown: not an attempt the merchant answered.
                let _ = self.store.release_sandbox_delivery(&c).await;
                return;
            }
        };
        let url = mask_url(&n.url);
        let attempt = c.attempts + 1;
        let why = match outcome {
            Ok((status, body)) if acknowledged(n.provider, status, &body) => {
                tracing::info!(provider = %n.provider, out_trade_no = %n.out_trade_no, %url, attempt, "sandbox notification acknowledged");
                self.finish(&c, SandboxDeliveryOutcome::Acknowledged).await;
                return;
            }
            Ok((status, _)) => format!("HTTP {status}"),
            Err(e) => e.without_url().to_string(),
        };
        let next = usize::try_from(c.attempts)
            .ok()
            .and_then(|i| self.delays.get(i));
        let outcome = match next {
            Some(wait) => {
                tracing::info!(provider = %n.provider, out_trade_no = %n.out_trade_no, %url, attempt, error = %why, "sandbox notification not acknowledged; will retry");
                let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                SandboxDeliveryOutcome::RetryAt(now_ms().saturating_add(wait), why)
            }
            None => {
                tracing::warn!(provider = %n.provider, out_trade_no = %n.out_trade_no, %url, attempt, error = %why, "sandbox notification given up after the last retry");
                SandboxDeliveryOutcome::GiveUp(why)
            }
        };
        self.finish(&c, outcome).await;
    }

    async fn finish(&self, c: &ClaimedSandboxDelivery, outcome: SandboxDeliveryOutcome) {
        if let Err(e) = self.store.finish_sandbox_delivery(c, &outcome).await {
            // The row stays claimed; it is due again when the lease ends.
            tracing::warn!(provider = %c.provider, out_trade_no = %c.out_trade_no, error = %e, "sandbox delivery outcome not recorded");
        }
    }
}

async fn send(http: &reqwest::Client, n: &Notification) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let mut req = http.post(&n.url).body(n.body.clone());
    for (k, v) in &n.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await?;
    Ok((status, body.to_vec()))
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
