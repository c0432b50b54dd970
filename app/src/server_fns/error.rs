//! The one error type of the server-function boundary. Every server function returns
//! `Result<T, AppError>`; the page picks the localised message with a `match` on the
//! variant (`Messages::app_error` and the pages' own refinements), never on a string.
//!
//! On the wire it is JSON (`"not_found"`, `{"invalid":"bad_date"}`, and
//! `{"server_fn":{"Args":"…"}}` for the framework's own errors). An internal failure
//! travels as the bare `"internal"`: its details stay in the server's log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum AppError {
    /// Nobody is signed in (401).
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller's role may not do this (403).
    #[error("forbidden")]
    Forbidden,
    /// No such thing, or not one the caller may see (404; never "exists but not yours").
    #[error("not_found")]
    NotFound,
    /// An argument the caller sent does not parse (400).
    #[error("invalid: {0}")]
    Invalid(BadInput),
    /// Our failure (500). Logged on the server; the page shows a generic message.
    #[error("internal")]
    Internal,
    /// The server-function machinery itself: the request did not reach the function
    /// (network, malformed or missing arguments, unreadable answer).
    #[error(transparent)]
    ServerFn(ServerFnErrorErr),
}

/// Which argument of a list's filter does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum BadInput {
    /// An order or refund status that does not exist.
    #[error("bad_status")]
    #[serde(rename = "bad_status")]
    Status,
    /// A currency code paydesk does not know.
    #[error("bad_currency")]
    #[serde(rename = "bad_currency")]
    Currency,
    /// An amount that is not a decimal in the currency.
    #[error("bad_amount")]
    #[serde(rename = "bad_amount")]
    Amount,
    /// A date that is not a real `YYYY-MM-DD`.
    #[error("bad_date")]
    #[serde(rename = "bad_date")]
    Date,
    /// A paging cursor paydesk did not hand out.
    #[error("bad_cursor")]
    #[serde(rename = "bad_cursor")]
    Cursor,
    /// A notification verdict or delivery status that does not exist (the logs' filters).
    #[error("bad_filter")]
    #[serde(rename = "bad_filter")]
    Filter,
    /// The search box's text does not parse (`order_query`; the orders page shows where).
    #[error("bad_query")]
    #[serde(rename = "bad_query")]
    Query,
}

impl From<BadInput> for AppError {
    fn from(b: BadInput) -> Self {
        AppError::Invalid(b)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}

impl AppError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 400,
            AppError::Internal | AppError::ServerFn(_) => 500,
        }
    }

    /// True when the caller's request was malformed before it reached the function
    /// (arguments that do not parse or are missing): the caller's mistake, not ours.
    pub fn is_bad_arguments(&self) -> bool {
        matches!(
            self,
            AppError::ServerFn(
                ServerFnErrorErr::Args(_)
                    | ServerFnErrorErr::MissingArg(_)
                    | ServerFnErrorErr::Deserialization(_)
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::{Decodes, Encodes};

    fn wire(e: &AppError) -> String {
        let bytes = <JsonEncoding as Encodes<AppError>>::encode(e).expect("encodes");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn the_wire_names_the_variant_and_nothing_more() {
        assert_eq!(wire(&AppError::Unauthenticated), r#""unauthenticated""#);
        assert_eq!(wire(&AppError::NotFound), r#""not_found""#);
        assert_eq!(wire(&AppError::Internal), r#""internal""#);
        assert_eq!(
            wire(&AppError::Invalid(BadInput::Date)),
            r#"{"invalid":"bad_date"}"#
        );
        assert_eq!(
            wire(&AppError::ServerFn(ServerFnErrorErr::MissingArg(
                "no".into()
            ))),
            r#"{"server_fn":{"MissingArg":"no"}}"#
        );
    }

    #[test]
    fn every_variant_reads_back() {
        for e in [
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::Invalid(BadInput::Cursor),
            AppError::Internal,
            AppError::ServerFn(ServerFnErrorErr::Args("x".into())),
        ] {
            let bytes = <JsonEncoding as Encodes<AppError>>::encode(&e).expect("encodes");
            let back: AppError =
                <JsonEncoding as Decodes<AppError>>::decode(bytes).expect("decodes");
            assert_eq!(back, e);
        }
    }

    #[test]
    fn argument_errors_are_the_callers() {
        assert!(AppError::ServerFn(ServerFnErrorErr::Args("bad".into())).is_bad_arguments());
        assert!(
            AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("no".into()))
                .is_bad_arguments()
        );
        assert!(!AppError::Internal.is_bad_arguments());
        assert!(!AppError::Invalid(BadInput::Status).is_bad_arguments());
        assert_eq!(AppError::from(BadInput::Amount).status(), 400);
    }

    #[test]
    fn codes_read_as_before_in_logs_and_the_export() {
        assert_eq!(BadInput::Status.to_string(), "bad_status");
        assert_eq!(AppError::NotFound.to_string(), "not_found");
    }
}
