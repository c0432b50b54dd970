//! Timestamps are stored as integer milliseconds since the Unix epoch (UTC): the one
//! representation that SQLite and Postgres store, compare and index the same way.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
