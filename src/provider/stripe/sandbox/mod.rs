//! Stripe API sandbox (routes relative to the API root: `/v1/…`).
//!
//! Checks `Authorization: Bearer <secret key>`, decodes form bodies, and honours
//! `Idempotency-Key` like Stripe: the same key with the same parameters replays the first
//! answer (`Idempotent-Replayed: true`), with different parameters it is an
//! `idempotency_error`. Unlike Stripe, this sandbox *requires* the key on every POST, because
//! paydesk promises to always send one. Events are signed with the webhook secret.

mod idempotency;
pub mod keys;

use idempotency::{Replays, idempotent_post};

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::money::{Currency, Money};
use crate::provider::crypto::ct_eq;
use crate::provider::secret::SecretString;
use crate::provider::stripe::webhook::sign_header;
use crate::provider::{SharedClock, form};
use crate::sandbox::{Ledger, LedgerError, OrderState, SandboxOrder, SandboxRefund};

pub struct StripeSandbox {
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
    /// Base of the wallet page the session URL points to.
    pub pay_base_url: String,
    pub ledger: Ledger,
    /// Where events go: Stripe takes webhook endpoints from its dashboard, not from the API
    /// request, so the sandbox has one configured endpoint ('' until the set sets it).
    pub webhook_url: String,
    pub clock: SharedClock,
    /// Held across the request it guards, so two requests with one key run one at a time
    /// in this process (a tokio lock: the order book is awaited while it is held).
    idempotency: tokio::sync::Mutex<Replays>,
}

impl StripeSandbox {
    pub fn new(
        secret_key: SecretString,
        webhook_secret: SecretString,
        pay_base_url: String,
        clock: SharedClock,
    ) -> StripeSandbox {
        StripeSandbox {
            secret_key,
            webhook_secret,
            pay_base_url,
            ledger: Ledger::default(),
            webhook_url: String::new(),
            clock,
            idempotency: tokio::sync::Mutex::new(Replays::Memory(HashMap::new())),
        }
    }

    /// Keeps idempotency keys in `store` instead of memory (the server's sandbox).
    pub fn keep_idempotency_keys_in(&mut self, store: crate::store::Store) {
        self.idempotency = tokio::sync::Mutex::new(Replays::Durable(store));
    }
}

pub fn router(sb: Arc<StripeSandbox>) -> Router {
    Router::new().fallback(handle).with_state(sb)
}

type Reply = (StatusCode, Value);

