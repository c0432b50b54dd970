//! `PAYDESK_LOG_FORMAT=json`: one JSON object per line, the request line naming its
//! request id, route pattern, status and latency, and the order and notification it was
//! about; no secret (API key, signing secret, admin password) anywhere in the log.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_paydesk");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn paydesk(dir: &std::path::Path, port: u16) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAYDESK_DATA_DIR", dir)
        .env("PAYDESK_ADDR", format!("127.0.0.1:{port}"))
        .env("PAYDESK_LOG_FORMAT", "json")
        .env("RUST_LOG", "info");
    cmd
}

fn field<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_carry_request_route_status_latency_and_ids_but_no_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = paydesk(dir.path(), port)
        .arg("serve")
        .stdout(Stdio::piped())
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
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "paydesk did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A merchant API key, from the CLI (printed once on its stdout).
    let out = paydesk(dir.path(), port)
        .args(["apikey", "create", "pos"])
        .output()
        .expect("apikey create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let word = |prefix: &str| {
        printed
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}… printed: {printed}"))
            .to_string()
    };
    let (key, signing_secret) = (word("pdk_"), word("pdsec_"));

    // A checkout, paid in the sandbox wallet: the sandbox delivers the signed notification.
    let order: Value = http
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&key)
        .json(&serde_json::json!({
            "channel": "alipay-sandbox", "amount": 1234, "currency": "CNY", "subject": "tea"
        }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let no = order["out_trade_no"]
        .as_str()
        .expect("out_trade_no")
        .to_string();
    let qr = order["qr_code"].as_str().expect("qr_code").to_string();
    let paid = http
        .post(format!("{qr}/pay"))
        .header("Origin", &base)
        .send()
        .await
        .expect("pay");
    assert!(paid.status().is_success() || paid.status().is_redirection());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o: Value = http
            .get(format!("{base}/api/v1/orders/{no}"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if o["status"] == "paid" {
            break;
        }
        assert!(Instant::now() < deadline, "not paid: {o}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
    reader.join().expect("reader");
    let stdout = {
        let mut s = String::new();
        if let Some(mut o) = child.stdout.take() {
            use std::io::Read;
            let _ = o.read_to_string(&mut s);
        }
        s
    };
    let password = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:").map(str::trim))
        .expect("first start prints the admin password on stdout")
        .to_string();

    let lines = lines.lock().expect("lines").clone();
    let all = lines.join("\n");
    for secret in [&key, &signing_secret, &password] {
        assert!(!all.contains(secret.as_str()), "a secret reached the log");
    }
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(parsed.iter().all(Value::is_object));

    // The request line: status and latency, inside its span with id, route and ids.
    let request_line = |route: &str| {
        parsed
            .iter()
            .find(|v| {
                field(v, &["span", "route"]).and_then(Value::as_str) == Some(route)
                    && v.get("status").is_some()
            })
            .unwrap_or_else(|| panic!("no request line for {route} in:\n{all}"))
    };
    let notify = request_line("/notify/{provider}/{channel}");
    assert_eq!(notify["status"], 200);
    assert!(notify.get("latency").is_some(), "{notify}");
    assert_eq!(
        field(notify, &["span", "order"]).and_then(Value::as_str),
        Some(no.as_str())
    );
    let inbox_id = field(notify, &["span", "inbox_id"])
        .and_then(Value::as_str)
        .expect("inbox_id");
    assert!(!inbox_id.is_empty());
    assert!(
        field(notify, &["span", "id"])
            .and_then(Value::as_str)
            .is_some_and(|id| !id.is_empty()),
        "request id: {notify}"
    );
    let create = request_line("/api/v1/orders");
    assert_eq!(create["status"], 201);
    assert_eq!(
        field(create, &["span", "order"]).and_then(Value::as_str),
        Some(no.as_str())
    );
    let get = request_line("/api/v1/orders/{out_trade_no}");
    assert_eq!(
        field(get, &["span", "order"]).and_then(Value::as_str),
        Some(no.as_str())
    );
}
