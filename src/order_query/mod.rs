//! The orders search box's grammar: what a support agent types, turned into terms.
//!
//! ```text
//! query  := term (space term)*
//! term   := ["-"] field ":" value      -- a filter; "-" negates status, channel and text
//!         | ["-"] word                  -- a fragment of an order number, a provider
//!                                       -- trade number or the subject; or an amount
//! field  := status | channel | currency | amount | created | creator | method | is
//! value  := [op] atom ("," atom)*       -- op: > >= < <= (amount, created only)
//! atom   := bare | "quoted text"
//! ```
//!
//! - A bare word with a decimal point (`12.34`, `¥12.34`) is an exact amount; any other
//!   word is a fragment matched case-insensitively anywhere in the order number and the
//!   subject, or at the start of the provider's trade number. Fragments need 3
//!   characters, except Chinese (a 1- or 2-character word is enough).
//! - `status:paid,refunded` is either; `-status:closed` excludes.
//! - `created:2026-11-01` is that day; `created:>=2026-11-01`, `created:<2026-12-01`;
//!   `created:today`, `created:yesterday`, `created:7d` (the last 7 days, today included).
//! - `is:attention` is the "needs attention" view (see `store::order_search`).
//!
//! The parser is pure and runs on the server; an error names the column and what was
//! expected, so the page can say exactly what to change.

use crate::order::OrderStatus;
use serde::{Deserialize, Serialize};

/// A parsed search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
}

/// A comparison in `amount:` and `created:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A day in `created:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaySpec {
    /// `YYYY-MM-DD`.
    Date(time::Date),
    Today,
    Yesterday,
    /// `Nd`: the last N days, today included (only with `=`).
    LastDays(u16),
}

/// One term of a query. `at` is the term's first character (0-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A fragment, already lowercased (`typed`: as typed, for case-sensitive numbers).
    Text {
        text: String,
        negated: bool,
        typed: String,
    },
    /// An amount as typed (a decimal in the search's currency).
    Amount {
        cmp: Cmp,
        decimal: String,
        at: usize,
    },
    Status {
        any_of: Vec<OrderStatus>,
        negated: bool,
    },
    Channel {
        any_of: Vec<String>,
        negated: bool,
    },
    Currency {
        code: String,
        at: usize,
    },
    Created {
        cmp: Cmp,
        day: DaySpec,
    },
    Creator {
        name: String,
    },
    /// `qr` or `code`.
    Method {
        method: String,
    },
    /// `is:attention`.
    Attention,
}

/// What is wrong with a query, and where (0-based character column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryError {
    pub at: usize,
    pub kind: QueryErrorKind,
    /// The text the error is about, as typed.
    pub near: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryErrorKind {
    /// `stauts:` — not one of [`FIELDS`].
    UnknownField,
    /// `status:` with nothing after it.
    EmptyValue,
    /// A status that does not exist.
    BadStatus,
    /// Not a decimal amount.
    BadAmount,
    /// Not `YYYY-MM-DD`, `today`, `yesterday` or `Nd`.
    BadDate,
    /// `"…` without its closing quote.
    UnclosedQuote,
    /// A fragment under 3 characters (not Chinese).
    TooShort,
    /// `>`/`<` on a field that is not `amount` or `created`, or `-` on one that cannot be
    /// negated.
    BadOperator,
    /// `method:` other than `qr` or `code`; `is:` other than `attention`.
    BadChoice,
    /// A currency code paydesk does not know.
    BadCurrency,
}

/// The fields, as the error message lists them.
pub const FIELDS: [&str; 8] = [
    "status", "channel", "currency", "amount", "created", "creator", "method", "is",
];

/// The shortest fragment that is searched (Chinese words excepted).
pub const MIN_FRAGMENT: usize = 3;

/// Whether `c` is a CJK ideograph (the characters Chinese subjects are written in).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A word split off the input: its text (quotes removed) and where it started.
struct Word {
    at: usize,
    text: String,
    /// Whether any part was quoted (a quoted word is never a field or an amount).
    quoted: bool,
}

