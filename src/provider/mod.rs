//! Payment provider protocols: one [`Provider`] abstraction, three implementations
//! ([`alipay`], [`wechatpay`], [`stripe`]) that sign and verify exactly like the real gateways.
//!
//! Shared pieces live in [`crypto`] (RSA/AES-GCM/HMAC/X.509), [`http`] (timeouts, retries,
//! call recording) and [`secret`] (secret types, masking). Provider modules never copy from
//! each other; anything two of them need goes into a shared module.
//!
//! Time is injected: request timestamps come from a [`Clock`], and notification verification
//! takes `now` as an argument, so every test is deterministic.

pub mod alipay;
pub mod crypto;
pub mod form;
pub mod http;
pub mod secret;
pub mod slice;
pub mod stripe;
pub mod wechatpay;
pub mod wechatpay_v2;

use std::sync::Arc;

use async_trait::async_trait;

use crate::money::{Money, MoneyError};

pub use http::{CallSink, MemorySink, NullSink, ProviderCall, for_trade};
pub use reqwest::header::HeaderMap;
pub use slice::ProviderSlice;

pub use crate::provider_kind::ProviderKind;

impl ProviderKind {
    /// The provider's implementation: **the one place a provider folder is registered**
    /// (its facts are one line in `crate::provider_kind::FACTS`).
    pub fn slice(self) -> &'static dyn ProviderSlice {
        match self {
            ProviderKind::Alipay => &alipay::slice::Alipay,
            ProviderKind::Wechatpay => &wechatpay::slice::WechatPay,
            ProviderKind::Stripe => &stripe::slice::Stripe,
            ProviderKind::WechatpayV2 => &wechatpay_v2::slice::WechatPayV2,
        }
    }

    /// See [`ProviderSlice::ack_success`].
    pub fn ack_success(self) -> NotifyAck {
        self.slice().ack_success()
    }

    /// See [`ProviderSlice::ack_failure`].
    pub fn ack_failure(self, message: &str) -> NotifyAck {
        self.slice().ack_failure(message)
    }
}

/// Source of "now" for request timestamps.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        crate::time::now_ms() / 1000
    }
}

/// A clock stuck at one instant (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// Create a QR checkout for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateQrRequest {
    /// Our order number (Alipay/WeChat `out_trade_no`; Stripe `client_reference_id`).
    pub out_trade_no: String,
    pub amount: Money,
    /// Shown to the payer (Alipay `subject`, WeChat `description`, Stripe product name).
    pub subject: String,
    /// Where the provider posts notifications:
    /// `{PAYDESK_PUBLIC_URL}/notify/{provider}/{channel}`. Stripe ignores it (webhook
    /// endpoints are configured in the Stripe dashboard).
    pub notify_url: String,
    /// Optional absolute expiry.
    pub expires_at: Option<crate::timestamp::UnixSecs>,
}

/// What to render as a QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCheckout {
    pub out_trade_no: String,
    /// Alipay `qr_code`, WeChat `code_url`, Stripe Checkout Session `url`.
    pub qr_content: String,
    /// The provider's handle for later calls when it cannot be looked up by our number
    /// (Stripe Checkout Session id `cs_…`). `None` for Alipay and WeChat.
    pub provider_ref: Option<String>,
}

/// Charge the customer's payment code (付款码): Alipay `alipay.trade.pay` with
/// `scene=bar_code`, WeChat Pay `micropay` / 付款码支付.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePayRequest {
    pub out_trade_no: String,
    pub amount: Money,
    pub subject: String,
    /// The scanned code (`auth_code`).
    pub code: crate::payment_code::PaymentCode,
    /// Where the provider posts the payment notification, if it sends one.
    pub notify_url: String,
}

/// What the provider decided when asked to charge a payment code. An answer that decides
/// nothing (a timeout, Alipay `20000`, `SYSTEMERROR`) is an `Err`: the caller queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodePayAnswer {
    /// Charged at once.
    Paid { trade_no: String, amount: Money },
    /// The customer must confirm in the wallet (a password, Alipay `10003`, WeChat
    /// `USERPAYING`): query until decided, cancel when it takes too long.
    UserPaying,
    /// Refused, nothing charged: an expired or used code, an insufficient balance. `code`
    /// is the provider's (`ACQ.PAYMENT_AUTH_CODE_INVALID`, `NOTENOUGH`).
    Declined { code: String, message: String },
}

