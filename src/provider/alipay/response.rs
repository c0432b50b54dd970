//! Alipay gateway responses.
//!
//! A response looks like `{"alipay_trade_precreate_response":{…},"sign":"…"}` (plus
//! `alipay_cert_sn` in certificate mode). The signature covers the **raw text** of the
//! `<method>_response` value exactly as sent — re-serializing the parsed JSON would reorder
//! keys or change escapes (`\/`, `\u4e2d`) and break verification. So the top-level object is
//! scanned here by hand: brace/bracket matching that skips over strings and their escapes.

use serde_json::Value;

use crate::provider::VerifyError;

fn malformed(what: &str) -> VerifyError {
    VerifyError::Malformed(format!("alipay response: {what}"))
}

/// Skips a JSON string starting at `bytes[i] == b'"'`; returns the index after the closing
/// quote. Escapes (`\"`, `\\`, `\uXXXX`) are stepped over so a quote or brace inside a
/// string never ends anything.
fn skip_string(bytes: &[u8], mut i: usize) -> Result<usize, VerifyError> {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(malformed("unterminated string"))
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Returns the end index (exclusive) of the JSON value starting at `i`.
fn skip_value(bytes: &[u8], i: usize) -> Result<usize, VerifyError> {
    match bytes.get(i) {
        Some(b'"') => skip_string(bytes, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < bytes.len() {
                match bytes[j] {
                    b'"' => {
                        j = skip_string(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(malformed("unbalanced braces"))
        }
        Some(_) => {
            // Scalars: numbers, true, false, null run until a delimiter.
            let mut j = i;
            while j < bytes.len()
                && !matches!(bytes[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                j += 1;
            }
            if j == i {
                return Err(malformed("empty value"));
            }
            Ok(j)
        }
        None => Err(malformed("truncated")),
    }
}

/// The top-level fields of a JSON object, each with the raw text of its value.
pub fn raw_fields(text: &str) -> Result<Vec<(String, &str)>, VerifyError> {
    let bytes = text.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return Err(malformed("not an object"));
    }
    i = skip_ws(bytes, i + 1);
    let mut out = Vec::new();
    if bytes.get(i) == Some(&b'}') {
        return Ok(out);
    }
    loop {
        if bytes.get(i) != Some(&b'"') {
            return Err(malformed("expected a key"));
        }
        let key_end = skip_string(bytes, i)?;
        let key: String =
            serde_json::from_str(&text[i..key_end]).map_err(|_| malformed("bad key"))?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return Err(malformed("expected ':'"));
        }
        i = skip_ws(bytes, i + 1);
        let end = skip_value(bytes, i)?;
        // Byte offsets sit on ASCII delimiters, so slicing is on char boundaries.
        out.push((key, &text[i..end]));
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b'}') => break,
            _ => return Err(malformed("expected ',' or '}'")),
        }
    }
    if skip_ws(bytes, i + 1) != bytes.len() {
        return Err(malformed("trailing data"));
    }
    Ok(out)
}

/// `alipay.trade.precreate` → `alipay_trade_precreate_response`.
pub fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

/// A response split into its parts; nothing verified yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse<'a> {
    /// The key the payload sat under (`<method>_response` or `error_response`).
    pub key: String,
    /// Raw text of the payload object — what the signature covers.
    pub payload: &'a str,
    pub sign: Option<String>,
    pub alipay_cert_sn: Option<String>,
}

pub fn split_response<'a>(text: &'a str, method: &str) -> Result<RawResponse<'a>, VerifyError> {
    let want = response_key(method);
    let mut payload = None;
    let mut sign = None;
    let mut cert_sn = None;
    for (key, raw) in raw_fields(text)? {
        match key.as_str() {
            // A gateway-level failure (bad app_id, bad signature of ours) comes back as
            // `error_response` instead of the method's key.
            k if k == want || (k == "error_response" && payload.is_none()) => {
                payload = Some((key.clone(), raw))
            }
            "sign" => sign = serde_json::from_str::<String>(raw).ok(),
            "alipay_cert_sn" => cert_sn = serde_json::from_str::<String>(raw).ok(),
            _ => {}
        }
    }
    let (key, payload) = payload.ok_or(VerifyError::MissingField("<method>_response"))?;
    Ok(RawResponse {
        key,
        payload,
        sign,
        alipay_cert_sn: cert_sn,
    })
}

/// The parsed payload plus the business outcome fields.
pub fn parse_payload(raw: &str) -> Result<Value, VerifyError> {
    let v: Value = serde_json::from_str(raw).map_err(|_| malformed("payload is not JSON"))?;
    if !v.is_object() {
        return Err(malformed("payload is not an object"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_fields_respect_strings_and_escapes() {
        let text = r#" {"a_response":{"msg":"x}\"{","n":[1,{"b":"]"}],"u":"\u4e2d\/"} , "sign":"S+/=","z":12.5,"t":true}"#;
        let f = raw_fields(text).expect("scan");
        assert_eq!(f[0].0, "a_response");
        assert_eq!(
            f[0].1,
            r#"{"msg":"x}\"{","n":[1,{"b":"]"}],"u":"\u4e2d\/"}"#
        );
        assert_eq!(f[1], ("sign".to_string(), r#""S+/=""#));
        assert_eq!(f[2].1, "12.5");
        assert_eq!(f[3].1, "true");
    }

    #[test]
    fn raw_fields_reject_broken_json() {
        for bad in [
            r#"{"a":{"b":1}"#,
            r#"{"a":"x}"#,
            r#"["a"]"#,
            r#"{"a":1} x"#,
            r#"{"a" 1}"#,
        ] {
            assert!(raw_fields(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn split_prefers_method_key() {
        let text = r#"{"alipay_trade_query_response":{"code":"10000"},"sign":"abc","alipay_cert_sn":"sn1"}"#;
        let r = split_response(text, "alipay.trade.query").expect("split");
        assert_eq!(r.key, "alipay_trade_query_response");
        assert_eq!(r.payload, r#"{"code":"10000"}"#);
        assert_eq!(r.sign.as_deref(), Some("abc"));
        assert_eq!(r.alipay_cert_sn.as_deref(), Some("sn1"));
        let err = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments"}}"#;
        assert_eq!(
            split_response(err, "alipay.trade.query")
                .expect("split")
                .key,
            "error_response"
        );
    }
}
