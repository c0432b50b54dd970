//! Server functions: Users and API keys (admin).
//! Each one starts with `crate::guard::require(Capability::ManageUsers)`.
//!
//! Mutations answer with a redirect to `/users?ok=<code>` or `/users?error=<code>`, which
//! the page turns into a notice: the same for a plain form post (no JavaScript) and for
//! an `ActionForm` (the router follows the redirect), so Back never posts again. Disabling
//! a user and revoking a key ask first (`components::confirm`). Creating an API key is a
//! plain form route whose key and signing secret are shown once on the GET page it
//! redirects to (see [`key_route`]).

use crate::server_fns::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::orders::encode;
use leptos::prelude::*;
use paydesk_core::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The path of the form that creates an API key (a plain route, see the module docs).
pub const CREATE_KEY_PATH: &str = "/admin/api-keys";

/// Usernames: 1–64 letters, digits, `.`, `_`, `-` (they appear in URLs and the audit log).
pub fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// API key names: 1–64 printable characters without surrounding spaces.
pub fn valid_key_name(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && name.trim() == name
        && !name.chars().any(char::is_control)
}

#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let users = caller
        .store
        .list_users()
        .await
        .map_err(crate::guard::internal)?;
    Ok(users
        .into_iter()
        .map(|u| UserRow {
            username: u.username,
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at,
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "create_user")]
pub async fn create_user(username: String, role: String, password: String) -> Result<(), AppError> {
    use paydesk_core::auth::{hash_password, validate_new_password};
    use paydesk_core::role::Capability;
    use paydesk_core::store::{NewUser, StoreError};
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let username = username.trim().to_string();
    if !valid_username(&username) {
        return done("error=username_invalid");
    }
    let Ok(role) = role.parse::<Role>() else {
        return done("error=role_invalid");
    };
    // No password typed: a temporary one, shown once on the page this redirects to.
    let generated = password.is_empty();
    let password = if generated {
        paydesk_core::auth::generate_password()
    } else {
        password
    };
    if validate_new_password(&password).is_err() {
        return done("error=password_invalid");
    }
    let hash = hash_password(password.clone())
        .await
        .map_err(crate::guard::internal)?;
    match caller
        .store
        .create_user(NewUser {
            username: &username,
            password_hash: &hash,
            role,
        })
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => return done("error=user_exists"),
        Err(e) => return Err(crate::guard::internal(e)),
    }
    audit(&caller, "user_created", &username, &format!("role={role}")).await?;
    if generated {
        let auth = crate::guard::auth_session().await?;
        let master = caller.payments.channels().master();
        let shown = [username.as_str(), password.as_str()];
        shown_once::put(
            &auth,
            master,
            key_route::SHOWN_PASSWORD_KIND,
            &caller.user.username,
            &shown,
        )
        .await
        .map_err(crate::guard::internal)?;
        leptos_axum::redirect(key_route::SHOWN_PASSWORD_PATH);
        return Ok(());
    }
    done("ok=user_created")
}

#[server(prefix = "/rpc", endpoint = "set_user_role")]
pub async fn set_user_role(username: String, role: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::UserUpdate;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let Ok(role) = role.parse::<Role>() else {
        return done("error=role_invalid");
    };
    if username == caller.user.username && role != Role::Admin {
        return done("error=self_demote");
    }
    let before = caller
        .store
        .user_by_name(&username)
        .await
        .map_err(crate::guard::internal)?;
    match caller
        .store
        .change_user_role(&username, role)
        .await
        .map_err(crate::guard::internal)?
    {
        UserUpdate::Updated => {}
        UserUpdate::NoSuchUser => return done("error=no_such_user"),
        UserUpdate::LastAdmin => return done("error=last_admin"),
    }
    // A privilege change ends the user's sessions: they sign in again, on a new session id,
    // with the new role.
    if let Some(user) = before.as_ref().filter(|u| u.role != role) {
        caller
            .store
            .end_sessions_of_user(&user.id)
            .await
            .map_err(crate::guard::internal)?;
    }
    let from = before.map(|u| u.role.as_str()).unwrap_or("?");
    audit(
        &caller,
        "user_role_changed",
        &username,
        &format!("{from} -> {role}"),
    )
    .await?;
    done("ok=role_changed")
}

