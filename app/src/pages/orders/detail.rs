//! `/orders/{no}`: amounts, ids, the QR content, actions by role, the refund card
//! (`refund.rs`), the order's refunds and its timeline.
//!
//! Every action posts to a server function that redirects back here with `?ok=` /
//! `?error=`.

mod story;
mod timeline;

use super::error_text;
use super::refund::RefundSteps;
use crate::components::format::{money, time_ms};
use crate::components::layout::use_t;
use crate::pages::section::Section;
use crate::server_fns::orders::{OrderView, RefundRow, encode, order_detail};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use paydesk_core::order::RefundStatus;
use paydesk_core::role::Capability;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;
use timeline::Timeline;

#[component]
pub fn OrderDetailPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_orders intro=|t| t.page_orders_intro cap=Capability::ViewOrders>
            <Detail />
        </Section>
    }
}

/// `?ok=` / `?error=` left by an action, in words.
#[component]
pub fn Outcome() -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    move || {
        query.with(|q| {
            let ok = q
                .get("ok")
                .and_then(|c| t.orders.ok(&c).or_else(|| t.security.ok(&c)))
                .map(|m| view! { <p class="notice ok" role="status" id="outcome-ok">{m}</p> });
            let err = q.get("error").map(|c| {
                view! { <p class="notice error" role="alert" id="outcome-error">{error_text(t, &c)}</p> }
            });
            (ok, err)
        })
    }
}

