//! Server functions: public HTTP endpoints under `/rpc/…`. Each one checks the caller's
//! role inside its body with [`crate::guard::require`]; the UI hiding a link is never the
//! only defence.

pub mod approvals;
pub mod checkout;
pub mod credentials;
pub mod display;
pub mod error;
pub mod first_steps;
pub mod limits;
pub mod logs;
pub mod orders;
pub mod overview;
pub mod receipt;
pub mod saved_views;
pub mod security;
pub mod sessions;
pub mod test_mode;
pub mod till;
pub mod users;

use crate::i18n::Lang;
use crate::preferences::Theme;
pub use error::{AppError, BadInput};
use leptos::prelude::*;
use paydesk_core::role::Role;
use serde::{Deserialize, Serialize};
pub use users::{UserRow, list_users};

/// Who is signed in, in which language the interface speaks and in which colours.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub lang: Lang,
    pub theme: Theme,
    pub user: Option<UserView>,
    /// The signed-in user sees test (sandbox) data (`server_fns::test_mode`).
    #[serde(default)]
    pub test_mode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
    pub role: Role,
}

/// Public: the login page needs the language and theme too.
#[server(prefix = "/rpc", endpoint = "session")]
pub async fn get_session() -> Result<SessionInfo, AppError> {
    let (lang, theme) = crate::guard::request_preferences().await;
    let auth = crate::guard::auth_session().await?;
    let test_mode = match &auth.user {
        Some(u) => {
            test_mode::ssr::scope(auth.backend.store(), &u.id)
                .await
                .map_err(crate::guard::internal)?
                .test
        }
        None => false,
    };
    let user = auth.user.map(|u| UserView {
        username: u.username,
        role: u.role,
    });
    Ok(SessionInfo {
        lang,
        theme,
        user,
        test_mode,
    })
}