/// Disabling asks first: without `confirm=yes` nothing changes and the page asks again
/// (`components::confirm`). Enabling needs no confirmation.
#[server(prefix = "/rpc", endpoint = "set_user_disabled")]
pub async fn set_user_disabled(
    username: String,
    disabled: bool,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::UserUpdate;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    if disabled && username == caller.user.username {
        return done("error=self_disable");
    }
    if disabled && !crate::components::confirm::confirmed(confirm.as_deref()) {
        return done(&format!("confirm=disable&user={}", encode(&username)));
    }
    match caller
        .store
        .change_user_disabled(&username, disabled)
        .await
        .map_err(crate::guard::internal)?
    {
        UserUpdate::Updated => {}
        UserUpdate::NoSuchUser => return done("error=no_such_user"),
        UserUpdate::LastAdmin => return done("error=last_admin"),
    }
    let (action, code) = if disabled {
        ("user_disabled", "ok=user_disabled")
    } else {
        ("user_enabled", "ok=user_enabled")
    };
    audit(&caller, action, &username, "").await?;
    done(code)
}

#[server(prefix = "/rpc", endpoint = "reset_user_password")]
pub async fn reset_user_password(username: String, password: String) -> Result<(), AppError> {
    use paydesk_core::auth::{hash_password, validate_new_password};
    use paydesk_core::role::Capability;
    use paydesk_core::store::StoreError;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    if validate_new_password(&password).is_err() {
        return done("error=password_invalid");
    }
    let hash = hash_password(password)
        .await
        .map_err(crate::guard::internal)?;
    // Sessions are bound to the password hash: the user's open sessions end here.
    match caller.store.set_password_hash(&username, &hash).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return done("error=no_such_user"),
        Err(e) => return Err(crate::guard::internal(e)),
    }
    audit(&caller, "password_reset", &username, "").await?;
    done("ok=password_reset")
}

#[server(prefix = "/rpc", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyRow>, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let keys = caller
        .store
        .api_keys()
        .await
        .map_err(crate::guard::internal)?;
    Ok(keys
        .into_iter()
        .map(|k| ApiKeyRow {
            name: k.name,
            prefix: k.prefix,
            created_by: k.created_by,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        })
        .collect())
}

/// Revoking asks first, like disabling a user.
#[server(prefix = "/rpc", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(name: String, confirm: Option<String>) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::StoreError;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    if !crate::components::confirm::confirmed(confirm.as_deref()) {
        return done(&format!("confirm=revoke&key={}", encode(&name)));
    }
    match caller.store.revoke_api_key(&name).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return done("error=no_such_key"),
        Err(e) => return Err(crate::guard::internal(e)),
    }
    audit(&caller, "api_key_revoked", &name, "").await?;
    done("ok=key_revoked")
}

/// Ends a mutation: back to the users page with a notice code.
#[cfg(feature = "ssr")]
fn done(code: &str) -> Result<(), AppError> {
    leptos_axum::redirect(&format!("/users?{code}"));
    Ok(())
}

#[cfg(feature = "ssr")]
async fn audit(
    caller: &crate::guard::Caller,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), AppError> {
    caller
        .store
        .audit(&caller.user.username, action, target, detail)
        .await
        .map_err(crate::guard::internal)
}

#[cfg(feature = "ssr")]
pub mod key_route;
#[cfg(feature = "ssr")]
mod shown_once;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_key_names_are_bounded() {
        assert!(valid_username("ops.lead-2"));
        assert!(!valid_username(""));
        assert!(!valid_username("a b"));
        assert!(!valid_username(&"x".repeat(65)));
        assert!(valid_key_name("POS terminal 1"));
        assert!(!valid_key_name(" padded"));
        assert!(!valid_key_name("tab\there"));
    }
}
