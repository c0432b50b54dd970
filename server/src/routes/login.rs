use super::safe_next;
use crate::startup::AppState;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use paydesk_core::auth::{AuthSession, Credentials, LoginOutcome};
use paydesk_core::time::now_ms;
use serde::Deserialize;
use std::convert::Infallible;
use std::net::SocketAddr;

/// The client's address as seen by this process (not X-Forwarded-For, which anyone can
/// send). None when unknown, e.g. in router tests without a socket.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

fn back_to_login(error: &str, extra: &str, next: &str) -> Response {
    let next = safe_next(next);
    let next = if next == "/" {
        String::new()
    } else {
        format!("&next={}", urlencode(next))
    };
    Redirect::to(&format!("/login?error={error}{extra}{next}")).into_response()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// POST /auth/login (form): throttle, verify, start a fresh session, go where the user was going.
pub async fn login(
    State(state): State<AppState>,
    mut auth: AuthSession,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    // Per address, before anything is checked or stored.
    if !state
        .rate_limits
        .login
        .allow(ip.as_deref().and_then(|ip| ip.parse().ok()))
    {
        return crate::rate_limit::too_many_requests();
    }
    let creds = Credentials {
        username: form.username,
        password: form.password,
    };
    match auth.backend.attempt(&creds, ip.as_deref()).await {
        Ok(LoginOutcome::Success(user)) => {
            // A second step first, when the user has one or their role requires one.
            match super::twofa::after_password(&state, &mut auth, &user, &form.next).await {
                Ok(Some(second_step)) => return second_step,
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "could not start the second step");
                    return back_to_login("internal", "", &form.next);
                }
            }
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match crate::sessions::start(&mut auth, &user, agent, ip.as_deref()).await {
                Ok(()) => Redirect::to(safe_next(&form.next)).into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "could not start a session");
                    back_to_login("internal", "", &form.next)
                }
            }
        }
        Ok(LoginOutcome::Invalid) => {
            // The typed name is anyone's input; the log writer keeps it on this line
            // (`telemetry::OneLine`).
            tracing::info!(username = %creds.username, "sign-in refused: invalid credentials");
            back_to_login("invalid", "", &form.next)
        }
        Ok(LoginOutcome::Locked { until }) => {
            let minutes = ((until - now_ms()).max(0) + 59_999) / 60_000;
            tracing::warn!(username = %creds.username, "sign-in refused: locked");
            back_to_login("locked", &format!("&minutes={minutes}"), &form.next)
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            back_to_login("internal", "", &form.next)
        }
    }
}

/// POST /auth/logout: destroys the session (row deleted, cookie cleared).
pub async fn logout(mut auth: AuthSession) -> Response {
    match auth.logout().await {
        Ok(Some(user)) => {
            if let Err(e) = auth
                .backend
                .store()
                .audit(&user.username, "logout", &user.username, "")
                .await
            {
                tracing::error!(error = %e, "audit write failed");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "logout failed"),
    }
    Redirect::to("/login").into_response()
}

/// Paths served to anybody: the sign-in page, probes, static files, server functions
/// (which check roles themselves) and machine endpoints.
fn is_public(path: &str) -> bool {
    const PREFIXES: [&str; 7] = [
        "/pkg/",
        "/rpc/",
        "/notify/",
        "/api/",
        "/sandbox/",
        "/healthz",
        "/readyz",
    ];
    let last = path.rsplit('/').next().unwrap_or("");
    // `/login/…`: the second step of a sign-in (`routes::twofa`), which checks its own
    // pending state.
    path == "/login"
        || path.starts_with("/login/")
        || path.starts_with("/auth/")
        || PREFIXES.iter().any(|p| path.starts_with(p))
        || last.contains('.')
}

/// Sends a browser that is not signed in to the sign-in page, remembering where it was
/// going; a signed-in user asking for the sign-in page goes to the overview.
pub async fn require_login(auth: AuthSession, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() == axum::http::Method::GET {
        if auth.user.is_none() && !is_public(path) {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next = if target == "/" {
                String::new()
            } else {
                format!("?next={}", urlencode(target))
            };
            return Redirect::to(&format!("/login{next}")).into_response();
        }
        if auth.user.is_some() && path == "/login" {
            return Redirect::to("/").into_response();
        }
    }
    next.run(req).await
}
