//! The merchant notifications tab: what paydesk told merchants' systems, each
//! notification's attempts, and (for those who may) resending one.

use super::shared::{FilterButtons, Pager, TextFilter, failure, order_link, param};
use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::server_fns::logs::{
    AttemptRow, NotificationRow, NotificationView, Page, ResendNotification, list_notifications,
    notification_detail,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use paydesk_core::role::Capability;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub(super) fn NotificationsTab() -> impl IntoView {
    let session = use_session();
    let t = session.lang.t();
    // Resending reaches the merchant's systems: offered to those who may (admins).
    let can_resend = session
        .user
        .is_some_and(|u| u.role.can(Capability::ResendNotifications));
    let query = use_query_map();
    let resend = ServerAction::<ResendNotification>::new();
    let data = Resource::new(
        move || (query.get(), resend.version().get()),
        |(q, _)| async move {
            match param(&q, "id") {
                Some(id) => notification_detail(id).await.map(Err),
                None => {
                    list_notifications(param(&q, "status"), param(&q, "order"), param(&q, "before"))
                        .await
                        .map(Ok)
                }
            }
        },
    );
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                match data.await {
                    Err(e) => failure(t, &e),
                    Ok(Err(d)) => view! { <NotificationCard d t resend can_resend /> }.into_any(),
                    Ok(Ok(page)) => view! { <NotificationList page q t resend can_resend /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One notification: its line, then every attempt.
#[component]
fn NotificationCard(
    d: NotificationView,
    t: &'static Messages,
    resend: ServerAction<ResendNotification>,
    can_resend: bool,
) -> impl IntoView {
    view! {
        <section class="card" id="notification-detail">
            <p><a href="/logs?tab=notifications">{t.logs.back_to_list}</a></p>
            <div class="table-wrap"><table class="data">
                <NotificationHead t />
                <tbody>{notification_line(d.row.clone(), t, resend, can_resend)}</tbody>
            </table></div>
            <h3>{t.logs.attempts}</h3>
            <AttemptsTable attempts=d.attempts t />
        </section>
    }
}

#[component]
fn AttemptsTable(attempts: Vec<AttemptRow>, t: &'static Messages) -> impl IntoView {
    if attempts.is_empty() {
        view! { <p class="empty">{t.logs.empty_attempts}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap"><table class="data" id="attempts-table">
                <thead><tr>
                    <th>{t.logs.time}</th><th>{t.logs.http_status}</th><th>{t.logs.latency}</th>
                    <th>{t.logs.outcome}</th><th>{t.logs.response}</th>
                </tr></thead>
                <tbody>{attempts.into_iter().map(|a| view! {
                    <tr>
                        <td class="mono" data-label=t.logs.time>{time_ms(a.at, CHINA_OFFSET_MINUTES)}</td>
                        <td class="num" data-label=t.logs.http_status>{a.status.map(|s| s.to_string()).unwrap_or_else(|| t.logs.no_answer.into())}</td>
                        <td class="num" data-label=t.logs.latency>{format!("{} ms", a.latency_ms)}</td>
                        <td class="wrap" data-label=t.logs.outcome>{a.error.unwrap_or_default()}</td>
                        <td class="mono wrap" data-label=t.logs.response>{a.response.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table></div>
        }.into_any()
    }
}

/// The filters, a page of notifications, and the pager.
#[component]
fn NotificationList(
    page: Page<NotificationRow>,
    q: ParamsMap,
    t: &'static Messages,
    resend: ServerAction<ResendNotification>,
    can_resend: bool,
) -> impl IntoView {
    view! {
        <NotificationFilters q=q.clone() t />
        {if page.rows.is_empty() {
            view! { <p class="empty">{t.logs.empty_notifications}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap"><table class="data" id="notifications-table">
                    <NotificationHead t />
                    <tbody>{page.rows.into_iter().map(|n| notification_line(n, t, resend, can_resend)).collect_view()}</tbody>
                </table></div>
            }.into_any()
        }}
        <Pager older=page.older q=q t />
    }
}

#[component]
fn NotificationFilters(q: ParamsMap, t: &'static Messages) -> impl IntoView {
    view! {
        <form method="get" action="/logs" class="filters" id="notifications-filters">
            <div class="field">
                <label for="f-status">{t.logs.status}</label>
                <select id="f-status" name="status">
                    <option value="">{t.logs.any}</option>
                    {["pending", "delivered", "failed"].into_iter().map(|s| view! {
                        <option value=s selected=param(&q, "status").as_deref() == Some(s)>{t.logs.notify_status(s)}</option>
                    }).collect_view()}
                </select>
            </div>
            <TextFilter id="f-order" name="order" label=t.logs.order value=param(&q, "order") />
            <FilterButtons tab="notifications" t />
        </form>
    }
}

#[component]
fn NotificationHead(t: &'static Messages) -> impl IntoView {
    view! {
        <thead><tr>
            <th>{t.logs.time}</th><th>{t.logs.event}</th><th>{t.logs.order}</th><th>{t.logs.url}</th>
            <th>{t.logs.status}</th><th>{t.logs.attempts}</th><th>{t.logs.next_retry}</th>
            <th>{t.logs.last_response}</th><th></th>
        </tr></thead>
    }
}

fn notification_line(
    n: NotificationRow,
    t: &'static Messages,
    resend: ServerAction<ResendNotification>,
    can_resend: bool,
) -> impl IntoView {
    let pending = n.status == "pending";
    let l = t.logs;
    let form_id = n.id.clone();
    view! {
        <tr data-notification=n.id.clone()>
            <td class="mono" data-label=l.time>{time_ms(n.created_at, CHINA_OFFSET_MINUTES)}</td>
            <td data-label=l.event>{n.event.clone()}</td>
            <td data-label=l.order>{order_link(Some(n.out_trade_no.clone()), t)}</td>
            <td class="mono wrap" data-label=l.url>{n.url.clone()}</td>
            <td data-label=l.status><span class=format!("status {}", n.status)>{t.logs.notify_status(&n.status)}</span></td>
            <td class="num" data-label=l.attempts><a href=format!("/logs?tab=notifications&id={}", n.id)>{n.attempts}</a></td>
            <td class="mono" data-label=l.next_retry>{if pending { time_ms(n.next_attempt_at, CHINA_OFFSET_MINUTES) } else { t.common.none.to_string() }}</td>
            <td class="wrap" data-label=l.last_response>{n.last_error.clone().unwrap_or_else(|| t.common.none.into())}</td>
            <td>
                {can_resend.then(|| view! {
                    <ActionForm action=resend attr:class="inline">
                        <input type="hidden" name="id" value=form_id />
                        <button type="submit">{t.logs.resend}</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
