//! X.509 certificates: issuing them with an [`RsaSigner`] (sandboxes and tests only) and
//! reading the facts the providers need ([`CertInfo`]).

use rsa::pkcs1v15::Signature;
use x509_cert::Certificate;
use x509_cert::der::Decode;

use super::CryptoError;
use super::rsa::RsaSigner;

impl RsaSigner {
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
