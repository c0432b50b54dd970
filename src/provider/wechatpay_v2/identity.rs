//! Loading the merchant API certificate from the PKCS#12 file WeChat ships
//! (`apiclient_cert.p12`, password = `mch_id` unless the merchant changed it), which uses
//! OpenSSL's legacy encryption (RC2-40 for the certificates, 3DES for the key). The
//! result is the same [`ClientIdentity`] as the bundle's PEM files give.

use super::ClientIdentity;
use crate::provider::ProviderError;
use crate::provider::crypto::b64_encode;
use crate::provider::secret::SecretString;

/// PEM armour (RFC 7468: base64 in lines of 64).
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = b64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl ClientIdentity {
    /// Reads the first private key and its certificate chain from a PKCS#12 file. A wrong
    /// password and a damaged file are the same error (nothing about the file leaks).
    pub fn from_pkcs12(
        der: &[u8],
        password: &SecretString,
    ) -> Result<ClientIdentity, ProviderError> {
        let bad = || ProviderError::Config("PKCS#12 file or password is not usable".into());
        let store =
            p12_keystore::KeyStore::from_pkcs12(der, password.expose()).map_err(|_| bad())?;
        let (_, chain) = store.private_key_chain().ok_or_else(bad)?;
        if chain.chain().is_empty() {
            return Err(bad());
        }
        let cert_pem: String = chain
            .chain()
            .iter()
            .map(|c| pem("CERTIFICATE", c.as_der()))
            .collect();
        Ok(ClientIdentity {
            cert_pem,
            key_pem: SecretString::new(pem("PRIVATE KEY", chain.key())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::crypto::pem_blocks;

    /// A throwaway RSA key and self-signed certificate (`CN=1900000109`), exported by
    /// `openssl pkcs12 -export -legacy` with password `1900000109`: the same algorithms
    /// as WeChat's `apiclient_cert.p12` (pbeWithSHA1And40BitRC2-CBC certificates, 3DES
    /// key, SHA-1 MAC). It protects nothing.
    const P12: &[u8] = include_bytes!("fixtures/apiclient_cert_legacy.p12");
    const CERT_PEM: &str = include_str!("fixtures/apiclient_cert_legacy.pem");

    #[test]
    fn reads_wechat_style_legacy_pkcs12() {
        let id = ClientIdentity::from_pkcs12(P12, &SecretString::new("1900000109")).expect("p12");
        let der = |pem: &str| {
            pem_blocks(pem)
                .expect("pem")
                .into_iter()
                .map(|b| b.der)
                .collect::<Vec<_>>()
        };
        assert_eq!(der(&id.cert_pem), der(CERT_PEM));
        assert!(
            id.key_pem
                .expose()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        // reqwest (rustls) accepts the pair as a client identity.
        let pair = format!("{}{}", id.cert_pem, id.key_pem.expose());
        assert!(reqwest::Identity::from_pem(pair.as_bytes()).is_ok());
    }

    #[test]
    fn wrong_password_or_garbage_is_refused() {
        let wrong = ClientIdentity::from_pkcs12(P12, &SecretString::new("1900000108"));
        assert!(matches!(wrong, Err(ProviderError::Config(_))));
        let junk = ClientIdentity::from_pkcs12(b"not a pfx", &SecretString::new("x"));
        assert!(matches!(junk, Err(ProviderError::Config(_))));
    }
}
