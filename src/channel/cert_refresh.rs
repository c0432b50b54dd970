//! Keeping a WeChat Pay channel's platform certificates up to date: download
//! `/v3/certificates` (checked by [`crate::provider::wechatpay::certs::open_download`]) and
//! merge what came into the channel's stored set, next to the certificates it already has,
//! so the old and the new one both verify while WeChat Pay rotates. Used by the "Refresh
//! certificates now" button, `paydesk channel refresh-certs` and the background job
//! ([`crate::jobs::cert_refresh`]).
//!
//! Merge rules ([`merge_downloaded`]):
//! - a downloaded certificate is added unless it has expired, is already listed, or an
//!   admin retired it (retirements stick until the certificate expires; adding it by hand
//!   lifts one);
//! - expired certificates are dropped, stored ones included, and so are the retirements of
//!   expired certificates;
//! - nothing else is removed: a certificate missing from the download (WeChat Pay stops
//!   listing an old one before it expires) still verifies what it signed until it expires
//!   or an admin retires it.

use std::collections::HashSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::config::{LiveChannel, WechatPaySettings, problem};
use super::registry::{ChannelError, ChannelRegistry, RotateError};
use crate::provider::wechatpay::certs::DownloadedCert;
use crate::provider::wechatpay::live::config as wechatpay_config;
use crate::provider::wechatpay::verify::PlatformCert;
use crate::provider::{ProviderError, VerifyError};
use crate::time::now_ms;

/// When downloads happen: every `every` after a success, `retry_after` after a failure;
/// a claimed download is leased for `lease` (another instance takes over after that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshSchedule {
    pub every: Duration,
    pub retry_after: Duration,
    pub lease: Duration,
}

impl Default for RefreshSchedule {
    fn default() -> Self {
        RefreshSchedule {
            every: Duration::from_secs(12 * 3600),
            retry_after: Duration::from_secs(30 * 60),
            lease: Duration::from_secs(5 * 60),
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl RefreshSchedule {
    pub fn every_ms(&self) -> i64 {
        ms(self.every)
    }

    pub fn retry_after_ms(&self) -> i64 {
        ms(self.retry_after)
    }

    pub fn lease_ms(&self) -> i64 {
        ms(self.lease)
    }
}

/// What a successful refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshReport {
    /// Platform certificates the channel holds now.
    pub certificates: usize,
    /// Serials this download added.
    pub added: Vec<String>,
    /// Serials dropped because they expired.
    pub expired: Vec<String>,
    /// Serials in the download that an admin retired (not added again).
    pub skipped_retired: Vec<String>,
    /// The latest expiry among the channel's certificates (Unix seconds).
    pub latest_expiry: Option<i64>,
    /// Downloaded certificates that are neither expired nor retired.
    pub usable: usize,
}

/// Why a refresh failed, in words an admin can act on (the page explains each code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum RefreshFailure {
    #[error("not a live WeChat Pay channel")]
    NotWechat,
    #[error("the APIv3 key does not decrypt the certificates: check the APIv3 key")]
    BadApiv3Key,
    #[error(
        "WeChat Pay refused our request signature: check the merchant certificate serial and its private key"
    )]
    WrongSerial,
    #[error("the answer's signature does not verify")]
    SignatureMismatch,
    #[error(
        "the answer is signed with a certificate this channel does not know; add it by hand from the merchant platform"
    )]
    UnknownSigner,
    #[error("our clock and WeChat Pay's differ by more than 5 minutes")]
    ClockSkew,
    #[error("WeChat Pay offers no certificate download for this merchant (public-key mode only)")]
    NotAvailable,
    #[error("the download holds no certificate that is valid and not retired")]
    NoValidCertificate,
    #[error("WeChat Pay did not answer: check the gateway URL and the network")]
    Unreachable,
    #[error("unexpected failure (details in the server log)")]
    Other,
}

