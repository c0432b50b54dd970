//! Alipay certificate mode ("公钥证书"): the SNs sent with every request.
//!
//! - `app_cert_sn` = md5(issuer DN + decimal serial) of the merchant's app certificate, hex.
//! - `alipay_root_cert_sn` = the same hash for each certificate of Alipay's root chain that is
//!   RSA-signed (the chain file also holds SM2 certs, which are skipped), joined with `_`.
//! - Responses carry `alipay_cert_sn`, naming which Alipay certificate signed them.
//!
//! The issuer DN is in RFC 2253/4514 form (most specific RDN first, no spaces), the form
//! Alipay's Java SDK gets from `X500Principal.getName()`.

use md5::{Digest, Md5};

use crate::provider::crypto::{CertInfo, CryptoError, RsaVerifier, pem_blocks};

fn sn_of(info: &CertInfo) -> String {
    let mut h = Md5::new();
    h.update(info.issuer_dn.as_bytes());
    h.update(info.serial_decimal().as_bytes());
    hex::encode(h.finalize())
}

fn certificates(pem: &str) -> Result<Vec<Vec<u8>>, CryptoError> {
    let certs: Vec<Vec<u8>> = pem_blocks(pem)?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| b.der)
        .collect();
    if certs.is_empty() {
        return Err(CryptoError::Certificate);
    }
    Ok(certs)
}

/// SN of the first certificate in `pem` (`app_cert_sn`, `alipay_cert_sn`).
pub fn cert_sn(pem: &str) -> Result<String, CryptoError> {
    let certs = certificates(pem)?;
    Ok(sn_of(&CertInfo::from_der(&certs[0])?))
}

/// `alipay_root_cert_sn` of a root chain file.
pub fn root_cert_sn(chain_pem: &str) -> Result<String, CryptoError> {
    let mut sns = Vec::new();
    for der in certificates(chain_pem)? {
        let info = CertInfo::from_der(&der)?;
        if info.is_rsa_signed() {
            sns.push(sn_of(&info));
        }
    }
    if sns.is_empty() {
        return Err(CryptoError::Certificate);
    }
    Ok(sns.join("_"))
}

/// An Alipay public-key certificate: its SN and key.
#[derive(Debug, Clone)]
pub struct AlipayCert {
    pub sn: String,
    pub key: RsaVerifier,
}

impl AlipayCert {
    pub fn from_pem(pem: &str) -> Result<AlipayCert, CryptoError> {
        let certs = certificates(pem)?;
        Ok(AlipayCert {
            sn: sn_of(&CertInfo::from_der(&certs[0])?),
            key: RsaVerifier::from_certificate_der(&certs[0])?,
        })
    }
}
