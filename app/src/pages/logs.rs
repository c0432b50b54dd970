//! `/logs?tab=inbox|calls|notifications|audit`: what providers sent, what paydesk asked
//! them, what paydesk told merchants, and (admins only) who did what.
//!
//! Tabs and filters are links and GET forms (query parameters); details open with `&id=`;
//! the one change here, resending a merchant notification, is an `ActionForm`.

use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::pages::section::Section;
use crate::server_fns::AppError;
use crate::server_fns::logs::{
    AuditRow, CallRow, InboxRow, NotificationRow, ResendNotification, inbox_entry, list_audit,
    list_calls, list_inbox, list_notifications, notification_detail,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use paydesk_core::role::Capability;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub fn LogsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_logs intro=|t| t.page_logs_intro cap=Capability::ReadLogs>
            <LogsBody />
        </Section>
    }
}

/// A query parameter, trimmed; `None` when absent or blank.
fn param(q: &ParamsMap, name: &str) -> Option<String> {
    q.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn failure(t: &'static Messages, e: &AppError) -> AnyView {
    let text = match e {
        AppError::Invalid(_) => t.logs.err_bad_filter,
        e => t.app_error(e),
    };
    view! { <p class="notice error" role="alert">{text}</p> }.into_any()
}

/// "Older" link: the current query with `before` replaced.
fn older_link(q: &ParamsMap, before: &str) -> String {
    let mut pairs: Vec<(String, String)> = q
        .clone()
        .into_iter()
        .filter(|(k, _)| k != "before" && k != "ok" && k != "error")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pairs.push(("before".into(), before.into()));
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let qs: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    format!("/logs?{}", qs.join("&"))
}

fn order_link(no: Option<String>, t: &'static Messages) -> AnyView {
    match no {
        Some(no) => {
            view! { <a href=format!("/orders/{no}") class="mono">{no.clone()}</a> }.into_any()
        }
        None => view! { <span class="muted">{t.common.none}</span> }.into_any(),
    }
}

#[component]
fn LogsBody() -> impl IntoView {
    let session = use_session();
    let t = session.lang.t();
    let admin = session
        .user
        .map(|u| u.role.can(Capability::ManageUsers))
        .unwrap_or(false);
    let query = use_query_map();
    let tab = move || param(&query.get(), "tab").unwrap_or_else(|| "inbox".into());
    let tabs = move || {
        let mut all = vec![
            ("inbox", t.logs.tab_inbox),
            ("calls", t.logs.tab_calls),
            ("notifications", t.logs.tab_notifications),
        ];
        if admin {
            all.push(("audit", t.logs.tab_audit));
        }
        all.into_iter()
            .map(|(key, label)| {
                let current = tab() == key;
                view! {
                    <a href=format!("/logs?tab={key}") id=format!("tab-{key}")
                        aria-current=current.then_some("page") class:active=current>{label}</a>
                }
            })
            .collect_view()
    };
    view! {
        <nav class="tabs" aria-label=t.logs.title>{tabs}</nav>
        {move || {
            let q = query.get();
            if let Some(text) = q.get("ok").filter(|c| c == "resent").map(|_| t.logs.ok_resent) {
                return Some(view! { <p class="notice ok" role="status">{text}</p> }.into_any());
            }
            q.get("error").map(|c| view! { <p class="notice error" role="alert">{t.error(&c)}</p> }.into_any())
        }}
        {move || match tab().as_str() {
            "calls" => view! { <CallsTab /> }.into_any(),
            "notifications" => view! { <NotificationsTab /> }.into_any(),
            "audit" => view! { <AuditTab /> }.into_any(),
            _ => view! { <InboxTab /> }.into_any(),
        }}
    }
}

#[component]
fn TextFilter(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    value: Option<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name value=value.unwrap_or_default() />
        </div>
    }
}

#[component]
fn FilterButtons(tab: &'static str, t: &'static Messages) -> impl IntoView {
    view! {
        <input type="hidden" name="tab" value=tab />
        <div class="actions">
            <button type="submit" class="primary">{t.common.search}</button>
            <a class="button" href=format!("/logs?tab={tab}")>{t.common.reset}</a>
        </div>
    }
}

