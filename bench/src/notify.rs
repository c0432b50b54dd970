//! Notify throughput: `count` pending orders are seeded, each gets the provider's signed
//! "paid" notification (built by the sandbox with the provider's key, exactly as the
//! wallet page sends it), and all of them are POSTed to `/notify/{provider}/{channel}`
//! over `connections` connections. An acknowledgement is only sent after the commit, so
//! afterwards every acknowledged order must be paid in the database, and each must have
//! exactly one applied inbox row.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::{ProviderKind, SystemClock};
use paydesk_core::sandbox::keys::SandboxKeys;
use paydesk_core::sandbox::set::SandboxSet;
use paydesk_core::sandbox::{OrderState, SandboxOrder};
use paydesk_core::store::Store;
use sqlx::Row;

use crate::load::{self, Prepared};
use crate::report::Table;
use crate::server::{DataPlace, Env, ServerProc, open_store};
use crate::{Database, Provider};

pub struct NotifyReport {
    pub provider: Provider,
    pub database: Database,
    pub count: usize,
    pub connections: usize,
    pub acknowledged: usize,
    pub per_sec: f64,
    pub latency: load::Latency,
    pub idle_rss_kib: u64,
    pub peak_rss_kib: u64,
    /// Server CPU time per acknowledged notification (load-independent).
    pub cpu_us_per_notification: f64,
}

impl NotifyReport {
    /// The columns of [`NotifyReport::cells`].
    pub const HEADER: [&str; 11] = [
        "notify",
        "database",
        "sent",
        "acked",
        "per second",
        "p50",
        "p90",
        "p99",
        "max",
        "server CPU per notification",
        "RSS idle → peak",
    ];

    pub fn markdown(&self) -> String {
        let mut t = Table::new(&Self::HEADER);
        t.row(self.cells());
        t.render()
    }

    pub fn cells(&self) -> Vec<String> {
        vec![
            format!("{:?} ({} conns)", self.provider, self.connections).to_lowercase(),
            format!("{:?}", self.database).to_lowercase(),
            self.count.to_string(),
            self.acknowledged.to_string(),
            format!("{:.0}", self.per_sec),
            format!("{:.1} ms", self.latency.p50),
            format!("{:.1} ms", self.latency.p90),
            format!("{:.1} ms", self.latency.p99),
            format!("{:.1} ms", self.latency.max),
            format!("{:.0} µs", self.cpu_us_per_notification),
            format!(
                "{:.0} → {:.0} MiB",
                self.idle_rss_kib as f64 / 1024.0,
                self.peak_rss_kib as f64 / 1024.0
            ),
        ]
    }
}

pub fn kind(p: Provider) -> ProviderKind {
    match p {
        Provider::Alipay => ProviderKind::Alipay,
        Provider::Wechatpay => ProviderKind::Wechatpay,
        Provider::Stripe => ProviderKind::Stripe,
    }
}

pub fn channel(p: Provider) -> &'static str {
    match p {
        Provider::Alipay => "alipay-sandbox",
        Provider::Wechatpay => "wechatpay-sandbox",
        Provider::Stripe => "stripe-sandbox",
    }
}

fn currency(p: Provider) -> Currency {
    match p {
        Provider::Stripe => Currency::Usd,
        _ => Currency::Cny,
    }
}

pub async fn run(
    env: &Env,
    provider: Provider,
    database: Database,
    count: usize,
    connections: usize,
) -> Result<NotifyReport> {
    let place = DataPlace::fresh(env, database).await?;
    let server = ServerProc::start(env, &place).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss_kib = server.rss_kib().unwrap_or(0);
    let (store, master) = open_store(&place).await?;

    eprintln!("seeding {count} pending {provider:?} orders…");
    let orders = seed_orders(&store, provider, count, &server.base).await?;
    eprintln!("signing {count} notifications…");
    let keys = SandboxKeys::load_or_create(&store, &master).await?;
    let set = Arc::new(SandboxSet::new(
        keys,
        &format!("{}/sandbox/pay", server.base),
        format!("{}/notify/stripe/stripe-sandbox", server.base),
        Arc::new(SystemClock),
    ));
    let requests = Arc::new(sign_all(set, provider, orders)?);

    eprintln!("sending over {connections} connections…");
    let addr = server.base.trim_start_matches("http://").to_string();
    let peak_probe = PeakProbe(server.pid);
    let cpu_before = crate::server::cpu_time(server.pid).unwrap_or_default();
    let run = tokio::task::spawn_blocking({
        let requests = requests.clone();
        move || load::run(&addr, requests, connections)
    })
    .await??;
    let peak_rss_kib = peak_probe.peak();
    let cpu = crate::server::cpu_time(server.pid).unwrap_or_default() - cpu_before;

    let acknowledged = run
        .answers
        .iter()
        .flatten()
        .filter(|a| acknowledged(provider, a.status, &a.body))
        .count();
    verify(&store, provider, count, acknowledged).await?;
    store.close().await;
    let (_, clean) = server.terminate().await?;
    if !clean {
        bail!("paydesk exited non-zero after SIGTERM");
    }
    Ok(NotifyReport {
        provider,
        database,
        count,
        connections,
        acknowledged,
        per_sec: acknowledged as f64 / run.elapsed.as_secs_f64(),
        latency: load::latency(&run.answers),
        idle_rss_kib,
        peak_rss_kib,
        cpu_us_per_notification: cpu.as_secs_f64() * 1e6 / acknowledged.max(1) as f64,
    })
}

