//! A `paydesk serve` child process on a free loopback port: started, timed to ready,
//! watched (RSS), and stopped with SIGTERM.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use paydesk_core::store::Store;
use paydesk_core::vault::MasterKey;
use tokio::process::{Child, Command};

use crate::Database;
use crate::report::Table;

pub struct Env {
    pub bin: PathBuf,
    /// A Postgres URL whose server may create and drop the `paydesk_bench` database.
    pub postgres_admin_url: String,
}

/// `paydesk` next to this executable (both come from one `cargo build`).
pub fn default_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("paydesk")))
        .unwrap_or_else(|| PathBuf::from("paydesk"))
}

const BENCH_DB: &str = "paydesk_bench";

/// Where the server keeps its data for one run; the SQLite file or Postgres database is
/// fresh each time.
pub struct DataPlace {
    pub dir: tempfile::TempDir,
    pub database_url: String,
}

impl DataPlace {
    pub async fn fresh(env: &Env, database: Database) -> Result<DataPlace> {
        let dir = tempfile::Builder::new()
            .prefix("paydesk-bench-")
            .tempdir()
            .context("temp dir")?;
        let database_url = match database {
            Database::Sqlite => format!("sqlite://{}/paydesk.db?mode=rwc", dir.path().display()),
            Database::Postgres => recreate_postgres(&env.postgres_admin_url).await?,
        };
        Ok(DataPlace { dir, database_url })
    }
}

/// Drops and creates `paydesk_bench` on the admin URL's server; returns its URL.
async fn recreate_postgres(admin_url: &str) -> Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .with_context(|| "connect to Postgres (is it running on 127.0.0.1:5432?)")?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {BENCH_DB}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("the Postgres URL has no database name")?;
    Ok(format!("{base}/{BENCH_DB}"))
}

