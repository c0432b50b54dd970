//! `/api/v1/orders…`: create a QR checkout, read, list and close the key's own orders.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paydesk_core::jobs::merchant_notify::validate_notify_url;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::OrderStatus;
use paydesk_core::payment_code::PaymentCode;
use paydesk_core::payments::{
    CheckoutRequest, CodePayOutcome, CodePaymentRequest, NumberKind, key_scoped_number,
};
use paydesk_core::role::{OrderPurpose, Viewer, visible_to};
use paydesk_core::store::{Order, OrderFilter, Transition};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::ApiKey;
use super::error::ApiError;
use super::parse_json;
use crate::startup::AppState;

/// The order as the API shows it. Amounts in minor units; times in Unix milliseconds.
pub fn order_json(o: &Order) -> Value {
    json!({
        "out_trade_no": o.merchant_facing_no(),
        "channel": o.channel,
        "status": o.status.as_str(),
        "amount": o.amount.minor(),
        "currency": o.amount.currency().code(),
        "subject": o.subject,
        "qr_code": o.qr_code,
        "pay_method": o.pay_method.as_str(),
        "provider_trade_no": o.provider_trade_no,
        "refunded_amount": o.refunded_minor,
        "refundable_amount": o.refundable_minor(),
        "created_at": o.created_at,
        "expires_at": o.expires_at,
        "paid_at": o.paid_at,
        "closed_at": o.closed_at,
    })
}

