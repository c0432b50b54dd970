//! Money: integer minor units with a currency.
//!
//! Amounts never pass through floating point. Providers disagree on the unit: WeChat Pay and
//! Stripe send integer minor units (fen, cents; yen for JPY), Alipay sends a decimal yuan string
//! (`"0.01"`). Both directions are exact conversions here, so `0.1 + 0.2` style rounding can
//! never change what a customer is charged.
//!
//! This module is compiled for the browser too (wasm), so it depends only on serde/thiserror.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency we can charge in, with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Currency {
    Cny,
    Usd,
    Eur,
    Gbp,
    Hkd,
    Sgd,
    Jpy,
    Krw,
    /// Kuwaiti dinar: one of the few three-decimal currencies; kept so the code paths for
    /// exponents other than 2 are exercised.
    Kwd,
}

impl Currency {
    pub const ALL: [Currency; 9] = [
        Currency::Cny,
        Currency::Usd,
        Currency::Eur,
        Currency::Gbp,
        Currency::Hkd,
        Currency::Sgd,
        Currency::Jpy,
        Currency::Krw,
        Currency::Kwd,
    ];

    /// Upper-case ISO code, as WeChat Pay (`"CNY"`) and Alipay expect it.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Hkd => "HKD",
            Currency::Sgd => "SGD",
            Currency::Jpy => "JPY",
            Currency::Krw => "KRW",
            Currency::Kwd => "KWD",
        }
    }

    /// Lower-case ISO code, as Stripe expects it (`currency=usd`).
    pub fn lower_code(self) -> String {
        self.code().to_ascii_lowercase()
    }

    /// Number of decimal digits of the minor unit (ISO 4217 exponent).
    /// JPY and KRW are "zero-decimal" (Stripe sends them as whole yen/won).
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Jpy | Currency::Krw => 0,
            Currency::Kwd => 3,
            _ => 2,
        }
    }

    /// Parse an ISO code, case-insensitively (Stripe answers in lower case).
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code))
            .ok_or(MoneyError::UnknownCurrency)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::from_code(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

/// Why an amount was rejected. Messages never echo the input (it may come from an
/// attacker-controlled notification).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency")]
    UnknownCurrency,
    #[error("amount is empty")]
    Empty,
    #[error("amount is negative")]
    Negative,
    #[error("amount is not a plain decimal number")]
    Malformed,
    #[error("amount has more decimals than the currency allows")]
    TooManyDecimals,
    #[error("amount is too large")]
    Overflow,
    #[error("currencies differ")]
    CurrencyMismatch,
}

