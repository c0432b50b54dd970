//! `Authorization: Bearer pdk_…`: the API key extractor. The key is looked up once per
//! request (the idempotency layer may have done it already; it is kept in the request's
//! extensions).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use paydesk_core::order::Cause;
use paydesk_core::store::ApiKeyInfo;

use super::error::ApiError;
use crate::startup::AppState;

/// The authenticated (live, not revoked) API key of the request.
#[derive(Debug, Clone)]
pub struct ApiKey(pub ApiKeyInfo);

impl ApiKey {
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// What the key's actions are recorded as on orders' timelines.
    pub fn cause(&self) -> Cause {
        Cause::ApiKey(self.0.name.clone())
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(key) = parts.extensions.get::<ApiKey>() {
            return Ok(key.clone());
        }
        let info = match bearer(parts) {
            Some(token) => state.store.authenticate_api_key(token).await?,
            None => None,
        };
        let Some(info) = info else {
            // Failures count against the address; a guessing run gets 429s.
            let ip = crate::routes::peer_ip(&parts.extensions);
            return Err(if state.rate_limits.api_auth_failures.allow(ip) {
                ApiError::unauthorized()
            } else {
                ApiError::rate_limited()
            });
        };
        let key = ApiKey(info);
        parts.extensions.insert(key.clone());
        Ok(key)
    }
}
