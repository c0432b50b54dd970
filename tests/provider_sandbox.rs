//! Round trips: each client against its sandbox on 127.0.0.1:0, every operation, the
//! notifications the sandbox builds, and the sandbox's error answers.

mod provider_fixtures;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::alipay::sandbox::AlipaySandbox;
use paydesk_core::provider::alipay::{AlipayClient, AlipayConfig, AlipayKeys};
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::stripe::sandbox::StripeSandbox;
use paydesk_core::provider::stripe::{StripeClient, StripeConfig};
use paydesk_core::provider::wechatpay::sandbox::{SandboxPublicKey, WechatPaySandbox};
use paydesk_core::provider::wechatpay::{PlatformPublicKey, WechatPayClient, WechatPayConfig};
use paydesk_core::provider::{
    CreateQrRequest, FixedClock, HeaderMap, MemorySink, NotifyEvent, Provider, ProviderError,
    ProviderRefundRequest, RefundRef, RefundState, TradeRef, TradeState, VerifyError,
};
use paydesk_core::sandbox::certs::{CertRing, IssuedCert};
use paydesk_core::sandbox::{Ledger, serve_local};
use provider_fixtures::{header_map, s};

const NOW: i64 = 1_700_000_000;
const PAY: &str = "http://paydesk.test/sandbox/pay";

fn key_a() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("alipay_notify", "alipay_private_key_pem")).expect("key")
}

/// Its certificate (`wechatpay_notify_signature`) has serial D7CE59D1F522D701.
fn key_b() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("wechatpay_rsa_sign", "private_key_pem")).expect("key")
}

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

fn order(no: &str, amount: Money) -> CreateQrRequest {
    CreateQrRequest {
        out_trade_no: no.into(),
        amount,
        subject: "会员+1 测试 & more".into(),
        notify_url: "https://merchant.test/notify/x/main".into(),
        expires_at: None,
    }
}

fn refund(no: &str, rno: &str, amount: Money, total: Money) -> ProviderRefundRequest {
    ProviderRefundRequest {
        trade: TradeRef::new(no),
        out_refund_no: rno.into(),
        amount,
        total,
        reason: Some("customer asked".into()),
        notify_url: None,
    }
}

fn fast() -> HttpSettings {
    HttpSettings {
        backoff_base: std::time::Duration::from_millis(5),
        ..HttpSettings::default()
    }
}

// ---------------------------------------------------------------- Alipay

