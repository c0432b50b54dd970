//! The test harness of the server's integration tests: the whole application on
//! 127.0.0.1:0 with its data (SQLite, master key) in a temporary directory, the sandbox
//! channels of a fresh install, and sandbox notification retries shortened to 50 ms.
#![allow(dead_code)]

pub mod dashboard;
pub mod oneshot;
pub mod process;

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
    spawn_app_with(
        dir,
        Options {
            stripe_webhook_url,
            ..Options::default()
        },
    )
    .await
}

#[derive(Default)]
pub struct Options {
    pub stripe_webhook_url: Option<String>,
    /// Another database than the SQLite file in `dir` (a Postgres schema).
    pub database_url: Option<String>,
    /// Another public URL than this instance's own address (a second instance behind the
    /// same name).
    pub public_url: Option<String>,
    /// Other payment flow tunables (e.g. a short wait for a code payment).
    pub payment_settings: Option<paydesk_core::payments::PaymentSettings>,
}

pub async fn spawn_app_with(dir: &Path, options: Options) -> TestApp {
    let Options {
        stripe_webhook_url,
        database_url,
        public_url,
        payment_settings,
    } = options;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let settings = Settings {
        data_dir: dir.to_path_buf(),
        public_url: Some(public_url.unwrap_or_else(|| base.clone())),
        database_url,
        // Merchant notification receivers in these tests listen on 127.0.0.1.
        merchant_notify_allow_loopback: true,
        ..Settings::default()
    };
    let config = Config::from_settings(settings).expect("config");
    let store = Store::connect(&config.database_url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut state = AppState::new(config, store);
    if let Some(s) = payment_settings {
        state.payments =
            paydesk_core::payments::Payments::new(state.payments.channels().clone(), s);
    }
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

/// A fresh schema in the local Postgres (`PAYDESK_TEST_POSTGRES_URL`, default the `test`
/// database), or None when Postgres is unreachable outside CI.
pub struct PgSchema {
    pub url: String,
    admin: Store,
    schema: String,
}

impl PgSchema {
    pub async fn create() -> Option<PgSchema> {
        let base = std::env::var("PAYDESK_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let admin = match Store::connect(&base).await {
            Ok(s) if s.ping().await => s,
            _ if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true but Postgres at {base} is unreachable")
            }
            _ => {
                eprintln!("SKIPPED: Postgres at {base} is unreachable");
                return None;
            }
        };
        let schema = format!("srv_{}", uuid_like());
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(admin.pool())
            .await
            .expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(PgSchema { url, admin, schema })
    }

    pub async fn drop(self) {
        let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(self.admin.pool())
            .await;
        self.admin.close().await;
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut r = rand::thread_rng();
    (0..16)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[r.gen_range(0..36)]))
        .collect()
}
