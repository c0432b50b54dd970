//! Alipay's [`ProviderSlice`].

use std::time::Duration;

use crate::provider::NotifyAck;
use crate::provider::slice::{ProviderSlice, minutes as m};

pub struct Alipay;

impl ProviderSlice for Alipay {
    fn ack_success(&self) -> NotifyAck {
        super::notify::ack_success()
    }

    fn ack_failure(&self, _message: &str) -> NotifyAck {
        super::notify::ack_failure()
    }

    /// Alipay keeps notifying until the body is exactly `success`; the status is not
    /// enough (a 200 with "fail" or an HTML error page means "try again").
    fn acknowledged(&self, status: u16, body: &[u8]) -> bool {
        status == 200 && body == b"success"
    }

    /// 4m, 10m, 10m, 1h, 2h, 6h, 15h.
    fn retry_schedule(&self) -> Vec<Duration> {
        vec![m(4), m(10), m(10), m(60), m(120), m(360), m(900)]
    }

    /// `alipay.trade.pay` with `scene=bar_code` (`super::code_pay`).
    fn charges_codes_of(&self) -> Option<crate::payment_code::Wallet> {
        Some(crate::payment_code::Wallet::Alipay)
    }
}
