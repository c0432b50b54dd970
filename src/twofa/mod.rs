//! Two-factor sign-in: TOTP (RFC 6238) with one-time recovery codes.
//!
//! - The secret is generated here, shown to the user only while they enrol (QR code and
//!   typed key), and stored sealed under the master key (`vault`), associated with the
//!   user's id. `Debug` of every type that holds it prints nothing of it.
//! - Enrolment ends with a code from the app; then 10 recovery codes are made, shown once
//!   and stored as argon2id hashes.
//! - Every code attempt is counted by the password throttle (same account and address
//!   keys, `auth::ThrottlePolicy`) before it is checked.
//! - "Remembered per session only": a sign-in that passed the second factor is the
//!   session; there is no "trust this device" cookie.

mod policy;
pub mod recovery;
mod totp;

pub use policy::{TWOFA_POLICY_KEY, TwoFaPolicy};
pub use totp::{STEP_SECS, TotpSecret};

use crate::auth::{ThrottlePolicy, Verdict};
use crate::provider::secret::SecretString;
use crate::store::{Store, StoreError, User};
use crate::time::now_ms;
use crate::vault::MasterKey;
use std::time::Duration;

/// Shown by authenticator apps above the account name.
pub const ISSUER: &str = "paydesk";

#[derive(Debug, thiserror::Error)]
pub enum TwoFaError {
    #[error("the code is wrong or was used already")]
    BadCode,
    #[error("too many wrong codes; locked")]
    Locked { until: i64 },
    #[error("two-factor sign-in is not set up for this user")]
    NotEnrolled,
    #[error("two-factor sign-in is already set up for this user")]
    AlreadyEnabled,
    #[error("the stored second factor cannot be opened with this master key")]
    Vault,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TwoFaStatus {
    pub enabled: bool,
    /// Enrolment started but not confirmed.
    pub pending: bool,
    pub recovery_codes_left: usize,
}

/// An enrolment under way: what the user's app needs. `Debug` hides the secret.
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(***)")
    }
}

/// How a second factor was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Code,
    /// A recovery code, now spent; this many remain.
    RecoveryCode {
        left: usize,
    },
}

/// The second-factor operations over a store, the master key and the throttle.
pub struct TwoFactor<'a> {
    pub store: &'a Store,
    pub master: &'a MasterKey,
    pub throttle: ThrottlePolicy,
}

fn aad(user: &User) -> String {
    format!("user_totp/{}", user.id)
}

/// The throttle's account key for codes: its own, so a correct password (which forgives
/// the password key) does not forgive wrong codes.
fn throttle_name(user: &User) -> String {
    format!("2fa:{}", user.username)
}

fn unix_secs() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

