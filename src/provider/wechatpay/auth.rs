//! APIv3 request signing.
//!
//! Message = `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` where URL is the absolute path with
//! query (`/v3/pay/transactions/native`), BODY is the exact request body (empty for GET), and
//! every line — including the last — ends in `\n`. The signature goes into
//! `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",
//! serial_no="…",signature="…"`.

use crate::provider::crypto::RsaSigner;

pub const SCHEMA: &str = "WECHATPAY2-SHA256-RSA2048";

pub fn request_message(method: &str, url: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n")
}

/// Everything that goes into one `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams<'a> {
    pub mchid: &'a str,
    pub serial_no: &'a str,
    pub timestamp: i64,
    pub nonce: &'a str,
}

pub fn authorization(
    p: &AuthParams<'_>,
    key: &RsaSigner,
    method: &str,
    url: &str,
    body: &str,
) -> String {
    let signature =
        key.sign_b64(request_message(method, url, p.timestamp, p.nonce, body).as_bytes());
    format!(
        "{SCHEMA} mchid=\"{}\",nonce_str=\"{}\",timestamp=\"{}\",serial_no=\"{}\",signature=\"{}\"",
        p.mchid, p.nonce, p.timestamp, p.serial_no, signature
    )
}

/// A parsed `Authorization` header (the sandbox checks ours with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub mchid: String,
    pub nonce_str: String,
    pub timestamp: i64,
    pub serial_no: String,
    pub signature: String,
}

pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.strip_prefix(SCHEMA)?.strip_prefix(' ')?;
    let (mut mchid, mut nonce, mut ts, mut serial, mut sig) = (None, None, None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.strip_prefix('"')?.strip_suffix('"')?.to_string();
        match k {
            "mchid" => mchid = Some(v),
            "nonce_str" => nonce = Some(v),
            "timestamp" => ts = v.parse().ok(),
            "serial_no" => serial = Some(v),
            "signature" => sig = Some(v),
            _ => return None,
        }
    }
    Some(ParsedAuthorization {
        mchid: mchid?,
        nonce_str: nonce?,
        timestamp: ts?,
        serial_no: serial?,
        signature: sig?,
    })
}
