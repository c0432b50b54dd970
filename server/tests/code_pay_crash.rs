//! Payments by the customer's code survive a crash: a real `paydesk` process (SQLite) is
//! killed with SIGKILL while dozens of code payments are in flight through the merchant
//! API (paid at once, and waiting for a password nobody enters), then restarted on the
//! same data directory. Within a bounded wait no code order is left undecided, every order
//! the sandbox's books say paid is paid in paydesk, every other one is closed (cancelled at
//! the sandbox when it had reached it), each is paid once, by one code.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use paydesk_core::store::Store;
use serde_json::json;
use tokio::sync::Semaphore;

mod support;
use support::process::{api_key, client, free_port, serve_with};

const SALES: usize = 60;
const IN_FLIGHT: usize = 8;
/// The kill comes once this many sales were answered.
const KILL_AFTER: usize = SALES / 4;
/// The wait for a password before the sale is cancelled at the provider (the shortest
/// allowed), so the test settles in seconds.
const SETTINGS: &[(&str, &str)] = &[("PAYDESK_CODE_WAIT_SECONDS", "10")];

/// A fresh single-use code from the Alipay sandbox wallet page, as a phone shows it.
async fn wallet_code(base: &str, mode: &str) -> String {
    let resp = client()
        .get(format!("{base}/sandbox/wallet/alipay?mode={mode}"))
        .send()
        .await
        .expect("wallet");
    let at = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    at.split("code=")
        .nth(1)
        .and_then(|c| c.split('&').next())
        .expect("a code")
        .to_string()
}

/// Sends every sale (IN_FLIGHT at once); counts the answered ones. Sales cut off by the
/// kill are simply not answered.
async fn sell_all(base: &str, key: &str, codes: &[String], answered: Arc<AtomicUsize>) {
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let tasks: Vec<_> = codes
        .iter()
        .cloned()
        .map(|code| {
            let (gate, answered) = (gate.clone(), answered.clone());
            let (url, key) = (format!("{base}/api/v1/orders"), key.to_string());
            tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("gate");
                let body =
                    json!({"amount": 990, "currency": "CNY", "subject": "tea", "auth_code": code});
                let sent = client().post(url).bearer_auth(key).json(&body).send().await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
}

async fn rows(store: &Store, sql: &str) -> Vec<(String, String)> {
    sqlx::query_as(sql)
        .fetch_all(store.pool())
        .await
        .expect("query")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_kill_mid_code_payments_none_is_undecided_or_charged_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut first = serve_with(dir.path(), port, "first.log", SETTINGS).await;
    let key = api_key(dir.path(), port);
    let mut codes = Vec::new();
    for i in 0..SALES {
        let mode = if i % 4 == 3 { "password" } else { "pay" };
        codes.push(wallet_code(&base, mode).await);
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let selling = {
        let (base, key, codes, answered) =
            (base.clone(), key.clone(), codes.clone(), answered.clone());
        tokio::spawn(async move { sell_all(&base, &key, &codes, answered).await })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(Instant::now() < deadline, "sales too slow");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    selling.await.expect("join");
    let at_kill = answered.load(Ordering::SeqCst);
    assert!(at_kill < SALES, "killed mid-way: {at_kill} answered");

    // Restart on the same data: the active-query job settles what was left undecided.
    let mut second = serve_with(dir.path(), port, "second.log", SETTINGS).await;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("paydesk.db").display()
    );
    let store = Store::connect(&url).await.expect("open the database");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending = rows(
            &store,
            "SELECT out_trade_no, status FROM orders WHERE pay_method = 'code' AND status = 'pending'",
        )
        .await;
        if pending.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still undecided: {pending:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let ours = rows(
        &store,
        "SELECT out_trade_no, status FROM orders WHERE pay_method = 'code'",
    )
    .await;
    let sandbox = rows(
        &store,
        "SELECT out_trade_no, state FROM sandbox_orders WHERE provider = 'alipay'",
    )
    .await;
    let paid_here: HashSet<_> = ours
        .iter()
        .filter(|(_, s)| s == "paid")
        .map(|(n, _)| n)
        .collect();
    let paid_there: HashSet<_> = sandbox
        .iter()
        .filter(|(_, s)| s == "paid")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        paid_here, paid_there,
        "paid here exactly when paid at the provider"
    );
    assert!(
        ours.iter().all(|(_, s)| s == "paid" || s == "closed"),
        "{ours:?}"
    );
    let open_there: Vec<_> = sandbox.iter().filter(|(_, s)| s == "pending").collect();
    assert!(
        open_there.is_empty(),
        "left open at the provider: {open_there:?}"
    );
    // Paid once: one "paid" event per order; no code charged for two orders.
    let twice = rows(
        &store,
        "SELECT order_id, CAST(COUNT(*) AS TEXT) FROM order_events WHERE kind = 'paid' \
         GROUP BY order_id HAVING COUNT(*) > 1",
    )
    .await;
    assert!(twice.is_empty(), "paid twice: {twice:?}");
    let charged = rows(
        &store,
        "SELECT out_trade_no, code FROM sandbox_pay_codes WHERE out_trade_no IS NOT NULL",
    )
    .await;
    let charged_orders: HashSet<_> = charged.iter().map(|(n, _)| n).collect();
    assert_eq!(
        charged_orders.len(),
        charged.len(),
        "an order charged with two codes"
    );
    assert!(
        paid_here.iter().all(|n| charged_orders.contains(n)),
        "paid without a code"
    );
    eprintln!(
        "{at_kill} of {SALES} answered at the kill; {} code orders, {} paid, all decided",
        ours.len(),
        paid_here.len()
    );
    second.kill().expect("stop");
    let _ = second.wait();
}
