//! The till's island: the sale's input, and with JavaScript the whole sale in place.
//!
//! Server-rendered, it is a plain form (amount, code, note, two submit buttons) that posts
//! without JavaScript. Hydrated, the buttons' clicks (and Enter in the scan field, which
//! the browser turns into a click on the first button) call `till_sale` instead, and the
//! answer is drawn here: the sale ([`super::sale::SalePanel`]) or the problem, with the
//! amount kept and the scan field ready for the next code.

use super::sale::SalePanel;
use crate::components::format::money;
use crate::components::layout::provide_lang;
use crate::i18n::{Lang, Messages};
use crate::server_fns::AppError;
use crate::server_fns::checkout::CheckoutView;
use crate::server_fns::till::{SaleAnswer, SaleInput, SaleProblem, TillQr, till_sale};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use paydesk_core::limits::confirmation_token;
use paydesk_core::money::{Currency, Money};
use paydesk_core::payment_code::{Wallet, recognise};

/// The text of a problem the till was told about.
pub fn problem_text(t: &'static Messages, p: &SaleProblem, amount: &str) -> String {
    if p.code == "confirm_large" {
        let shown = Money::parse_decimal(amount.trim(), Currency::Cny)
            .map(|m| money(m.minor(), "CNY"))
            .unwrap_or_default();
        return (t.till.err_confirm_large)(&shown);
    }
    t.till
        .error(&p.code, &p.detail)
        .or_else(|| t.checkout.error(&p.code, "CNY"))
        .unwrap_or_else(|| t.error(&p.code))
}

/// The island's state, shared by its handlers (all `Copy`).
#[derive(Clone, Copy)]
struct Sale {
    amount: RwSignal<String>,
    code: RwSignal<String>,
    note: RwSignal<String>,
    confirm: RwSignal<String>,
    current: RwSignal<Option<CheckoutView>>,
    problem: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    amount_ref: NodeRef<leptos::html::Input>,
    scan_ref: NodeRef<leptos::html::Input>,
}

impl Sale {
    /// Starts the sale (a QR code, or a charge of the scanned code) through `till_sale`.
    fn start(self, t: &'static Messages, qr: bool) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        // The last problem goes as the next try starts (its answer brings its own).
        self.problem.set(None);
        let input = SaleInput {
            amount: self.amount.get_untracked(),
            subject: self.note.get_untracked(),
            auth_code: if qr {
                String::new()
            } else {
                self.code.get_untracked()
            },
            confirm: self.confirm.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            let answer = till_sale(input.clone()).await;
            // The code is single use: whatever happened, the next scan starts empty.
            self.code.try_set(String::new());
            match answer {
                Ok(SaleAnswer::Started(view)) => {
                    self.problem.try_set(None);
                    self.confirm.try_set(String::new());
                    self.current.try_set(Some(*view));
                }
                Ok(SaleAnswer::Refused(p)) => {
                    let large = Money::parse_decimal(input.amount.trim(), Currency::Cny).ok();
                    if let (true, Some(m)) = (p.code == "confirm_large", large) {
                        self.confirm.try_set(confirmation_token(m));
                    }
                    self.problem
                        .try_set(Some(problem_text(t, &p, &input.amount)));
                    focus(self.scan_ref);
                }
                Err(e) => {
                    self.problem.try_set(Some(app_error_text(t, &e)));
                }
            }
            self.busy.try_set(false);
        });
    }

    /// Back to an empty till for the next customer.
    fn next(self) {
        self.current.set(None);
        self.problem.set(None);
        self.amount.set(String::new());
        self.code.set(String::new());
        self.confirm.set(String::new());
        focus(self.amount_ref);
    }
}

fn app_error_text(t: &'static Messages, e: &AppError) -> String {
    t.app_error(e).to_string()
}

/// The value of input `id` as the page has it now: typing can start before the island
/// runs, and drawing the island must not erase it.
#[cfg(feature = "hydrate")]
fn typed_before_hydration(id: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    let el = document().get_element_by_id(id)?;
    Some(el.dyn_into::<web_sys::HtmlInputElement>().ok()?.value())
}

#[cfg(not(feature = "hydrate"))]
fn typed_before_hydration(_id: &str) -> Option<String> {
    None
}

/// Focuses `input` once the browser has drawn it.
fn focus(input: NodeRef<leptos::html::Input>) {
    request_animation_frame(move || {
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    });
}

