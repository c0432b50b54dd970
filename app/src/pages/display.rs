//! The customer display (`/display`): a screen turned to the customer that follows the
//! cashier's current sale: the amount and the QR code large, then "Paid ✓" or
//! "Cancelled". It shows nothing private: no navigation, no staff names, no other sales.
//!
//! Without JavaScript the page reloads itself every second. With it, the island
//! ([`DisplayLive`]) follows `GET /display/events` (server-sent events) and redraws as
//! soon as the sale changes.

use crate::components::format::money;
use crate::components::layout::{Bare, provide_lang, use_session, use_t};
use crate::i18n::Lang;
use crate::server_fns::display::{DisplaySale, DisplayView, display_state};
use leptos::prelude::*;
use paydesk_core::order::{OrderStatus, PayMethod};
use paydesk_core::role::Capability;

#[component]
pub fn DisplayPage() -> impl IntoView {
    view! {
        <Bare cap=Capability::Checkout class="display-screen">
            <Display />
        </Bare>
    }
}

#[component]
fn Display() -> impl IntoView {
    let t = use_t();
    let state = Resource::new(|| (), |_| display_state());
    view! {
        // No JavaScript: reload every second (as inner HTML, so hydration ignores it).
        <noscript inner_html=r#"<meta http-equiv="refresh" content="1">"#></noscript>
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(view) => view! { <DisplayLive lang=use_session().lang view /> }.into_any(),
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The display's content; with JavaScript it follows the event stream.
#[island]
fn DisplayLive(lang: Lang, view: DisplayView) -> impl IntoView {
    provide_lang(lang);
    let current = RwSignal::new(view);
    Effect::new(move |_| follow(current));
    move || match current.get().sale {
        None => {
            let t = lang.t().counter;
            view! {
                <section class="display-sale idle" id="display-state" data-status="idle">
                    <p class="display-welcome">{t.welcome}</p>
                </section>
            }
            .into_any()
        }
        Some(sale) => sale_view(lang, sale).into_any(),
    }
}

fn sale_view(lang: Lang, sale: DisplaySale) -> impl IntoView {
    let t = lang.t();
    let tc = t.counter;
    let amount = money(sale.amount_minor, &sale.currency);
    let wallet = t.provider(&sale.provider);
    let (class, headline, detail) = match (sale.status, sale.pay_method) {
        (OrderStatus::Pending, PayMethod::Qr) => ("pending", tc.to_pay, (tc.scan_with)(wallet)),
        (OrderStatus::Pending, PayMethod::Code) => {
            ("pending", tc.to_pay, tc.confirm_in_wallet.to_string())
        }
        (OrderStatus::Paid, _) => ("paid", tc.paid, tc.thank_you.to_string()),
        (OrderStatus::Closed, _) => ("closed", tc.cancelled, tc.cancelled_hint.to_string()),
        _ => ("refunded", tc.refunded, String::new()),
    };
    let qr = sale.qr_svg.map(|svg| {
        view! { <div class="qr-code display-qr" inner_html=svg></div> }
    });
    view! {
        <section class=format!("display-sale {class}") id="display-state" data-status=class>
            <p class="display-headline" role="status" aria-live="polite">{headline}</p>
            <p class="display-amount num">{amount}</p>
            {qr}
            <p class="display-detail">{detail}</p>
        </section>
    }
}

/// Follows the server's event stream: every message is the whole view as JSON. The
/// browser reconnects by itself when a stream ends; the display lives as long as its
/// window, so the stream is never closed by hand.
#[cfg(feature = "hydrate")]
fn follow(current: RwSignal<DisplayView>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(source) = web_sys::EventSource::new("/display/events") else {
        return;
    };
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let view = ev
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<DisplayView>(&text).ok());
            if let Some(view) = view {
                current.try_set(view);
            }
        });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}

#[cfg(not(feature = "hydrate"))]
fn follow(_current: RwSignal<DisplayView>) {}
