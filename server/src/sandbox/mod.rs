//! The built-in provider sandboxes, mounted in the server:
//!
//! - `/sandbox/alipay/gateway.do`, `/sandbox/wechatpay/v3/…`, `/sandbox/stripe/v1/…`: the
//!   gateways (`paydesk_core::sandbox`), verifying our signed requests like the real ones;
//! - `/sandbox/pay/{code}`: the wallet page a phone opens from the QR code ([`wallet`]).
//!
//! The order books live in the database too (`SandboxSet::durable`), and so do the "paid"
//! notifications the sandbox owes: the delivery worker starts with the first sandbox use,
//! or at server start when deliveries are pending ([`SandboxHub::resume`]), so payments
//! made before a crash are still notified after it.
//!
//! Keys come from the database (generated on first use, sealed under the master key —
//! `PAYDESK_MASTER_KEY` or `master.key` in the data directory — and shared by every
//! instance that has the same master key). They are loaded lazily on the first sandbox request, so building the router stays synchronous
//! and a server that never touches the sandbox never generates RSA keys.

mod barcode;
pub mod wallet;
mod wallet_code;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use paydesk_core::provider::{ProviderKind, SharedClock, SystemClock};
use paydesk_core::sandbox::delivery::{Deliverer, DeliveryError, DeliveryPolicy};
use paydesk_core::sandbox::keys::{KeyError, SandboxKeys};
use paydesk_core::sandbox::set::SandboxSet;
use paydesk_core::store::Store;
use paydesk_core::vault::MasterKey;
use std::path::PathBuf;
use tokio::sync::OnceCell;
use tower::ServiceExt;
use url::Url;

use crate::config::Config;

/// How the sandbox behaves; tests shorten the retry schedule and redirect Stripe events.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    pub delivery: DeliveryPolicy,
    /// Default: `{PAYDESK_PUBLIC_URL}/notify/stripe/stripe-sandbox`, the sandbox channel's endpoint.
    pub stripe_webhook_url: Option<String>,
}

struct Inner {
    store: Store,
    data_dir: PathBuf,
    public_url: Url,
    stripe_webhook_url: String,
    clock: SharedClock,
    set: OnceCell<Arc<SandboxSet>>,
    deliverer: Option<Deliverer>,
}

/// Shared handle on the sandboxes (cheap to clone; lives in `AppState`).
#[derive(Clone)]
pub struct SandboxHub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SandboxHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHub")
            .field("public_url", &self.inner.public_url.as_str())
            .finish()
    }
}

impl SandboxHub {
    pub fn new(config: &Config, store: Store) -> SandboxHub {
        SandboxHub::with_options(config, store, SandboxOptions::default())
    }

    pub fn with_options(config: &Config, store: Store, options: SandboxOptions) -> SandboxHub {
        let public_url = &config.public_url;
        let stripe_webhook_url = options
            .stripe_webhook_url
            .unwrap_or_else(|| join(public_url, "notify/stripe/stripe-sandbox"));
        let deliverer = Deliverer::new(options.delivery)
            .inspect_err(|e| tracing::error!(error = %e, "sandbox notifications are disabled"))
            .ok();
        SandboxHub {
            inner: Arc::new(Inner {
                store,
                data_dir: config.settings.data_dir.clone(),
                public_url: public_url.clone(),
                stripe_webhook_url,
                clock: Arc::new(SystemClock),
                set: OnceCell::new(),
                deliverer,
            }),
        }
    }

    /// `{PAYDESK_PUBLIC_URL}/{path}` without a double slash.
    pub fn public(&self, path: &str) -> String {
        join(&self.inner.public_url, path)
    }

    /// The sandboxes, loading (on a fresh database: generating) their keys on first use.
    /// Concurrent first calls wait for one load.
    pub async fn get(&self) -> Result<Arc<SandboxSet>, KeyError> {
        let inner = &self.inner;
        inner
            .set
            .get_or_try_init(|| async {
                let master = MasterKey::load(&inner.data_dir)?;
                let keys = SandboxKeys::load_or_create(&inner.store, &master).await?;
                let set = Arc::new(SandboxSet::durable(
                    keys,
                    &join(&inner.public_url, "sandbox/pay"),
                    inner.stripe_webhook_url.clone(),
                    inner.clock.clone(),
                    inner.store.clone(),
                ));
                // Deliveries need the keys (each attempt is signed afresh), so the worker
                // starts with the set. Not after shutdown: then the queue waits in the
                // database for the next start.
                if let Some(d) = &inner.deliverer {
                    let _ = d.start(set.clone(), inner.store.clone());
                }
                Ok(set)
            })
            .await
            .cloned()
    }

