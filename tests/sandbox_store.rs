//! Store stories for the sandbox keys and the provider call log, on SQLite and Postgres.

mod support;

use std::sync::Arc;

use paydesk_core::provider::http::{HttpClient, HttpSettings, OutgoingRequest, Retry};
use paydesk_core::provider::secret::SecretString;
use paydesk_core::provider::stripe::sandbox::keys::StripeSandboxKeys;
use paydesk_core::provider::{CallSink, ProviderCall, ProviderKind, for_trade};
use paydesk_core::sandbox::keys::load_or_create;
use paydesk_core::store::{CallFilter, Store, StoreCallSink};
use paydesk_core::vault::MasterKey;

on_both_backends!(
    sandbox_keys_first_insert_wins,
    sandbox_keys_are_created_once,
    provider_calls_are_logged_and_queried,
    client_calls_reach_the_log_linked_to_their_order,
);

async fn sandbox_keys_first_insert_wins(store: &Store) {
    assert!(
        store
            .sandbox_secrets("alipay")
            .await
            .expect("read")
            .is_none()
    );
    let first = store
        .insert_sandbox_secrets_if_absent("alipay", &SecretString::new("{\"v\":1}"))
        .await
        .expect("insert");
    assert_eq!(first.expose(), "{\"v\":1}");
    // A second instance that generated its own keys gets the stored ones back.
    let second = store
        .insert_sandbox_secrets_if_absent("alipay", &SecretString::new("{\"v\":2}"))
        .await
        .expect("insert again");
    assert_eq!(second.expose(), "{\"v\":1}");
    let other = store
        .insert_sandbox_secrets_if_absent("stripe", &SecretString::new("{\"v\":3}"))
        .await
        .expect("other provider");
    assert_eq!(other.expose(), "{\"v\":3}");
}

async fn sandbox_keys_are_created_once(store: &Store) {
    // Stripe's keys need no RSA generation, so this story stays fast.
    let master = MasterKey::from_bytes([9; 32]);
    let a: StripeSandboxKeys = load_or_create(store, &master).await.expect("create");
    let b: StripeSandboxKeys = load_or_create(store, &master).await.expect("load");
    assert!(a.secret_key.expose().starts_with("sk_test_"));
    assert!(a.webhook_secret.expose().starts_with("whsec_"));
    assert_eq!(a.secret_key, b.secret_key);
    assert_eq!(a.webhook_secret, b.webhook_secret);
    let debug = format!("{a:?}");
    assert!(!debug.contains(a.secret_key.expose()), "{debug}");
    assert!(!debug.contains(a.webhook_secret.expose()), "{debug}");
    // At rest the document is sealed: no secret in the row, and another key cannot open it.
    let row = store
        .sandbox_secrets("stripe")
        .await
        .expect("read")
        .expect("row");
    assert!(row.expose().starts_with("v1:"), "sealed");
    assert!(!row.expose().contains("whsec_") && !row.expose().contains("sk_test_"));
    let wrong: Result<StripeSandboxKeys, _> =
        load_or_create(store, &MasterKey::from_bytes([1; 32])).await;
    assert!(
        wrong.is_err(),
        "a different master key cannot read the keys"
    );
}

fn call(
    at: i64,
    channel: &str,
    status: Option<u16>,
    code: Option<&str>,
    trade: Option<&str>,
) -> ProviderCall {
    ProviderCall {
        provider: ProviderKind::Wechatpay,
        channel: channel.into(),
        operation: "query",
        method: "GET".into(),
        url: "https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/T1?mchid=1900000001"
            .into(),
        status,
        latency_ms: 42,
        attempt: 1,
        provider_code: code.map(String::from),
        error: status.is_none().then(|| "connection refused".to_string()),
        started_at_ms: at,
        out_trade_no: trade.map(String::from),
    }
}

async fn provider_calls_are_logged_and_queried(store: &Store) {
    let (sink, writer) = StoreCallSink::spawn(store.clone());
    sink.record(call(1_000, "main", Some(200), None, Some("T1")));
    sink.record(call(
        2_000,
        "main",
        Some(404),
        Some("ORDER_NOT_EXIST"),
        Some("T2"),
    ));
    sink.record(call(3_000, "other", None, None, None));
    // Shutdown writes everything that was queued.
    writer.shutdown().await;

    let all = store
        .provider_calls(&CallFilter {
            limit: 10,
            ..CallFilter::default()
        })
        .await
        .expect("all");
    assert_eq!(
        all.iter().map(|c| c.at).collect::<Vec<_>>(),
        vec![3_000, 2_000, 1_000],
        "newest first"
    );
    let first = &all[2];
    assert_eq!(first.provider, "wechatpay");
    assert_eq!(first.status, Some(200));
    assert_eq!(first.latency_ms, 42);
    assert_eq!(first.out_trade_no.as_deref(), Some("T1"));
    assert_eq!(all[0].status, None);
    assert_eq!(all[0].error.as_deref(), Some("connection refused"));

    let by = |f: CallFilter| async move {
        store
            .provider_calls(&CallFilter { limit: 10, ..f })
            .await
            .expect("query")
            .into_iter()
            .map(|c| c.at)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by(CallFilter {
            out_trade_no: Some("T2".into()),
            ..CallFilter::default()
        })
        .await,
        vec![2_000]
    );
    assert_eq!(
        by(CallFilter {
            channel: Some("main".into()),
            provider: Some("wechatpay".into()),
            ..CallFilter::default()
        })
        .await,
        vec![2_000, 1_000]
    );
    assert_eq!(
        by(CallFilter {
            failed_only: true,
            ..CallFilter::default()
        })
        .await,
        vec![3_000, 2_000]
    );
    assert_eq!(
        by(CallFilter {
            before: Some(all[1].cursor()),
            ..CallFilter::default()
        })
        .await,
        vec![1_000]
    );
    assert!(
        by(CallFilter {
            provider: Some("alipay".into()),
            ..CallFilter::default()
        })
        .await
        .is_empty()
    );
}

async fn client_calls_reach_the_log_linked_to_their_order(store: &Store) {
    let (sink, writer) = StoreCallSink::spawn(store.clone());
    let http = HttpClient::new(
        ProviderKind::Stripe,
        "sb",
        HttpSettings {
            max_attempts: 1,
            ..HttpSettings::default()
        },
        sink.clone() as Arc<dyn CallSink>,
    )
    .expect("client");
    // Port 9 on localhost: nothing listens, so the attempt fails fast with a connect error.
    let req = OutgoingRequest {
        operation: "session_get",
        method: reqwest::Method::GET,
        url: "http://127.0.0.1:9/v1/checkout/sessions/cs_1?client_secret=abc".into(),
        headers: Vec::new(),
        body: Vec::new(),
        retry: Retry::ConnectOnly,
    };
    let _ = for_trade("ORDER-9", http.send(&req, |_| None)).await;
    drop(sink);
    writer.shutdown().await;
    let calls = store
        .provider_calls(&CallFilter {
            out_trade_no: Some("ORDER-9".into()),
            limit: 10,
            ..CallFilter::default()
        })
        .await
        .expect("query");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].operation, "session_get");
    assert_eq!(calls[0].channel, "sb");
    assert!(
        !calls[0].url.contains("abc"),
        "secrets are masked: {}",
        calls[0].url
    );
}
