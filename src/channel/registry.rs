//! Looks channels up by name and hands out their provider clients, built once per version
//! of the channel row (an edit or a key rotation bumps `updated_at`, which rebuilds it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::clients;
use super::config::{ConfigProblem, LiveChannel};
use super::{ChannelMode, parse_provider, sandbox_channels, secrets_aad};
use crate::provider::http::HttpSettings;
use crate::provider::wechatpay::WechatPayClient;
use crate::provider::{CallSink, Provider, ProviderError, ProviderKind, SharedClock};
use crate::sandbox::keys::{KeyError, SandboxKeys};
use crate::store::{ChannelRow, NewChannel, Store, StoreError};
use crate::vault::MasterKey;

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("no channel named {0}")]
    NotFound(String),
    #[error("channel {0} is disabled")]
    Disabled(String),
    #[error("channel {0} is not a {1} channel")]
    WrongProvider(String, ProviderKind),
    #[error("channel {name} is misconfigured: {problem}")]
    Config { name: String, problem: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sandbox keys: {0}")]
    SandboxKeys(#[from] KeyError),
}

/// Why a rotation was refused: a problem with the input (names the field), or the store.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Problem(super::config::ConfigProblem),
    #[error(transparent)]
    Channel(#[from] ChannelError),
}

/// A channel and its ready client.
#[derive(Clone)]
pub struct ResolvedChannel {
    pub row: ChannelRow,
    pub kind: ProviderKind,
    pub mode: ChannelMode,
    pub provider: Arc<dyn Provider>,
}

impl std::fmt::Debug for ResolvedChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedChannel")
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

impl ResolvedChannel {
    pub fn is_disabled(&self) -> bool {
        self.row.disabled_at.is_some()
    }
}

struct Cached {
    updated_at: i64,
    provider: Arc<dyn Provider>,
}

/// Channel lookups for the whole process. Cheap to share behind an `Arc`.
pub struct ChannelRegistry {
    store: Store,
    master: MasterKey,
    /// `{PAYDESK_PUBLIC_URL}` without a trailing slash: notify URLs and the sandbox gateways.
    public_url: String,
    sink: Arc<dyn CallSink>,
    clock: SharedClock,
    http: HttpSettings,
    sandbox_keys: OnceCell<SandboxKeys>,
    /// The WeChat Pay v2 sandbox over mutual TLS (`https://127.0.0.1:port`), started on
    /// first use: v2 refunds need the merchant's client certificate, which plain HTTP
    /// cannot carry.
    sandbox_v2_tls: OnceCell<String>,
    cache: Mutex<HashMap<String, Cached>>,
    /// Each channel as last resolved, and when its row was read (`resolve_recent_for`).
    recent: Mutex<HashMap<String, (Instant, ResolvedChannel)>>,
}

impl std::fmt::Debug for ChannelRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelRegistry")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl ChannelRegistry {
    pub fn new(
        store: Store,
        master: MasterKey,
        public_url: &str,
        sink: Arc<dyn CallSink>,
        clock: SharedClock,
        http: HttpSettings,
    ) -> ChannelRegistry {
        ChannelRegistry {
            store,
            master,
            public_url: public_url.trim_end_matches('/').to_string(),
            sink,
            clock,
            http,
            sandbox_keys: OnceCell::new(),
            sandbox_v2_tls: OnceCell::new(),
            cache: Mutex::new(HashMap::new()),
            recent: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Where the provider posts notifications for `channel`.
    pub fn notify_url(&self, kind: ProviderKind, channel: &str) -> String {
        format!("{}/notify/{}/{channel}", self.public_url, kind.as_str())
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Creates the sandbox channels a fresh install has (idempotent; safe to race).
    pub async fn ensure_sandbox_channels(&self) -> Result<(), StoreError> {
        for (name, kind) in sandbox_channels() {
            let id = Store::new_channel_id();
            let created = self
                .store
                .insert_channel_if_absent(NewChannel {
                    id: &id,
                    name,
                    provider: kind.as_str(),
                    mode: ChannelMode::Sandbox.as_str(),
                    settings: "{}",
                    sealed_secrets: "",
                })
                .await?;
            if created {
                tracing::info!(channel = name, "sandbox channel created");
            }
        }
        Ok(())
    }

    /// Stores a new live channel after validating every key; secrets are sealed to the row.
    pub async fn add_live(
        &self,
        name: &str,
        live: &LiveChannel,
    ) -> Result<ChannelRow, ChannelError> {
        if !super::valid_name(name) {
            return Err(ChannelError::Config {
                name: name.to_string(),
                problem: "name: use 1-40 of a-z, 0-9, - and _".into(),
            });
        }
        live.validate().map_err(|p| ChannelError::Config {
            name: name.to_string(),
            problem: p.to_string(),
        })?;
        let id = Store::new_channel_id();
        let (settings, secrets) = live.to_json();
        let sealed = self.master.seal(&secrets_aad(&id), &secrets);
        Ok(self
            .store
            .insert_channel(NewChannel {
                id: &id,
                name,
                provider: live.provider().as_str(),
                mode: ChannelMode::Live.as_str(),
                settings: &settings,
                sealed_secrets: &sealed,
            })
            .await?)
    }

    /// Replaces a live channel's configuration (an edit or a rotation).
    pub async fn update_live(&self, name: &str, live: &LiveChannel) -> Result<(), ChannelError> {
        let row = self.row(name).await?;
        if row.provider != live.provider().as_str() || row.mode != ChannelMode::Live.as_str() {
            return Err(ChannelError::WrongProvider(
                name.to_string(),
                live.provider(),
            ));
        }
        live.validate().map_err(|p| ChannelError::Config {
            name: name.to_string(),
            problem: p.to_string(),
        })?;
        let (settings, secrets) = live.to_json();
        let sealed = self.master.seal(&secrets_aad(&row.id), &secrets);
        self.store.update_channel(name, &settings, &sealed).await?;
        Ok(())
    }

    /// Applies one rotation step to a live channel, validates the result and stores it.
    /// Returns the non-secret detail for the audit log (fingerprint or serial).
    pub async fn rotate(
        &self,
        name: &str,
        rotation: super::Rotation,
    ) -> Result<String, RotateError> {
        self.modify_live(name, |live| live.rotate(rotation.clone()))
            .await
    }

    /// Applies `change` to a live channel's configuration, validates the result and
    /// stores it with a compare-and-set on the row's version; when someone else changed
    /// the channel meanwhile (an admin's rotation racing a certificate download), it is
    /// read again and `change` applied again. A change that leaves the configuration as
    /// it was stores nothing, so no instance rebuilds its client for nothing.
    pub async fn modify_live<T>(
        &self,
        name: &str,
        mut change: impl FnMut(&mut LiveChannel) -> Result<T, ConfigProblem>,
    ) -> Result<T, RotateError> {
        const ATTEMPTS: usize = 5;
        for _ in 0..ATTEMPTS {
            let row = self.row(name).await?;
            let mut live = self
                .live_of(&row)?
                .ok_or_else(|| ChannelError::NotFound(name.to_string()))?;
            let (settings_before, secrets_before) = live.to_json();
            let out = change(&mut live).map_err(RotateError::Problem)?;
            live.validate().map_err(RotateError::Problem)?;
            let (settings, secrets) = live.to_json();
            if settings == settings_before && secrets.expose() == secrets_before.expose() {
                return Ok(out);
            }
            let sealed = self.master.seal(&secrets_aad(&row.id), &secrets);
            let stored = self
                .store
                .update_channel_if_unchanged(name, &settings, &sealed, row.updated_at)
                .await
                .map_err(ChannelError::from)?;
            if stored {
                return Ok(out);
            }
        }
        Err(ChannelError::Store(StoreError::Unsupported(
            "the channel kept changing while it was being updated; try again",
        ))
        .into())
    }

    /// A WeChat Pay client for `cfg` with this registry's call log, clock and HTTP
    /// settings (not cached: for one-off calls such as a certificate download).
    pub(super) fn wechatpay_client(
        &self,
        cfg: crate::provider::wechatpay::WechatPayConfig,
    ) -> Result<WechatPayClient, ProviderError> {
        WechatPayClient::new(
            cfg,
            self.http.clone(),
            self.sink.clone(),
            self.clock.clone(),
        )
    }

    /// "Test connection": asks the gateway about an order that cannot exist and reads the
    /// answer. Failures are logged by kind (never with secrets) and summarised.
    pub async fn test_connection(
        &self,
        name: &str,
    ) -> Result<super::ConnectionCheck, ChannelError> {
        use super::ConnectionCheck;
        let channel = match self.resolve(name).await {
            Ok(c) => c,
            Err(ChannelError::Config { problem, .. }) => {
                tracing::warn!(channel = name, %problem, "connection test: channel unusable");
                self.store
                    .record_channel_check(name, ConnectionCheck::BadKey.as_str())
                    .await?;
                return Ok(ConnectionCheck::BadKey);
            }
            Err(e) => return Err(e),
        };
        let result = channel.provider.query(&super::check::probe_trade()).await;
        let verdict = ConnectionCheck::from_result(&result);
        // Kept on the channel: a live channel whose last check failed is marked failing
        // on the Credentials page and at the checkout.
        self.store
            .record_channel_check(name, verdict.as_str())
            .await?;
        if let Err(e) = &result {
            tracing::info!(channel = name, error = %e, verdict = verdict.as_str(), "connection test");
        }
        Ok(verdict)
    }

    /// The decrypted configuration of a live channel (for editing; never displayed whole).
    pub async fn live_config(&self, name: &str) -> Result<Option<LiveChannel>, ChannelError> {
        let row = self.row(name).await?;
        self.live_of(&row)
    }

    fn live_of(&self, row: &ChannelRow) -> Result<Option<LiveChannel>, ChannelError> {
        if row.mode != ChannelMode::Live.as_str() {
            return Ok(None);
        }
        let config = |problem: String| ChannelError::Config {
            name: row.name.clone(),
            problem,
        };
        let kind =
            parse_provider(&row.provider).ok_or_else(|| config("unknown provider".into()))?;
        let secrets = self
            .master
            .open(&secrets_aad(&row.id), &row.sealed_secrets)
            .map_err(|e| config(e.to_string()))?;
        LiveChannel::from_json(kind, &row.settings, &secrets)
            .map(Some)
            .map_err(|p| config(p.to_string()))
    }

    async fn row(&self, name: &str) -> Result<ChannelRow, ChannelError> {
        self.store
            .channel(name)
            .await?
            .ok_or_else(|| ChannelError::NotFound(name.to_string()))
    }

    /// The sandbox keys, loaded (or generated) on first use.
    pub async fn sandbox_keys(&self) -> Result<&SandboxKeys, ChannelError> {
        Ok(self
            .sandbox_keys
            .get_or_try_init(|| SandboxKeys::load_or_create(&self.store, &self.master))
            .await?)
    }

    /// The base URL of the WeChat Pay v2 sandbox's mutual-TLS listener, started on first
    /// use (see [`clients::start_v2_sandbox`]).
    async fn sandbox_v2_url(&self) -> Result<&str, ChannelError> {
        let url = self
            .sandbox_v2_tls
            .get_or_try_init(|| async {
                let keys = self.sandbox_keys().await?.wechatpay_v2.clone();
                clients::start_v2_sandbox(&keys, &self.store, &self.public_url, self.clock.clone())
                    .await
                    .map_err(|problem| ChannelError::Config {
                        name: ProviderKind::WechatpayV2.sandbox_channel().to_string(),
                        problem,
                    })
            })
            .await?;
        Ok(url)
    }

    /// The channel named `name` with its client, disabled or not (callers decide: new
    /// checkouts need an enabled channel, notifications and refunds of old orders do not).
    pub async fn resolve(&self, name: &str) -> Result<ResolvedChannel, ChannelError> {
        let resolved = self.resolve_row(name).await?;
        if let Ok(mut recent) = self.recent.lock() {
            recent.insert(name.to_string(), (Instant::now(), resolved.clone()));
        }
        Ok(resolved)
    }

    /// Like [`resolve_for`](Self::resolve_for), but answers from memory when the channel's
    /// row was read less than `max_age` ago. For the notify path, where reading the row is
    /// a good part of the work of a request: a change (rotation, new certificate) is seen
    /// within `max_age`, and a caller whose verification fails with the remembered keys
    /// asks [`resolve_for`](Self::resolve_for) before giving up.
    pub async fn resolve_recent_for(
        &self,
        kind: ProviderKind,
        name: &str,
        max_age: Duration,
    ) -> Result<ResolvedChannel, ChannelError> {
        let remembered = self.recent.lock().ok().and_then(|recent| {
            recent
                .get(name)
                .filter(|(at, c)| at.elapsed() < max_age && c.kind == kind)
                .map(|(_, c)| c.clone())
        });
        match remembered {
            Some(c) => Ok(c),
            None => self.resolve_for(kind, name).await,
        }
    }

    async fn resolve_row(&self, name: &str) -> Result<ResolvedChannel, ChannelError> {
        let row = self.row(name).await?;
        let config = |problem: String| ChannelError::Config {
            name: row.name.clone(),
            problem,
        };
        let kind =
            parse_provider(&row.provider).ok_or_else(|| config("unknown provider".into()))?;
        let mode = ChannelMode::parse(&row.mode).ok_or_else(|| config("unknown mode".into()))?;
        if let Some(c) = self.cached(name, row.updated_at) {
            return Ok(ResolvedChannel {
                row,
                kind,
                mode,
                provider: c,
            });
        }
        let provider = self
            .build(&row, kind, mode)
            .await?
            .map_err(|e| config(e.to_string()))?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                name.to_string(),
                Cached {
                    updated_at: row.updated_at,
                    provider: provider.clone(),
                },
            );
        }
        Ok(ResolvedChannel {
            row,
            kind,
            mode,
            provider,
        })
    }

    /// Like [`resolve`](Self::resolve), but the channel must speak `kind` (notify URLs name
    /// the provider, and a notification must not be checked by another protocol's rules).
    pub async fn resolve_for(
        &self,
        kind: ProviderKind,
        name: &str,
    ) -> Result<ResolvedChannel, ChannelError> {
        let c = self.resolve(name).await?;
        if c.kind != kind {
            return Err(ChannelError::WrongProvider(name.to_string(), kind));
        }
        Ok(c)
    }

    fn cached(&self, name: &str, updated_at: i64) -> Option<Arc<dyn Provider>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(name)
            .filter(|c| c.updated_at == updated_at)
            .map(|c| c.provider.clone())
    }

    async fn build(
        &self,
        row: &ChannelRow,
        kind: ProviderKind,
        mode: ChannelMode,
    ) -> Result<Result<Arc<dyn Provider>, ProviderError>, ChannelError> {
        let name = row.name.as_str();
        let parts = clients::Parts {
            http: self.http.clone(),
            sink: self.sink.clone(),
            clock: self.clock.clone(),
        };
        Ok(match mode {
            ChannelMode::Sandbox => {
                let keys = self.sandbox_keys().await?;
                let v2_url = match kind {
                    ProviderKind::WechatpayV2 => Some(self.sandbox_v2_url().await?),
                    _ => None,
                };
                clients::sandbox(kind, name, keys, &self.public_url, v2_url, parts)
            }
            ChannelMode::Live => match self.live_of(row)? {
                Some(live) => {
                    clients::live(name, &live, parts).map_err(|p| ChannelError::Config {
                        name: name.to_string(),
                        problem: p.to_string(),
                    })?
                }
                None => Err(ProviderError::Config("not a live channel".into())),
            },
        })
    }
}
