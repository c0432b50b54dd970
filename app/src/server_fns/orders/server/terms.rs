//! The search box's terms (`paydesk_core::order_query`) applied to a store search, on top
//! of the form's filters: every term narrows (AND); a term that contradicts the form
//! (another currency, another creator) matches nothing rather than one winning silently.

use super::BadInput;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::OrderStatus;
use paydesk_core::order_query::{Cmp, DaySpec, Query, Term, needle};
use paydesk_core::store::{Fragment, OrderSearch};
use paydesk_core::timestamp::{CHINA, Date, UnixMs, day_start};

const DAY_MS: i64 = 86_400_000;

pub fn apply(s: &mut OrderSearch, q: &Query, now_ms: i64) -> Result<(), BadInput> {
    // The currency first: amounts are read in it.
    for t in &q.terms {
        if let Term::Currency { code, .. } = t {
            same(s, |s| &mut s.currency, code.clone());
        }
    }
    for t in &q.terms {
        match t {
            Term::Text {
                text,
                negated,
                typed,
            } => s.fragments.push(Fragment {
                needle: needle(text),
                negated: *negated,
                typed: typed.clone(),
            }),
            Term::Amount { cmp, decimal, .. } => amount(s, *cmp, decimal)?,
            Term::Status { any_of, negated } => statuses(s, any_of, *negated),
            Term::Channel { any_of, negated } => channels(s, any_of, *negated),
            Term::Currency { .. } => {}
            Term::Created { cmp, day } => created(s, *cmp, *day, now_ms),
            Term::Creator { name } => same(s, |s| &mut s.creator, name.clone()),
            Term::Method { method } => same(s, |s| &mut s.pay_method, method.clone()),
            Term::Attention => s.attention_at = Some(now_ms),
        }
    }
    Ok(())
}

/// A search that matches no order (a channel named "" never exists).
fn nothing(s: &mut OrderSearch) {
    s.channels = vec![String::new()];
}

/// Sets a single-valued filter, or matches nothing when it is already set otherwise.
fn same(s: &mut OrderSearch, field: fn(&mut OrderSearch) -> &mut Option<String>, v: String) {
    match field(s) {
        Some(old) if !old.eq_ignore_ascii_case(&v) => nothing(s),
        slot => *slot = Some(v),
    }
}

fn amount(s: &mut OrderSearch, cmp: Cmp, decimal: &str) -> Result<(), BadInput> {
    let currency = match s.currency.as_deref() {
        Some(code) => Currency::from_code(code).map_err(|_| BadInput::Currency)?,
        None => Currency::Cny,
    };
    // An amount only means something in one currency.
    s.currency
        .get_or_insert_with(|| currency.code().to_string());
    let v = Money::parse_decimal(decimal, currency)
        .map_err(|_| BadInput::Amount)?
        .minor();
    let (min, max) = match cmp {
        Cmp::Eq => (Some(v), Some(v)),
        Cmp::Gt => (Some(v + 1), None),
        Cmp::Ge => (Some(v), None),
        Cmp::Lt => (None, Some(v - 1)),
        Cmp::Le => (None, Some(v)),
    };
    if let Some(min) = min {
        s.min_minor = Some(s.min_minor.map_or(min, |m| m.max(min)));
    }
    if let Some(max) = max {
        s.max_minor = Some(s.max_minor.map_or(max, |m| m.min(max)));
    }
    Ok(())
}

fn statuses(s: &mut OrderSearch, any_of: &[OrderStatus], negated: bool) {
    if negated {
        s.not_statuses.extend_from_slice(any_of);
    } else if s.statuses.is_empty() {
        s.statuses = any_of.to_vec();
    } else {
        s.statuses.retain(|st| any_of.contains(st));
        if s.statuses.is_empty() {
            nothing(s);
        }
    }
}

fn channels(s: &mut OrderSearch, any_of: &[String], negated: bool) {
    if negated {
        s.not_channels.extend_from_slice(any_of);
    } else if s.channels.is_empty() {
        s.channels = any_of.to_vec();
    } else {
        s.channels.retain(|c| any_of.contains(c));
        if s.channels.is_empty() {
            nothing(s);
        }
    }
}