async fn alipay() -> (Arc<AlipaySandbox>, AlipayClient, Arc<MemorySink>) {
    let sb = Arc::new(AlipaySandbox {
        app_id: "2021000000000001".into(),
        app_public_key: key_b().verifier(),
        alipay_key: key_a(),
        cert_mode: None,
        pay_base_url: format!("{PAY}/alipay"),
        ledger: Ledger::default(),
        clock: Arc::new(FixedClock(NOW)),
        lose_next_pay_answer: Default::default(),
    });
    let base = serve_local(paydesk_core::provider::alipay::sandbox::router(sb.clone()))
        .await
        .expect("serve");
    let sink = Arc::new(MemorySink::default());
    let client = AlipayClient::new(
        AlipayConfig {
            channel: "main".into(),
            app_id: "2021000000000001".into(),
            app_private_key: key_b(),
            keys: AlipayKeys::PublicKey(key_a().verifier()),
            gateway_url: format!("{base}/gateway.do"),
        },
        fast(),
        sink.clone(),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    (sb, client, sink)
}

fn business_sub_code(r: Result<impl std::fmt::Debug, ProviderError>) -> String {
    match r {
        Err(ProviderError::Business { sub_code, .. }) => sub_code.unwrap_or_default(),
        other => panic!("expected a business error, got {other:?}"),
    }
}

#[tokio::test]
async fn alipay_round_trip() {
    let (sb, client, sink) = alipay().await;
    let qr = client
        .create_qr(&order("A1", cny(12345)))
        .await
        .expect("precreate");
    assert!(qr.qr_content.starts_with(&format!("{PAY}/alipay/")));
    let t = TradeRef::new("A1");
    assert_eq!(
        client.query(&t).await.expect("query").state,
        TradeState::Pending
    );

    let paid = sb.ledger.pay("A1").await.expect("pay");
    let st = client.query(&t).await.expect("query");
    assert_eq!(st.state, TradeState::Paid);
    assert_eq!(st.amount, Some(cny(12345)));
    let ev = client
        .parse_notify(&HeaderMap::new(), &sb.paid_notify(&paid), NOW)
        .await
        .expect("notify");
    assert_eq!(
        ev,
        NotifyEvent::Paid {
            out_trade_no: "A1".into(),
            trade_no: paid.trade_no.clone(),
            amount: cny(12345)
        }
    );

    let r = client
        .refund(&refund("A1", "R1", cny(345), cny(12345)))
        .await
        .expect("refund");
    assert_eq!(r.state, RefundState::Succeeded);
    let rq = client
        .query_refund(&RefundRef {
            trade: t.clone(),
            out_refund_no: "R1".into(),
            refund_id: None,
        })
        .await
        .expect("refund query");
    assert_eq!(
        (rq.state, rq.amount),
        (RefundState::Succeeded, Some(cny(345)))
    );
    let unknown = client
        .query_refund(&RefundRef {
            trade: t.clone(),
            out_refund_no: "R9".into(),
            refund_id: None,
        })
        .await
        .expect("refund query");
    assert_eq!(unknown.state, RefundState::Processing);
    let (o, rr) = sb
        .ledger
        .find_refund("R1")
        .await
        .expect("read")
        .expect("refund");
    let ev = client
        .parse_notify(&HeaderMap::new(), &sb.refund_notify(&o, &rr), NOW)
        .await
        .expect("refund notify");
    assert!(
        matches!(ev, NotifyEvent::RefundSucceeded { refunded_total: Some(m), .. } if m == cny(345))
    );

    // Errors, as Alipay words them.
    assert_eq!(
        business_sub_code(
            client
                .refund(&refund("A1", "R2", cny(12001), cny(12345)))
                .await
        ),
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    );
    assert_eq!(
        business_sub_code(client.close(&t).await),
        "ACQ.TRADE_HAS_SUCCESS"
    );
    client
        .create_qr(&order("A2", cny(1)))
        .await
        .expect("precreate");
    client.close(&TradeRef::new("A2")).await.expect("close");
    assert_eq!(
        client.query(&TradeRef::new("A2")).await.expect("q").state,
        TradeState::Closed
    );
    assert_eq!(
        business_sub_code(client.create_qr(&order("A2", cny(1))).await),
        "ACQ.TRADE_HAS_CLOSE"
    );
    assert_eq!(
        business_sub_code(client.refund(&refund("A2", "R3", cny(1), cny(1))).await),
        "ACQ.TRADE_HAS_CLOSE"
    );
    // Unscanned/unknown orders read as pending (Alipay: ACQ.TRADE_NOT_EXIST).
    assert_eq!(
        client.query(&TradeRef::new("NOPE")).await.expect("q").state,
        TradeState::Pending
    );
    sb.ledger
        .set_refund_balance(Some(100))
        .await
        .expect("balance");
    assert_eq!(
        business_sub_code(
            client
                .refund(&refund("A1", "R4", cny(101), cny(12345)))
                .await
        ),
        "ACQ.SELLER_BALANCE_NOT_ENOUGH"
    );

    let calls = sink.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "precreate" && c.status == Some(200))
    );
    assert!(
        calls
            .iter()
            .any(|c| c.provider_code.as_deref() == Some("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"))
    );
}

