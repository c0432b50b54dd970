//! SHA256withRSA (PKCS#1 v1.5): [`RsaSigner`] (private keys: signing) and [`RsaVerifier`]
//! (public keys: verifying), loaded from PEM or base64 DER.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

use super::CryptoError;
use super::pem::{b64_lenient, pem_blocks};

/// An RSA private key used for SHA256withRSA signing. `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct RsaSigner {
    pub(super) key: SigningKey<Sha256>,
    pub(super) public: RsaPublicKey,
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaSigner(***)")
    }
}

impl RsaSigner {
    /// Loads a private key from PEM (`PRIVATE KEY` = PKCS#8, `RSA PRIVATE KEY` = PKCS#1) or
    /// from bare base64 DER of either form (how the Alipay key tool exports keys).
    pub fn from_pem_or_base64(text: &str) -> Result<RsaSigner, CryptoError> {
        let der = if text.contains("-----BEGIN") {
            let blocks = pem_blocks(text).map_err(|_| CryptoError::PrivateKey)?;
            let block = blocks
                .into_iter()
                .find(|b| b.label.ends_with("PRIVATE KEY"))
                .ok_or(CryptoError::PrivateKey)?;
            block.der
        } else {
            b64_lenient(text).ok_or(CryptoError::PrivateKey)?
        };
        Self::from_der(&der)
    }

    pub fn from_der(der: &[u8]) -> Result<RsaSigner, CryptoError> {
        let key = RsaPrivateKey::from_pkcs8_der(der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
            .map_err(|_| CryptoError::PrivateKey)?;
        Ok(Self::from_key(key))
    }

    pub fn from_key(key: RsaPrivateKey) -> RsaSigner {
        let public = key.to_public_key();
        RsaSigner {
            key: SigningKey::<Sha256>::new(key),
            public,
        }
    }

    /// Generates a fresh 2048-bit key (sandbox keys, tests).
    pub fn generate() -> Result<RsaSigner, CryptoError> {
        let mut rng = rand::thread_rng();
        let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|_| CryptoError::PrivateKey)?;
        Ok(Self::from_key(key))
    }

    /// PKCS#1 PEM of the private key, for persisting generated sandbox keys.
    pub fn to_pkcs1_pem(&self) -> Result<crate::provider::secret::SecretString, CryptoError> {
        let key: &RsaPrivateKey = self.key.as_ref();
        let pem = key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|_| CryptoError::PrivateKey)?;
        Ok(crate::provider::secret::SecretString::new(pem.as_str()))
    }

    /// SHA256withRSA, PKCS#1 v1.5 padding, standard base64 (with `=` padding) — the `sign`
    /// of Alipay RSA2 and the `signature` of WeChat Pay APIv3.
    pub fn sign_b64(&self, message: &[u8]) -> String {
        let sig: Signature = self.key.sign(message);
        B64.encode(sig.to_bytes())
    }

    pub fn verifier(&self) -> RsaVerifier {
        RsaVerifier::from_key(self.public.clone())
    }
}

/// An RSA public key used to verify SHA256withRSA signatures.
///
/// Every notification and provider response is verified, so this is on the hot path:
/// keys of 2048 bits and more are checked with `ring` (about ten times faster than the
/// `rsa` crate's generic big integers); smaller ones, which no provider issues any more,
/// with `rsa`.
#[derive(Clone)]
pub struct RsaVerifier {
    key: VerifyingKey<Sha256>,
    public: RsaPublicKey,
    /// Modulus and exponent, big-endian, for `ring`; `None` below 2048 bits.
    components: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for RsaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaVerifier")
    }
}

impl RsaVerifier {
    pub fn from_key(public: RsaPublicKey) -> RsaVerifier {
        use rsa::traits::PublicKeyParts;
        let components = (public.n().bits() >= 2048)
            .then(|| (public.n().to_bytes_be(), public.e().to_bytes_be()));
        RsaVerifier {
            key: VerifyingKey::<Sha256>::new(public.clone()),
            public,
            components,
        }
    }

    /// Loads a public key from PEM (`PUBLIC KEY` = SPKI, `RSA PUBLIC KEY` = PKCS#1,
    /// `CERTIFICATE` = the certificate's subject key) or from bare base64 DER of an SPKI or
    /// PKCS#1 key (the form the Alipay console shows the "Alipay public key" in).
    pub fn from_pem_or_base64(text: &str) -> Result<RsaVerifier, CryptoError> {
        if text.contains("-----BEGIN") {
            let blocks = pem_blocks(text).map_err(|_| CryptoError::PublicKey)?;
            let block = blocks.into_iter().next().ok_or(CryptoError::PublicKey)?;
            if block.label == "CERTIFICATE" {
                return Self::from_certificate_der(&block.der);
            }
            return Self::from_der(&block.der);
        }
        let der = b64_lenient(text).ok_or(CryptoError::PublicKey)?;
        Self::from_der(&der)
    }

    pub fn from_der(der: &[u8]) -> Result<RsaVerifier, CryptoError> {
        let public = RsaPublicKey::from_public_key_der(der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
            .map_err(|_| CryptoError::PublicKey)?;
        Ok(Self::from_key(public))
    }

    pub fn from_certificate_der(der: &[u8]) -> Result<RsaVerifier, CryptoError> {
        let cert = Certificate::from_der(der).map_err(|_| CryptoError::Certificate)?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|_| CryptoError::Certificate)?;
        Self::from_der(&spki)
    }

    /// SPKI PEM of the key (sandbox: hand the merchant "the Alipay public key").
    pub fn to_spki_pem(&self) -> Result<String, CryptoError> {
        self.public
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|_| CryptoError::PublicKey)
    }

    /// Verifies a base64 SHA256withRSA signature over `message`.
    pub fn verify_b64(&self, message: &[u8], signature_b64: &str) -> Result<(), CryptoError> {
        let raw = B64
            .decode(signature_b64.trim().as_bytes())
            .map_err(|_| CryptoError::SignatureEncoding)?;
        if let Some((n, e)) = &self.components {
            return ring::signature::RsaPublicKeyComponents { n, e }
                .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, message, &raw)
                .map_err(|_| CryptoError::BadSignature);
        }
        let sig = Signature::try_from(raw.as_slice()).map_err(|_| CryptoError::BadSignature)?;
        self.key
            .verify(message, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_ring_and_with_rsa_for_small_keys() {
        use rsa::RsaPrivateKey;
        let big = RsaSigner::generate().expect("2048-bit key");
        let small = RsaSigner::from_key(
            RsaPrivateKey::new(&mut rand::thread_rng(), 1024).expect("1024-bit key"),
        );
        for signer in [big, small] {
            let verifier = signer.verifier();
            let sig = signer.sign_b64(b"out_trade_no=PD1&total_amount=0.01");
            assert!(
                verifier
                    .verify_b64(b"out_trade_no=PD1&total_amount=0.01", &sig)
                    .is_ok()
            );
            assert!(matches!(
                verifier.verify_b64(b"out_trade_no=PD1&total_amount=9.99", &sig),
                Err(CryptoError::BadSignature)
            ));
            assert!(matches!(
                verifier.verify_b64(b"x", "not base64!"),
                Err(CryptoError::SignatureEncoding)
            ));
        }
    }
}
