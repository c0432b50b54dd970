//! The refunds list's "Awaiting approval" tab: each refund with approve and reject
//! forms (plain posts to `/rpc/decide_refund`, which redirects back here). The caller's
//! own refunds show a note instead: the core refuses them anyway.

use crate::components::format::{money, time_ms};
use crate::components::layout::use_t;
use crate::server_fns::approvals::{AwaitingRow, awaiting_refunds};
use crate::server_fns::orders::encode;
use leptos::prelude::*;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub fn AwaitingList() -> impl IntoView {
    let t = use_t();
    let page = Resource::new(|| (), |_| awaiting_refunds());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! {
                        <p class="notice error" role="alert" id="refunds-error">{t.app_error(&e)}</p>
                    }.into_any(),
                    Ok(p) if p.rows.is_empty() => view! {
                        <p class="empty" id="awaiting-empty">{t.security.awaiting_empty}</p>
                    }.into_any(),
                    Ok(p) => {
                        let can = p.can_decide;
                        view! {
                            <div class="table-wrap">
                                <table class="data refunds-table" id="awaiting-table">
                                    <thead><tr>
                                        <th scope="col">{t.orders.col_refund_no}</th>
                                        <th scope="col">{t.orders.col_order}</th>
                                        <th scope="col" class="num">{t.orders.col_amount}</th>
                                        <th scope="col">{t.orders.col_requested_by}</th>
                                        <th scope="col">{t.security.col_decision}</th>
                                        <th scope="col">{t.orders.col_reason}</th>
                                        <th scope="col">{t.orders.col_time}</th>
                                    </tr></thead>
                                    <tbody>{p.rows.into_iter().map(|r| row(r, can)).collect_view()}</tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn row(r: AwaitingRow, can_decide: bool) -> impl IntoView {
    let t = use_t();
    let s = t.security;
    let o = t.orders;
    let order_href = format!("/orders/{}", encode(&r.out_trade_no));
    let no = r.out_refund_no.clone();
    let actions = match (can_decide, r.own) {
        (false, _) => None,
        (true, true) => Some(view! { <span class="muted own-refund">{s.own_refund_note}</span> }.into_any()),
        (true, false) => Some(view! {
            <form method="post" action="/rpc/decide_refund" class="inline decide">
                <input type="hidden" name="out_refund_no" value=no.clone() />
                <label class="sr-only" for=format!("reason-{no}")>{s.decision_reason}</label>
                <input id=format!("reason-{no}") name="reason" type="text" maxlength="200"
                    placeholder=s.decision_reason title=s.reject_reason_hint />
                <button type="submit" name="decision" value="approve" class="primary approve">{s.approve}</button>
                <button type="submit" name="decision" value="reject" class="danger reject">{s.reject}</button>
            </form>
        }.into_any()),
    };
    view! {
        <tr data-refund=r.out_refund_no.clone()>
            <td class="mono" data-label=o.col_refund_no>{r.out_refund_no.clone()}</td>
            <td data-label=o.col_order><a href=order_href class="mono">{r.out_trade_no.clone()}</a></td>
            <td class="num" data-label=o.col_amount>{money(r.amount_minor, &r.currency)}</td>
            <td data-label=o.col_requested_by>{r.requested_by.clone()}</td>
            <td class="decision" data-label=s.col_decision>{actions}</td>
            <td class="wrap" data-label=o.col_reason>{r.reason.clone()}</td>
            <td class="nowrap" data-label=o.col_time>{time_ms(r.created_at, CHINA_OFFSET_MINUTES)}</td>
        </tr>
    }
}
