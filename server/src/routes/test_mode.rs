//! `POST /account/test-mode` (`test=1|0`, `next`): the signed-in user's test-mode switch
//! (`paydesk_app::server_fns::test_mode`), stored per user, then back to the page it was
//! pressed on. Every role that sees orders may switch its own view.

use super::guard::{Allowed, ViewOrders};
use super::safe_next;
use crate::startup::AppState;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TestModeForm {
    test: String,
    #[serde(default)]
    next: String,
}

pub async fn switch(
    Allowed { user, .. }: Allowed<ViewOrders>,
    State(state): State<AppState>,
    Form(form): Form<TestModeForm>,
) -> Response {
    let on = match form.test.as_str() {
        "1" => true,
        "0" => false,
        _ => return (StatusCode::BAD_REQUEST, "test must be 1 or 0\n").into_response(),
    };
    if let Err(e) = state.store.set_test_mode(&user.id, on).await {
        tracing::error!(error = %e, "saving the test-mode choice failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    tracing::info!(user = %user.username, test_mode = on, "test mode switched");
    Redirect::to(safe_next(&form.next)).into_response()
}
