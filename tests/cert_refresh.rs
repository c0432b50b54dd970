//! WeChat Pay platform certificate downloads against the sandbox on 127.0.0.1:0: the
//! sandbox's own rotation (publish, sign with the new, withdraw the old) followed by a
//! channel's stored set, answers and notifications signed with either certificate verifying
//! during the overlap, retirements that stick, expired certificates dropped, two instances
//! claiming a due channel once, and every failure reported by its plain code.

mod provider_fixtures;
mod support;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use paydesk_core::channel::cert_refresh::{RefreshError, RefreshFailure, RefreshSchedule};
use paydesk_core::channel::config::{WechatPaySecrets, WechatPaySettings};
use paydesk_core::channel::{ChannelRegistry, LiveChannel, Rotation};
use paydesk_core::jobs::cert_refresh::CertRefresher;
use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::wechatpay::sandbox::WechatPaySandbox;
use paydesk_core::provider::{CreateQrRequest, FixedClock, MemorySink, ProviderError, VerifyError};
use paydesk_core::sandbox::certs::{CertRing, IssuedCert, VALIDITY_SECS};
use paydesk_core::sandbox::{Ledger, serve_local};
use paydesk_core::store::Store;
use provider_fixtures::{header_map, s};

const NOW: i64 = 1_800_000_000;
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const MERCHANT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD00000000";
const SUBJECT: &str = "CN=Tenpay.com sign,OU=Tenpay.com CA Center,O=Tenpay.com,C=CN";

on_both_backends!(
    two_refreshers_download_each_due_channel_once,
    refresh_follows_the_gateway_rotation,
);

fn merchant_key() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("alipay_notify", "alipay_private_key_pem")).expect("key")
}

/// A platform certificate "A" (of the vectors' WeChat key, so no key is generated; each
/// call issues another one, with another serial).
fn cert_a() -> IssuedCert {
    let key =
        RsaSigner::from_pem_or_base64(&s("wechatpay_rsa_sign", "private_key_pem")).expect("key");
    IssuedCert::self_signed(key, SUBJECT, NOW - 86_400).expect("certificate A")
}

/// A platform certificate with a fresh key, valid from `not_before`.
fn fresh_cert(not_before: i64) -> IssuedCert {
    IssuedCert::self_signed(RsaSigner::generate().expect("key"), SUBJECT, not_before)
        .expect("certificate")
}

struct Gateway {
    sb: Arc<WechatPaySandbox>,
    base: String,
}

/// The sandbox in platform-certificate mode, publishing and signing with `first`.
async fn gateway(first: IssuedCert) -> Gateway {
    gateway_with(CertRing::new(first)).await
}

/// The sandbox merchant, signing with the platform certificates.
fn sandbox(platform_certs: CertRing) -> WechatPaySandbox {
    WechatPaySandbox {
        mchid: MCHID.into(),
        appid: APPID.into(),
        merchant_serial: MERCHANT_SERIAL.into(),
        merchant_public_key: merchant_key().verifier(),
        apiv3_key: APIV3.into(),
        public_key: None,
        platform_certs,
        sign_with_public_key: AtomicBool::new(false),
        lose_next_pay_answer: Default::default(),
        pay_base_url: "http://paydesk.test/sandbox/pay".into(),
        ledger: Ledger::default(),
        clock: Arc::new(FixedClock(NOW)),
    }
}

async fn gateway_with(platform_certs: CertRing) -> Gateway {
    let sb = Arc::new(sandbox(platform_certs));
    let base = serve_local(paydesk_core::provider::wechatpay::sandbox::router(
        sb.clone(),
    ))
    .await
    .expect("serve");
    Gateway { sb, base }
}

/// A live channel in platform-certificate mode that downloads its certificates.
fn channel(base: &str) -> (WechatPaySettings, WechatPaySecrets) {
    (
        WechatPaySettings {
            mchid: MCHID.into(),
            appid: APPID.into(),
            merchant_serial: MERCHANT_SERIAL.into(),
            base_url: base.into(),
            public_key_id: None,
            public_key: None,
            platform_certificates: Vec::new(),
            download_certificates: true,
            retired_platform_certificates: Vec::new(),
            previous_merchant_keys: Vec::new(),
        },
        WechatPaySecrets {
            merchant_private_key: merchant_key()
                .to_pkcs1_pem()
                .expect("pem")
                .expose()
                .to_string(),
            apiv3_key: APIV3.into(),
        },
    )
}

async fn add(reg: &ChannelRegistry, name: &str, (s, k): (WechatPaySettings, WechatPaySecrets)) {
    reg.add_live(name, &LiveChannel::Wechatpay(s, k))
        .await
        .expect("add channel");
}

