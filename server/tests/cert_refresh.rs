//! The background certificate job in the running server: the built-in WeChat Pay sandbox
//! rotates its platform certificate, the job adds the new one to a live channel next to the
//! old one, and payment notifications signed with the new certificate and with the old one
//! both apply during the overlap.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use paydesk_core::channel::LiveChannel;
use paydesk_core::channel::cert_refresh::RefreshSchedule;
use paydesk_core::channel::config::{WechatPaySecrets, WechatPaySettings};
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus};
use paydesk_core::payments::CheckoutRequest;
use paydesk_core::provider::ProviderKind;
use paydesk_core::provider::wechatpay::sandbox::keys::new_platform_cert;
use paydesk_core::provider::wechatpay::verify::PlatformCert;
use paydesk_core::sandbox::set::SandboxSet;
use tokio::sync::watch;

mod support;

use support::{TestApp, spawn_app};

const CHANNEL: &str = "wx-certs";

async fn stored_serials(app: &TestApp) -> Vec<String> {
    let live = app
        .state
        .payments
        .channels()
        .live_config(CHANNEL)
        .await
        .expect("read");
    let Some(LiveChannel::Wechatpay(s, _)) = live else {
        panic!("a WeChat Pay channel")
    };
    let mut serials: Vec<String> = s
        .platform_certificates
        .iter()
        .map(|p| PlatformCert::from_pem(p).expect("certificate").serial)
        .collect();
    serials.sort();
    serials
}

/// Waits (up to 20 s) until the channel holds exactly `want`.
async fn wait_for_serials(app: &TestApp, mut want: Vec<String>) {
    want.sort();
    let start = Instant::now();
    loop {
        let now = stored_serials(app).await;
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the job did not download {want:?}; the channel holds {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A checkout on the channel, paid in the sandbox, whose signed notification is posted to
/// our notify endpoint as WeChat Pay would; the order must end up paid.
async fn pay_and_notify(app: &TestApp, set: &SandboxSet, amount: i64) {
    let order = app
        .state
        .payments
        .create_checkout(CheckoutRequest {
            channel: CHANNEL.into(),
            amount: Money::new(amount, Currency::Cny).expect("money"),
            subject: "Pu'er 普洱".into(),
            out_trade_no: None,
            expires_in_secs: None,
            merchant_notify_url: None,
            api_key_id: None,
            cause: Cause::User("mia".into()),
        })
        .await
        .expect("checkout (its answer verified)");
    let paid = set
        .ledger(ProviderKind::Wechatpay)
        .pay(&order.out_trade_no)
        .await
        .expect("paid in the sandbox");
    let n = set
        .paid_notification(ProviderKind::Wechatpay, &paid)
        .expect("notification");
    let mut req = reqwest::Client::new().post(&n.url).body(n.body.clone());
    for (k, v) in &n.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("deliver");
    assert_eq!(resp.status().as_u16(), 204, "acknowledged as handled");
    let stored = app
        .state
        .store
        .order(&order.out_trade_no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(stored.status, OrderStatus::Paid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_follows_the_sandbox_rotation_and_both_certificates_verify_notifications() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let set = app.state.sandbox.get().await.expect("sandbox");
    let sandbox = set.wechatpay.clone();
    // The sandbox merchant signs with its platform certificates (not the public key).
    sandbox.sign_with_public_key.store(false, Ordering::Relaxed);
    let old = sandbox
        .platform_certs
        .signing()
        .expect("a platform certificate")
        .serial
        .clone();

    let keys = &set.keys.wechatpay;
    let live = LiveChannel::Wechatpay(
        WechatPaySettings {
            mchid: keys.mchid.clone(),
            appid: keys.appid.clone(),
            merchant_serial: keys.merchant_serial.clone(),
            base_url: format!("{}/sandbox/wechatpay", app.base),
            public_key_id: None,
            public_key: None,
            platform_certificates: Vec::new(),
            download_certificates: true,
            retired_platform_certificates: Vec::new(),
            previous_merchant_keys: Vec::new(),
        },
        WechatPaySecrets {
            merchant_private_key: keys
                .merchant_private_key
                .to_pkcs1_pem()
                .expect("pem")
                .expose()
                .to_string(),
            apiv3_key: keys.apiv3_key.expose().to_string(),
        },
    );
    app.state
        .payments
        .channels()
        .add_live(CHANNEL, &live)
        .await
        .expect("add channel");

    // The server's jobs, with the 12-hour period shortened.
    let mut state = app.state.clone();
    state.jobs.cert_refresh = RefreshSchedule {
        every: Duration::from_millis(300),
        retry_after: Duration::from_millis(300),
        lease: Duration::from_secs(10),
    };
    state.jobs.cert_refresh_check_every = Duration::from_millis(100);
    let (stop, stop_rx) = watch::channel(false);
    let jobs = state.spawn_jobs(stop_rx);

    wait_for_serials(&app, vec![old.clone()]).await;
    pay_and_notify(&app, &set, 100).await;

    // WeChat Pay publishes its next certificate; the job adds it next to the old one.
    let next = new_platform_cert().expect("certificate");
    let new = next.serial.clone();
    sandbox.platform_certs.publish(next);
    wait_for_serials(&app, vec![old.clone(), new.clone()]).await;

    // Overlap: WeChat Pay signs with the new certificate, and what the old one signs
    // still verifies.
    sandbox
        .platform_certs
        .sign_with(&new)
        .expect("sign with new");
    pay_and_notify(&app, &set, 200).await;
    sandbox
        .platform_certs
        .sign_with(&old)
        .expect("sign with old");
    pay_and_notify(&app, &set, 300).await;

    let _ = stop.send(true);
    for job in jobs {
        job.await.expect("job");
    }
}
