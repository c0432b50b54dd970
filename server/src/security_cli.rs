//! `paydesk user reset-2fa NAME` and `paydesk apikey refund-policy NAME POLICY`.

use crate::cli::{CliError, failed};
use crate::config::Config;
use crate::startup::open_store;
use paydesk_core::approval::KeyRefundPolicy;
use paydesk_core::auth::ThrottlePolicy;
use paydesk_core::store::StoreError;
use paydesk_core::twofa::TwoFactor;
use paydesk_core::vault::MasterKey;

pub async fn reset_2fa(config: &Config, name: &str) -> Result<(), CliError> {
    let store = open_store(config).await.map_err(failed)?;
    let Some(user) = store.user_by_name(name.trim()).await.map_err(failed)? else {
        return Err(failed(format!("no user named `{name}`")));
    };
    let master = MasterKey::load(&config.settings.data_dir).map_err(failed)?;
    let tf = TwoFactor {
        store: &store,
        master: &master,
        throttle: ThrottlePolicy::default(),
    };
    if tf.reset(&user, "cli").await.map_err(failed)? {
        println!(
            "two-step sign-in of `{name}` removed; they set it up again at their next sign-in if their role requires it"
        );
    } else {
        println!("`{name}` had no two-step sign-in; nothing changed");
    }
    Ok(())
}

pub async fn key_refund_policy(
    config: &Config,
    name: &str,
    policy: KeyRefundPolicy,
) -> Result<(), CliError> {
    let store = open_store(config).await.map_err(failed)?;
    match store.set_api_key_refund_policy(name, policy).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(failed(format!("no active API key named `{name}`")));
        }
        Err(e) => return Err(failed(e)),
    }
    store
        .audit("cli", "api_key_refund_policy", name, policy.as_str())
        .await
        .map_err(failed)?;
    println!("API key `{name}`: refunds {}", policy.as_str());
    Ok(())
}
