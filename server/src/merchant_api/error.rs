//! The API's error answer: `{"error": {"code": "…", "message": "…"}}` with a status that
//! fits the code. Internal errors are logged in full and answered with a generic message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use paydesk_core::payments::PaymentError;
use paydesk_core::store::StoreError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API key is required: Authorization: Bearer pdk_…",
        )
    }

    /// A request that is well-formed JSON but asks for something invalid.
    /// Too many failed authentications from this address (`rate_limit`).
    pub fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many failed authentications from this address; wait a minute",
        )
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
    }

    /// Query parameters or headers that cannot be read.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn order_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "no such order")
    }

    pub fn refund_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "refund_not_found", "no such refund")
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API route")
    }

    /// Logs `error` (never shown to the caller) and answers 500.
    pub fn internal(error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "merchant API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; try again later",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(&e)
    }
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        let status = match &e {
            PaymentError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            PaymentError::AmountTooLarge { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            PaymentError::ChannelNotFound => StatusCode::NOT_FOUND,
            PaymentError::ChannelDisabled => StatusCode::CONFLICT,
            PaymentError::ChannelConfig(_) => StatusCode::CONFLICT,
            PaymentError::DuplicateOrder => StatusCode::CONFLICT,
            PaymentError::OrderNotFound => StatusCode::NOT_FOUND,
            PaymentError::RefundNotFound => StatusCode::NOT_FOUND,
            PaymentError::NotAllowed(_) => StatusCode::CONFLICT,
            PaymentError::RefundForbidden => StatusCode::FORBIDDEN,
            PaymentError::ApprovalRefused(_) => StatusCode::CONFLICT,
            PaymentError::ProviderRefused { .. } => StatusCode::PAYMENT_REQUIRED,
            PaymentError::ProviderUnavailable { .. } => {
                tracing::warn!(error = %e, "provider unavailable during a merchant API request");
                return ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_unavailable",
                    "the payment provider could not be reached; try again later",
                );
            }
            PaymentError::Internal(_) => return ApiError::internal(&e),
        };
        let message = match &e {
            // The channel's configuration problem is for the admin's log, not the caller.
            PaymentError::ChannelConfig(_) => {
                tracing::warn!(error = %e, "channel misconfigured during a merchant API request");
                "the channel is misconfigured; ask the paydesk admin".to_string()
            }
            _ => e.to_string(),
        };
        ApiError::new(status, e.code(), message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"paydesk\""),
            );
        }
        resp
    }
}

impl ApiError {
    pub fn with_code(mut self, code: &'static str) -> ApiError {
        self.code = code;
        self
    }
}
