//! The Notify inbox tab: what providers sent, as received and judged, with the masked
//! payload of one notification on its detail card.

use super::shared::{FilterButtons, Pager, TextFilter, failure, order_link, param};
use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::server_fns::logs::{InboxDetail, InboxRow, Page, inbox_entry, list_inbox};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub(super) fn InboxTab() -> impl IntoView {
    let t = use_session().lang.t();
    let query = use_query_map();
    let data = Resource::new(
        move || query.get(),
        |q| async move {
            match param(&q, "id") {
                Some(id) => inbox_entry(id).await.map(Err),
                None => list_inbox(
                    param(&q, "provider"),
                    param(&q, "channel"),
                    param(&q, "verdict"),
                    param(&q, "order"),
                    param(&q, "before"),
                )
                .await
                .map(Ok),
            }
        },
    );
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                match data.await {
                    Err(e) => failure(t, &e),
                    Ok(Err(d)) => view! { <InboxEntryCard d t /> }.into_any(),
                    Ok(Ok(page)) => view! { <InboxList page q t /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One notification: its facts, then its masked headers and body.
#[component]
fn InboxEntryCard(d: InboxDetail, t: &'static Messages) -> impl IntoView {
    view! {
        <section class="card inbox-detail" id="inbox-detail">
            <p><a href="/logs?tab=inbox">{t.logs.back_to_list}</a></p>
            <dl class="facts">
                <dt>{t.logs.provider}</dt><dd>{d.row.provider.clone()}</dd>
                <dt>{t.logs.channel}</dt><dd>{d.row.channel.clone()}</dd>
                <dt>{t.logs.received}</dt><dd class="mono">{time_ms(d.row.received_at, CHINA_OFFSET_MINUTES)}</dd>
                <dt>{t.logs.verdict}</dt><dd><span class=format!("status {}", d.row.verdict)>{d.row.verdict.clone()}</span></dd>
                <dt>{t.logs.reason}</dt><dd>{d.row.reason.clone().unwrap_or_else(|| t.common.none.into())}</dd>
                <dt>{t.logs.order}</dt><dd>{order_link(d.row.out_trade_no.clone(), t)}</dd>
            </dl>
            <p class="muted">{t.logs.masked_note}</p>
            <h3>{t.logs.headers}</h3>
            <pre class="payload" id="payload-headers">
                {d.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect::<String>()}
            </pre>
            <h3>{t.logs.body}</h3>
            {d.truncated.then(|| view! { <p class="notice warn">{t.logs.truncated}</p> })}
            <pre class="payload" id="payload-body">{d.body.clone()}</pre>
        </section>
    }
}

/// The filters, a page of notifications, and the pager.
#[component]
fn InboxList(page: Page<InboxRow>, q: ParamsMap, t: &'static Messages) -> impl IntoView {
    view! {
        <InboxFilters q=q.clone() t />
        {if page.rows.is_empty() {
            view! { <p class="empty">{t.logs.empty_inbox}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="data" id="inbox-table">
                        <thead><tr>
                            <th>{t.logs.received}</th><th>{t.logs.provider}</th><th>{t.logs.channel}</th>
                            <th>{t.logs.event}</th><th>{t.logs.verdict}</th><th>{t.logs.reason}</th>
                            <th>{t.logs.order}</th><th>{t.logs.details}</th>
                        </tr></thead>
                        <tbody>{page.rows.into_iter().map(|r| inbox_line(r, t)).collect_view()}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <Pager older=page.older q=q t />
    }
}

#[component]
fn InboxFilters(q: ParamsMap, t: &'static Messages) -> impl IntoView {
    view! {
        <form method="get" action="/logs" class="filters" id="inbox-filters">
            <TextFilter id="f-provider" name="provider" label=t.logs.provider value=param(&q, "provider") />
            <TextFilter id="f-channel" name="channel" label=t.logs.channel value=param(&q, "channel") />
            <div class="field">
                <label for="f-verdict">{t.logs.verdict}</label>
                <select id="f-verdict" name="verdict">
                    <option value="">{t.logs.any}</option>
                    {["received", "applied", "duplicate", "ignored", "refused", "rejected"].into_iter().map(|v| view! {
                        <option value=v selected=param(&q, "verdict").as_deref() == Some(v)>{v}</option>
                    }).collect_view()}
                </select>
            </div>
            <TextFilter id="f-order" name="order" label=t.logs.order value=param(&q, "order") />
            <FilterButtons tab="inbox" t />
        </form>
    }
}

fn inbox_line(r: InboxRow, t: &'static Messages) -> impl IntoView {
    let l = t.logs;
    view! {
        <tr>
            <td class="mono" data-label=l.received>{time_ms(r.received_at, CHINA_OFFSET_MINUTES)}</td>
            <td data-label=l.provider>{r.provider}</td>
            <td data-label=l.channel>{r.channel}</td>
            <td data-label=l.event>{r.event.unwrap_or_else(|| t.common.none.into())}</td>
            <td data-label=l.verdict><span class=format!("status {}", r.verdict)>{r.verdict.clone()}</span></td>
            <td class="wrap" data-label=l.reason>{r.reason.unwrap_or_default()}</td>
            <td data-label=l.order>{order_link(r.out_trade_no, t)}</td>
            <td data-label=l.details><a href=format!("/logs?tab=inbox&id={}", r.id)>{t.logs.details}</a></td>
        </tr>
    }
}
