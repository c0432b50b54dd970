//! `/logs?tab=inbox|calls|notifications|audit`: what providers sent, what paydesk asked
//! them, what paydesk told merchants, and (admins only) who did what.
//!
//! Tabs and filters are links and GET forms (query parameters); details open with `&id=`;
//! the one change here, resending a merchant notification, is an `ActionForm`.
//!
//! One tab per module: `inbox`, `calls`, `notifications`, `audit`; `shared` holds what they
//! have in common (query parameters, filters, the pager, error notices).

use crate::components::layout::use_session;
use crate::pages::section::Section;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::role::Capability;

mod audit;
mod calls;
mod inbox;
mod notifications;
mod shared;

use audit::AuditTab;
use calls::CallsTab;
use inbox::InboxTab;
use notifications::NotificationsTab;
use shared::param;

#[component]
pub fn LogsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_logs intro=|t| t.page_logs_intro cap=Capability::ReadLogs>
            <LogsBody />
        </Section>
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