#[island]
pub fn TillFields(
    lang: Lang,
    amount: String,
    subject: String,
    placeholder: String,
    confirm: String,
) -> impl IntoView {
    provide_lang(lang);
    let t = lang.t();
    // What the cashier typed before this island ran, else what the server drew.
    let sale = Sale {
        amount: RwSignal::new(typed_before_hydration("till-amount").unwrap_or(amount.clone())),
        code: RwSignal::new(typed_before_hydration("till-scan").unwrap_or_default()),
        note: RwSignal::new(typed_before_hydration("till-note").unwrap_or(subject.clone())),
        confirm: RwSignal::new(confirm),
        current: RwSignal::new(None),
        problem: RwSignal::new(None),
        busy: RwSignal::new(false),
        amount_ref: NodeRef::new(),
        scan_ref: NodeRef::new(),
    };
    // Set once the island runs in the browser: without JavaScript the keypad's buttons
    // would do nothing, so it stays hidden (`.keypad:not(.ready)`).
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let typed = (amount, subject, placeholder);
    move || match sale.current.get() {
        Some(view) => {
            view! { <SalePanel lang view on_next=Callback::new(move |_| sale.next()) /> }.into_any()
        }
        None => entry(t, sale, ready, typed.clone()).into_any(),
    }
}

/// The amount, the code, the note and the two actions, with the keypad beside them.
fn entry(
    t: &'static Messages,
    sale: Sale,
    ready: RwSignal<bool>,
    (typed, subject, placeholder): (String, String, String),
) -> impl IntoView {
    let tt = t.till;
    let confirmed = sale.confirm.get_untracked();
    let key = move |k: &'static str| move |_| sale.amount.update(|a| *a = super::press(a, k));
    let keys = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "00", "0", "."]
        .into_iter()
        .map(|k| view! { <button type="button" class="key" on:click=key(k)>{k}</button> })
        .collect_view();
    let wallet = move || {
        let digits: String = sale
            .code
            .get()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        match recognise(&digits) {
            Some(Wallet::Alipay) => tt.wallet_alipay,
            Some(Wallet::Wechat) => tt.wallet_wechat,
            None => "",
        }
    };
    // The amount as the customer will see it (currency, thousands separators).
    let total = move || {
        Money::parse_decimal(sale.amount.get().trim(), Currency::Cny)
            .map(|m| money(m.minor(), "CNY"))
            .unwrap_or_else(|_| money(0, "CNY"))
    };
    // Enter in the amount goes on to the scan field (a barcode gun ends with Enter too,
    // which then submits the form from there: a click on "Charge").
    let amount_enter = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            if let Some(el) = sale.scan_ref.get_untracked() {
                let _ = el.focus();
            }
        }
    };
    let act = move |qr: bool| {
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            sale.start(t, qr);
        }
    };
    let problem = move || {
        sale.problem
            .get()
            .map(|p| view! { <p class="notice error" role="alert" id="till-error">{p}</p> })
    };
    // Built in parts (`into_any`): one nested view type this large overflows the
    // compiler's query depth in release builds.
    let inputs = view! {
            {problem}
            <p class="till-total num" id="till-total" aria-live="polite">{total}</p>
            <label for="till-amount">{tt.amount}</label>
            <input id="till-amount" name="amount" class="till-amount num" type="text"
                inputmode="decimal" required autofocus value=typed node_ref=sale.amount_ref
                prop:value=move || sale.amount.get()
                on:input=move |ev| sale.amount.set(event_target_value(&ev))
                on:keydown=amount_enter />
            <label for="till-scan">{tt.scan}</label>
            <input id="till-scan" name="auth_code" class="till-scan mono" type="text"
                inputmode="numeric" aria-describedby="till-scan-hint" node_ref=sale.scan_ref
                prop:value=move || sale.code.get()
                on:input=move |ev| sale.code.set(event_target_value(&ev)) />
            <small id="till-scan-hint" class="muted">{tt.scan_hint}</small>
            <p class="till-wallet" aria-live="polite">{wallet}</p>
    }
    .into_any();
    let rest = view! {
            <label for="till-note">{tt.note}</label>
            <input id="till-note" name="subject" type="text" maxlength="128" value=subject
                placeholder=placeholder aria-describedby="till-note-hint"
                on:input=move |ev| sale.note.set(event_target_value(&ev)) />
            <small id="till-note-hint" class="muted">{tt.note_hint}</small>
            <input type="hidden" name="confirm" value=confirmed prop:value=move || sale.confirm.get() />
            <div class="actions">
                <button type="submit" class="primary" id="till-charge" on:click=act(false)
                    disabled=move || sale.busy.get()>{tt.charge}</button>
                <button type="submit" formaction=TillQr::url() id="till-qr" on:click=act(true)
                    disabled=move || sale.busy.get()>{tt.show_qr}</button>
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
    view! { <div class="till-grid"><div class="till-entry">{inputs}{rest}</div>{keypad}</div> }
}
