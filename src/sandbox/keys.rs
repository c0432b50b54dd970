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

use serde::{Serialize, de::DeserializeOwned};

use crate::provider::ProviderKind;
use crate::provider::alipay::sandbox::keys::AlipaySandboxKeys;
use crate::provider::crypto::{CryptoError, RsaSigner};
use crate::provider::secret::SecretString;
use crate::provider::stripe::sandbox::keys::StripeSandboxKeys;
use crate::provider::wechatpay::sandbox::keys::WechatPaySandboxKeys;
use crate::provider::wechatpay_v2::sandbox::keys::SandboxV2Keys;
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

pub(crate) fn pem(k: &RsaSigner) -> Result<String, KeyError> {
    Ok(k.to_pkcs1_pem()?.expose().to_string())
}

pub(crate) fn key(pem: &str) -> Result<RsaSigner, KeyError> {
    Ok(RsaSigner::from_pem_or_base64(pem)?)
}

pub(crate) fn digits(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

// ---------------------------------------------------------------- all of them

/// `(file name, content)` of each key file, and the sandbox's path under `/sandbox/`.
pub type LiveChannelFiles = (Vec<(&'static str, String)>, &'static str);

/// The keys of every sandbox.
#[derive(Debug, Clone)]
pub struct SandboxKeys {
    pub alipay: Arc<AlipaySandboxKeys>,
    pub wechatpay: Arc<WechatPaySandboxKeys>,
    pub stripe: Arc<StripeSandboxKeys>,
    pub wechatpay_v2: Arc<SandboxV2Keys>,
}

impl SandboxKeys {
    /// Loads (or on first start generates and stores) every sandbox key.
    pub async fn load_or_create(
        store: &Store,
        master: &MasterKey,
    ) -> Result<SandboxKeys, KeyError> {
        // Generated concurrently: on a fresh install that is seven RSA keys.
        let (a, w, s, w2) = tokio::join!(
            load_or_create::<AlipaySandboxKeys>(store, master),
            load_or_create::<WechatPaySandboxKeys>(store, master),
            load_or_create::<StripeSandboxKeys>(store, master),
            load_or_create::<SandboxV2Keys>(store, master),
        );
        Ok(SandboxKeys {
            alipay: Arc::new(a?),
            wechatpay: Arc::new(w?),
            stripe: Arc::new(s?),
            wechatpay_v2: Arc::new(w2?),
        })
    }

    /// The key files for a live channel pointed at this provider's sandbox, and the
    /// sandbox's path under `{public_url}/sandbox/`; `None` for a provider without live
    /// channels.
    pub fn live_channel_files(
        &self,
        provider: ProviderKind,
    ) -> Option<Result<LiveChannelFiles, KeyError>> {
        Some(match provider {
            ProviderKind::Alipay => self
                .alipay
                .live_channel_files()
                .map(|f| (f, AlipaySandboxKeys::LIVE_GATEWAY_PATH)),
            ProviderKind::Wechatpay => self
                .wechatpay
                .live_channel_files()
                .map(|f| (f, WechatPaySandboxKeys::LIVE_GATEWAY_PATH)),
            ProviderKind::Stripe => self
                .stripe
                .live_channel_files()
                .map(|f| (f, StripeSandboxKeys::LIVE_GATEWAY_PATH)),
            ProviderKind::WechatpayV2 => return None,
        })
    }
}
