//! Secrets shown exactly once, after a redirect: the post that makes one puts it in the
//! session sealed with the master key (never in a URL, a log line or the page cache), the
//! GET page it redirects to takes it out, and any later GET (Back, reload) finds nothing.
//! So a form post is always answered with a redirect (Back never resubmits) and the
//! secret is still shown once.

use paydesk_core::auth::AuthSession;
use paydesk_core::provider::secret::SecretString;
use paydesk_core::vault::MasterKey;

/// What the sealed value is bound to: its kind and the user it was made for, so it opens
/// only for them and only as what it is.
fn aad(kind: &str, username: &str) -> String {
    format!("shown-once:{kind}:{username}")
}

fn key(kind: &str) -> String {
    format!("paydesk.shown_once.{kind}")
}

/// Keeps `values` (single lines: names, keys, passwords) for the next [`take`] of
/// `kind` by `username` in this session.
pub async fn put(
    auth: &AuthSession,
    master: &MasterKey,
    kind: &str,
    username: &str,
    values: &[&str],
) -> Result<(), String> {
    if values.iter().any(|v| v.contains('\n')) {
        return Err("a shown-once value spans lines".into());
    }
    let sealed = master.seal(&aad(kind, username), &SecretString::new(values.join("\n")));
    auth.session
        .insert(&key(kind), sealed)
        .await
        .map_err(|e| e.to_string())
}

/// The values [`put`] kept, once: they are removed from the session as they are read.
pub async fn take(
    auth: &AuthSession,
    master: &MasterKey,
    kind: &str,
    username: &str,
) -> Option<Vec<String>> {
    let sealed: String = auth.session.remove(&key(kind)).await.ok().flatten()?;
    let plain = master.open(&aad(kind, username), &sealed).ok()?;
    Some(plain.expose().split('\n').map(str::to_string).collect())
}
