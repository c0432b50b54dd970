//! Server functions: a user's own sessions (every role), and an admin ending all of
//! someone's sessions. Each starts with `crate::guard::require(…)`.
//!
//! Sessions are named by their handle (a hash of the id): the id is a bearer secret and
//! never leaves the server. Mutations redirect back with `?ok=`/`?error=` (plain form
//! posts work without JavaScript).

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One live session of the caller, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveSessionRow {
    pub handle: String,
    pub user_agent: String,
    pub ip: String,
    pub signed_in_at: i64,
    pub last_seen: i64,
    /// The session this page was loaded with.
    pub current: bool,
}

#[server(prefix = "/rpc", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<ActiveSessionRow>, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::OwnSessions).await?;
    let current = server::current_handle().await?;
    let rows = caller
        .store
        .sessions_of_user(&caller.user.id, paydesk_core::time::now_ms())
        .await
        .map_err(crate::guard::internal)?;
    Ok(rows
        .into_iter()
        .map(|s| ActiveSessionRow {
            current: Some(&s.handle) == current.as_ref(),
            handle: s.handle,
            user_agent: s.user_agent,
            ip: s.ip,
            signed_in_at: s.signed_in_at,
            last_seen: s.last_seen,
        })
        .collect())
}

/// Ends one of the caller's sessions (this one too, which signs out here).
#[server(prefix = "/rpc", endpoint = "end_my_session")]
pub async fn end_my_session(handle: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::OwnSessions).await?;
    let ended = caller
        .store
        .end_session_of_user(&caller.user.id, handle.trim())
        .await
        .map_err(crate::guard::internal)?;
    if !ended {
        leptos_axum::redirect("/sessions?error=no_such_session");
        return Ok(());
    }
    server::audit(&caller, "session_ended", handle.trim()).await?;
    leptos_axum::redirect("/sessions?ok=session_ended");
    Ok(())
}

/// Ends every session of the caller except the one this request came with.
#[server(prefix = "/rpc", endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::OwnSessions).await?;
    let current = server::current_handle().await?;
    let rows = caller
        .store
        .sessions_of_user(&caller.user.id, paydesk_core::time::now_ms())
        .await
        .map_err(crate::guard::internal)?;
    for s in rows.iter().filter(|s| Some(&s.handle) != current.as_ref()) {
        caller
            .store
            .end_session_of_user(&caller.user.id, &s.handle)
            .await
            .map_err(crate::guard::internal)?;
    }
    server::audit(&caller, "other_sessions_ended", "").await?;
    leptos_axum::redirect("/sessions?ok=others_ended");
    Ok(())
}

/// An admin signs a user out everywhere.
#[server(prefix = "/rpc", endpoint = "end_user_sessions")]
pub async fn end_user_sessions(username: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let Some(user) = caller
        .store
        .user_by_name(&username)
        .await
        .map_err(crate::guard::internal)?
    else {
        leptos_axum::redirect("/users?error=no_such_user");
        return Ok(());
    };
    let n = caller
        .store
        .end_sessions_of_user(&user.id)
        .await
        .map_err(crate::guard::internal)?;
    caller
        .store
        .audit(
            &caller.user.username,
            "user_sessions_ended",
            &user.username,
            &format!("sessions={n}"),
        )
        .await
        .map_err(crate::guard::internal)?;
    leptos_axum::redirect("/users?ok=sessions_ended");
    Ok(())
}

#[cfg(feature = "ssr")]
mod server {
    use crate::server_fns::error::AppError;

    /// The handle of the session this request came with.
    pub async fn current_handle() -> Result<Option<String>, AppError> {
        let auth = crate::guard::auth_session().await?;
        Ok(auth
            .session
            .id()
            .map(|id| paydesk_core::auth::session_handle(&id.to_string())))
    }

    pub async fn audit(
        caller: &crate::guard::Caller,
        action: &str,
        target: &str,
    ) -> Result<(), AppError> {
        caller
            .store
            .audit(&caller.user.username, action, target, "")
            .await
            .map_err(crate::guard::internal)
    }
}
