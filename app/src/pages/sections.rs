//! The sections of the dashboard. Orders, refunds, logs, checkout and credentials are
//! built by later work; each page already enforces its role.

use crate::api::list_users;
use crate::components::layout::{Layout, RequireCap, use_session, use_t};
use crate::i18n::Messages;
use leptos::prelude::*;
use paydesk_core::role::Capability;

type Text = fn(&Messages) -> &'static str;

/// A page of the dashboard: heading and introduction in the user's language, shown only
/// to roles with `cap`.
#[component]
fn Section(title: Text, intro: Text, cap: Capability, children: ChildrenFn) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <Layout>
            <RequireCap cap=Some(cap)>
                <SectionHeading title intro />
                {children.with_value(|c| c())}
            </RequireCap>
        </Layout>
    }
}

#[component]
fn SectionHeading(title: Text, intro: Text) -> impl IntoView {
    let t = use_t();
    view! {
        <h1>{title(t)}</h1>
        <p class="intro">{intro(t)}</p>
    }
}

#[component]
fn ComingSoon() -> impl IntoView {
    view! { <p class="empty">{use_t().coming_soon}</p> }
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    view! { <Section title=|t| t.nav_checkout intro=|t| t.page_checkout_intro cap=Capability::Checkout><ComingSoon /></Section> }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    view! { <Section title=|t| t.nav_orders intro=|t| t.page_orders_intro cap=Capability::ViewOrders><ComingSoon /></Section> }
}

#[component]
pub fn RefundsPage() -> impl IntoView {
    view! { <Section title=|t| t.nav_refunds intro=|t| t.page_refunds_intro cap=Capability::Refund><ComingSoon /></Section> }
}

#[component]
pub fn LogsPage() -> impl IntoView {
    view! { <Section title=|t| t.nav_logs intro=|t| t.page_logs_intro cap=Capability::ReadLogs><ComingSoon /></Section> }
}

#[component]
pub fn CredentialsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_credentials intro=|t| t.page_credentials_intro cap=Capability::ManageCredentials>
            <ComingSoon />
        </Section>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_users intro=|t| t.page_users_intro cap=Capability::ManageUsers>
            <UsersTable />
        </Section>
    }
}

#[component]
fn UsersTable() -> impl IntoView {
    let t = use_session().lang.t();
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <p class="notice error" role="alert">{t.error(&error_code(&e))}</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="data" id="users-table">
                            <thead>
                                <tr><th>{t.col_username}</th><th>{t.col_role}</th><th>{t.col_status}</th></tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|u| view! {
                                    <tr>
                                        <td>{u.username}</td>
                                        <td><span class=format!("badge role-{}", u.role.as_str())>{t.role(u.role)}</span></td>
                                        <td>{if u.disabled { t.status_disabled } else { t.status_active }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The code a server function put in its error ("forbidden", "internal", …).
fn error_code(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(code) => code.clone(),
        _ => "internal".to_string(),
    }
}
