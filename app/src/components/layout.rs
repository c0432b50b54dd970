//! The frame around every signed-in page: header, navigation filtered by role, language
//! switch and sign-out. All plain links and forms, so it works without JavaScript.

use crate::api::SessionInfo;
use crate::app::SessionGate;
use crate::i18n::{Lang, Messages};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use paydesk_core::role::Capability;

/// Session info provided by `App` (always present below it).
pub fn use_session() -> SessionInfo {
    use_context::<SessionInfo>().unwrap_or_default()
}

pub fn use_t() -> &'static Messages {
    use_session().lang.t()
}

/// Navigation entries: path, label, and what the role must be allowed to do.
fn nav_items(t: &'static Messages) -> [(&'static str, &'static str, Option<Capability>); 7] {
    [
        ("/", t.nav_overview, None),
        ("/checkout", t.nav_checkout, Some(Capability::Checkout)),
        ("/orders", t.nav_orders, Some(Capability::ViewOrders)),
        ("/refunds", t.nav_refunds, Some(Capability::Refund)),
        ("/logs", t.nav_logs, Some(Capability::ReadLogs)),
        (
            "/credentials",
            t.nav_credentials,
            Some(Capability::ManageCredentials),
        ),
        ("/users", t.nav_users, Some(Capability::ManageUsers)),
    ]
}

/// Buttons that switch the language; the server remembers the choice in a cookie.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let current = use_session().lang;
    let location = use_location();
    view! {
        <form method="post" action="/auth/lang" class="lang-switch">
            // Back to the same page with its filters: the query string is kept.
            <input
                type="hidden"
                name="next"
                value=move || {
                    let (path, query) = (location.pathname.get(), location.search.get());
                    match query.trim_start_matches('?') {
                        "" => path,
                        q => format!("{path}?{q}"),
                    }
                }
            />
            {Lang::ALL
                .into_iter()
                .map(|lang| {
                    view! {
                        <button
                            type="submit"
                            name="lang"
                            value=lang.code()
                            class:active=lang == current
                            aria-pressed=if lang == current { "true" } else { "false" }
                            lang=lang.html_lang()
                            data-lang=lang.code()
                        >
                            {lang.t().language_name}
                        </button>
                    }
                })
                .collect_view()}
        </form>
    }
}

/// The signed-in frame. `children` render inside [`SessionGate`], so they (and the
/// components in them) can call [`use_session`].
#[component]
pub fn Layout(children: ChildrenFn) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <SessionGate>
            <Frame>{children.with_value(|c| c())}</Frame>
        </SessionGate>
    }
}

#[component]
fn Frame(children: Children) -> impl IntoView {
    let session = use_session();
    let t = session.lang.t();
    let location = use_location();
    let user = session.user.clone();
    let nav = user.clone().map(|user| {
        nav_items(t)
            .into_iter()
            .filter(|(_, _, cap)| cap.is_none_or(|c| user.role.can(c)))
            .map(|(href, label, _)| {
                let current = move || location.pathname.get() == href;
                view! {
                    <li>
                        <a href=href aria-current=move || current().then_some("page")>
                            {label}
                        </a>
                    </li>
                }
            })
            .collect_view()
    });
    let who = user.map(|u| {
        view! {
            <span class="who">
                <span class="user-name">{u.username.clone()}</span>
                <span class=format!("badge role-{}", u.role.as_str())>{t.role(u.role)}</span>
            </span>
            <form method="post" action="/auth/logout" class="logout">
                <button type="submit">{t.sign_out}</button>
            </form>
        }
    });
    view! {
        <header class="topbar">
            <a class="brand" href="/">{t.app_name}</a>
            <div class="topbar-right">
                <LangSwitch />
                {who}
            </div>
        </header>
        <div class="frame">
            <nav class="sidenav" aria-label="main">
                <ul>{nav}</ul>
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}

/// Renders `children` only for a signed-in user whose role has `cap`; otherwise an
/// explanation (and, on the server, the matching 401/403 status).
#[component]
pub fn RequireCap(cap: Option<Capability>, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let t = session.lang.t();
    let allowed = session
        .user
        .as_ref()
        .map(|u| cap.is_none_or(|c| u.role.can(c)));
    #[cfg(feature = "ssr")]
    {
        use axum::http::StatusCode;
        let status = match allowed {
            None => Some(StatusCode::UNAUTHORIZED),
            Some(false) => Some(StatusCode::FORBIDDEN),
            Some(true) => None,
        };
        if let (Some(status), Some(resp)) = (status, use_context::<leptos_axum::ResponseOptions>())
        {
            resp.set_status(status);
        }
    }
    match allowed {
        Some(true) => children().into_any(),
        Some(false) => {
            view! { <p class="notice error" role="alert">{t.err_forbidden}</p> }.into_any()
        }
        None => view! {
            <p class="notice error" role="alert">
                {t.err_unauthenticated} " " <a href="/login">{t.go_to_login}</a>
            </p>
        }
        .into_any(),
    }
}