#[component]
fn InboxTab() -> impl IntoView {
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
                    Ok(Err(d)) => view! {
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
                    }.into_any(),
                    Ok(Ok(page)) => view! {
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
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn inbox_line(r: InboxRow, t: &'static Messages) -> impl IntoView {
    view! {
        <tr>
            <td class="mono">{time_ms(r.received_at, CHINA_OFFSET_MINUTES)}</td>
            <td>{r.provider}</td>
            <td>{r.channel}</td>
            <td>{r.event.unwrap_or_else(|| t.common.none.into())}</td>
            <td><span class=format!("status {}", r.verdict)>{r.verdict.clone()}</span></td>
            <td class="wrap">{r.reason.unwrap_or_default()}</td>
            <td>{order_link(r.out_trade_no, t)}</td>
            <td><a href=format!("/logs?tab=inbox&id={}", r.id)>{t.logs.details}</a></td>
        </tr>
    }
}

#[component]
fn Pager(older: Option<String>, q: ParamsMap, t: &'static Messages) -> impl IntoView {
    let tab = param(&q, "tab").unwrap_or_else(|| "inbox".into());
    let paged = param(&q, "before").is_some();
    view! {
        <nav class="pager">
            {paged.then(|| view! { <a href=format!("/logs?tab={tab}")>{t.logs.newest}</a> })}
            {older.map(|b| view! { <a href=older_link(&q, &b) rel="next">{t.logs.older}</a> })}
        </nav>
    }
}

#[component]
fn CallsTab() -> impl IntoView {
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
    let failed = c.status.is_none_or(|s| s >= 400) || c.provider_code.is_some();
    let outcome = [c.provider_code.clone(), c.error.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <tr class:failed=failed>
            <td class="mono">{time_ms(c.at, CHINA_OFFSET_MINUTES)}</td>
            <td>{c.provider}</td>
            <td>{c.channel}</td>
            <td>{c.operation}{(c.attempt > 1).then(|| format!(" (#{})", c.attempt))}</td>
            <td class="num">
                <span class=if failed { "status failed" } else { "status ok" }>
                    {c.status.map(|s| s.to_string()).unwrap_or_else(|| t.logs.no_answer.into())}
                </span>
            </td>
            <td class="num">{format!("{} ms", c.latency_ms)}</td>
            <td>{order_link(c.out_trade_no, t)}</td>
            <td class="mono wrap">{format!("{} {}", c.method, c.url)}</td>
            <td class="wrap">{if outcome.is_empty() { t.common.none.to_string() } else { outcome }}</td>
        </tr>
    }
}

#[component]
fn NotificationsTab() -> impl IntoView {
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
                    Ok(Err(d)) => view! {
                        <section class="card" id="notification-detail">
                            <p><a href="/logs?tab=notifications">{t.logs.back_to_list}</a></p>
                            <div class="table-wrap"><table class="data">
                                <NotificationHead t />
                                <tbody>{notification_line(d.row.clone(), t, resend, can_resend)}</tbody>
                            </table></div>
                            <h3>{t.logs.attempts}</h3>
                            {if d.attempts.is_empty() {
                                view! { <p class="empty">{t.logs.empty_attempts}</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap"><table class="data" id="attempts-table">
                                        <thead><tr>
                                            <th>{t.logs.time}</th><th>{t.logs.http_status}</th><th>{t.logs.latency}</th>
                                            <th>{t.logs.outcome}</th><th>{t.logs.response}</th>
                                        </tr></thead>
                                        <tbody>{d.attempts.into_iter().map(|a| view! {
                                            <tr>
                                                <td class="mono">{time_ms(a.at, CHINA_OFFSET_MINUTES)}</td>
                                                <td class="num">{a.status.map(|s| s.to_string()).unwrap_or_else(|| t.logs.no_answer.into())}</td>
                                                <td class="num">{format!("{} ms", a.latency_ms)}</td>
                                                <td class="wrap">{a.error.unwrap_or_default()}</td>
                                                <td class="mono wrap">{a.response.unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}</tbody>
                                    </table></div>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                    Ok(Ok(page)) => view! {
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
                    }.into_any(),
                }
            })}
        </Suspense>
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
    let form_id = n.id.clone();
    view! {
        <tr data-notification=n.id.clone()>
            <td class="mono">{time_ms(n.created_at, CHINA_OFFSET_MINUTES)}</td>
            <td>{n.event.clone()}</td>
            <td>{order_link(Some(n.out_trade_no.clone()), t)}</td>
            <td class="mono wrap">{n.url.clone()}</td>
            <td><span class=format!("status {}", n.status)>{t.logs.notify_status(&n.status)}</span></td>
            <td class="num"><a href=format!("/logs?tab=notifications&id={}", n.id)>{n.attempts}</a></td>
            <td class="mono">{if pending { time_ms(n.next_attempt_at, CHINA_OFFSET_MINUTES) } else { t.common.none.to_string() }}</td>
            <td class="wrap">{n.last_error.clone().unwrap_or_else(|| t.common.none.into())}</td>
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

#[component]
fn AuditTab() -> impl IntoView {
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
                                    <tbody>{page.rows.into_iter().map(audit_line).collect_view()}</tbody>
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

fn audit_line(a: AuditRow) -> impl IntoView {
    view! {
        <tr>
            <td class="mono">{time_ms(a.at, CHINA_OFFSET_MINUTES)}</td>
            <td>{a.actor}</td>
            <td class="mono">{a.action}</td>
            <td>{a.target}</td>
            <td class="wrap">{a.detail}</td>
        </tr>
    }
}
