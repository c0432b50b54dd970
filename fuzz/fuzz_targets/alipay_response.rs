//! The Alipay response extractor: the gateway's raw JSON text, from which the signed
//! `<method>_response` object must be cut out byte for byte (`response::raw_fields`,
//! `split_response`), then verified (`client::verify_response`, what every gateway call
//! runs on the answer).
//!
//! Input: the method on the first line (`alipay.trade.precreate`), the body after it.
//!
//! Checked beyond "no panic", against serde_json as an independent parser: whenever the
//! body is a JSON object, the hand-written scanner accepts it, finds exactly its keys, and
//! each raw slice parses to the same value serde_json found under that key (the last one
//! for repeated keys, as serde_json keeps). The signed payload is one of those slices.

use std::collections::HashMap;
use std::sync::LazyLock;

use paydesk_core::provider::alipay::AlipayKeys;
use paydesk_core::provider::alipay::client::verify_response;
use paydesk_core::provider::alipay::response::{raw_fields, response_key, split_response};
use paydesk_fuzz::fixtures;
use paydesk_fuzz::input::split_line;
use serde_json::Value;

static KEYS: LazyLock<AlipayKeys> = LazyLock::new(fixtures::alipay_keys);

fn check(data: &[u8]) {
    let (method, body) = split_line(data);
    let (Ok(method), Ok(text)) = (std::str::from_utf8(method), std::str::from_utf8(body)) else {
        // The client refuses a body that is not UTF-8 before any of this runs.
        return;
    };
    let fields = raw_fields(text);
    if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) {
        let Ok(fields) = &fields else {
            panic!("scanner refused a JSON object: {:?}", fields.as_ref().err());
        };
        let mut last: HashMap<&str, &str> = HashMap::new();
        for (k, raw) in fields {
            last.insert(k.as_str(), raw);
        }
        assert_eq!(
            last.len(),
            obj.len(),
            "scanner found other keys than serde_json"
        );
        for (k, v) in &obj {
            let raw = last
                .get(k.as_str())
                .unwrap_or_else(|| panic!("scanner missed key {k:?}"));
            let parsed: Value = serde_json::from_str(raw)
                .unwrap_or_else(|e| panic!("raw slice of {k:?} is not its JSON value: {e}"));
            assert_eq!(
                &parsed, v,
                "raw slice of {k:?} differs from serde_json's value"
            );
        }
    }
    if let Ok(split) = split_response(text, method) {
        let fields = fields
            .as_ref()
            .expect("split_response succeeded, raw_fields must too");
        assert!(
            fields
                .iter()
                .any(|(k, raw)| *k == split.key && *raw == split.payload),
            "the payload is not one of the object's raw fields"
        );
        assert!(split.key == response_key(method) || split.key == "error_response");
    }
    let _ = verify_response(text, method, &KEYS);
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
