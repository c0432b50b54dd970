//! Two-step sign-in over plain HTTP forms (no JavaScript needed): the code step and the
//! enforced enrolment after a correct password (`signin`), and a signed-in user's own
//! page (`account`). Pages are rendered on the server (`views`); every post redirects
//! or answers with a page. The rules live in `paydesk_core::twofa`.
//!
//! Between the password and the second step the session holds a [`PendingSignIn`], not
//! a signed-in user: nothing but these pages is reachable with it, and it lapses after
//! [`PENDING_MS`].

mod account;
mod signin;
mod views;

use crate::startup::AppState;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use paydesk_core::auth::AuthSession;
use paydesk_core::store::User;
use paydesk_core::time::now_ms;
use paydesk_core::twofa::TwoFactor;
use serde::{Deserialize, Serialize};

/// The session key of a sign-in waiting for its second step.
const PENDING_KEY: &str = "paydesk.twofa_pending";
/// How long the second step may take after the password.
pub const PENDING_MS: i64 = 10 * 60_000;

/// A sign-in whose password was right, waiting for its second step.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingSignIn {
    user_id: String,
    at: i64,
    next: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/2fa", get(signin::code_page))
        .route("/auth/2fa", post(signin::code_post))
        .route("/login/enroll", get(signin::enrol_page))
        .route("/auth/enroll", post(signin::enrol_post))
        .route("/account/2fa", get(account::page))
        .route("/account/2fa/start", post(account::start))
        .route("/account/2fa/confirm", post(account::confirm))
        .route("/account/2fa/disable", post(account::disable))
}

fn twofa(state: &AppState) -> TwoFactor<'_> {
    TwoFactor {
        store: &state.store,
        master: state.payments.channels().master(),
        throttle: state.throttle,
    }
}

/// After a correct password: `Some(redirect)` to the second step when the user has one
/// or their role requires one; `None` to sign in at once.
pub async fn after_password(
    state: &AppState,
    auth: &mut AuthSession,
    user: &User,
    next: &str,
) -> Result<Option<Response>, String> {
    let tf = twofa(state);
    let status = tf.status(user).await.map_err(|e| e.to_string())?;
    let target = if status.enabled {
        "/login/2fa"
    } else if tf.required(user).await.map_err(|e| e.to_string())? {
        "/login/enroll"
    } else {
        return Ok(None);
    };
    let pending = PendingSignIn {
        user_id: user.id.clone(),
        at: now_ms(),
        next: next.to_string(),
    };
    auth.session
        .insert(PENDING_KEY, pending)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(Redirect::to(target).into_response()))
}

/// The pending sign-in's user, if it is recent and the user still active.
async fn pending_user(state: &AppState, auth: &AuthSession) -> Option<(PendingSignIn, User)> {
    let pending: PendingSignIn = auth.session.get(PENDING_KEY).await.ok().flatten()?;
    if now_ms() - pending.at > PENDING_MS {
        return None;
    }
    let user = state
        .store
        .user_by_id(&pending.user_id)
        .await
        .ok()
        .flatten()?;
    (!user.disabled).then_some((pending, user))
}

fn expired() -> Response {
    Redirect::to("/login?error=twofa_expired").into_response()
}

/// Minutes until `until` (ms), rounded up, for "try again in N minutes".
fn minutes_until(until: i64) -> i64 {
    ((until - now_ms()).max(0) + 59_999) / 60_000
}
