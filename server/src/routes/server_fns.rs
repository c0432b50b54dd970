//! Server function calls (`/rpc/…`) whose arguments do not parse are the caller's mistake:
//! a 400, not the 500 Leptos answers for every error it raises itself (which would page
//! whoever watches 5xx rates, and says "our fault" to a fuzzer).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use paydesk_app::server_fns::AppError;

/// Error bodies are a line or two; anything longer is not one of these.
const ERROR_BODY_MAX: usize = 16 * 1024;

/// True for a body that says the arguments were malformed or missing: the JSON of an
/// [`AppError`] the server-function machinery raised before the function ran.
pub fn is_caller_error(body: &[u8]) -> bool {
    serde_json::from_slice::<AppError>(body).is_ok_and(|e| e.is_bad_arguments())
}

pub async fn bad_arguments_are_400(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/rpc/") {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    if resp.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, ERROR_BODY_MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if is_caller_error(&bytes) {
        parts.status = StatusCode::BAD_REQUEST;
        tracing::info!(detail = %String::from_utf8_lossy(&bytes), "server function called with bad arguments");
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::is_caller_error;

    #[test]
    fn argument_errors_are_told_from_server_errors() {
        assert!(is_caller_error(
            br#"{"server_fn":{"Args":"missing field `no`"}}"#
        ));
        assert!(is_caller_error(br#"{"server_fn":{"MissingArg":"no"}}"#));
        assert!(!is_caller_error(br#""internal""#));
        assert!(!is_caller_error(br#"{"server_fn":{"ServerError":"boom"}}"#));
        assert!(!is_caller_error(b"Args|missing field `no`"));
    }
}