/// Splits on whitespace outside quotes.
fn words(input: &str) -> Result<Vec<Word>, QueryError> {
    let mut out = Vec::new();
    let mut cur: Option<Word> = None;
    let mut quote_at: Option<usize> = None;
    for (i, c) in input.chars().enumerate() {
        match (c, quote_at) {
            ('"', None) => {
                quote_at = Some(i);
                cur.get_or_insert_with(|| Word {
                    at: i,
                    text: String::new(),
                    quoted: true,
                })
                .quoted = true;
            }
            ('"', Some(_)) => quote_at = None,
            (c, None) if c.is_whitespace() => out.extend(cur.take()),
            (c, _) => cur
                .get_or_insert_with(|| Word {
                    at: i,
                    text: String::new(),
                    quoted: false,
                })
                .text
                .push(c),
        }
    }
    if let Some(at) = quote_at {
        let near: String = input.chars().skip(at).take(20).collect();
        return Err(err(at, QueryErrorKind::UnclosedQuote, &near));
    }
    out.extend(cur);
    Ok(out)
}

fn err(at: usize, kind: QueryErrorKind, near: &str) -> QueryError {
    QueryError {
        at,
        kind,
        near: near.to_string(),
    }
}

/// Parses the search box's text.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let mut terms = Vec::new();
    for w in words(input)? {
        let (negated, body, at) = match w.text.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest.to_string(), w.at + 1),
            _ => (false, w.text.clone(), w.at),
        };
        let field = (!w.quoted)
            .then(|| body.split_once(':'))
            .flatten()
            .filter(|(f, _)| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphabetic()));
        let term = match field {
            Some((f, v)) => field_term(&f.to_ascii_lowercase(), v, negated, at, &w.text)?,
            None => bare_term(&body, negated, at, w.quoted)?,
        };
        terms.push(term);
    }
    Ok(Query { terms })
}

/// A bare word: an amount (`12.34`, `¥12.34`) or a fragment.
fn bare_term(body: &str, negated: bool, at: usize, quoted: bool) -> Result<Term, QueryError> {
    let amount = body.trim_start_matches(['¥', '$', '€', '￥']);
    if !quoted && !negated && looks_like_amount(amount) {
        return Ok(Term::Amount {
            cmp: Cmp::Eq,
            decimal: amount.to_string(),
            at,
        });
    }
    let text = body.to_lowercase();
    let n = text.chars().count();
    if n < MIN_FRAGMENT && !text.chars().all(is_cjk) {
        return Err(err(at, QueryErrorKind::TooShort, body));
    }
    Ok(Term::Text {
        text,
        negated,
        typed: body.to_string(),
    })
}