pub struct ServerProc {
    child: Child,
    pub pid: u32,
    pub base: String,
    /// Spawn to the first 200 from `/readyz`.
    pub ready_after: Duration,
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl ServerProc {
    pub async fn start(env: &Env, place: &DataPlace) -> Result<ServerProc> {
        if !env.bin.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p paydesk-server -p paydesk-bench` or pass --bin",
                env.bin.display()
            );
        }
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let mut child = Command::new(&env.bin)
            .arg("serve")
            .env("PAYDESK_ADDR", format!("127.0.0.1:{port}"))
            .env("PAYDESK_DATA_DIR", place.dir.path())
            .env("PAYDESK_DATABASE_URL", &place.database_url)
            .env("RUST_LOG", "warn")
            .env_remove("PAYDESK_MASTER_KEY")
            .env_remove("PAYDESK_PUBLIC_URL")
            .stdin(Stdio::null())
            // The first start prints the admin password on stdout: not wanted here.
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", env.bin.display()))?;
        let pid = child.id().context("child pid")?;
        let http = reqwest::Client::new();
        let deadline = started + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("paydesk exited during start-up: {status}");
            }
            if Instant::now() > deadline {
                bail!("paydesk was not ready after 30 s");
            }
            let ready = http
                .get(format!("{base}/readyz"))
                .timeout(Duration::from_millis(500))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ready_after = started.elapsed();
        Ok(ServerProc {
            child,
            pid,
            base,
            ready_after,
        })
    }

    /// Resident set size of the server, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid)
    }

    /// SIGTERM, then waits for the exit (10 s at most, then SIGKILL). Returns the time to
    /// exit and whether the exit status was 0.
    pub async fn terminate(mut self) -> Result<(Duration, bool)> {
        let t = Instant::now();
        // SAFETY: plain kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        if rc != 0 {
            bail!("kill(SIGTERM) failed");
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => Ok((t.elapsed(), status?.success())),
            Err(_) => {
                let _ = self.child.kill().await;
                bail!("paydesk did not exit within 10 s of SIGTERM")
            }
        }
    }
}

/// CPU time (user + system) the process has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ')'.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| Duration::from_secs_f64(ticks as f64 / hz as f64))
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The store and master key of a running server (the bench seeds and checks through them).
pub async fn open_store(place: &DataPlace) -> Result<(Store, MasterKey)> {
    let store = Store::connect(&place.database_url).await?;
    let master = MasterKey::load(place.dir.path())?;
    Ok((store, master))
}

pub struct Lifecycle {
    database: Database,
    ready: Vec<Duration>,
    idle_rss_kib: Vec<u64>,
    stop_idle: Vec<Duration>,
    stop_busy: Vec<(Duration, usize, usize)>,
}

impl Lifecycle {
    pub fn markdown(&self) -> String {
        let mut t = Table::new(&["lifecycle", "database", "median", "worst"]);
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        let med_max = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (v[v.len() / 2], v[v.len() - 1])
        };
        let db = format!("{:?}", self.database).to_lowercase();
        let (m, w) = med_max(self.ready.iter().map(ms).collect());
        t.row(vec![
            "start-up to ready (fresh data dir)".into(),
            db.clone(),
            format!("{m:.0} ms"),
            format!("{w:.0} ms"),
        ]);
        let (m, w) = med_max(
            self.idle_rss_kib
                .iter()
                .map(|k| *k as f64 / 1024.0)
                .collect(),
        );
        t.row(vec![
            "idle RSS after start".into(),
            db.clone(),
            format!("{m:.1} MiB"),
            format!("{w:.1} MiB"),
        ]);
        let (m, w) = med_max(self.stop_idle.iter().map(ms).collect());
        t.row(vec![
            "SIGTERM to exit, idle".into(),
            db.clone(),
            format!("{m:.0} ms"),
            format!("{w:.0} ms"),
        ]);
        let (m, w) = med_max(self.stop_busy.iter().map(|(d, _, _)| ms(d)).collect());
        let (ok, sent) = self
            .stop_busy
            .iter()
            .fold((0, 0), |(a, b), (_, ok, sent)| (a + ok, b + sent));
        t.row(vec![
            format!("SIGTERM to exit, requests in flight ({ok}/{sent} answered)"),
            db,
            format!("{m:.0} ms"),
            format!("{w:.0} ms"),
        ]);
        t.render()
    }
}

/// Start-up, idle memory and shutdown, `rounds` times on a fresh data place each.
pub async fn lifecycle(env: &Env, database: Database, rounds: usize) -> Result<Lifecycle> {
    let mut out = Lifecycle {
        database,
        ready: Vec::new(),
        idle_rss_kib: Vec::new(),
        stop_idle: Vec::new(),
        stop_busy: Vec::new(),
    };
    for _ in 0..rounds.max(1) {
        let place = DataPlace::fresh(env, database).await?;
        let server = ServerProc::start(env, &place).await?;
        out.ready.push(server.ready_after);
        tokio::time::sleep(Duration::from_millis(500)).await;
        out.idle_rss_kib.push(server.rss_kib().unwrap_or(0));
        let (took, clean) = server.terminate().await?;
        if !clean {
            bail!("paydesk exited non-zero after SIGTERM");
        }
        out.stop_idle.push(took);

        // Again with slow requests in flight: each must still get its answer.
        let place = DataPlace::fresh(env, database).await?;
        let server = ServerProc::start(env, &place).await?;
        let (sent, answered, took) = stop_while_busy(server).await?;
        out.stop_busy.push((took, answered, sent));
    }
    Ok(out)
}

/// Sends requests that take a while (sign-in attempts: argon2 hashing) and SIGTERMs the
/// server while they run. Returns (sent, answered, SIGTERM→exit).
async fn stop_while_busy(server: ServerProc) -> Result<(usize, usize, Duration)> {
    // The answer is a redirect to the sign-in page: count it, don't follow it (the server
    // is stopping and accepts no new connection).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let base = server.base.clone();
    let sent = 16;
    let mut tasks = Vec::new();
    for i in 0..sent {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            http.post(format!("{base}/auth/login"))
                .header("Origin", &base)
                .form(&[
                    ("username", format!("nobody{i}")),
                    ("password", "x".repeat(12)),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16() < 500)
                .unwrap_or(false)
        }));
    }
    // Let the requests arrive before the signal.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (took, clean) = server.terminate().await?;
    if !clean {
        bail!("paydesk exited non-zero after SIGTERM with requests in flight");
    }
    let mut answered = 0;
    for t in tasks {
        if t.await.unwrap_or(false) {
            answered += 1;
        }
    }
    Ok((sent, answered, took))
}
