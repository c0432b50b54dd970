//! Merchant notifications: the outbox of order events to forward to the merchant's system,
//! and the record of every delivery attempt. The worker that sends them is
//! `jobs::merchant_notify`.
//!
//! * **Enqueue** inside the transaction that changes the order
//!   ([`enqueue_merchant_notification`]), so an event exists iff its transition committed.
//! * **Claim** ([`Store::claim_due_merchant_notifications`](crate::store::Store::claim_due_merchant_notifications)): one statement picks due pending
//!   rows and pushes their `next_attempt_at` forward by a lease, so other workers skip them
//!   while they are being sent. On Postgres the pick is `FOR UPDATE SKIP LOCKED`: workers on
//!   several instances never pick the same row, and never wait for each other. SQLite has a
//!   single writer, so the plain statement is already atomic (one instance per SQLite file).
//! * **Record** ([`Store::record_merchant_notification_attempt`](crate::store::Store::record_merchant_notification_attempt)): the attempt row, and the
//!   notification's next state (delivered, retry at, or failed), in one transaction. A
//!   failure only moves the row if it is still exactly as this claim left it (same attempt
//!   count, `next_attempt_at` still this claim's lease): a worker whose lease ran out cannot
//!   undo a newer outcome, and a resend made during the send is not overwritten.
//!
//! Delivery is at least once: a worker that dies between sending and recording leaves the
//! row to be sent again when its lease ends. Merchants deduplicate by notification id.
//!
//! One concern per module:
//!
//! - `model`: the notification, its status, its attempts, and the filter for listing them.
//! - `outbox`: the worker's side: enqueueing, claiming, recording an attempt.
//! - `dashboard`: the dashboard's side: listing, reading attempts, resending; and the
//!   backlog for metrics.

mod dashboard;
mod model;
mod outbox;

pub use model::{
    ClaimedMerchantNotification, MerchantNotification, MerchantNotificationAttempt,
    MerchantNotificationFilter, MerchantNotificationStatus, NewMerchantNotification,
    NotificationAttemptRecord, RESPONSE_SNIPPET_CHARS,
};
pub use outbox::enqueue_merchant_notification;