/// `123.45` (digits, a point, one or two digits).
fn looks_like_amount(s: &str) -> bool {
    match s.split_once('.') {
        Some((whole, frac)) => {
            !whole.is_empty()
                && whole.chars().all(|c| c.is_ascii_digit())
                && (1..=2).contains(&frac.len())
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Splits a leading comparison off a value.
fn operator(v: &str) -> (Cmp, &str) {
    for (p, c) in [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
        ("=", Cmp::Eq),
    ] {
        if let Some(rest) = v.strip_prefix(p) {
            return (c, rest);
        }
    }
    (Cmp::Eq, v)
}

fn field_term(f: &str, v: &str, negated: bool, at: usize, word: &str) -> Result<Term, QueryError> {
    use QueryErrorKind as K;
    if !FIELDS.contains(&f) {
        return Err(err(at, K::UnknownField, f));
    }
    let value_at = at + f.chars().count() + 1;
    let (cmp, value) = operator(v);
    if value.is_empty() {
        return Err(err(at, K::EmptyValue, word));
    }
    let ordered = matches!(f, "amount" | "created");
    let negatable = matches!(f, "status" | "channel");
    if (cmp != Cmp::Eq && !ordered) || (negated && !negatable) {
        return Err(err(at, K::BadOperator, word));
    }
    let list = || value.split(',').filter(|s| !s.is_empty());
    Ok(match f {
        "status" => Term::Status {
            any_of: list()
                .map(|s| {
                    s.to_ascii_lowercase()
                        .parse::<OrderStatus>()
                        .map_err(|_| err(value_at, K::BadStatus, s))
                })
                .collect::<Result<_, _>>()?,
            negated,
        },
        "channel" => Term::Channel {
            any_of: list().map(str::to_string).collect(),
            negated,
        },
        "currency" => {
            let code = value.to_ascii_uppercase();
            crate::money::Currency::from_code(&code)
                .map_err(|_| err(value_at, K::BadCurrency, value))?;
            Term::Currency { code, at: value_at }
        }
        "amount" => {
            let decimal = value.trim_start_matches(['¥', '$', '€', '￥']);
            let whole = !decimal.is_empty() && decimal.chars().all(|c| c.is_ascii_digit());
            if !whole && !looks_like_amount(decimal) {
                return Err(err(value_at, K::BadAmount, value));
            }
            Term::Amount {
                cmp,
                decimal: decimal.to_string(),
                at: value_at,
            }
        }
        "created" => Term::Created {
            cmp,
            day: day_spec(value, cmp).ok_or_else(|| err(value_at, K::BadDate, value))?,
        },
        "creator" => Term::Creator {
            name: value.to_string(),
        },
        "method" => match value.to_ascii_lowercase().as_str() {
            m @ ("qr" | "code") => Term::Method {
                method: m.to_string(),
            },
            _ => return Err(err(value_at, K::BadChoice, value)),
        },
        // "is" (the only field left).
        _ => match value.to_ascii_lowercase().as_str() {
            "attention" => Term::Attention,
            _ => return Err(err(value_at, K::BadChoice, value)),
        },
    })
}

fn day_spec(v: &str, cmp: Cmp) -> Option<DaySpec> {
    match v.to_ascii_lowercase().as_str() {
        "today" => Some(DaySpec::Today),
        "yesterday" => Some(DaySpec::Yesterday),
        s if s.ends_with('d') && cmp == Cmp::Eq => s
            .trim_end_matches('d')
            .parse::<u16>()
            .ok()
            .filter(|n| (1..=3660).contains(n))
            .map(DaySpec::LastDays),
        s => crate::timestamp::parse_date(s).map(DaySpec::Date),
    }
}

/// The text an order is found by: its number and subject lowercased, then for each
/// Chinese character `§§c` and each adjacent pair `§ab`, so a 1- or 2-character Chinese
/// word is a 3-character needle a trigram index can serve (see [`needle`]). Written once,
/// when the order is created (number and subject never change).
pub fn search_text(out_trade_no: &str, subject: &str) -> String {
    let subject = subject.to_lowercase();
    let mut out = format!("{} {}", out_trade_no.to_lowercase(), subject);
    let cjk: Vec<Vec<char>> = subject
        .split(|c: char| !is_cjk(c))
        .filter(|run| !run.is_empty())
        .map(|run| run.chars().collect())
        .collect();
    for run in &cjk {
        for (i, c) in run.iter().enumerate() {
            out.push_str(" §§");
            out.push(*c);
            if let Some(next) = run.get(i + 1) {
                out.push_str(" §");
                out.push(*c);
                out.push(*next);
            }
        }
    }
    out
}

/// What to look for in [`search_text`] for a fragment: itself, or the `§` form of a 1- or
/// 2-character Chinese word.
pub fn needle(fragment: &str) -> String {
    match fragment.chars().count() {
        1 => format!("§§{fragment}"),
        2 => format!("§{fragment}"),
        _ => fragment.to_string(),
    }
}

#[cfg(test)]
mod tests;
