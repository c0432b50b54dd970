//! The sale in place at the till (JavaScript): the amount, the QR code to show or the wait
//! for the customer's password with its countdown, then "Paid" or "Cancelled", followed by
//! polling `checkout_state` every second; "Cancel this payment" and "New sale" without a
//! page load. Drawn inside the till's island only (never on the server).

use crate::components::format::money;
use crate::i18n::Lang;
use crate::server_fns::checkout::{CheckoutView, checkout_state};
use crate::server_fns::till::till_cancel;
use leptos::prelude::*;
use paydesk_core::order::{OrderStatus, PayMethod};

const TICK_MS: u64 = 500;
/// Poll every second (two ticks).
const POLL_EVERY_TICKS: u32 = 2;

#[component]
pub fn SalePanel(lang: Lang, view: CheckoutView, on_next: Callback<()>) -> impl IntoView {
    let t = lang.t();
    let status = RwSignal::new(view.status);
    let ticks = RwSignal::new(0u32);
    let polling = StoredValue::new(false);
    if let Ok(h) = set_interval_with_handle(
        move || {
            ticks.try_update(|n| *n += 1);
        },
        std::time::Duration::from_millis(TICK_MS),
    ) {
        on_cleanup(move || h.clear());
    }
    let no = view.out_trade_no.clone();
    {
        let no = no.clone();
        Effect::new(move |_| {
            let n = ticks.get();
            let due = n > 0 && n.is_multiple_of(POLL_EVERY_TICKS);
            if !due || status.get_untracked() != OrderStatus::Pending || polling.get_value() {
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
    let by_code = view.pay_method == PayMethod::Code;
    let (expires_at, server_now) = (view.expires_at, view.now);
    let countdown = move || {
        if status.get() != OrderStatus::Pending {
            return String::new();
        }
        let left = expires_at - server_now - i64::from(ticks.get()) * TICK_MS as i64;
        if left > 0 {
            (t.checkout.expires_in)((left + 999) / 1000)
        } else {
            t.checkout.expired.to_string()
        }
    };
    let message = move || match status.get() {
        OrderStatus::Pending if by_code => t.till.waiting_password,
        OrderStatus::Pending => t.checkout.waiting,
        OrderStatus::Paid => t.checkout.paid_message,
        OrderStatus::Closed if by_code => t.till.cancelled_by_code,
        OrderStatus::Closed => t.checkout.closed_message,
        _ => t.checkout.refunded_message,
    };
    let qr = view.qr_svg.clone().filter(|_| !by_code);
    let content = view.qr_content.clone().unwrap_or_default();
    let qr = move || {
        (status.get() == OrderStatus::Pending)
            .then(|| qr.clone())
            .flatten()
            .map(|svg| {
                view! {
                    <figure class="qr" data-qr-content=content.clone()>
                        <div class="qr-code" inner_html=svg></div>
                    </figure>
                }
            })
    };
    let cancel = {
        let no = no.clone();
        move |_| {
            let no = no.clone();
            leptos::task::spawn_local(async move {
                if let Ok(s) = till_cancel(no).await {
                    status.try_set(s.status);
                }
            });
        }
    };
    let receipt = format!("/receipt/{no}");
    let actions = move || {
        let pending = status.get() == OrderStatus::Pending;
        let paid = status.get().is_paid_like();
        let receipt = receipt.clone();
        view! {
            {pending.then(|| view! {
                <button type="button" class="danger" id="close-checkout" on:click=cancel.clone()>
                    {if by_code { t.till.cancel_payment } else { t.checkout.close }}
                </button>
            })}
            {paid.then(|| view! { <a class="button primary" href=receipt id="checkout-receipt">{t.counter.receipt_link}</a> })}
            {(!pending).then(|| view! {
                <button type="button" class="primary" id="new-sale" on:click=move |_| on_next.run(())>{t.till.new_sale}</button>
            })}
        }
    };
    view! {
        <section class=move || format!("checkout-status till-sale {}", status.get().as_str()) id="checkout-status"
            class:done=move || status.get() != OrderStatus::Pending data-no=no.clone()>
            <div class="checkout-amount">
                <span class="num amount">{money(view.amount_minor, &view.currency)}</span>
                <span class=move || format!("status {}", status.get().as_str()) id="checkout-state">
                    {move || t.common.order_status(status.get())}
                </span>
            </div>
            <p class="checkout-message" role="status" aria-live="polite">{message}</p>
            <p class="countdown muted" aria-live="off">{countdown}</p>
            {qr}
            <div class="actions">{actions}</div>
        </section>
    }
}