    /// At server start: if the database holds deliveries still owed (this instance or
    /// another one crashed before the merchant acknowledged them), loads the sandboxes so
    /// the worker resumes them. Checks again every `RESUME_CHECK` until the worker runs,
    /// so an instance that never served the sandbox still takes over a crashed one's
    /// queue; a database without pending deliveries costs one small query per check, and
    /// no key generation.
    pub fn resume(&self) {
        let Some(deliverer) = self.inner.deliverer.clone() else {
            return;
        };
        let hub = self.clone();
        let stopping = deliverer.stopping();
        deliverer.spawn(async move {
            tokio::select! {
                _ = hub.resume_when_pending() => {}
                _ = stopping => {}
            }
        });
    }

    async fn resume_when_pending(&self) {
        loop {
            if self.inner.set.initialized() {
                return;
            }
            match self.inner.store.has_pending_sandbox_deliveries().await {
                Ok(true) => match self.get().await {
                    Ok(_) => {
                        tracing::info!("sandbox: resuming pending notification deliveries");
                        return;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "sandbox keys unavailable; deliveries wait")
                    }
                },
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "sandbox deliveries: cannot look at the queue")
                }
            }
            tokio::time::sleep(RESUME_CHECK).await;
        }
    }

    /// A delivery was queued: the worker looks at once.
    pub(crate) fn wake_deliveries(&self) {
        if let Some(d) = &self.inner.deliverer {
            d.wake();
        }
    }

    pub fn deliverer(&self) -> Result<&Deliverer, DeliveryError> {
        self.inner.deliverer.as_ref().ok_or(DeliveryError::Client)
    }

    /// Stops notification deliveries (called once the server stopped accepting requests).
    pub async fn shutdown(&self) {
        if let Some(d) = &self.inner.deliverer {
            d.shutdown().await;
        }
    }
}

/// How often a server that has not loaded the sandboxes looks for deliveries owed.
const RESUME_CHECK: std::time::Duration = std::time::Duration::from_secs(5);

fn join(base: &Url, path: &str) -> String {
    format!("{}/{}", base.as_str().trim_end_matches('/'), path)
}

/// The sandbox routes, for merging into the application router.
pub fn routes<S: Clone + Send + Sync + 'static>(hub: SandboxHub) -> Router<S> {
    let mut router = Router::new()
        .route("/sandbox/pay/{code}", get(wallet::page))
        .route("/sandbox/pay/{code}/pay", post(wallet::pay))
        .route("/sandbox/pay/{code}/cancel", post(wallet::cancel))
        .route("/sandbox/wallet/{provider}", get(wallet_code::page))
        .route(
            "/sandbox/wallet/{provider}/confirm",
            post(wallet_code::confirm),
        )
        .with_state(hub.clone());
    for kind in ProviderKind::ALL {
        let hub = hub.clone();
        // `nest_service` strips the prefix, so each gateway sees the paths it would see at
        // the provider (`/gateway.do`, `/v3/…`, `/v1/…`) — the WeChat signature covers them.
        let gateway = tower::service_fn(move |req: Request| {
            let hub = hub.clone();
            async move { Ok::<_, Infallible>(gateway(hub, kind, req).await) }
        });
        router = router.nest_service(&format!("/sandbox/{}", kind.as_str()), gateway);
    }
    router
}

async fn gateway(hub: SandboxHub, kind: ProviderKind, req: Request) -> Response {
    let set = match hub.get().await {
        Ok(set) => set,
        Err(e) => {
            tracing::error!(error = %e, "sandbox keys unavailable");
            return (StatusCode::SERVICE_UNAVAILABLE, "sandbox unavailable").into_response();
        }
    };
    match set.router(kind).oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}