fn err(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Reply {
    let mut e = json!({ "type": kind, "message": message });
    if let Some(c) = code {
        e["code"] = c.into();
    }
    (status, json!({ "error": e }))
}

fn ledger_err(e: &LedgerError) -> Reply {
    let bad = StatusCode::BAD_REQUEST;
    match e {
        LedgerError::NotFound => err(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            "No such object",
        ),
        LedgerError::Conflict => err(
            bad,
            "invalid_request_error",
            Some("parameter_invalid"),
            "Conflicting order",
        ),
        LedgerError::Closed => err(
            bad,
            "invalid_request_error",
            Some("checkout_session_expired"),
            "This Checkout Session is expired",
        ),
        LedgerError::AlreadyPaid => err(
            bad,
            "invalid_request_error",
            Some("checkout_session_complete"),
            "This Checkout Session is already complete",
        ),
        LedgerError::NotPaid => err(
            bad,
            "invalid_request_error",
            Some("charge_not_found"),
            "This PaymentIntent has no successful charge",
        ),
        LedgerError::RefundExceedsAmount => err(
            bad,
            "invalid_request_error",
            Some("amount_too_large"),
            "Refund amount is greater than unrefunded amount on charge",
        ),
        LedgerError::InsufficientBalance => err(
            bad,
            "invalid_request_error",
            Some("balance_insufficient"),
            "Insufficient available balance",
        ),
        LedgerError::Money(_) => err(
            bad,
            "invalid_request_error",
            Some("parameter_invalid_integer"),
            "Invalid amount",
        ),
        LedgerError::Unavailable => err(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            None,
            "An error occurred with our connection to Stripe. Please retry.",
        ),
    }
}

impl StripeSandbox {
    fn session_json(&self, o: &SandboxOrder) -> Value {
        let (status, paid) = match o.state {
            OrderState::Pending => ("open", "unpaid"),
            OrderState::Paid => ("complete", "paid"),
            OrderState::Closed => ("expired", "unpaid"),
        };
        json!({
            "id": o.code,
            "object": "checkout.session",
            "mode": "payment",
            "url": if o.state == OrderState::Pending { Value::String(self.session_url(o)) } else { Value::Null },
            "status": status,
            "payment_status": paid,
            "amount_total": o.amount.minor(),
            "currency": o.amount.currency().lower_code(),
            "client_reference_id": o.out_trade_no,
            "metadata": { "out_trade_no": o.out_trade_no },
            "payment_intent": if o.state == OrderState::Paid { Value::String(o.trade_no.clone()) } else { Value::Null },
        })
    }

    pub fn session_url(&self, o: &SandboxOrder) -> String {
        format!("{}/{}", self.pay_base_url.trim_end_matches('/'), o.code)
    }

    async fn create_session(&self, p: &HashMap<String, String>) -> Reply {
        let g = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
        let bad = |m: &str| {
            err(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("parameter_missing"),
                m,
            )
        };
        if g("mode") != "payment" {
            return bad("Missing required param: mode.");
        }
        if g("success_url").is_empty() {
            return bad("Missing required param: success_url.");
        }
        let Ok(currency) = Currency::from_code(g("line_items[0][price_data][currency]")) else {
            return bad("Invalid currency.");
        };
        let Some(Ok(amount)) = g("line_items[0][price_data][unit_amount]")
            .parse::<i64>()
            .ok()
            .map(|m| Money::new(m, currency))
        else {
            return bad("Invalid unit_amount.");
        };
        if g("line_items[0][quantity]") != "1" {
            return bad("This sandbox supports quantity=1 only.");
        }
        let reference = g("client_reference_id");
        if reference.is_empty() {
            return bad("Missing client_reference_id.");
        }
        match self
            .ledger
            .create(
                "pi_",
                "cs_test_",
                reference,
                amount,
                g("line_items[0][price_data][product_data][name]"),
                "",
            )
            .await
        {
            Ok(o) => (StatusCode::OK, self.session_json(&o)),
            Err(e) => ledger_err(&e),
        }
    }

    async fn refund(&self, p: &HashMap<String, String>) -> Reply {
        let g = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
        let o = match self.ledger.with_trade_no(g("payment_intent")).await {
            Ok(Some(o)) => o,
            Ok(None) => return ledger_err(&LedgerError::NotFound),
            Err(e) => return ledger_err(&e),
        };
        let amount = match g("amount") {
            "" => o.refunded().and_then(|r| o.amount.checked_sub(r)),
            a => a
                .parse::<i64>()
                .map_err(|_| crate::money::MoneyError::Malformed)
                .and_then(|m| Money::new(m, o.amount.currency())),
        };
        let Ok(amount) = amount else {
            return ledger_err(&LedgerError::Money(crate::money::MoneyError::Malformed));
        };
        let out_refund_no = match g("metadata[out_refund_no]") {
            "" => format!("auto_{}", crate::provider::crypto::random_alnum(12)),
            n => n.to_string(),
        };
        match self
            .ledger
            .refund(&o.out_trade_no, &out_refund_no, amount)
            .await
        {
            Ok((o, r)) => (StatusCode::OK, refund_json(&o, &r)),
            Err(e) => ledger_err(&e),
        }
    }

    async fn route(&self, method: &Method, path: &str, p: &HashMap<String, String>) -> Reply {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method.as_str(), segs.as_slice()) {
            ("POST", ["v1", "checkout", "sessions"]) => self.create_session(p).await,
            ("GET", ["v1", "checkout", "sessions", id]) => match self.ledger.find_by_code(id).await
            {
                Ok(Some(o)) => (StatusCode::OK, self.session_json(&o)),
                Ok(None) => ledger_err(&LedgerError::NotFound),
                Err(e) => ledger_err(&e),
            },
            ("POST", ["v1", "checkout", "sessions", id, "expire"]) => {
                let o = match self.ledger.find_by_code(id).await {
                    Ok(Some(o)) => o,
                    Ok(None) => return ledger_err(&LedgerError::NotFound),
                    Err(e) => return ledger_err(&e),
                };
                if o.state == OrderState::Closed {
                    return ledger_err(&LedgerError::Closed);
                }
                match self.ledger.close(&o.out_trade_no).await {
                    Ok(o) => (StatusCode::OK, self.session_json(&o)),
                    Err(e) => ledger_err(&e),
                }
            }
            ("POST", ["v1", "refunds"]) => self.refund(p).await,
            ("GET", ["v1", "refunds"]) => {
                let pi = p.get("payment_intent").map(String::as_str).unwrap_or("");
                let data: Vec<Value> = match self.ledger.with_trade_no(pi).await {
                    Ok(o) => o
                        .map(|o| o.refunds.iter().map(|r| refund_json(&o, r)).collect())
                        .unwrap_or_default(),
                    Err(e) => return ledger_err(&e),
                };
                (
                    StatusCode::OK,
                    json!({ "object": "list", "data": data, "has_more": false }),
                )
            }
            ("GET", ["v1", "refunds", id]) => match self.ledger.find_refund(id).await {
                Ok(Some((o, r))) => (StatusCode::OK, refund_json(&o, &r)),
                Ok(None) => ledger_err(&LedgerError::NotFound),
                Err(e) => ledger_err(&e),
            },
            _ => err(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                None,
                "Unrecognized request URL",
            ),
        }
    }

    fn event(&self, kind: &str, object: Value) -> (String, Vec<u8>) {
        let now = self.clock.now_unix();
        let body = json!({
            "id": format!("evt_{}", crate::provider::crypto::random_alnum(24)),
            "object": "event",
            "type": kind,
            "created": now,
            "livemode": false,
            "data": { "object": object },
        })
        .to_string()
        .into_bytes();
        (sign_header(self.webhook_secret.expose(), now, &body), body)
    }

    /// `Stripe-Signature` header and body of `checkout.session.completed`.
    pub fn paid_event(&self, o: &SandboxOrder) -> (String, Vec<u8>) {
        self.event("checkout.session.completed", self.session_json(o))
    }

    /// `Stripe-Signature` header and body of `refund.updated` (succeeded).
    pub fn refund_event(&self, o: &SandboxOrder, r: &SandboxRefund) -> (String, Vec<u8>) {
        self.event("refund.updated", refund_json(o, r))
    }
}

