//! Secret values and masking.
//!
//! Channel credentials (Stripe secret keys, webhook secrets, the WeChat APIv3 key, private
//! keys) live in types whose `Debug` prints nothing secret, so a `{:?}` of a channel config in
//! a log line or a panic message cannot leak them. Masking helpers for what *is* logged (URLs
//! of provider calls) live here too, so every provider masks the same way.

use std::fmt;

/// A secret string. `Debug`/`Display` print a fixed placeholder; read it with [`expose`].
///
/// [`expose`]: SecretString::expose
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(s.into())
    }

    /// The secret itself. Call sites are easy to grep for.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString::new(s)
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(s)
    }
}

/// Query/form parameter names whose values are never recorded.
const SECRET_PARAM_NAMES: &[&str] = &[
    "sign",
    "signature",
    "key",
    "secret",
    "token",
    "access_token",
    "client_secret",
    "password",
    "api_key",
];

fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAM_NAMES.contains(&lower.as_str()) || lower.ends_with("_secret")
}

/// A URL as it may be recorded: user-info dropped, values of secret-looking query parameters
/// (`sign`, `signature`, `…_secret`, …) replaced with `***`.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        // Not a URL we can reason about: record only the part before any query string.
        return raw.split(['?', '#']).next().unwrap_or("").to_string();
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    url.to_string()
}

/// Masks an identifier that is not secret but should not be logged whole (an API key prefix
/// is enough to tell test from live): keeps the first `keep` characters.
pub fn mask_tail(s: &str, keep: usize) -> String {
    let head: String = s.chars().take(keep).collect();
    format!("{head}***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret() {
        let s = SecretString::new("sk_live_abc");
        assert_eq!(format!("{s:?}"), "SecretString(***)");
        assert_eq!(s.expose(), "sk_live_abc");
    }

    #[test]
    fn masks_signature_params() {
        let m = mask_url(
            "https://u:p@h.example/gateway.do?charset=utf-8&sign=AAA%2B&client_secret=x#f",
        );
        assert_eq!(
            m,
            "https://h.example/gateway.do?charset=utf-8&sign=***&client_secret=***"
        );
        assert_eq!(mask_url("not a url?sign=1"), "not a url");
        assert_eq!(mask_tail("sk_test_123456", 8), "sk_test_***");
    }
}
