//! The v2 sandbox's credentials as one document, for persisting them like the other
//! sandboxes' keys (`crate::sandbox::keys::PersistedKeys`, which needs a `ProviderKind`
//! variant for v2 before it can be implemented): the merchant account and API key, and
//! the TLS material of [`SandboxTls`]. Generate once, store sealed, load on every start,
//! so channels and their certificates survive restarts.

use serde::{Deserialize, Serialize};

use super::{SandboxTls, WechatPayV2Sandbox};
use crate::provider::SharedClock;
use crate::provider::crypto::{CryptoError, RsaSigner, random_alnum};
use crate::provider::secret::SecretString;
use crate::sandbox::Ledger;
use crate::sandbox::certs::{IssuedCert, SandboxCa};

/// Everything the v2 sandbox needs. `Debug` shows no secret.
#[derive(Clone, Debug)]
pub struct SandboxV2Keys {
    pub appid: String,
    pub mch_id: String,
    pub api_key: SecretString,
    pub tls: SandboxTls,
}

/// The stored form (keys as PKCS#1 PEM). Only ever (de)serialized, never printed.
#[derive(Serialize, Deserialize)]
pub struct SandboxV2KeysDoc {
    appid: String,
    mch_id: String,
    api_key: String,
    ca_name: String,
    ca_key: String,
    ca_cert: String,
    server_key: String,
    server_cert: String,
    merchant_key: String,
    merchant_cert: String,
}

fn pem(k: &RsaSigner) -> Result<String, CryptoError> {
    Ok(k.to_pkcs1_pem()?.expose().to_string())
}

fn cert(key: &str, pem: &str) -> Result<IssuedCert, CryptoError> {
    IssuedCert::from_parts(RsaSigner::from_pem_or_base64(key)?, pem.to_string())
}

impl SandboxV2Keys {
    /// A fresh merchant (`wx…` appid, `16…` mch_id, 32-character API key) and its TLS
    /// material (three RSA keys: call from the blocking pool).
    pub fn generate(now: i64) -> Result<SandboxV2Keys, CryptoError> {
        let digits: String = (0..8)
            .map(|_| char::from(b'0' + rand::random::<u8>() % 10))
            .collect();
        let mch_id = format!("16{digits}");
        Ok(SandboxV2Keys {
            appid: format!("wx{}", random_alnum(16).to_ascii_lowercase()),
            tls: SandboxTls::generate(&mch_id, now)?,
            mch_id,
            api_key: SecretString::new(random_alnum(32)),
        })
    }

    pub fn to_doc(&self) -> Result<SandboxV2KeysDoc, CryptoError> {
        let t = &self.tls;
        Ok(SandboxV2KeysDoc {
            appid: self.appid.clone(),
            mch_id: self.mch_id.clone(),
            api_key: self.api_key.expose().to_string(),
            ca_name: t.ca.name.clone(),
            ca_key: pem(&t.ca.cert.key)?,
            ca_cert: t.ca.cert.pem.clone(),
            server_key: pem(&t.server.key)?,
            server_cert: t.server.pem.clone(),
            merchant_key: pem(&t.merchant.key)?,
            merchant_cert: t.merchant.pem.clone(),
        })
    }

    pub fn from_doc(d: SandboxV2KeysDoc) -> Result<SandboxV2Keys, CryptoError> {
        Ok(SandboxV2Keys {
            tls: SandboxTls {
                ca: SandboxCa {
                    name: d.ca_name,
                    cert: cert(&d.ca_key, &d.ca_cert)?,
                },
                server: cert(&d.server_key, &d.server_cert)?,
                merchant: cert(&d.merchant_key, &d.merchant_cert)?,
            },
            appid: d.appid,
            mch_id: d.mch_id,
            api_key: SecretString::new(d.api_key),
        })
    }

    /// The sandbox gateway for these credentials over `ledger`.
    /// A channel configuration that talks to the sandbox's mutual-TLS listener at
    /// `base_url`, presenting the sandbox merchant's client certificate.
    pub fn client_config(
        &self,
        channel: &str,
        base_url: &str,
    ) -> Result<crate::provider::wechatpay_v2::WechatPayV2Config, CryptoError> {
        self.sandbox(
            "",
            Ledger::default(),
            std::sync::Arc::new(crate::provider::SystemClock),
        )
        .client_config(channel, base_url, &self.tls)
    }

    pub fn sandbox(
        &self,
        pay_base_url: &str,
        ledger: Ledger,
        clock: SharedClock,
    ) -> WechatPayV2Sandbox {
        WechatPayV2Sandbox::new(
            self.appid.clone(),
            self.mch_id.clone(),
            self.api_key.clone(),
            pay_base_url,
            ledger,
            clock,
        )
    }
}

/// Stored like the other sandboxes' keys (`sandbox::keys::load_or_create`).
impl crate::sandbox::keys::PersistedKeys for SandboxV2Keys {
    const PROVIDER: crate::provider::ProviderKind = crate::provider::ProviderKind::WechatpayV2;
    type Doc = SandboxV2KeysDoc;
    fn generate() -> Result<Self, crate::sandbox::keys::KeyError> {
        Ok(SandboxV2Keys::generate(crate::time::now_ms() / 1000)?)
    }
    fn to_doc(&self) -> Result<SandboxV2KeysDoc, crate::sandbox::keys::KeyError> {
        Ok(SandboxV2Keys::to_doc(self)?)
    }
    fn from_doc(doc: SandboxV2KeysDoc) -> Result<Self, crate::sandbox::keys::KeyError> {
        Ok(SandboxV2Keys::from_doc(doc)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_round_trip_and_debug() {
        let keys = SandboxV2Keys::generate(crate::time::now_ms() / 1000).expect("generate");
        let json = serde_json::to_string(&keys.to_doc().expect("doc")).expect("json");
        let back =
            SandboxV2Keys::from_doc(serde_json::from_str(&json).expect("parse")).expect("load");
        assert_eq!(back.api_key, keys.api_key);
        assert_eq!(back.mch_id, keys.mch_id);
        assert_eq!(back.tls.merchant.serial, keys.tls.merchant.serial);
        assert_eq!(back.tls.server.pem, keys.tls.server.pem);
        assert!(back.tls.server_config().is_ok());
        let debug = format!("{keys:?}");
        assert!(!debug.contains(keys.api_key.expose()));
        assert!(!debug.contains("PRIVATE KEY"));
    }
}
