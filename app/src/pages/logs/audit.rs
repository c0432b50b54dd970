//! The audit tab (admins only): who did what, one sentence per entry in the reader's
//! language (`i18n::audit`), filtered by actor, action and object. Sign-ins have their
//! own filter ("Show"): the default view is the changes without them.

use super::shared::{FilterButtons, Pager, TextFilter, failure, param};
use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::server_fns::logs::{AuditRow, list_audit};
use crate::server_fns::orders::encode;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub(super) fn AuditTab() -> impl IntoView {
    let t = use_session().lang.t();
    let query = use_query_map();
    let data = Resource::new(
        move || query.get(),
        |q| {
            list_audit(
                param(&q, "actor"),
                param(&q, "action"),
                param(&q, "object"),
                param(&q, "show"),
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
                        <Filters t q=q.clone() />
                        {if page.rows.is_empty() {
                            view! { <p class="empty">{t.logs.empty_audit}</p> }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap"><table class="data" id="audit-table">
                                    <thead><tr>
                                        <th>{t.logs.time}</th><th>{t.audit.col_what}</th>
                                        <th>{t.logs.actor}</th><th>{t.logs.target}</th>
                                    </tr></thead>
                                    <tbody>{page.rows.into_iter().map(|a| audit_line(t, a)).collect_view()}</tbody>
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

#[component]
fn Filters(t: &'static Messages, q: ParamsMap) -> impl IntoView {
    let a = t.audit;
    let action = param(&q, "action").unwrap_or_default();
    let show = param(&q, "show").unwrap_or_else(|| "changes".into());
    let shows = [
        ("changes", a.show_changes),
        ("sign_ins", a.show_sign_ins),
        ("all", a.show_all),
    ];
    view! {
        <form method="get" action="/logs" class="filters" id="audit-filters">
            <div class="field">
                <label for="f-show">{a.f_show}</label>
                <select id="f-show" name="show">
                    {shows.into_iter().map(|(v, label)| view! {
                        <option value=v selected=show == v>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <TextFilter id="f-actor" name="actor" label=t.logs.actor value=param(&q, "actor") />
            <div class="field">
                <label for="f-action">{t.logs.action}</label>
                <select id="f-action" name="action">
                    <option value="" selected=action.is_empty()>{a.any_action}</option>
                    {a.actions.iter().map(|(code, name, _)| view! {
                        <option value=*code selected=action == *code>{*name}</option>
                    }).collect_view()}
                </select>
            </div>
            <TextFilter id="f-object" name="object" label=a.f_object value=param(&q, "object") />
            <FilterButtons tab="audit" t />
        </form>
    }
}

/// A link to this tab filtered by one field (`show=all`, so sign-ins are not hidden).
fn filter_link(field: &str, value: &str) -> String {
    format!("/logs?tab=audit&show=all&{field}={}", encode(value))
}

fn audit_line(t: &'static Messages, a: AuditRow) -> impl IntoView {
    let sentence = t.audit.sentence(&a.actor, &a.action, &a.target, &a.detail);
    let object = (!a.target.is_empty()).then(|| {
        view! { <a href=filter_link("object", &a.target)>{a.target.clone()}</a> }
    });
    view! {
        <tr data-action=a.action.clone()>
            <td class="mono nowrap" data-label=t.logs.time>{time_ms(a.at, CHINA_OFFSET_MINUTES)}</td>
            <td class="wrap" data-label=t.audit.col_what>{sentence}</td>
            <td data-label=t.logs.actor><a href=filter_link("actor", &a.actor)>{a.actor.clone()}</a></td>
            <td data-label=t.logs.target>{object}</td>
        </tr>
    }
}
