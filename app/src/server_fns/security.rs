//! Server functions for the security page (admins): the two-step sign-in policy, refund
//! approval thresholds, API key refund policies, and resetting a user's two-step sign-in.
//! Each starts with `crate::guard::require(Capability::ManageUsers)`, records what it
//! changed in the audit log and redirects back to `/security` with `?ok=` / `?error=`.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use paydesk_core::approval::KeyRefundPolicy;
use paydesk_core::role::Role;
use serde::{Deserialize, Serialize};

/// The choices of the two-step policy select, as stored (`TwoFaPolicy::to_value`).
pub const TWOFA_CHOICES: [&str; 5] = [
    "auto",
    "admin",
    "admin,support",
    "admin,merchant,support",
    "",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdRow {
    pub role: Role,
    pub currency: String,
    pub above_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTwoFaRow {
    pub username: String,
    pub role: Role,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityData {
    pub twofa_policy: String,
    pub thresholds: Vec<ThresholdRow>,
    pub keys: Vec<(String, KeyRefundPolicy)>,
    pub users: Vec<UserTwoFaRow>,
}

#[server(prefix = "/rpc", endpoint = "security_view")]
pub async fn security_view() -> Result<SecurityData, AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::twofa::{TWOFA_POLICY_KEY, TwoFaPolicy};
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let store = &caller.store;
    let settings = store
        .security_settings()
        .await
        .map_err(crate::guard::internal)?;
    let twofa_policy = settings
        .iter()
        .find(|(k, _)| k == TWOFA_POLICY_KEY)
        .map(|(_, v)| TwoFaPolicy::parse(v))
        .unwrap_or_default()
        .to_value();
    let policy = paydesk_core::approval::RefundPolicy::from_settings(
        settings.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let mut users = Vec::new();
    for u in store.list_users().await.map_err(crate::guard::internal)? {
        let row = store
            .totp_row(&u.id)
            .await
            .map_err(crate::guard::internal)?;
        users.push(UserTwoFaRow {
            enabled: row.is_some_and(|r| r.enabled),
            username: u.username,
            role: u.role,
        });
    }
    Ok(SecurityData {
        twofa_policy,
        thresholds: policy
            .thresholds
            .iter()
            .map(|t| ThresholdRow {
                role: t.role,
                currency: t.above.currency().code().to_string(),
                above_minor: t.above.minor(),
            })
            .collect(),
        keys: store
            .api_key_refund_policies()
            .await
            .map_err(crate::guard::internal)?,
        users,
    })
}

#[cfg(feature = "ssr")]
fn back(kind: &str, code: &str) {
    leptos_axum::redirect(&format!("/security?{kind}={code}"));
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

#[server(prefix = "/rpc", endpoint = "set_twofa_policy")]
pub async fn set_twofa_policy(policy: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::twofa::{TWOFA_POLICY_KEY, TwoFaPolicy};
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    if !TWOFA_CHOICES.contains(&policy.as_str()) {
        back("error", "internal");
        return Ok(());
    }
    let value = TwoFaPolicy::parse(&policy).to_value();
    caller
        .store
        .set_security_setting(TWOFA_POLICY_KEY, Some(&value), &caller.user.username)
        .await
        .map_err(crate::guard::internal)?;
    audit(&caller, "twofa_policy_changed", "", &value).await?;
    back("ok", "saved");
    Ok(())
}

/// Sets the approval threshold of `role` in `currency`; an empty `amount` removes it.
#[server(prefix = "/rpc", endpoint = "set_refund_threshold")]
pub async fn set_refund_threshold(
    role: String,
    currency: String,
    amount: String,
) -> Result<(), AppError> {
    use paydesk_core::approval::threshold_key;
    use paydesk_core::money::{Currency, Money};
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let (Ok(role), Ok(cur)) = (role.parse::<Role>(), Currency::from_code(&currency)) else {
        back("error", "bad_amount");
        return Ok(());
    };
    let key = threshold_key(role, cur);
    let value = match amount.trim() {
        "" => None,
        text => match Money::parse_decimal(text, cur) {
            Ok(m) if m.minor() >= 0 => Some(m.minor().to_string()),
            _ => {
                back("error", "bad_amount");
                return Ok(());
            }
        },
    };
    caller
        .store
        .set_security_setting(&key, value.as_deref(), &caller.user.username)
        .await
        .map_err(crate::guard::internal)?;
    let detail = value.as_deref().unwrap_or("removed");
    audit(&caller, "refund_approval_policy_changed", &key, detail).await?;
    back("ok", "saved");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "set_key_refund_policy")]
pub async fn set_key_refund_policy(name: String, policy: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::StoreError;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let Ok(policy) = policy.parse::<KeyRefundPolicy>() else {
        back("error", "internal");
        return Ok(());
    };
    match caller.store.set_api_key_refund_policy(&name, policy).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            back("error", "no_such_key");
            return Ok(());
        }
        Err(e) => return Err(crate::guard::internal(e)),
    }
    audit(&caller, "api_key_refund_policy", &name, policy.as_str()).await?;
    back("ok", "saved");
    Ok(())
}

/// Removes a user's second factor (they enrol again at their next sign-in when their role
/// requires it). The same as `paydesk user reset-2fa NAME`.
#[server(prefix = "/rpc", endpoint = "reset_user_twofa")]
pub async fn reset_user_twofa(username: String) -> Result<(), AppError> {
    use paydesk_core::auth::ThrottlePolicy;
    use paydesk_core::role::Capability;
    use paydesk_core::twofa::TwoFactor;
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let Some(user) = caller
        .store
        .user_by_name(username.trim())
        .await
        .map_err(crate::guard::internal)?
    else {
        back("error", "no_such_user");
        return Ok(());
    };
    let twofa = TwoFactor {
        store: &caller.store,
        master: caller.payments.channels().master(),
        throttle: ThrottlePolicy::default(),
    };
    twofa
        .reset(&user, &caller.user.username)
        .await
        .map_err(crate::guard::internal)?;
    back("ok", "twofa_reset");
    Ok(())
}
