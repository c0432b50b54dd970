//! Checkout: the form that creates a QR checkout, and the status page that shows the QR
//! code and follows the order until it is paid or closed.
//!
//! Without JavaScript the form posts and the server redirects; the status page refreshes
//! itself through a `<meta refresh>` inside `<noscript>` while the order is pending. With
//! JavaScript the card (an island, [`CheckoutLive`]) polls `checkout_state` every second and
//! counts down to expiry.

use crate::components::format::{money, time_ms};
use crate::components::layout::{provide_lang, use_session, use_t};
use crate::i18n::{Lang, Messages};
use crate::pages::section::Section;
use crate::server_fns::AppError;
use crate::server_fns::checkout::{
    ChannelChoice, CheckoutView, CloseCheckout, CreateCheckout, checkout_channels, checkout_state,
    checkout_status,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use paydesk_core::money::Currency;
use paydesk_core::order::{OrderStatus, PayMethod};
use paydesk_core::role::Capability;

mod confirm;

/// UTC+8: the providers' clock, and the merchants'.
const OFFSET: i32 = paydesk_core::timestamp::CHINA_OFFSET_MINUTES;
/// Polling period of the status page, in ticks of [`TICK_MS`].
const POLL_EVERY_TICKS: u32 = 2;
const TICK_MS: u64 = 500;

/// The provider's name as customers know it.
pub fn provider_name(t: &Messages, provider: &str) -> &'static str {
    t.provider(provider)
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_checkout intro=|t| t.page_checkout_intro cap=Capability::Checkout>
            <CheckoutForm />
        </Section>
    }
}

#[component]
fn CheckoutForm() -> impl IntoView {
    let t = use_t();
    // Keyed on the query: a refused submit comes back to this same route with the error
    // and the input in the query, and the form must be drawn again from it.
    let query = use_query_map();
    let channels = Resource::new(move || query.get(), |_| checkout_channels());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match channels.await {
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">{t.checkout.no_channels}</p> }.into_any(),
                    // `?confirm=1`: the large-amount step instead of the form.
                    Ok(list) => match query.with_untracked(|q| confirm::asked(&list, q)) {
                        Some(asked) => view! { <confirm::ConfirmStep asked /> }.into_any(),
                        None => view! { <FormFields channels=list /> }.into_any(),
                    },
                }
            })}
        </Suspense>
    }
}

/// The channel the form starts on: the one in the URL (a refused submit), else the
/// caller's last working one, else the first that is not failing.
fn default_channel(channels: &[ChannelChoice], asked: &str) -> String {
    let pick = channels
        .iter()
        .find(|c| c.name == asked)
        .or_else(|| channels.iter().find(|c| c.preferred && c.failing.is_none()))
        .or_else(|| channels.iter().find(|c| c.failing.is_none()))
        .or(channels.first());
    pick.map(|c| c.name.clone()).unwrap_or_default()
}

/// "Live" or "Sandbox", wherever a channel is named.
#[component]
pub fn ModeBadge(sandbox: bool) -> impl IntoView {
    let t = use_t();
    if sandbox {
        view! { <span class="badge sandbox">{t.common.sandbox}</span> }.into_any()
    } else {
        view! { <span class="badge live">{t.common.live}</span> }.into_any()
    }
}

