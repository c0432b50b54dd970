//! `/account/2fa`: a signed-in user sets up two-step sign-in (QR code, confirmation code,
//! recovery codes shown once) or turns it off with a current code when their role does
//! not require it. The role check is the shared guard (`paydesk_app::guard::allow`).

use super::signin::{CodeForm, Notice, refused};
use super::twofa;
use super::views::{self, AccountState, Ctx};
use crate::routes::login::ClientIp;
use crate::startup::AppState;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use paydesk_core::auth::AuthSession;
use paydesk_core::role::Capability;
use paydesk_core::store::User;
use paydesk_core::twofa::TwoFaError;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    #[serde(default)]
    ok: String,
    #[serde(flatten)]
    notice: Notice,
}

fn signed_in(auth: &AuthSession) -> Result<User, StatusCode> {
    paydesk_app::guard::allow(auth.user.as_ref(), Capability::OwnSessions)
}

/// Nobody signed in: to the sign-in page (and back here); otherwise the status.
fn refusal(status: StatusCode) -> Response {
    if status == StatusCode::UNAUTHORIZED {
        Redirect::to("/login?next=%2Faccount%2F2fa").into_response()
    } else {
        (status, "forbidden").into_response()
    }
}

fn internal(e: TwoFaError) -> Response {
    tracing::error!(error = %e, "two-step account page failed");
    Redirect::to("/account/2fa?error=internal").into_response()
}

/// GET /account/2fa
pub async fn page(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
    Query(q): Query<AccountQuery>,
) -> Response {
    let user = match signed_in(&auth) {
        Ok(u) => u,
        Err(s) => return refusal(s),
    };
    let tf = twofa(&state);
    let ctx = Ctx::new(&state, &headers);
    let (ok, error) = (ctx.t().twofa.ok(&q.ok), q.notice.text(&ctx));
    let status = match tf.status(&user).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    if status.enabled {
        let required = match tf.required(&user).await {
            Ok(r) => r,
            Err(e) => return internal(e),
        };
        let s = AccountState::On {
            codes_left: status.recovery_codes_left,
            required,
        };
        return views::account_page(&ctx, s, ok, error);
    }
    if !status.pending {
        return views::account_page(&ctx, AccountState::Off, ok, error);
    }
    match tf.begin(&user).await {
        Ok(e) => views::account_page(&ctx, AccountState::Enrolling(&e), ok, error),
        Err(e) => internal(e),
    }
}

/// POST /account/2fa/start
pub async fn start(State(state): State<AppState>, auth: AuthSession) -> Response {
    let user = match signed_in(&auth) {
        Ok(u) => u,
        Err(s) => return refusal(s),
    };
    match twofa(&state).begin(&user).await {
        Ok(_) => Redirect::to("/account/2fa").into_response(),
        Err(e) => refused("/account/2fa", &e),
    }
}

/// POST /account/2fa/confirm (form `code`)
pub async fn confirm(
    State(state): State<AppState>,
    auth: AuthSession,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let user = match signed_in(&auth) {
        Ok(u) => u,
        Err(s) => return refusal(s),
    };
    match twofa(&state)
        .confirm(&user, &form.code, ip.as_deref())
        .await
    {
        Ok(codes) => {
            let ctx = Ctx::new(&state, &headers);
            views::codes_page(&ctx, &codes, "/account/2fa?ok=enabled")
        }
        Err(e) => refused("/account/2fa", &e),
    }
}

/// POST /account/2fa/disable (form `code`): only when the role does not require it.
pub async fn disable(
    State(state): State<AppState>,
    auth: AuthSession,
    ClientIp(ip): ClientIp,
    Form(form): Form<CodeForm>,
) -> Response {
    let user = match signed_in(&auth) {
        Ok(u) => u,
        Err(s) => return refusal(s),
    };
    let tf = twofa(&state);
    match tf.required(&user).await {
        Ok(true) => return Redirect::to("/account/2fa?error=required").into_response(),
        Ok(false) => {}
        Err(e) => return internal(e),
    }
    if let Err(e) = tf.verify(&user, &form.code, ip.as_deref()).await {
        return refused("/account/2fa", &e);
    }
    match tf.reset(&user, &user.username).await {
        Ok(_) => Redirect::to("/account/2fa?ok=disabled").into_response(),
        Err(e) => internal(e),
    }
}
