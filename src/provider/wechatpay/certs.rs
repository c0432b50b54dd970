//! `GET /v3/certificates`: the platform certificates, each encrypted with the APIv3 key, in
//! an answer signed with one of them.
//!
//! [`open_download`] checks an answer in this order:
//! 1. `Wechatpay-Serial` names a platform certificate we already trust (valid now): the
//!    signature is checked with it, before anything is decrypted.
//! 2. Each certificate is decrypted (AEAD_AES_256_GCM, associated data `certificate`),
//!    parsed, and its serial must equal its `serial_no`.
//! 3. When we trust no valid certificate yet (first download, or every known one expired),
//!    the signature is checked with the downloaded certificate `Wechatpay-Serial` names,
//!    which must be valid now.
//!
//! **Trust caveat of step 3**, the same as in WeChat Pay's official SDKs and
//! `CertificateDownloader`: the answer vouches for itself. What makes it trustworthy is the
//! encryption (only WeChat Pay and the merchant know the APIv3 key, and AES-GCM makes a
//! certificate without that key undecryptable) and TLS to WeChat Pay's gateway. Someone who
//! holds the APIv3 key and can intercept the connection could hand us a key of their own.
//! Pasting the first certificate by hand (from the merchant platform) avoids this.
//!
//! When we already trust a valid certificate, an answer signed with an unknown one is
//! refused rather than trusted on its own word: WeChat Pay publishes a new certificate
//! long before it signs with it, so a periodic download learns it while answers are still
//! signed with the known one. A channel that missed that window gets a clear error and
//! the certificate can be added by hand.

use serde::Deserialize;

use super::resource::{EncryptedResource, decrypt};
use super::verify::{PlatformCert, PlatformKeys, SignedHeaders, check_probe_and_time, verify_with};
use crate::provider::{HeaderMap, VerifyError};

pub const PATH: &str = "/v3/certificates";

/// The associated data WeChat Pay encrypts certificates with.
pub const ASSOCIATED_DATA: &str = "certificate";

#[derive(Debug, Deserialize)]
struct CertificatesBody {
    data: Vec<CertificateEntry>,
}

#[derive(Debug, Deserialize)]
struct CertificateEntry {
    serial_no: String,
    encrypt_certificate: EncryptedResource,
}

/// One decrypted platform certificate (public data: `Debug` may print it).
#[derive(Debug, Clone)]
pub struct DownloadedCert {
    pub serial: String,
    pub pem: String,
    pub cert: PlatformCert,
}

/// Decrypts every certificate of a `/v3/certificates` body and checks that each one's
/// serial matches its `serial_no`.
pub fn decrypt_certificates(
    apiv3_key: &[u8],
    body: &[u8],
) -> Result<Vec<DownloadedCert>, VerifyError> {
    let parsed: CertificatesBody = serde_json::from_slice(body)
        .map_err(|_| VerifyError::Malformed("certificates body".into()))?;
    let mut out = Vec::with_capacity(parsed.data.len());
    for entry in parsed.data {
        let plain = decrypt(apiv3_key, &entry.encrypt_certificate)?;
        let pem = String::from_utf8(plain).map_err(|_| VerifyError::Decrypt)?;
        let cert = PlatformCert::from_pem(&pem)
            .map_err(|_| VerifyError::Malformed("decrypted certificate does not parse".into()))?;
        if !cert.serial.eq_ignore_ascii_case(&entry.serial_no) {
            return Err(VerifyError::Malformed(
                "certificate serial differs from serial_no".into(),
            ));
        }
        out.push(DownloadedCert {
            serial: cert.serial.clone(),
            pem,
            cert,
        });
    }
    Ok(out)
}

/// Verifies and decrypts a `/v3/certificates` answer (see the module docs). Returns every
/// certificate in it, expired ones included: what to keep is the caller's decision.
pub fn open_download(
    known: &PlatformKeys,
    apiv3_key: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Vec<DownloadedCert>, VerifyError> {
    let h = SignedHeaders::from_headers(headers)?;
    check_probe_and_time(&h, now)?;
    let trusted = known.key_for(h.serial, now);
    if let Some(key) = &trusted {
        verify_with(key, &h, body)?;
    }
    let downloaded = decrypt_certificates(apiv3_key, body)?;
    if trusted.is_none() {
        if known.has_valid_certificate(now) {
            return Err(VerifyError::UnknownSerial(h.serial.to_string()));
        }
        let own = downloaded
            .iter()
            .find(|d| d.serial.eq_ignore_ascii_case(h.serial) && d.cert.valid_at(now))
            .ok_or_else(|| VerifyError::UnknownSerial(h.serial.to_string()))?;
        verify_with(&own.cert.key, &h, body)?;
    }
    Ok(downloaded)
}
