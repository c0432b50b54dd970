//! The shared HTTP client: retries only where safe, timeouts, call records with masking.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::any;
use paydesk_core::provider::http::{HttpClient, HttpSettings, OutgoingRequest, Retry};
use paydesk_core::provider::{MemorySink, ProviderError, ProviderKind};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

fn settings() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(400),
        max_attempts: 3,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..HttpSettings::default()
    }
}

fn client(sink: Arc<MemorySink>) -> HttpClient {
    HttpClient::new(ProviderKind::Alipay, "test", settings(), sink).expect("client")
}

fn req(url: String, retry: Retry) -> OutgoingRequest {
    OutgoingRequest {
        operation: "op",
        method: reqwest::Method::POST,
        url,
        headers: vec![],
        body: b"x=1".to_vec(),
        retry,
    }
}

fn code(_: &paydesk_core::provider::http::IncomingResponse) -> Option<String> {
    Some("CODE".into())
}

/// A server that fails with 503 `failures` times, then answers 200.
async fn flaky(failures: u32) -> (String, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/{*p}",
        any(move || {
            let h = h.clone();
            async move {
                if h.fetch_add(1, Ordering::SeqCst) < failures {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy")
                } else {
                    (StatusCode::OK, "ok")
                }
            }
        }),
    );
    (serve(router).await, hits)
}

#[tokio::test]
async fn retries_5xx_only_when_idempotent() {
    let (base, hits) = flaky(2).await;
    let sink = Arc::new(MemorySink::default());
    let resp = client(sink.clone())
        .send(
            &req(format!("{base}/q?sign=SECRET&a=1"), Retry::Idempotent),
            code,
        )
        .await
        .expect("third attempt succeeds");
    assert_eq!(resp.status, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    let calls = sink.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        calls.iter().map(|c| c.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(calls[0].status, Some(503));
    assert_eq!(calls[0].provider_code.as_deref(), Some("CODE"));
    assert_eq!(calls[2].status, Some(200));
    for c in &calls {
        assert!(!c.url.contains("SECRET"), "{}", c.url);
        assert!(c.url.contains("sign=***"));
        assert_eq!(c.method, "POST");
        assert_eq!(c.operation, "op");
    }

    let (base, hits) = flaky(2).await;
    let sink = Arc::new(MemorySink::default());
    let resp = client(sink.clone())
        .send(&req(format!("{base}/pay"), Retry::ConnectOnly), code)
        .await
        .expect("response");
    // A payment POST that got a 503 is not re-sent: the provider may have acted.
    assert_eq!(resp.status, 503);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(sink.calls().len(), 1);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let (base, hits) = flaky(100).await;
    let sink = Arc::new(MemorySink::default());
    let resp = client(sink.clone())
        .send(&req(format!("{base}/q"), Retry::Idempotent), code)
        .await
        .expect("last response is returned");
    assert_eq!(resp.status, 503);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn connect_errors_are_retried_even_for_payments() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let sink = Arc::new(MemorySink::default());
    let err = client(sink.clone())
        .send(
            &req(format!("http://127.0.0.1:{port}/pay"), Retry::ConnectOnly),
            code,
        )
        .await
        .expect_err("nobody listens");
    assert!(matches!(err, ProviderError::Transport(_)));
    let calls = sink.calls();
    assert_eq!(calls.len(), 3);
    assert!(
        calls
            .iter()
            .all(|c| c.status.is_none() && c.error.is_some())
    );
}

#[tokio::test]
async fn timeouts_are_not_retried_for_payments() {
    let hits = Arc::new(AtomicU32::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/{*p}",
        any(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(2)).await;
                "late"
            }
        }),
    );
    let base = serve(router).await;
    let sink = Arc::new(MemorySink::default());
    let err = client(sink.clone())
        .send(&req(format!("{base}/pay"), Retry::ConnectOnly), code)
        .await
        .expect_err("times out");
    assert!(matches!(err, ProviderError::Transport(_)));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let err = client(sink.clone())
        .send(&req(format!("{base}/query"), Retry::Idempotent), code)
        .await
        .expect_err("times out");
    assert!(matches!(err, ProviderError::Transport(_)));
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}
