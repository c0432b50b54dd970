use super::*;

fn entry(at: i64, source: Source, what: &str, detail: &str) -> TimelineEntry {
    TimelineEntry {
        at,
        source,
        what: what.to_string(),
        state: None,
        detail: detail.to_string(),
        cause: None,
    }
}

fn event(at: i64, kind: &str, detail: &str, cause: (&str, &str)) -> TimelineEntry {
    TimelineEntry {
        cause: Some((cause.0.to_string(), cause.1.to_string())),
        ..entry(at, Source::Event, kind, detail)
    }
}

fn call(at: i64, op: &str) -> TimelineEntry {
    TimelineEntry {
        state: Some("succeeded".into()),
        ..entry(at, Source::ProviderCall, op, "POST https://gw/…")
    }
}

fn heads(story: &[Step]) -> Vec<String> {
    story.iter().map(|s| s.head.what.clone()).collect()
}

/// A refunded order as the server lists it: events in sequence order, then calls,
/// notifications, the refund row and the forwarded events, each by time.
fn refunded_order() -> Vec<TimelineEntry> {
    let refund = TimelineEntry {
        state: Some("succeeded".into()),
        cause: Some(("user".into(), "s1".into())),
        ..entry(1_000, Source::Refund, "RF1", "¥5.00 damaged")
    };
    let notification = TimelineEntry {
        state: Some("applied".into()),
        cause: Some(("notify".into(), "n1".into())),
        ..entry(400, Source::Notification, "paid", "")
    };
    vec![
        event(100, "created", "¥12.34", ("user", "m1")),
        event(400, "paid", "T123", ("notify", "n1")),
        // The same millisecond as the request, even a millisecond "earlier" (another
        // instance's clock): still after it, by sequence.
        event(1_001, "refund_requested", "RF1 5.00 CNY", ("user", "s1")),
        event(1_000, "refund_succeeded", "RF1", ("user", "s1")),
        call(101, "precreate"),
        call(300, "query"),
        call(1_001, "refund"),
        notification,
        refund,
        TimelineEntry {
            state: Some("delivered".into()),
            ..entry(1_000, Source::MerchantNotification, "refund.succeeded", "")
        },
        TimelineEntry {
            state: Some("delivered".into()),
            ..entry(401, Source::MerchantNotification, "order.paid", "")
        },
    ]
}

#[test]
fn a_refund_is_requested_before_it_succeeds_whatever_the_clocks_say() {
    let s = story(refunded_order());
    assert_eq!(
        heads(&s),
        ["created", "paid", "refund_requested", "refund_succeeded"]
    );
}

#[test]
fn calls_go_under_the_step_that_made_them() {
    let s = story(refunded_order());
    let ops = |i: usize| -> Vec<&str> { s[i].calls.iter().map(|c| c.what.as_str()).collect() };
    assert_eq!(
        ops(0),
        ["precreate", "query"],
        "checkout and polling: created"
    );
    assert_eq!(ops(1), ["paid"], "the notification that paid it: paid");
    assert_eq!(ops(2), ["refund"], "the refund call: the request");
    assert!(ops(3).is_empty());
}

#[test]
fn the_refund_row_and_forwarded_events_join_their_steps() {
    let s = story(refunded_order());
    assert_eq!(s[2].refund.as_ref().map(|r| r.what.as_str()), Some("RF1"));
    assert_eq!(s[3].refund.as_ref().map(|r| r.what.as_str()), Some("RF1"));
    assert!(s[0].refund.is_none() && s[1].refund.is_none());
    assert_eq!(s[1].forwarded[0].what, "order.paid");
    assert_eq!(s[3].forwarded[0].what, "refund.succeeded");
    assert_eq!(s.len(), 4, "nothing left over: {:?}", heads(&s));
}

#[test]
fn a_notification_that_changed_nothing_is_a_step_of_its_own_in_time() {
    let mut entries = refunded_order();
    entries.push(TimelineEntry {
        state: Some("duplicate".into()),
        cause: Some(("notify".into(), "n2".into())),
        ..entry(500, Source::Notification, "paid", "")
    });
    let s = story(entries);
    assert_eq!(
        heads(&s),
        [
            "created",
            "paid",
            "paid",
            "refund_requested",
            "refund_succeeded"
        ]
    );
    assert_eq!(s[2].head.source, Source::Notification);
    // A later call still belongs to the order's change, not to the loose notification.
    assert_eq!(s[2].calls.len(), 0);
}

#[test]
fn ties_keep_the_sequence_and_a_refund_without_events_stands_alone() {
    let entries = vec![
        event(7, "created", "¥1.00", ("api_key", "pos")),
        event(7, "paid", "T1", ("query", "")),
        event(7, "closed", "", ("user", "a")),
        entry(7, Source::Refund, "RF-OLD", "¥1.00"),
        call(7, "query"),
    ];
    let s = story(entries);
    assert_eq!(heads(&s), ["created", "paid", "closed", "RF-OLD"]);
    assert_eq!(
        s[0].calls.len(),
        1,
        "same millisecond: the first change of it"
    );
}

#[test]
fn calls_older_than_every_change_go_to_the_first_and_without_changes_stand_alone() {
    let s = story(vec![
        event(50, "created", "¥1.00", ("user", "a")),
        call(10, "x"),
    ]);
    assert_eq!(s[0].calls.len(), 1);
    let s = story(vec![call(20, "b"), call(10, "a")]);
    assert_eq!(heads(&s), ["a", "b"]);
    assert!(story(Vec::new()).is_empty());
}