impl RefreshFailure {
    pub const ALL: [RefreshFailure; 10] = [
        RefreshFailure::NotWechat,
        RefreshFailure::BadApiv3Key,
        RefreshFailure::WrongSerial,
        RefreshFailure::SignatureMismatch,
        RefreshFailure::UnknownSigner,
        RefreshFailure::ClockSkew,
        RefreshFailure::NotAvailable,
        RefreshFailure::NoValidCertificate,
        RefreshFailure::Unreachable,
        RefreshFailure::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefreshFailure::NotWechat => "not_wechat",
            RefreshFailure::BadApiv3Key => "bad_apiv3_key",
            RefreshFailure::WrongSerial => "wrong_serial",
            RefreshFailure::SignatureMismatch => "signature_mismatch",
            RefreshFailure::UnknownSigner => "unknown_signer",
            RefreshFailure::ClockSkew => "clock_skew",
            RefreshFailure::NotAvailable => "not_available",
            RefreshFailure::NoValidCertificate => "no_valid_certificate",
            RefreshFailure::Unreachable => "unreachable",
            RefreshFailure::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<RefreshFailure> {
        RefreshFailure::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Reads a failed download.
    pub fn from_provider(e: &ProviderError) -> RefreshFailure {
        match e {
            ProviderError::Transport(_) => RefreshFailure::Unreachable,
            ProviderError::Verify(v) => match v {
                VerifyError::Decrypt => RefreshFailure::BadApiv3Key,
                VerifyError::UnknownSerial(_) => RefreshFailure::UnknownSigner,
                VerifyError::StaleTimestamp => RefreshFailure::ClockSkew,
                VerifyError::BadSignature
                | VerifyError::SignatureEncoding
                | VerifyError::SignTestProbe
                | VerifyError::MissingHeader(_) => RefreshFailure::SignatureMismatch,
                _ => RefreshFailure::Other,
            },
            ProviderError::Http { status, code, .. } => match (*status, code.as_deref()) {
                (401, _) | (_, Some("SIGN_ERROR")) => RefreshFailure::WrongSerial,
                // JSON error codes come from the gateway; a bare 404 from something else
                // at that URL.
                (403 | 404, Some(_)) => RefreshFailure::NotAvailable,
                (404, None) => RefreshFailure::Unreachable,
                _ => RefreshFailure::Other,
            },
            _ => RefreshFailure::Other,
        }
    }
}

/// A refresh that did not happen: the channel is unknown, or the download or the merge
/// failed (`detail` is for the log and the CLI; it never holds a secret).
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("no channel named {0}")]
    NotFound(String),
    #[error("{failure} ({detail})")]
    Failed {
        failure: RefreshFailure,
        detail: String,
    },
}

impl RefreshError {
    fn failed(failure: RefreshFailure, detail: impl std::fmt::Display) -> RefreshError {
        RefreshError::Failed {
            failure,
            detail: detail.to_string(),
        }
    }

    /// The code recorded for the attempt and shown on the page.
    pub fn code(&self) -> &'static str {
        match self {
            RefreshError::NotFound(_) => RefreshFailure::NotWechat.as_str(),
            RefreshError::Failed { failure, .. } => failure.as_str(),
        }
    }
}

impl From<ChannelError> for RefreshError {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::NotFound(name) => RefreshError::NotFound(name),
            other => RefreshError::failed(RefreshFailure::Other, other),
        }
    }
}

fn serial_of(pem: &str) -> Option<PlatformCert> {
    PlatformCert::from_pem(pem).ok()
}

