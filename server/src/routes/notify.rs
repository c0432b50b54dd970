//! `POST /notify/{provider}/{channel}`: where Alipay, WeChat Pay and Stripe (and the
//! sandbox's wallet) deliver notifications. The whole flow — store raw, verify, apply,
//! acknowledge — is `paydesk_core::payments::notify`; this only adapts HTTP.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::login::ClientIp;
use crate::startup::AppState;

pub async fn receive(
    State(state): State<AppState>,
    Path((provider, channel)): Path<(String, String)>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Only what fails verification counts against the sender's address.
    let limiter = state.rate_limits.notify_rejected.clone();
    let ip = ip.and_then(|ip| ip.parse().ok());
    let Some(out) = state
        .payments
        .receive_notify(&provider, &channel, &headers, &body, || limiter.allow(ip))
        .await
    else {
        return (StatusCode::NOT_FOUND, "unknown provider").into_response();
    };
    let span = tracing::Span::current();
    if let Some(id) = &out.inbox_id {
        span.record("inbox_id", id.as_str());
    }
    if let Some(no) = &out.out_trade_no {
        crate::telemetry::record_order(no);
    }
    if let Some(kind) = paydesk_core::channel::parse_provider(&provider) {
        paydesk_core::metrics::notification(kind.as_str(), out.verdict.as_str());
    }
    let status = StatusCode::from_u16(out.ack.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, out.ack.body).into_response();
    if let Ok(v) = HeaderValue::from_str(out.ack.content_type)
        && !out.ack.content_type.is_empty()
    {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}
