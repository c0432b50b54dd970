use crate::app::SessionGate;
use crate::components::layout::{Preferences, SkipLink, use_t};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The sign-in form. It posts to `/login` (a plain form, no JavaScript needed); on failure
/// the server redirects back here with `?error=…`.
#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <SessionGate>
            <LoginForm />
        </SessionGate>
    }
}

#[component]
fn LoginForm() -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    let error = move || {
        query.with(|q| {
            q.get("error").map(|code| match code.as_str() {
                "locked" => {
                    let minutes = q.get("minutes").and_then(|m| m.parse().ok()).unwrap_or(15);
                    (t.err_locked)(minutes)
                }
                other => t.error(other),
            })
        })
    };
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    view! {
        <SkipLink />
        <div class="login-page">
            <div class="login-preferences">
                <Preferences />
            </div>
            <main class="login-card" id="content" tabindex="-1">
                <h1>{t.login_title}</h1>
                {move || error().map(|e| view! { <p class="notice error" role="alert" id="login-error">{e}</p> })}
                <form method="post" action="/auth/login" class="stack">
                    <input type="hidden" name="next" value=next />
                    <label for="username">{t.username}</label>
                    <input id="username" name="username" type="text" autocomplete="username" required autofocus />
                    <label for="password">{t.password}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required />
                    <button type="submit" class="primary">{t.sign_in}</button>
                </form>
                <p class="hint">{t.login_hint}</p>
            </main>
        </div>
    }
}
