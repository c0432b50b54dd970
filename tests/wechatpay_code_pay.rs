//! WeChat Pay APIv3 付款码 (`codepay`, `reverse`): the client against the v3 sandbox on
//! 127.0.0.1:0 — paid at once, the password wait, a decline, a used code, the reverse of
//! each, a lost answer re-sent, and answers that do not verify never taken for a decision.

mod provider_fixtures;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use paydesk_core::money::{Currency, Money};
use paydesk_core::payment_code::PaymentCode;
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::http::HttpSettings;
use paydesk_core::provider::wechatpay::sandbox::{
    CODE_LEN, CODE_PREFIX, SandboxPublicKey, WechatPaySandbox,
};
use paydesk_core::provider::wechatpay::{PlatformPublicKey, WechatPayClient, WechatPayConfig};
use paydesk_core::provider::{
    CodePayAnswer, CodePayRequest, CreateQrRequest, FixedClock, MemorySink, Provider,
    ProviderError, TradeRef, TradeState, VerifyError,
};
use paydesk_core::sandbox::certs::CertRing;
use paydesk_core::sandbox::{CodeBehaviour, Ledger, OrderState, serve_local};
use provider_fixtures::s;

const NOW: i64 = 1_700_000_000;
const MCHID: &str = "1230000109";
const APPID: &str = "wxd678efh567hg6787";
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const PUB_KEY_ID: &str = "PUB_KEY_ID_0112300001092025010100000000000001";

fn merchant_key() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("alipay_notify", "alipay_private_key_pem")).expect("key")
}

fn wechat_key() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&s("wechatpay_rsa_sign", "private_key_pem")).expect("key")
}

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

fn client(base: &str, platform: RsaSigner) -> WechatPayClient {
    let cfg = WechatPayConfig {
        channel: "till-1".into(),
        mchid: MCHID.into(),
        appid: APPID.into(),
        merchant_serial: "3775B6A45ACD588826D15E583A95F5DD00000000".into(),
        merchant_private_key: merchant_key(),
        apiv3_key: APIV3.into(),
        base_url: base.to_string(),
        platform_public_key: Some(PlatformPublicKey {
            id: PUB_KEY_ID.into(),
            key: platform.verifier(),
        }),
        platform_certificates: vec![],
        download_certificates: false,
        retired_platform_serials: Vec::new(),
    };
    let fast = HttpSettings {
        backoff_base: std::time::Duration::from_millis(5),
        ..HttpSettings::default()
    };
    WechatPayClient::new(
        cfg,
        fast,
        Arc::new(MemorySink::default()),
        Arc::new(FixedClock(NOW)),
    )
    .expect("client")
}

async fn sandbox() -> (Arc<WechatPaySandbox>, String) {
    let sb = Arc::new(WechatPaySandbox {
        mchid: MCHID.into(),
        appid: APPID.into(),
        merchant_serial: "3775B6A45ACD588826D15E583A95F5DD00000000".into(),
        merchant_public_key: merchant_key().verifier(),
        apiv3_key: APIV3.into(),
        public_key: Some(SandboxPublicKey {
            id: PUB_KEY_ID.into(),
            key: wechat_key(),
        }),
        platform_certs: CertRing::default(),
        sign_with_public_key: AtomicBool::new(true),
        lose_next_pay_answer: AtomicBool::new(false),
        pay_base_url: "http://paydesk.test/sandbox/pay/wechatpay".into(),
        ledger: Ledger::default(),
        clock: Arc::new(FixedClock(NOW)),
    });
    let router = paydesk_core::provider::wechatpay::sandbox::router(sb.clone());
    let base = serve_local(router).await.expect("serve");
    (sb, base)
}

async fn issue(sb: &WechatPaySandbox, behaviour: CodeBehaviour) -> PaymentCode {
    let code = sb
        .ledger
        .issue_pay_code(CODE_PREFIX, CODE_LEN, behaviour, NOW * 1000)
        .await
        .expect("issue");
    PaymentCode::parse(&code).expect("a WeChat code")
}

fn charge(no: &str, code: &PaymentCode, amount: i64) -> CodePayRequest {
    CodePayRequest {
        out_trade_no: no.into(),
        amount: cny(amount),
        subject: "counter sale".into(),
        code: code.clone(),
        notify_url: "http://paydesk.test/notify/wechatpay/till-1".into(),
    }
}

async fn state(client: &WechatPayClient, no: &str) -> TradeState {
    client.query(&TradeRef::new(no)).await.expect("query").state
}

