//! `Idempotency-Key` on `POST` requests: the first response to a key (per API key) is
//! stored and replayed for 24 h to every retry with the same method, path and body
//! (marked `Idempotent-Replayed: true`). The same key with another request is refused
//! (422 `idempotency_key_reused`); a retry while the first request still runs gets 409
//! `idempotency_in_progress`. 5xx answers are not stored: the key is released and a retry
//! runs again.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paydesk_core::store::IdempotencyBegin;
use paydesk_core::time::now_ms;
use sha2::{Digest, Sha256};

use super::MAX_BODY_BYTES;
use super::auth::ApiKey;
use super::error::ApiError;
use crate::startup::AppState;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long a key's response is replayed.
pub const TTL_MS: i64 = 24 * 60 * 60 * 1000;
const MAX_KEY_LEN: usize = 255;

fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(path_and_query.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    match run(state, req, next).await {
        Ok(resp) | Err(resp) => resp,
    }
}

async fn run(state: AppState, req: Request, next: Next) -> Result<Response, Response> {
    let key = idempotency_key(&req).ok_or_else(|| {
        ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters")
            .into_response()
    })?;
    let (mut parts, body) = req.into_parts();
    let api_key = ApiKey::from_request_parts(&mut parts, &state)
        .await
        .map_err(IntoResponse::into_response)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large().into_response())?;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let sha = fingerprint(parts.method.as_str(), path, &bytes);
    let begin = state
        .store
        .idempotency_begin(api_key.id(), &key, &sha, now_ms(), TTL_MS)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    if let Some(answer) = answer_without_running(begin) {
        return answer;
    }

    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    store_response(&state, api_key.id(), &key, resp).await
}

/// The request's `Idempotency-Key`, when it is a usable one.
fn idempotency_key(req: &Request) -> Option<String> {
    req.headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
}

/// What to answer when the key is not newly claimed: the stored response, or why not;
/// `None` when the request is to run.
fn answer_without_running(begin: IdempotencyBegin) -> Option<Result<Response, Response>> {
    match begin {
        IdempotencyBegin::Started => None,
        IdempotencyBegin::InProgress => Some(Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_in_progress",
            "a request with this Idempotency-Key is still being processed; retry later",
        )
        .into_response())),
        IdempotencyBegin::Mismatch => Some(Err(ApiError::invalid(
            "this Idempotency-Key was used for a different request",
        )
        .with_code("idempotency_key_reused")
        .into_response())),
        IdempotencyBegin::Replay { status, response } => Some(Ok(replay(status, response))),
    }
}

/// The stored response, marked as replayed.
fn replay(status: i64, response: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut resp = (status, response).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    resp
}

/// Stores the response under the key (a 5xx releases the key instead) and passes it on.
async fn store_response(
    state: &AppState,
    api_key_id: &str,
    key: &str,
    resp: Response,
) -> Result<Response, Response> {
    let (parts, body) = resp.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let _ = state.store.idempotency_abandon(api_key_id, key).await;
            return Err(ApiError::internal(&e).into_response());
        }
    };
    let stored = if parts.status.is_server_error() {
        state.store.idempotency_abandon(api_key_id, key).await
    } else {
        state
            .store
            .idempotency_finish(
                api_key_id,
                key,
                i64::from(parts.status.as_u16()),
                &String::from_utf8_lossy(&bytes),
            )
            .await
    };
    if let Err(e) = stored {
        // The request itself succeeded; a retry with the key would run it again.
        tracing::error!(error = %e, "cannot store an idempotent response");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body may be at most {MAX_BODY_BYTES} bytes"),
    )
}
