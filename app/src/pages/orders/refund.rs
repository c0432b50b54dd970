//! The refund card on an order's page: amount and reason, then a confirmation that says
//! what will be refunded and what stays refundable, then the refund.
//!
//! Without JavaScript both steps are pages: the form is a GET to the order's page
//! (`?refund=…&reason=…`), which the server renders as the confirmation, whose POST form
//! calls `refund_order`; that redirects back to the order with `?ok=` / `?error=`.
//! With JavaScript the card is an island ([`RefundCard`]) and the same markup is enhanced
//! in place: as the amount is typed, the card says what would stay refundable (or what is
//! wrong); "Review" shows the confirmation without leaving the page. "Refund" is the same
//! form post in both modes (the server function redirects back to the order). Both paths
//! check the amount with the same function, [`check_amount`].

use super::error_text;
use crate::components::format::money;
use crate::components::layout::{provide_lang, use_session, use_t};
use crate::i18n::Lang;
use crate::server_fns::orders::{OrderView, RefundOrder, encode};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use paydesk_core::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// What a refund of this order needs to know.
#[derive(Clone, Serialize, Deserialize)]
struct Refundable {
    no: String,
    /// The order's page (the no-JS form's target).
    page: String,
    /// The refund number the confirmation submits (see `refund_order`).
    token: String,
    currency: Currency,
    /// What is left to refund, in minor units.
    left_minor: i64,
}

impl Refundable {
    fn money(&self, minor: i64) -> String {
        money(minor, self.currency.code())
    }
}

/// What the card shows.
#[derive(Clone, Serialize, Deserialize)]
enum Step {
    /// The form with what was typed, and why it cannot be refunded if it was reviewed.
    Form {
        amount: String,
        reason: String,
        /// An error code (see [`check_amount`]).
        problem: Option<String>,
    },
    /// The confirmation of a refundable amount.
    Confirm { amount: Money, reason: String },
}

/// The amount typed, if it can be refunded; else the error code that says why not.
fn check_amount(text: &str, r: &Refundable) -> Result<Money, &'static str> {
    match Money::parse_decimal(text.trim(), r.currency) {
        Err(_) => Err("bad_amount"),
        Ok(m) if m.minor() == 0 => Err("bad_amount"),
        Ok(m) if m.minor() > r.left_minor => Err("over_refund"),
        Ok(m) => Ok(m),
    }
}

/// The step after "Review".
fn review(amount: String, reason: String, r: &Refundable) -> Step {
    match check_amount(&amount, r) {
        Ok(amount) => Step::Confirm { amount, reason },
        Err(problem) => Step::Form {
            amount,
            reason,
            problem: Some(problem.to_string()),
        },
    }
}

/// The refund card, for roles that may refund a refundable order.
#[component]
pub fn RefundSteps(d: OrderView) -> impl IntoView {
    let Ok(currency) = Currency::from_code(&d.order.currency) else {
        return ().into_any();
    };
    if !d.can_refund {
        return ().into_any();
    }
    let no = d.order.out_trade_no.clone();
    let r = Refundable {
        page: format!("/orders/{}", encode(&no)),
        no,
        token: d.refund_token.clone(),
        currency,
        left_minor: d.refundable_minor,
    };
    // Opened as the no-JS form's target: review what it sent.
    let asked = use_query_map().with_untracked(|q| (q.get("refund"), q.get("reason")));
    let first = match asked {
        (Some(amount), reason) => review(amount, reason.unwrap_or_default(), &r),
        (None, _) => Step::Form {
            amount: Money::new(r.left_minor, currency)
                .map(|m| m.to_decimal_string())
                .unwrap_or_default(),
            reason: String::new(),
            problem: None,
        },
    };
    view! { <RefundCard lang=use_session().lang r first /> }.into_any()
}

/// The card's two steps, switched in place with JavaScript.
#[island]
fn RefundCard(lang: Lang, r: Refundable, first: Step) -> impl IntoView {
    provide_lang(lang);
    let step = RwSignal::new(first);
    move || match step.get() {
        Step::Form {
            amount,
            reason,
            problem,
        } => view! { <RefundForm r=r.clone() amount reason problem step /> }.into_any(),
        Step::Confirm { amount, reason } => {
            view! { <RefundConfirm r=r.clone() amount reason step /> }.into_any()
        }
    }
}