#[tokio::test]
async fn paid_at_once_resent_and_reversed() {
    let (sb, base) = sandbox().await;
    let c = client(&base, wechat_key());
    let code = issue(&sb, CodeBehaviour::Pay).await;
    let paid = c.pay_by_code(&charge("PD001", &code, 1234)).await;
    let Ok(CodePayAnswer::Paid { trade_no, amount }) = paid else {
        panic!("expected paid, got {paid:?}");
    };
    assert!(!trade_no.is_empty());
    assert_eq!(amount, cny(1234));
    assert_eq!(state(&c, "PD001").await, TradeState::Paid);
    // The same request again (its answer was lost): the same answer, charged once.
    let again = c.pay_by_code(&charge("PD001", &code, 1234)).await;
    assert_eq!(again, Ok(CodePayAnswer::Paid { trade_no, amount }));
    // The same code for another order: used.
    let used = c.pay_by_code(&charge("PD002", &code, 1234)).await;
    assert!(
        matches!(&used, Ok(CodePayAnswer::Declined { code, .. }) if code == "AUTH_CODE_EXPIRE"),
        "{used:?}"
    );
    // Reversing a paid order refunds it; twice is once.
    c.cancel_code_payment(&TradeRef::new("PD001"))
        .await
        .expect("reverse");
    c.cancel_code_payment(&TradeRef::new("PD001"))
        .await
        .expect("reverse again");
    assert_eq!(state(&c, "PD001").await, TradeState::Refunded);
    let o = sb
        .ledger
        .get("PD001")
        .await
        .expect("ledger")
        .expect("order");
    assert_eq!(o.refunded().expect("sum"), cny(1234));
}

#[tokio::test]
async fn password_wait_then_reverse() {
    let (sb, base) = sandbox().await;
    let c = client(&base, wechat_key());
    let code = issue(&sb, CodeBehaviour::Password).await;
    let waiting = c.pay_by_code(&charge("PD010", &code, 500)).await;
    assert_eq!(waiting, Ok(CodePayAnswer::UserPaying));
    assert_eq!(state(&c, "PD010").await, TradeState::Pending);
    c.cancel_code_payment(&TradeRef::new("PD010"))
        .await
        .expect("reverse");
    assert_eq!(state(&c, "PD010").await, TradeState::Closed);
    let o = sb
        .ledger
        .get("PD010")
        .await
        .expect("ledger")
        .expect("order");
    assert_eq!(o.state, OrderState::Closed);
    // A charge that never reached WeChat: nothing to reverse.
    c.cancel_code_payment(&TradeRef::new("PD404"))
        .await
        .expect("never created");
    // A Native order is not reversed.
    c.create_qr(&CreateQrRequest {
        out_trade_no: "PD011".into(),
        amount: cny(100),
        subject: "qr".into(),
        notify_url: "http://paydesk.test/notify".into(),
        expires_at: None,
    })
    .await
    .expect("qr");
    let refused = c.cancel_code_payment(&TradeRef::new("PD011")).await;
    assert!(
        matches!(&refused, Err(ProviderError::Http { status: 400, .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn declines_and_foreign_codes() {
    let (sb, base) = sandbox().await;
    let c = client(&base, wechat_key());
    let code = issue(&sb, CodeBehaviour::Decline).await;
    let declined = c.pay_by_code(&charge("PD020", &code, 500)).await;
    assert!(
        matches!(&declined, Ok(CodePayAnswer::Declined { code, .. }) if code == "NOT_ENOUGH"),
        "{declined:?}"
    );
    assert_eq!(state(&c, "PD020").await, TradeState::Closed);
    // A WeChat code this wallet never issued.
    let forged = PaymentCode::parse("134567890123456789").expect("code");
    let refused = c.pay_by_code(&charge("PD021", &forged, 500)).await;
    assert!(
        matches!(&refused, Ok(CodePayAnswer::Declined { .. })),
        "{refused:?}"
    );
    assert!(sb.ledger.get("PD021").await.expect("ledger").is_none());
}

#[tokio::test]
async fn answers_that_do_not_verify_decide_nothing() {
    let (sb, base) = sandbox().await;
    // The right key id with the wrong key: no answer verifies.
    let wrong = client(&base, merchant_key());
    for behaviour in [
        CodeBehaviour::Decline,
        CodeBehaviour::Pay,
        CodeBehaviour::Password,
    ] {
        let code = issue(&sb, behaviour).await;
        let no = format!("PD03{}", behaviour.as_str().len());
        let answer = wrong.pay_by_code(&charge(&no, &code, 500)).await;
        assert_eq!(
            answer,
            Err(ProviderError::Verify(VerifyError::BadSignature)),
            "{behaviour:?}"
        );
    }
    let reverse = wrong.cancel_code_payment(&TradeRef::new("PD404")).await;
    assert_eq!(
        reverse,
        Err(ProviderError::Verify(VerifyError::BadSignature))
    );
}
