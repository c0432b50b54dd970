//! The test harness of the server's integration tests: the whole application on
//! 127.0.0.1:0 with its data (SQLite, master key) in a temporary directory, the sandbox
//! channels of a fresh install, and sandbox notification retries shortened to 50 ms.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use paydesk_core::sandbox::delivery::DeliveryPolicy;
use paydesk_core::store::Store;
use paydesk_server::config::{Config, Settings};
use paydesk_server::sandbox::{SandboxHub, SandboxOptions};
use paydesk_server::startup::{AppState, app};

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, also the public URL.
    pub base: String,
    pub state: AppState,
}

/// Starts the application; `stripe_webhook_url` redirects the Stripe sandbox's events
/// (default: the `stripe-sandbox` channel's notify endpoint).
pub async fn spawn_app(dir: &Path, stripe_webhook_url: Option<String>) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let settings = Settings {
        data_dir: dir.to_path_buf(),
        public_url: Some(base.clone()),
        // Merchant notification receivers in these tests listen on 127.0.0.1.
        merchant_notify_allow_loopback: true,
        ..Settings::default()
    };
    let config = Config::from_settings(settings).expect("config");
    let store = Store::connect(&config.database_url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut state = AppState::new(config, store);
    state.sandbox = SandboxHub::with_options(
        &state.config,
        state.store.clone(),
        SandboxOptions {
            delivery: DeliveryPolicy {
                delays: Some(vec![Duration::from_millis(50); 5]),
                ..DeliveryPolicy::default()
            },
            stripe_webhook_url,
        },
    );
    state
        .payments
        .channels()
        .ensure_sandbox_channels()
        .await
        .expect("sandbox channels");
    let router = app(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    TestApp { base, state }
}
