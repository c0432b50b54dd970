//! `paydesk-bench versus`: paydesk against the seed design (the Go + Gin peer in
//! `bench/peer`), alternating in one run, loaded by an outside generator (wrk) with the
//! same pre-signed Alipay notifications for both, each for a distinct pending order.
//! Driven by `bench/versus.sh`, which installs wrk and Go and builds the peer.
//!
//! Prepared once: a paydesk database (migrated, sandbox keys made, `count` pending
//! orders), the notifications signed by the sandbox with its Alipay key (the key the
//! `alipay-sandbox` channel verifies with, exported as PEM for the peer) and the peer's
//! database with the same order numbers pending. Every run starts from a copy of its
//! template (a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on Postgres), so each
//! server sees the same state in every round. After each run the server is stopped and
//! the durable paid orders are counted in its database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use paydesk_core::provider::SystemClock;
use paydesk_core::sandbox::keys::SandboxKeys;
use paydesk_core::sandbox::set::SandboxSet;
use paydesk_core::store::Store;
use sqlx::Row;
use tokio::process::{Child, Command};

use crate::report::Table;
use crate::server::{DataPlace, Env, ServerProc, cpu_time, open_store};
use crate::wrk::WrkSummary;
use crate::{Database, Provider, notify};

pub struct Options {
    pub database: Database,
    pub count: usize,
    pub rounds: usize,
    pub peer_bin: PathBuf,
    pub wrk_script: PathBuf,
    pub connections: usize,
    pub threads: usize,
    /// Prefix of the Postgres databases this creates and drops.
    pub pg_prefix: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Paydesk,
    Peer,
}

/// One wrk run against one server.
struct RunResult {
    who: Who,
    round: usize,
    load: String,
    wrk: WrkSummary,
    paid: u64,
    cpu: Duration,
}

/// What both servers start from in every run.
struct Prepared {
    work: tempfile::TempDir,
    /// paydesk's data directory (master key; the SQLite file too).
    paydesk_dir: tempfile::TempDir,
    /// Postgres: the template databases.
    paydesk_tmpl: Option<String>,
    peer_tmpl: Option<String>,
}

pub async fn run(env: &Env, opts: &Options) -> Result<String> {
    let prepared = prepare(env, opts).await?;
    let mut results = Vec::new();
    for round in 1..=opts.rounds.max(1) {
        // Alternate who goes first, so neither always runs on a warmer (or busier) machine.
        let order = if round % 2 == 1 {
            [Who::Paydesk, Who::Peer]
        } else {
            [Who::Peer, Who::Paydesk]
        };
        for who in order {
            let r = run_one(env, opts, &prepared, who, round).await?;
            eprintln!(
                "round {round} {who:?}: {} paid in {:.2} s, p99 {:.1} ms (load {})",
                r.paid,
                r.wrk.duration_us as f64 / 1e6,
                r.wrk.p99_us as f64 / 1e3,
                r.load
            );
            results.push(r);
        }
    }
    Ok(render(opts, &results))
}

async fn prepare(env: &Env, opts: &Options) -> Result<Prepared> {
    let work = tempfile::Builder::new()
        .prefix("paydesk-versus-")
        .tempdir()?;
    let (place, paydesk_tmpl) = match opts.database {
        Database::Sqlite => (DataPlace::fresh(env, Database::Sqlite).await?, None),
        Database::Postgres => {
            let name = format!("{}_paydesk_tmpl", opts.pg_prefix);
            let url = recreate_pg(&env.postgres_admin_url, &name, None).await?;
            let dir = tempfile::Builder::new()
                .prefix("paydesk-bench-")
                .tempdir()?;
            let place = DataPlace {
                dir,
                database_url: url,
            };
            (place, Some(name))
        }
    };
    let server = ServerProc::start(env, &place).await?;
    let (store, master) = open_store(&place).await?;
    eprintln!("seeding {} pending Alipay orders…", opts.count);
    let orders = notify::seed_orders(&store, Provider::Alipay, opts.count, &server.base).await?;
    let numbers: Vec<String> = orders.iter().map(|o| o.out_trade_no.clone()).collect();
    eprintln!("signing {} notifications…", opts.count);
    let keys = SandboxKeys::load_or_create(&store, &master).await?;
    std::fs::write(
        work.path().join("alipay_public.pem"),
        keys.alipay.alipay_public_key_pem()?,
    )?;
    let set = Arc::new(SandboxSet::new(
        keys,
        &format!("{}/sandbox/pay", server.base),
        format!("{}/notify/stripe/stripe-sandbox", server.base),
        Arc::new(SystemClock),
    ));
    let requests = notify::sign_all(set, Provider::Alipay, orders)?;
    let mut tsv = String::new();
    for r in &requests {
        let body = std::str::from_utf8(&r.body).context("a notification body is not UTF-8")?;
        if body.contains(['\t', '\n']) || r.path.contains(['\t', '\n']) {
            bail!("a notification has a tab or a line break");
        }
        tsv.push_str(&format!("{}\t{body}\n", r.path));
    }
    std::fs::write(work.path().join("requests.tsv"), tsv)?;
    std::fs::write(work.path().join("orders.txt"), numbers.join("\n") + "\n")?;
    store.close().await;
    let (_, clean) = server.terminate().await?;
    if !clean {
        bail!("paydesk exited non-zero after SIGTERM (preparing)");
    }

    let peer_tmpl = match opts.database {
        Database::Sqlite => None,
        Database::Postgres => {
            let name = format!("{}_peer_tmpl", opts.pg_prefix);
            recreate_pg(&env.postgres_admin_url, &name, None).await?;
            Some(name)
        }
    };
    let (driver, dsn) = peer_dsn(env, opts, work.path(), peer_tmpl.as_deref(), "tmpl")?;
    let seeded = Command::new(&opts.peer_bin)
        .args(["-driver", driver, "-db", &dsn, "-seed"])
        .arg(work.path().join("orders.txt"))
        .status()
        .await
        .context("run the peer to seed its database")?;
    if !seeded.success() {
        bail!("the peer could not seed its database");
    }
    Ok(Prepared {
        work,
        // The template data directory (master key, SQLite file).
        paydesk_dir: place.dir,
        paydesk_tmpl,
        peer_tmpl,
    })
}

