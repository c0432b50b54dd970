//! The payment flows, on top of the store and the provider clients: checkout ([`checkout`]),
//! inbound notifications ([`notify`]; what each one does is decided by the pure [`judge`]),
//! active queries and expiry ([`sync`]) and refunds
//! ([`refund`]). The server's notify endpoints, the merchant API, the dashboard's server
//! functions and the background jobs all call in here, so each flow exists once.

pub mod approval;
pub mod checkout;
pub mod code_pay;
pub mod judge;
pub mod notify;
pub mod refund;
pub mod sync;

use std::sync::Arc;

use crate::channel::{ChannelError, ChannelRegistry};
use crate::money::Money;
use crate::order::Cause;
use crate::provider::ProviderError;
use crate::store::{InboxWriter, Store, StoreError};

pub use checkout::CheckoutRequest;
pub use code_pay::{CodePayOutcome, CodePaymentRequest};
pub use refund::RefundInput;

/// Tunables of the flows (tests shorten them).
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    /// How long a new checkout can be paid, unless the request says otherwise.
    pub default_expiry_secs: i64,
    /// Longest expiry a request may ask for.
    pub max_expiry_secs: i64,
    /// Active-query schedule by order age: `(age below, interval)` in ms, first match wins;
    /// the last interval applies beyond.
    pub query_tiers: Vec<(i64, i64)>,
    pub query_after_tiers_ms: i64,
    /// First refund status query after an undecided refund, then doubling up to 5 min.
    pub refund_query_ms: i64,
    /// A payment by the customer's code that waits for the customer (a password) is
    /// queried this often…
    pub code_query_ms: i64,
    /// …and cancelled at the provider when still undecided after this long (Alipay
    /// suggests about 30 s of polling; the customer's code is good for about a minute).
    pub code_wait_secs: i64,
}

/// A pending order on a screen (the till's status page, the customer display) is asked
/// about at least this often, so that a customer's cancel in the wallet shows within a
/// couple of seconds; orders nobody watches keep the slower schedule.
pub const WATCHED_QUERY_MS: i64 = 1_500;

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            default_expiry_secs: 15 * 60,
            max_expiry_secs: 2 * 60 * 60,
            // Every 5 s for the first 2 min (most payers pay at once), every 15 s up to
            // 10 min, every minute up to 30 min, then every 5 min.
            query_tiers: vec![(120_000, 5_000), (600_000, 15_000), (1_800_000, 60_000)],
            query_after_tiers_ms: 300_000,
            refund_query_ms: 10_000,
            code_query_ms: 2_000,
            code_wait_secs: 60,
        }
    }
}

impl PaymentSettings {
    /// When an order created at `created_at` should next be queried after `now`.
    pub fn next_query_at(&self, created_at: i64, now: i64) -> i64 {
        let age = now - created_at;
        let interval = self
            .query_tiers
            .iter()
            .find(|(below, _)| age < *below)
            .map(|(_, every)| *every)
            .unwrap_or(self.query_after_tiers_ms);
        now + interval
    }
}

