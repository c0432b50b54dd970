//! Instants as types, and the one time zone the dashboard shows.
//!
//! Stored instants are integer milliseconds since the Unix epoch (UTC) — the one form both
//! databases store, compare and index alike. Provider protocols speak seconds. The two are
//! different types ([`UnixMs`], [`UnixSecs`]) so a value cannot silently be read in the other
//! unit. Calendar arithmetic (dates, day starts, formatting) goes through the `time` crate,
//! never by hand. Browser-safe: pages format with the same code as the server.

pub use time::{Date, Month, OffsetDateTime, UtcOffset};

/// China Standard Time (UTC+8): the providers' clock (Alipay and WeChat Pay timestamps, bills)
/// and the dashboard's.
pub const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// [`CHINA`] in minutes east of UTC, for code that takes an offset as a number.
pub const CHINA_OFFSET_MINUTES: i32 = CHINA.whole_minutes() as i32;

/// The offset `minutes` east of UTC (UTC when out of range: ±25 h).
pub fn offset_of_minutes(minutes: i32) -> UtcOffset {
    UtcOffset::from_whole_seconds(minutes.saturating_mul(60)).unwrap_or(UtcOffset::UTC)
}

/// Milliseconds since the Unix epoch (UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct UnixMs(pub i64);

/// Seconds since the Unix epoch (UTC), as provider protocols write instants.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct UnixSecs(pub i64);

impl UnixMs {
    /// Whole seconds, rounded down (also before 1970).
    pub fn secs(self) -> UnixSecs {
        UnixSecs(self.0.div_euclid(1000))
    }

    /// This instant in `offset`; `None` outside the years the `time` crate represents.
    pub fn at(self, offset: UtcOffset) -> Option<OffsetDateTime> {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .map(|t| t.to_offset(offset))
    }

    /// `2026-11-23 12:05:09` in `offset` (seconds shown, milliseconds dropped).
    pub fn format(self, offset: UtcOffset) -> String {
        match self.at(offset) {
            Some(t) => format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            None => self.0.to_string(),
        }
    }
}

impl UnixSecs {
    pub fn ms(self) -> UnixMs {
        UnixMs(self.0.saturating_mul(1000))
    }

    /// This instant in `offset`; `None` outside the years the `time` crate represents.
    pub fn at(self, offset: UtcOffset) -> Option<OffsetDateTime> {
        self.ms().at(offset)
    }
}

/// The instant `date` begins in `offset`.
pub fn day_start(date: Date, offset: UtcOffset) -> UnixMs {
    let t = date.midnight().assume_offset(offset);
    UnixMs((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// A `YYYY-MM-DD` date (years 1970–9999), or `None` when it is not a real date.
pub fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let d: u8 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_apart_and_convert_exactly() {
        assert_eq!(UnixMs(1_999).secs(), UnixSecs(1));
        assert_eq!(UnixMs(-1).secs(), UnixSecs(-1));
        assert_eq!(UnixSecs(2).ms(), UnixMs(2_000));
        assert_eq!(CHINA_OFFSET_MINUTES, 480);
    }

    #[test]
    fn formats_in_china_time_and_utc() {
        // 2024-02-29 23:59:59 UTC is 2024-03-01 07:59:59 in China (a leap day rolls over).
        assert_eq!(
            UnixMs(1_709_251_199_000).format(CHINA),
            "2024-03-01 07:59:59"
        );
        assert_eq!(
            UnixMs(1_709_251_199_000).format(UtcOffset::UTC),
            "2024-02-29 23:59:59"
        );
        assert_eq!(UnixMs(0).format(UtcOffset::UTC), "1970-01-01 00:00:00");
        assert_eq!(UnixMs(-1).format(UtcOffset::UTC), "1969-12-31 23:59:59");
    }

    #[test]
    fn days_begin_at_midnight_in_their_zone() {
        let d = parse_date("2026-11-23").expect("date");
        // Midnight in China is 16:00 the day before in UTC.
        assert_eq!(
            day_start(d, CHINA).format(UtcOffset::UTC),
            "2026-11-22 16:00:00"
        );
        assert_eq!(day_start(d, UtcOffset::UTC), UnixMs(1_795_392_000_000));
        assert!(parse_date("2026-02-29").is_none());
        assert!(parse_date("2024-02-29").is_some());
        for bad in [
            "",
            "2026-13-01",
            "2026-00-10",
            "1969-12-31",
            "2026-1-x",
            "10000-01-01",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }
}