#[tokio::test]
async fn alipay_sandbox_rejects_bad_signatures_and_client_rejects_wrong_key() {
    let (sb, good, _) = alipay().await;
    // A client signing with a key the sandbox does not know.
    let mut cfg = good.config().clone();
    cfg.app_private_key = key_a();
    let bad = AlipayClient::new(
        cfg,
        fast(),
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    assert_eq!(
        business_sub_code(bad.create_qr(&order("B1", cny(1))).await),
        "isv.invalid-signature"
    );
    // A client expecting another Alipay key refuses the sandbox's answers.
    let mut cfg = good.config().clone();
    cfg.keys = AlipayKeys::PublicKey(key_b().verifier());
    let suspicious = AlipayClient::new(
        cfg,
        fast(),
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    assert_eq!(
        suspicious.create_qr(&order("B2", cny(1))).await,
        Err(ProviderError::Verify(VerifyError::BadSignature))
    );
    assert!(sb.ledger.get("B1").await.expect("read").is_none());
}

// ---------------------------------------------------------------- WeChat Pay

const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const PUB_KEY_ID: &str = "PUB_KEY_ID_0112300001092025010100000000000001";

/// `cert_mode`: the sandbox signs with a platform certificate the client must download;
/// otherwise with a WeChat Pay public key the client is configured with.
async fn wechat(cert_mode: bool) -> (Arc<WechatPaySandbox>, WechatPayClient, Arc<MemorySink>) {
    let sb = Arc::new(WechatPaySandbox {
        mchid: MCHID.into(),
        appid: APPID.into(),
        merchant_serial: "3775B6A45ACD588826D15E583A95F5DD00000000".into(),
        merchant_public_key: key_a().verifier(),
        apiv3_key: APIV3.into(),
        public_key: (!cert_mode).then(|| SandboxPublicKey {
            id: PUB_KEY_ID.into(),
            key: key_b(),
        }),
        // Serial D7CE59D1F522D701, valid at NOW.
        platform_certs: if cert_mode {
            CertRing::new(
                IssuedCert::from_parts(
                    key_b(),
                    s("wechatpay_notify_signature", "platform_certificate_pem"),
                )
                .expect("certificate"),
            )
        } else {
            CertRing::default()
        },
        sign_with_public_key: AtomicBool::new(!cert_mode),
        lose_next_pay_answer: AtomicBool::new(false),
        pay_base_url: format!("{PAY}/wechatpay"),
        ledger: Ledger::default(),
        clock: Arc::new(FixedClock(NOW)),
    });
    let base = serve_local(paydesk_core::provider::wechatpay::sandbox::router(
        sb.clone(),
    ))
    .await
    .expect("serve");
    let sink = Arc::new(MemorySink::default());
    let client = WechatPayClient::new(
        WechatPayConfig {
            channel: "main".into(),
            mchid: MCHID.into(),
            appid: APPID.into(),
            merchant_serial: sb.merchant_serial.clone(),
            merchant_private_key: key_a(),
            apiv3_key: APIV3.into(),
            base_url: base,
            platform_public_key: (!cert_mode).then(|| PlatformPublicKey {
                id: PUB_KEY_ID.into(),
                key: key_b().verifier(),
            }),
            platform_certificates: vec![],
            download_certificates: cert_mode,
            retired_platform_serials: Vec::new(),
        },
        fast(),
        sink.clone(),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    (sb, client, sink)
}

fn http_code(r: Result<impl std::fmt::Debug, ProviderError>) -> (u16, String) {
    match r {
        Err(ProviderError::Http { status, code, .. }) => (status, code.unwrap_or_default()),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

async fn wechat_flow(sb: &WechatPaySandbox, client: &WechatPayClient) {
    let qr = client
        .create_qr(&order("W1", cny(100)))
        .await
        .expect("native");
    assert!(qr.qr_content.starts_with(&format!("{PAY}/wechatpay/")));
    let t = TradeRef::new("W1");
    assert_eq!(
        client.query(&t).await.expect("query").state,
        TradeState::Pending
    );
    let paid = sb.ledger.pay("W1").await.expect("pay");
    let st = client.query(&t).await.expect("query");
    assert_eq!((st.state, st.amount), (TradeState::Paid, Some(cny(100))));
    assert_eq!(st.trade_no.as_deref(), Some(paid.trade_no.as_str()));

    let (h, body) = sb.paid_notify(&paid);
    let ev = client
        .parse_notify(&header_map(&h), &body, NOW)
        .await
        .expect("notify");
    assert_eq!(
        ev,
        NotifyEvent::Paid {
            out_trade_no: "W1".into(),
            trade_no: paid.trade_no.clone(),
            amount: cny(100)
        }
    );

    let r = client
        .refund(&refund("W1", "WR1", cny(30), cny(100)))
        .await
        .expect("refund");
    assert_eq!((r.state, r.amount), (RefundState::Succeeded, Some(cny(30))));
    let rq = client
        .query_refund(&RefundRef {
            trade: t.clone(),
            out_refund_no: "WR1".into(),
            refund_id: None,
        })
        .await
        .expect("refund query");
    assert_eq!(rq.refund_id, r.refund_id);
    assert_eq!(
        client.query(&t).await.expect("query").state,
        TradeState::Refunded
    );
    let (o, rr) = sb
        .ledger
        .find_refund("WR1")
        .await
        .expect("read")
        .expect("refund");
    let (h, body) = sb.refund_notify(&o, &rr);
    assert!(matches!(
        client.parse_notify(&header_map(&h), &body, NOW).await.expect("refund notify"),
        NotifyEvent::RefundSucceeded { amount: Some(m), .. } if m == cny(30)
    ));

    assert_eq!(
        http_code(client.refund(&refund("W1", "WR2", cny(71), cny(100))).await),
        (400, "INVALID_REQUEST".into())
    );
    assert_eq!(http_code(client.close(&t).await), (400, "ORDERPAID".into()));
    client
        .create_qr(&order("W2", cny(5)))
        .await
        .expect("native");
    // 204 with an empty, signed body.
    client.close(&TradeRef::new("W2")).await.expect("close");
    assert_eq!(
        client.query(&TradeRef::new("W2")).await.expect("q").state,
        TradeState::Closed
    );
    assert_eq!(
        http_code(client.query(&TradeRef::new("NOPE")).await),
        (404, "ORDER_NOT_EXIST".into())
    );
    sb.ledger
        .set_refund_balance(Some(10))
        .await
        .expect("balance");
    assert_eq!(
        http_code(client.refund(&refund("W1", "WR3", cny(11), cny(100))).await),
        (403, "NOT_ENOUGH".into())
    );
}

#[tokio::test]
async fn wechatpay_round_trip_public_key_mode() {
    let (sb, client, sink) = wechat(false).await;
    wechat_flow(&sb, &client).await;
    assert!(client.platform_keys().certificate_serials().is_empty());
    assert!(sink.calls().iter().all(|c| c.operation != "certificates"));
}

#[tokio::test]
async fn wechatpay_round_trip_downloads_platform_certificates() {
    let (sb, client, sink) = wechat(true).await;
    wechat_flow(&sb, &client).await;
    assert_eq!(
        client.platform_keys().certificate_serials(),
        vec!["D7CE59D1F522D701".to_string()]
    );
    // Downloaded once, on the first unknown serial.
    assert_eq!(
        sink.calls()
            .iter()
            .filter(|c| c.operation == "certificates")
            .count(),
        1
    );
}

#[tokio::test]
async fn wechatpay_sandbox_rejects_bad_signatures_and_wrong_merchant() {
    let (_sb, good, _) = wechat(false).await;
    let mut cfg = good.config().clone();
    cfg.merchant_private_key = key_b();
    let bad = WechatPayClient::new(
        cfg,
        fast(),
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    assert_eq!(
        http_code(bad.create_qr(&order("X1", cny(1))).await),
        (401, "SIGN_ERROR".into())
    );
    // Our clock 10 minutes off: the sandbox refuses the timestamp.
    let skewed = WechatPayClient::new(
        good.config().clone(),
        fast(),
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(NOW - 600)),
    )
    .expect("client");
    assert_eq!(
        http_code(skewed.create_qr(&order("X2", cny(1))).await),
        (401, "SIGN_ERROR".into())
    );
    // A timestamp near i64::MIN is stale, not an overflow (found by fuzzing the client's
    // twin check; FUZZING.md).
    let ancient = WechatPayClient::new(
        good.config().clone(),
        fast(),
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(i64::MIN + 5)),
    )
    .expect("client");
    assert_eq!(
        http_code(ancient.create_qr(&order("X4", cny(1))).await),
        (401, "SIGN_ERROR".into())
    );
    // A client that does not know the sandbox's public key id.
    let mut cfg = good.config().clone();
    cfg.platform_public_key = Some(PlatformPublicKey {
        id: "PUB_KEY_ID_OTHER".into(),
        key: key_b().verifier(),
    });
    let stranger = WechatPayClient::new(
        cfg,
        fast(),
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    assert_eq!(
        stranger.create_qr(&order("X3", cny(1))).await,
        Err(ProviderError::Verify(VerifyError::UnknownSerial(
            PUB_KEY_ID.into()
        )))
    );
}

/// "Test connection" asks about an order that does not exist: WeChat Pay's signed
/// ORDER_NOT_EXIST is the expected answer, but only if it verifies with our key.
#[tokio::test]
async fn wechatpay_no_such_order_counts_only_when_it_verifies() {
    use paydesk_core::channel::ConnectionCheck;
    use paydesk_core::channel::check::probe_trade;
    let (_sb, good, _) = wechat(false).await;
    let answer = good.query(&probe_trade()).await;
    assert_eq!(http_code(answer.clone()), (404, "ORDER_NOT_EXIST".into()));
    assert_eq!(ConnectionCheck::from_result(&answer), ConnectionCheck::Ok);
    // The right key id with the wrong key: the same answer no longer verifies.
    let mut cfg = good.config().clone();
    cfg.platform_public_key = Some(PlatformPublicKey {
        id: PUB_KEY_ID.into(),
        key: key_a().verifier(),
    });
    let wrong = WechatPayClient::new(
        cfg,
        fast(),
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    let answer = wrong.query(&probe_trade()).await;
    assert_eq!(
        answer,
        Err(ProviderError::Verify(VerifyError::BadSignature))
    );
    assert_eq!(
        ConnectionCheck::from_result(&answer),
        ConnectionCheck::BadSignature
    );
}

// ---------------------------------------------------------------- Stripe

async fn stripe(secret: &str) -> (Arc<StripeSandbox>, StripeClient, Arc<MemorySink>) {
    let sb = Arc::new(StripeSandbox::new(
        "sk_test_sandbox".into(),
        "whsec_sandbox".into(),
        format!("{PAY}/stripe"),
        Arc::new(FixedClock(NOW)),
    ));
    let base = serve_local(paydesk_core::provider::stripe::sandbox::router(sb.clone()))
        .await
        .expect("serve");
    let sink = Arc::new(MemorySink::default());
    let client = StripeClient::new(
        StripeConfig {
            channel: "main".into(),
            secret_key: secret.into(),
            webhook_secret: "whsec_sandbox".into(),
            previous_webhook_secrets: Vec::new(),
            api_base: base,
            success_url: "https://merchant.test/thanks".into(),
            cancel_url: None,
        },
        fast(),
        sink.clone(),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client");
    (sb, client, sink)
}

#[tokio::test]
async fn stripe_round_trip() {
    let (sb, client, sink) = stripe("sk_test_sandbox").await;
    let usd = |m| Money::new(m, Currency::Usd).expect("money");
    let qr = client
        .create_qr(&order("S1", usd(1999)))
        .await
        .expect("session");
    assert!(qr.qr_content.starts_with(&format!("{PAY}/stripe/cs_test_")));
    // Creating again (a retry) yields the same session thanks to the idempotency key.
    let again = client
        .create_qr(&order("S1", usd(1999)))
        .await
        .expect("session");
    assert_eq!(again.provider_ref, qr.provider_ref);
    let t = TradeRef {
        out_trade_no: "S1".into(),
        provider_ref: qr.provider_ref.clone(),
    };
    assert_eq!(
        client.query(&t).await.expect("query").state,
        TradeState::Pending
    );

    let paid = sb.ledger.pay("S1").await.expect("pay");
    let st = client.query(&t).await.expect("query");
    assert_eq!((st.state, st.amount), (TradeState::Paid, Some(usd(1999))));
    let (sig, body) = sb.paid_event(&paid);
    let ev = client
        .parse_notify(&header_map(&[("Stripe-Signature", sig)]), &body, NOW)
        .await
        .expect("event");
    assert_eq!(
        ev,
        NotifyEvent::Paid {
            out_trade_no: "S1".into(),
            trade_no: paid.trade_no.clone(),
            amount: usd(1999)
        }
    );

    let mut req = refund("S1", "SR1", usd(500), usd(1999));
    req.trade = t.clone();
    let r = client.refund(&req).await.expect("refund");
    assert_eq!(
        (r.state.clone(), r.amount),
        (RefundState::Succeeded, Some(usd(500)))
    );
    // The same refund number again: replayed, not refunded twice.
    let r2 = client.refund(&req).await.expect("refund replay");
    assert_eq!(r2.refund_id, r.refund_id);
    assert_eq!(
        sb.ledger
            .get("S1")
            .await
            .expect("read")
            .expect("order")
            .refunds
            .len(),
        1
    );
    let rq = client
        .query_refund(&RefundRef {
            trade: t.clone(),
            out_refund_no: "SR1".into(),
            refund_id: r.refund_id.clone(),
        })
        .await
        .expect("refund query");
    assert_eq!(rq.state, RefundState::Succeeded);
    let (o, rr) = sb
        .ledger
        .find_refund("SR1")
        .await
        .expect("read")
        .expect("refund");
    let (sig, body) = sb.refund_event(&o, &rr);
    assert!(matches!(
        client.parse_notify(&header_map(&[("Stripe-Signature", sig)]), &body, NOW).await.expect("event"),
        NotifyEvent::RefundSucceeded { amount: Some(m), .. } if m == usd(500)
    ));

    let mut big = refund("S1", "SR2", usd(1500), usd(1999));
    big.trade = t.clone();
    assert_eq!(
        http_code(client.refund(&big).await),
        (400, "amount_too_large".into())
    );
    assert_eq!(
        http_code(client.close(&t).await),
        (400, "checkout_session_complete".into())
    );
    let qr2 = client
        .create_qr(&order("S2", usd(100)))
        .await
        .expect("session");
    let t2 = TradeRef {
        out_trade_no: "S2".into(),
        provider_ref: qr2.provider_ref,
    };
    client.close(&t2).await.expect("expire");
    assert_eq!(
        client.query(&t2).await.expect("q").state,
        TradeState::Closed
    );

    let calls = sink.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.provider_code.as_deref() == Some("amount_too_large"))
    );
    assert!(calls.iter().all(|c| !c.url.contains("sk_test")));
}

#[tokio::test]
async fn stripe_sandbox_rejects_wrong_key_and_idempotency_misuse() {
    let (_sb, client, _) = stripe("sk_test_wrong").await;
    let usd = Money::new(100, Currency::Usd).expect("money");
    assert_eq!(http_code(client.create_qr(&order("S9", usd)).await).0, 401);

    // Same idempotency key, different parameters (same order number, other amount).
    let (_sb, client, _) = stripe("sk_test_sandbox").await;
    client.create_qr(&order("S3", usd)).await.expect("session");
    let other = Money::new(200, Currency::Usd).expect("money");
    assert_eq!(
        http_code(client.create_qr(&order("S3", other)).await),
        (400, "idempotency_error".into())
    );
}
