//! Server function calls (`/rpc/…`) whose arguments do not parse are the caller's mistake:
//! a 400, not the 500 Leptos answers for every error it raises itself (which would page
//! whoever watches 5xx rates, and says "our fault" to a fuzzer).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Error bodies are a line or two; anything longer is not one of these.
const ERROR_BODY_MAX: usize = 16 * 1024;

/// The encodings (`server_fn`'s `Kind|detail`) of errors about the request's arguments.
const CALLER_ERRORS: [&str; 3] = ["Args|", "MissingArg|", "Deserialization|"];

/// True for a body that says the arguments were malformed or missing.
pub fn is_caller_error(body: &[u8]) -> bool {
    CALLER_ERRORS.iter().any(|k| body.starts_with(k.as_bytes()))
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
        assert!(is_caller_error(b"Args|missing field `no`"));
        assert!(is_caller_error(b"MissingArg|no"));
        assert!(!is_caller_error(b"ServerError|internal"));
    }
}
