//! Receipts (`/receipt/{no}`, `/receipt/{no}?refund=<refund no>`): one page per paid order
//! and per succeeded refund, printable on 58 mm and 80 mm thermal paper and on A4
//! (`?paper=58|80|a4`; the print stylesheet picks the page size, drops the buttons and
//! never says anything about updating). The QR code holds the order number: support scans
//! it into the orders search.

use crate::components::format::{money, time_ms};
use crate::components::layout::{Bare, use_session, use_t};
use crate::i18n::{Lang, Messages};
use crate::server_fns::receipt::{ReceiptView, receipt};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use paydesk_core::role::Capability;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

/// The paper sizes offered, by `?paper=` value.
const PAPERS: [(&str, &str); 3] = [("58", "58 mm"), ("80", "80 mm"), ("a4", "A4")];

#[component]
pub fn ReceiptPage() -> impl IntoView {
    view! {
        <Bare cap=Capability::ViewOrders class="receipt-screen">
            <Receipt />
        </Bare>
    }
}

#[component]
fn Receipt() -> impl IntoView {
    let t = use_t();
    let params = use_params_map();
    let query = use_query_map();
    let no = params.with_untracked(|p| p.get("no").unwrap_or_default());
    let refund = query.with_untracked(|q| q.get("refund").unwrap_or_default());
    let paper = query.with_untracked(|q| q.get("paper").unwrap_or_default());
    let paper = PAPERS
        .iter()
        .find(|(p, _)| *p == paper)
        .map_or("80", |(p, _)| *p);
    let data = Resource::new(move || (no.clone(), refund.clone()), |(n, r)| receipt(n, r));
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => view! { <Printed r paper /> }.into_any(),
                    Err(crate::server_fns::AppError::NotFound) => view! {
                        <p class="notice error" role="alert" id="receipt-error">{t.counter.no_receipt}</p>
                        <p class="no-print"><a class="button" href="/orders">{t.nav_orders}</a></p>
                    }.into_any(),
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Printed(r: ReceiptView, paper: &'static str) -> impl IntoView {
    let t = use_t();
    let tc = t.counter;
    let is_refund = r.refund.is_some();
    let here = match &r.refund {
        Some(f) => format!(
            "/receipt/{}?refund={}&paper=",
            r.out_trade_no, f.out_refund_no
        ),
        None => format!("/receipt/{}?paper=", r.out_trade_no),
    };
    let papers = PAPERS
        .iter()
        .map(|(p, label)| {
            let current = (*p == paper).then_some("page");
            view! { <a class="button" href=format!("{here}{p}") aria-current=current>{*label}</a> }
        })
        .collect_view();
    view! {
        <article class=format!("receipt paper-{paper}") id="receipt">
            <header>
                <p class="receipt-shop">{r.shop_name.clone().unwrap_or_else(|| t.app_name.to_string())}</p>
                <h1>{if is_refund { tc.refund_receipt } else { tc.receipt }}</h1>
                {r.sandbox.then(|| view! { <p class="receipt-test">{tc.test_payment}</p> })}
            </header>
            <p class="receipt-amount">
                <span class="label">{if is_refund { tc.amount_refunded } else { tc.amount_paid }}</span>
                <span class="num" id="receipt-amount">{money(r.amount_minor, &r.currency)}</span>
            </p>
            <Facts r=r.clone() t />
            {r.qr_svg.clone().map(|svg| view! {
                <figure class="receipt-qr">
                    <div class="qr-code" inner_html=svg></div>
                    <figcaption>{tc.scan_to_find}</figcaption>
                </figure>
            })}
            {(!is_refund).then(|| view! { <p class="receipt-thanks">{tc.thanks}</p> })}
        </article>
        <nav class="receipt-tools no-print" aria-label=tc.paper>
            <span>{tc.paper}</span> {papers}
            <PrintButton lang=use_session().lang />
            <a class="button" href=format!("/orders/{}", r.out_trade_no)>{t.orders.h_actions}</a>
        </nav>
        <p class="muted no-print">{tc.print_hint}</p>
    }
}

#[component]
fn Facts(r: ReceiptView, t: &'static Messages) -> impl IntoView {
    let tc = t.counter;
    let at = time_ms(r.at, CHINA_OFFSET_MINUTES);
    let provider = t.provider(&r.provider);
    let refund = r.refund.clone().map(|f| {
        view! {
            <dt>{tc.of_order}</dt><dd>{money(f.order_amount_minor, &r.currency)}</dd>
            <dt>{tc.refund_no}</dt><dd class="mono">{f.out_refund_no}</dd>
            {f.provider_refund_id.map(|p| view! { <dt>{tc.provider_refund_no}</dt><dd class="mono">{p}</dd> })}
            <dt>{tc.reason}</dt><dd>{f.reason}</dd>
        }
    });
    let is_refund = refund.is_some();
    view! {
        <dl class="receipt-facts">
            <dt>{tc.item}</dt><dd>{r.subject.clone()}</dd>
            <dt>{if is_refund { tc.refunded_at } else { tc.paid_at }}</dt><dd>{at}</dd>
            <dt>{tc.channel}</dt><dd>{provider}</dd>
            <dt>{tc.order_no}</dt><dd class="mono" id="receipt-order-no">{r.out_trade_no.clone()}</dd>
            {r.provider_trade_no.clone().map(|p| view! { <dt>{tc.provider_no}</dt><dd class="mono">{p}</dd> })}
            {refund}
            <dt>{tc.cashier}</dt><dd>{r.cashier.clone().unwrap_or_else(|| tc.by_api.to_string())}</dd>
        </dl>
    }
}

/// "Print" with JavaScript (without it, the hint says how to print).
#[island]
fn PrintButton(lang: Lang) -> impl IntoView {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let label = lang.t().counter.print;
    move || {
        ready.get().then(|| {
            view! {
                <button type="button" class="primary" id="receipt-print" on:click=move |_| print()>{label}</button>
            }
        })
    }
}

fn print() {
    #[cfg(feature = "hydrate")]
    if let Some(w) = leptos::web_sys::window() {
        let _ = w.print();
    }
}
