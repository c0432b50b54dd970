//! The merchant API (`/api/v1/…`): JSON over HTTP for POS and shop back ends,
//! authenticated with API keys (`Authorization: Bearer pdk_…`). Each key sees only the
//! orders it created. Described by `openapi.json`, served at `/api/v1/openapi.json`.
//!
//! No session or CSRF layer applies here: bearer keys are not sent by browsers on their
//! own, so a cross-site page cannot forge these requests.

pub mod auth;
pub mod error;
pub mod idempotency;
pub mod orders;
pub mod refunds;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any, get, post};
use serde::de::DeserializeOwned;

use crate::startup::AppState;
use error::ApiError;

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Every route of the API, with its handlers. [`routes`] is built from exactly this list,
/// so a test can check each of them against the OpenAPI document.
fn table() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/v1/openapi.json", get(openapi)),
        ("/api/v1/orders", post(orders::create).get(orders::list)),
        ("/api/v1/orders/{out_trade_no}", get(orders::get)),
        ("/api/v1/orders/{out_trade_no}/close", post(orders::close)),
        (
            "/api/v1/orders/{out_trade_no}/refunds",
            post(refunds::create),
        ),
        ("/api/v1/refunds/{out_refund_no}", get(refunds::get)),
    ]
}

/// The paths the API serves (OpenAPI path-template syntax).
pub fn paths() -> Vec<&'static str> {
    table().into_iter().map(|(p, _)| p).collect()
}

pub fn routes(state: AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (path, handlers) in table() {
        router = router.route(path, handlers);
    }
    router
        // Unknown API paths answer in the API's error shape (not the HTML app's fallback).
        .route("/api/v1/{*rest}", any(not_found))
        .route("/api/v1", any(not_found))
        .layer(axum::middleware::from_fn_with_state(
            state,
            idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Reads a JSON request body: 400 `invalid_json` when it is not JSON, 422
/// `invalid_request` when it is JSON of the wrong shape (missing field, a float amount…).
pub fn parse_json<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            idempotency::too_large()
        } else {
            ApiError::bad_request(e.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::invalid(e.to_string()),
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {e}"),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_openapi_document() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        for path in paths() {
            assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
        }
    }
}