/// A non-negative amount in integer minor units (fen, cents, yen, fils).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount of `minor` units. Negative amounts are rejected: refunds are separate
    /// operations with their own positive amount, never a negative payment.
    pub fn new(minor: i64, currency: Currency) -> Result<Money, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Money { minor, currency })
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// Parse a plain decimal string such as `"1234.50"` (as Alipay sends `total_amount`).
    ///
    /// Accepted: ASCII digits, optionally one `.` followed by 1..=exponent digits.
    /// Rejected: signs, exponents, whitespace, `"1."`, `".5"`, more decimals than the currency
    /// has (even trailing zeros: a gateway that sends `"1.230"` is not following its own
    /// format, and we would rather notice), and anything that overflows `i64`.
    pub fn parse_decimal(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (int_part, frac_part) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Malformed);
        }
        let exp = currency.exponent() as usize;
        let frac = match frac_part {
            None => "",
            Some(f) => {
                if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(MoneyError::Malformed);
                }
                if f.len() > exp {
                    return Err(MoneyError::TooManyDecimals);
                }
                f
            }
        };
        let mut minor: i64 = 0;
        for b in int_part.bytes() {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or(MoneyError::Overflow)?;
        }
        // Scale the integer part and append the fraction digits, padding to the exponent.
        for i in 0..exp {
            let digit = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(digit))
                .ok_or(MoneyError::Overflow)?;
        }
        Ok(Money { minor, currency })
    }

    /// Exact decimal rendering with exactly `exponent` decimals: `"0.01"`, `"1234.50"`,
    /// `"100"` for JPY. This is the Alipay `total_amount` / `refund_amount` format.
    pub fn to_decimal_string(&self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(exp);
        let int = self.minor / scale;
        let frac = self.minor % scale;
        format!("{int}.{frac:0width$}", width = exp as usize)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, ..self })
    }

    /// `self - other`; an amount below zero is an error, not a negative `Money`.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let minor = self.minor - other.minor; // both >= 0, cannot overflow
        Money::new(minor, self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(s: &str) -> Result<i64, MoneyError> {
        Money::parse_decimal(s, Currency::Cny).map(|m| m.minor())
    }

    #[test]
    fn parses_yuan_strings_exactly() {
        assert_eq!(cny("0.01"), Ok(1));
        assert_eq!(cny("0.1"), Ok(10));
        assert_eq!(cny("1234.50"), Ok(123_450));
        assert_eq!(cny("1234.5"), Ok(123_450));
        assert_eq!(cny("7"), Ok(700));
        assert_eq!(cny("0"), Ok(0));
        assert_eq!(cny("0.00"), Ok(0));
        // The classic float trap: 0.29 * 100 = 28.999999999999996.
        assert_eq!(cny("0.29"), Ok(29));
        assert_eq!(cny("19.99"), Ok(1999));
    }

    #[test]
    fn rejects_malformed_amounts() {
        assert_eq!(cny(""), Err(MoneyError::Empty));
        assert_eq!(cny("-0.01"), Err(MoneyError::Negative));
        assert_eq!(cny("1.001"), Err(MoneyError::TooManyDecimals));
        assert_eq!(cny("1.230"), Err(MoneyError::TooManyDecimals));
        for bad in [
            "+1", "1.", ".5", "1,00", " 1", "1 ", "1e3", "0x10", "1..0", "1.2.3", "¥1", "١",
        ] {
            assert_eq!(cny(bad), Err(MoneyError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn rejects_overflow() {
        // i64::MAX = 9223372036854775807 fen = 92233720368547758.07 yuan.
        assert_eq!(cny("92233720368547758.07"), Ok(i64::MAX));
        assert_eq!(cny("92233720368547758.08"), Err(MoneyError::Overflow));
        assert_eq!(cny("92233720368547759"), Err(MoneyError::Overflow));
        assert_eq!(cny("99999999999999999999999"), Err(MoneyError::Overflow));
        assert_eq!(
            Money::parse_decimal("9223372036854775807", Currency::Jpy).map(|m| m.minor()),
            Ok(i64::MAX)
        );
        assert_eq!(
            Money::parse_decimal("9223372036854775808", Currency::Jpy),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn formats_exactly() {
        let f = |minor, c| Money::new(minor, c).map(|m| m.to_decimal_string());
        assert_eq!(f(1, Currency::Cny).as_deref(), Ok("0.01"));
        assert_eq!(f(10, Currency::Cny).as_deref(), Ok("0.10"));
        assert_eq!(f(0, Currency::Cny).as_deref(), Ok("0.00"));
        assert_eq!(f(123_450, Currency::Cny).as_deref(), Ok("1234.50"));
        assert_eq!(f(100, Currency::Jpy).as_deref(), Ok("100"));
        assert_eq!(f(1, Currency::Kwd).as_deref(), Ok("0.001"));
        assert_eq!(
            f(i64::MAX, Currency::Cny).as_deref(),
            Ok("92233720368547758.07")
        );
        assert_eq!(Money::new(-1, Currency::Cny), Err(MoneyError::Negative));
    }

    #[test]
    fn round_trips_every_small_amount() {
        for c in Currency::ALL {
            for minor in (0..2000).chain([99_999_999, i64::MAX - 1, i64::MAX]) {
                let m = Money::new(minor, c).expect("non-negative");
                assert_eq!(Money::parse_decimal(&m.to_decimal_string(), c), Ok(m));
            }
        }
    }

    #[test]
    fn exponents_parse_per_currency() {
        assert_eq!(
            Money::parse_decimal("5", Currency::Jpy).map(|m| m.minor()),
            Ok(5)
        );
        assert_eq!(
            Money::parse_decimal("5.0", Currency::Jpy),
            Err(MoneyError::TooManyDecimals)
        );
        assert_eq!(
            Money::parse_decimal("1.234", Currency::Kwd).map(|m| m.minor()),
            Ok(1234)
        );
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::from_code("usd"), Ok(Currency::Usd));
        assert_eq!(Currency::from_code("CNY"), Ok(Currency::Cny));
        assert_eq!(Currency::from_code("XXX"), Err(MoneyError::UnknownCurrency));
        assert_eq!(Currency::Eur.lower_code(), "eur");
        for c in Currency::ALL {
            assert_eq!(c.code().parse::<Currency>(), Ok(c));
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        let a = Money::new(100, Currency::Cny).expect("ok");
        let b = Money::new(30, Currency::Cny).expect("ok");
        assert_eq!(a.checked_sub(b).map(|m| m.minor()), Ok(70));
        assert_eq!(b.checked_sub(a), Err(MoneyError::Negative));
        assert_eq!(a.checked_add(b).map(|m| m.minor()), Ok(130));
        let usd = Money::new(1, Currency::Usd).expect("ok");
        assert_eq!(a.checked_add(usd), Err(MoneyError::CurrencyMismatch));
        let max = Money::new(i64::MAX, Currency::Cny).expect("ok");
        assert_eq!(max.checked_add(b), Err(MoneyError::Overflow));
    }

    #[test]
    fn serde_uses_iso_codes() {
        // Only the pure part is tested here (no serde_json in the wasm half).
        assert_eq!(String::from(Currency::Hkd), "HKD");
        assert_eq!(Currency::try_from("hkd".to_string()), Ok(Currency::Hkd));
    }
}
