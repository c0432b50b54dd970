//! The large-amount step of the checkout form: an amount above the channel's "large
//! amount" comes back as `/checkout?confirm=1&channel=…&amount=…&currency=…&subject=…`
//! (the same redirect with and without JavaScript), and this card asks "Yes, charge
//! ¥12,345.00" before the QR code is created. The button posts the same form again with
//! `confirm` set to the token of exactly the amount shown, so the server knows this
//! amount, and no other, was confirmed.

use crate::components::format::money;
use crate::components::layout::use_t;
use crate::server_fns::checkout::{ChannelChoice, CreateCheckout, fields_query};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use paydesk_core::limits::confirmation_token;
use paydesk_core::money::{Currency, Money};

/// A confirmation the query asks for, read back from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub channel: String,
    /// As typed (posted again unchanged).
    pub amount_text: String,
    pub amount: Money,
    pub subject: String,
}

/// The confirmation `?confirm=1` asks for, when the query names an offered channel and
/// an amount that reads; otherwise the plain form is shown (with what was typed).
pub fn asked(channels: &[ChannelChoice], q: &ParamsMap) -> Option<Asked> {
    if q.get("confirm").as_deref() != Some("1") {
        return None;
    }
    let channel = q.get("channel")?;
    channels.iter().find(|c| c.name == channel)?;
    let currency = Currency::from_code(q.get("currency")?.trim()).ok()?;
    let amount_text = q.get("amount")?;
    let amount = Money::parse_decimal(amount_text.trim(), currency).ok()?;
    Some(Asked {
        channel,
        amount_text,
        amount,
        subject: q.get("subject").unwrap_or_default(),
    })
}

#[component]
pub fn ConfirmStep(asked: Asked) -> impl IntoView {
    let tc = use_t().checkout;
    let action = ServerAction::<CreateCheckout>::new();
    let code = asked.amount.currency().code();
    let shown = money(asked.amount.minor(), code);
    let change = format!(
        "/checkout?{}",
        fields_query(&asked.channel, &asked.amount_text, code, &asked.subject)
    );
    view! {
        <section class="card checkout-form checkout-confirm" id="checkout-confirm">
            <h2>{tc.confirm_heading}</h2>
            <p class="notice warn" role="alert">{(tc.confirm_text)(&shown, &asked.channel)}</p>
            <p class="num amount" id="confirm-amount">{shown.clone()}</p>
            <p class="subject">{asked.subject.clone()}</p>
            <ActionForm action=action attr:id="confirm-form">
                <input type="hidden" name="channel" value=asked.channel.clone() />
                <input type="hidden" name="amount" value=asked.amount_text.clone() />
                <input type="hidden" name="currency" value=code />
                <input type="hidden" name="subject" value=asked.subject.clone() />
                <input type="hidden" name="confirm" value=confirmation_token(asked.amount) />
                <div class="actions">
                    <button type="submit" class="primary" id="confirm-charge">{(tc.confirm_yes)(&shown)}</button>
                    <a class="button" href=change id="confirm-change">{tc.confirm_change}</a>
                </div>
            </ActionForm>
        </section>
    }
}
