//! The provider known-answer vectors, read from the repository copy
//! (`tests/fixtures/vectors.json`, copied from the team's shared vectors; see its README
//! entry list in `tests/fixtures/README.md`).
#![allow(dead_code)]

use paydesk_core::provider::HeaderMap;
use serde_json::Value;

pub const VECTORS: &str = include_str!("../fixtures/vectors.json");

pub fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("fixtures/vectors.json is valid JSON")
}

/// `vectors[entry][field]` as a string.
pub fn s(entry: &str, field: &str) -> String {
    vectors()[entry][field]
        .as_str()
        .unwrap_or_else(|| panic!("vector {entry}.{field} missing"))
        .to_string()
}

/// Parses the `alipay_request.raw` text: `string_to_sign=…\nsign=…\n`.
pub fn alipay_request() -> (String, String) {
    let raw = s("alipay_request", "raw");
    let mut sts = None;
    let mut sign = None;
    for line in raw.lines() {
        if let Some(v) = line.strip_prefix("string_to_sign=") {
            sts = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("sign=") {
            sign = Some(v.to_string());
        }
    }
    (sts.expect("string_to_sign"), sign.expect("sign"))
}

/// Header pairs as the sandboxes hand them out, as a `HeaderMap`.
pub fn header_map(pairs: &[(&str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    h
}
