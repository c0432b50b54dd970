//! Users, passwords, login throttling and sessions.

mod backend;
mod bootstrap;
mod password;
mod session_store;
mod throttle;

pub use backend::{AuthError, Backend, Credentials, LoginOutcome};
pub use bootstrap::{BOOTSTRAP_ADMIN, ensure_bootstrap_admin, generate_password};
pub use password::{PasswordError, hash_password, validate_new_password, verify_password};
pub use session_store::{
    AUTH_DATA_KEY, DbSessionStore, SESSION_META_KEY, SessionMeta, session_handle,
};
pub use throttle::{ThrottlePolicy, Verdict};

/// axum-login's session handle for our backend.
pub type AuthSession = axum_login::AuthSession<Backend>;
