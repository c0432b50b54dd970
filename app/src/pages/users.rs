//! `/users`: people who can sign in, and merchant API keys (admin only).
//!
//! Every change is a form: `ActionForm`s posting to the server functions in
//! `server_fns::users` (which redirect back with `?ok=`/`?error=`), and a plain form for
//! creating an API key (its result page shows the key once).

use crate::components::confirm::{AdminScript, ConfirmCard};
use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::pages::section::Section;
use crate::server_fns::sessions::EndUserSessions;
use crate::server_fns::users::{
    ApiKeyRow, CREATE_KEY_PATH, CreateUser, ResetUserPassword, RevokeApiKey, SetUserDisabled,
    SetUserRole, UserRow, list_api_keys, list_users,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::role::{Capability, Role};
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_users intro=|t| t.page_users_intro cap=Capability::ManageUsers>
            <UsersBody />
        </Section>
    }
}

/// The `?ok=` / `?error=` notice left by the last change.
#[component]
fn Notice() -> impl IntoView {
    let t = use_session().lang.t();
    let query = use_query_map();
    move || {
        let q = query.get();
        if let Some(text) = q.get("ok").and_then(|c| t.users.ok(&c)) {
            return Some(view! { <p class="notice ok" role="status">{text}</p> }.into_any());
        }
        q.get("error").map(|c| {
            let text = t
                .users
                .error(&c)
                .map(str::to_string)
                .unwrap_or_else(|| t.error(&c));
            view! { <p class="notice error" role="alert">{text}</p> }.into_any()
        })
    }
}

/// `?confirm=disable&user=…` / `?confirm=revoke&key=…`: the second step of a disable or
/// revoke posted without JavaScript (the first post changed nothing).
#[component]
fn ConfirmStep() -> impl IntoView {
    let t = use_session().lang.t();
    let a = t.admin;
    let query = use_query_map();
    move || {
        let q = query.get();
        let card = |question: String,
                    yes: String,
                    action: &'static str,
                    fields: Vec<(&'static str, String)>| {
            view! { <ConfirmCard t question yes action fields cancel_href="/users".to_string() /> }
        };
        match (q.get("confirm").as_deref(), q.get("user"), q.get("key")) {
            (Some("disable"), Some(u), _) => Some(card(
                (a.confirm_disable_user)(&u),
                (a.confirm_disable_user_yes)(&u),
                "/rpc/set_user_disabled",
                vec![("username", u), ("disabled", "true".to_string())],
            )),
            (Some("revoke"), _, Some(k)) => Some(card(
                (a.confirm_revoke_key)(&k),
                (a.confirm_revoke_key_yes)(&k),
                "/rpc/revoke_api_key",
                vec![("name", k)],
            )),
            _ => None,
        }
    }
}

