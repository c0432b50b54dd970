//! Cryptography shared by the providers: PEM/DER key loading, SHA256withRSA (PKCS#1 v1.5)
//! signing and verification (Alipay RSA2 and WeChat Pay APIv3 use exactly this), AES-256-GCM
//! (WeChat Pay `AEAD_AES_256_GCM`), HMAC-SHA256 (Stripe webhooks), X.509 helpers.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

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

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and decoded DER bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Parses every `-----BEGIN X-----` … `-----END X-----` block in `text` (certificate chains
/// such as Alipay's root cert file hold several). Text outside blocks is ignored.
pub fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, CryptoError> {
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut b64 = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            if l == end {
                closed = true;
                break;
            }
            // RFC 7468 allows headers only in legacy encrypted PEM, which we do not accept.
            if l.contains(':') {
                return Err(CryptoError::Pem);
            }
            b64.push_str(l);
        }
        if !closed {
            return Err(CryptoError::Pem);
        }
        let der = B64.decode(b64.as_bytes()).map_err(|_| CryptoError::Pem)?;
        out.push(PemBlock {
            label: label.to_string(),
            der,
        });
    }
    Ok(out)
}

/// Decodes base64 that may be wrapped over several lines (consoles hand out keys that way).
fn b64_lenient(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact.as_bytes()).ok()
}

/// An RSA private key used for SHA256withRSA signing. `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct RsaSigner {
    key: SigningKey<Sha256>,
    public: RsaPublicKey,
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

    /// Issues an X.509 v3 certificate for `subject_key`, signed SHA256withRSA with this key.
    /// `issuer` is this key's distinguished name, or `None` for a self-signed certificate
    /// (then `subject_key` must be this key). Only the sandboxes and tests issue
    /// certificates; production ones come from the providers.
    pub fn issue_certificate(
        &self,
        issuer: Option<&str>,
        subject_key: &RsaSigner,
        req: &CertificateRequest<'_>,
    ) -> Result<String, CryptoError> {
        use x509_cert::builder::{Builder, CertificateBuilder, Profile};
        use x509_cert::der::EncodePem;
        use x509_cert::name::Name;
        use x509_cert::serial_number::SerialNumber;
        use x509_cert::spki::SubjectPublicKeyInfoOwned;
        use x509_cert::time::{Time, Validity};

        // Which part of the builder failed says nothing useful to a caller: every
        // failure means "cannot make this certificate".
        fn bad<E>(_: E) -> CryptoError {
            CryptoError::Certificate
        }
        let name = |dn: &str| dn.parse::<Name>().map_err(bad);
        let time = |unix: i64| {
            let at = std::time::UNIX_EPOCH
                + std::time::Duration::from_secs(u64::try_from(unix).unwrap_or(0));
            Time::try_from(at).map_err(bad)
        };
        let subject = name(req.subject)?;
        let profile = match (issuer, req.ca) {
            (None, _) => Profile::Root,
            (Some(dn), true) => Profile::SubCA {
                issuer: name(dn)?,
                path_len_constraint: None,
            },
            (Some(dn), false) => Profile::Leaf {
                issuer: name(dn)?,
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
        };
        let spki = SubjectPublicKeyInfoOwned::from_key(subject_key.public.clone()).map_err(bad)?;
        let builder = CertificateBuilder::new(
            profile,
            SerialNumber::new(req.serial).map_err(bad)?,
            Validity {
                not_before: time(req.not_before)?,
                not_after: time(req.not_after)?,
            },
            subject,
            spki,
            &self.key,
        )
        .map_err(bad)?;
        let cert = builder.build::<Signature>().map_err(bad)?;
        cert.to_pem(rsa::pkcs8::LineEnding::LF).map_err(bad)
    }
}

/// What a certificate issued by [`RsaSigner::issue_certificate`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest<'a> {
    /// Distinguished name in RFC 4514 form (`CN=…,O=…,C=CN`).
    pub subject: &'a str,
    /// Big-endian serial number (positive: the first byte below 0x80).
    pub serial: &'a [u8],
    /// Validity, Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// A CA certificate (may issue others) rather than an end-entity one.
    pub ca: bool,
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

