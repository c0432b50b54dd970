//! `POST /auth/lang` and `POST /auth/theme`: the header's switches. Each remembers the
//! choice in a cookie for a year and sends the browser back to the page it came from,
//! which the server then renders in the new language or colours (no JavaScript needed).

use super::safe_next;
use crate::startup::AppState;
use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use paydesk_app::i18n::{LANG_COOKIE, Lang};
use paydesk_app::preferences::{THEME_COOKIE, Theme};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct ThemeForm {
    theme: String,
    #[serde(default)]
    next: String,
}

/// POST /auth/lang: an unknown language falls back to English.
pub async fn lang(State(state): State<AppState>, Form(form): Form<LangForm>) -> Response {
    let lang = Lang::from_code(&form.lang).unwrap_or_default();
    remember(&state, LANG_COOKIE, lang.code(), &form.next)
}

/// POST /auth/theme: an unknown theme falls back to the system's.
pub async fn theme(State(state): State<AppState>, Form(form): Form<ThemeForm>) -> Response {
    let theme = Theme::from_code(&form.theme).unwrap_or_default();
    remember(&state, THEME_COOKIE, theme.code(), &form.next)
}

/// Sets `name=value` for a year and redirects to `next` (local paths only).
fn remember(state: &AppState, name: &str, value: &str, next: &str) -> Response {
    let secure = if state.config.cookies_secure() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{name}={value}; Path=/; Max-Age=31536000; SameSite=Lax{secure}");
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(safe_next(next)),
    )
        .into_response()
}
