//! Verification of WeChat Pay responses and notifications.
//!
//! Message = `TIMESTAMP\nNONCE\nBODY\n` from the `Wechatpay-Timestamp`, `Wechatpay-Nonce`
//! headers and the raw body. The key is chosen by `Wechatpay-Serial`:
//! - `PUB_KEY_ID_…` → the WeChat Pay public key (public-key mode);
//! - anything else → the platform certificate with that serial.
//!
//! Both kinds are held **at the same time**, and several certificates can be valid at once
//! during a rotation, so a merchant migrating from certificates to the public key (or WeChat
//! rotating certificates) never sees a verification outage. Timestamps more than 5 minutes
//! from `now` are rejected (replay window), and so are `WECHATPAY/SIGNTEST/` signatures
//! (WeChat sends those on purpose to probe that merchants really verify).

use std::collections::HashMap;
use std::sync::RwLock;

use crate::provider::crypto::{CertInfo, CryptoError, RsaVerifier, pem_blocks};
use crate::provider::{HeaderMap, VerifyError, header_str};

pub const HEADER_TIMESTAMP: &str = "wechatpay-timestamp";
pub const HEADER_NONCE: &str = "wechatpay-nonce";
pub const HEADER_SIGNATURE: &str = "wechatpay-signature";
pub const HEADER_SERIAL: &str = "wechatpay-serial";
pub const HEADER_SIGNATURE_TYPE: &str = "wechatpay-signature-type";

/// Allowed distance between `Wechatpay-Timestamp` and now.
pub const MAX_SKEW_SECS: i64 = 300;
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

pub fn verify_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// WeChat Pay public-key mode: the key and its id (`PUB_KEY_ID_…`).
#[derive(Debug, Clone)]
pub struct PlatformPublicKey {
    pub id: String,
    pub key: RsaVerifier,
}

/// A platform certificate's key.
#[derive(Debug, Clone)]
pub struct PlatformCert {
    /// Upper-case hex serial.
    pub serial: String,
    pub key: RsaVerifier,
    pub not_before: i64,
    pub not_after: i64,
}

impl PlatformCert {
    pub fn from_pem(pem: &str) -> Result<PlatformCert, CryptoError> {
        let der = pem_blocks(pem)?
            .into_iter()
            .find(|b| b.label == "CERTIFICATE")
            .ok_or(CryptoError::Certificate)?
            .der;
        let info = CertInfo::from_der(&der)?;
        Ok(PlatformCert {
            serial: info.serial_hex_upper(),
            key: RsaVerifier::from_certificate_der(&der)?,
            not_before: info.not_before_unix,
            not_after: info.not_after_unix,
        })
    }

    /// Within its validity at `now` (the start may be up to [`MAX_SKEW_SECS`] ahead of our
    /// clock: a certificate issued a moment ago on WeChat Pay's clock is usable).
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before <= now + MAX_SKEW_SECS && now <= self.not_after
    }
}

/// The verification keys of one merchant: platform certificates by serial plus the optional
/// public key.
#[derive(Debug, Default)]
pub struct PlatformKeys {
    certs: RwLock<HashMap<String, PlatformCert>>,
    public_key: Option<PlatformPublicKey>,
}

/// The headers of one signed response or notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders<'a> {
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub signature: &'a str,
    pub serial: &'a str,
}

impl<'a> SignedHeaders<'a> {
    pub fn from_headers(h: &'a HeaderMap) -> Result<SignedHeaders<'a>, VerifyError> {
        if let Some(t) = header_str(h, HEADER_SIGNATURE_TYPE)
            && t != super::auth::SCHEMA
        {
            return Err(VerifyError::UnsupportedSignType(t.to_string()));
        }
        Ok(SignedHeaders {
            timestamp: header_str(h, HEADER_TIMESTAMP)
                .ok_or(VerifyError::MissingHeader("Wechatpay-Timestamp"))?,
            nonce: header_str(h, HEADER_NONCE)
                .ok_or(VerifyError::MissingHeader("Wechatpay-Nonce"))?,
            signature: header_str(h, HEADER_SIGNATURE)
                .ok_or(VerifyError::MissingHeader("Wechatpay-Signature"))?,
            serial: header_str(h, HEADER_SERIAL)
                .ok_or(VerifyError::MissingHeader("Wechatpay-Serial"))?,
        })
    }
}

impl PlatformKeys {
    pub fn new(public_key: Option<PlatformPublicKey>) -> PlatformKeys {
        PlatformKeys {
            certs: RwLock::new(HashMap::new()),
            public_key,
        }
    }

