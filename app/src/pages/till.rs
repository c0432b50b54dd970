//! The till: a keypad sale for the counter. Type the amount (keypad, keyboard or a
//! barcode gun's digits), then scan the customer's payment code (付款码): Enter charges it
//! and the order's status page follows it (paid, or waiting for the customer's password
//! with a countdown and a cancel button). "Show a QR code instead" takes the amount and
//! note to the checkout form.
//!
//! Without JavaScript the form posts to the server function and the keypad is hidden (the
//! keyboard types the amount). With it, the keypad ([`TillFields`], an island) edits the
//! amount, Enter in the amount moves to the scan field, and the scan field names the
//! wallet its digits belong to.

use crate::components::format::money;
use crate::components::layout::{provide_lang, use_session, use_t};
use crate::i18n::Lang;
use crate::pages::section::Section;
use crate::server_fns::till::{
    NOTE_MAX_CHARS, TillCharge, TillQr, TillSettings as TillSettingsSave, TillView, till_setup,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use paydesk_core::limits::confirmation_token;
use paydesk_core::money::{Currency, Money};
use paydesk_core::payment_code::{Wallet, recognise};
use paydesk_core::role::Capability;

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
            <input type="hidden" name="confirm" form="till-form" value=confirmation_token(m) />
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
    let fields = view! {
        <TillFields lang=use_session().lang amount subject=q("subject") placeholder />
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

#[island]
fn TillFields(lang: Lang, amount: String, subject: String, placeholder: String) -> impl IntoView {
    provide_lang(lang);
    let t = lang.t();
    let tt = t.till;
    // `value` for the server's HTML (no JavaScript: what was typed before a refusal comes
    // back), `prop:value` for the keypad's edits.
    let typed = amount.clone();
    let amount = RwSignal::new(amount);
    let code = RwSignal::new(String::new());
    let scan_ref = NodeRef::<leptos::html::Input>::new();
    // Set once the island runs in the browser: without JavaScript the keypad's buttons
    // would do nothing, so it stays hidden (`.keypad:not(.ready)`).
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let key = move |k: &'static str| move |_| amount.update(|a| *a = press(a, k));
    let keys = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "00", "0", "."]
        .into_iter()
        .map(|k| view! { <button type="button" class="key" on:click=key(k)>{k}</button> })
        .collect_view();
    let wallet = move || {
        let digits: String = code.get().chars().filter(char::is_ascii_digit).collect();
        match recognise(&digits) {
            Some(Wallet::Alipay) => tt.wallet_alipay,
            Some(Wallet::Wechat) => tt.wallet_wechat,
            None => "",
        }
    };
    // Enter in the amount goes on to the scan field (a barcode gun ends with Enter too,
    // which then submits the form from there).
    let amount_enter = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            if let Some(input) = scan_ref.get() {
                let _ = input.focus();
            }
        }
    };
    // Built in parts (`into_any`): one nested view type this large overflows the
    // compiler's query depth in release builds.
    // The amount as the customer will see it (currency, thousands separators).
    let total = move || {
        let a = amount.get();
        Money::parse_decimal(a.trim(), Currency::Cny)
            .map(|m| money(m.minor(), "CNY"))
            .unwrap_or_else(|_| money(0, "CNY"))
    };
    let entry = view! {
            <div class="till-entry">
                <p class="till-total num" id="till-total" aria-live="polite">{total}</p>
                <label for="till-amount">{tt.amount}</label>
                <input id="till-amount" name="amount" class="till-amount num" type="text"
                    inputmode="decimal" required autofocus value=typed
                    prop:value=move || amount.get()
                    on:input=move |ev| amount.set(event_target_value(&ev))
                    on:keydown=amount_enter />
                <label for="till-scan">{tt.scan}</label>
                <input id="till-scan" name="auth_code" class="till-scan mono" type="text"
                    inputmode="numeric" aria-describedby="till-scan-hint" node_ref=scan_ref
                    prop:value=move || code.get()
                    on:input=move |ev| code.set(event_target_value(&ev)) />
                <small id="till-scan-hint" class="muted">{tt.scan_hint}</small>
                <p class="till-wallet" aria-live="polite">{wallet}</p>
                <label for="till-note">{tt.note}</label>
                <input id="till-note" name="subject" type="text" maxlength="128" value=subject
                    placeholder=placeholder aria-describedby="till-note-hint" />
                <small id="till-note-hint" class="muted">{tt.note_hint}</small>
                <div class="actions">
                    <button type="submit" class="primary" id="till-charge">{tt.charge}</button>
                    <button type="submit" formaction=TillQr::url() id="till-qr">{tt.show_qr}</button>
                </div>
            </div>
    }
    .into_any();
    let keypad = view! {
            <div class="keypad" class:ready=move || ready.get() role="group" aria-label=tt.keypad>
                {keys}
                <button type="button" class="key" on:click=key("back") aria-label=tt.backspace>"⌫"</button>
                <button type="button" class="key" on:click=key("C")>{tt.clear}</button>
            </div>
    }
    .into_any();
    view! { <div class="till-grid">{entry}{keypad}</div> }
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