impl TwoFactor<'_> {
    pub async fn status(&self, user: &User) -> Result<TwoFaStatus, TwoFaError> {
        let row = self.store.totp_row(&user.id).await?;
        let left = self.store.unused_recovery_codes(&user.id).await?.len();
        Ok(TwoFaStatus {
            enabled: row.as_ref().is_some_and(|r| r.enabled),
            pending: row.as_ref().is_some_and(|r| !r.enabled),
            recovery_codes_left: left,
        })
    }

    /// The admins' policy (default: [`TwoFaPolicy::Auto`]).
    pub async fn policy(&self) -> Result<TwoFaPolicy, TwoFaError> {
        let settings = self.store.security_settings().await?;
        Ok(settings
            .iter()
            .find(|(k, _)| k == TWOFA_POLICY_KEY)
            .map(|(_, v)| TwoFaPolicy::parse(v))
            .unwrap_or_default())
    }

    /// Must `user` have a second factor?
    pub async fn required(&self, user: &User) -> Result<bool, TwoFaError> {
        let live = self
            .store
            .channels()
            .await?
            .iter()
            .any(|c| c.mode == "live");
        Ok(self.policy().await?.required(user.role, live))
    }

    /// Starts an enrolment, or continues the one under way (same secret, so a QR code
    /// already scanned stays valid across reloads).
    pub async fn begin(&self, user: &User) -> Result<Enrolment, TwoFaError> {
        let secret = match self.store.totp_row(&user.id).await? {
            Some(r) if r.enabled => return Err(TwoFaError::AlreadyEnabled),
            Some(r) => self.open(user, &r.secret_sealed)?,
            None => {
                let fresh = TotpSecret::generate();
                let sealed = self
                    .master
                    .seal(&aad(user), &SecretString::new(fresh.to_base32()));
                if !self.store.totp_begin(&user.id, &sealed).await? {
                    return Err(TwoFaError::AlreadyEnabled);
                }
                self.store
                    .audit(&user.username, "twofa_enrol_started", &user.username, "")
                    .await?;
                fresh
            }
        };
        Ok(Enrolment {
            otpauth_url: secret.otpauth_url(ISSUER, &user.username),
            secret_base32: secret.to_base32(),
        })
    }

    fn open(&self, user: &User, sealed: &str) -> Result<TotpSecret, TwoFaError> {
        let text = self
            .master
            .open(&aad(user), sealed)
            .map_err(|_| TwoFaError::Vault)?;
        TotpSecret::from_base32(text.expose()).ok_or(TwoFaError::Vault)
    }

    /// Counts an attempt before it is checked (like passwords); waits when owed.
    async fn reserve(&self, user: &User, ip: Option<&str>) -> Result<(), TwoFaError> {
        match self
            .throttle
            .reserve(self.store, &throttle_name(user), ip, now_ms())
            .await?
        {
            Verdict::Locked { until } => Err(TwoFaError::Locked { until }),
            Verdict::Proceed { delay_ms } => {
                if delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                }
                Ok(())
            }
        }
    }

    async fn failed(&self, user: &User, action: &str, ip: Option<&str>) -> TwoFaError {
        if let Err(e) = self
            .store
            .audit(&user.username, action, &user.username, ip.unwrap_or(""))
            .await
        {
            return e.into();
        }
        TwoFaError::BadCode
    }

    /// Confirms the enrolment with a code from the app. Returns the recovery codes, the
    /// only time they exist in the clear.
    pub async fn confirm(
        &self,
        user: &User,
        code: &str,
        ip: Option<&str>,
    ) -> Result<Vec<String>, TwoFaError> {
        self.reserve(user, ip).await?;
        let row = self
            .store
            .totp_row(&user.id)
            .await?
            .ok_or(TwoFaError::NotEnrolled)?;
        if row.enabled {
            return Err(TwoFaError::AlreadyEnabled);
        }
        let secret = self.open(user, &row.secret_sealed)?;
        let Some(step) = secret.matching_step(code, unix_secs(), row.last_step) else {
            return Err(self.failed(user, "twofa_enrol_failed", ip).await);
        };
        let codes = recovery::generate();
        let mut hashes = Vec::with_capacity(codes.len());
        for c in &codes {
            hashes.push(recovery::hash(c).await.ok_or(TwoFaError::Vault)?);
        }
        if !self.store.totp_enable(&user.id, step, &hashes).await? {
            return Err(TwoFaError::AlreadyEnabled);
        }
        self.throttle
            .record_success(self.store, &throttle_name(user), ip)
            .await?;
        self.store
            .audit(
                &user.username,
                "twofa_enabled",
                &user.username,
                ip.unwrap_or(""),
            )
            .await?;
        Ok(codes)
    }

    /// Checks a sign-in's second factor: a code from the app, or a recovery code (spent).
    pub async fn verify(
        &self,
        user: &User,
        code: &str,
        ip: Option<&str>,
    ) -> Result<Proof, TwoFaError> {
        self.reserve(user, ip).await?;
        let row = self
            .store
            .totp_row(&user.id)
            .await?
            .filter(|r| r.enabled)
            .ok_or(TwoFaError::NotEnrolled)?;
        let proof = if recovery::looks_like_recovery(code) {
            self.spend_recovery(user, code).await?
        } else {
            let secret = self.open(user, &row.secret_sealed)?;
            match secret.matching_step(code, unix_secs(), row.last_step) {
                Some(step) if self.store.totp_accept_step(&user.id, step).await? => {
                    Some(Proof::Code)
                }
                _ => None,
            }
        };
        let Some(proof) = proof else {
            return Err(self.failed(user, "twofa_failed", ip).await);
        };
        self.throttle
            .record_success(self.store, &throttle_name(user), ip)
            .await?;
        let (action, detail) = match proof {
            Proof::Code => ("twofa_verified", String::new()),
            Proof::RecoveryCode { left } => ("twofa_recovery_used", format!("left={left}")),
        };
        self.store
            .audit(&user.username, action, &user.username, &detail)
            .await?;
        Ok(proof)
    }

    async fn spend_recovery(&self, user: &User, typed: &str) -> Result<Option<Proof>, TwoFaError> {
        let codes = self.store.unused_recovery_codes(&user.id).await?;
        for (id, hash) in &codes {
            if recovery::matches(typed, hash).await && self.store.spend_recovery_code(id).await? {
                return Ok(Some(Proof::RecoveryCode {
                    left: codes.len() - 1,
                }));
            }
        }
        Ok(None)
    }

    /// Removes `user`'s second factor (an admin's reset, or the user turning it off).
    pub async fn reset(&self, user: &User, actor: &str) -> Result<bool, TwoFaError> {
        let removed = self.store.totp_reset(&user.id).await?;
        self.store
            .audit(
                actor,
                "twofa_reset",
                &user.username,
                if removed { "" } else { "none" },
            )
            .await?;
        Ok(removed)
    }
}
