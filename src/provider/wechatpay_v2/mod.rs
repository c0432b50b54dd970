//! WeChat Pay API v2 (the XML API of `api.mch.weixin.qq.com`): Native (QR) payments,
//! queries, closes, refunds and their notifications, for merchants that have no APIv3
//! key and certificates, or that still run v2 integrations.
//!
//! - [`xml`]: the `<xml>` codec (no DTDs or entities, size-limited, flat and unique fields)
//! - [`sign`]: `MD5` / `HMAC-SHA256` signatures with the merchant API key
//! - [`crypt`]: AES-256-ECB `req_info` of refund notifications
//! - [`identity`]: the merchant certificate from WeChat's PKCS#12 file
//! - [`transport`]: HTTPS with the merchant API client certificate (mutual TLS, which
//!   `/secapi/pay/refund` requires), timeouts, retries and call records
//! - [`answer`]: the checks every answer passes (sign, account, `return_code`/`result_code`)
//! - [`client`]: [`WechatPayV2Client`], with the [`Provider`](crate::provider::Provider)
//!   operations as inherent methods of the same signatures
//! - [`notify`]: payment and refund notifications, and their acknowledgements
//! - [`sandbox`]: the v2 gateway emulation over the shared sandbox [`Ledger`], served over
//!   mutual TLS
//!
//! [`Ledger`]: crate::sandbox::Ledger

pub mod answer;
pub mod client;
pub mod code_pay;
pub mod crypt;
pub mod identity;
pub mod notify;
pub mod sandbox;
pub mod sign;
pub mod slice;
pub mod transport;
pub mod xml;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_checks;

pub use client::WechatPayV2Client;
pub use sign::SignType;

use crate::provider::secret::SecretString;

pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// The merchant API certificate (`apiclient_cert.pem` and `apiclient_key.pem` of the
/// certificate bundle downloaded from the merchant platform). WeChat's bundle also holds
/// `apiclient_cert.p12` (the same pair, password = `mch_id`): read it with
/// [`ClientIdentity::from_pkcs12`].
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    /// `-----BEGIN CERTIFICATE-----` (chain allowed).
    pub cert_pem: String,
    /// PKCS#8 (`BEGIN PRIVATE KEY`, as WeChat ships it) or PKCS#1 (`BEGIN RSA PRIVATE
    /// KEY`). `Debug` prints nothing of it.
    pub key_pem: SecretString,
}

/// One WeChat Pay v2 merchant channel.
#[derive(Clone, Debug)]
pub struct WechatPayV2Config {
    /// Our channel name (call records, the `{channel}` of the notify URL).
    pub channel: String,
    /// The app (公众号/小程序/App) id the merchant account is bound to.
    pub appid: String,
    pub mch_id: String,
    /// The 32-character API key (API密钥) of the merchant platform. `Debug` prints nothing.
    pub api_key: SecretString,
    /// How our requests are signed; answers and notifications are checked the same way.
    pub sign_type: SignType,
    /// [`PRODUCTION_BASE_URL`] or the sandbox's TLS listener (`https://127.0.0.1:port`);
    /// request paths (`/pay/unifiedorder`, …) are appended.
    pub base_url: String,
    /// `spbill_create_ip` of Native orders: the IPv4/IPv6 address of the machine that calls
    /// the API (WeChat's rule for Native payments).
    pub spbill_create_ip: String,
    /// The merchant API certificate, needed for refunds (mutual TLS). Without it every
    /// other call works and refunds fail with a configuration error.
    pub identity: Option<ClientIdentity>,
    /// An extra root CA (PEM) to trust for the gateway's TLS certificate, besides the
    /// public roots: the sandbox's CA.
    pub root_ca_pem: Option<String>,
}

/// A time as v2 writes it (`time_expire`, `time_end`): `yyyyMMddHHmmss` in China time
/// (UTC+8, no daylight saving).
pub fn beijing_compact(unix: i64) -> String {
    use time::macros::{format_description, offset};
    let fmt = format_description!("[year][month][day][hour][minute][second]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(offset!(+8)).format(&fmt).ok())
        .unwrap_or_default()
}

/// v2 order and refund numbers: `[0-9A-Za-z_\-|*]`, at most `max` characters (32 for
/// `out_trade_no`, 64 for `out_refund_no`).
pub(crate) fn valid_number(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
}

/// Cuts `s` to at most `max` bytes on a character boundary (`body` is `String(128)`,
/// counted in bytes of UTF-8).
pub(crate) fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod helper_tests {
    use super::*;

    #[test]
    fn china_time_and_limits() {
        // 2026-01-01T00:00:00Z is 08:00 in Beijing.
        assert_eq!(beijing_compact(1_767_225_600), "20260101080000");
        assert!(valid_number("A-1_b|*", 32));
        assert!(!valid_number("a b", 32));
        assert!(!valid_number(&"a".repeat(33), 32));
        assert_eq!(truncate_bytes("中文", 4), "中");
    }
}