#[component]
fn Detail() -> impl IntoView {
    let t = use_t();
    let params = use_params_map();
    let query = use_query_map();
    // The outcome of an action is part of the key: coming back from one re-reads the order.
    let key = move || {
        let no = params.with(|p| p.get("no").unwrap_or_default());
        let outcome = query.with(|q| (q.get("ok"), q.get("error")));
        (no, outcome)
    };
    let detail = Resource::new(key, |(no, _)| order_detail(no));
    view! {
        <p><a href="/orders" id="back-to-orders">{t.orders.back_to_list}</a></p>
        <Outcome />
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Loaded d /> }.into_any(),
                    Err(e) => view! {
                        <p class="notice error" role="alert" id="detail-error">{t.app_error(&e)}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Loaded(d: OrderView) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let r = &d.order;
    let cur = r.currency.clone();
    let m = move |minor: i64| money(minor, &cur);
    let time = |ms: Option<i64>| {
        ms.map(|v| time_ms(v, CHINA_OFFSET_MINUTES))
            .unwrap_or_else(|| t.common.none.to_string())
    };
    let status_class = format!("status {}", r.status.as_str());
    view! {
        <h2 class="order-title">
            <span class="mono" id="order-number">{r.out_trade_no.clone()}</span> " "
            <span class=status_class id="order-status">{t.common.order_status(r.status)}</span>
        </h2>
        <div class="order-grid">
            <section class="card" aria-labelledby="h-amounts">
                <h2 id="h-amounts">{o.h_amounts}</h2>
                <dl class="facts">
                    <dt>{o.amount}</dt><dd class="num-left" id="amount-paid">{m(r.amount_minor)}</dd>
                    <dt>{o.refunded}</dt><dd id="amount-refunded">{m(r.refunded_minor)}</dd>
                    <dt>{o.refundable}</dt><dd id="amount-refundable">{m(d.refundable_minor)}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="h-ids">
                <h2 id="h-ids">{o.h_ids}</h2>
                <dl class="facts">
                    <dt>{o.out_trade_no}</dt><dd class="mono">{r.out_trade_no.clone()}</dd>
                    <dt>{o.provider_trade_no}</dt>
                    <dd class="mono" id="provider-trade-no">{r.provider_trade_no.clone().unwrap_or_else(|| t.common.none.to_string())}</dd>
                    {d.provider_ref.clone().map(|p| view! { <dt>{o.provider_ref}</dt><dd class="mono">{p}</dd> })}
                    <dt>{o.col_channel}</dt><dd>{r.channel.clone()}</dd>
                    <dt>{o.subject}</dt><dd>{r.subject.clone()}</dd>
                    <dt>{o.creator}</dt><dd>{r.creator.clone()}</dd>
                    <dt>{o.created}</dt><dd>{time(Some(r.created_at))}</dd>
                    <dt>{o.expires}</dt><dd>{time(Some(d.expires_at))}</dd>
                    <dt>{o.paid_at}</dt><dd>{time(d.paid_at)}</dd>
                    {d.closed_at.map(|c| view! { <dt>{o.closed_at}</dt><dd>{time_ms(c, CHINA_OFFSET_MINUTES)}</dd> })}
                    <dt>{o.qr_content}</dt>
                    <dd class="mono qr-content">{d.qr_code.clone().unwrap_or_else(|| t.common.none.to_string())}</dd>
                </dl>
            </section>
        </div>
        <Actions d=d.clone() />
        <RefundSteps d=d.clone() />
        <Refunds rows=d.refunds.clone() no=d.order.out_trade_no.clone() />
        <Timeline entries=d.timeline.clone() refunds=d.refunds.clone() />
    }
}

/// A one-button POST form to a server function taking the order number.
fn post_button(
    endpoint: &'static str,
    no: &str,
    label: &'static str,
    class: &'static str,
    id: &'static str,
) -> impl IntoView + use<> {
    view! {
        <form method="post" action=format!("/rpc/{endpoint}")>
            <input type="hidden" name="no" value=no.to_string() />
            <button type="submit" class=class id=id>{label}</button>
        </form>
    }
}

#[component]
fn Actions(d: OrderView) -> impl IntoView {
    let t = use_t();
    let no = d.order.out_trade_no.clone();
    let pending = d.can_close;
    let receipt = d.order.status.is_paid_like().then(|| {
        view! {
            <a class="button" href=format!("/receipt/{no}") id="order-receipt">{t.counter.receipt_link}</a>
        }
    });
    view! {
        <section class="card" aria-labelledby="h-actions">
            <h2 id="h-actions">{t.orders.h_actions}</h2>
            <div class="actions">
                {post_button("sync_order", &no, t.orders.sync_now, "", "sync-now")}
                {pending.then(|| post_button("close_order", &no, t.orders.close_order, "danger", "close-order"))}
                {receipt}
            </div>
        </section>
    }
}

#[component]
pub fn RefundStatusCell(r: RefundRow) -> impl IntoView {
    let t = use_t();
    if r.awaiting_approval {
        return view! { <span class="status awaiting">{t.orders.ev_refund_awaiting_approval}</span> }
            .into_any();
    }
    view! { <span class=format!("status {}", r.status.as_str())>{t.common.refund_status(r.status)}</span> }
        .into_any()
}

#[component]
fn Refunds(rows: Vec<RefundRow>, no: String) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let body = if rows.is_empty() {
        view! { <p class="empty">{o.no_refunds}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data" id="order-refunds">
                    <thead>
                        <tr>
                            <th scope="col">{o.col_refund_no}</th>
                            <th scope="col">{o.col_status}</th>
                            <th scope="col" class="num">{o.col_amount}</th>
                            <th scope="col">{o.col_reason}</th>
                            <th scope="col">{o.col_requested_by}</th>
                            <th scope="col">{o.col_time}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr>
                                <td class="mono" data-label=o.col_refund_no>{r.out_refund_no.clone()}</td>
                                <td data-label=o.col_status>
                                    <RefundStatusCell r=r.clone() />
                                    {(r.status == RefundStatus::Succeeded).then(|| view! {
                                        " " <a class="small" href=format!("/receipt/{no}?refund={}", encode(&r.out_refund_no))>{t.counter.receipt_link}</a>
                                    })}
                                    {r.failure_reason.clone().map(|f| view! { <br /><span class="small failure">{f}</span> })}
                                </td>
                                <td class="num" data-label=o.col_amount>{money(r.amount_minor, &r.currency)}</td>
                                <td class="wrap" data-label=o.col_reason>{r.reason.clone()}</td>
                                <td data-label=o.col_requested_by>{r.requested_by.clone()}</td>
                                <td class="nowrap" data-label=o.col_time>{time_ms(r.created_at, CHINA_OFFSET_MINUTES)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="h-refunds">
            <h2 id="h-refunds">{o.h_refunds}</h2>
            {body}
        </section>
    }
}