    /// Adds (or replaces) a certificate; older ones stay until they expire.
    pub fn add_certificate(&self, cert: PlatformCert) {
        if let Ok(mut certs) = self.certs.write() {
            certs.insert(cert.serial.clone(), cert);
        }
    }

    pub fn add_certificate_pem(&self, pem: &str) -> Result<String, CryptoError> {
        let cert = PlatformCert::from_pem(pem)?;
        let serial = cert.serial.clone();
        self.add_certificate(cert);
        Ok(serial)
    }

    pub fn certificate_serials(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .certs
            .read()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn has_public_key(&self) -> bool {
        self.public_key.is_some()
    }

    /// Whether any platform certificate we hold is valid at `now`.
    pub fn has_valid_certificate(&self, now: i64) -> bool {
        self.certs
            .read()
            .map(|c| c.values().any(|c| c.valid_at(now)))
            .unwrap_or(false)
    }

    /// The key for `serial` at time `now`, or `None` when we do not know it (yet).
    pub fn key_for(&self, serial: &str, now: i64) -> Option<RsaVerifier> {
        if serial.starts_with(PUBLIC_KEY_ID_PREFIX) {
            return self
                .public_key
                .as_ref()
                .filter(|pk| pk.id == serial)
                .map(|pk| pk.key.clone());
        }
        let certs = self.certs.read().ok()?;
        // Serials are hex; compare case-insensitively. Expired certificates are not used.
        certs
            .get(&serial.to_ascii_uppercase())
            .filter(|c| c.valid_at(now))
            .map(|c| c.key.clone())
    }

    /// Checks a response or notification. `now` is Unix seconds.
    pub fn verify(&self, h: &SignedHeaders<'_>, body: &[u8], now: i64) -> Result<(), VerifyError> {
        check_probe_and_time(h, now)?;
        let key = self
            .key_for(h.serial, now)
            .ok_or_else(|| VerifyError::UnknownSerial(h.serial.to_string()))?;
        verify_with(&key, h, body)
    }
}

/// The checks that need no key: probe signatures and the timestamp window.
pub fn check_probe_and_time(h: &SignedHeaders<'_>, now: i64) -> Result<(), VerifyError> {
    if h.signature.starts_with(SIGNTEST_PREFIX) {
        return Err(VerifyError::SignTestProbe);
    }
    let ts: i64 = h
        .timestamp
        .parse()
        .map_err(|_| VerifyError::Malformed("Wechatpay-Timestamp is not a number".into()))?;
    // `abs_diff`, not `(now - ts).abs()`: the timestamp is the sender's text, and one near
    // i64::MIN overflowed the subtraction (a panic with overflow checks; in a release build
    // a wrapped difference that could even pass as fresh). See FUZZING.md, findings.
    if now.abs_diff(ts) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(VerifyError::StaleTimestamp);
    }
    Ok(())
}

pub fn verify_with(
    key: &RsaVerifier,
    h: &SignedHeaders<'_>,
    body: &[u8],
) -> Result<(), VerifyError> {
    key.verify_b64(&verify_message(h.timestamp, h.nonce, body), h.signature)
        .map_err(|e| match e {
            CryptoError::SignatureEncoding => VerifyError::SignatureEncoding,
            _ => VerifyError::BadSignature,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(timestamp: &str) -> SignedHeaders<'_> {
        SignedHeaders {
            timestamp,
            nonce: "n",
            signature: "c2ln",
            serial: "D7CE59D1F522D701",
        }
    }

    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        let now = 1_700_000_000;
        for ts in [i64::MIN, i64::MIN + now, i64::MAX, -1] {
            assert_eq!(
                check_probe_and_time(&headers(&ts.to_string()), now),
                Err(VerifyError::StaleTimestamp),
                "{ts}"
            );
        }
        assert_eq!(check_probe_and_time(&headers("1700000300"), now), Ok(()));
        assert_eq!(
            check_probe_and_time(&headers("1699999699"), now),
            Err(VerifyError::StaleTimestamp)
        );
    }
}
