//! wrk as the outside load generator of `paydesk-bench versus`, with
//! `bench/wrk/notify.lua`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::process::Command;

use crate::versus::Options;

/// What the script's `done()` prints (microseconds).
#[derive(serde::Deserialize)]
pub struct WrkSummary {
    pub duration_us: u64,
    pub requests: u64,
    pub acked: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub errors: u64,
}

pub async fn run(opts: &Options, requests: &Path, base: &str) -> Result<WrkSummary> {
    // Bounded: each thread of the script stops once its notifications are answered and
    // says so with a file; wrk is then ended with SIGINT (it prints its results). -d is
    // the upper limit.
    let done_files: Vec<PathBuf> = (1..=opts.threads)
        .map(|i| PathBuf::from(format!("{}.done.{i}", requests.display())))
        .collect();
    for f in &done_files {
        let _ = std::fs::remove_file(f);
    }
    let child = Command::new("wrk")
        .arg(format!("-t{}", opts.threads))
        .arg(format!("-c{}", opts.connections))
        .args(["-d120s", "--timeout", "30s", "-s"])
        .arg(&opts.wrk_script)
        .arg(base)
        .arg("--")
        .arg(requests)
        .arg(opts.threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("run wrk (apt-get install wrk)")?;
    let pid = child.id().context("wrk pid")?;
    let deadline = Instant::now() + Duration::from_secs(125);
    while Instant::now() < deadline && !done_files.iter().all(|f| f.exists()) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SAFETY: plain kill(2) on our own child's pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("VERSUS "))
        .with_context(|| format!("no VERSUS line from wrk: {text}"))?;
    Ok(serde_json::from_str(line)?)
}
