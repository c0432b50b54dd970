//! "Test connection": one harmless call (query an order number that cannot exist) and a
//! plain verdict an admin can act on. Nothing secret is kept: only the verdict.

use crate::provider::{ProviderError, TradeRef, VerifyError};

/// What a connection test found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionCheck {
    /// The gateway answered (normally "no such order") and its answer verified.
    Ok,
    /// The account is not allowed to use this product/API.
    ProductNotEnabled,
    /// The gateway's answer did not verify, or came signed with a key we do not know.
    BadSignature,
    /// Timestamps disagree by more than the allowed window: check the server clock.
    ClockSkew,
    /// The gateway refused our key or signature, or a key in the channel is unusable.
    BadKey,
    /// No answer: wrong URL, DNS, firewall, or the gateway is down.
    Unreachable,
    /// Anything else (the details are in the server log).
    Other,
}

impl ConnectionCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionCheck::Ok => "ok",
            ConnectionCheck::ProductNotEnabled => "product_not_enabled",
            ConnectionCheck::BadSignature => "bad_signature",
            ConnectionCheck::ClockSkew => "clock_skew",
            ConnectionCheck::BadKey => "bad_key",
            ConnectionCheck::Unreachable => "unreachable",
            ConnectionCheck::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectionCheck> {
        [
            ConnectionCheck::Ok,
            ConnectionCheck::ProductNotEnabled,
            ConnectionCheck::BadSignature,
            ConnectionCheck::ClockSkew,
            ConnectionCheck::BadKey,
            ConnectionCheck::Unreachable,
            ConnectionCheck::Other,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Reads the outcome of the probe query.
    pub fn from_result<T>(r: &Result<T, ProviderError>) -> ConnectionCheck {
        match r {
            Ok(_) => ConnectionCheck::Ok,
            Err(e) => ConnectionCheck::of_error(e),
        }
    }

    /// What a provider's error says about the channel's connection (for a checkout the
    /// provider refused as much as for "Test connection").
    pub fn of_error(e: &ProviderError) -> ConnectionCheck {
        match e {
            ProviderError::Transport(_) => ConnectionCheck::Unreachable,
            ProviderError::Config(_) => ConnectionCheck::BadKey,
            ProviderError::Verify(VerifyError::StaleTimestamp) => ConnectionCheck::ClockSkew,
            ProviderError::Verify(_) => ConnectionCheck::BadSignature,
            ProviderError::Http { status, code, .. } => {
                from_code(code.as_deref().unwrap_or(""), Some(*status))
            }
            ProviderError::Business { code, sub_code, .. } => {
                from_code(sub_code.as_deref().unwrap_or(code), None)
            }
            _ => ConnectionCheck::Other,
        }
    }
}

/// Error codes of the three gateways. "No such order" is the answer we hope for: the
/// gateway accepted our credentials and looked the order up.
fn from_code(code: &str, status: Option<u16>) -> ConnectionCheck {
    const NOT_FOUND: [&str; 5] = [
        "ORDER_NOT_EXIST",
        "ORDERNOTEXIST",
        "RESOURCE_NOT_EXISTS",
        "ACQ.TRADE_NOT_EXIST",
        "resource_missing",
    ];
    const NOT_ENABLED: [&str; 6] = [
        "NO_AUTH",
        "ACQ.ACCESS_FORBIDDEN",
        "isv.insufficient-isv-permissions",
        "isv.app-unbind-partner",
        "INVALID_REQUEST_NO_AUTH",
        "account_invalid",
    ];
    const BAD_KEY: [&str; 6] = [
        "SIGN_ERROR",
        "isv.invalid-signature",
        "isv.invalid-app-id",
        "isv.invalid-app-cert-sn",
        "api_key_invalid",
        "authentication_required",
    ];
    if NOT_FOUND.contains(&code) {
        ConnectionCheck::Ok
    } else if NOT_ENABLED.contains(&code) {
        ConnectionCheck::ProductNotEnabled
    } else if BAD_KEY.contains(&code) || status == Some(401) {
        ConnectionCheck::BadKey
    } else if status == Some(404) && code.is_empty() {
        // An HTML 404 from something that is not the gateway: wrong base URL.
        ConnectionCheck::Unreachable
    } else {
        ConnectionCheck::Other
    }
}

/// The order the probe asks about: a number paydesk never issues.
pub fn probe_trade() -> TradeRef {
    TradeRef {
        out_trade_no: "PDCONNTEST0000000000".to_string(),
        // Stripe looks Checkout Sessions up by id.
        provider_ref: Some("cs_paydesk_connection_test".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_round_trip_and_map_errors() {
        for c in ["ok", "bad_key", "clock_skew", "unreachable"] {
            assert_eq!(ConnectionCheck::parse(c).map(|c| c.as_str()), Some(c));
        }
        let http = |status, code: &str| {
            ConnectionCheck::from_result::<()>(&Err(ProviderError::Http {
                status,
                code: Some(code.into()),
                message: String::new(),
            }))
        };
        assert_eq!(http(404, "ORDER_NOT_EXIST"), ConnectionCheck::Ok);
        assert_eq!(http(401, "SIGN_ERROR"), ConnectionCheck::BadKey);
        assert_eq!(http(403, "NO_AUTH"), ConnectionCheck::ProductNotEnabled);
        assert_eq!(
            ConnectionCheck::from_result::<()>(&Err(ProviderError::Verify(
                VerifyError::StaleTimestamp
            ))),
            ConnectionCheck::ClockSkew
        );
        assert_eq!(
            ConnectionCheck::from_result::<()>(&Err(ProviderError::Transport("x".into()))),
            ConnectionCheck::Unreachable
        );
    }
}
