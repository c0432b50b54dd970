use crate::api::list_users;
use crate::components::layout::use_session;
use crate::pages::section::{Section, error_code};
use leptos::prelude::*;
use paydesk_core::role::Capability;

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
