//! WeChat Pay (API v3)'s [`ProviderSlice`].

use std::time::Duration;

use crate::provider::NotifyAck;
use crate::provider::slice::{ProviderSlice, minutes as m};

pub struct WechatPay;

/// 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h: WeChat Pay's
/// published notification schedule (v2 and v3 alike).
pub(crate) fn wechat_schedule() -> Vec<Duration> {
    let s = Duration::from_secs;
    vec![
        s(15),
        s(15),
        s(30),
        m(3),
        m(10),
        m(20),
        m(30),
        m(30),
        m(30),
        m(60),
        m(180),
        m(180),
        m(180),
        m(360),
        m(360),
    ]
}

impl ProviderSlice for WechatPay {
    fn ack_success(&self) -> NotifyAck {
        super::notify::ack_success()
    }

    fn ack_failure(&self, message: &str) -> NotifyAck {
        super::notify::ack_failure(message)
    }

    fn acknowledged(&self, status: u16, _body: &[u8]) -> bool {
        status == 200 || status == 204
    }

    fn retry_schedule(&self) -> Vec<Duration> {
        wechat_schedule()
    }

    /// `/v3/pay/transactions/codepay` (`super::code_pay`).
    fn charges_codes_of(&self) -> Option<crate::payment_code::Wallet> {
        Some(crate::payment_code::Wallet::Wechat)
    }

    /// After v2 micropay channels of the same mode: a WeChat code scanned without a channel
    /// named went to v2 before v3 charged codes, and keeps doing so (the till, the merchant
    /// API's callers and their tests rely on it); a v3 channel is used when named, or when
    /// it is the only one, or the only live one.
    fn code_channel_rank(&self) -> u8 {
        1
    }
}
