//! Server functions: a channel's amount limits per currency (admin only): the most one
//! order may charge, and the "large amount" above which the checkout asks to confirm.
//! Each one starts with `crate::guard::require(Capability::ManageCredentials)`.
//!
//! Saving is a form post that answers with a redirect back to
//! `/credentials?limits=<channel>&ok=…|error=…&currency=…`, so it works without
//! JavaScript; with it, the same redirect is a client-side navigation.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use paydesk_core::limits::AmountLimit;
use serde::{Deserialize, Serialize};

/// One currency of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitRow {
    /// What applies now.
    pub limit: AmountLimit,
    /// Set by an admin (else the built-in default).
    pub custom: bool,
    /// The most the provider accepts per order, in minor units.
    pub provider_max_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsView {
    pub channel: String,
    pub provider: String,
    pub rows: Vec<LimitRow>,
}

#[server(prefix = "/rpc", endpoint = "channel_limits")]
pub async fn channel_limits(name: String) -> Result<LimitsView, AppError> {
    use paydesk_core::limits::{Provider, effective, provider_max_minor};
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageCredentials).await?;
    let err = crate::guard::internal;
    let Some(row) = caller.store.channel(&name).await.map_err(err)? else {
        return Err(crate::guard::not_found());
    };
    let provider = Provider::parse(&row.provider)
        .ok_or_else(|| crate::guard::internal(format!("channel {name}: unknown provider")))?;
    let stored = caller.store.amount_limits(&row.id).await.map_err(err)?;
    let rows = provider
        .currencies()
        .into_iter()
        .map(|c| {
            let own = stored.iter().find(|l| l.currency == c).copied();
            LimitRow {
                limit: effective(provider, c, own),
                custom: own.is_some(),
                provider_max_minor: provider_max_minor(provider, c).unwrap_or(0),
            }
        })
        .collect();
    Ok(LimitsView {
        channel: row.name,
        provider: row.provider,
        rows,
    })
}

/// Sets a channel's limits in one currency (`max`, `confirm_above` as decimals such as
/// `50000.00`), or with `reset=1` goes back to the default.
#[server(prefix = "/rpc", endpoint = "save_amount_limit")]
pub async fn save_amount_limit(
    name: String,
    currency: String,
    #[server(default)] max: String,
    #[server(default)] confirm_above: String,
    #[server(default)] reset: String,
) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageCredentials).await?;
    let back = |outcome: &str| {
        leptos_axum::redirect(&format!(
            "/credentials?limits={}&{outcome}&currency={}",
            crate::server_fns::orders::encode(&name),
            crate::server_fns::orders::encode(&currency)
        ));
        Ok(())
    };
    match ssr::save(
        &caller,
        &name,
        &currency,
        &max,
        &confirm_above,
        reset == "1",
    )
    .await
    {
        Ok(outcome) => back(&format!("ok={outcome}")),
        Err(code) => back(&format!("error={code}")),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::guard::Caller;
    use paydesk_core::limits::{AmountLimit, Provider, validate};
    use paydesk_core::money::{Currency, Money};

    /// Does the save; `Ok(ok code)` or `Err(error code)` for the page.
    pub async fn save(
        caller: &Caller,
        name: &str,
        currency: &str,
        max: &str,
        confirm_above: &str,
        reset: bool,
    ) -> Result<&'static str, &'static str> {
        let internal = |e: paydesk_core::store::StoreError| {
            tracing::error!(error = %e, "amount limit save failed");
            "internal"
        };
        let store = &caller.store;
        let row = store
            .channel(name)
            .await
            .map_err(internal)?
            .ok_or("not_found")?;
        let provider = Provider::parse(&row.provider).ok_or("not_found")?;
        let currency = Currency::from_code(currency.trim()).map_err(|_| "limit_currency")?;
        let who = caller.user.username.as_str();
        if reset {
            store
                .reset_amount_limit(&row.id, currency)
                .await
                .map_err(internal)?;
            audit(caller, "channel_limit_reset", name, currency.code()).await;
            return Ok("limit_reset");
        }
        let amount = |s: &str| {
            Money::parse_decimal(s.trim(), currency)
                .map(|m| m.minor())
                .map_err(|_| "limit_malformed")
        };
        let limit = AmountLimit {
            currency,
            max_minor: amount(max)?,
            confirm_above_minor: amount(confirm_above)?,
        };
        validate(provider, &limit).map_err(|p| p.code())?;
        store
            .set_amount_limit(&row.id, &limit, who)
            .await
            .map_err(internal)?;
        let detail = format!(
            "{} max={} confirm_above={}",
            currency.code(),
            limit.max_minor,
            limit.confirm_above_minor
        );
        audit(caller, "channel_limit_set", name, &detail).await;
        Ok("limit_saved")
    }

    /// The change has happened; a failed audit write is logged, not undone.
    async fn audit(caller: &Caller, action: &str, target: &str, detail: &str) {
        let user = &caller.user.username;
        if let Err(e) = caller.store.audit(user, action, target, detail).await {
            tracing::error!(error = %e, action, "audit write failed");
        }
    }
}