/// The peer's driver and data source: a SQLite file in `work` (`name`.db) or a Postgres
/// database URL.
fn peer_dsn(
    env: &Env,
    opts: &Options,
    work: &Path,
    pg_name: Option<&str>,
    name: &str,
) -> Result<(&'static str, String)> {
    Ok(match (opts.database, pg_name) {
        (Database::Postgres, Some(db)) => ("postgres", pg_url(&env.postgres_admin_url, db)?),
        _ => (
            "sqlite3",
            work.join(format!("peer-{name}.db")).display().to_string(),
        ),
    })
}

fn pg_url(admin_url: &str, db: &str) -> Result<String> {
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("the Postgres URL has no database name")?;
    Ok(format!("{base}/{db}?sslmode=disable"))
}

/// Drops and creates `name` (as a copy of `template` if given); returns its URL.
async fn recreate_pg(admin_url: &str, name: &str, template: Option<&str>) -> Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .context("connect to Postgres (is it running on 127.0.0.1:5432?)")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    let copy = template
        .map(|t| format!(" TEMPLATE {t}"))
        .unwrap_or_default();
    sqlx::query(&format!("CREATE DATABASE {name}{copy}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("the Postgres URL has no database name")?;
    Ok(format!("{base}/{name}"))
}

/// A paydesk data place for one run: a copy of the template.
async fn paydesk_place(env: &Env, opts: &Options, prepared: &Prepared) -> Result<DataPlace> {
    let dir = tempfile::Builder::new()
        .prefix("paydesk-bench-")
        .tempdir()?;
    for entry in std::fs::read_dir(prepared.paydesk_dir.path())? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name()))?;
        }
    }
    let database_url = match &prepared.paydesk_tmpl {
        Some(tmpl) => {
            let name = format!("{}_paydesk_run", opts.pg_prefix);
            recreate_pg(&env.postgres_admin_url, &name, Some(tmpl)).await?
        }
        None => format!("sqlite://{}/paydesk.db?mode=rwc", dir.path().display()),
    };
    Ok(DataPlace { dir, database_url })
}

async fn run_one(
    env: &Env,
    opts: &Options,
    prepared: &Prepared,
    who: Who,
    round: usize,
) -> Result<RunResult> {
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let (wrk, paid, cpu) = match who {
        Who::Paydesk => {
            let place = paydesk_place(env, opts, prepared).await?;
            let server = ServerProc::start(env, &place).await?;
            let (wrk, cpu) = measured(opts, prepared, server.pid, &server.base).await?;
            let (_, clean) = server.terminate().await?;
            if !clean {
                bail!("paydesk exited non-zero after SIGTERM");
            }
            (wrk, paydesk_paid(&place.database_url).await?, cpu)
        }
        Who::Peer => {
            let pg_name = match &prepared.peer_tmpl {
                Some(tmpl) => {
                    let name = format!("{}_peer_run", opts.pg_prefix);
                    recreate_pg(&env.postgres_admin_url, &name, Some(tmpl)).await?;
                    Some(name)
                }
                None => {
                    let w = prepared.work.path();
                    // A WAL left by the previous run must not be replayed into the copy.
                    for f in ["peer-run.db-wal", "peer-run.db-shm"] {
                        let _ = std::fs::remove_file(w.join(f));
                    }
                    std::fs::copy(w.join("peer-tmpl.db"), w.join("peer-run.db"))?;
                    None
                }
            };
            let (driver, dsn) =
                peer_dsn(env, opts, prepared.work.path(), pg_name.as_deref(), "run")?;
            let (mut child, base) = start_peer(opts, prepared, driver, &dsn).await?;
            let pid = child.id().context("peer pid")?;
            let (wrk, cpu) = measured(opts, prepared, pid, &base).await?;
            stop(&mut child).await?;
            (wrk, peer_paid(opts, driver, &dsn).await?, cpu)
        }
    };
    Ok(RunResult {
        who,
        round,
        load,
        wrk,
        paid,
        cpu,
    })
}