/// AEAD_AES_256_GCM decryption as WeChat Pay uses it: 32-byte key, 12-byte nonce, associated
/// data, ciphertext with the 16-byte tag appended.
pub fn aes256gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::AesKeyLength)?;
    if nonce.len() != 12 {
        return Err(CryptoError::NonceLength);
    }
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map_err(|_| CryptoError::Decrypt)
}

/// The inverse of [`aes256gcm_decrypt`] (the sandbox encrypts notifications with it).
pub fn aes256gcm_encrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::AesKeyLength)?;
    if nonce.len() != 12 {
        return Err(CryptoError::NonceLength);
    }
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Decrypt)
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for HMAC.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Constant-time equality (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    B64.decode(s.as_bytes()).ok()
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

/// Facts about an X.509 certificate the providers need.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// Serial number as big-endian bytes without leading zero bytes.
    pub serial: Vec<u8>,
    /// Issuer DN in RFC 4514 form (most specific RDN first, `,` separated) — the form that
    /// Java's `X500Principal.getName()` and Go's `pkix.Name.String()` produce, which is what
    /// Alipay hashes for certificate SNs.
    pub issuer_dn: String,
    /// OID of the certificate's signature algorithm (dotted).
    pub signature_algorithm: String,
    pub not_before_unix: i64,
    pub not_after_unix: i64,
}

impl CertInfo {
    pub fn from_der(der: &[u8]) -> Result<CertInfo, CryptoError> {
        let cert = Certificate::from_der(der).map_err(|_| CryptoError::Certificate)?;
        let tbs = &cert.tbs_certificate;
        let raw = tbs.serial_number.as_bytes();
        let first = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
        Ok(CertInfo {
            serial: raw[first..].to_vec(),
            issuer_dn: tbs.issuer.to_string(),
            signature_algorithm: cert.signature_algorithm.oid.to_string(),
            not_before_unix: tbs.validity.not_before.to_unix_duration().as_secs() as i64,
            not_after_unix: tbs.validity.not_after.to_unix_duration().as_secs() as i64,
        })
    }

    /// Serial in upper-case hex (WeChat Pay's `serial_no` / `Wechatpay-Serial`).
    pub fn serial_hex_upper(&self) -> String {
        if self.serial.is_empty() {
            return "0".into();
        }
        hex::encode_upper(&self.serial)
    }

    /// Serial in decimal (Alipay's certificate SN input).
    pub fn serial_decimal(&self) -> String {
        rsa::BigUint::from_bytes_be(&self.serial).to_string()
    }

    /// Signed with an RSA signature algorithm (OID arc 1.2.840.113549.1.1 — PKCS#1).
    pub fn is_rsa_signed(&self) -> bool {
        self.signature_algorithm.starts_with("1.2.840.113549.1.1.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_rejects_unterminated() {
        assert_eq!(
            pem_blocks("-----BEGIN CERTIFICATE-----\nAAAA\n"),
            Err(CryptoError::Pem)
        );
        assert_eq!(pem_blocks("no pem here"), Ok(vec![]));
    }

    #[test]
    fn gcm_rejects_bad_lengths() {
        assert_eq!(
            aes256gcm_decrypt(&[0; 16], &[0; 12], b"", &[0; 16]),
            Err(CryptoError::AesKeyLength)
        );
        assert_eq!(
            aes256gcm_decrypt(&[0; 32], &[0; 8], b"", &[0; 16]),
            Err(CryptoError::NonceLength)
        );
        let ct = aes256gcm_encrypt(&[7; 32], b"abcdefghijkl", b"ad", b"hi").expect("encrypt");
        assert_eq!(
            aes256gcm_decrypt(&[7; 32], b"abcdefghijkl", b"ad", &ct).as_deref(),
            Ok(&b"hi"[..])
        );
    }

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

    #[test]
    fn ct_eq_compares() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn debug_is_opaque() {
        assert!(!format!("{:?}", CryptoError::PrivateKey).contains("BEGIN"));
    }
}
