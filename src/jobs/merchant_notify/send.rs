//! One attempt: checking the URL, signing the body and posting it, and what came back
//! ([`Sent`], before it is recorded).

use super::notify_url::{literal_ip, validate_notify_url};
use super::signature::{EVENT_HEADER, NOTIFICATION_ID_HEADER, SIGNATURE_HEADER, sign_header};
use super::worker::Inner;
use crate::jobs::address_guard;
use crate::provider::secret::SecretString;
use crate::store::{ClaimedMerchantNotification, StoreError};
use crate::time::now_ms;

/// How much of an answer is read, at most, for the attempt record.
const MAX_RESPONSE_BYTES: usize = 1024;

/// The outcome of one send, before it is recorded.
pub(super) struct Sent {
    pub(super) status: Option<u16>,
    pub(super) error: Option<String>,
    pub(super) response: Option<String>,
    /// Retrying cannot help (bad URL, no signing secret): give up now.
    pub(super) permanent: bool,
}

impl Sent {
    fn permanent(error: impl Into<String>) -> Sent {
        Sent {
            status: None,
            error: Some(error.into()),
            response: None,
            permanent: true,
        }
    }

    fn transient(error: impl Into<String>) -> Sent {
        Sent {
            permanent: false,
            ..Sent::permanent(error)
        }
    }
}

/// Whether the address guard caused this error (somewhere down its source chain).
fn is_forbidden(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<address_guard::ForbiddenAddress>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// A reqwest error as one line: what failed and why, without the URL (which may carry a
/// token in its query).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

impl Inner {
    async fn secret(&self, api_key_id: &str) -> Result<SecretString, Sent> {
        match self
            .store
            .api_key_signing_secret(api_key_id, &self.master)
            .await
        {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => Err(Sent::permanent(
                "the order's API key has no signing secret (it was created before merchant \
                 notifications existed); create a new API key for this merchant",
            )),
            Err(StoreError::NotFound) => Err(Sent::permanent("the order's API key does not exist")),
            // Wrong master key (a configuration fix away) or a database hiccup: retry.
            Err(e) => Err(Sent::transient(format!(
                "cannot read the signing secret: {e}"
            ))),
        }
    }

    pub(super) async fn send(&self, n: &ClaimedMerchantNotification) -> Sent {
        if let Err(e) = validate_notify_url(&n.url) {
            return Sent::permanent(e.to_string());
        }
        // An IP literal never goes through the resolver: check it here.
        if let Some(ip) = literal_ip(&n.url)
            && !address_guard::allowed(ip, self.settings.allow_loopback)
        {
            return Sent::permanent(address_guard::ForbiddenAddress.to_string());
        }
        let secret = match self.secret(&n.api_key_id).await {
            Ok(s) => s,
            Err(sent) => return sent,
        };
        let t = now_ms().div_euclid(1000);
        let signature = sign_header(secret.expose(), t, n.body.as_bytes());
        drop(secret);
        let result = self
            .http
            .post(&n.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_HEADER, &n.event)
            .header(NOTIFICATION_ID_HEADER, &n.id)
            .body(n.body.clone())
            .send()
            .await;
        let mut resp = match result {
            Ok(r) => r,
            // The guard refused every address: retrying cannot help.
            Err(e) if is_forbidden(&e) => {
                return Sent::permanent(address_guard::ForbiddenAddress.to_string());
            }
            Err(e) => return Sent::transient(describe(e)),
        };
        let status = resp.status().as_u16();
        // Only the start of the answer is kept; the rest is not read.
        let mut body = Vec::new();
        let mut error = None;
        while body.len() < MAX_RESPONSE_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    error = Some(format!("reading the answer: {}", describe(e)));
                    break;
                }
            }
        }
        body.truncate(MAX_RESPONSE_BYTES);
        let text = String::from_utf8_lossy(&body).into_owned();
        Sent {
            status: Some(status),
            error: error.or_else(|| {
                (!(200..300).contains(&status)).then(|| match status {
                    300..=399 => format!("HTTP {status} (redirects are not followed)"),
                    _ => format!("HTTP {status}"),
                })
            }),
            response: (!text.is_empty()).then_some(text),
            permanent: false,
        }
    }
}
