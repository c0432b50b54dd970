//! Cryptography shared by the providers: PEM/DER key loading, SHA256withRSA (PKCS#1 v1.5)
//! signing and verification (Alipay RSA2 and WeChat Pay APIv3 use exactly this), AES-256-GCM
//! (WeChat Pay `AEAD_AES_256_GCM`), HMAC-SHA256 (Stripe webhooks), X.509 helpers.
//!
//! * `pem`: PEM blocks and base64.
//! * `rsa`: SHA256withRSA keys, [`RsaSigner`] and [`RsaVerifier`].
//! * `cert`: X.509 certificates, issued ([`CertificateRequest`]) and read ([`CertInfo`]).
//! * `aead`: AES-256-GCM.
//! * `mac`: HMAC-SHA256 and constant-time comparison.

mod aead;
mod cert;
mod mac;
mod pem;
mod rsa;

pub use self::aead::{aes256gcm_decrypt, aes256gcm_encrypt};
pub use self::cert::{CertInfo, CertificateRequest};
pub use self::mac::{ct_eq, hmac_sha256};
pub use self::pem::{PemBlock, b64_decode, b64_encode, pem_blocks};
pub use self::rsa::{RsaSigner, RsaVerifier};

/// Why a key, certificate or ciphertext could not be used. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("not a usable RSA private key (expected PKCS#8 or PKCS#1, PEM or base64 DER)")]
    PrivateKey,
    #[error("not a usable RSA public key (expected SPKI or PKCS#1, PEM or base64 DER)")]
    PublicKey,
    #[error("not a parsable X.509 certificate")]
    Certificate,
    #[error("PEM text is malformed")]
    Pem,
    #[error("signature is not valid base64")]
    SignatureEncoding,
    #[error("signature does not verify")]
    BadSignature,
    #[error("AES-256-GCM key must be exactly 32 bytes")]
    AesKeyLength,
    #[error("AES-GCM nonce must be exactly 12 bytes")]
    NonceLength,
    #[error(
        "AES-GCM authentication failed (wrong key, nonce, associated data, or a damaged ciphertext/tag)"
    )]
    Decrypt,
}

/// A random alphanumeric string (request nonces, WeChat `nonce_str`, GCM nonces in the
/// sandbox, which must be 12 ASCII bytes).
pub fn random_alnum(len: usize) -> String {
    use rand::Rng;
    use rand::distributions::Alphanumeric;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_opaque() {
        assert!(!format!("{:?}", CryptoError::PrivateKey).contains("BEGIN"));
    }
}