/// Merges a download into a channel's settings (rules in the module docs).
pub fn merge_downloaded(
    s: &mut WechatPaySettings,
    downloaded: &[DownloadedCert],
    now: i64,
) -> RefreshReport {
    let mut report = RefreshReport::default();
    s.platform_certificates.retain(|pem| match serial_of(pem) {
        Some(c) if c.not_after < now => {
            report.expired.push(c.serial);
            false
        }
        // An unparsable entry stays: validation names it for the admin to fix.
        _ => true,
    });
    s.retired_platform_certificates
        .retain(|r| r.not_after >= now);
    let mut listed: HashSet<String> = s
        .platform_certificates
        .iter()
        .filter_map(|p| serial_of(p).map(|c| c.serial))
        .collect();
    for d in downloaded.iter().filter(|d| d.cert.not_after >= now) {
        if s.retired_platform_certificates
            .iter()
            .any(|r| r.serial.eq_ignore_ascii_case(&d.serial))
        {
            report.skipped_retired.push(d.serial.clone());
            continue;
        }
        report.usable += 1;
        if listed.insert(d.serial.to_ascii_uppercase()) {
            s.platform_certificates.push(d.pem.trim().to_string());
            report.added.push(d.serial.clone());
        }
    }
    report.certificates = s.platform_certificates.len();
    report.latest_expiry = s
        .platform_certificates
        .iter()
        .filter_map(|p| serial_of(p).map(|c| c.not_after))
        .max();
    report
}

impl ChannelRegistry {
    /// Downloads the channel's platform certificates, merges them into its stored set
    /// and records the attempt (outcome, and the next download due per `schedule`).
    pub async fn refresh_platform_certificates(
        &self,
        name: &str,
        schedule: &RefreshSchedule,
    ) -> Result<RefreshReport, RefreshError> {
        let result = self.download_and_merge(name).await;
        if let Err(
            e @ RefreshError::Failed {
                failure: RefreshFailure::NotWechat,
                ..
            },
        ) = result
        {
            // Nothing to record for a channel that has no certificates to download.
            return Err(e);
        }
        let row = match self.store().channel(name).await {
            Ok(Some(row)) => row,
            Ok(None) => return Err(RefreshError::NotFound(name.to_string())),
            Err(e) => return Err(RefreshError::failed(RefreshFailure::Other, e)),
        };
        let now = now_ms();
        let (next_at, outcome) = match &result {
            Ok(_) => (now + schedule.every_ms(), "ok"),
            Err(e) => (now + schedule.retry_after_ms(), e.code()),
        };
        if let Err(e) = self
            .store()
            .finish_cert_refresh(&row.id, now, next_at, outcome, result.is_ok())
            .await
        {
            tracing::error!(channel = name, error = %e, "could not record the certificate download");
        }
        match &result {
            Ok(r) => tracing::info!(
                channel = name,
                certificates = r.certificates,
                added = ?r.added,
                expired = ?r.expired,
                "platform certificates refreshed"
            ),
            Err(e) => {
                tracing::warn!(channel = name, error = %e, "platform certificate download failed")
            }
        }
        result
    }

    async fn download_and_merge(&self, name: &str) -> Result<RefreshReport, RefreshError> {
        let Some(LiveChannel::Wechatpay(settings, secrets)) = self.live_config(name).await? else {
            return Err(RefreshError::failed(
                RefreshFailure::NotWechat,
                "only live WeChat Pay channels download platform certificates",
            ));
        };
        let other = |e: &dyn std::fmt::Display| RefreshError::failed(RefreshFailure::Other, e);
        let cfg = wechatpay_config(name, &settings, &secrets).map_err(|p| other(&p))?;
        let client = self.wechatpay_client(cfg).map_err(|e| other(&e))?;
        let downloaded = client
            .download_certificates()
            .await
            .map_err(|e| RefreshError::failed(RefreshFailure::from_provider(&e), e))?;
        let now = self.clock().now_unix();
        // Checked on the settings just read, before storing anything.
        if merge_downloaded(&mut settings.clone(), &downloaded, now).usable == 0 {
            return Err(RefreshError::failed(
                RefreshFailure::NoValidCertificate,
                format!("{} downloaded, all expired or retired", downloaded.len()),
            ));
        }
        self.modify_live(name, |live| match live {
            LiveChannel::Wechatpay(s, _) => Ok(merge_downloaded(s, &downloaded, now)),
            _ => Err(problem("provider", "not a WeChat Pay channel")),
        })
        .await
        .map_err(|e| match e {
            RotateError::Problem(p) => other(&p),
            RotateError::Channel(e) => e.into(),
        })
    }
}
