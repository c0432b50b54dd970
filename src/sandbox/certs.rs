//! Certificates of the sandboxes, and the gateways' own certificate rotations.
//!
//! The real gateways sign with keys that come with X.509 certificates: WeChat Pay's platform
//! certificates, Alipay's public-key certificates under Alipay's root. The sandboxes issue
//! real certificates the same way (RSA 2048, SHA256withRSA), so the client code parses,
//! matches serials and checks validity dates on exactly what it sees in production.
//!
//! [`CertRing`] is one gateway's set of signing certificates while it rotates them, in
//! WeChat Pay's order: the new certificate is published next to the old one (the gateway
//! still signs with the old), then the gateway signs with the new one, and finally the old
//! one is withdrawn. Merchants that fetch the published set in the first step never see a
//! signature they cannot verify.

use std::sync::{Arc, RwLock};

use crate::provider::crypto::{CertInfo, CertificateRequest, CryptoError, RsaSigner, pem_blocks};

/// How long the sandbox's certificates are valid: five years, like WeChat Pay's.
pub const VALIDITY_SECS: i64 = 5 * 365 * 86_400;

/// A certificate the sandbox issued, with its private key. `Debug` shows no key.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    pub key: RsaSigner,
    pub pem: String,
    /// Upper-case hex serial (WeChat Pay's `serial_no`).
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// A random positive serial of 20 bytes (40 hex digits, like WeChat Pay's).
fn random_serial() -> [u8; 20] {
    let mut serial: [u8; 20] = rand::random();
    // Positive, and without a leading zero byte so the hex form keeps 40 digits.
    serial[0] = (serial[0] & 0x7f) | 0x10;
    serial
}

impl IssuedCert {
    /// Reads back a certificate and its key (persisted sandbox keys).
    pub fn from_parts(key: RsaSigner, pem: String) -> Result<IssuedCert, CryptoError> {
        let der = pem_blocks(&pem)?
            .into_iter()
            .find(|b| b.label == "CERTIFICATE")
            .ok_or(CryptoError::Certificate)?
            .der;
        let info = CertInfo::from_der(&der)?;
        Ok(IssuedCert {
            key,
            serial: info.serial_hex_upper(),
            not_before: info.not_before_unix,
            not_after: info.not_after_unix,
            pem,
        })
    }

    /// A self-signed certificate of `key` for `subject`, valid from `not_before` for
    /// [`VALIDITY_SECS`] (WeChat Pay platform certificates: clients trust them through the
    /// APIv3 key that encrypts them, not through a chain).
    pub fn self_signed(
        key: RsaSigner,
        subject: &str,
        not_before: i64,
    ) -> Result<IssuedCert, CryptoError> {
        let pem = key.issue_certificate(
            None,
            &key,
            &CertificateRequest {
                subject,
                serial: &random_serial(),
                not_before,
                not_after: not_before + VALIDITY_SECS,
                ca: false,
            },
        )?;
        IssuedCert::from_parts(key, pem)
    }
}

/// A sandbox certificate authority (Alipay's root, in certificate mode).
#[derive(Debug, Clone)]
pub struct SandboxCa {
    pub name: String,
    pub cert: IssuedCert,
}

impl SandboxCa {
    pub fn generate(name: &str, not_before: i64) -> Result<SandboxCa, CryptoError> {
        let key = RsaSigner::generate()?;
        let pem = key.issue_certificate(
            None,
            &key,
            &CertificateRequest {
                subject: name,
                serial: &random_serial(),
                not_before,
                not_after: not_before + 2 * VALIDITY_SECS,
                ca: true,
            },
        )?;
        Ok(SandboxCa {
            name: name.to_string(),
            cert: IssuedCert::from_parts(key, pem)?,
        })
    }

    /// Issues an end-entity certificate for `key` (generated when `None`), valid from
    /// `not_before` to `not_after`.
    pub fn issue(
        &self,
        subject: &str,
        key: Option<RsaSigner>,
        not_before: i64,
        not_after: i64,
    ) -> Result<IssuedCert, CryptoError> {
        let key = match key {
            Some(k) => k,
            None => RsaSigner::generate()?,
        };
        let pem = self.cert.key.issue_certificate(
            Some(&self.name),
            &key,
            &CertificateRequest {
                subject,
                serial: &random_serial(),
                not_before,
                not_after,
                ca: false,
            },
        )?;
        IssuedCert::from_parts(key, pem)
    }
}

#[derive(Debug, Default)]
struct RingState {
    /// Published certificates, oldest first.
    certs: Vec<Arc<IssuedCert>>,
    /// Serial of the certificate that signs.
    signing: Option<String>,
}

/// A gateway's published certificates and the one it signs with (see the module docs).
#[derive(Debug, Default)]
pub struct CertRing {
    state: RwLock<RingState>,
}

/// Why a rotation step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("no published certificate has serial {0}")]
    Unknown(String),
    #[error("the certificate that signs cannot be withdrawn; sign with another one first")]
    Signing,
}

impl CertRing {
    /// A ring that publishes and signs with `first`.
    pub fn new(first: IssuedCert) -> CertRing {
        let ring = CertRing::default();
        ring.publish(first);
        ring
    }

    fn read<T>(&self, f: impl FnOnce(&RingState) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-update; the state is still whole.
        f(&self.state.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn write<T>(&self, f: impl FnOnce(&mut RingState) -> T) -> T {
        f(&mut self.state.write().unwrap_or_else(|p| p.into_inner()))
    }

    /// Every published certificate, oldest first.
    pub fn published(&self) -> Vec<Arc<IssuedCert>> {
        self.read(|s| s.certs.clone())
    }

    /// The certificate answers are signed with (`None` for an empty ring).
    pub fn signing(&self) -> Option<Arc<IssuedCert>> {
        self.read(|s| {
            let serial = s.signing.as_deref()?;
            s.certs.iter().find(|c| c.serial == serial).cloned()
        })
    }

    /// Step 1: publishes another certificate. The first one published also signs; later
    /// ones wait for [`CertRing::sign_with`].
    pub fn publish(&self, cert: IssuedCert) {
        self.write(|s| {
            if s.signing.is_none() {
                s.signing = Some(cert.serial.clone());
            }
            s.certs.push(Arc::new(cert));
        });
    }

    /// Step 2: signs with the published certificate `serial` from now on.
    pub fn sign_with(&self, serial: &str) -> Result<(), RingError> {
        self.write(|s| {
            if !s.certs.iter().any(|c| c.serial == serial) {
                return Err(RingError::Unknown(serial.to_string()));
            }
            s.signing = Some(serial.to_string());
            Ok(())
        })
    }

    /// Step 3: stops publishing `serial`.
    pub fn withdraw(&self, serial: &str) -> Result<(), RingError> {
        self.write(|s| {
            if s.signing.as_deref() == Some(serial) {
                return Err(RingError::Signing);
            }
            let before = s.certs.len();
            s.certs.retain(|c| c.serial != serial);
            if s.certs.len() == before {
                return Err(RingError::Unknown(serial.to_string()));
            }
            Ok(())
        })
    }
}
