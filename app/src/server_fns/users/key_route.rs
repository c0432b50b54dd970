//! `POST /admin/api-keys` (form field `name`): creates a merchant API key, keeps it and
//! its signing secret sealed in the session (`shown_once`) and redirects to
//! `GET /admin/api-keys/new`, which shows both once, with copy buttons. A plain form route
//! rather than a server function, so the secrets never travel in a URL; Back or a reload
//! of the page finds them gone (and never posts the form again).

use super::shown_once;
use super::{CREATE_KEY_PATH, valid_key_name};
use crate::components::confirm::{AdminScript, CopyButton};
use crate::guard::Services;
use crate::i18n::{Lang, Messages};
use crate::preferences::Theme;
use axum::Router;
use axum::extract::Form;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use leptos::prelude::*;
use paydesk_core::auth::AuthSession;
use paydesk_core::role::Capability;
use paydesk_core::store::{StoreError, User};

/// Where a new key is shown (once).
pub const SHOWN_KEY_PATH: &str = "/admin/api-keys/new";
const SHOWN_KIND: &str = "api_key";
/// Where a new user's temporary password is shown (once; `create_user` keeps it).
pub const SHOWN_PASSWORD_PATH: &str = "/admin/users/new-password";
pub const SHOWN_PASSWORD_KIND: &str = "temp_password";

#[derive(serde::Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

/// A new key as it is shown once.
struct NewKey {
    name: String,
    key: String,
    signing_secret: String,
}

/// The routes, to merge into the page router (inside the session, auth and cross-origin
/// layers).
/// `stylesheet` is the site's stylesheet URL (`crate::stylesheet_href`, content-hashed).
pub fn routes<S: Clone + Send + Sync + 'static>(
    services: Services,
    stylesheet: String,
) -> Router<S> {
    let stylesheet: std::sync::Arc<str> = stylesheet.into();
    let (services2, stylesheet2) = (services.clone(), stylesheet.clone());
    Router::new()
        .route(
            CREATE_KEY_PATH,
            post(
                move |auth: AuthSession, headers: HeaderMap, Form(form): Form<KeyForm>| {
                    let services = services.clone();
                    let stylesheet = stylesheet.clone();
                    async move { create(services, &stylesheet, auth, headers, form).await }
                },
            ),
        )
        .route(
            SHOWN_KEY_PATH,
            get({
                let (services, stylesheet) = (services2.clone(), stylesheet2.clone());
                move |auth: AuthSession, headers: HeaderMap| {
                    let (services, stylesheet) = (services.clone(), stylesheet.clone());
                    async move { show(services, &stylesheet, auth, headers, SHOWN_KIND).await }
                }
            }),
        )
        .route(
            SHOWN_PASSWORD_PATH,
            get(move |auth: AuthSession, headers: HeaderMap| {
                let (services, stylesheet) = (services2.clone(), stylesheet2.clone());
                async move { show(services, &stylesheet, auth, headers, SHOWN_PASSWORD_KIND).await }
            }),
        )
}

fn back(code: &str) -> Response {
    Redirect::to(&format!("/users?{code}")).into_response()
}

/// The signed-in admin, or the refusal page.
fn admin(auth: &AuthSession, stylesheet: &str, headers: &HeaderMap) -> Result<User, Box<Response>> {
    let (lang, theme) = crate::guard::preferences(headers);
    let Some(user) = auth.user.clone() else {
        return Err(Box::new(refusal(
            stylesheet,
            StatusCode::UNAUTHORIZED,
            lang,
            theme,
        )));
    };
    if !user.role.can(Capability::ManageUsers) {
        tracing::warn!(user = %user.username, "refused: api keys need ManageUsers");
        return Err(Box::new(refusal(
            stylesheet,
            StatusCode::FORBIDDEN,
            lang,
            theme,
        )));
    }
    Ok(user)
}

async fn create(
    services: Services,
    stylesheet: &str,
    auth: AuthSession,
    headers: HeaderMap,
    form: KeyForm,
) -> Response {
    let user = match admin(&auth, stylesheet, &headers) {
        Ok(u) => u,
        Err(refused) => return *refused,
    };
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
    let shown = [name, key.secret.as_str(), key.signing_secret.expose()];
    if let Err(e) = shown_once::put(&auth, master, SHOWN_KIND, &user.username, &shown).await {
        tracing::error!(error = %e, "could not keep the new key for its page");
        return back("error=internal");
    }
    Redirect::to(SHOWN_KEY_PATH).into_response()
}

/// `GET /admin/api-keys/new` and `GET /admin/users/new-password`: the key or password
/// made by the last post, once; then "already shown".
async fn show(
    services: Services,
    stylesheet: &str,
    auth: AuthSession,
    headers: HeaderMap,
    kind: &str,
) -> Response {
    let user = match admin(&auth, stylesheet, &headers) {
        Ok(u) => u,
        Err(refused) => return *refused,
    };
    let (lang, theme) = crate::guard::preferences(&headers);
    let t = lang.t();
    let master = services.payments.channels().master();
    let shown = shown_once::take(&auth, master, kind, &user.username).await;
    let title = if kind == SHOWN_PASSWORD_KIND {
        t.admin.temp_password_title
    } else {
        t.users.key_created_title
    };
    let content = match shown.as_deref() {
        Some([username, password]) if kind == SHOWN_PASSWORD_KIND => {
            password_view(t, username, password)
        }
        Some([name, key, signing_secret]) if kind == SHOWN_KIND => key_view(
            t,
            NewKey {
                name: name.clone(),
                key: key.clone(),
                signing_secret: signing_secret.clone(),
            },
        ),
        _ => view! {
            <p class="notice warn" role="status" id="secret-gone">{t.admin.secret_gone}</p>
            <p class="actions"><a class="button" href="/users" id="back-to-users">{t.users.back_to_users}</a></p>
        }
        .to_html(),
    };
    let body = page(stylesheet, lang, theme, title, content);
    let mut resp = Html(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn password_view(t: &'static Messages, username: &str, password: &str) -> String {
    view! {
        <p class="notice warn" role="alert">{(t.admin.temp_password_once)(username)}</p>
        <dl class="facts key-secrets">
            <dt>{t.username}</dt>
            <dd id="new-user-name">{username.to_string()}</dd>
            <dt>{t.admin.temp_password_title}</dt>
            <dd>
                <code class="mono secret" id="temp-password">{password.to_string()}</code> " "
                <CopyButton t target="temp-password" />
            </dd>
        </dl>
        <p class="actions"><a class="button" href="/users?ok=user_created" id="back-to-users">{t.users.back_to_users}</a></p>
        <AdminScript />
    }
    .to_html()
}

fn key_view(t: &'static Messages, k: NewKey) -> String {
    view! {
        <p class="notice warn" role="alert">{t.users.key_created_once}</p>
        <dl class="facts key-secrets">
            <dt>{t.users.key_name}</dt>
            <dd id="new-key-name">{k.name}</dd>
            <dt>{t.users.key_value}</dt>
            <dd>
                <code class="mono secret" id="new-api-key">{k.key}</code> " "
                <CopyButton t target="new-api-key" />
            </dd>
            <dt>{t.users.key_signing_secret}</dt>
            <dd>
                <code class="mono secret" id="new-signing-secret">{k.signing_secret}</code> " "
                <CopyButton t target="new-signing-secret" />
            </dd>
        </dl>
        <p class="muted">{t.users.key_signing_hint}</p>
        <p class="actions"><a class="button" href="/users?ok=key_created" id="back-to-users">{t.users.back_to_users}</a></p>
        <AdminScript />
    }
    .to_html()
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
