//! Server-side checks shared by every server function (SSR build only).

use crate::i18n::Lang;
use crate::preferences::Theme;
use crate::server_fns::error::{AppError, BadInput};
use axum::http::{HeaderMap, StatusCode, header};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use paydesk_core::auth::AuthSession;
use paydesk_core::payments::Payments;
use paydesk_core::role::Capability;
use paydesk_core::store::{Store, User};

/// The signed-in user who passed a role check, and what server functions act on.
pub struct Caller {
    pub user: User,
    pub store: Store,
    /// Checkout, close, sync, refunds and the channel registry (with the master key).
    pub payments: Payments,
}

/// What the server provides to every page render and server function
/// (`leptos_routes_with_context` in `server/src/startup.rs`).
#[derive(Clone)]
pub struct Services {
    pub payments: Payments,
    /// The shop's name for receipts (`PAYDESK_SHOP_NAME`), if set.
    pub shop_name: Option<String>,
}

/// The server's services. Missing only if the server was wired wrongly.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the context: see startup.rs");
        deny(AppError::Internal)
    })
}

/// The one-line role check for server functions:
/// `let caller = require(Capability::Refund).await?;`
/// Answers 401 when nobody is signed in and 403 when the role may not do this.
pub async fn require(capability: Capability) -> Result<Caller, AppError> {
    let auth = auth_session().await?;
    let user = match allow(auth.user.as_ref(), capability) {
        Ok(user) => user,
        Err(StatusCode::UNAUTHORIZED) => return Err(deny(AppError::Unauthenticated)),
        Err(_) => return Err(deny(AppError::Forbidden)),
    };
    let services = services()?;
    Ok(Caller {
        store: auth.backend.store().clone(),
        payments: services.payments,
        user,
    })
}

/// The same check for plain form routes (no server function context): the signed-in
/// user whose role may do `capability`, or 401 (nobody signed in) / 403 (wrong role).
pub fn allow(user: Option<&User>, capability: Capability) -> Result<User, StatusCode> {
    let Some(user) = user else {
        return Err(StatusCode::UNAUTHORIZED);
    };
    if !user.role.can(capability) {
        tracing::warn!(user = %user.username, role = %user.role, ?capability, "refused: role lacks capability");
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(user.clone())
}

pub async fn auth_session() -> Result<AuthSession, AppError> {
    leptos_axum::extract::<AuthSession>().await.map_err(|e| {
        tracing::error!(error = %e, "auth session missing: is the auth layer installed?");
        deny(AppError::Internal)
    })
}

/// The interface language and colour theme for the current request.
pub async fn request_preferences() -> (Lang, Theme) {
    let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    preferences(&headers)
}

/// The interface language and colour theme asked for by a request's headers (cookies,
/// then `Accept-Language`).
pub fn preferences(headers: &HeaderMap) -> (Lang, Theme) {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    (
        Lang::negotiate(get(header::COOKIE), get(header::ACCEPT_LANGUAGE)),
        Theme::from_cookies(get(header::COOKIE)),
    )
}

/// Logs an internal error and returns [`AppError::Internal`] (a 500); the details stay in
/// the log, the page shows a generic message.
pub fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "server function failed");
    deny(AppError::Internal)
}

/// 404 for something that does not exist or that the caller may not see.
pub fn not_found() -> AppError {
    deny(AppError::NotFound)
}

/// 400 for an argument that does not parse.
pub fn invalid(what: BadInput) -> AppError {
    deny(AppError::Invalid(what))
}

/// Sets the HTTP status of the current response (when there is one) to the error's and
/// returns the error.
pub fn deny(error: AppError) -> AppError {
    if let Some(response) = use_context::<ResponseOptions>() {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
    }
    error
}