/// Identifies one order at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeRef {
    pub out_trade_no: String,
    /// [`QrCheckout::provider_ref`] (required for Stripe).
    pub provider_ref: Option<String>,
}

impl TradeRef {
    pub fn new(out_trade_no: impl Into<String>) -> TradeRef {
        TradeRef {
            out_trade_no: out_trade_no.into(),
            provider_ref: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeState {
    /// Created, not (yet) paid.
    Pending,
    Paid,
    /// Closed or expired without payment, or fully refunded (Alipay `TRADE_CLOSED`).
    Closed,
    /// Paid and (partly) refunded (WeChat `REFUND`).
    Refunded,
    /// The provider reported a state we do not model; the raw value is kept.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeStatus {
    pub out_trade_no: String,
    /// Provider transaction id (Alipay `trade_no`, WeChat `transaction_id`, Stripe
    /// PaymentIntent `pi_…`), once there is one.
    pub trade_no: Option<String>,
    pub state: TradeState,
    pub amount: Option<Money>,
}

/// A partial or full refund under our own refund number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefundRequest {
    pub trade: TradeRef,
    /// Our refund number: Alipay `out_request_no`, WeChat `out_refund_no`, Stripe metadata
    /// and idempotency key. Re-sending the same number never refunds twice.
    pub out_refund_no: String,
    pub amount: Money,
    /// The order total (WeChat requires it).
    pub total: Money,
    pub reason: Option<String>,
    /// WeChat refund notifications go here (others ignore it).
    pub notify_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRef {
    pub trade: TradeRef,
    pub out_refund_no: String,
    /// The provider's refund id (required for Stripe `re_…`).
    pub refund_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    Processing,
    Succeeded,
    Failed,
    /// The provider has no refund under our number: the request never reached it (a
    /// timeout before it arrived). Safe to send again with the same number.
    NotFound,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefundStatus {
    pub out_refund_no: String,
    pub refund_id: Option<String>,
    pub state: RefundState,
    /// This refund's amount, when the provider says it.
    pub amount: Option<Money>,
}

/// A verified inbound notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    Paid {
        out_trade_no: String,
        trade_no: String,
        amount: Money,
    },
    Closed {
        out_trade_no: String,
        trade_no: Option<String>,
    },
    RefundSucceeded {
        out_trade_no: String,
        out_refund_no: String,
        refund_id: Option<String>,
        /// This refund's amount (WeChat, Stripe).
        amount: Option<Money>,
        /// Total refunded on the order so far (Alipay `refund_fee` is cumulative).
        refunded_total: Option<Money>,
    },
    RefundFailed {
        out_trade_no: String,
        out_refund_no: String,
        refund_id: Option<String>,
        amount: Option<Money>,
    },
    /// Authentic, but nothing for us to do (e.g. Alipay `WAIT_BUYER_PAY`, other Stripe event
    /// types). Acknowledge it with success so the provider stops retrying.
    Ignored { kind: String },
}

impl NotifyEvent {
    /// The order a notification is about, if any.
    pub fn out_trade_no(&self) -> Option<&str> {
        match self {
            NotifyEvent::Paid { out_trade_no, .. }
            | NotifyEvent::Closed { out_trade_no, .. }
            | NotifyEvent::RefundSucceeded { out_trade_no, .. }
            | NotifyEvent::RefundFailed { out_trade_no, .. } => Some(out_trade_no),
            NotifyEvent::Ignored { .. } => None,
        }
    }

    /// Checks a `Paid` event against the order we stored: a notification whose amount
    /// differs from what we asked for must not mark the order paid (Alipay and WeChat both
    /// require merchants to compare the amount).
    pub fn check_paid_amount(&self, expected: Money) -> Result<(), VerifyError> {
        match self {
            NotifyEvent::Paid { amount, .. } if *amount != expected => {
                Err(VerifyError::AmountMismatch)
            }
            _ => Ok(()),
        }
    }
}

/// The exact HTTP answer to send back to the provider for a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyAck {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// Which verification rule a response or notification broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("missing field {0}")]
    MissingField(&'static str),
    #[error("signature does not verify")]
    BadSignature,
    #[error("signature is not valid base64")]
    SignatureEncoding,
    #[error("timestamp is outside the allowed window")]
    StaleTimestamp,
    #[error("WECHATPAY/SIGNTEST/ probe signature rejected")]
    SignTestProbe,
    #[error("no key for serial {0}")]
    UnknownSerial(String),
    #[error("unsupported charset {0} (only utf-8 is accepted)")]
    UnsupportedCharset(String),
    #[error("unsupported sign type {0}")]
    UnsupportedSignType(String),
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("could not decrypt the resource")]
    Decrypt,
    #[error("{0} does not match this channel")]
    WrongAccount(&'static str),
    #[error("amount does not match the order")]
    AmountMismatch,
    #[error("malformed: {0}")]
    Malformed(String),
}

/// Everything a provider call can fail with. Messages never contain keys or signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("channel configuration: {0}")]
    Config(String),
    #[error("transport: {0}")]
    Transport(String),
    #[error("provider answered HTTP {status} {code:?}: {message}")]
    Http {
        status: u16,
        code: Option<String>,
        message: String,
    },
    #[error("provider refused: {code} {sub_code:?}: {message}")]
    Business {
        code: String,
        sub_code: Option<String>,
        message: String,
    },
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyError),
    #[error("unexpected response: {0}")]
    Protocol(String),
    #[error("amount: {0}")]
    Money(#[from] MoneyError),
    #[error("not supported: {0}")]
    Unsupported(&'static str),
}

impl From<crypto::CryptoError> for ProviderError {
    fn from(e: crypto::CryptoError) -> Self {
        ProviderError::Config(e.to_string())
    }
}

/// One payment provider account (a channel) speaking one protocol.
#[async_trait]
pub trait Provider: Send + Sync {
    fn kind(&self) -> ProviderKind;

    /// Creates a checkout and returns what to show as a QR code.
    async fn create_qr(&self, req: &CreateQrRequest) -> Result<QrCheckout, ProviderError>;

    async fn query(&self, trade: &TradeRef) -> Result<TradeStatus, ProviderError>;

    /// Closes/expires an unpaid order so it can no longer be paid.
    async fn close(&self, trade: &TradeRef) -> Result<(), ProviderError>;

    async fn refund(
        &self,
        req: &ProviderRefundRequest,
    ) -> Result<ProviderRefundStatus, ProviderError>;

    async fn query_refund(&self, refund: &RefundRef)
    -> Result<ProviderRefundStatus, ProviderError>;

    /// Charges the customer's payment code. Providers without barcode payment say
    /// `Unsupported` (the till then offers the QR only).
    async fn pay_by_code(&self, _req: &CodePayRequest) -> Result<CodePayAnswer, ProviderError> {
        Err(ProviderError::Unsupported("payment by the customer's code"))
    }

    /// Cancels a code payment that was not decided in time: the payment is stopped, and if
    /// it went through after all, refunded by the provider (Alipay `alipay.trade.cancel`,
    /// WeChat Pay `reverse`). Providers without a cancel close the order.
    async fn cancel_code_payment(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        self.close(trade).await
    }

    /// Verifies an inbound notification on its raw headers and raw body bytes (never a
    /// re-serialized form) and turns it into an event. `now` is Unix seconds.
    async fn parse_notify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<NotifyEvent, ProviderError>;

    /// The answer that tells the provider the notification was handled.
    fn ack_success(&self) -> NotifyAck;

    /// The answer that makes the provider retry later. `message` must not be secret.
    fn ack_failure(&self, message: &str) -> NotifyAck;
}

/// Reads a header as UTF-8 text.
pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &'static str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads a required JSON string field.
pub(crate) fn json_str<'v>(v: &'v serde_json::Value, field: &'static str) -> Option<&'v str> {
    v.get(field).and_then(serde_json::Value::as_str)
}
