//! `/credentials?limits=<channel>`: the channel's amount limits, one small form per
//! currency it charges in (maximum per order, "ask to confirm above"), each saved by a
//! form post that comes back here with `?ok=` / `?error=` and the currency.

use crate::components::format::money;
use crate::components::layout::use_t;
use crate::server_fns::limits::{LimitRow, LimitsView, SaveAmountLimit, channel_limits};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::money::Money;

#[component]
pub fn LimitsPanel(name: String) -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    // Keyed on the whole query: a save comes back to this route with a new query, and the
    // figures must be read again.
    let data = Resource::new(
        move || (name.clone(), query.get()),
        |(name, _)| channel_limits(name),
    );
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                    Ok(limits) => view! { <Panel limits /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Panel(limits: LimitsView) -> impl IntoView {
    let t = use_t();
    let tl = t.credentials.limits;
    let query = use_query_map();
    let (error, currency) = query.with_untracked(|q| (q.get("error"), q.get("currency")));
    // A refused save: its message, next to the currency it was about.
    let refused = error.and_then(|code| {
        let cur = currency.clone().unwrap_or_default();
        let cap = limits
            .rows
            .iter()
            .find(|r| r.limit.currency.code() == cur)
            .map(|r| money(r.provider_max_minor, &cur))
            .unwrap_or_default();
        tl.error(&code, &cur, &cap)
    });
    let channel = limits.channel.clone();
    view! {
        <section class="card" id="amount-limits">
            <h2>{(tl.heading)(&limits.channel)}</h2>
            <p class="muted">{tl.intro}</p>
            {refused.map(|m| view! { <p class="notice error" role="alert" id="limit-error">{m}</p> })}
            {limits.rows.into_iter().map(|row| view! { <CurrencyForm channel=channel.clone() row /> }).collect_view()}
            <p><a class="button" href="/credentials">{tl.back}</a></p>
        </section>
    }
}

#[component]
fn CurrencyForm(channel: String, row: LimitRow) -> impl IntoView {
    let tl = use_t().credentials.limits;
    let save = ServerAction::<SaveAmountLimit>::new();
    let reset = ServerAction::<SaveAmountLimit>::new();
    let c = row.limit.currency;
    let code = c.code();
    let decimal = move |minor: i64| {
        Money::new(minor, c)
            .map(|m| m.to_decimal_string())
            .unwrap_or_default()
    };
    let id = |field: &str| format!("limit-{}-{field}", code.to_ascii_lowercase());
    let (max_id, confirm_id) = (id("max"), id("confirm"));
    // Each form's children own their copy (they are moved into the form).
    let reset_channel = channel.clone();
    let badge = if row.custom {
        view! { <span class="badge">{tl.custom_badge}</span> }.into_any()
    } else {
        view! { <span class="badge muted">{tl.default_badge}</span> }.into_any()
    };
    view! {
        <fieldset class="field limit-currency" data-currency=code>
            <legend><strong>{code}</strong> " " {badge}</legend>
            <ActionForm action=save attr:class="limit-form">
                <input type="hidden" name="name" value=channel />
                <input type="hidden" name="currency" value=code />
                <div class="row">
                    <div class="field">
                        <label for=max_id.clone()>{tl.f_max}</label>
                        <input id=max_id name="max" type="text" inputmode="decimal" required
                            value=decimal(row.limit.max_minor) />
                    </div>
                    <div class="field">
                        <label for=confirm_id.clone()>{tl.f_confirm_above}</label>
                        <input id=confirm_id name="confirm_above" type="text" inputmode="decimal" required
                            value=decimal(row.limit.confirm_above_minor) />
                    </div>
                </div>
                <small class="muted">{(tl.provider_max)(&money(row.provider_max_minor, code))}</small>
                <div class="actions">
                    <button type="submit" class="primary">{tl.save}</button>
                </div>
            </ActionForm>
            {row.custom.then(move || view! {
                <ActionForm action=reset attr:class="limit-reset">
                    <input type="hidden" name="name" value=reset_channel />
                    <input type="hidden" name="currency" value=code />
                    <input type="hidden" name="reset" value="1" />
                    <button type="submit">{tl.reset}</button>
                </ActionForm>
            })}
        </fieldset>
    }
}
