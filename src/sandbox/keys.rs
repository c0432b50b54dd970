//! The sandboxes' own keys, generated on first start and persisted in the store so they
//! survive restarts and are shared by every instance on the same database.
//!
//! Each provider's keys are one JSON document (see `migrations/…_sandbox.sql`): both the
//! gateway's side (the "Alipay" key that signs answers, the WeChat platform key, the Stripe
//! webhook secret) and the merchant side the sandbox channels use (app private key, merchant
//! API key and serial, Stripe secret key). Every type here prints no secret in `Debug`.
//!
//! One generic load-or-create ([`load_or_create`]) with a small per-provider part
//! ([`PersistedKeys`]): what to generate and how it is written down.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::Ledger;
use super::alipay::AlipaySandbox;
use super::certs::{CertRing, IssuedCert};
use super::stripe::StripeSandbox;
use super::wechatpay::{SandboxPublicKey, WechatPaySandbox};
use crate::provider::alipay::{AlipayConfig, AlipayKeys};
use crate::provider::crypto::{CryptoError, RsaSigner, random_alnum};
use crate::provider::secret::SecretString;
use crate::provider::stripe::StripeConfig;
use crate::provider::wechatpay::{PlatformPublicKey, WechatPayConfig};
use crate::provider::{ProviderKind, SharedClock};
use crate::store::{Store, StoreError};
use crate::vault::{MasterKey, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored sandbox keys for {0} are unreadable")]
    Corrupt(ProviderKind),
    #[error("cannot generate sandbox keys: {0}")]
    Generate(#[from] CryptoError),
    #[error("key generation was interrupted")]
    Interrupted,
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// The per-provider part of [`load_or_create`].
pub trait PersistedKeys: Sized + Send + 'static {
    const PROVIDER: ProviderKind;
    /// The stored form. Only ever (de)serialized, never printed.
    type Doc: Serialize + DeserializeOwned + Send + 'static;
    fn generate() -> Result<Self, KeyError>;
    fn to_doc(&self) -> Result<Self::Doc, KeyError>;
    fn from_doc(doc: Self::Doc) -> Result<Self, KeyError>;
    /// Adds what a document written by an older paydesk lacks (generating keys);
    /// `Ok(true)` when it changed and must be stored again.
    fn complete(_doc: &mut Self::Doc) -> Result<bool, KeyError> {
        Ok(false)
    }
}

/// Reads the provider's keys from the store, or generates and stores them, sealed under
/// the master key. RSA generation is CPU-bound, so it runs on the blocking pool instead of
/// stalling the async workers.
pub async fn load_or_create<K: PersistedKeys>(
    store: &Store,
    master: &MasterKey,
) -> Result<K, KeyError> {
    let name = K::PROVIDER.as_str();
    // Binds each sealed document to its row.
    let aad = format!("sandbox_keys/{name}");
    // A second round only when another instance completed an old document at the same
    // time: then its version is read back and used.
    for _ in 0..2 {
        let stored = match store.sandbox_secrets(name).await? {
            Some(text) => text,
            None => {
                let fresh = tokio::task::spawn_blocking(K::generate)
                    .await
                    .map_err(|_| KeyError::Interrupted)??;
                let sealed = seal::<K>(master, &aad, &fresh.to_doc()?)?;
                let stored = store
                    .insert_sandbox_secrets_if_absent(name, &sealed)
                    .await?;
                tracing::info!(provider = name, "sandbox keys ready");
                stored
            }
        };
        // Documents written before keys were sealed are plain JSON; they still load.
        let text = if MasterKey::is_sealed(stored.expose()) {
            master.open(&aad, stored.expose())?
        } else {
            stored.clone()
        };
        let doc: K::Doc =
            serde_json::from_str(text.expose()).map_err(|_| KeyError::Corrupt(K::PROVIDER))?;
        let (doc, changed) = tokio::task::spawn_blocking(move || {
            let mut doc = doc;
            K::complete(&mut doc).map(|changed| (doc, changed))
        })
        .await
        .map_err(|_| KeyError::Interrupted)??;
        if !changed {
            return K::from_doc(doc);
        }
        let sealed = seal::<K>(master, &aad, &doc)?;
        if store
            .replace_sandbox_secrets(name, &stored, &sealed)
            .await?
        {
            tracing::info!(provider = name, "sandbox keys completed");
            return K::from_doc(doc);
        }
    }
    Err(KeyError::Interrupted)
}

fn seal<K: PersistedKeys>(
    master: &MasterKey,
    aad: &str,
    doc: &K::Doc,
) -> Result<SecretString, KeyError> {
    let json = serde_json::to_string(doc).map_err(|_| KeyError::Corrupt(K::PROVIDER))?;
    Ok(SecretString::new(
        master.seal(aad, &SecretString::new(json)),
    ))
}

fn pem(k: &RsaSigner) -> Result<String, KeyError> {
    Ok(k.to_pkcs1_pem()?.expose().to_string())
}

fn key(pem: &str) -> Result<RsaSigner, KeyError> {
    Ok(RsaSigner::from_pem_or_base64(pem)?)
}

fn digits(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

// ---------------------------------------------------------------- Alipay

#[derive(Debug, Clone)]
pub struct AlipaySandboxKeys {
    pub app_id: String,
    /// The merchant's app key: the sandbox channel signs requests with it.
    pub app_private_key: RsaSigner,
    /// The sandbox's "Alipay" key: signs answers and notifications.
    pub alipay_private_key: RsaSigner,
}

#[derive(Serialize, Deserialize)]
pub struct AlipayDoc {
    app_id: String,
    app_private_key: String,
    alipay_private_key: String,
}

impl PersistedKeys for AlipaySandboxKeys {
    const PROVIDER: ProviderKind = ProviderKind::Alipay;
    type Doc = AlipayDoc;
    fn generate() -> Result<Self, KeyError> {
        Ok(AlipaySandboxKeys {
            // Alipay sandbox app ids look like 2021000…: 16 digits.
            app_id: format!("2021000{}", digits(9)),
            app_private_key: RsaSigner::generate()?,
            alipay_private_key: RsaSigner::generate()?,
        })
    }
    fn to_doc(&self) -> Result<AlipayDoc, KeyError> {
        Ok(AlipayDoc {
            app_id: self.app_id.clone(),
            app_private_key: pem(&self.app_private_key)?,
            alipay_private_key: pem(&self.alipay_private_key)?,
        })
    }
    fn from_doc(d: AlipayDoc) -> Result<Self, KeyError> {
        Ok(AlipaySandboxKeys {
            app_id: d.app_id,
            app_private_key: key(&d.app_private_key)?,
            alipay_private_key: key(&d.alipay_private_key)?,
        })
    }
}

impl AlipaySandboxKeys {
    /// The "Alipay public key" a merchant would paste into its channel.
    pub fn alipay_public_key_pem(&self) -> Result<String, KeyError> {
        Ok(self.alipay_private_key.verifier().to_spki_pem()?)
    }

    pub fn sandbox(&self, pay_base_url: &str, clock: SharedClock) -> AlipaySandbox {
        AlipaySandbox {
            app_id: self.app_id.clone(),
            app_public_key: self.app_private_key.verifier(),
            alipay_key: self.alipay_private_key.clone(),
            cert_mode: None,
            pay_base_url: pay_base_url.to_string(),
            ledger: Ledger::default(),
            clock,
        }
    }

    /// A channel that talks to the sandbox at `gateway_url` (`…/sandbox/alipay/gateway.do`).
    pub fn client_config(&self, channel: &str, gateway_url: &str) -> AlipayConfig {
        AlipayConfig {
            channel: channel.to_string(),
            app_id: self.app_id.clone(),
            app_private_key: self.app_private_key.clone(),
            keys: AlipayKeys::PublicKey(self.alipay_private_key.verifier()),
            gateway_url: gateway_url.to_string(),
        }
    }
}

// ---------------------------------------------------------------- WeChat Pay

#[derive(Debug, Clone)]
pub struct WechatPaySandboxKeys {
    pub mchid: String,
    pub appid: String,
    /// Serial of the merchant API certificate the sandbox channel signs under.
    pub merchant_serial: String,
    pub merchant_private_key: RsaSigner,
    pub apiv3_key: SecretString,
    /// The sandbox platform key, in WeChat Pay public-key mode under `public_key_id`.
    pub platform_private_key: RsaSigner,
    pub public_key_id: String,
    /// The sandbox's platform certificate (a key of its own, as at WeChat Pay), served
    /// by `/v3/certificates`.
    pub platform_cert: IssuedCert,
}

#[derive(Serialize, Deserialize)]
pub struct WechatPayDoc {
    mchid: String,
    appid: String,
    merchant_serial: String,
    merchant_private_key: String,
    apiv3_key: String,
    platform_private_key: String,
    public_key_id: String,
    /// Absent in documents written before the sandbox had platform certificates
    /// (added by `complete`).
    #[serde(default)]
    platform_cert_key: Option<String>,
    #[serde(default)]
    platform_cert: Option<String>,
}

/// Subject of the sandbox's platform certificates (WeChat Pay's read
/// `CN=Tenpay.com sign,OU=Tenpay.com CA Center,O=Tenpay.com,L=Shenzhen,ST=Guangdong,C=CN`).
pub const PLATFORM_CERT_SUBJECT: &str =
    "CN=paydesk sandbox platform,OU=paydesk sandbox,O=paydesk,C=CN";

/// A fresh platform certificate, valid from a day ago (clocks differ) for five years.
pub fn new_platform_cert() -> Result<IssuedCert, KeyError> {
    let now = crate::time::now_ms() / 1000;
    Ok(IssuedCert::self_signed(
        RsaSigner::generate()?,
        PLATFORM_CERT_SUBJECT,
        now - 86_400,
    )?)
}

impl PersistedKeys for WechatPaySandboxKeys {
    const PROVIDER: ProviderKind = ProviderKind::Wechatpay;
    type Doc = WechatPayDoc;
    fn generate() -> Result<Self, KeyError> {
        let hex40: String = (0..20)
            .map(|_| format!("{:02X}", rand::random::<u8>()))
            .collect();
        Ok(WechatPaySandboxKeys {
            mchid: format!("19{}", digits(8)),
            appid: format!("wx{}", random_alnum(16).to_ascii_lowercase()),
            merchant_serial: hex40,
            merchant_private_key: RsaSigner::generate()?,
            apiv3_key: SecretString::new(random_alnum(32)),
            platform_private_key: RsaSigner::generate()?,
            public_key_id: format!("PUB_KEY_ID_01{}", digits(30)),
            platform_cert: new_platform_cert()?,
        })
    }
    fn to_doc(&self) -> Result<WechatPayDoc, KeyError> {
        Ok(WechatPayDoc {
            mchid: self.mchid.clone(),
            appid: self.appid.clone(),
            merchant_serial: self.merchant_serial.clone(),
            merchant_private_key: pem(&self.merchant_private_key)?,
            apiv3_key: self.apiv3_key.expose().to_string(),
            platform_private_key: pem(&self.platform_private_key)?,
            public_key_id: self.public_key_id.clone(),
            platform_cert_key: Some(pem(&self.platform_cert.key)?),
            platform_cert: Some(self.platform_cert.pem.clone()),
        })
    }
    fn from_doc(d: WechatPayDoc) -> Result<Self, KeyError> {
        if d.apiv3_key.len() != 32 {
            return Err(KeyError::Corrupt(Self::PROVIDER));
        }
        Ok(WechatPaySandboxKeys {
            mchid: d.mchid,
            appid: d.appid,
            merchant_serial: d.merchant_serial,
            merchant_private_key: key(&d.merchant_private_key)?,
            apiv3_key: SecretString::new(d.apiv3_key),
            platform_private_key: key(&d.platform_private_key)?,
            public_key_id: d.public_key_id,
            platform_cert: match (d.platform_cert_key, d.platform_cert) {
                (Some(k), Some(pem)) => IssuedCert::from_parts(key(&k)?, pem)?,
                _ => return Err(KeyError::Corrupt(Self::PROVIDER)),
            },
        })
    }
    fn complete(d: &mut WechatPayDoc) -> Result<bool, KeyError> {
        if d.platform_cert_key.is_some() && d.platform_cert.is_some() {
            return Ok(false);
        }
        let cert = new_platform_cert()?;
        d.platform_cert_key = Some(pem(&cert.key)?);
        d.platform_cert = Some(cert.pem);
        Ok(true)
    }
}

impl WechatPaySandboxKeys {
    /// The WeChat Pay public key a merchant would download for `public_key_id`.
    pub fn platform_public_key_pem(&self) -> Result<String, KeyError> {
        Ok(self.platform_private_key.verifier().to_spki_pem()?)
    }

    pub fn sandbox(&self, pay_base_url: &str, clock: SharedClock) -> WechatPaySandbox {
        WechatPaySandbox {
            mchid: self.mchid.clone(),
            appid: self.appid.clone(),
            merchant_serial: self.merchant_serial.clone(),
            merchant_public_key: self.merchant_private_key.verifier(),
            apiv3_key: self.apiv3_key.clone(),
            public_key: Some(SandboxPublicKey {
                id: self.public_key_id.clone(),
                key: self.platform_private_key.clone(),
            }),
            platform_certs: CertRing::new(self.platform_cert.clone()),
            // The sandbox channel is in public-key mode (what new merchants get).
            sign_with_public_key: AtomicBool::new(true),
            pay_base_url: pay_base_url.to_string(),
            ledger: Ledger::default(),
            clock,
        }
    }

    /// A channel that talks to the sandbox at `base_url` (`…/sandbox/wechatpay`).
    pub fn client_config(&self, channel: &str, base_url: &str) -> WechatPayConfig {
        WechatPayConfig {
            channel: channel.to_string(),
            mchid: self.mchid.clone(),
            appid: self.appid.clone(),
            merchant_serial: self.merchant_serial.clone(),
            merchant_private_key: self.merchant_private_key.clone(),
            apiv3_key: self.apiv3_key.clone(),
            base_url: base_url.to_string(),
            platform_public_key: Some(PlatformPublicKey {
                id: self.public_key_id.clone(),
                key: self.platform_private_key.verifier(),
            }),
            platform_certificates: Vec::new(),
            download_certificates: false,
            retired_platform_serials: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------- Stripe

#[derive(Debug, Clone)]
pub struct StripeSandboxKeys {
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
}

#[derive(Serialize, Deserialize)]
pub struct StripeDoc {
    secret_key: String,
    webhook_secret: String,
}

impl PersistedKeys for StripeSandboxKeys {
    const PROVIDER: ProviderKind = ProviderKind::Stripe;
    type Doc = StripeDoc;
    fn generate() -> Result<Self, KeyError> {
        Ok(StripeSandboxKeys {
            secret_key: SecretString::new(format!("sk_test_{}", random_alnum(48))),
            webhook_secret: SecretString::new(format!("whsec_{}", random_alnum(32))),
        })
    }
    fn to_doc(&self) -> Result<StripeDoc, KeyError> {
        Ok(StripeDoc {
            secret_key: self.secret_key.expose().to_string(),
            webhook_secret: self.webhook_secret.expose().to_string(),
        })
    }
    fn from_doc(d: StripeDoc) -> Result<Self, KeyError> {
        Ok(StripeSandboxKeys {
            secret_key: SecretString::new(d.secret_key),
            webhook_secret: SecretString::new(d.webhook_secret),
        })
    }
}

impl StripeSandboxKeys {
    pub fn sandbox(&self, pay_base_url: &str, clock: SharedClock) -> StripeSandbox {
        StripeSandbox::new(
            self.secret_key.clone(),
            self.webhook_secret.clone(),
            pay_base_url.to_string(),
            clock,
        )
    }

    /// A channel that talks to the sandbox at `api_base` (`…/sandbox/stripe`).
    pub fn client_config(&self, channel: &str, api_base: &str, success_url: &str) -> StripeConfig {
        StripeConfig {
            channel: channel.to_string(),
            secret_key: self.secret_key.clone(),
            webhook_secret: self.webhook_secret.clone(),
            previous_webhook_secrets: Vec::new(),
            api_base: api_base.to_string(),
            success_url: success_url.to_string(),
            cancel_url: None,
        }
    }
}

// ---------------------------------------------------------------- all three

/// The keys of all three sandboxes.
#[derive(Debug, Clone)]
pub struct SandboxKeys {
    pub alipay: Arc<AlipaySandboxKeys>,
    pub wechatpay: Arc<WechatPaySandboxKeys>,
    pub stripe: Arc<StripeSandboxKeys>,
}

impl SandboxKeys {
    /// Loads (or on first start generates and stores) every sandbox key.
    pub async fn load_or_create(
        store: &Store,
        master: &MasterKey,
    ) -> Result<SandboxKeys, KeyError> {
        // Generated concurrently: on a fresh install that is four RSA keys.
        let (a, w, s) = tokio::join!(
            load_or_create::<AlipaySandboxKeys>(store, master),
            load_or_create::<WechatPaySandboxKeys>(store, master),
            load_or_create::<StripeSandboxKeys>(store, master),
        );
        Ok(SandboxKeys {
            alipay: Arc::new(a?),
            wechatpay: Arc::new(w?),
            stripe: Arc::new(s?),
        })
    }
}
