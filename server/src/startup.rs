//! Building the application: store, router, listener; and serving it until a signal.

use crate::config::Config;
use crate::jobs::JobSettings;
use crate::routes::{
    credentials, display, export, health, login, notify, preferences, qr, test_mode,
};
use crate::security::{AllowedOrigin, reject_cross_origin};
use crate::sessions::SessionLimits;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::FromRef;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post};
use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder};
use leptos::prelude::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use paydesk_app::{App, shell};
use paydesk_core::auth::{
    AUTH_DATA_KEY, Backend, DbSessionStore, ThrottlePolicy, ensure_bootstrap_admin,
};
use paydesk_core::channel::ChannelRegistry;
use paydesk_core::payments::notify::MAX_NOTIFY_BYTES;
use paydesk_core::payments::{PaymentSettings, Payments};
use paydesk_core::provider::SystemClock;
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::store::{CallLogWriter, StoreCallSink};
use paydesk_core::store::{Store, StoreError};
use paydesk_core::vault::MasterKey;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

pub const SESSION_COOKIE: &str = "paydesk_session";
/// After SIGTERM, how long in-flight requests may take before the server stops anyway.
const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_secs(7);
/// Then, how long background loops may take to finish the work in hand.
const JOB_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler reaches (`State<AppState>`). One `Arc`: axum clones the state for
/// every request, and a clone is then one reference count, not the whole struct (it was
/// ≈ 6 µs per notification under load, `BENCHMARKS.md`). Fields read through `Deref`;
/// tests that tune a field get their own copy (`DerefMut` is copy-on-write).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut AppStateInner {
        Arc::make_mut(&mut self.0)
    }
}

#[derive(Clone)]
pub struct AppStateInner {
    pub leptos: LeptosOptions,
    pub store: Store,
    pub config: Arc<Config>,
    /// Failed-login policy (tests shorten its delays).
    pub throttle: ThrottlePolicy,
    /// Session idle and absolute limits (tests shorten them).
    pub sessions: SessionLimits,
    /// Per-address limits on unauthenticated endpoints.
    pub rate_limits: crate::rate_limit::RateLimits,
    /// The built-in provider sandboxes (`/sandbox/…`); tests replace it to tune delivery.
    pub sandbox: crate::sandbox::SandboxHub,
    /// Checkout, notifications, queries and refunds over the configured channels.
    pub payments: Payments,
    /// Background loops (tests shorten their intervals).
    pub jobs: JobSettings,
    /// Writes provider call records; flushed at shutdown.
    call_log: Arc<std::sync::Mutex<Option<CallLogWriter>>>,
    /// Turns true when shutdown begins: long-lived answers (the customer display's event
    /// streams) end then, so they never hold the shutdown up.
    pub stopping: watch::Receiver<bool>,
    stop_streams: Arc<watch::Sender<bool>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Loads the master key from the configuration. [`Application::build`] has already
    /// refused to start on a bad key, so a failure here means a test set things up wrong.
    pub fn new(config: Config, store: Store) -> AppState {
        let master = MasterKey::load(&config.settings.data_dir)
            .unwrap_or_else(|e| panic!("master key: {e}"));
        AppState::with_settings(config, store, master, PaymentSettings::default())
    }

    /// Needs a Tokio runtime (it starts the provider-call log writer).
    pub fn with_settings(
        config: Config,
        store: Store,
        master: MasterKey,
        payment_settings: PaymentSettings,
    ) -> AppState {
        let leptos = crate::site::leptos_options(&config.settings.site_root, config.settings.addr);
        let (sink, writer) = StoreCallSink::spawn(store.clone());
        let channels = ChannelRegistry::new(
            store.clone(),
            master,
            config.public_url.as_str(),
            sink,
            Arc::new(SystemClock),
            HttpSettings::default(),
        );
        let (stop_streams, stopping) = watch::channel(false);
        AppState(Arc::new(AppStateInner {
            leptos,
            sandbox: crate::sandbox::SandboxHub::new(&config, store.clone()),
            payments: Payments::new(Arc::new(channels), payment_settings),
            jobs: JobSettings::for_config(&config),
            sessions: SessionLimits::for_config(&config),
            rate_limits: crate::rate_limit::RateLimits::new(&config.settings.rate_limits),
            call_log: Arc::new(std::sync::Mutex::new(Some(writer))),
            stopping,
            stop_streams: Arc::new(stop_streams),
            store,
            config: Arc::new(config),
            throttle: ThrottlePolicy::default(),
        }))
    }

    /// Starts the background loops; they stop when `stop` flips to true.
    pub fn spawn_jobs(&self, stop: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
        crate::jobs::spawn(
            self.payments.clone(),
            self.store.clone(),
            self.jobs.clone(),
            stop,
        )
    }

