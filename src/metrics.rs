//! What paydesk counts, by name. The core only records through the `metrics` facade; the
//! server installs the Prometheus recorder and serves `/metrics`. Without a recorder
//! (tests, tools) recording costs next to nothing.
//!
//! Labels are small closed sets (provider, operation, verdict, kind): never order numbers or
//! anything a caller controls, which would make the series count unbounded.

use std::time::Duration;

pub const PROVIDER_CALLS: &str = "paydesk_provider_calls_total";
pub const PROVIDER_CALL_SECONDS: &str = "paydesk_provider_call_duration_seconds";
pub const NOTIFICATIONS: &str = "paydesk_notifications_total";
pub const ORDER_TRANSITIONS: &str = "paydesk_order_transitions_total";
pub const NOTIFY_BATCH: &str = "paydesk_notify_batch_size";
pub const NOTIFY_BATCH_SECONDS: &str = "paydesk_notify_batch_duration_seconds";

/// One attempt at a provider API call. `outcome` is `ok`, `http_error` (4xx/5xx or a
/// provider error code) or `transport` (no answer).
pub fn provider_call(
    provider: &'static str,
    operation: &'static str,
    outcome: &'static str,
    latency: Duration,
) {
    metrics::counter!(PROVIDER_CALLS, "provider" => provider, "operation" => operation, "outcome" => outcome)
        .increment(1);
    metrics::histogram!(PROVIDER_CALL_SECONDS, "provider" => provider, "operation" => operation)
        .record(latency.as_secs_f64());
}

/// A notification received and decided (`applied`, `duplicate`, `rejected`, …).
pub fn notification(provider: &'static str, verdict: &'static str) {
    metrics::counter!(NOTIFICATIONS, "provider" => provider, "verdict" => verdict).increment(1);
}

/// A change on an order's timeline (`created`, `paid`, `closed`, `refund_requested`, …),
/// counted when it is written in its transaction. A transaction that then fails to commit
/// is counted too; that happens only when the database itself fails, which other alerts
/// show.
pub fn order_transition(kind: &str) {
    metrics::counter!(ORDER_TRANSITIONS, "kind" => kind.to_owned()).increment(1);
}

/// How many notifications one group-commit transaction wrote (see
/// `store::InboxWriter`): near 1 when idle, growing with load.
pub fn notify_batch(size: usize) {
    metrics::histogram!(NOTIFY_BATCH).record(size as f64);
}

/// How long one group-commit transaction took, from its first statement to its commit
/// (what every notification in it waited for, on top of the queue).
pub fn notify_batch_seconds(took: Duration) {
    metrics::histogram!(NOTIFY_BATCH_SECONDS).record(took.as_secs_f64());
}