/// Peak RSS as the kernel kept it (`VmHWM`), which sampling could miss.
struct PeakProbe(u32);

impl PeakProbe {
    fn peak(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.0))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0)
    }
}

fn acknowledged(provider: Provider, status: u16, body: &[u8]) -> bool {
    paydesk_core::sandbox::delivery::acknowledged(kind(provider), status, body)
}

/// Inserts `count` pending orders in one transaction (the bench's set-up, not measured).
pub(crate) async fn seed_orders(
    store: &Store,
    provider: Provider,
    count: usize,
    base: &str,
) -> Result<Vec<SandboxOrder>> {
    let now = paydesk_core::time::now_ms();
    let run = paydesk_core::provider::crypto::random_alnum(6).to_ascii_uppercase();
    let chan = channel(provider);
    let cur = currency(provider);
    let mut orders = Vec::with_capacity(count);
    let mut tx = store.pool().begin().await?;
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut values = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let out_trade_no = format!("BN{run}{i:010}");
            let amount = 100 + (i as i64 % 9_900);
            values.push(format!(
                "('{id}', '{out_trade_no}', '{chan}', {amount}, '{cur}', 'bench', 'pending', 'bench', \
                 {now}, {now}, {exp}, 1)",
                id = uuid::Uuid::new_v4(),
                cur = cur.code(),
                exp = now + 3_600_000,
            ));
            orders.push(SandboxOrder {
                trade_no: format!("T{run}{i:012}"),
                code: format!("cs_bench_{run}_{i}"),
                amount: Money::new(amount, cur)?,
                subject: "bench".into(),
                notify_url: format!("{base}/notify/{:?}/{chan}", provider).to_lowercase(),
                state: OrderState::Paid,
                refunds: Vec::new(),
                out_trade_no,
            });
        }
        sqlx::query(&format!(
            "INSERT INTO orders (id, out_trade_no, channel, amount_minor, currency, subject, status, \
             creator, created_at, updated_at, expires_at, version) VALUES {}",
            values.join(", ")
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(orders)
}

/// Signs every notification, on every core (RSA signing is the slow part of the set-up).
pub(crate) fn sign_all(
    set: Arc<SandboxSet>,
    provider: Provider,
    orders: Vec<SandboxOrder>,
) -> Result<Vec<Prepared>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = orders.len().div_ceil(threads).max(1);
    let orders = Arc::new(orders);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (set, orders) = (set.clone(), orders.clone());
            std::thread::spawn(move || -> Result<Vec<Prepared>> {
                let lo = (t * chunk).min(orders.len());
                let hi = ((t + 1) * chunk).min(orders.len());
                orders[lo..hi]
                    .iter()
                    .map(|o| {
                        let n = set
                            .paid_notification(kind(provider), o)
                            .context("no notification for an order")?;
                        let path = n
                            .url
                            .split_once("://")
                            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
                            .context("notify URL without a path")?;
                        Ok(Prepared {
                            method: hyper::Method::POST,
                            path,
                            headers: n.headers,
                            body: Bytes::from(n.body),
                        })
                    })
                    .collect()
            })
        })
        .collect();
    let mut all = Vec::with_capacity(orders.len());
    for h in handles {
        all.extend(
            h.join()
                .map_err(|_| anyhow::anyhow!("signing thread panicked"))??,
        );
    }
    Ok(all)
}

/// Every acknowledged notification is committed: the paid orders and applied inbox rows
/// match what was acknowledged, and nothing was applied twice.
async fn verify(store: &Store, provider: Provider, count: usize, acked: usize) -> Result<()> {
    let one = |sql: &'static str| async move {
        let row = sqlx::query(sql).fetch_one(store.pool()).await?;
        Ok::<i64, anyhow::Error>(row.try_get::<i64, _>(0)?)
    };
    let paid =
        one("SELECT COUNT(*) FROM orders WHERE subject = 'bench' AND status = 'paid'").await?;
    let applied = one("SELECT COUNT(*) FROM notify_inbox WHERE status = 'applied'").await?;
    let events = one("SELECT COUNT(*) FROM order_events WHERE kind = 'paid'").await?;
    eprintln!(
        "{provider:?}: {count} sent, {acked} acknowledged, {paid} orders paid, {applied} inbox rows applied, {events} paid events"
    );
    if (paid as usize) < acked || applied != paid || events != paid {
        bail!(
            "database disagrees with the acknowledgements: {acked} acked, {paid} paid, {applied} applied, {events} events"
        );
    }
    if acked < count {
        bail!("{} notifications were not acknowledged", count - acked);
    }
    Ok(())
}
