//! The Stripe sandbox's `Idempotency-Key` replays: the first answer to a POST is kept (in
//! memory, or in the database so a retry after a restart or on another instance is still
//! replayed) and sent again for the same parameters; other parameters are an
//! `idempotency_error`.

use std::collections::HashMap;

use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;

use super::{StripeSandbox, err, ledger_err, reply};
use crate::sandbox::LedgerError;

/// What Stripe keeps per idempotency key: the request parameters and the answer.
pub(super) type StoredResult = (Vec<u8>, StatusCode, String);

/// Where the answers to replay are kept: in memory (a stand-alone sandbox), or in the
/// database, so a request retried after a restart or sent to another instance is still
/// replayed (`sandbox_idempotency`).
pub(super) enum Replays {
    Memory(HashMap<String, StoredResult>),
    Durable(crate::store::Store),
}

impl Replays {
    async fn get(&self, scope: &str) -> Result<Option<StoredResult>, crate::store::StoreError> {
        match self {
            Replays::Memory(m) => Ok(m.get(scope).cloned()),
            Replays::Durable(store) => {
                let Some((request, status, response)) =
                    store.sandbox_idempotent_answer(scope).await?
                else {
                    return Ok(None);
                };
                let status = u16::try_from(status)
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .ok_or_else(|| crate::store::StoreError::Corrupt("replay status".into()))?;
                Ok(Some((request.into_bytes(), status, response)))
            }
        }
    }

    async fn keep(&mut self, scope: String, result: StoredResult) {
        match self {
            Replays::Memory(m) => {
                m.insert(scope, result);
            }
            Replays::Durable(store) => {
                let (request, status, response) = result;
                // Form bodies are ASCII; anything else is not kept (it would not compare
                // equal after a round trip through TEXT).
                let Ok(request) = String::from_utf8(request) else {
                    return;
                };
                let kept = store
                    .keep_sandbox_idempotent_answer(
                        &scope,
                        &request,
                        status.as_u16().into(),
                        &response,
                    )
                    .await;
                if let Err(e) = kept {
                    tracing::warn!(error = %e, "stripe sandbox: idempotent answer not kept");
                }
            }
        }
    }
}

/// A POST under an idempotency key: the stored answer again for the same parameters, an
/// `idempotency_error` for others, else the request runs and a success is kept.
pub(super) async fn idempotent_post(
    sb: &StripeSandbox,
    method: &Method,
    uri: &Uri,
    key: &str,
    raw: Vec<u8>,
    params: &HashMap<String, String>,
) -> Response {
    let scoped = format!("{} {}", uri.path(), key);
    let mut replays = sb.idempotency.lock().await;
    let stored = match replays.get(&scoped).await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::error!(error = %e, "stripe sandbox: idempotency keys unavailable");
            let (s, v) = ledger_err(&LedgerError::Unavailable);
            return reply(s, v.to_string(), false);
        }
    };
    if let Some((prev_body, status, resp)) = stored {
        if prev_body != raw {
            let (s, v) = err(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                None,
                "Keys for idempotent requests can only be used with the same parameters they were first used with",
            );
            return reply(s, v.to_string(), false);
        }
        return reply(status, resp, true);
    }
    let (status, v) = sb.route(method, uri.path(), params).await;
    let text = v.to_string();
    // Stripe does not store results of requests that failed validation (4xx).
    if status.is_success() {
        replays.keep(scoped, (raw, status, text.clone())).await;
    }
    reply(status, text, false)
}