/// What can go wrong in a payment flow. [`PaymentError::code`] is stable (API error codes,
/// UI translations); messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("invalid {field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    /// Above the channel's maximum per order (`crate::limits`).
    #[error(
        "the amount is above this channel's maximum of {max} per order; split it into several payments, or ask an admin to raise the channel's limit"
    )]
    AmountTooLarge { max: Money },
    #[error("no such channel")]
    ChannelNotFound,
    #[error("the channel is disabled")]
    ChannelDisabled,
    #[error("the channel is misconfigured: {0}")]
    ChannelConfig(String),
    #[error("an order with this out_trade_no exists")]
    DuplicateOrder,
    #[error("no such order")]
    OrderNotFound,
    #[error("no such refund")]
    RefundNotFound,
    #[error("{0}")]
    NotAllowed(String),
    /// This API key's refund policy forbids refunds (`crate::approval`).
    #[error("this API key may not refund; ask an admin to change the key's refund policy")]
    RefundForbidden,
    /// An approval or rejection that the rules refuse (`crate::approval::may_decide`).
    #[error("{}", approval_refusal_text(*.0))]
    ApprovalRefused(crate::approval::DecisionRefusal),
    /// `cause`: what the refusal says about the channel (credentials refused, product not
    /// enabled, clock skew …), so the person at the checkout is told the real reason.
    #[error("the provider refused: {detail}")]
    ProviderRefused {
        detail: String,
        cause: crate::channel::ConnectionCheck,
    },
    #[error("the provider could not be reached or answered unexpectedly: {detail}")]
    ProviderUnavailable {
        detail: String,
        cause: crate::channel::ConnectionCheck,
    },
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl PaymentError {
    pub fn code(&self) -> &'static str {
        match self {
            PaymentError::Invalid { .. } => "invalid_request",
            PaymentError::AmountTooLarge { .. } => "amount_too_large",
            PaymentError::ChannelNotFound => "channel_not_found",
            PaymentError::ChannelDisabled => "channel_disabled",
            PaymentError::ChannelConfig(_) => "channel_misconfigured",
            PaymentError::DuplicateOrder => "duplicate_out_trade_no",
            PaymentError::OrderNotFound => "order_not_found",
            PaymentError::RefundNotFound => "refund_not_found",
            PaymentError::NotAllowed(_) => "not_allowed",
            PaymentError::RefundForbidden => "refund_forbidden",
            PaymentError::ApprovalRefused(r) => approval::refusal_code(*r),
            PaymentError::ProviderRefused { .. } => "provider_refused",
            PaymentError::ProviderUnavailable { .. } => "provider_unavailable",
            PaymentError::Internal(_) => "internal",
        }
    }

    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> PaymentError {
        PaymentError::Invalid {
            field,
            problem: problem.into(),
        }
    }
}

fn approval_refusal_text(r: crate::approval::DecisionRefusal) -> &'static str {
    use crate::approval::DecisionRefusal::*;
    match r {
        NotAwaiting => "this refund is not waiting for approval; reload to see its state",
        OwnRefund => "you asked for this refund, so another admin has to approve or reject it",
        NotAllowed => "your role may not approve refunds; ask an admin",
        ReasonMissing => "say why the refund is rejected",
    }
}

impl From<StoreError> for PaymentError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PaymentError::OrderNotFound,
            e => PaymentError::Internal(e),
        }
    }
}

impl From<ChannelError> for PaymentError {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::NotFound(_) | ChannelError::WrongProvider(..) => {
                PaymentError::ChannelNotFound
            }
            ChannelError::Disabled(_) => PaymentError::ChannelDisabled,
            ChannelError::Config { problem, .. } => PaymentError::ChannelConfig(problem),
            ChannelError::SandboxKeys(e) => PaymentError::ChannelConfig(e.to_string()),
            ChannelError::Store(e) => PaymentError::Internal(e),
        }
    }
}

impl From<ProviderError> for PaymentError {
    fn from(e: ProviderError) -> Self {
        let cause = crate::channel::ConnectionCheck::of_error(&e);
        match e {
            ProviderError::Business {
                code,
                sub_code,
                message,
            } => PaymentError::ProviderRefused {
                detail: match sub_code {
                    Some(s) => format!("{code}/{s}: {message}"),
                    None => format!("{code}: {message}"),
                },
                cause,
            },
            ProviderError::Http {
                status,
                code,
                message,
            } if (400..500).contains(&status) => PaymentError::ProviderRefused {
                detail: format!("HTTP {status} {}: {message}", code.unwrap_or_default()),
                cause,
            },
            ProviderError::Config(m) => PaymentError::ChannelConfig(m),
            ProviderError::Unsupported(m) => PaymentError::invalid("channel", m),
            ProviderError::Money(m) => PaymentError::invalid("amount", m.to_string()),
            other => PaymentError::ProviderUnavailable {
                detail: other.to_string(),
                cause,
            },
        }
    }
}

impl PaymentError {
    /// What a provider's refusal says about the channel, if this is one.
    pub fn provider_cause(&self) -> Option<crate::channel::ConnectionCheck> {
        match self {
            PaymentError::ProviderRefused { cause, .. }
            | PaymentError::ProviderUnavailable { cause, .. } => Some(*cause),
            _ => None,
        }
    }
}

