//! The provider calls tab: what paydesk asked the providers, and what came back.

use super::shared::{FilterButtons, Pager, TextFilter, failure, order_link, param};
use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::server_fns::logs::{CallRow, list_calls};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub(super) fn CallsTab() -> impl IntoView {
    let t = use_session().lang.t();
    let query = use_query_map();
    let data = Resource::new(
        move || query.get(),
        |q| {
            list_calls(
                param(&q, "provider"),
                param(&q, "channel"),
                param(&q, "order"),
                param(&q, "failed").is_some(),
                param(&q, "before"),
            )
        },
    );
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                match data.await {
                    Err(e) => failure(t, &e),
                    Ok(page) => view! {
                        <form method="get" action="/logs" class="filters" id="calls-filters">
                            <TextFilter id="f-provider" name="provider" label=t.logs.provider value=param(&q, "provider") />
                            <TextFilter id="f-channel" name="channel" label=t.logs.channel value=param(&q, "channel") />
                            <TextFilter id="f-order" name="order" label=t.logs.order value=param(&q, "order") />
                            <div class="field checkbox">
                                <input type="checkbox" id="f-failed" name="failed" value="1" checked=param(&q, "failed").is_some() />
                                <label for="f-failed">{t.logs.failed_only}</label>
                            </div>
                            <FilterButtons tab="calls" t />
                        </form>
                        {if page.rows.is_empty() {
                            view! { <p class="empty">{t.logs.empty_calls}</p> }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap">
                                    <table class="data" id="calls-table">
                                        <thead><tr>
                                            <th>{t.logs.time}</th><th>{t.logs.provider}</th><th>{t.logs.channel}</th>
                                            <th>{t.logs.operation}</th><th>{t.logs.http_status}</th><th>{t.logs.latency}</th>
                                            <th>{t.logs.order}</th><th>{t.logs.request}</th><th>{t.logs.outcome}</th>
                                        </tr></thead>
                                        <tbody>{page.rows.into_iter().map(|c| call_line(c, t)).collect_view()}</tbody>
                                    </table>
                                </div>
                            }.into_any()
                        }}
                        <Pager older=page.older q=q t />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn call_line(c: CallRow, t: &'static Messages) -> impl IntoView {
    let l = t.logs;
    let failed = c.status.is_none_or(|s| s >= 400) || c.provider_code.is_some();
    let outcome = [c.provider_code.clone(), c.error.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <tr class:failed=failed>
            <td class="mono" data-label=l.time>{time_ms(c.at, CHINA_OFFSET_MINUTES)}</td>
            <td data-label=l.provider>{c.provider}</td>
            <td data-label=l.channel>{c.channel}</td>
            <td data-label=l.operation>{c.operation}{(c.attempt > 1).then(|| format!(" (#{})", c.attempt))}</td>
            <td class="num" data-label=l.http_status>
                <span class=if failed { "status failed" } else { "status ok" }>
                    {c.status.map(|s| s.to_string()).unwrap_or_else(|| t.logs.no_answer.into())}
                </span>
            </td>
            <td class="num" data-label=l.latency>{format!("{} ms", c.latency_ms)}</td>
            <td data-label=l.order>{order_link(c.out_trade_no, t)}</td>
            <td class="mono wrap" data-label=l.request>{format!("{} {}", c.method, c.url)}</td>
            <td class="wrap" data-label=l.outcome>{if outcome.is_empty() { t.common.none.to_string() } else { outcome }}</td>
        </tr>
    }
}