#[component]
fn UsersBody() -> impl IntoView {
    let session = use_session();
    let t = session.lang.t();
    let me = session.user.map(|u| u.username).unwrap_or_default();
    let query = use_query_map();
    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let end_sessions = ServerAction::<EndUserSessions>::new();
    // Reload after any change, and whenever the notice in the URL changes.
    let changes = move || {
        (
            query.get(),
            create.version().get(),
            set_role.version().get(),
            set_disabled.version().get(),
            reset.version().get(),
            revoke.version().get(),
            end_sessions.version().get(),
        )
    };
    let users = Resource::new(changes, |_| list_users());
    let keys = Resource::new(changes, |_| list_api_keys());
    let me = StoredValue::new(me);
    view! {
        <AdminScript />
        <Notice />
        <ConfirmStep />
        <section class="card" aria-labelledby="users-heading">
            <h2 id="users-heading">{t.users.users_heading}</h2>
            <ActionForm action=create attr:class="add-user" attr:id="add-user">
                <h3>{t.users.add_user}</h3>
                <div class="row">
                    <div class="field">
                        <label for="new-username">{t.users.new_username}</label>
                        <input id="new-username" name="username" required maxlength="64" autocomplete="off" />
                        <small class="muted">{t.users.username_hint}</small>
                    </div>
                    <div class="field">
                        <label for="new-role">{t.users.role}</label>
                        <RoleSelect id="new-role".to_string() selected=Role::Merchant t />
                    </div>
                    <div class="field">
                        <label for="new-password">{t.users.initial_password}</label>
                        <input id="new-password" name="password" type="password" minlength="10" maxlength="256" autocomplete="new-password" />
                        <small class="muted">{t.users.password_hint} " " {t.admin.temp_password_hint}</small>
                    </div>
                </div>
                <div class="actions"><button type="submit" class="primary">{t.users.create}</button></div>
            </ActionForm>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">{t.users.no_users}</p> }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-wrap">
                                <table class="data" id="users-table">
                                    <thead>
                                        <tr>
                                            <th>{t.col_username}</th><th>{t.col_role}</th><th>{t.col_status}</th>
                                            <th>{t.col_created}</th><th>{t.users.actions}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows.into_iter().map(|u| view! {
                                            <UserLine u me=me.get_value() t set_role set_disabled reset end_sessions />
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="keys-heading">
            <h2 id="keys-heading">{t.users.keys_heading}</h2>
            <p class="muted">{t.users.keys_intro}</p>
            <form method="post" action=CREATE_KEY_PATH class="row create-key" id="create-key">
                <div class="field">
                    <label for="key-name">{t.users.key_name}</label>
                    <input id="key-name" name="name" required maxlength="64" autocomplete="off" />
                </div>
                <div class="actions"><button type="submit" class="primary">{t.users.create_key}</button></div>
            </form>
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">{t.users.no_keys}</p> }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-wrap">
                                <table class="data" id="keys-table">
                                    <thead>
                                        <tr>
                                            <th>{t.users.key_name}</th><th>{t.users.key_prefix}</th><th>{t.col_created}</th>
                                            <th>{t.users.created_by}</th><th>{t.users.last_used}</th><th>{t.col_status}</th><th>{t.users.actions}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows.into_iter().map(|k| view! { <KeyLine k t revoke /> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RoleSelect(id: String, selected: Role, t: &'static Messages) -> impl IntoView {
    view! {
        <select id=id name="role">
            {Role::ALL.into_iter().map(|r| view! {
                <option value=r.as_str() selected=r == selected>{t.role(r)}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
fn UserLine(
    u: UserRow,
    me: String,
    t: &'static Messages,
    set_role: ServerAction<SetUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
    reset: ServerAction<ResetUserPassword>,
    end_sessions: ServerAction<EndUserSessions>,
) -> impl IntoView {
    let is_me = u.username == me;
    let n4 = u.username.clone();
    let name = u.username.clone();
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let role_id = format!("role-{slug}");
    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
    let pw_id = format!("pw-{slug}");
    view! {
        <tr data-user=name.clone()>
            <td data-label=t.col_username>{name.clone()} {is_me.then(|| view! { " " <span class="muted">{t.users.you}</span> })}</td>
            <td data-label=t.col_role><span class=format!("badge role-{}", u.role.as_str())>{t.role(u.role)}</span></td>
            <td data-label=t.col_status>
                <span class=if u.disabled { "status disabled" } else { "status active" }>
                    {if u.disabled { t.status_disabled } else { t.status_active }}
                </span>
            </td>
            <td class="mono" data-label=t.col_created>{time_ms(u.created_at, CHINA_OFFSET_MINUTES)}</td>
            <td class="user-actions row-actions" data-label=t.users.actions>
                <ActionForm action=set_role attr:class="inline">
                    <input type="hidden" name="username" value=n1 />
                    <label for=role_id.clone() class="sr-only">{t.users.change_role}</label>
                    <RoleSelect id=role_id selected=u.role t />
                    <button type="submit" name="change" disabled=is_me>{t.users.change_role}</button>
                </ActionForm>
                <ActionForm action=set_disabled attr:class="inline">
                    <input type="hidden" name="username" value=n2 />
                    <input type="hidden" name="disabled" value=if u.disabled { "false" } else { "true" } />
                    <button type="submit" class=if u.disabled { "" } else { "danger" } disabled=is_me && !u.disabled
                        data-confirm=(!u.disabled).then_some(t.admin.press_again)>
                        {if u.disabled { t.users.enable } else { t.users.disable }}
                    </button>
                </ActionForm>
                <ActionForm action=reset attr:class="inline">
                    <input type="hidden" name="username" value=n3 />
                    <label for=pw_id.clone() class="sr-only">{t.users.new_password}</label>
                    <input id=pw_id name="password" type="password" required minlength="10" maxlength="256"
                        autocomplete="new-password" placeholder=t.users.new_password />
                    <button type="submit">{t.users.reset_password}</button>
                </ActionForm>
                <ActionForm action=end_sessions attr:class="inline">
                    <input type="hidden" name="username" value=n4 />
                    <button type="submit" disabled=is_me>{t.users.end_sessions}</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn KeyLine(
    k: ApiKeyRow,
    t: &'static Messages,
    revoke: ServerAction<RevokeApiKey>,
) -> impl IntoView {
    let revoked = k.revoked_at.is_some();
    let form_name = k.name.clone();
    view! {
        <tr data-key=k.name.clone()>
            <td data-label=t.users.key_name>{k.name.clone()}</td>
            <td class="mono" data-label=t.users.key_prefix>{format!("{}…", k.prefix)}</td>
            <td class="mono" data-label=t.col_created>{time_ms(k.created_at, CHINA_OFFSET_MINUTES)}</td>
            <td data-label=t.users.created_by>{k.created_by.clone()}</td>
            <td class="mono" data-label=t.users.last_used>{k.last_used_at.map(|at| time_ms(at, CHINA_OFFSET_MINUTES)).unwrap_or_else(|| t.users.never.to_string())}</td>
            <td data-label=t.col_status>
                <span class=if revoked { "status revoked" } else { "status active" }>
                    {if revoked { t.users.key_revoked } else { t.users.key_active }}
                </span>
            </td>
            <td class="row-actions">
                {(!revoked).then(|| view! {
                    <ActionForm action=revoke attr:class="inline">
                        <input type="hidden" name="name" value=form_name.clone() />
                        <button type="submit" class="danger" data-confirm=t.admin.press_again>{t.users.revoke}</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
