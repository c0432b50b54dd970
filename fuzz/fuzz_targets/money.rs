//! The money parser: `Money::parse_decimal` (Alipay's `total_amount`/`refund_fee`, every
//! amount typed into the dashboard, the merchant API's decimal amounts), `to_decimal_string`,
//! `Currency::from_code`, and the dashboard's amount formatting.
//!
//! Input: one byte choosing the currency, the amount text after it.
//!
//! Checked against an independent reference (a grammar check and u128 arithmetic): the
//! same accept/reject decision with the same reason, the same minor units; accepted
//! amounts print back to text that parses to the same amount.

use paydesk_app::components::format;
use paydesk_core::money::{Currency, Money, MoneyError};

/// The rule of `parse_decimal`, written differently: `digits ( "." 1..=exp digits )?`,
/// at most i64::MAX minor units.
fn reference(s: &str, exp: u32) -> Result<i64, MoneyError> {
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    if s.starts_with('-') {
        return Err(MoneyError::Negative);
    }
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(MoneyError::Malformed);
    }
    let frac = frac.unwrap_or("");
    if frac.len() > exp as usize {
        return Err(MoneyError::TooManyDecimals);
    }
    let int = int.trim_start_matches('0');
    // More than 19 significant integer digits is more than i64::MAX whatever the scale.
    if int.len() > 19 {
        return Err(MoneyError::Overflow);
    }
    let whole: u128 = int.parse().unwrap_or(0);
    let padded = format!("{frac:0<width$}", width = exp as usize);
    let fraction: u128 = padded.parse().unwrap_or(0);
    let minor = whole * 10u128.pow(exp) + fraction;
    i64::try_from(minor).map_err(|_| MoneyError::Overflow)
}

fn check(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let currency = Currency::ALL[usize::from(pick) % Currency::ALL.len()];
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };

    let parsed = Money::parse_decimal(text, currency);
    let expected = reference(text, currency.exponent());
    assert_eq!(
        parsed.clone().map(|m| m.minor()),
        expected,
        "{text:?} in {currency}: parser and reference disagree"
    );
    if let Ok(m) = parsed {
        assert_eq!(m.currency(), currency);
        let printed = m.to_decimal_string();
        assert_eq!(
            Money::parse_decimal(&printed, currency),
            Ok(m),
            "{printed:?}"
        );
        let shown = format::money(m.minor(), currency.code());
        assert!(
            shown.contains(&printed),
            "{shown:?} does not show {printed:?}"
        );
        assert!(shown.contains(currency.code()));
    }

    // Currency codes as Stripe (lower case) and WeChat Pay (upper case) send them.
    if let Ok(c) = Currency::from_code(text) {
        assert!(c.code().eq_ignore_ascii_case(text));
    }

    // Minor units as WeChat Pay and Stripe send them (any i64 from the wire).
    if let Some(bytes) = rest.get(..8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        let minor = i64::from_le_bytes(b);
        match Money::new(minor, currency) {
            Ok(m) => {
                assert!(minor >= 0);
                assert_eq!(
                    Money::parse_decimal(&m.to_decimal_string(), currency),
                    Ok(m)
                );
                let sum = m.checked_add(m);
                assert_eq!(sum.map(|s| s.minor()).ok(), minor.checked_add(minor));
                assert_eq!(m.checked_sub(m), Ok(Money::zero(currency)));
            }
            Err(e) => assert_eq!((minor < 0, e), (true, MoneyError::Negative)),
        }
        let _ = format::money(minor, currency.code());
        let _ = format::time_ms(minor, 480);
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