#[component]
fn RefundForm(
    r: Refundable,
    amount: String,
    reason: String,
    problem: Option<String>,
    step: RwSignal<Step>,
) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let typed = RwSignal::new(amount.clone());
    let amount_input = NodeRef::<leptos::html::Input>::new();
    let reason_input = NodeRef::<leptos::html::Input>::new();
    // Effects run in the browser only: the live line appears once the page is hydrated,
    // so the server's HTML and the first client render agree. What was typed before
    // hydration is in the input, not in `typed` yet.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(input) = amount_input.get() {
            typed.set(input.value());
        }
        hydrated.set(true);
    });
    let live = {
        let r = r.clone();
        move || {
            hydrated
                .get()
                .then(|| match check_amount(&typed.get(), &r) {
                    Ok(m) => (o.remaining_after)(&r.money(r.left_minor - m.minor())),
                    Err(code) => error_text(t, code),
                })
        }
    };
    let on_submit = {
        let r = r.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            // The inputs themselves are the truth, whenever they were filled in.
            let value = |input: NodeRef<leptos::html::Input>| {
                input.get_untracked().map(|i| i.value()).unwrap_or_default()
            };
            step.set(review(value(amount_input), value(reason_input), &r));
        }
    };
    view! {
        {problem.map(|p| view! {
            <p class="notice error" role="alert" id="refund-problem">{error_text(t, &p)}</p>
        })}
        <section class="card refund-form" aria-labelledby="h-refund">
            <h2 id="h-refund">{o.h_refund}</h2>
            <form method="get" action=r.page.clone() id="refund-form" on:submit=on_submit>
                <div class="row">
                    <div class="field">
                        <label for="refund-amount">{o.refund_amount}</label>
                        <input id="refund-amount" name="refund" type="text" inputmode="decimal" required
                            value=amount size="10" aria-describedby="refund-amount-hint refund-live"
                            node_ref=amount_input on:input:target=move |ev| typed.set(ev.target().value()) />
                        <span class="hint muted" id="refund-amount-hint">{(o.refund_amount_hint)(&r.money(r.left_minor))}</span>
                    </div>
                    <div class="field grow">
                        <label for="refund-reason">{o.refund_reason}</label>
                        <input id="refund-reason" name="reason" type="text" maxlength="80" value=reason
                            aria-describedby="refund-reason-hint" node_ref=reason_input />
                        <span class="hint muted" id="refund-reason-hint">{o.refund_reason_hint}</span>
                    </div>
                </div>
                <p class="refund-live" id="refund-live" aria-live="polite">{live}</p>
                <button type="submit" class="primary" id="refund-review">{o.refund_review}</button>
            </form>
        </section>
    }
}

#[component]
fn RefundConfirm(
    r: Refundable,
    amount: Money,
    reason: String,
    step: RwSignal<Step>,
) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let back = Step::Form {
        amount: amount.to_decimal_string(),
        reason: reason.clone(),
        problem: None,
    };
    // Without JavaScript "Cancel" is a link back to the plain order page.
    let cancel = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        step.set(back.clone());
    };
    view! {
        <section class="card refund-confirm" aria-labelledby="h-confirm" id="refund-confirm">
            <h2 id="h-confirm">{o.h_confirm}</h2>
            <p class="confirm-amount">{(o.confirm_text)(&r.money(amount.minor()), &r.no)}</p>
            <p id="remaining-after">{(o.remaining_after)(&r.money(r.left_minor - amount.minor()))}</p>
            {(!reason.is_empty()).then(|| view! {
                <dl class="facts"><dt>{o.confirm_reason}</dt><dd>{reason.clone()}</dd></dl>
            })}
            <form method="post" action=RefundOrder::url() class="actions">
                <input type="hidden" name="no" value=r.no.clone() />
                <input type="hidden" name="amount" value=amount.to_decimal_string() />
                <input type="hidden" name="reason" value=reason.clone() />
                <input type="hidden" name="token" value=r.token.clone() />
                <button type="submit" class="primary" id="refund-confirm-button">{o.confirm_button}</button>
                <a class="button" href=r.page.clone() id="refund-cancel" on:click=cancel>{o.cancel}</a>
            </form>
        </section>
    }
}
