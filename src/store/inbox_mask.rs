//! What the logs view shows of a stored notification: its headers and body with
//! signatures, tokens, cookies and anything key- or secret-like masked, the body bounded.

use super::inbox::InboxEntry;
#[cfg(test)]
use super::inbox::Verdict;

/// The most of a stored body the logs view shows (bytes).
pub const PAYLOAD_VIEW_BYTES: usize = 16 * 1024;

/// A stored notification made safe to show a person: signatures, tokens, cookies and
/// anything key- or secret-like replaced with `***`, the body cut to a bounded size.
/// WeChat Pay's `resource.ciphertext` stays: it is encrypted under the merchant's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedPayload {
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body was longer than [`PAYLOAD_VIEW_BYTES`] and was cut.
    pub truncated: bool,
}

const MASK: &str = "***";

/// Is a header, form field or JSON member called `name` secret?
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    const EXACT: [&str; 2] = ["sign", "key"];
    const PARTS: [&str; 8] = [
        "signature",
        "secret",
        "token",
        "password",
        "authorization",
        "cookie",
        "api_key",
        "apikey",
    ];
    EXACT.contains(&n.as_str())
        || PARTS.iter().any(|p| n.contains(p))
        || n.ends_with("_key")
        || n.ends_with("_sign")
}

fn mask_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if is_secret_name(k) && !child.is_object() && !child.is_array() {
                    *child = serde_json::Value::String(MASK.into());
                } else {
                    mask_json(child);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// Masks a body by its shape: JSON members, form fields, or (neither) left as it is.
fn mask_body(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(body) {
            mask_json(&mut v);
            return serde_json::to_string_pretty(&v).unwrap_or_default();
        }
        return body.to_string();
    }
    let looks_like_form = body.contains('=') && !body.contains(char::is_whitespace);
    if looks_like_form {
        let pairs = form_urlencoded::parse(body.as_bytes()).map(|(k, v)| {
            let v = if is_secret_name(&k) {
                MASK.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        });
        return pairs
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    body.to_string()
}

impl InboxEntry {
    /// The headers and body, masked and bounded, for the logs view.
    pub fn masked_payload(&self) -> MaskedPayload {
        let map: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&self.headers).unwrap_or_default();
        let headers = map
            .into_iter()
            .map(|(k, v)| {
                let v = if is_secret_name(&k) {
                    MASK.to_string()
                } else {
                    v
                };
                (k, v)
            })
            .collect();
        let mut body = mask_body(&self.body);
        let truncated = body.len() > PAYLOAD_VIEW_BYTES;
        if truncated {
            let mut end = PAYLOAD_VIEW_BYTES;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
        }
        MaskedPayload {
            headers,
            body,
            truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(headers: &str, body: &str) -> InboxEntry {
        InboxEntry {
            id: "i".into(),
            provider: "wechatpay".into(),
            channel: "c".into(),
            received_at: 0,
            headers: headers.into(),
            body: body.into(),
            verdict: Verdict::Applied,
            reason: None,
            event: None,
            out_trade_no: None,
            processed_at: None,
        }
    }

    #[test]
    fn signatures_tokens_and_cookies_are_masked() {
        let e = entry(
            r#"{"wechatpay-signature":"SIG","wechatpay-serial":"5157F","stripe-signature":"t=1,v1=x","authorization":"Bearer pdk_x","cookie":"s=1","content-type":"application/json"}"#,
            r#"{"id":"evt","client_secret":"pi_secret_1","resource":{"ciphertext":"CIPHER","nonce":"n"},"data":{"token":"tok"}}"#,
        );
        let m = e.masked_payload();
        let h: std::collections::BTreeMap<_, _> = m.headers.into_iter().collect();
        assert_eq!(h["wechatpay-signature"], "***");
        assert_eq!(h["stripe-signature"], "***");
        assert_eq!(h["authorization"], "***");
        assert_eq!(h["cookie"], "***");
        assert_eq!(h["wechatpay-serial"], "5157F");
        assert_eq!(h["content-type"], "application/json");
        assert!(m.body.contains("CIPHER"), "ciphertext is encrypted: kept");
        assert!(!m.body.contains("pi_secret_1"));
        assert!(!m.body.contains("\"tok\""));
        assert!(!m.truncated);
    }

    #[test]
    fn form_bodies_are_masked_and_long_bodies_cut() {
        let e = entry(
            "{}",
            "out_trade_no=A1&sign=SECRETSIG&sign_type=RSA2&app_key=k",
        );
        let m = e.masked_payload();
        assert!(m.body.contains("out_trade_no=A1"));
        assert!(m.body.contains("sign=***"));
        assert!(m.body.contains("sign_type=RSA2"));
        assert!(m.body.contains("app_key=***"));
        assert!(!m.body.contains("SECRETSIG"));
        let long = entry("{}", &"支".repeat(PAYLOAD_VIEW_BYTES));
        let m = long.masked_payload();
        assert!(m.truncated);
        assert!(m.body.len() <= PAYLOAD_VIEW_BYTES);
    }
}
