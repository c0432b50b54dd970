//! The frame around every signed-in page: header, navigation filtered by role, language
//! and theme switches, and sign-out. All plain links and forms, so it works without JavaScript.

use crate::app::SessionGate;
use crate::i18n::{Lang, Messages};
use crate::preferences::Theme;
use crate::server_fns::SessionInfo;
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

/// For an island's first line: an island is hydrated in the browser on its own, outside
/// the server's context, so it gets the language as a prop and provides it to the
/// components inside it (which read it with [`use_t`]).
pub fn provide_lang(lang: Lang) {
    provide_context(SessionInfo {
        lang,
        ..Default::default()
    });
}

/// Navigation entries: path, label, and what the role must be allowed to do.
fn nav_items(t: &'static Messages) -> [(&'static str, &'static str, Option<Capability>); 9] {
    [
        ("/", t.nav_overview, None),
        ("/till", t.till.nav, Some(Capability::Checkout)),
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
        ("/security", t.security.nav, Some(Capability::ManageUsers)),
    ]
}

/// One button of a [`ChoiceSwitch`].
struct Choice {
    value: &'static str,
    text: &'static str,
    current: bool,
    /// The language of `text`, when it differs from the page's (language names).
    lang: Option<&'static str>,
}

/// A row of buttons that post one choice to `action`; the server remembers it in a cookie
/// and sends the browser back to this page, query string included (filters, refund
/// confirmation). A plain form: the same with and without JavaScript.
/// This page's path and query: where a header form sends the browser back to.
fn this_page() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let location = use_location();
    move || {
        let (path, query) = (location.pathname.get(), location.search.get());
        match query.trim_start_matches('?') {
            "" => path,
            q => format!("{path}?{q}"),
        }
    }
}

#[component]
fn ChoiceSwitch(
    action: &'static str,
    name: &'static str,
    label: &'static str,
    class: &'static str,
    choices: Vec<Choice>,
) -> impl IntoView {
    let next = this_page();
    view! {
        <form method="post" action=action class=format!("switch {class}") aria-label=label>
            <input type="hidden" name="next" value=next />
            {choices
                .into_iter()
                .map(|c| {
                    view! {
                        <button
                            type="submit"
                            name=name
                            value=c.value
                            class:active=c.current
                            aria-pressed=if c.current { "true" } else { "false" }
                            lang=c.lang
                        >
                            {c.text}
                        </button>
                    }
                })
                .collect_view()}
        </form>
    }
}

/// The language switch and the theme switch, side by side.
#[component]
pub fn Preferences() -> impl IntoView {
    let session = use_session();
    let t = session.lang.t().preferences;
    let languages = Lang::ALL
        .into_iter()
        .map(|lang| Choice {
            value: lang.code(),
            text: lang.t().language_name,
            current: lang == session.lang,
            lang: Some(lang.html_lang()),
        })
        .collect();
    let themes = Theme::ALL
        .into_iter()
        .map(|theme| Choice {
            value: theme.code(),
            text: t.theme_name(theme),
            current: theme == session.theme,
            lang: None,
        })
        .collect();
    view! {
        <div class="preferences">
            <ChoiceSwitch action="/auth/lang" name="lang" label=t.language class="lang-switch" choices=languages />
            <ChoiceSwitch action="/auth/theme" name="theme" label=t.theme class="theme-switch" choices=themes />
        </div>
    }
}

/// The first Tab of every page (visually hidden until focused): to the page's `<main
/// id="content">`, which takes the focus (`tabindex="-1"`).
#[component]
pub fn SkipLink() -> impl IntoView {
    view! { <a class="skip-link" href="#content">{use_t().skip_to_content}</a> }
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

/// A screen without the frame (no navigation, no user name): the customer display and
/// printed receipts. The role check is the same as inside [`Layout`].
#[component]
pub fn Bare(cap: Capability, class: &'static str, children: ChildrenFn) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <SessionGate>
            <SkipLink />
            <main class=class id="content" tabindex="-1">
                <RequireCap cap=Some(cap)>{children.with_value(|c| c())}</RequireCap>
            </main>
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
            <a class="sessions-link" href="/sessions">{t.sessions.link}</a>
            <a class="twofa-link" href="/account/2fa">{t.twofa.link}</a>
            <form method="post" action="/auth/logout" class="logout">
                <button type="submit">{t.sign_out}</button>
            </form>
        }
    });
    let signed_in = session.user.is_some();
    view! {
        <SkipLink />
        <header class="topbar">
            <a class="brand" href="/">{t.app_name}</a>
            <div class="topbar-right">
                <Preferences />
                {(signed_in && !session.test_mode).then(|| view! { <TestModeSwitch on=false /> })}
                {who}
            </div>
        </header>
        {(signed_in && session.test_mode).then(|| {
            view! {
                <div class="test-banner" role="status" id="test-banner">
                    <span class="badge test">{crate::i18n::test_mode::of(session.lang).banner}</span>
                    <TestModeSwitch on=true />
                </div>
            }
        })}
        <div class="frame">
            <nav class="sidenav" aria-label="main">
                <ul>{nav}</ul>
            </nav>
            <main class="content" id="content" tabindex="-1">{children()}</main>
        </div>
    }
}

/// The form that turns test mode off (`on`: it is on now) or on; back to this page.
#[component]
fn TestModeSwitch(on: bool) -> impl IntoView {
    let t = crate::i18n::test_mode::of(use_session().lang);
    let next = this_page();
    let (value, text) = if on {
        ("0", t.show_live)
    } else {
        ("1", t.show_test)
    };
    view! {
        <form method="post" action="/account/test-mode" class="switch test-mode-switch">
            <input type="hidden" name="next" value=next />
            {(!on).then(|| view! { <span class="badge live">{t.live_note}</span> })}
            <button type="submit" name="test" value=value id="test-mode-toggle">{text}</button>
        </form>
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
