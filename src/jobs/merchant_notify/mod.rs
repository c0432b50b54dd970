//! Merchant notifications: forwarding order events (`order.paid`, `order.closed`,
//! `refund.succeeded`, `refund.failed`) to the notify URL the merchant gave with the order.
//!
//! # What the merchant receives
//!
//! `POST <notify_url>` with `Content-Type: application/json`, the body built by
//! [`event_body`] (the same bytes on every attempt), and these headers:
//!
//! * `Paydesk-Event`: the event type, e.g. `order.paid`.
//! * `Paydesk-Notification-Id`: the notification's id. Delivery is *at least once*: the
//!   same id may arrive more than once, so deduplicate by it.
//! * `Paydesk-Signature: t=<unix seconds>,v1=<hex>`, Stripe-like: `v1` is the lowercase hex
//!   HMAC-SHA256, keyed with the signing secret (`pdsec_…`) of the API key that created the
//!   order, over the bytes `"<t>." + body`. To verify ([`verify_signature`] does exactly
//!   this): recompute it over the *raw* body, compare in constant time, and reject a `t`
//!   more than a few minutes from your clock, so a captured request cannot be replayed
//!   later. `t` is fresh on each attempt.
//!
//! Only a 2xx answer counts as delivered; redirects are not followed (a 3xx is a failed
//! attempt). Until a 2xx comes back, the notification is retried on a schedule of about a
//! day ([`default_schedule`], with a little jitter), then marked failed; a person can
//! resend it. Every attempt is recorded (status, latency, error, the first 200 characters
//! of the answer).
//!
//! # Running
//!
//! [`MerchantNotifier::run`] polls the store for due notifications; any number of instances
//! may run it against one database (see `store::merchant_notifications` for how claims
//! keep two workers from sending the same notification at once).
//!
//! # Layout
//!
//! * `event`: the event names and the JSON body the merchant receives.
//! * `signature`: the `Paydesk-*` headers, signing and verifying.
//! * `notify_url`: which notify URLs are accepted.
//! * `settings`: the retry schedule and the worker's settings.
//! * `worker`: [`MerchantNotifier`], claiming due notifications and recording attempts.
//! * `send`: one attempt, over HTTP.

mod event;
mod notify_url;
mod send;
mod settings;
mod signature;
mod worker;

pub use event::{
    EVENT_ORDER_CLOSED, EVENT_ORDER_PAID, EVENT_REFUND_FAILED, EVENT_REFUND_SUCCEEDED, event_body,
};
pub use notify_url::{MAX_URL_LEN, NotifyUrlError, validate_notify_url};
pub use settings::{NotifierSettings, default_schedule};
pub use signature::{
    DEFAULT_TOLERANCE_SECS, EVENT_HEADER, NOTIFICATION_ID_HEADER, SIGNATURE_HEADER, sign_header,
    verify_signature,
};
pub use worker::{MerchantNotifier, NotifierError};
