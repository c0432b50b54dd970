//! The second step of a sign-in: a code (or recovery code) for users who have one, and
//! the enforced enrolment for users whose role requires one. Posts are limited per
//! address like the password form, and every code counts against the throttle.

use super::views::{self, Ctx};
use super::{PENDING_KEY, PendingSignIn, expired, minutes_until, pending_user, twofa};
use crate::routes::login::ClientIp;
use crate::routes::safe_next;
use crate::startup::AppState;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use paydesk_core::auth::AuthSession;
use paydesk_core::store::User;
use paydesk_core::twofa::TwoFaError;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    error: String,
    #[serde(default)]
    minutes: i64,
}

impl Notice {
    pub fn text(&self, ctx: &Ctx) -> Option<String> {
        (!self.error.is_empty()).then(|| ctx.t().twofa.error(&self.error, self.minutes.max(1)))
    }
}

/// The redirect back to `page` that says why a code was refused.
pub fn refused(page: &str, e: &TwoFaError) -> Response {
    let query = match e {
        TwoFaError::BadCode => "error=bad_code".to_string(),
        TwoFaError::Locked { until } => format!("error=locked&minutes={}", minutes_until(*until)),
        TwoFaError::AlreadyEnabled => "error=already".to_string(),
        other => {
            tracing::error!(error = %other, "two-step check failed");
            "error=internal".to_string()
        }
    };
    Redirect::to(&format!("{page}?{query}")).into_response()
}

fn limited(state: &AppState, ip: &Option<String>) -> bool {
    !state
        .rate_limits
        .login
        .allow(ip.as_deref().and_then(|ip| ip.parse().ok()))
}

/// Signs the pending user in for real (fresh session id, session facts).
async fn finish(
    auth: &mut AuthSession,
    user: &User,
    headers: &HeaderMap,
    ip: Option<&str>,
) -> Result<(), String> {
    let _ = auth.session.remove::<PendingSignIn>(PENDING_KEY).await;
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    crate::sessions::start(auth, user, agent, ip).await
}

/// GET /login/2fa
pub async fn code_page(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    if pending_user(&state, &auth).await.is_none() {
        return expired();
    }
    let ctx = Ctx::new(&state, &headers);
    views::code_page(&ctx, n.text(&ctx))
}

/// POST /auth/2fa (form `code`)
pub async fn code_post(
    State(state): State<AppState>,
    mut auth: AuthSession,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    if limited(&state, &ip) {
        return crate::rate_limit::too_many_requests();
    }
    let Some((pending, user)) = pending_user(&state, &auth).await else {
        return expired();
    };
    match twofa(&state).verify(&user, &form.code, ip.as_deref()).await {
        Ok(proof) => {
            if let Err(e) = finish(&mut auth, &user, &headers, ip.as_deref()).await {
                tracing::error!(error = %e, "could not start a session");
                return Redirect::to("/login?error=internal").into_response();
            }
            tracing::info!(user = %user.username, ?proof, "signed in with a second step");
            Redirect::to(safe_next(&pending.next)).into_response()
        }
        Err(TwoFaError::NotEnrolled) => expired(),
        Err(e) => {
            tracing::info!(user = %user.username, "two-step code refused");
            refused("/login/2fa", &e)
        }
    }
}

/// GET /login/enroll: the enrolment a role's policy requires before signing in.
pub async fn enrol_page(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let Some((_, user)) = pending_user(&state, &auth).await else {
        return expired();
    };
    let ctx = Ctx::new(&state, &headers);
    match twofa(&state).begin(&user).await {
        Ok(e) => views::enrol_page(&ctx, "/auth/enroll", &e, true, n.text(&ctx)),
        Err(TwoFaError::AlreadyEnabled) => Redirect::to("/login/2fa").into_response(),
        Err(e) => refused("/login", &e),
    }
}

/// POST /auth/enroll (form `code`): confirms, signs in, shows the recovery codes once.
pub async fn enrol_post(
    State(state): State<AppState>,
    mut auth: AuthSession,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    if limited(&state, &ip) {
        return crate::rate_limit::too_many_requests();
    }
    let Some((pending, user)) = pending_user(&state, &auth).await else {
        return expired();
    };
    match twofa(&state)
        .confirm(&user, &form.code, ip.as_deref())
        .await
    {
        Ok(codes) => {
            if let Err(e) = finish(&mut auth, &user, &headers, ip.as_deref()).await {
                tracing::error!(error = %e, "could not start a session");
                return Redirect::to("/login?error=internal").into_response();
            }
            let ctx = Ctx::new(&state, &headers);
            views::codes_page(&ctx, &codes, safe_next(&pending.next))
        }
        Err(TwoFaError::NotEnrolled) => expired(),
        Err(e) => refused("/login/enroll", &e),
    }
}
