//! Server functions: the admin's first-steps checklist on the overview (issue 18), ticked
//! off from the real state, dismissible. Each starts with
//! `crate::guard::require(Capability::ManageUsers)` (admins only).

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The checklist; `None` from [`first_steps`] when dismissed or all done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstStepsView {
    pub sandbox_paid: bool,
    pub second_user: bool,
    pub live_channel: bool,
    pub twofa: bool,
    /// `PAYDESK_PUBLIC_URL` names a host other than this machine.
    pub public_url: bool,
}

impl FirstStepsView {
    pub fn all_done(&self) -> bool {
        self.sandbox_paid && self.second_user && self.live_channel && self.twofa && self.public_url
    }
}

#[server(prefix = "/rpc", endpoint = "first_steps")]
pub async fn first_steps() -> Result<Option<FirstStepsView>, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let err = crate::guard::internal;
    let steps = caller
        .store
        .first_steps(&caller.user.id)
        .await
        .map_err(err)?;
    if steps.dismissed {
        return Ok(None);
    }
    let twofa = caller
        .store
        .totp_row(&caller.user.id)
        .await
        .map_err(err)?
        .is_some_and(|t| t.enabled);
    let public_url = ssr::names_another_host(caller.payments.channels().public_url());
    let view = FirstStepsView {
        sandbox_paid: steps.sandbox_paid,
        second_user: steps.second_user,
        live_channel: steps.live_channel,
        twofa,
        public_url,
    };
    Ok((!view.all_done()).then_some(view))
}

#[server(prefix = "/rpc", endpoint = "dismiss_first_steps")]
pub async fn dismiss_first_steps() -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    caller
        .store
        .dismiss_first_steps(&caller.user.id)
        .await
        .map_err(crate::guard::internal)?;
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    /// Whether a public URL names a host phones and providers can reach (not this
    /// machine's loopback name, the default).
    pub fn names_another_host(url: &str) -> bool {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let host = rest.split(['/', ':']).next().unwrap_or("");
        !matches!(host, "" | "127.0.0.1" | "localhost" | "[::1]" | "0.0.0.0")
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn loopback_is_not_a_public_url() {
            assert!(!super::names_another_host("http://127.0.0.1:3000/"));
            assert!(!super::names_another_host("http://localhost/"));
            assert!(super::names_another_host("https://pay.example.com/"));
            assert!(super::names_another_host("http://192.168.1.20:3000/"));
        }
    }
}
