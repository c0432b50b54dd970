//! [`MerchantNotifier`]: the worker that claims due notifications, sends them a few at a
//! time and records each attempt with its next retry.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::settings::{NotifierSettings, jittered, millis};
use crate::jobs::address_guard::GuardedResolver;
use crate::provider::secret::mask_url;
use crate::store::{ClaimedMerchantNotification, NotificationAttemptRecord, Store};
use crate::time::now_ms;
use crate::vault::MasterKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotifierError {
    #[error("cannot build the HTTP client for merchant notifications")]
    Client,
}

/// Sends due merchant notifications. Cheap to clone (clones share the HTTP client).
#[derive(Clone)]
pub struct MerchantNotifier {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) master: MasterKey,
    pub(super) settings: NotifierSettings,
    pub(super) http: reqwest::Client,
}

impl std::fmt::Debug for MerchantNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantNotifier")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
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
}