fn refund_json(o: &SandboxOrder, r: &SandboxRefund) -> Value {
    json!({
        "id": r.refund_id,
        "object": "refund",
        "amount": r.amount.minor(),
        "currency": r.amount.currency().lower_code(),
        "payment_intent": o.trade_no,
        "status": "succeeded",
        "metadata": { "out_trade_no": o.out_trade_no, "out_refund_no": r.out_refund_no },
    })
}

fn reply(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if replayed && let Ok(v) = "true".parse() {
        resp.headers_mut().insert("Idempotent-Replayed", v);
    }
    resp
}

async fn handle(
    State(sb): State<Arc<StripeSandbox>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !ct_eq(bearer.as_bytes(), sb.secret_key.expose().as_bytes()) {
        let (s, v) = err(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "Invalid API Key provided",
        );
        return reply(s, v.to_string(), false);
    }
    let raw = if method == Method::GET {
        uri.query().unwrap_or("").as_bytes().to_vec()
    } else {
        body.to_vec()
    };
    let Ok(pairs) = form::decode(&raw) else {
        let (s, v) = err(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "Invalid form encoding",
        );
        return reply(s, v.to_string(), false);
    };
    let params: HashMap<String, String> = pairs.into_iter().collect();
    if method == Method::POST {
        let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
            let (s, v) = err(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                "This sandbox requires an Idempotency-Key on every POST",
            );
            return reply(s, v.to_string(), false);
        };
        return idempotent_post(&sb, &method, &uri, key, raw, &params).await;
    }
    let (status, v) = sb.route(&method, uri.path(), &params).await;
    reply(status, v.to_string(), false)
}

impl crate::sandbox::set::SandboxGateway for StripeSandbox {
    fn routes(self: Arc<Self>) -> axum::Router {
        router(self)
    }

    fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn notify_url<'a>(&'a self, _o: &'a SandboxOrder) -> &'a str {
        &self.webhook_url
    }

    fn paid_notify(&self, o: &SandboxOrder) -> (Vec<(String, String)>, Vec<u8>) {
        let (sig, body) = self.paid_event(o);
        let headers = vec![
            ("Stripe-Signature".to_string(), sig),
            (
                "Content-Type".to_string(),
                "application/json; charset=utf-8".to_string(),
            ),
        ];
        (headers, body)
    }
}