async fn stored_serials(reg: &ChannelRegistry, name: &str) -> Vec<String> {
    let Some(LiveChannel::Wechatpay(s, _)) = reg.live_config(name).await.expect("read") else {
        panic!("a WeChat Pay channel")
    };
    let mut serials: Vec<String> = s
        .platform_certificates
        .iter()
        .map(|p| {
            paydesk_core::provider::wechatpay::verify::PlatformCert::from_pem(p)
                .expect("stored certificate parses")
                .serial
        })
        .collect();
    serials.sort();
    serials
}

fn downloads(sink: &MemorySink) -> usize {
    sink.calls()
        .iter()
        .filter(|c| c.operation == "certificates")
        .count()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn two_refreshers_download_each_due_channel_once(store: &Store) {
    let cert = cert_a();
    let gw = gateway(cert.clone()).await;
    let sink = Arc::new(MemorySink::default());
    // Two instances on one database, each with its own registry and job.
    let one = Arc::new(support::registry(store, sink.clone(), NOW));
    let two = Arc::new(support::registry(store, sink.clone(), NOW));
    for name in ["wx-1", "wx-2", "wx-3"] {
        add(&one, name, channel(&gw.base)).await;
    }
    // Not looked after: downloading is off.
    let (mut off, k) = channel(&gw.base);
    off.download_certificates = false;
    off.platform_certificates = vec![cert.pem.clone()];
    add(&one, "wx-manual", (off, k)).await;

    let a = CertRefresher::new(one.clone(), RefreshSchedule::default());
    let b = CertRefresher::new(two.clone(), RefreshSchedule::default());
    let (pa, pb) = tokio::join!(
        tokio::spawn(async move { a.run_due().await }),
        tokio::spawn(async move { b.run_due().await }),
    );
    let (pa, pb) = (
        pa.expect("join").expect("pass"),
        pb.expect("join").expect("pass"),
    );
    assert_eq!(pa.claimed + pb.claimed, 3, "{pa:?} {pb:?}");
    assert_eq!(pa.refreshed + pb.refreshed, 3, "{pa:?} {pb:?}");
    assert_eq!(downloads(&sink), 3, "one download per channel");
    let a_serial = cert.serial.clone();
    for name in ["wx-1", "wx-2", "wx-3"] {
        assert_eq!(stored_serials(&two, name).await, vec![a_serial.clone()]);
    }

    // Nothing is due again for 12 hours, on either instance.
    let again = CertRefresher::new(two.clone(), RefreshSchedule::default());
    assert_eq!(again.run_due().await.expect("pass").claimed, 0);
    assert_eq!(downloads(&sink), 3);
    let row = store.channel("wx-1").await.expect("read").expect("row");
    let state = store
        .cert_refresh_state(&row.id)
        .await
        .expect("read")
        .expect("recorded");
    assert_eq!(state.outcome.as_deref(), Some("ok"));
    assert!(state.next_at > paydesk_core::time::now_ms() + 11 * 3600 * 1000);
    assert!(state.succeeded_at.is_some());
}

fn order(no: &str) -> CreateQrRequest {
    CreateQrRequest {
        out_trade_no: no.into(),
        amount: Money::new(100, Currency::Cny).expect("money"),
        subject: "tea".into(),
        notify_url: "https://merchant.test/notify".into(),
        expires_at: None,
    }
}

/// A signed answer (creating order `no`) and a signed notification (paying it) from the
/// gateway, both checked by the channel's client.
async fn answer_and_notification(
    reg: &ChannelRegistry,
    gw: &Gateway,
    no: &str,
) -> Result<(), ProviderError> {
    let provider = reg.resolve("wx").await.expect("resolve").provider;
    provider.create_qr(&order(no)).await?;
    let paid = gw.sb.ledger.pay(no).await.expect("pay");
    let (h, body) = gw.sb.paid_notify(&paid);
    provider
        .parse_notify(&header_map(&h), &body, NOW)
        .await
        .map(|_| ())
}

async fn refresh_follows_the_gateway_rotation(store: &Store) {
    let a = cert_a();
    let gw = gateway(a.clone()).await;
    let sink = Arc::new(MemorySink::default());
    let reg = support::registry(store, sink.clone(), NOW);
    let schedule = RefreshSchedule::default();
    add(&reg, "wx", channel(&gw.base)).await;

    // First download: nothing known yet, the answer is checked with the certificate in it.
    let r = reg
        .refresh_platform_certificates("wx", &schedule)
        .await
        .expect("first download");
    assert_eq!(
        (r.certificates, r.added.clone()),
        (1, vec![a.serial.clone()])
    );
    assert_eq!(r.latest_expiry, Some(a.not_after));
    answer_and_notification(&reg, &gw, "R1")
        .await
        .expect("signed with A");

    // WeChat Pay publishes B and still signs with A: the download is checked with A.
    let b = fresh_cert(NOW - 3600);
    gw.sb.platform_certs.publish(b.clone());
    let r = reg
        .refresh_platform_certificates("wx", &schedule)
        .await
        .expect("second download");
    assert_eq!(
        (r.certificates, r.added.clone()),
        (2, vec![b.serial.clone()])
    );
    assert_eq!(
        stored_serials(&reg, "wx").await,
        sorted(vec![a.serial.clone(), b.serial.clone()])
    );
    // Nothing new: nothing stored, the client is not rebuilt.
    let version = store.channel("wx").await.expect("r").expect("e").updated_at;
    let r = reg
        .refresh_platform_certificates("wx", &schedule)
        .await
        .expect("third download");
    assert!(r.added.is_empty());
    assert_eq!(
        store.channel("wx").await.expect("r").expect("e").updated_at,
        version
    );

    // Overlap: answers and notifications signed with the new certificate verify, and
    // with the old one still do.
    gw.sb
        .platform_certs
        .sign_with(&b.serial)
        .expect("sign with B");
    answer_and_notification(&reg, &gw, "R2")
        .await
        .expect("signed with B");
    gw.sb
        .platform_certs
        .sign_with(&a.serial)
        .expect("back to A");
    answer_and_notification(&reg, &gw, "R3")
        .await
        .expect("signed with A during the overlap");
    gw.sb
        .platform_certs
        .sign_with(&b.serial)
        .expect("sign with B");

    // An admin retires A while WeChat Pay still lists it: downloads do not bring it back,
    // and what A signs is refused.
    reg.rotate("wx", Rotation::RetirePlatformCertificate(a.serial.clone()))
        .await
        .expect("retire A");
    let r = reg
        .refresh_platform_certificates("wx", &schedule)
        .await
        .expect("download after retiring");
    assert_eq!(r.skipped_retired, vec![a.serial.clone()]);
    assert_eq!(stored_serials(&reg, "wx").await, vec![b.serial.clone()]);
    gw.sb
        .platform_certs
        .sign_with(&a.serial)
        .expect("sign with A");
    let refused = answer_and_notification(&reg, &gw, "R4").await;
    assert_eq!(
        refused,
        Err(ProviderError::Verify(VerifyError::UnknownSerial(
            a.serial.clone()
        )))
    );
    gw.sb
        .platform_certs
        .sign_with(&b.serial)
        .expect("sign with B");
    gw.sb
        .platform_certs
        .withdraw(&a.serial)
        .expect("withdraw A");
    // Adding A by hand lifts the retirement.
    reg.rotate("wx", Rotation::AddPlatformCertificate(a.pem.clone()))
        .await
        .expect("add A by hand");
    let Some(LiveChannel::Wechatpay(s, _)) = reg.live_config("wx").await.expect("read") else {
        panic!("wechat")
    };
    assert!(s.retired_platform_certificates.is_empty());

    // Expired certificates are dropped: one stored by hand, one in the download.
    let old = fresh_cert(NOW - VALIDITY_SECS - 86_400);
    reg.rotate("wx", Rotation::AddPlatformCertificate(old.pem.clone()))
        .await
        .expect("add an expired certificate by hand");
    let expired_too = fresh_cert(NOW - VALIDITY_SECS - 3600);
    gw.sb.platform_certs.publish(expired_too.clone());
    let r = reg
        .refresh_platform_certificates("wx", &schedule)
        .await
        .expect("download with expired certificates");
    assert_eq!(r.expired, vec![old.serial.clone()]);
    assert!(r.added.is_empty(), "{r:?}");
    assert_eq!(
        stored_serials(&reg, "wx").await,
        sorted(vec![a.serial.clone(), b.serial.clone()])
    );
}

/// Runs one refresh of channel `wx` configured by `tweak` against `gw`; returns the code.
async fn failure_of(
    store: &Store,
    gw_base: &str,
    tweak: impl FnOnce(&mut WechatPaySettings, &mut WechatPaySecrets),
) -> RefreshFailure {
    let reg = support::registry(store, Arc::new(MemorySink::default()), NOW);
    let (mut s, mut k) = channel(gw_base);
    tweak(&mut s, &mut k);
    let name = format!(
        "wx-{}",
        paydesk_core::provider::crypto::random_alnum(8).to_lowercase()
    );
    add(&reg, &name, (s, k)).await;
    let before = reg.live_config(&name).await.expect("read");
    match reg
        .refresh_platform_certificates(&name, &RefreshSchedule::default())
        .await
    {
        Err(RefreshError::Failed { failure, detail }) => {
            assert!(!detail.contains(APIV3), "no secret in {detail}");
            // Nothing was stored, and the attempt is recorded with its code.
            assert_eq!(
                format!("{:?}", reg.live_config(&name).await.expect("read")),
                format!("{before:?}")
            );
            let row = store.channel(&name).await.expect("r").expect("e");
            let state = store
                .cert_refresh_state(&row.id)
                .await
                .expect("r")
                .expect("e");
            assert_eq!(state.outcome.as_deref(), Some(failure.as_str()));
            assert_eq!(state.succeeded_at, None);
            failure
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_is_reported_by_its_code() {
    let db = support::TestDb::sqlite().await;
    let store = &db.store;
    let a = cert_a();
    let gw = gateway(a.clone()).await;

    let wrong_v3 = failure_of(store, &gw.base, |_, k| {
        k.apiv3_key = "0123456789abcdef0123456789abcdef".into();
    })
    .await;
    assert_eq!(wrong_v3, RefreshFailure::BadApiv3Key);

    let wrong_serial = failure_of(store, &gw.base, |s, _| {
        s.merchant_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into();
    })
    .await;
    assert_eq!(wrong_serial, RefreshFailure::WrongSerial);

    let unreachable = failure_of(store, "http://127.0.0.1:9", |_, _| {}).await;
    assert_eq!(unreachable, RefreshFailure::Unreachable);

    // The channel trusts A; WeChat Pay signs the download with B, which it has not seen.
    let b = fresh_cert(NOW - 3600);
    gw.sb.platform_certs.publish(b.clone());
    gw.sb
        .platform_certs
        .sign_with(&b.serial)
        .expect("sign with B");
    let unknown = failure_of(store, &gw.base, |s, _| {
        s.platform_certificates = vec![a.pem.clone()];
    })
    .await;
    assert_eq!(unknown, RefreshFailure::UnknownSigner);
    gw.sb
        .platform_certs
        .sign_with(&a.serial)
        .expect("back to A");

    // Every certificate of the download retired or expired.
    let retired = failure_of(store, &gw.base, |s, _| {
        s.retired_platform_certificates = vec![
            paydesk_core::channel::config::RetiredCertificate {
                serial: a.serial.clone(),
                not_after: a.not_after,
            },
            paydesk_core::channel::config::RetiredCertificate {
                serial: b.serial.clone(),
                not_after: b.not_after,
            },
        ];
    })
    .await;
    assert_eq!(retired, RefreshFailure::NoValidCertificate);

    // A forged answer: signed under A's serial with another key.
    let forger = gateway(IssuedCert {
        key: RsaSigner::from_pem_or_base64(&s("alipay_notify", "alipay_private_key_pem"))
            .expect("key"),
        ..a.clone()
    })
    .await;
    let forged = failure_of(store, &forger.base, |_, _| {}).await;
    assert_eq!(forged, RefreshFailure::SignatureMismatch);

    // A merchant without platform certificates (public-key mode only).
    let bare = gateway_with(CertRing::default()).await;
    let unavailable = failure_of(store, &bare.base, |_, _| {}).await;
    assert_eq!(unavailable, RefreshFailure::NotAvailable);

    // Channels without platform certificates to download.
    let reg = support::registry(store, Arc::new(MemorySink::default()), NOW);
    reg.ensure_sandbox_channels()
        .await
        .expect("sandbox channels");
    match reg
        .refresh_platform_certificates("wechatpay-sandbox", &RefreshSchedule::default())
        .await
    {
        Err(RefreshError::Failed { failure, .. }) => assert_eq!(failure, RefreshFailure::NotWechat),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        reg.refresh_platform_certificates("nope", &RefreshSchedule::default())
            .await,
        Err(RefreshError::NotFound(_))
    ));
    db.finish().await;
}

#[test]
fn failure_codes_round_trip_and_debug_output_holds_no_secret() {
    for f in RefreshFailure::ALL {
        assert_eq!(RefreshFailure::parse(f.as_str()), Some(f));
    }
    let a = cert_a();
    let sandbox = sandbox(CertRing::new(a.clone()));
    let failed = RefreshError::Failed {
        failure: RefreshFailure::BadApiv3Key,
        detail: ProviderError::Verify(VerifyError::Decrypt).to_string(),
    };
    let (settings, secrets) = channel("http://127.0.0.1:9");
    let texts = [
        format!("{a:?}"),
        format!("{sandbox:?}"),
        format!("{failed:?} {failed}"),
        format!("{:?}", LiveChannel::Wechatpay(settings, secrets)),
    ];
    for t in &texts {
        assert!(!t.contains("PRIVATE KEY"), "{t}");
        assert!(!t.contains(APIV3), "{t}");
    }
}
