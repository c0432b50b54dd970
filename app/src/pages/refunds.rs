//! `/refunds`: every refund, newest first, filtered by status (tabs are plain links), with
//! a retry button on failed ones. Refunds are made from an order's page.

use crate::components::format::{money, time_ms};
use crate::components::layout::use_t;
use crate::pages::orders::{Outcome, RefundStatusCell};
use crate::pages::refunds_awaiting::AwaitingList;
use crate::pages::section::Section;
use crate::server_fns::orders::{RefundPage, RefundRow, encode, list_refunds};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::order::RefundStatus;
use paydesk_core::role::Capability;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub fn RefundsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_refunds intro=|t| t.page_refunds_intro cap=Capability::Refund>
            <Outcome />
            <RefundList />
        </Section>
    }
}

const STATUSES: [RefundStatus; 3] = [
    RefundStatus::Pending,
    RefundStatus::Succeeded,
    RefundStatus::Failed,
];

#[component]
fn RefundList() -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    let key = move || {
        query.with(|q| {
            (
                q.get("status").unwrap_or_default(),
                q.get("before").unwrap_or_default(),
            )
        })
    };
    // The "awaiting" tab has its own list (`AwaitingList`); this one then loads the first
    // page of all refunds, unused.
    let page = Resource::new(key, |(status, before)| {
        let status = if status == "awaiting" {
            String::new()
        } else {
            status
        };
        list_refunds(status, before)
    });
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                let (status, before) = key();
                if status == "awaiting" {
                    return view! { <Tabs status /> <AwaitingList /> }.into_any();
                }
                match page.await {
                    Ok(p) => view! { <Tabs status=status.clone() /> <Table p status paged=!before.is_empty() /> }.into_any(),
                    Err(e) => view! {
                        <Tabs status />
                        <p class="notice error" role="alert" id="refunds-error">{t.app_error(&e)}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Tabs(status: String) -> impl IntoView {
    let t = use_t();
    let tab = move |value: &str, label: &'static str| {
        let href = if value.is_empty() {
            "/refunds".to_string()
        } else {
            format!("/refunds?status={value}")
        };
        let current = (status == value).then_some("page");
        view! { <a href=href aria-current=current data-status=value.to_string()>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label=t.orders.f_status id="refund-tabs">
            {tab("", t.orders.any)}
            {STATUSES.into_iter().map(|s| tab(s.as_str(), t.common.refund_status(s))).collect_view()}
            {tab("awaiting", t.security.tab_awaiting)}
        </nav>
    }
}

#[component]
fn Table(p: RefundPage, status: String, paged: bool) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let base = if status.is_empty() {
        "/refunds?".to_string()
    } else {
        format!("/refunds?status={}&", encode(&status))
    };
    let next = p
        .next
        .clone()
        .map(|c| format!("{base}before={}", encode(&c)));
    let first = base.trim_end_matches(['?', '&']).to_string();
    let body = if p.rows.is_empty() {
        let text = if status.is_empty() && !paged {
            o.refunds_empty
        } else {
            o.refunds_empty_filtered
        };
        view! { <p class="empty" id="refunds-empty">{text}</p> }.into_any()
    } else {
        let can_retry = p.can_retry;
        view! {
            <div class="table-wrap">
                <table class="data refunds-table" id="refunds-table">
                    <thead>
                        <tr>
                            <th scope="col">{o.col_refund_no}</th>
                            <th scope="col">{o.col_order}</th>
                            <th scope="col">{o.col_status}</th>
                            <th scope="col" class="num">{o.col_amount}</th>
                            <th scope="col">{o.col_reason}</th>
                            <th scope="col">{o.col_failure}</th>
                            <th scope="col">{o.col_requested_by}</th>
                            <th scope="col">{o.col_time}</th>
                        </tr>
                    </thead>
                    <tbody>{p.rows.into_iter().map(|r| view! { <Row r can_retry /> }).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        {body}
        <nav class="pager" aria-label="pages">
            {paged.then(|| view! { <a class="button" href=first.clone()>{t.common.first_page}</a> })}
            {next.map(|href| view! { <a class="button" href=href rel="next">{t.common.next_page}</a> })}
        </nav>
    }
}

#[component]
fn Row(r: RefundRow, can_retry: bool) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let order_href = format!("/orders/{}", encode(&r.out_trade_no));
    let retry = (can_retry && r.status == RefundStatus::Failed).then(|| {
        view! {
            <form method="post" action="/rpc/retry_refund" class="inline">
                <input type="hidden" name="out_refund_no" value=r.out_refund_no.clone() />
                <button type="submit" class="retry">{t.orders.retry}</button>
            </form>
        }
    });
    view! {
        <tr>
            <td class="mono" data-label=o.col_refund_no>{r.out_refund_no.clone()}</td>
            <td data-label=o.col_order><a href=order_href class="mono">{r.out_trade_no.clone()}</a></td>
            <td data-label=o.col_status><RefundStatusCell r=r.clone() /></td>
            <td class="num" data-label=o.col_amount>{money(r.amount_minor, &r.currency)}</td>
            <td class="wrap" data-label=o.col_reason>{r.reason.clone()}</td>
            <td class="failure wrap" data-label=o.col_failure>{r.failure_reason.clone().unwrap_or_default()} {retry}</td>
            <td data-label=o.col_requested_by>{r.requested_by.clone()}</td>
            <td class="nowrap" data-label=o.col_time>{time_ms(r.created_at, CHINA_OFFSET_MINUTES)}</td>
        </tr>
    }
}
