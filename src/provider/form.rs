//! `application/x-www-form-urlencoded`, strictly.
//!
//! Alipay notifications and the Alipay/Stripe request bodies are forms. A notification must be
//! decoded **exactly once**: a literal `+` in a subject arrives as `%2B`, and decoding twice
//! turns it into a space, which breaks the signature (a real, often-reported SDK bug). The
//! decoder here is strict where `form_urlencoded::parse` is lenient: invalid percent escapes
//! and invalid UTF-8 are errors instead of being passed through or replaced, so we never
//! verify a signature over text that differs from what the provider signed.

/// Why a form body was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("invalid percent escape in form body")]
    BadEscape,
    #[error("form body is not valid UTF-8")]
    NotUtf8,
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode_component(raw: &[u8]) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            // In forms, `+` is an encoded space. A literal plus is always `%2B`.
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_val);
                let lo = raw.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(FormError::BadEscape),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8)
}

/// Decodes a form body once, keeping order and duplicates. Empty segments (`a=1&&b=2`) are
/// skipped; a segment without `=` is a key with an empty value.
pub fn decode(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    body.split(|b| *b == b'&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| {
            let (k, v) = match seg.iter().position(|b| *b == b'=') {
                Some(p) => (&seg[..p], &seg[p + 1..]),
                None => (seg, &[][..]),
            };
            Ok((decode_component(k)?, decode_component(v)?))
        })
        .collect()
}

/// Encodes pairs as a form body (spaces as `+`, everything outside `*-._` and
/// alphanumerics percent-encoded).
pub fn encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k.as_ref(), v.as_ref());
    }
    ser.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once() {
        let pairs = decode(b"subject=%E4%BC%9A%E5%91%98%2B1+x&empty=&flag").expect("decode");
        assert_eq!(
            pairs,
            vec![
                ("subject".into(), "会员+1 x".into()),
                ("empty".into(), "".into()),
                ("flag".into(), "".into())
            ]
        );
    }

    #[test]
    fn strict_errors() {
        assert_eq!(decode(b"a=%zz"), Err(FormError::BadEscape));
        assert_eq!(decode(b"a=%4"), Err(FormError::BadEscape));
        assert_eq!(decode(b"a=%C3%28"), Err(FormError::NotUtf8));
    }

    #[test]
    fn round_trips() {
        let pairs = vec![("k y".to_string(), "a+b &=%/会".to_string())];
        assert_eq!(decode(encode(&pairs).as_bytes()), Ok(pairs));
    }
}
