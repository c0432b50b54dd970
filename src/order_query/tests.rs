use super::*;

fn one(input: &str) -> Term {
    let q = parse(input).unwrap_or_else(|e| panic!("{input}: {e:?}"));
    assert_eq!(q.terms.len(), 1, "{input}");
    q.terms.into_iter().next().unwrap_or(Term::Attention)
}

fn error(input: &str) -> (usize, QueryErrorKind) {
    let e = parse(input).expect_err(input);
    (e.at, e.kind)
}

#[test]
fn fragments_are_lowercased_and_need_three_characters() {
    assert_eq!(
        one("AbC123"),
        Term::Text {
            text: "abc123".into(),
            negated: false,
            typed: "AbC123".into()
        }
    );
    assert_eq!(error("ab"), (0, QueryErrorKind::TooShort));
    assert_eq!(error("x:y 12"), (0, QueryErrorKind::UnknownField));
    assert_eq!(error("status:paid 12"), (12, QueryErrorKind::TooShort));
}

#[test]
fn chinese_words_of_one_or_two_characters_are_fragments() {
    assert_eq!(
        one("咖啡"),
        Term::Text {
            text: "咖啡".into(),
            negated: false,
            typed: "咖啡".into()
        }
    );
    assert!(matches!(one("茶"), Term::Text { .. }));
    assert_eq!(error("a咖"), (0, QueryErrorKind::TooShort));
}

#[test]
fn decimals_are_amounts_and_whole_numbers_are_fragments() {
    assert_eq!(
        one("12.34"),
        Term::Amount {
            cmp: Cmp::Eq,
            decimal: "12.34".into(),
            at: 0
        }
    );
    assert!(matches!(one("¥0.5"), Term::Amount { .. }));
    assert!(matches!(one("483920"), Term::Text { .. }));
    assert!(matches!(one("1.234"), Term::Text { .. }));
    assert!(matches!(one("\"12.34\""), Term::Text { .. }));
}

#[test]
fn the_documented_example_parses() {
    let q = parse("status:paid channel:wechatpay amount:>100 created:>=2026-11-01 -status:closed")
        .expect("parses");
    assert_eq!(q.terms.len(), 5);
    assert_eq!(
        q.terms[0],
        Term::Status {
            any_of: vec![OrderStatus::Paid],
            negated: false
        }
    );
    assert_eq!(
        q.terms[2],
        Term::Amount {
            cmp: Cmp::Gt,
            decimal: "100".into(),
            at: 37
        }
    );
    assert!(matches!(
        q.terms[3],
        Term::Created {
            cmp: Cmp::Ge,
            day: DaySpec::Date(_)
        }
    ));
    assert_eq!(
        q.terms[4],
        Term::Status {
            any_of: vec![OrderStatus::Closed],
            negated: true
        }
    );
}

#[test]
fn lists_quotes_and_negated_text() {
    assert_eq!(
        one("STATUS:paid,refunded"),
        Term::Status {
            any_of: vec![OrderStatus::Paid, OrderStatus::Refunded],
            negated: false
        }
    );
    assert_eq!(
        one("\"iced latte\""),
        Term::Text {
            text: "iced latte".into(),
            negated: false,
            typed: "iced latte".into()
        }
    );
    assert_eq!(
        one("-refund"),
        Term::Text {
            text: "refund".into(),
            negated: true,
            typed: "refund".into()
        }
    );
    assert_eq!(one("is:attention"), Term::Attention);
    assert_eq!(
        one("created:7d"),
        Term::Created {
            cmp: Cmp::Eq,
            day: DaySpec::LastDays(7)
        }
    );
    assert_eq!(
        one("method:CODE"),
        Term::Method {
            method: "code".into()
        }
    );
    assert!(parse("").expect("empty").terms.is_empty());
    assert!(parse("   ").expect("blank").terms.is_empty());
}

#[test]
fn errors_say_where() {
    use QueryErrorKind as K;
    assert_eq!(error("stauts:paid"), (0, K::UnknownField));
    assert_eq!(error("status:payed"), (7, K::BadStatus));
    assert_eq!(error("status:"), (0, K::EmptyValue));
    assert_eq!(error("amount:>1,5"), (7, K::BadAmount));
    assert_eq!(error("created:2026-13-01"), (8, K::BadDate));
    assert_eq!(error("created:>7d"), (8, K::BadDate));
    assert_eq!(error("abc \"open"), (4, K::UnclosedQuote));
    assert_eq!(error("status:>paid"), (0, K::BadOperator));
    assert_eq!(error("-amount:5"), (1, K::BadOperator));
    assert_eq!(error("method:card"), (7, K::BadChoice));
    assert_eq!(error("is:late"), (3, K::BadChoice));
    assert_eq!(error("currency:xyz"), (9, K::BadCurrency));
}

#[test]
fn hostile_input_never_panics() {
    for s in [
        "-",
        "--",
        ":",
        "-:",
        "\"",
        "\"\"",
        "a:\"b c\"",
        "状态:已付",
        "amount:",
        "amount:>=",
        "created:99999d",
        "\u{0}\u{0}\u{0}",
        "%%%",
        "_ab",
        "'; DROP TABLE orders; --",
    ] {
        let _ = parse(s);
    }
}

#[test]
fn search_text_makes_short_chinese_words_findable() {
    let t = search_text("PD20261204ABC", "冰拿铁 Iced");
    assert!(t.starts_with("pd20261204abc 冰拿铁 iced"));
    for word in ["拿铁", "冰拿", "冰", "铁"] {
        assert!(t.contains(&needle(word)), "{word} in {t}");
    }
    // Not neighbours in the subject: not found.
    assert!(!t.contains(&needle("冰铁")));
    assert!(!t.contains(&needle("咖")));
    assert_eq!(needle("abc"), "abc");
}