/// The payment flows. Cheap to clone.
#[derive(Clone)]
pub struct Payments {
    pub(crate) store: Store,
    /// Batches notification writes (group commit); see `store::InboxWriter`.
    pub(crate) inbox_writer: InboxWriter,
    pub(crate) channels: Arc<ChannelRegistry>,
    pub(crate) settings: Arc<PaymentSettings>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Payments {
    pub fn new(channels: Arc<ChannelRegistry>, settings: PaymentSettings) -> Payments {
        Payments {
            store: channels.store().clone(),
            inbox_writer: InboxWriter::new(channels.store().clone()),
            channels,
            settings: Arc::new(settings),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn channels(&self) -> &Arc<ChannelRegistry> {
        &self.channels
    }

    pub fn settings(&self) -> &PaymentSettings {
        &self.settings
    }

    /// Writes an audit-log line for something a person or an API key did. The action has
    /// already happened, so a failure to record it is logged rather than undoing it.
    pub(crate) async fn audit(&self, cause: &Cause, action: &str, target: &str, detail: &str) {
        let actor = match cause {
            Cause::User(u) => u.clone(),
            Cause::ApiKey(k) => format!("api:{k}"),
            other => other.kind().to_string(),
        };
        if let Err(e) = self.store.audit(&actor, action, target, detail).await {
            tracing::warn!(error = %e, action, target, "cannot write the audit log");
        }
    }
}

/// A fresh order or refund number: `{prefix}{yyyymmddHHMMSS}{8 random}` — unique, sortable
/// by time, and within every provider's charset and length limits.
pub fn new_number(prefix: &str) -> String {
    use time::macros::format_description;
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(format_description!(
            "[year][month][day][hour][minute][second]"
        ))
        .unwrap_or_default();
    format!(
        "{prefix}{stamp}{}",
        crate::provider::crypto::random_alnum(8).to_ascii_uppercase()
    )
}

/// What a key-scoped number is for: the same merchant number may name an order and a
/// refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Order,
    Refund,
}

/// The number paydesk stores and sends to the provider for a number that a merchant API
/// key chose: `K` and 31 hex digits of SHA-256 over the key id, the kind and the number.
///
/// Why: every key shares the provider account, where numbers must be unique. Used as
/// given, one merchant system's numbers would collide with another's, and the "already
/// used" answer would tell it which numbers the other uses (or let it take them first).
/// Derived this way, each key has a namespace of its own; 32 characters of `[0-9A-Za-z]`
/// suit every provider (WeChat Pay allows 32).
pub fn key_scoped_number(api_key_id: &str, kind: NumberKind, merchant_no: &str) -> String {
    use sha2::{Digest, Sha256};
    let tag: &[u8] = match kind {
        NumberKind::Order => b"order",
        NumberKind::Refund => b"refund",
    };
    let mut h = Sha256::new();
    for part in [api_key_id.as_bytes(), tag, merchant_no.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let hex = hex::encode(h.finalize());
    format!("K{}", &hex[..31])
}

/// Merchant-chosen order/refund numbers: `[0-9A-Za-z_-]`, 6 to 32 characters (the
/// strictest provider's rule, WeChat Pay's), so any channel accepts them.
pub fn valid_number(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_scoped_numbers_differ_per_key_and_kind_and_suit_every_provider() {
        let a = key_scoped_number("key-a", NumberKind::Order, "INV-100");
        assert_eq!(a, key_scoped_number("key-a", NumberKind::Order, "INV-100"));
        assert_ne!(a, key_scoped_number("key-b", NumberKind::Order, "INV-100"));
        assert_ne!(a, key_scoped_number("key-a", NumberKind::Refund, "INV-100"));
        // Length-prefixed parts: moving a character between key and number changes it.
        assert_ne!(
            key_scoped_number("ab", NumberKind::Order, "c"),
            key_scoped_number("a", NumberKind::Order, "bc")
        );
        assert!(valid_number(&a) && a.len() == 32, "{a}");
    }

    #[test]
    fn numbers_are_valid_and_distinct() {
        let a = new_number("PD");
        let b = new_number("PD");
        assert!(valid_number(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
        for bad in ["short", "has space 1", "ünïcode12", &"x".repeat(33)] {
            assert!(!valid_number(bad), "{bad}");
        }
    }

    #[test]
    fn query_schedule_slows_down_with_age() {
        let s = PaymentSettings::default();
        assert_eq!(s.next_query_at(0, 10_000), 15_000);
        assert_eq!(s.next_query_at(0, 300_000), 315_000);
        assert_eq!(s.next_query_at(0, 1_000_000), 1_060_000);
        assert_eq!(s.next_query_at(0, 2_000_000), 2_300_000);
    }
}
