//! Server functions: the till (merchant, admin). Charging the customer's payment code and
//! showing a QR code are form posts that answer with a redirect: to the order's status
//! page (paid, waiting for the customer's password, or the QR code), or back to
//! `/till?error=<code>&…` with the amount and note kept, so the cashier only scans again.
//!
//! The till's own settings (the QR code's channel and the default note, e.g. the shop's
//! name) belong to the device at the counter: they are kept in cookies on it.

use crate::server_fns::checkout::{ChannelChoice, CheckoutView, LiveState};
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
    let (remembered, note) = device::remembered().await;
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
        device::set_cookie(CHANNEL_COOKIE, channel);
    }
    let note: String = note.trim().chars().take(NOTE_MAX_CHARS).collect();
    device::set_cookie(NOTE_COOKIE, &note);
    leptos_axum::redirect("/till?ok=saved");
    Ok(())
}

/// A sale the till was asked for: what the cashier typed and scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleInput {
    pub amount: String,
    pub subject: String,
    /// The customer's payment code; empty for a QR code.
    pub auth_code: String,
    /// The token of a large amount the cashier confirmed (`limits::confirmation_token`).
    pub confirm: String,
}

/// Why a sale did not start: a problem code for `TillText::error` (and the others), and the
/// provider's words for a decline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleProblem {
    pub code: String,
    pub detail: String,
}

/// What the till's island gets back (JavaScript: no page load): the started sale's status
/// view, or why it did not start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaleAnswer {
    Started(Box<CheckoutView>),
    Refused(SaleProblem),
}

/// Charges the customer's payment code (付款码) for `amount` CNY (a form post without
/// JavaScript): to the order's status page, or back to the till with the problem. The
/// channel is the first enabled one that charges the code's wallet. An amount above that
/// channel's "large amount" comes back to be confirmed (`confirm` then carries the token of
/// exactly that amount, and the cashier scans again).
#[server(prefix = "/rpc", endpoint = "till_charge")]
pub async fn till_charge(
    amount: String,
    #[server(default)] subject: String,
    #[server(default)] auth_code: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let input = SaleInput {
        amount,
        subject,
        auth_code,
        confirm,
    };
    let started = sale::charge_code(&caller, &input).await;
    sale::redirect(started, &input);
    Ok(())
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
    let input = SaleInput {
        amount,
        subject,
        auth_code: String::new(),
        confirm,
    };
    let started = sale::show_qr(&caller, &input).await?;
    sale::redirect(started, &input);
    Ok(())
}

/// The same two sales for the till's island (JavaScript): the status view to draw in
/// place, or the problem; no redirect, no page load. A code when `auth_code` is set, else
/// a QR code.
#[server(prefix = "/rpc", endpoint = "till_sale")]
pub async fn till_sale(input: SaleInput) -> Result<SaleAnswer, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let started = if input.auth_code.trim().is_empty() {
        sale::show_qr(&caller, &input).await?
    } else {
        sale::charge_code(&caller, &input).await
    };
    Ok(match started {
        Ok(no) => SaleAnswer::Started(Box::new(super::checkout::checkout_status(no).await?)),
        Err(problem) => SaleAnswer::Refused(problem),
    })
}

/// Cancels the island's pending sale (closed, or cancelled at the provider for a code)
/// and says what it is now; an order that was paid meanwhile stays paid.
#[server(prefix = "/rpc", endpoint = "till_cancel")]
pub async fn till_cancel(no: String) -> Result<LiveState, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let order = super::checkout::ssr::visible_order(&caller, &no).await?;
    let cause = paydesk_core::order::Cause::User(caller.user.username.clone());
    if let Err(e) = caller.payments.close(&order.out_trade_no, &cause).await {
        tracing::info!(error = %e, "till cancel refused");
    }
    let now = super::checkout::ssr::visible_order(&caller, &no).await?;
    Ok(LiveState {
        status: now.status,
        paid_at: now.paid_at,
    })
}

#[cfg(feature = "ssr")]
mod sale;

#[cfg(feature = "ssr")]
mod device;
