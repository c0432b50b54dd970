//! The till: a keypad sale for the counter. Type the amount (keypad, keyboard or a
//! barcode gun's digits), then scan the customer's payment code (付款码): Enter charges it
//! (paid, or waiting for the customer's password with a countdown and a cancel button).
//! "Show a QR code instead" makes the QR code on this till's channel at once.
//!
//! Without JavaScript the form posts to the server functions, which answer with the
//! order's status page (or the till again with the problem), and the keypad is hidden.
//! With it, the island ([`fields::TillFields`]) runs the whole sale in place: the keypad,
//! Enter to the scan field, the wallet named as the digits arrive, the sale's QR code and
//! state followed without a page load (`sale.rs`), and "New sale".

use crate::components::format::money;
use crate::components::layout::{use_session, use_t};
use crate::pages::section::Section;
use crate::server_fns::till::{
    NOTE_MAX_CHARS, TillCharge, TillSettings as TillSettingsSave, TillView, till_setup,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use paydesk_core::limits::confirmation_token;
use paydesk_core::money::{Currency, Money};
use paydesk_core::role::Capability;

mod fields;
mod sale;

use fields::TillFields;

#[component]
pub fn TillPage() -> impl IntoView {
    view! {
        <Section title=|t| t.till.title intro=|t| t.till.intro cap=Capability::Checkout>
            <Till />
        </Section>
    }
}

#[component]
fn Till() -> impl IntoView {
    let t = use_t();
    let setup = Resource::new(|| (), |_| till_setup());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(setup) => view! { <Counter setup /> }.into_any(),
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Counter(setup: TillView) -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    let q = move |k: &str| query.with_untracked(|m| m.get(k).unwrap_or_default());
    let code = q("error");
    let amount = q("amount");
    // A large amount comes back to be confirmed: the next post carries the token of
    // exactly this amount (a changed amount is asked about again).
    let large = (code == "confirm_large")
        .then(|| Money::parse_decimal(amount.trim(), Currency::Cny).ok())
        .flatten();
    let notice = match large {
        Some(m) => Some(view! {
            <p class="notice warn" role="alert" id="till-confirm">{(t.till.err_confirm_large)(&money(m.minor(), "CNY"))}</p>
        }.into_any()),
        None if !code.is_empty() => {
            let text = t
                .till
                .error(&code, &q("detail"))
                .or_else(|| t.checkout.error(&code, "CNY"))
                .unwrap_or_else(|| t.error(&code));
            Some(view! { <p class="notice error" role="alert" id="till-error">{text}</p> }.into_any())
        }
        None => (q("ok") == "saved").then(|| {
            view! { <p class="notice ok" role="status">{t.till.settings_saved}</p> }.into_any()
        }),
    };
    let placeholder = match setup.note.as_str() {
        "" => t.till.default_note.to_string(),
        n => n.to_string(),
    };
    let qr_channel = setup.channel.clone().unwrap_or_default();
    let confirm = large.map(confirmation_token).unwrap_or_default();
    let fields = view! {
        <TillFields lang=use_session().lang amount subject=q("subject") placeholder confirm />
    }
    .into_any();
    view! {
        <section class="card till">
            {notice}
            <form method="post" action=TillCharge::url() id="till-form" autocomplete="off">
                {fields}
            </form>
            <p class="till-links muted">
                <span id="till-qr-channel">{(t.till.qr_on)(&qr_channel)}</span> " · "
                <a href="/display" target="_blank" rel="noopener" id="open-display"
                    title=t.counter.display_open_hint>{t.counter.display_open}</a>
            </p>
        </section>
        <TillSettings setup />
    }
}

/// This till's settings, posted on their own (a form may not hold another).
#[component]
fn TillSettings(setup: TillView) -> impl IntoView {
    let tt = use_t().till;
    let options = setup
        .channels
        .iter()
        .map(|c| {
            let selected = Some(&c.name) == setup.channel.as_ref();
            view! { <option value=c.name.clone() selected=selected>{c.name.clone()}</option> }
        })
        .collect_view();
    view! {
        <details class="card till-settings" id="till-settings">
            <summary>{tt.settings}</summary>
            <form method="post" action=TillSettingsSave::url()>
                <label for="till-channel">{tt.settings_channel}</label>
                <select id="till-channel" name="channel">{options}</select>
                <label for="till-default-note">{tt.settings_note}</label>
                <input id="till-default-note" name="note" type="text" maxlength=NOTE_MAX_CHARS.to_string()
                    value=setup.note.clone() aria-describedby="till-default-note-hint" />
                <small id="till-default-note-hint" class="muted">{tt.settings_note_hint}</small>
                <div class="actions">
                    <button type="submit" id="till-settings-save">{tt.settings_save}</button>
                </div>
            </form>
        </details>
    }
}

/// Keypad input: what one key does to the amount text (at most two decimals, one point,
/// no leading zeros).
pub fn press(amount: &str, key: &str) -> String {
    let mut a = amount.to_string();
    match key {
        "C" => a.clear(),
        "back" => {
            a.pop();
        }
        "." if !a.contains('.') => {
            if a.is_empty() {
                a.push('0');
            }
            a.push('.');
        }
        "." => {}
        digits => {
            for d in digits.chars().filter(char::is_ascii_digit) {
                let decimals = a.split_once('.').map(|(_, f)| f.len());
                if decimals.is_some_and(|n| n >= 2) || a.len() >= 12 {
                    break;
                }
                if a == "0" {
                    a.clear();
                }
                a.push(d);
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::press;

    #[test]
    fn the_keypad_builds_amounts() {
        let typed = |keys: &[&str]| keys.iter().fold(String::new(), |a, k| press(&a, k));
        assert_eq!(typed(&["1", "2", ".", "5", "0"]), "12.50");
        assert_eq!(
            typed(&["1", "2", ".", "5", "0", "9"]),
            "12.50",
            "two decimals"
        );
        assert_eq!(typed(&[".", "5"]), "0.5");
        assert_eq!(typed(&["0", "0", "7"]), "7", "no leading zeros");
        assert_eq!(typed(&["1", "00"]), "100");
        assert_eq!(typed(&["1", ".", "."]), "1.");
        assert_eq!(typed(&["1", "2", "back"]), "1");
        assert_eq!(typed(&["1", "2", "C"]), "");
        assert_eq!(typed(&["back"]), "");
        assert_eq!(typed(&["9"; 20]).len(), 12, "bounded");
    }
}