/// `created:` as a `[from, to)` range of ms, narrowed into the search's.
fn created(s: &mut OrderSearch, cmp: Cmp, day: DaySpec, now_ms: i64) {
    let today = UnixMs(now_ms)
        .at(CHINA)
        .map(|t| t.date())
        .unwrap_or(Date::MIN);
    let start = |d: Date| day_start(d, CHINA).0;
    let (first, days) = match day {
        DaySpec::Date(d) => (start(d), 1),
        DaySpec::Today => (start(today), 1),
        DaySpec::Yesterday => (start(today) - DAY_MS, 1),
        DaySpec::LastDays(n) => (start(today) - (i64::from(n) - 1) * DAY_MS, i64::from(n)),
    };
    let end = first + days * DAY_MS;
    let (from, to) = match cmp {
        Cmp::Eq => (Some(first), Some(end)),
        Cmp::Gt => (Some(end), None),
        Cmp::Ge => (Some(first), None),
        Cmp::Lt => (None, Some(first)),
        Cmp::Le => (None, Some(end)),
    };
    if let Some(from) = from {
        s.from_ms = Some(s.from_ms.map_or(from, |f| f.max(from)));
    }
    if let Some(to) = to {
        s.to_ms = Some(s.to_ms.map_or(to, |t| t.min(to)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paydesk_core::order_query::parse;

    fn applied(text: &str) -> OrderSearch {
        let mut s = OrderSearch::default();
        apply(&mut s, &parse(text).expect("parses"), 1_796_000_000_000).expect("applies");
        s
    }

    #[test]
    fn amounts_narrow_in_minor_units() {
        let s = applied("amount:>100 amount:<=250.5");
        assert_eq!((s.min_minor, s.max_minor), (Some(10_001), Some(25_050)));
        assert_eq!(s.currency.as_deref(), Some("CNY"));
        let s = applied("12.34 currency:usd");
        assert_eq!((s.min_minor, s.max_minor), (Some(1234), Some(1234)));
        assert_eq!(s.currency.as_deref(), Some("USD"));
    }

    #[test]
    fn days_are_utc8_days() {
        let s = applied("created:2026-11-01");
        // 2026-11-01 00:00 UTC+8 = 2026-10-31 16:00 UTC.
        assert_eq!(s.from_ms, Some(1_793_462_400_000));
        assert_eq!(s.to_ms, Some(1_793_462_400_000 + DAY_MS));
        let s = applied("created:>=2026-11-01 created:<2026-12-01");
        assert_eq!(
            s.to_ms.zip(s.from_ms).map(|(t, f)| (t - f) / DAY_MS),
            Some(30)
        );
        let week = applied("created:7d");
        let today = applied("created:today");
        assert_eq!(week.to_ms, today.to_ms);
        assert_eq!(
            today
                .from_ms
                .zip(week.from_ms)
                .map(|(t, w)| (t - w) / DAY_MS),
            Some(6)
        );
    }

    #[test]
    fn contradictions_match_nothing() {
        let s = applied("status:paid status:closed");
        assert_eq!(s.channels, vec![String::new()]);
        let s = applied("currency:usd currency:eur");
        assert_eq!(s.channels, vec![String::new()]);
        let s = applied("status:paid,closed status:closed -status:refunded");
        assert_eq!(s.statuses, vec![OrderStatus::Closed]);
        assert_eq!(s.not_statuses, vec![OrderStatus::Refunded]);
    }

    #[test]
    fn fragments_become_needles() {
        let s = applied("咖啡 -Refund X7K9");
        let got: Vec<(&str, bool)> = s
            .fragments
            .iter()
            .map(|f| (f.needle.as_str(), f.negated))
            .collect();
        assert_eq!(
            got,
            vec![("§咖啡", false), ("refund", true), ("x7k9", false)]
        );
    }
}
