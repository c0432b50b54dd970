//! Refunds through the API: `POST /api/v1/orders/{out_trade_no}/refunds` and
//! `GET /api/v1/refunds/{out_refund_no}`, for the key's own orders only.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paydesk_core::money::Money;
use paydesk_core::payments::{NumberKind, RefundInput, key_scoped_number};
use paydesk_core::store::Refund;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::ApiKey;
use super::error::ApiError;
use super::orders::owned_order;
use super::parse_json;
use crate::startup::AppState;

pub fn refund_json(r: &Refund, out_trade_no: &str) -> Value {
    json!({
        "out_refund_no": r.merchant_facing_no(),
        "out_trade_no": out_trade_no,
        "amount": r.amount.minor(),
        "currency": r.amount.currency().code(),
        "status": r.status.as_str(),
        "reason": r.reason,
        "failure_reason": r.failure_reason,
        // `awaiting` until an admin approves (then it is sent) or rejects (then failed);
        // null when the refund needed no approval.
        "approval": r.approval.as_ref().map(|a| a.state.as_str()),
        "created_at": r.created_at,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// Integer minor units, in the order's currency.
    amount: i64,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    out_refund_no: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    Path(out_trade_no): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: CreateRefund = parse_json(body)?;
    let order = owned_order(&state, &key, &out_trade_no).await?;
    let amount = Money::new(req.amount, order.amount.currency())
        .map_err(|e| ApiError::invalid(format!("invalid amount: {e}")))?;
    // Asking again with the same out_refund_no returns the refund made the first time.
    let existed = match &req.out_refund_no {
        Some(n) => state
            .store
            .refund(&key_scoped_number(key.id(), NumberKind::Refund, n))
            .await?
            .is_some_and(|r| r.order_id == order.id),
        None => false,
    };
    let refund = state
        .payments
        .refund(
            &order.out_trade_no,
            RefundInput {
                amount,
                reason: req.reason,
                out_refund_no: req.out_refund_no,
            },
            &key.cause(),
        )
        .await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(refund_json(&refund, order.merchant_facing_no())),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    key: ApiKey,
    Path(out_refund_no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let scoped = key_scoped_number(key.id(), NumberKind::Refund, &out_refund_no);
    let refund = match state.store.refund(&scoped).await? {
        Some(r) => r,
        // Refunds requested without a number carry the one paydesk generated.
        None => state
            .store
            .refund(&out_refund_no)
            .await?
            .filter(|r| r.merchant_no.is_none())
            .ok_or_else(ApiError::refund_not_found)?,
    };
    let order = state.store.order_by_id(&refund.order_id).await?;
    if order.api_key_id.as_deref() != Some(key.id()) {
        return Err(ApiError::refund_not_found());
    }
    crate::telemetry::record_order(&order.out_trade_no);
    Ok(Json(refund_json(&refund, order.merchant_facing_no())))
}
