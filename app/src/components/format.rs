//! Formatting shared by every page: amounts always with their currency, times in one
//! readable form. Pure functions, so the server and the browser render the same text
//! (no hydration mismatch).

use paydesk_core::money::{Currency, Money};

/// `¥12.34 CNY`, `$1,234.50 USD`, `HKD 1.00`: the symbol where it is unambiguous, always the
/// code, thousands grouped with commas (as both zh-CN and en write amounts). Unknown codes
/// fall back to `CODE 12.34`. Form fields keep the plain `1234.50` (what they parse).
pub fn money(minor: i64, currency: &str) -> String {
    let Ok(c) = Currency::from_code(currency) else {
        return format!("{currency} {minor}");
    };
    let sign = if minor < 0 { "-" } else { "" };
    let text = Money::new(minor.unsigned_abs() as i64, c)
        .map(|m| grouped(&m.to_decimal_string()))
        .unwrap_or_else(|_| minor.to_string());
    match symbol(c) {
        Some(sym) => format!("{sign}{sym}{text} {}", c.code()),
        None => format!("{sign}{} {text}", c.code()),
    }
}

/// `1234567.89` → `1,234,567.89`: commas between groups of three digits before the point.
fn grouped(decimal: &str) -> String {
    let (whole, fraction) = match decimal.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (decimal, None),
    };
    let mut out = String::with_capacity(decimal.len() + whole.len() / 3);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// The symbol shown before an amount, where one is unambiguous with the code after it.
fn symbol(c: Currency) -> Option<&'static str> {
    match c.code() {
        "CNY" | "JPY" => Some("¥"),
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    }
}

/// A millisecond Unix time as `2026-11-23 12:05:09` in UTC+8 (China Standard Time, the
/// providers' own clock: `paydesk_core::timestamp::CHINA_OFFSET_MINUTES`) or UTC, chosen by
/// `offset_minutes`.
pub fn time_ms(ms: i64, offset_minutes: i32) -> String {
    use paydesk_core::timestamp::{UnixMs, offset_of_minutes};
    UnixMs(ms).format(offset_of_minutes(offset_minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_core::timestamp::CHINA_OFFSET_MINUTES as CHINA;

    #[test]
    fn amounts_carry_their_currency() {
        assert_eq!(money(1234, "CNY"), "¥12.34 CNY");
        assert_eq!(money(5, "USD"), "$0.05 USD");
        assert_eq!(money(1200, "JPY"), "¥1,200 JPY");
        assert_eq!(money(123_456_789, "CNY"), "¥1,234,567.89 CNY");
        assert_eq!(money(100_000, "USD"), "$1,000.00 USD");
        assert_eq!(money(99_999, "USD"), "$999.99 USD");
        assert_eq!(money(-123_456, "HKD"), "-HKD 1,234.56");
        assert_eq!(money(i64::MAX, "CNY"), "¥92,233,720,368,547,758.07 CNY");
        assert_eq!(money(100, "HKD"), "HKD 1.00");
        assert_eq!(money(-250, "EUR"), "-€2.50 EUR");
    }

    #[test]
    fn times_are_calendar_correct() {
        assert_eq!(time_ms(0, 0), "1970-01-01 00:00:00");
        // 2024-02-29 23:59:59 UTC is a leap day; +8 h moves it to 1 March.
        assert_eq!(time_ms(1_709_251_199_000, 0), "2024-02-29 23:59:59");
        assert_eq!(time_ms(1_709_251_199_000, CHINA), "2024-03-01 07:59:59");
    }
}
