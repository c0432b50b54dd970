//! Amount limits per order: the most a channel charges in one order, and the amount above
//! which the cashier is asked to confirm (a mistyped ¥1,000,000 instead of ¥100.00 is the
//! typical error this catches).
//!
//! Pure and wasm-safe like [`crate::money`]: the defaults are functions of the currency,
//! the provider's own ceiling a function of the provider and currency, and the check a
//! function of the limit and the amount. The store only keeps an admin's overrides
//! (`channel_amount_limits`); everything else is decided here.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};

/// The bounds of one channel in one currency, in that currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountLimit {
    pub currency: Currency,
    /// Largest amount of one order; anything above is refused.
    pub max_minor: i64,
    /// Amounts strictly above this ask the cashier to confirm first (dashboard checkout
    /// only: a merchant system has no one to ask).
    pub confirm_above_minor: i64,
}

/// The provider a limit belongs to (the browser-safe provider list).
pub use crate::provider_kind::ProviderKind as Provider;

/// The default maximum per order: about ¥50,000 / $10,000 of value in every currency,
/// in round local figures. High enough for a shop's largest sale, low enough that a typo
/// with three extra zeros is refused.
pub fn default_max_minor(c: Currency) -> i64 {
    match c {
        Currency::Cny => 5_000_000,  // ¥50,000.00
        Currency::Usd => 1_000_000,  // $10,000.00
        Currency::Eur => 1_000_000,  // €10,000.00
        Currency::Gbp => 1_000_000,  // £10,000.00
        Currency::Hkd => 8_000_000,  // HK$80,000.00
        Currency::Sgd => 1_500_000,  // S$15,000.00
        Currency::Jpy => 1_500_000,  // ¥1,500,000 (no minor unit)
        Currency::Krw => 15_000_000, // ₩15,000,000 (no minor unit)
        Currency::Kwd => 3_000_000,  // KD 3,000.000 (three decimals)
    }
}

/// The default "large amount": a fifth of the default maximum (¥10,000 / $2,000).
pub fn default_confirm_above_minor(c: Currency) -> i64 {
    default_max_minor(c) / 5
}

/// The built-in limit of a currency, before any admin override.
pub fn default_limit(c: Currency) -> AmountLimit {
    AmountLimit {
        currency: c,
        max_minor: default_max_minor(c),
        confirm_above_minor: default_confirm_above_minor(c),
    }
}

/// The most the provider itself accepts in one order (a configured maximum cannot go
/// above it: the provider would refuse the order anyway, later and less clearly).
/// (`ProviderFacts::max_minor`.)
pub fn provider_max_minor(p: Provider, c: Currency) -> Option<i64> {
    if !p.supports(c) {
        return None;
    }
    Some(p.facts().max_minor)
}

/// What the admin may not set, and why (the UI and the CLI name it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitProblem {
    #[error("the channel does not charge in this currency")]
    Currency,
    #[error("the maximum must be more than zero")]
    MaxNotPositive,
    #[error("the maximum is above what the provider accepts ({0} minor units)")]
    AboveProvider(i64),
    #[error("the confirmation amount must be more than zero")]
    ConfirmNotPositive,
    #[error("the confirmation amount must not be above the maximum")]
    ConfirmAboveMax,
}

impl LimitProblem {
    /// Stable code for URLs and translations.
    pub fn code(&self) -> &'static str {
        match self {
            LimitProblem::Currency => "limit_currency",
            LimitProblem::MaxNotPositive => "limit_max_positive",
            LimitProblem::AboveProvider(_) => "limit_above_provider",
            LimitProblem::ConfirmNotPositive => "limit_confirm_positive",
            LimitProblem::ConfirmAboveMax => "limit_confirm_above_max",
        }
    }
}

/// Checks an admin's limit for a channel of provider `p`.
pub fn validate(p: Provider, limit: &AmountLimit) -> Result<(), LimitProblem> {
    let cap = provider_max_minor(p, limit.currency).ok_or(LimitProblem::Currency)?;
    if limit.max_minor <= 0 {
        return Err(LimitProblem::MaxNotPositive);
    }
    if limit.max_minor > cap {
        return Err(LimitProblem::AboveProvider(cap));
    }
    if limit.confirm_above_minor <= 0 {
        return Err(LimitProblem::ConfirmNotPositive);
    }
    if limit.confirm_above_minor > limit.max_minor {
        return Err(LimitProblem::ConfirmAboveMax);
    }
    Ok(())
}

/// The limit that applies: the admin's override if any, else the default, never above
/// what the provider accepts (an override stored before a provider lowered its ceiling,
/// or a default above a provider's, still cannot let an order through that the provider
/// refuses).
pub fn effective(p: Provider, c: Currency, stored: Option<AmountLimit>) -> AmountLimit {
    let mut limit = stored
        .filter(|l| l.currency == c)
        .unwrap_or_else(|| default_limit(c));
    if let Some(cap) = provider_max_minor(p, c) {
        limit.max_minor = limit.max_minor.min(cap);
        limit.confirm_above_minor = limit.confirm_above_minor.min(limit.max_minor);
    }
    limit
}

