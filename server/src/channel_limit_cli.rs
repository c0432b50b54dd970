//! `paydesk channel limit NAME [--currency CUR (--max A [--confirm-above B] | --reset)]`:
//! a channel's amount limits per order, as on the Credentials page. Without options it
//! lists the limits in every currency the channel charges in.

use clap::Args;
use paydesk_core::limits::{AmountLimit, Provider, effective, provider_max_minor, validate};
use paydesk_core::money::{Currency, Money};
use paydesk_core::store::{ChannelRow, Store};

use crate::cli::{CliError, failed};

#[derive(Args, Debug)]
pub struct LimitArgs {
    pub name: String,
    /// The currency to change (ISO code, e.g. CNY).
    #[arg(long)]
    pub currency: Option<String>,
    /// The most one order may charge, as a decimal in the currency (e.g. 50000.00).
    #[arg(long)]
    pub max: Option<String>,
    /// Dashboard checkouts above this amount ask the cashier to confirm (a decimal);
    /// kept as it is when not given, lowered to the maximum if above it.
    #[arg(long)]
    pub confirm_above: Option<String>,
    /// Go back to the built-in default in this currency.
    #[arg(long, conflicts_with_all = ["max", "confirm_above"])]
    pub reset: bool,
}

pub async fn run(store: &Store, a: LimitArgs) -> Result<(), CliError> {
    let row = store
        .channel(&a.name)
        .await
        .map_err(failed)?
        .ok_or_else(|| failed(format!("no channel named `{}`", a.name)))?;
    let provider = Provider::parse(&row.provider)
        .ok_or_else(|| failed(format!("channel `{}` has an unknown provider", a.name)))?;
    let changing = a.reset || a.max.is_some() || a.confirm_above.is_some();
    match (&a.currency, changing) {
        (None, false) => {}
        (None, true) => return Err(failed("give the --currency to change")),
        (Some(code), _) => {
            let currency = Currency::from_code(code.trim())
                .map_err(|_| failed(format!("unknown currency `{code}`")))?;
            if !provider.supports(currency) {
                return Err(failed(format!(
                    "channel `{}` does not charge in {}",
                    a.name,
                    currency.code()
                )));
            }
            if a.reset {
                store
                    .reset_amount_limit(&row.id, currency)
                    .await
                    .map_err(failed)?;
                audit(store, "channel_limit_reset", &a.name, currency.code()).await?;
            } else if changing {
                set(store, &row, provider, currency, &a).await?;
            }
        }
    }
    list(store, &row, provider).await
}

/// Applies `--max` / `--confirm-above` over the limit in force.
async fn set(
    store: &Store,
    row: &ChannelRow,
    provider: Provider,
    currency: Currency,
    a: &LimitArgs,
) -> Result<(), CliError> {
    let current = effective(
        provider,
        currency,
        store
            .amount_limit(&row.id, currency)
            .await
            .map_err(failed)?,
    );
    let amount = |flag: &str, s: &str| {
        Money::parse_decimal(s.trim(), currency)
            .map(|m| m.minor())
            .map_err(|e| failed(format!("{flag}: {e} (write it like 50000.00)")))
    };
    let max_minor = match &a.max {
        Some(s) => amount("--max", s)?,
        None => current.max_minor,
    };
    let confirm_above_minor = match &a.confirm_above {
        Some(s) => amount("--confirm-above", s)?,
        None => current.confirm_above_minor.min(max_minor),
    };
    let limit = AmountLimit {
        currency,
        max_minor,
        confirm_above_minor,
    };
    validate(provider, &limit).map_err(|p| failed(format!("{}: {p}", currency.code())))?;
    store
        .set_amount_limit(&row.id, &limit, "cli")
        .await
        .map_err(failed)?;
    let detail = format!(
        "{} max={max_minor} confirm_above={confirm_above_minor}",
        currency.code()
    );
    audit(store, "channel_limit_set", &a.name, &detail).await
}

async fn audit(store: &Store, action: &str, name: &str, detail: &str) -> Result<(), CliError> {
    store
        .audit("cli", action, name, detail)
        .await
        .map_err(failed)
}

/// `CNY  max 50000.00  confirm above 10000.00  (default; the provider accepts up to …)`
async fn list(store: &Store, row: &ChannelRow, provider: Provider) -> Result<(), CliError> {
    let stored = store.amount_limits(&row.id).await.map_err(failed)?;
    let text = |minor: i64, c: Currency| {
        Money::new(minor, c)
            .map(|m| m.to_decimal_string())
            .unwrap_or_default()
    };
    println!("channel `{}`: amount limits per order", row.name);
    for c in provider.currencies() {
        let own = stored.iter().find(|l| l.currency == c).copied();
        let l = effective(provider, c, own);
        let cap = provider_max_minor(provider, c).unwrap_or(0);
        println!(
            "  {}  max {}  confirm above {}  ({}; the provider accepts up to {})",
            c.code(),
            text(l.max_minor, c),
            text(l.confirm_above_minor, c),
            if own.is_some() { "set" } else { "default" },
            text(cap, c)
        );
    }
    Ok(())
}
