//! Checkout creation: `POST /api/v1/orders` with a merchant API key, each one storing the
//! order and asking the (sandbox) gateway for its QR content over HTTP, as in production.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use bytes::Bytes;

use crate::load::{self, Prepared};
use crate::notify::channel;
use crate::report::Table;
use crate::server::{DataPlace, Env, ServerProc, open_store};
use crate::{Database, Provider};

pub struct CheckoutReport {
    pub provider: Provider,
    pub database: Database,
    pub count: usize,
    pub connections: usize,
    pub created: usize,
    pub per_sec: f64,
    pub latency: load::Latency,
}

impl CheckoutReport {
    pub fn markdown(&self) -> String {
        let mut t = Table::new(&[
            "checkout",
            "database",
            "created",
            "per second",
            "p50",
            "p90",
            "p99",
            "max",
        ]);
        t.row(self.cells());
        t.render()
    }

    pub fn cells(&self) -> Vec<String> {
        vec![
            format!("{:?} ({} conns)", self.provider, self.connections).to_lowercase(),
            format!("{:?}", self.database).to_lowercase(),
            format!("{}/{}", self.created, self.count),
            format!("{:.0}", self.per_sec),
            format!("{:.1} ms", self.latency.p50),
            format!("{:.1} ms", self.latency.p90),
            format!("{:.1} ms", self.latency.p99),
            format!("{:.1} ms", self.latency.max),
        ]
    }
}

pub async fn run(
    env: &Env,
    provider: Provider,
    database: Database,
    count: usize,
    connections: usize,
) -> Result<CheckoutReport> {
    let place = DataPlace::fresh(env, database).await?;
    let server = ServerProc::start(env, &place).await?;
    let (store, master) = open_store(&place).await?;
    let key = store.create_api_key("bench", "bench", &master).await?;
    store.close().await;
    let (amount, currency) = match provider {
        Provider::Stripe => (1234, "USD"),
        _ => (1234, "CNY"),
    };
    let requests: Vec<Prepared> = (0..count)
        .map(|i| Prepared {
            method: hyper::Method::POST,
            path: "/api/v1/orders".into(),
            headers: vec![
                ("Authorization".into(), format!("Bearer {}", key.secret)),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: Bytes::from(
                serde_json::json!({
                    "channel": channel(provider),
                    "amount": amount + (i as i64 % 100),
                    "currency": currency,
                    "subject": "bench tea",
                })
                .to_string(),
            ),
        })
        .collect();
    // A few warm-up checkouts (connection pools, sandbox keys, channel cache).
    let warm = Arc::new(requests[..count.min(20)].to_vec());
    let addr = server.base.trim_start_matches("http://").to_string();
    {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || load::run(&addr, warm, 2)).await??;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let requests = Arc::new(requests);
    let run =
        tokio::task::spawn_blocking(move || load::run(&addr, requests, connections)).await??;
    let created = run
        .answers
        .iter()
        .flatten()
        .filter(|a| a.status == 201)
        .count();
    if let Some(bad) = run.answers.iter().flatten().find(|a| a.status != 201) {
        bail!(
            "a checkout failed: {} {}",
            bad.status,
            String::from_utf8_lossy(&bad.body)
        );
    }
    let (_, clean) = server.terminate().await?;
    if !clean {
        bail!("paydesk exited non-zero after SIGTERM");
    }
    Ok(CheckoutReport {
        provider,
        database,
        count,
        connections,
        created,
        per_sec: created as f64 / run.elapsed.as_secs_f64(),
        latency: load::latency(&run.answers),
    })
}
