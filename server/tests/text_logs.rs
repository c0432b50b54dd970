//! The text log cannot be forged: a line break in anything a stranger sends (a typed user
//! name, an order number in a URL) stays inside its own log line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_paydesk");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newline_in_a_user_name_cannot_forge_a_log_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAYDESK_DATA_DIR", dir.path())
        .env("PAYDESK_ADDR", format!("127.0.0.1:{port}"))
        .env("PAYDESK_LOG_FORMAT", "text")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().expect("stderr");
    let reader = {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().expect("lines").push(line);
            }
        })
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "paydesk did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let forged = "FORGED admin signed in from 10.0.0.1";
    let r = http
        .post(format!("{base}/auth/login"))
        .form(&[
            ("username", format!("eve\n{forged}\r\n{forged}")),
            ("password", "wrong-password".to_string()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 303);
    // An order number with a line break, through a server function that logs it.
    let _ = http
        .post(format!("{base}/rpc/order_detail"))
        .form(&[("no", format!("X\n{forged}"))])
        .send()
        .await
        .expect("rpc");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let lines = lines.lock().expect("lines");
    assert!(
        lines.iter().any(|l| l.contains("sign-in refused")),
        "the refusal was logged: {lines:#?}"
    );
    for line in lines.iter() {
        assert!(
            !line.trim_start().starts_with("FORGED"),
            "a forged line: {line:?}\n{lines:#?}"
        );
    }
}
