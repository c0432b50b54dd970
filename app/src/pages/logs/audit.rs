//! The audit tab (admins only): who did what.

use super::shared::{FilterButtons, Pager, TextFilter, failure, param};
use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::server_fns::logs::{AuditRow, list_audit};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub(super) fn AuditTab() -> impl IntoView {
    let t = use_session().lang.t();
    let query = use_query_map();
    let data = Resource::new(
        move || query.get(),
        |q| list_audit(param(&q, "actor"), param(&q, "action"), param(&q, "before")),
    );
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                match data.await {
                    Err(e) => failure(t, &e),
                    Ok(page) => view! {
                        <form method="get" action="/logs" class="filters" id="audit-filters">
                            <TextFilter id="f-actor" name="actor" label=t.logs.actor value=param(&q, "actor") />
                            <TextFilter id="f-action" name="action" label=t.logs.action value=param(&q, "action") />
                            <FilterButtons tab="audit" t />
                        </form>
                        {if page.rows.is_empty() {
                            view! { <p class="empty">{t.logs.empty_audit}</p> }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap"><table class="data" id="audit-table">
                                    <thead><tr>
                                        <th>{t.logs.time}</th><th>{t.logs.actor}</th><th>{t.logs.action}</th>
                                        <th>{t.logs.target}</th><th>{t.logs.detail}</th>
                                    </tr></thead>
                                    <tbody>{page.rows.into_iter().map(|a| audit_line(a, t)).collect_view()}</tbody>
                                </table></div>
                            }.into_any()
                        }}
                        <Pager older=page.older q=q t />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn audit_line(a: AuditRow, t: &'static Messages) -> impl IntoView {
    let l = t.logs;
    view! {
        <tr>
            <td class="mono" data-label=l.time>{time_ms(a.at, CHINA_OFFSET_MINUTES)}</td>
            <td data-label=l.actor>{a.actor}</td>
            <td class="mono" data-label=l.action>{a.action}</td>
            <td data-label=l.target>{a.target}</td>
            <td class="wrap" data-label=l.detail>{a.detail}</td>
        </tr>
    }
}
