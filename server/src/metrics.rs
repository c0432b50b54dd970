//! `GET /metrics` in the Prometheus text format, and the HTTP request histogram.
//!
//! Who may read it: with `metrics_token` (`PAYDESK_METRICS_TOKEN`) set, whoever sends
//! `Authorization: Bearer <token>`; without it, only direct connections from this machine
//! (loopback, and no `Forwarded`/`X-Forwarded-For` header, which a reverse proxy on the same
//! host would add for a public visitor).

use crate::startup::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use paydesk_core::provider::crypto::ct_eq;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

const HTTP_SECONDS: &str = "paydesk_http_request_duration_seconds";
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Notifications per group-commit transaction.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The process-wide recorder, installed on first use (tests build several apps in one
/// process; they share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(paydesk_core::metrics::NOTIFY_BATCH.to_owned()),
                    BATCH_BUCKETS,
                )
            })
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
        }
        handle
    })
}

/// Latency of every matched route, labelled by its pattern (`/api/v1/orders/{no}`), never
/// the concrete path, so the number of series stays bounded.
pub async fn track_http(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method: &'static str = match req.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    // The request's log span (see `startup::app`) names the route too.
    tracing::Span::current().record("route", route.as_str());
    let start = Instant::now();
    let resp = next.run(req).await;
    metrics::histogram!(
        HTTP_SECONDS,
        "method" => method,
        "route" => route,
        "status" => resp.status().as_u16().to_string(),
    )
    .record(start.elapsed().as_secs_f64());
    resp
}

fn allowed(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    if let Some(token) = state.config.settings.metrics_token.as_deref() {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        return !token.is_empty() && ct_eq(sent.as_bytes(), token.as_bytes());
    }
    // Without a token: a direct connection from this machine only. A reverse proxy on this
    // machine also connects from loopback, so any header a proxy may add means "relayed".
    let proxied = FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h));
    peer.is_some_and(|p| p.ip().is_loopback()) && !proxied
}

/// Headers that reverse proxies and CDNs add to say whom they relay for.
const FORWARDING_HEADERS: [&str; 8] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
];

pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !allowed(&state, req.headers(), peer) {
        return (
            StatusCode::FORBIDDEN,
            "metrics are served to this machine only, or with PAYDESK_METRICS_TOKEN\n",
        )
            .into_response();
    }
    let handle = handle();
    handle.run_upkeep();
    let mut text = handle.render();
    match state.store.gauges().await {
        Ok(g) => text.push_str(&render_gauges(&g, paydesk_core::time::now_ms())),
        Err(e) => tracing::warn!(error = %e, "cannot read gauges for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Figures read from the database at scrape time, so every instance reports the same.
fn render_gauges(g: &paydesk_core::store::Gauges, now_ms: i64) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, values: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, v) in values {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    gauge(
        "paydesk_pending_orders",
        "Orders waiting for payment.",
        &[(String::new(), g.pending_orders as f64)],
    );
    let age = g
        .oldest_pending_created_ms
        .map_or(0.0, |t| ((now_ms - t).max(0) as f64) / 1000.0);
    gauge(
        "paydesk_oldest_pending_order_age_seconds",
        "Age of the oldest order waiting for payment (0 when none).",
        &[(String::new(), age)],
    );
    let refunds: Vec<(String, f64)> = g
        .refunds_by_status
        .iter()
        .map(|(s, n)| (format!("{{status=\"{}\"}}", escape(s)), *n as f64))
        .collect();
    gauge("paydesk_refunds", "Refunds by status.", &refunds);
    gauge(
        "paydesk_merchant_notification_backlog",
        "Merchant notifications not yet delivered.",
        &[(String::new(), g.merchant_notification_backlog as f64)],
    );
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_render_in_the_text_format() {
        let g = paydesk_core::store::Gauges {
            pending_orders: 3,
            oldest_pending_created_ms: Some(1_000),
            refunds_by_status: vec![("failed".into(), 2)],
            merchant_notification_backlog: 1,
        };
        let text = render_gauges(&g, 61_000);
        assert!(text.contains("paydesk_pending_orders 3\n"), "{text}");
        assert!(
            text.contains("paydesk_oldest_pending_order_age_seconds 60\n"),
            "{text}"
        );
        assert!(
            text.contains("paydesk_refunds{status=\"failed\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE paydesk_merchant_notification_backlog gauge"),
            "{text}"
        );
    }
}
