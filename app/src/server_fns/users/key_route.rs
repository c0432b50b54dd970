//! `POST /admin/api-keys` (form field `name`): creates a merchant API key and answers with
//! a page that shows the key and its signing secret — the only time either is shown.
//!
//! A plain form route rather than a server function: a server function called by a form
//! without JavaScript answers with a redirect, and a redirect could carry the secrets only
//! in its URL (history, logs). Here they travel once, in a `no-store` response body, and
//! are kept nowhere else (no session, no log line). Works the same with JavaScript.

use super::{CREATE_KEY_PATH, valid_key_name};
use crate::guard::Services;
use crate::i18n::{Lang, Messages};
use crate::preferences::Theme;
use axum::Router;
use axum::extract::Form;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use leptos::prelude::*;
use paydesk_core::auth::AuthSession;
use paydesk_core::role::Capability;
use paydesk_core::store::StoreError;

#[derive(serde::Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

/// The route, to merge into the page router (inside the session, auth and cross-origin
/// layers).
/// `stylesheet` is the site's stylesheet URL (`crate::stylesheet_href`, content-hashed).
pub fn routes<S: Clone + Send + Sync + 'static>(
    services: Services,
    stylesheet: String,
) -> Router<S> {
    let stylesheet: std::sync::Arc<str> = stylesheet.into();
    Router::new().route(
        CREATE_KEY_PATH,
        post(
            move |auth: AuthSession, headers: HeaderMap, Form(form): Form<KeyForm>| {
                let services = services.clone();
                let stylesheet = stylesheet.clone();
                async move { create(services, &stylesheet, auth, headers, form).await }
            },
        ),
    )
}

fn back(code: &str) -> Response {
    Redirect::to(&format!("/users?{code}")).into_response()
}

async fn create(
    services: Services,
    stylesheet: &str,
    auth: AuthSession,
    headers: HeaderMap,
    form: KeyForm,
) -> Response {
    let (lang, theme) = crate::guard::preferences(&headers);
    let Some(user) = auth.user.clone() else {
        return refusal(stylesheet, StatusCode::UNAUTHORIZED, lang, theme);
    };
    if !user.role.can(Capability::ManageUsers) {
        tracing::warn!(user = %user.username, "refused: api key creation needs ManageUsers");
        return refusal(stylesheet, StatusCode::FORBIDDEN, lang, theme);
    }
    let name = form.name.trim();
    if !valid_key_name(name) {
        return back("error=key_name_invalid");
    }
    let store = auth.backend.store();
    let master = services.payments.channels().master();
    let key = match store.create_api_key(name, &user.username, master).await {
        Ok(key) => key,
        Err(StoreError::Conflict) => return back("error=key_exists"),
        Err(e) => {
            tracing::error!(error = %e, "api key creation failed");
            return back("error=internal");
        }
    };
    // The prefix identifies the key in the audit log; the key itself is never recorded.
    if let Err(e) = store
        .audit(&user.username, "api_key_created", name, &key.info.prefix)
        .await
    {
        tracing::error!(error = %e, "audit write failed");
    }
    let t = lang.t();
    let body = page(
        stylesheet,
        lang,
        theme,
        t.users.key_created_title,
        view! {
            <p class="notice warn" role="alert">{t.users.key_created_once}</p>
            <dl class="facts key-secrets">
                <dt>{t.users.key_name}</dt>
                <dd id="new-key-name">{name.to_string()}</dd>
                <dt>{t.users.key_value}</dt>
                <dd><code class="mono secret" id="new-api-key">{key.secret.clone()}</code></dd>
                <dt>{t.users.key_signing_secret}</dt>
                <dd>
                    <code class="mono secret" id="new-signing-secret">
                        {key.signing_secret.expose().to_string()}
                    </code>
                </dd>
            </dl>
            <p class="muted">{t.users.key_signing_hint}</p>
            <p class="actions"><a class="button" href="/users?ok=key_created" id="back-to-users">{t.users.back_to_users}</a></p>
        }
        .to_html(),
    );
    let mut resp = Html(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn refusal(stylesheet: &str, status: StatusCode, lang: Lang, theme: Theme) -> Response {
    let t: &Messages = lang.t();
    let text = if status == StatusCode::UNAUTHORIZED {
        t.err_unauthenticated
    } else {
        t.err_forbidden
    };
    let body = page(
        stylesheet,
        lang,
        theme,
        t.users.key_created_title,
        view! {
            <p class="notice error" role="alert">{text}</p>
            <p><a href="/">{t.nav_overview}</a></p>
        }
        .to_html(),
    );
    (status, Html(body)).into_response()
}

/// A minimal page in the app's look (same stylesheet, theme and icon), around `content`
/// (already HTML). Also the frame of the two-step sign-in pages (server crate).
pub fn page(
    stylesheet: &str,
    lang: Lang,
    theme: Theme,
    title: &'static str,
    content: String,
) -> String {
    let t = lang.t();
    let head = view! {
        <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <meta name="color-scheme" content="light dark" />
            <meta name="referrer" content="no-referrer" />
            <link rel="stylesheet" href=stylesheet.to_string() />
            <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
            <title>{format!("{title} · {}", t.app_name)}</title>
        </head>
    }
    .to_html();
    let top = view! {
        <a class="skip-link" href="#content">{t.skip_to_content}</a>
        <header class="topbar"><a class="brand" href="/">{t.app_name}</a></header>
    }
    .to_html();
    let h1 = view! { <h1>{title}</h1> }.to_html();
    format!(
        "<!DOCTYPE html><html lang=\"{}\" data-theme=\"{}\">{head}<body>{top}<main class=\"content key-created\" id=\"content\" tabindex=\"-1\">{h1}{content}</main></body></html>",
        lang.html_lang(),
        theme.code()
    )
}
