//! Server functions: the till (merchant, admin). Charging the customer's payment code and
//! showing a QR code are form posts that answer with a redirect: to the order's status
//! page (paid, waiting for the customer's password, or the QR code), or back to
//! `/till?error=<code>&…` with the amount and note kept, so the cashier only scans again.
//!
//! The till's own settings (the QR code's channel and the default note, e.g. the shop's
//! name) belong to the device at the counter: they are kept in cookies on it.

use crate::server_fns::checkout::ChannelChoice;
use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The cookie with this till's QR channel.
pub const CHANNEL_COOKIE: &str = "paydesk_till_channel";
/// The cookie with this till's default note (percent-encoded).
pub const NOTE_COOKIE: &str = "paydesk_till_note";
/// The longest note (the providers' subject limit is 128 characters).
pub const NOTE_MAX_CHARS: usize = 128;

/// What the till page needs besides the query: the channels a QR code can be shown on,
/// the one this till uses, and its default note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillView {
    pub channels: Vec<ChannelChoice>,
    /// This till's QR channel: the remembered one if it is still offered, else the first.
    pub channel: Option<String>,
    pub note: String,
}

#[server(prefix = "/rpc", endpoint = "till_setup")]
pub async fn till_setup() -> Result<TillView, AppError> {
    use paydesk_core::role::Capability;
    crate::guard::require(Capability::Checkout).await?;
    let channels = super::checkout::checkout_channels().await?;
    let (remembered, note) = ssr::remembered().await;
    let channel = channels
        .iter()
        .find(|c| Some(&c.name) == remembered.as_ref())
        .or(channels.first())
        .map(|c| c.name.clone());
    Ok(TillView {
        channels,
        channel,
        note,
    })
}

/// Remembers this till's QR channel and default note on this device, then back to the
/// till.
#[server(prefix = "/rpc", endpoint = "till_settings")]
pub async fn till_settings(
    #[server(default)] channel: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let channel = channel.trim();
    let known = caller
        .store
        .channel(channel)
        .await
        .map_err(crate::guard::internal)?
        .is_some();
    if known {
        ssr::set_cookie(CHANNEL_COOKIE, channel);
    }
    let note: String = note.trim().chars().take(NOTE_MAX_CHARS).collect();
    ssr::set_cookie(NOTE_COOKIE, &note);
    leptos_axum::redirect("/till?ok=saved");
    Ok(())
}

/// Charges the customer's payment code (付款码) for `amount` CNY; the channel is the
/// first enabled one that charges the code's wallet. An amount above that channel's
/// "large amount" comes back to the till to be confirmed (`confirm` then carries the
/// token of exactly that amount, and the cashier scans again).
#[server(prefix = "/rpc", endpoint = "till_charge")]
pub async fn till_charge(
    amount: String,
    #[server(default)] subject: String,
    #[server(default)] auth_code: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use paydesk_core::payment_code::{CodeProblem, PaymentCode};
    use paydesk_core::payments::{CodePayOutcome, CodePaymentRequest, PaymentError};
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let back = |code: &str, detail: &str| {
        leptos_axum::redirect(&ssr::till_url(code, &amount, &subject, detail));
        Ok(())
    };
    let money = match super::checkout::ssr::parse_amount(&amount, "CNY") {
        Ok(m) => m,
        Err(code) => return back(code, ""),
    };
    if auth_code.trim().is_empty() {
        return back("code_missing", "");
    }
    let code = match PaymentCode::parse(&auth_code) {
        Ok(c) => c,
        Err(CodeProblem::NotDigits) => return back("code_not_digits", ""),
        Err(CodeProblem::Unknown) => return back("code_unknown", ""),
    };
    let channel = match caller.payments.code_channel(None, code.wallet()).await {
        Ok(c) => c,
        Err(PaymentError::Invalid { .. }) => return back("no_code_channel", ""),
        Err(e) => return back(super::checkout::ssr::refused(&e, &caller.user.username), ""),
    };
    if let Some(problem) = ssr::amount_problem(&caller, &channel, money, &confirm).await {
        return back(problem, "");
    }
    let req = CodePaymentRequest {
        channel: Some(channel),
        amount: money,
        subject: ssr::note_or_default(&subject).await,
        code,
        out_trade_no: None,
        merchant_notify_url: None,
        api_key_id: None,
        cause: paydesk_core::order::Cause::User(caller.user.username.clone()),
    };
    match caller.payments.pay_by_code(req).await {
        Ok((_, CodePayOutcome::Declined { code, message })) => {
            back("declined", format!("{code} {message}").trim())
        }
        Ok((order, _)) => {
            leptos_axum::redirect(&format!("/checkout/{}", order.out_trade_no));
            Ok(())
        }
        Err(PaymentError::Invalid {
            field: "auth_code", ..
        }) => back("no_code_channel", ""),
        Err(e) => back(super::checkout::ssr::refused(&e, &caller.user.username), ""),
    }
}

/// Shows a QR code for `amount` CNY on this till's channel at once (no second form).
#[server(prefix = "/rpc", endpoint = "till_qr")]
pub async fn till_qr(
    amount: String,
    #[server(default)] subject: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let back = |code: &str| {
        leptos_axum::redirect(&ssr::till_url(code, &amount, &subject, ""));
        Ok(())
    };
    let money = match super::checkout::ssr::parse_amount(&amount, "CNY") {
        Ok(m) => m,
        Err(code) => return back(code),
    };
    let Some(channel) = till_setup().await?.channel else {
        return back("no_qr_channel");
    };
    if let Some(problem) = ssr::amount_problem(&caller, &channel, money, &confirm).await {
        return back(problem);
    }
    let req = paydesk_core::payments::CheckoutRequest {
        channel,
        amount: money,
        subject: ssr::note_or_default(&subject).await,
        out_trade_no: None,
        expires_in_secs: None,
        merchant_notify_url: None,
        api_key_id: None,
        cause: paydesk_core::order::Cause::User(caller.user.username.clone()),
    };
    match caller.payments.create_checkout(req).await {
        Ok(order) => {
            leptos_axum::redirect(&format!("/checkout/{}", order.out_trade_no));
            Ok(())
        }
        Err(e) => back(super::checkout::ssr::refused(&e, &caller.user.username)),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
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
}
