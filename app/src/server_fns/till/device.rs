//! The till device's own settings (cookies on the device at the counter), the note a sale
//! gets, the way back to the till with a problem, and the large-amount check.

use super::{CHANNEL_COOKIE, NOTE_COOKIE};
use crate::guard::Caller;
use crate::server_fns::orders::encode;
use axum::http::{HeaderMap, HeaderValue, header};
use paydesk_core::limits::{AmountCheck, check, confirmation_token};
use paydesk_core::money::Money;

/// `/till?error=…` with the amount and note kept (never the code: it is single use).
pub fn till_url(code: &str, amount: &str, subject: &str, detail: &str) -> String {
    format!(
        "/till?error={}&amount={}&subject={}&detail={}",
        encode(code),
        encode(amount),
        encode(subject),
        encode(detail)
    )
}

/// What stops this sale before anything is stored: the channel's maximum, or a large
/// amount not yet confirmed (`confirm_large`).
pub async fn amount_problem(
    caller: &Caller,
    channel: &str,
    amount: Money,
    confirm: &str,
) -> Option<&'static str> {
    let limit = match caller
        .payments
        .amount_limit_of(channel, amount.currency())
        .await
    {
        Ok(l) => l,
        Err(e) => {
            return Some(crate::server_fns::checkout::ssr::refused(
                &e,
                &caller.user.username,
            ));
        }
    };
    match check(&limit, amount, confirm == confirmation_token(amount)) {
        AmountCheck::Ok => None,
        AmountCheck::TooLarge => Some("amount_over_limit"),
        AmountCheck::NeedsConfirmation => Some("confirm_large"),
    }
}

/// The typed note, else this till's default note, else the language's "Counter sale".
pub async fn note_or_default(typed: &str) -> String {
    if !typed.trim().is_empty() {
        return typed.trim().to_string();
    }
    let (_, note) = remembered().await;
    if !note.is_empty() {
        return note;
    }
    let (lang, _) = crate::guard::request_preferences().await;
    lang.t().till.default_note.to_string()
}

/// This till's remembered channel and note.
pub async fn remembered() -> (Option<String>, String) {
    let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let get = |name| crate::preferences::cookie_value(cookies, name).map(percent_decode);
    let note: String = get(NOTE_COOKIE)
        .unwrap_or_default()
        .chars()
        .take(super::NOTE_MAX_CHARS)
        .collect();
    (get(CHANNEL_COOKIE).filter(|c| !c.is_empty()), note)
}

/// A year-long cookie of `value` (percent-encoded) on this device.
pub fn set_cookie(name: &str, value: &str) {
    let cookie = format!(
        "{name}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        encode(value)
    );
    if let (Ok(v), Some(resp)) = (
        HeaderValue::from_str(&cookie),
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) {
        resp.append_header(header::SET_COOKIE, v);
    }
}

/// `%XX` back to bytes; anything malformed is kept as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn notes_survive_the_cookie() {
        let note = "咖啡 & tea; 100%";
        assert_eq!(super::percent_decode(&super::encode(note)), note);
        assert_eq!(super::percent_decode("%zz%4"), "%zz%4");
    }
}