/// The order this key knows as `no` (a number it chose, or one paydesk generated for it);
/// any other order does not exist for it.
pub async fn owned_order(state: &AppState, key: &ApiKey, no: &str) -> Result<Order, ApiError> {
    let scoped = key_scoped_number(key.id(), NumberKind::Order, no);
    let order = match state.store.order(&scoped).await? {
        Some(o) => Some(o),
        // Orders created without a number carry the one paydesk generated.
        None => state
            .store
            .order(no)
            .await?
            .filter(|o| o.merchant_no.is_none()),
    };
    match order {
        Some(o)
            if visible_to(
                Viewer::ApiKey(key.id()),
                OrderPurpose::Service,
                &o.creator,
                o.api_key_id.as_deref(),
            ) =>
        {
            crate::telemetry::record_order(&o.out_trade_no);
            Ok(o)
        }
        _ => Err(ApiError::order_not_found()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// Required for QR orders; with `auth_code`, optional (the code's wallet picks it).
    #[serde(default)]
    channel: Option<String>,
    /// Integer minor units (fen, cents).
    amount: i64,
    currency: String,
    subject: String,
    #[serde(default)]
    out_trade_no: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    notify_url: Option<String>,
    /// The customer's payment code (付款码) scanned at the till: charge it instead of
    /// making a QR code.
    #[serde(default)]
    auth_code: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: CreateOrder = parse_json(body)?;
    let currency = Currency::from_code(&req.currency)
        .map_err(|_| ApiError::invalid("invalid currency: not a supported ISO 4217 code"))?;
    let amount = Money::new(req.amount, currency)
        .map_err(|e| ApiError::invalid(format!("invalid amount: {e}")))?;
    if let Some(url) = &req.notify_url {
        validate_notify_url(url)
            .map_err(|e| ApiError::invalid(format!("invalid notify_url: {e}")))?;
    }
    if let Some(code) = req.auth_code {
        return pay_by_code(
            &state,
            &key,
            req.channel,
            amount,
            req.subject,
            req.out_trade_no,
            req.notify_url,
            &code,
        )
        .await;
    }
    let Some(channel) = req.channel else {
        return Err(ApiError::invalid(
            "invalid channel: required (or give auth_code to charge the customer's payment code)",
        ));
    };
    let order = state
        .payments
        .create_checkout(CheckoutRequest {
            channel,
            amount,
            subject: req.subject,
            out_trade_no: req.out_trade_no,
            expires_in_secs: req.expires_in,
            merchant_notify_url: req.notify_url,
            api_key_id: Some(key.id().to_string()),
            cause: key.cause(),
        })
        .await?;
    crate::telemetry::record_order(&order.out_trade_no);
    Ok((StatusCode::CREATED, Json(order_json(&order))))
}

/// `POST /api/v1/orders` with `auth_code`: the answer's `pay_result` is `paid`,
/// `user_paying` (the customer confirms in the wallet: poll `GET /api/v1/orders/{no}`) or
/// `declined` (with the provider's `decline_code` and message; nothing was charged).
#[allow(clippy::too_many_arguments)]
async fn pay_by_code(
    state: &AppState,
    key: &ApiKey,
    channel: Option<String>,
    amount: Money,
    subject: String,
    out_trade_no: Option<String>,
    notify_url: Option<String>,
    code: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let code = PaymentCode::parse(code)
        .map_err(|e| ApiError::invalid(format!("invalid auth_code: {e}")))?;
    let (order, outcome) = state
        .payments
        .pay_by_code(CodePaymentRequest {
            channel,
            amount,
            subject,
            code,
            out_trade_no,
            merchant_notify_url: notify_url,
            api_key_id: Some(key.id().to_string()),
            cause: key.cause(),
        })
        .await?;
    crate::telemetry::record_order(&order.out_trade_no);
    let mut body = order_json(&order);
    body["pay_result"] = match &outcome {
        CodePayOutcome::Paid => "paid".into(),
        CodePayOutcome::UserPaying => "user_paying".into(),
        CodePayOutcome::Declined { code, message } => {
            body["decline_code"] = code.clone().into();
            body["decline_message"] = message.clone().into();
            "declined".into()
        }
    };
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn get(
    State(state): State<AppState>,
    key: ApiKey,
    Path(out_trade_no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let order = owned_order(&state, &key, &out_trade_no).await?;
    Ok(Json(order_json(&order)))
}

pub async fn close(
    State(state): State<AppState>,
    key: ApiKey,
    Path(out_trade_no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let order = owned_order(&state, &key, &out_trade_no).await?;
    match state
        .payments
        .close(&order.out_trade_no, &key.cause())
        .await?
    {
        Transition::Refused { reason, .. } => {
            Err(ApiError::new(StatusCode::CONFLICT, "not_allowed", reason))
        }
        // Paid in the meantime (found by the query before closing): the order says so.
        t => Ok(Json(order_json(t.order()))),
    }
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    status: Option<String>,
    /// created_at >= from (Unix ms)
    from: Option<i64>,
    /// created_at < to (Unix ms)
    to: Option<i64>,
    cursor: Option<String>,
    limit: Option<i64>,
}

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

fn encode_cursor(o: &Order) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", o.created_at, o.id))
}

fn decode_cursor(c: &str) -> Option<(i64, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (at, id) = raw.split_once(':')?;
    Some((at.parse().ok()?, id.to_string()))
}

pub async fn list(
    State(state): State<AppState>,
    key: ApiKey,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(p) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let status = p
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<OrderStatus>())
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    let after = p
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| decode_cursor(c).ok_or_else(|| ApiError::bad_request("invalid cursor")))
        .transpose()?;
    let orders = state
        .store
        .list_orders(&OrderFilter {
            status,
            channel: None,
            api_key_id: Some(key.id().to_string()),
            from_ms: p.from,
            to_ms: p.to,
            after,
            limit,
        })
        .await?;
    let next_cursor = (orders.len() as i64 == limit)
        .then(|| orders.last().map(encode_cursor))
        .flatten();
    Ok(Json(json!({
        "data": orders.iter().map(order_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let raw = URL_SAFE_NO_PAD.encode("1763900000123:0b5c-id");
        assert_eq!(
            decode_cursor(&raw),
            Some((1_763_900_000_123, "0b5c-id".to_string()))
        );
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("x:y")), None);
    }
}