/// The verdict on one amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountCheck {
    Ok,
    /// Above the "large amount": the cashier must confirm this exact amount.
    NeedsConfirmation,
    /// Above the maximum: refused whatever anyone confirms.
    TooLarge,
}

/// Decides an amount against a limit. `confirmed` says the cashier confirmed this amount
/// (see [`confirmation_token`]); it never lets an amount above the maximum through.
pub fn check(limit: &AmountLimit, amount: Money, confirmed: bool) -> AmountCheck {
    if amount.currency() != limit.currency || amount.minor() > limit.max_minor {
        return AmountCheck::TooLarge;
    }
    if amount.minor() > limit.confirm_above_minor && !confirmed {
        return AmountCheck::NeedsConfirmation;
    }
    AmountCheck::Ok
}

/// What the confirmation step posts back: the exact amount and currency that was shown
/// (`1234500CNY`), so a confirmation never approves an amount changed after it was given.
pub fn confirmation_token(amount: Money) -> String {
    format!("{}{}", amount.minor(), amount.currency().code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::Cny).expect("money")
    }

    #[test]
    fn defaults_are_the_documented_figures() {
        assert_eq!(default_max_minor(Currency::Cny), 5_000_000);
        assert_eq!(default_max_minor(Currency::Usd), 1_000_000);
        assert_eq!(default_confirm_above_minor(Currency::Cny), 1_000_000);
        for c in Currency::ALL {
            let d = default_limit(c);
            assert!(d.confirm_above_minor > 0 && d.confirm_above_minor < d.max_minor);
            // Every default is within what every provider that charges in it accepts, so
            // the default never needs the provider cap to be sane.
            for p in Provider::ALL {
                if let Some(cap) = provider_max_minor(p, c) {
                    assert!(d.max_minor <= cap, "{c} {p:?}");
                    assert_eq!(validate(p, &d), Ok(()), "{c} {p:?}");
                }
            }
        }
    }

    #[test]
    fn amounts_are_checked_against_the_limit() {
        let l = default_limit(Currency::Cny);
        assert_eq!(check(&l, cny(1), false), AmountCheck::Ok);
        assert_eq!(check(&l, cny(1_000_000), false), AmountCheck::Ok);
        assert_eq!(
            check(&l, cny(1_000_001), false),
            AmountCheck::NeedsConfirmation
        );
        assert_eq!(check(&l, cny(1_000_001), true), AmountCheck::Ok);
        assert_eq!(check(&l, cny(5_000_000), true), AmountCheck::Ok);
        assert_eq!(check(&l, cny(5_000_001), true), AmountCheck::TooLarge);
        assert_eq!(check(&l, cny(i64::MAX), true), AmountCheck::TooLarge);
        let usd = Money::new(1, Currency::Usd).expect("money");
        assert_eq!(check(&l, usd, true), AmountCheck::TooLarge);
    }

    #[test]
    fn admin_limits_are_validated() {
        let l = |max, confirm| AmountLimit {
            currency: Currency::Cny,
            max_minor: max,
            confirm_above_minor: confirm,
        };
        assert_eq!(validate(Provider::Alipay, &l(100, 50)), Ok(()));
        assert_eq!(validate(Provider::Alipay, &l(100, 100)), Ok(()));
        assert_eq!(
            validate(Provider::Alipay, &l(0, 0)),
            Err(LimitProblem::MaxNotPositive)
        );
        assert_eq!(
            validate(Provider::Alipay, &l(100, 0)),
            Err(LimitProblem::ConfirmNotPositive)
        );
        assert_eq!(
            validate(Provider::Alipay, &l(100, 101)),
            Err(LimitProblem::ConfirmAboveMax)
        );
        assert_eq!(
            validate(Provider::Wechatpay, &l(i64::from(i32::MAX) + 1, 1)),
            Err(LimitProblem::AboveProvider(i64::from(i32::MAX)))
        );
        let usd = AmountLimit {
            currency: Currency::Usd,
            ..l(100, 50)
        };
        assert_eq!(
            validate(Provider::Wechatpay, &usd),
            Err(LimitProblem::Currency)
        );
        assert_eq!(validate(Provider::Stripe, &usd), Ok(()));
    }

    #[test]
    fn the_effective_limit_never_exceeds_the_provider() {
        let stored = AmountLimit {
            currency: Currency::Usd,
            max_minor: 500_000_000,
            confirm_above_minor: 400_000_000,
        };
        let e = effective(Provider::Stripe, Currency::Usd, Some(stored));
        assert_eq!(e.max_minor, 99_999_999);
        assert_eq!(e.confirm_above_minor, 99_999_999);
        // An override of another currency does not apply.
        assert_eq!(
            effective(Provider::Stripe, Currency::Cny, Some(stored)),
            default_limit(Currency::Cny)
        );
    }

    #[test]
    fn tokens_name_the_exact_amount() {
        assert_eq!(confirmation_token(cny(1_234_500)), "1234500CNY");
        assert_ne!(
            confirmation_token(cny(1_234_500)),
            confirmation_token(cny(1_234_501))
        );
    }
}
