//! The background download of WeChat Pay platform certificates.
//!
//! Every enabled live WeChat Pay channel that downloads its certificates
//! (`download_certificates`) is refreshed when due: at once the first time it is seen
//! (so also right at start after a long stop), then every 12 hours, and 30 minutes after a
//! failure ([`RefreshSchedule`]). The due time lives in the store and each due channel is
//! claimed there first ([`Store::claim_cert_refresh`]), so instances sharing one database
//! download each channel once per period instead of once per instance, and a restart does
//! not download again what was fetched an hour ago.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::channel::cert_refresh::{RefreshError, RefreshSchedule};
use crate::channel::config::WechatPaySettings;
use crate::channel::{ChannelMode, ChannelRegistry};
use crate::provider::ProviderKind;
use crate::store::{ChannelRow, Store, StoreError};
use crate::time::now_ms;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshPass {
    /// Channels this instance claimed (and so downloaded for).
    pub claimed: usize,
    pub refreshed: usize,
    pub failed: usize,
}

/// Runs the certificate downloads of every instance's share of the channels.
#[derive(Debug, Clone)]
pub struct CertRefresher {
    channels: Arc<ChannelRegistry>,
    schedule: RefreshSchedule,
}

/// A channel the job looks after: live WeChat Pay, enabled, downloading certificates.
/// Only the non-secret settings are read to decide.
fn looked_after(row: &ChannelRow) -> bool {
    row.provider == ProviderKind::Wechatpay.as_str()
        && row.mode == ChannelMode::Live.as_str()
        && row.disabled_at.is_none()
        && serde_json::from_str::<WechatPaySettings>(&row.settings)
            .map(|s| s.download_certificates)
            .unwrap_or(false)
}

impl CertRefresher {
    pub fn new(channels: Arc<ChannelRegistry>, schedule: RefreshSchedule) -> CertRefresher {
        CertRefresher { channels, schedule }
    }

    fn store(&self) -> &Store {
        self.channels.store()
    }

    /// Downloads for every looked-after channel that is due and that this call claims.
    pub async fn run_due(&self) -> Result<RefreshPass, StoreError> {
        let mut pass = RefreshPass::default();
        for row in self.store().channels().await? {
            if !looked_after(&row) {
                continue;
            }
            let claimed = self
                .store()
                .claim_cert_refresh(&row.id, now_ms(), self.schedule.lease_ms())
                .await?;
            if !claimed {
                continue;
            }
            pass.claimed += 1;
            match self
                .channels
                .refresh_platform_certificates(&row.name, &self.schedule)
                .await
            {
                Ok(_) => pass.refreshed += 1,
                // Logged and recorded by the registry; the channel is retried later.
                Err(RefreshError::NotFound(_) | RefreshError::Failed { .. }) => pass.failed += 1,
            }
        }
        Ok(pass)
    }

    /// Checks for due channels every `check_every` until `stop` flips (a download in
    /// progress finishes first).
    pub async fn run(self, mut stop: watch::Receiver<bool>, check_every: Duration) {
        loop {
            if *stop.borrow_and_update() {
                break;
            }
            match self.run_due().await {
                Ok(p) if p.claimed > 0 => tracing::info!(
                    claimed = p.claimed,
                    refreshed = p.refreshed,
                    failed = p.failed,
                    "platform certificate pass"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "platform certificate pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(check_every) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
    }
}
