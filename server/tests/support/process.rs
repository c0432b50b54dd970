//! A real `paydesk` process for the crash tests: started on a data directory, waited for
//! (bounded), and killed with SIGKILL by the test.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_paydesk");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub fn paydesk(dir: &Path, port: u16) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAYDESK_DATA_DIR", dir)
        .env("PAYDESK_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn");
    cmd
}

/// Starts `paydesk serve` (stderr to `log`) and waits, bounded, until it is ready.
pub async fn serve(dir: &Path, port: u16, log: &str) -> Child {
    serve_with(dir, port, log, &[]).await
}

/// [`serve`] with more settings (`PAYDESK_…` variables).
pub async fn serve_with(dir: &Path, port: u16, log: &str, env: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(dir.join(log)).expect("log file");
    let mut child = paydesk(dir, port)
        .envs(env.iter().copied())
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("paydesk exited at start: {status:?}");
        }
        assert!(Instant::now() < deadline, "paydesk did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn api_key(dir: &Path, port: u16) -> String {
    let out = paydesk(dir, port)
        .args(["apikey", "create", "pos"])
        .output()
        .expect("apikey create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("pdk_"))
        .expect("key printed")
        .to_string()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}