    /// Writes queued provider-call records and stops the writer.
    pub async fn flush_call_log(&self) {
        let writer = self.call_log.lock().ok().and_then(|mut w| w.take());
        if let Some(w) = writer {
            w.shutdown().await;
        }
    }
}

/// The whole HTTP surface. Tests call this with `oneshot`.
pub fn app(state: AppState) -> Router {
    // Installed before the first request, so nothing recorded is lost.
    crate::metrics::handle();
    let https = state.config.cookies_secure();
    let pages = with_page_layers(page_routes(&state), &state);
    let router = Router::new()
        .route("/healthz", get(health::healthz))
        .merge(notify_routes())
        // The merchant API: bearer keys, no session or CSRF layer (see `merchant_api`).
        .merge(crate::merchant_api::routes(state.clone()))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::serve))
        .merge(pages)
        // Wraps every route registered above (not the fallback), where the matched
        // pattern is known.
        .route_layer(axum::middleware::from_fn(crate::metrics::track_http))
        .with_state(state);
    with_outer_layers(router, https)
}

/// Sessions in the database, behind the `paydesk_session` cookie, ending after the idle
/// limit; the login backend on top.
fn auth_layer(state: &AppState) -> AuthManagerLayer<Backend, DbSessionStore> {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.store.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookies_secure())
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(state.sessions.idle).unwrap_or(time::Duration::HOUR),
        ));
    let backend = Backend::new(state.store.clone(), state.throttle);
    AuthManagerLayerBuilder::new(backend, sessions)
        .with_data_key(AUTH_DATA_KEY)
        .build()
}

/// The dashboard: form posts, downloads, the bundle, the sandboxes, the Leptos pages and
/// server functions, and the file/error fallback.
fn page_routes(state: &AppState) -> Router<AppState> {
    let leptos_options = state.leptos.clone();
    let routes = generate_route_list(App);
    Router::new()
        .route("/auth/login", post(login::login))
        .route("/auth/logout", post(login::logout))
        .route("/auth/lang", post(preferences::lang))
        .route("/auth/theme", post(preferences::theme))
        // Browsers ask for /favicon.ico on pages that name no icon (the sandbox wallet).
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/favicon.svg") }),
        )
        .route("/export/orders.csv", get(export::orders_csv))
        .route("/account/test-mode", post(test_mode::switch))
        .route("/checkout/{no}/qr.png", get(qr::png))
        .route("/display/events", get(display::events))
        .route("/credentials/save", post(credentials::save))
        .route("/credentials/rotate", post(credentials::rotate))
        .route("/credentials/toggle", post(credentials::toggle))
        .route("/credentials/test", post(credentials::test))
        .route(
            "/credentials/refresh-certs",
            post(credentials::refresh_certs),
        )
        .merge(crate::routes::twofa::routes())
        .merge(crate::site::pkg_routes(&leptos_options))
        .merge(crate::sandbox::routes(state.sandbox.clone()).layer(
            axum::middleware::from_fn_with_state(
                state.rate_limits.wallet.clone(),
                crate::routes::limit_wallet,
            ),
        ))
        .merge(paydesk_app::server_fns::users::key_route::routes(
            services(state),
            paydesk_app::stylesheet_href(&leptos_options),
        ))
        .leptos_routes_with_context(
            state,
            routes,
            {
                // Server functions and page renders reach the payments core through this.
                let services = services(state);
                move || leptos::prelude::provide_context(services.clone())
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
}

/// What every dashboard request passes through, outermost last: the same-origin check,
/// the session and login, the session limits, the login wall, and 400 for bad server
/// function arguments.
/// What server functions and page renders reach: the payments core and the shop's name.
fn services(state: &AppState) -> paydesk_app::Services {
    paydesk_app::Services {
        payments: state.payments.clone(),
        shop_name: state.config.settings.shop_name.clone(),
    }
}

fn with_page_layers(pages: Router<AppState>, state: &AppState) -> Router<AppState> {
    let auth = auth_layer(state);
    let allowed = AllowedOrigin::new(&state.config.public_url);
    pages
        .layer(axum::middleware::from_fn(
            crate::routes::server_fns::bad_arguments_are_400,
        ))
        .layer(axum::middleware::from_fn(login::require_login))
        .layer(axum::middleware::from_fn_with_state(
            state.sessions,
            crate::sessions::lifecycle,
        ))
        .layer(auth)
        .layer(axum::middleware::from_fn_with_state(
            allowed,
            reject_cross_origin,
        ))
}

/// Provider notifications: no session, no cookies, a bounded body.
fn notify_routes() -> Router<AppState> {
    Router::new()
        .route("/notify/{provider}/{channel}", post(notify::receive))
        .layer(DefaultBodyLimit::max(MAX_NOTIFY_BYTES))
}

/// What every response passes through: `no-store`, the security headers, compression,
/// the request log line, and the request id.
fn with_outer_layers(router: Router, https: bool) -> Router {
    router
        .layer(axum::middleware::from_fn(crate::site::no_store))
        .layer(axum::middleware::from_fn_with_state(
            https,
            crate::security::security_headers,
        ))
        // br or gzip when the client accepts it; the CSV export stays a stream. Answers
        // that are already encoded (the precompressed bundle) pass through untouched.
        .layer(CompressionLayer::new().br(true).gzip(true))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok());
                    // `route`, `order` and `inbox_id` are filled in once known (the route
                    // after routing, the ids by the handler), so the response line carries them.
                    tracing::info_span!(
                        "request",
                        id = id.unwrap_or(""),
                        method = %req.method(),
                        path = %req.uri().path(),
                        route = tracing::field::Empty,
                        order = tracing::field::Empty,
                        inbox_id = tracing::field::Empty,
                    )
                })
                // One INFO line per request (status, latency) inside its request-id span.
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    MasterKey(#[from] paydesk_core::vault::VaultError),
}

