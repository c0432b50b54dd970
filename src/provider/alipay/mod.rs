//! Alipay OpenAPI (gateway `gateway.do`), RSA2 signatures, public-key and certificate modes.
//!
//! - [`sign`]: string-to-sign and request signing
//! - [`response`]: raw-text response verification
//! - [`notify`]: asynchronous notifications
//! - [`cert`]: certificate-mode SNs
//! - [`client`]: the [`Provider`](crate::provider::Provider) implementation

pub mod cert;
pub mod client;
mod code_pay;
pub mod live;
pub mod notify;
pub mod response;
pub mod sandbox;
pub mod sign;
pub mod slice;

pub use client::AlipayClient;

use crate::provider::VerifyError;
use crate::provider::crypto::{CryptoError, RsaSigner, RsaVerifier};
use cert::AlipayCert;

/// The production gateway.
pub const PRODUCTION_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";

/// How Alipay's signatures are checked, and what our requests must carry.
#[derive(Debug, Clone)]
pub enum AlipayKeys {
    /// "公钥" mode: one Alipay public key.
    PublicKey(RsaVerifier),
    /// "公钥证书" mode.
    Certificate(CertMode),
}

/// Certificate mode: our app certificate SN, Alipay's root chain SN, and the Alipay public
/// certificates we know (several during a rotation), by SN.
#[derive(Debug, Clone)]
pub struct CertMode {
    pub app_cert_sn: String,
    pub alipay_root_cert_sn: String,
    pub alipay_certs: Vec<AlipayCert>,
}

impl CertMode {
    /// From the three files the Alipay console hands out: `appCertPublicKey_….crt`,
    /// `alipayCertPublicKey_RSA2.crt` and `alipayRootCert.crt`.
    pub fn from_pems(
        app_cert: &str,
        alipay_cert: &str,
        root_chain: &str,
    ) -> Result<CertMode, CryptoError> {
        Ok(CertMode {
            app_cert_sn: cert::cert_sn(app_cert)?,
            alipay_root_cert_sn: cert::root_cert_sn(root_chain)?,
            alipay_certs: vec![AlipayCert::from_pem(alipay_cert)?],
        })
    }
}

impl AlipayKeys {
    /// The key for a response that names `alipay_cert_sn` (certificate mode), or the only key.
    pub(crate) fn verifier_for(&self, cert_sn: Option<&str>) -> Result<&RsaVerifier, VerifyError> {
        match (self, cert_sn) {
            (AlipayKeys::PublicKey(k), _) => Ok(k),
            (AlipayKeys::Certificate(c), Some(sn)) => c
                .alipay_certs
                .iter()
                .find(|ac| ac.sn == sn)
                .map(|ac| &ac.key)
                .ok_or_else(|| VerifyError::UnknownSerial(sn.to_string())),
            (AlipayKeys::Certificate(c), None) => c
                .alipay_certs
                .first()
                .map(|ac| &ac.key)
                .ok_or(VerifyError::UnknownSerial(String::new())),
        }
    }

    /// Every key a notification may be signed with (notifications name no certificate).
    pub(crate) fn all_verifiers(&self) -> Vec<&RsaVerifier> {
        match self {
            AlipayKeys::PublicKey(k) => vec![k],
            AlipayKeys::Certificate(c) => c.alipay_certs.iter().map(|ac| &ac.key).collect(),
        }
    }
}

/// One Alipay channel.
#[derive(Debug, Clone)]
pub struct AlipayConfig {
    /// Our channel name (the `{channel}` of the notify URL).
    pub channel: String,
    pub app_id: String,
    /// The merchant application private key (RSA2). `Debug` prints nothing.
    pub app_private_key: RsaSigner,
    pub keys: AlipayKeys,
    /// Full gateway URL: [`PRODUCTION_GATEWAY`], the Alipay sandbox, or our sandbox
    /// (`{base}/sandbox/alipay/gateway.do`).
    pub gateway_url: String,
}
