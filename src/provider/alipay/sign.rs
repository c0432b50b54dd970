//! Alipay RSA2 string-to-sign and request signing.
//!
//! Rule (OpenAPI "自行实现签名"): take every parameter except `sign` whose value is non-empty,
//! sort by key in ASCII order, join as `k=v` with `&`, **without** URL-encoding. For gateway
//! requests `sign_type` stays in the string; for asynchronous notifications it is dropped
//! too. The signature is SHA256withRSA (RSA2), base64.

use crate::provider::crypto::RsaSigner;

/// Which parameters the signed string leaves out besides `sign` and empty values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignScope {
    /// Gateway requests: `sign_type` is part of the signed string.
    Request,
    /// Asynchronous notifications: `sign_type` is dropped as well.
    Notify,
}

/// Builds the string to sign from parameters in any order.
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], scope: SignScope) -> String {
    let mut kept: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, v)| {
            !v.is_empty() && *k != "sign" && !(scope == SignScope::Notify && *k == "sign_type")
        })
        .collect();
    // Byte-wise order of the keys = ASCII order; the value breaks ties so the output does not
    // depend on input order even for (invalid) duplicate keys.
    kept.sort_unstable();
    let mut out = String::new();
    for (i, (k, v)) in kept.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Signs gateway request parameters: returns the base64 RSA2 signature.
pub fn sign_request<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)], key: &RsaSigner) -> String {
    key.sign_b64(string_to_sign(params, SignScope::Request).as_bytes())
}

/// Alipay `timestamp` format, Beijing time (UTC+8): `yyyy-MM-dd HH:mm:ss`.
pub fn format_timestamp(unix: i64) -> String {
    use time::macros::{format_description, offset};
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .map(|t| t.to_offset(offset!(+8)))
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_sign_and_empties_and_sorts() {
        let params = [
            ("sign", "X"),
            ("b", "2"),
            ("sign_type", "RSA2"),
            ("a", "1"),
            ("empty", ""),
            ("A", "0"),
        ];
        assert_eq!(
            string_to_sign(&params, SignScope::Request),
            "A=0&a=1&b=2&sign_type=RSA2"
        );
        assert_eq!(string_to_sign(&params, SignScope::Notify), "A=0&a=1&b=2");
    }

    #[test]
    fn timestamp_is_beijing_time() {
        // 1704081600 = 2024-01-01T04:00:00Z = 12:00:00 in Beijing.
        assert_eq!(format_timestamp(1_704_081_600), "2024-01-01 12:00:00");
    }
}
