//! `GET /v3/certificates`: the platform certificates, each encrypted with the APIv3 key.
//!
//! The response is signed by one of the certificates it contains, so it is verified after
//! decryption with the union of the new and the already known certificates (what the
//! official SDKs do on first download).

use serde::Deserialize;

use super::resource::{EncryptedResource, decrypt};
use super::verify::PlatformCert;
use crate::provider::VerifyError;

pub const PATH: &str = "/v3/certificates";

#[derive(Debug, Deserialize)]
struct CertificatesBody {
    data: Vec<CertificateEntry>,
}

#[derive(Debug, Deserialize)]
struct CertificateEntry {
    serial_no: String,
    encrypt_certificate: EncryptedResource,
}

/// One decrypted platform certificate.
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
