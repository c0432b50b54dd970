//! The APIv3 wire helpers the client's calls share: error answers, order numbers in paths,
//! amounts in fen, JSON bodies.

use serde_json::Value;

use crate::money::{Currency, Money};
use crate::provider::http::IncomingResponse;
use crate::provider::{ProviderError, json_str};

/// The provider's error for a non-2xx answer.
pub(super) fn api_error(resp: &IncomingResponse) -> Option<ProviderError> {
    if resp.is_success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    Some(ProviderError::Http {
        status: resp.status,
        code: json_str(&v, "code").map(str::to_string),
        message: json_str(&v, "message").unwrap_or("").to_string(),
    })
}

/// The `code` of an error answer, for the call record.
pub(super) fn error_code(resp: &IncomingResponse) -> Option<String> {
    let v: Value = serde_json::from_slice(&resp.body).ok()?;
    json_str(&v, "code").map(str::to_string)
}

/// WeChat limits order and refund numbers to `[0-9A-Za-z_\-|*]`; checking this also makes
/// them safe as URL path segments without escaping.
pub(super) fn path_segment(s: &str) -> Result<&str, ProviderError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'));
    if ok {
        Ok(s)
    } else {
        Err(ProviderError::Config(
            "order/refund number must match [0-9A-Za-z_-|*]{1,64}".into(),
        ))
    }
}

pub(super) fn cny_minor(m: &Money) -> Result<i64, ProviderError> {
    if m.currency() != Currency::Cny {
        return Err(ProviderError::Unsupported("wechat pay charges in CNY only"));
    }
    Ok(m.minor())
}

/// A 2xx answer's body.
pub(super) fn parse_json(resp: &IncomingResponse) -> Result<Value, ProviderError> {
    serde_json::from_slice(&resp.body)
        .map_err(|_| ProviderError::Protocol("response is not JSON".into()))
}
