//! API v2 signatures (`sign`): the non-empty fields except `sign`, sorted by name in ASCII
//! order, joined as `k=v&k=v`, then `&key=API_KEY` appended; the `MD5` or `HMAC-SHA256`
//! (keyed with the API key) of that, in upper-case hex. Requests, answers with
//! `return_code=SUCCESS` and payment notifications are all signed this way; the refund
//! notification is not (its `req_info` is encrypted instead, see [`super::crypt`]).

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

use super::xml::XmlMap;
use crate::provider::VerifyError;
use crate::provider::crypto::ct_eq;
use crate::provider::secret::SecretString;

/// The `sign_type` of a request (and so of its answer and of the notifications it causes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignType {
    /// WeChat's default when `sign_type` is absent.
    #[default]
    Md5,
    HmacSha256,
}

impl SignType {
    /// The wire value of `sign_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// Reads a `sign_type` value; anything but the two published ones is refused.
    pub fn parse(s: &str) -> Result<SignType, VerifyError> {
        match s {
            "MD5" => Ok(SignType::Md5),
            "HMAC-SHA256" => Ok(SignType::HmacSha256),
            other => Err(VerifyError::UnsupportedSignType(
                other.chars().take(32).collect(),
            )),
        }
    }
}

/// The string that is hashed: `k=v&…&key=API_KEY`. Contains the key: never log it.
fn string_to_sign<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    api_key: &SecretString,
) -> SecretString {
    let mut pairs: Vec<(&str, &str)> = fields
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut s = String::new();
    for (k, v) in pairs {
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('&');
    }
    s.push_str("key=");
    s.push_str(api_key.expose());
    SecretString::new(s)
}

/// The `sign` of `fields` (any `sign` among them is ignored).
pub fn sign<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    sign_type: SignType,
    api_key: &SecretString,
) -> String {
    let msg = string_to_sign(fields, api_key);
    let digest = match sign_type {
        SignType::Md5 => Md5::digest(msg.expose().as_bytes()).to_vec(),
        SignType::HmacSha256 => {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(api_key.expose().as_bytes()) else {
                unreachable!("HMAC takes keys of any length");
            };
            mac.update(msg.expose().as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    hex::encode_upper(digest)
}

/// Signs `map` in place: sets `sign` (and `sign_type` for HMAC-SHA256, which the gateway
/// needs to know before it can check the signature; it is part of the signed fields).
pub fn sign_map(map: &mut XmlMap, sign_type: SignType, api_key: &SecretString) {
    map.remove("sign");
    if sign_type == SignType::HmacSha256 {
        map.set("sign_type", sign_type.as_str());
    }
    let s = sign(map.iter(), sign_type, api_key);
    map.set("sign", s);
}

/// Checks the `sign` of a received message in constant time.
pub fn verify(
    map: &XmlMap,
    sign_type: SignType,
    api_key: &SecretString,
) -> Result<(), VerifyError> {
    let given = map
        .require("sign")
        .map_err(|_| VerifyError::MissingField("sign"))?;
    let expected = sign(map.iter(), sign_type, api_key);
    // WeChat writes upper case; accept either case of the same digest.
    if ct_eq(given.to_ascii_uppercase().as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of WeChat Pay's "安全规范 / 签名算法" page (pay.weixin.qq.com, API v2,
    /// chapter 4_3): both values are printed there, and independent SDK test suites (Go
    /// and Java v2 clients found on GitHub) assert the same two values.
    const DOC_FIELDS: [(&str, &str); 5] = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ];
    const DOC_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    #[test]
    fn known_answer_md5_from_the_docs() {
        let key = SecretString::new(DOC_KEY);
        assert_eq!(
            sign(DOC_FIELDS, SignType::Md5, &key),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
    }

    #[test]
    fn known_answer_hmac_sha256_from_the_docs() {
        let key = SecretString::new(DOC_KEY);
        assert_eq!(
            sign(DOC_FIELDS, SignType::HmacSha256, &key),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }

    #[test]
    fn empty_values_and_sign_are_not_signed() {
        let key = SecretString::new(DOC_KEY);
        let mut with_extra: Vec<(&str, &str)> = DOC_FIELDS.to_vec();
        with_extra.push(("no_value", ""));
        with_extra.push(("sign", "WHATEVER"));
        assert_eq!(
            sign(with_extra, SignType::Md5, &key),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let key = SecretString::new("k".repeat(32));
        for st in [SignType::Md5, SignType::HmacSha256] {
            let mut m = XmlMap::new();
            m.set("total_fee", "100");
            m.set("out_trade_no", "A1");
            sign_map(&mut m, st, &key);
            let parsed = super::super::xml::parse(m.to_xml().as_bytes()).expect("parse");
            verify(&parsed, st, &key).expect("verifies");
            let other = if st == SignType::Md5 {
                SignType::HmacSha256
            } else {
                SignType::Md5
            };
            assert_eq!(verify(&parsed, other, &key), Err(VerifyError::BadSignature));
            let mut tampered = parsed.clone();
            tampered.set("total_fee", "1");
            assert_eq!(verify(&tampered, st, &key), Err(VerifyError::BadSignature));
            let wrong = SecretString::new("x".repeat(32));
            assert_eq!(verify(&parsed, st, &wrong), Err(VerifyError::BadSignature));
            let mut unsigned = parsed.clone();
            unsigned.remove("sign");
            assert_eq!(
                verify(&unsigned, st, &key),
                Err(VerifyError::MissingField("sign"))
            );
        }
    }

    #[test]
    fn sign_type_values() {
        assert_eq!(SignType::parse("MD5"), Ok(SignType::Md5));
        assert_eq!(SignType::parse("HMAC-SHA256"), Ok(SignType::HmacSha256));
        assert!(SignType::parse("SHA1").is_err());
    }
}
