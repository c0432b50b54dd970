//! WeChat Pay APIv3: `WECHATPAY2-SHA256-RSA2048` request signatures, response and notification
//! verification by `Wechatpay-Serial` against platform certificates **and** the WeChat Pay
//! public key at the same time, AEAD_AES_256_GCM resources.
//!
//! - [`auth`]: request message and `Authorization` header
//! - [`verify`]: the platform key set and the `TS\nNONCE\nBODY\n` verification rules
//! - [`resource`]: AEAD_AES_256_GCM decryption of notification resources and certificates
//! - [`certs`]: the `/v3/certificates` download
//! - [`notify`]: payment and refund notifications
//! - [`client`]: the [`Provider`](crate::provider::Provider) implementation
//! - `code_pay`: 付款码 (`/v3/pay/transactions/codepay`) and its reverse

pub mod auth;
pub mod certs;
pub mod client;
mod code_pay;
pub mod live;
pub mod notify;
pub mod resource;
pub mod sandbox;
pub mod slice;
pub mod verify;
mod wire;

pub use client::WechatPayClient;
pub use verify::{PlatformKeys, PlatformPublicKey};

use crate::provider::crypto::RsaSigner;
use crate::provider::secret::SecretString;

pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// A time as WeChat Pay writes it: RFC 3339 in Beijing time (`2026-01-01T12:00:00+08:00`).
pub fn rfc3339_beijing(unix: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    use time::macros::offset;
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(offset!(+8)).format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// One WeChat Pay merchant channel.
#[derive(Debug, Clone)]
pub struct WechatPayConfig {
    /// Our channel name (the `{channel}` of the notify URL).
    pub channel: String,
    pub mchid: String,
    pub appid: String,
    /// Serial number of the merchant API certificate (`serial_no` in `Authorization`).
    pub merchant_serial: String,
    pub merchant_private_key: RsaSigner,
    /// The 32-byte APIv3 key (AES-256-GCM key for resources). `Debug` prints nothing.
    pub apiv3_key: SecretString,
    /// [`PRODUCTION_BASE_URL`] or our sandbox (`{base}/sandbox/wechatpay`); request paths
    /// (`/v3/…`) are appended, and that `/v3/…` path is what gets signed.
    pub base_url: String,
    /// WeChat Pay public-key mode (`PUB_KEY_ID_…`), if the merchant has one.
    pub platform_public_key: Option<PlatformPublicKey>,
    /// Platform certificates known up front (PEM), e.g. from a previous download.
    pub platform_certificates: Vec<String>,
    /// Download `/v3/certificates` when a serial is unknown. Off for merchants that only
    /// have public-key mode (new merchants cannot download certificates).
    pub download_certificates: bool,
    /// Serials an admin retired: a download never brings them back.
    pub retired_platform_serials: Vec<String>,
}