/// Runs wrk against `base` and the server's CPU time meanwhile.
async fn measured(
    opts: &Options,
    prepared: &Prepared,
    pid: u32,
    base: &str,
) -> Result<(WrkSummary, Duration)> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_time(pid).unwrap_or_default();
    let wrk = crate::wrk::run(opts, &prepared.work.path().join("requests.tsv"), base).await?;
    let cpu = cpu_time(pid).unwrap_or_default().saturating_sub(before);
    Ok((wrk, cpu))
}

async fn start_peer(
    opts: &Options,
    prepared: &Prepared,
    driver: &str,
    dsn: &str,
) -> Result<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(&opts.peer_bin)
        .args(["-driver", driver, "-db", dsn, "-addr", &addr, "-pubkey"])
        .arg(prepared.work.path().join("alipay_public.pem"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("start the peer")?;
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("the peer exited during start-up: {status}");
        }
        if Instant::now() > deadline {
            bail!("the peer was not ready after 20 s");
        }
        let ok = http
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_millis(500))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return Ok((child, base));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn stop(child: &mut Child) -> Result<()> {
    let pid = child.id().context("peer pid")?;
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
        Ok(status) => {
            status?;
            Ok(())
        }
        Err(_) => {
            let _ = child.kill().await;
            bail!("the peer did not exit within 10 s of SIGTERM")
        }
    }
}

/// Paid orders in paydesk's database after it stopped, checked against its inbox and
/// timeline (exactly one applied inbox row and one `paid` event each).
async fn paydesk_paid(url: &str) -> Result<u64> {
    let store = Store::connect(url).await?;
    let one = |sql: &'static str| {
        let store = store.clone();
        async move {
            let row = sqlx::query(sql).fetch_one(store.pool()).await?;
            Ok::<i64, anyhow::Error>(row.try_get::<i64, _>(0)?)
        }
    };
    let paid =
        one("SELECT COUNT(*) FROM orders WHERE subject = 'bench' AND status = 'paid'").await?;
    let applied = one("SELECT COUNT(*) FROM notify_inbox WHERE status = 'applied'").await?;
    let events = one("SELECT COUNT(*) FROM order_events WHERE kind = 'paid'").await?;
    store.close().await;
    if applied != paid || events != paid {
        bail!("paydesk's database disagrees: {paid} paid, {applied} applied, {events} events");
    }
    Ok(paid as u64)
}

async fn peer_paid(opts: &Options, driver: &str, dsn: &str) -> Result<u64> {
    let out = Command::new(&opts.peer_bin)
        .args(["-driver", driver, "-db", dsn, "-count"])
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("the peer's count: {text:?}"))
}

fn render(opts: &Options, results: &[RunResult]) -> String {
    let db = format!("{:?}", opts.database).to_lowercase();
    let mut t = Table::new(&[
        "round",
        "server",
        "database",
        "load (1/5/15)",
        "sent",
        "acked",
        "durable paid",
        "paid/s",
        "p50",
        "p90",
        "p99",
        "max",
        "errors",
        "server CPU/paid",
    ]);
    for r in results {
        let secs = r.wrk.duration_us as f64 / 1e6;
        t.row(vec![
            r.round.to_string(),
            format!("{:?}", r.who).to_lowercase(),
            db.clone(),
            r.load.clone(),
            r.wrk.requests.to_string(),
            r.wrk.acked.to_string(),
            r.paid.to_string(),
            format!("{:.0}", r.paid as f64 / secs),
            format!("{:.1} ms", r.wrk.p50_us as f64 / 1e3),
            format!("{:.1} ms", r.wrk.p90_us as f64 / 1e3),
            format!("{:.1} ms", r.wrk.p99_us as f64 / 1e3),
            format!("{:.1} ms", r.wrk.max_us as f64 / 1e3),
            r.wrk.errors.to_string(),
            format!("{:.0} µs", r.cpu.as_secs_f64() * 1e6 / r.paid.max(1) as f64),
        ]);
    }
    let mut out = t.render();
    let rate = |who: Who| {
        let mut v: Vec<f64> = results
            .iter()
            .filter(|r| r.who == who)
            .map(|r| r.paid as f64 / (r.wrk.duration_us as f64 / 1e6))
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (p, g) = (rate(Who::Paydesk), rate(Who::Peer));
    out.push_str(&format!(
        "\n\nmedian durable paid/s ({db}, {} notifications, wrk -t{} -c{}): paydesk {p:.0}, peer {g:.0}, ratio {:.2}×\n",
        opts.count,
        opts.threads,
        opts.connections,
        p / g
    ));
    out
}
