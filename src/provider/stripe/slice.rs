//! Stripe's [`ProviderSlice`].

use std::time::Duration;

use crate::provider::NotifyAck;
use crate::provider::slice::{ProviderSlice, minutes as m};

pub struct Stripe;

impl ProviderSlice for Stripe {
    fn ack_success(&self) -> NotifyAck {
        super::webhook::ack_success()
    }

    fn ack_failure(&self, message: &str) -> NotifyAck {
        super::webhook::ack_failure(message)
    }

    fn acknowledged(&self, status: u16, _body: &[u8]) -> bool {
        (200..300).contains(&status)
    }

    /// Exponential backoff over up to three days.
    fn retry_schedule(&self) -> Vec<Duration> {
        (0..12).map(|i| m(1 << i).min(m(12 * 60))).collect()
    }
}