#[component]
fn FormFields(channels: Vec<ChannelChoice>) -> impl IntoView {
    let t = use_t();
    let tc = t.checkout;
    let query = use_query_map();
    // What the user typed before a refused submit comes back in the query string.
    let q = move |k: &str| query.with_untracked(|m| m.get(k).unwrap_or_default());
    let currency = {
        let c = q("currency");
        if Currency::from_code(&c).is_ok() {
            c.to_ascii_uppercase()
        } else {
            "CNY".to_string()
        }
    };
    let chosen = default_channel(&channels, &q("channel"));
    let error = form_error(t, &channels, &chosen, &currency, &q("error"));
    let action = ServerAction::<CreateCheckout>::new();
    let choices = channels
        .into_iter()
        .map(|ch| {
            let id = format!("channel-{}", ch.name);
            let label_for = id.clone();
            let checked = ch.name == chosen;
            view! {
                <label class="channel-choice" for=label_for>
                    <input type="radio" name="channel" id=id value=ch.name.clone() checked=checked required />
                    <span class="provider">{provider_name(t, &ch.provider)}</span>
                    <ModeBadge sandbox=ch.sandbox />
                    {ch.failing.clone().map(|v| view! {
                        <span class="badge failing" title=tc.failing_hint>{tc.failing}" · "{t.credentials.verdict(&v)}</span>
                    })}
                    <span class="mono muted">{ch.name}</span>
                </label>
            }
        })
        .collect_view();
    let currencies = Currency::ALL
        .into_iter()
        .map(|c| {
            let selected = c.code() == currency;
            view! { <option value=c.code() selected=selected>{c.code()}</option> }
        })
        .collect_view();
    view! {
        <section class="card checkout-form">
            <h2>{tc.form_heading}</h2>
            {error.map(|e| view! { <p class="notice error" role="alert" id="checkout-error">{e}</p> })}
            <ActionForm action=action attr:id="checkout-form">
                <fieldset class="field channels">
                    <legend>{tc.channel}</legend>
                    {choices}
                </fieldset>
                <div class="row">
                    <div class="field">
                        <label for="amount">{tc.amount}</label>
                        <input id="amount" name="amount" type="text" inputmode="decimal" autocomplete="off"
                            required value=q("amount") aria-describedby="amount-hint" />
                        <small id="amount-hint" class="muted">{tc.amount_hint}</small>
                    </div>
                    <div class="field">
                        <label for="currency">{tc.currency}</label>
                        <select id="currency" name="currency">{currencies}</select>
                    </div>
                </div>
                <div class="field">
                    <label for="subject">{tc.subject}</label>
                    <input id="subject" name="subject" type="text" maxlength="128" required
                        value=q("subject") aria-describedby="subject-hint" />
                    <small id="subject-hint" class="muted">{tc.subject_hint}</small>
                </div>
                <div class="actions">
                    <button type="submit" class="primary">{tc.create}</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The text of a refused submit's `code`; a refusal over the maximum names the chosen
/// channel's maximum in the chosen currency.
fn form_error(
    t: &'static Messages,
    channels: &[ChannelChoice],
    chosen: &str,
    currency: &str,
    code: &str,
) -> Option<String> {
    if code.is_empty() {
        return None;
    }
    let tc = t.checkout;
    if code == "amount_over_limit" {
        let limit = channels
            .iter()
            .find(|c| c.name == chosen)
            .and_then(|c| c.limit(currency));
        return Some(match limit {
            Some(l) => (tc.err_amount_over_limit)(&money(l.max_minor, currency)),
            None => tc.err_amount_too_large.to_string(),
        });
    }
    // The provider refused for a reason a connection check names: say which, in the
    // words the Credentials page uses, and that the channel is now marked failing.
    if let Some(verdict) = code.strip_prefix("provider_")
        && matches!(
            verdict,
            "bad_key" | "product_not_enabled" | "clock_skew" | "unreachable" | "bad_signature"
        )
    {
        return Some(format!(
            "{} {}",
            tc.err_provider_cause,
            t.credentials.verdict(verdict)
        ));
    }
    Some(tc.error(code, currency).unwrap_or_else(|| t.error(code)))
}

/// The status page's message for a server function's error: the checkout's own words for
/// a checkout that does not exist (or is someone else's), else the common ones.
fn failure_text(t: &'static Messages, e: &AppError) -> &'static str {
    match e {
        AppError::NotFound => t.checkout.err_not_found,
        e => t.app_error(e),
    }
}

#[component]
pub fn CheckoutStatusPage() -> impl IntoView {
    view! {
        <Section title=|t| t.checkout.title intro=|t| t.page_checkout_intro cap=Capability::Checkout>
            <CheckoutStatus />
        </Section>
    }
}

#[component]
fn CheckoutStatus() -> impl IntoView {
    let t = use_t();
    let params = use_params_map();
    let query = use_query_map();
    let no = move || params.with(|p| p.get("no").unwrap_or_default());
    // The query (`?ok=closed`, `?error=…`) is part of the key so that coming back from
    // the close form reloads the order.
    let key = move || (no(), query.with(|q| (q.get("ok"), q.get("error"))));
    let order = Resource::new(key, |(no, _)| checkout_status(no));
    let outcome = move || {
        query.with(|q| {
            if q.get("ok").as_deref() == Some("closed") {
                Some(
                    view! { <p class="notice ok" role="status">{t.checkout.closed_ok}</p> }
                        .into_any(),
                )
            } else {
                q.get("error").map(|code| {
                    let text = t
                        .checkout
                        .error(&code, "")
                        .unwrap_or_else(|| t.error(&code));
                    view! { <p class="notice error" role="alert">{text}</p> }.into_any()
                })
            }
        })
    };
    view! {
        {outcome}
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Err(e) => view! {
                        <p class="notice error" role="alert">
                            {failure_text(t, &e)}
                        </p>
                        <p><a class="button" href="/checkout">{t.checkout.new_checkout}</a></p>
                    }.into_any(),
                    Ok(view) => view! { <StatusCard view /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The card, server-rendered, around the live part. The QR code goes in as the island's
/// children: server HTML that is not shipped again in the island's props.
#[component]
fn StatusCard(view: CheckoutView) -> impl IntoView {
    let t = use_t();
    let tc = t.checkout;
    let provider = provider_name(t, &view.provider);
    let by_code = view.pay_method == PayMethod::Code;
    let qr = match view.qr_svg.clone() {
        _ if by_code => ().into_any(),
        Some(svg) => view! {
            <figure class="qr" data-qr-content=view.qr_content.clone().unwrap_or_default()>
                <div class="qr-code" inner_html=svg></div>
                <figcaption>{(tc.scan_with)(provider)}</figcaption>
            </figure>
        }
        .into_any(),
        None => view! { <p class="notice error">{tc.no_qr}</p> }.into_any(),
    };
    let live = CheckoutView {
        qr_svg: None,
        ..view
    };
    view! {
        // No JavaScript: reload every 2 s while the order is pending. As inner HTML, so a
        // browser with JavaScript (which sees it as text) has nothing to hydrate in it.
        {(live.status == OrderStatus::Pending).then(|| view! {
            <noscript inner_html=r#"<meta http-equiv="refresh" content="2">"#></noscript>
        })}
        <CheckoutLive lang=use_session().lang view=live>{qr}</CheckoutLive>
    }
}

/// The status card as an island: with JavaScript it polls `checkout_state` every second,
/// counts down to expiry and offers "Print"; the close form disappears once the order
/// is no longer pending.
#[island]
fn CheckoutLive(lang: Lang, view: CheckoutView, children: Children) -> impl IntoView {
    provide_lang(lang);
    let t = lang.t();
    let tc = t.checkout;
    let status = RwSignal::new(view.status);
    // Ticks since hydration; zero (and `started` false) while rendering on the server, so
    // the first render in the browser matches the server's HTML.
    let ticks = RwSignal::new(0u32);
    let started = RwSignal::new(false);
    let polling = StoredValue::new(false);
    let interval = StoredValue::new(None::<IntervalHandle>);
    let no = view.out_trade_no.clone();

    Effect::new(move |_| {
        started.set(true);
        if let Ok(h) = set_interval_with_handle(
            // `try_`: a tick racing the page's disposal must not panic.
            move || {
                ticks.try_update(|n| *n += 1);
            },
            std::time::Duration::from_millis(TICK_MS),
        ) {
            interval.set_value(Some(h));
        }
    });
    on_cleanup(move || {
        if let Some(h) = interval.try_get_value().flatten() {
            h.clear();
        }
    });
    {
        let no = no.clone();
        Effect::new(move |_| {
            let n = ticks.get();
            if status.get_untracked() != OrderStatus::Pending {
                if let Some(h) = interval.get_value() {
                    h.clear();
                }
                return;
            }
            if n == 0 || !n.is_multiple_of(POLL_EVERY_TICKS) || polling.get_value() {
                return;
            }
            polling.set_value(true);
            let no = no.clone();
            leptos::task::spawn_local(async move {
                if let Ok(s) = checkout_state(no).await {
                    status.try_set(s.status);
                }
                polling.try_set_value(false);
            });
        });
    }

    let expires_at = view.expires_at;
    let server_now = view.now;
    let countdown = move || {
        if !started.get() || status.get() != OrderStatus::Pending {
            return String::new();
        }
        let left = expires_at - server_now - i64::from(ticks.get()) * TICK_MS as i64;
        if left > 0 {
            (tc.expires_in)((left + 999) / 1000)
        } else {
            tc.expired.to_string()
        }
    };
    let by_code = view.pay_method == PayMethod::Code;
    let message = move || match status.get() {
        OrderStatus::Pending if by_code => t.till.waiting_password,
        OrderStatus::Pending => tc.waiting,
        OrderStatus::Paid if by_code => t.till.paid_by_code,
        OrderStatus::Paid => tc.paid_message,
        OrderStatus::Closed if by_code => t.till.cancelled_by_code,
        OrderStatus::Closed => tc.closed_message,
        OrderStatus::PartiallyRefunded | OrderStatus::Refunded => tc.refunded_message,
    };
    let provider = provider_name(t, &view.provider);
    let amount = money(view.amount_minor, &view.currency);
    let png = format!("/checkout/{}/qr.png", view.out_trade_no);
    let receipt = format!("/receipt/{}", view.out_trade_no);
    let png_name = format!("{}.png", view.out_trade_no);
    let sandbox_hint = (view.sandbox && !by_code).then(|| {
        let wallet = view.qr_content.clone().unwrap_or_default();
        view! {
            <p class="notice warn sandbox-hint no-print">
                {view.setup_hint.then(|| (tc.sandbox_hint)(&view.public_url))} " "
                <a href=wallet rel="external" target="_blank" id="sandbox-wallet">{tc.sandbox_wallet_link}</a>
            </p>
        }
    });
    // A plain form to the server function: it answers with a redirect back to this page
    // (`?ok=closed`), with and without JavaScript.
    let close_form = move || {
        let no = no.clone();
        (status.get() == OrderStatus::Pending).then(move || {
            view! {
                <form method="post" action=CloseCheckout::url() class="close-form">
                    <input type="hidden" name="no" value=no />
                    <button type="submit" class="danger" id="close-checkout">
                        {if by_code { t.till.cancel_payment } else { tc.close }}
                    </button>
                </form>
            }
        })
    };

    view! {
        <section class=move || format!("card checkout-status {}", status.get().as_str()) id="checkout-status"
            class:done=move || status.get() != OrderStatus::Pending>
            <div class="checkout-amount">
                <span class="num amount">{amount}</span>
                <span class=move || format!("status {}", status.get().as_str()) id="checkout-state">
                    {move || t.common.order_status(status.get())}
                </span>
            </div>
            <p class="subject">{view.subject.clone()}</p>
            <p class="checkout-message" role="status" aria-live="polite">{message}</p>
            <p class="countdown muted no-print" aria-live="off">{countdown}</p>
            {children()}
            <dl class="facts">
                <dt>{tc.channel}</dt>
                <dd>
                    {provider} " "
                    {view.sandbox.then(|| view! { <span class="badge sandbox">{t.common.sandbox}</span> })}
                    " " <span class="mono muted">{view.channel.clone()}</span>
                </dd>
                <dt>{tc.order_no}</dt>
                <dd class="mono">{view.out_trade_no.clone()}</dd>
                <dt>{tc.created}</dt>
                <dd>{time_ms(view.created_at, OFFSET)}</dd>
                <dt>{tc.expires_at}</dt>
                <dd>{time_ms(view.expires_at, OFFSET)}</dd>
            </dl>
            {sandbox_hint}
            <div class="actions no-print">
                {move || started.get().then(|| view! {
                    <button type="button" on:click=move |_| print_page()>{tc.print}</button>
                })}
                {(!by_code).then(|| view! {
                    <a class="button" href=png download=png_name rel="external">{tc.download_png}</a>
                })}
                {move || status.get().is_paid_like().then(|| view! {
                    <a class="button primary" href=receipt.clone() id="checkout-receipt">{t.counter.receipt_link}</a>
                })}
                <a class="button" href="/till" id="new-sale">{t.till.new_sale}</a>
                {(!by_code).then(|| view! { <a class="button" href="/checkout">{tc.new_checkout}</a> })}
                <a class="button" href="/display" target="_blank" rel="noopener">{t.counter.display_open}</a>
                {close_form}
            </div>
        </section>
    }
}

/// Opens the browser's print dialog (the print stylesheet keeps only the checkout card).
fn print_page() {
    #[cfg(feature = "hydrate")]
    if let Some(w) = leptos::web_sys::window() {
        let _ = w.print();
    }
}