/// Opens (creating if needed) the data directory and the database, and migrates it.
pub async fn open_store(config: &Config) -> Result<Store, StartupError> {
    let dir = &config.settings.data_dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| StartupError::DataDir(dir.display().to_string(), e))?;
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        let store = open_store(&config).await?;
        // Fail at start, in one line, on a bad PAYDESK_MASTER_KEY or an unreadable key
        // file, rather than on the first request that needs a secret. Creates the key file
        // (0600) on a fresh install.
        let master = MasterKey::load(&config.settings.data_dir)?;
        if let Some(password) = ensure_bootstrap_admin(&store).await? {
            print_first_login(&config, &password);
        }
        let addr = config.settings.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| StartupError::Bind(addr, e))?;
        let payment_settings = PaymentSettings {
            default_expiry_secs: i64::from(config.settings.order_expiry_minutes) * 60,
            code_wait_secs: i64::from(config.settings.code_wait_seconds),
            ..PaymentSettings::default()
        };
        let state = AppState::with_settings(config, store, master, payment_settings);
        // A fresh install can take payments at once, in the sandbox.
        state.payments.channels().ensure_sandbox_channels().await?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests
    /// finish, stops background work and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let sandbox = self.state.sandbox.clone();
        let (stop_tx, stop_rx) = watch::channel(false);
        let jobs = self.state.spawn_jobs(stop_rx);
        // Sandbox notifications owed from before a restart (or by a crashed instance).
        sandbox.resume();
        let state = self.state.clone();
        let url = self.state.config.public_url.clone();
        tracing::info!(addr = ?self.local_addr(), %url, backend = ?store.backend(), "paydesk is listening");
        let router = app(self.state);
        // Stopping is bounded (an orchestrator kills after ~10 s): in-flight requests get
        // REQUEST_GRACE after the signal, background loops JOB_GRACE after that. What is cut
        // short then was not acknowledged, and its transaction rolls back.
        let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
        let stop_streams = state.stop_streams.clone();
        let shutdown = async move {
            shutdown.await;
            let _ = stop_streams.send(true);
            let _ = signalled_tx.send(());
        };
        let serve = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .into_future();
        let overdue = async move {
            if signalled_rx.await.is_ok() {
                tokio::time::sleep(REQUEST_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = serve => served?,
            _ = overdue => tracing::warn!(grace = ?REQUEST_GRACE, "requests still running at the shutdown deadline; stopping anyway"),
        }
        let _ = stop_tx.send(true);
        let abort: Vec<_> = jobs.iter().map(|j| j.abort_handle()).collect();
        let joined = async {
            for job in jobs {
                let _ = job.await;
            }
        };
        if tokio::time::timeout(JOB_GRACE, joined).await.is_err() {
            tracing::warn!(grace = ?JOB_GRACE, "background work still running at the shutdown deadline; stopping it");
            abort.iter().for_each(tokio::task::AbortHandle::abort);
        }
        sandbox.shutdown().await;
        state.flush_call_log().await;
        store.close().await;
        tracing::info!("paydesk stopped");
        Ok(())
    }
}

/// Printed once, to the console only (stdout), never to the log.
fn print_first_login(config: &Config, password: &str) {
    let url = config
        .public_url
        .join("login")
        .map(|u| u.to_string())
        .unwrap_or_default();
    println!(
        "\n================================================================\n \
         paydesk created the first user (shown only this once):\n   \
         user:     admin\n   password: {password}\n \
         Sign in at {url}\n \
         Change it with: paydesk user passwd admin\n\
         ================================================================\n"
    );
}

/// Resolves on Ctrl-C or SIGTERM. The SIGTERM handler is registered when this is called
/// (not when first polled), so a SIGTERM that arrives during start-up is not lost and does
/// not kill the process the hard way.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        let terminate = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = terminate => {},
        }
        tracing::info!("shutdown signal received; finishing in-flight requests");
    }
}
