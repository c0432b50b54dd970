//! Background work of a running server: active queries and expiry, notify-inbox recovery,
//! merchant notifications, WeChat Pay platform certificate downloads and the session
//! sweep. Each loop stops when the shutdown flag flips; work in progress finishes first
//! (a query or a notification is never abandoned half-applied — and if the process is
//! killed instead, the store's transactions and the inbox make that safe).

use std::time::Duration;

use paydesk_core::channel::cert_refresh::RefreshSchedule;
use paydesk_core::jobs::cert_refresh::CertRefresher;
use paydesk_core::jobs::merchant_notify::{MerchantNotifier, NotifierSettings};
use paydesk_core::payments::Payments;
use paydesk_core::store::Store;
use paydesk_core::time::now_ms;
use paydesk_core::vault::MasterKey;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Notifications that failed verification are kept this long for diagnosis (30 days).
const REJECTED_NOTIFICATIONS_KEPT_MS: i64 = 30 * 24 * 3600 * 1000;

/// How often the loops wake up (tests shorten them).
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub query_every: Duration,
    pub query_batch: i64,
    pub recover_every: Duration,
    /// A `received` notification older than this is considered interrupted.
    pub recover_after: Duration,
    pub sweep_sessions_every: Duration,
    pub merchant_notify: NotifierSettings,
    /// WeChat Pay platform certificate downloads: when each channel is due, and how often
    /// the loop looks for due channels.
    pub cert_refresh: RefreshSchedule,
    pub cert_refresh_check_every: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            query_every: Duration::from_secs(1),
            query_batch: 50,
            recover_every: Duration::from_secs(60),
            recover_after: Duration::from_secs(30),
            sweep_sessions_every: Duration::from_secs(600),
            merchant_notify: NotifierSettings::default(),
            cert_refresh: RefreshSchedule::default(),
            cert_refresh_check_every: Duration::from_secs(60),
        }
    }
}

impl JobSettings {
    /// The defaults, with what the operator configured.
    pub fn for_config(config: &crate::config::Config) -> JobSettings {
        let mut settings = JobSettings::default();
        settings.merchant_notify.allow_loopback = config.settings.merchant_notify_allow_loopback;
        settings
    }
}

/// Sleeps `every`, or returns false when told to stop.
async fn tick(stop: &mut watch::Receiver<bool>, every: Duration) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(every) => true,
        _ = stop.changed() => false,
    }
}

pub fn spawn(
    payments: Payments,
    store: Store,
    settings: JobSettings,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    let payments_master = payments.channels().master().clone();
    handles.push(spawn_cert_refresh(&payments, &settings, stop.clone()));
    handles.push(spawn_queries(
        payments.clone(),
        settings.clone(),
        stop.clone(),
    ));
    handles.push(spawn_inbox_recovery(
        payments,
        settings.clone(),
        stop.clone(),
    ));
    handles.extend(spawn_merchant_notify(
        store.clone(),
        payments_master,
        &settings,
        stop.clone(),
    ));
    handles.push(spawn_metrics_upkeep(stop.clone()));
    handles.push(spawn_sweep(store, settings.sweep_sessions_every, stop));
    handles
}

/// WeChat Pay platform certificates: due channels at start, then every 12 hours each.
fn spawn_cert_refresh(
    payments: &Payments,
    settings: &JobSettings,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let refresher = CertRefresher::new(payments.channels().clone(), settings.cert_refresh);
    tokio::spawn(refresher.run(stop, settings.cert_refresh_check_every))
}

/// Active queries of pending orders and refunds.
fn spawn_queries(p: Payments, s: JobSettings, mut st: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while tick(&mut st, s.query_every).await {
            let r = p.run_due_queries(s.query_batch).await;
            if r.paid + r.closed + r.refunds_settled > 0 {
                tracing::info!(
                    queried = r.queried,
                    paid = r.paid,
                    closed = r.closed,
                    refunds = r.refunds_settled,
                    "active query pass"
                );
            }
        }
    })
}

/// Notify-inbox recovery: notifications whose processing was interrupted.
fn spawn_inbox_recovery(
    p: Payments,
    s: JobSettings,
    mut st: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // At start too: a notification stored just before a crash is applied now.
        let after = s.recover_after.as_millis() as i64;
        loop {
            let n = p.recover_inbox(after).await;
            if n > 0 {
                tracing::info!(recovered = n, "notify inbox recovery");
            }
            if !tick(&mut st, s.recover_every).await {
                return;
            }
        }
    })
}

/// Forwarding events to merchant systems (signed, retried for a day).
fn spawn_merchant_notify(
    store: Store,
    master: MasterKey,
    settings: &JobSettings,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    match MerchantNotifier::new(store, master, settings.merchant_notify.clone()) {
        Ok(n) => Some(tokio::spawn(n.run(stop))),
        Err(e) => {
            tracing::error!(error = %e, "merchant notifications are disabled");
            None
        }
    }
}

/// Folds recorded histogram samples into their buckets, so memory stays flat even
/// when nobody scrapes /metrics.
fn spawn_metrics_upkeep(mut st: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while tick(&mut st, std::time::Duration::from_secs(5)).await {
            crate::metrics::handle().run_upkeep();
        }
    })
}

/// Removes expired sessions and old rejected notifications.
fn spawn_sweep(store: Store, every: Duration, mut st: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while tick(&mut st, every).await {
            match store.delete_expired_sessions(now_ms()).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session sweep failed"),
            }
            let before = now_ms() - REJECTED_NOTIFICATIONS_KEPT_MS;
            match store.prune_rejected_notifications(before).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "old rejected notifications removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "rejected-notification sweep failed"),
            }
        }
    })
}
