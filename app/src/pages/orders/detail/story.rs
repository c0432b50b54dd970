//! The order's timeline as a story: what happened, in causal order, each step with the
//! evidence behind it. A pure function of the timeline's entries (`story`), so the order
//! and the grouping are unit-tested without a database.
//!
//! - The order's own changes (`Source::Event`) are the backbone, in the order the store
//!   recorded them (their sequence: each change bumps the order's version), whatever
//!   their clocks say: a refund is always "requested" before it "succeeded".
//! - A refund's row is folded into the event that requested it (amount, reason).
//! - Provider calls go under the step the order was in when the call started (the
//!   checkout's create call under "created", the refund call under "refund requested").
//! - A provider notification that caused a change goes under that change; one that
//!   changed nothing (duplicate, refused, rejected) is a step of its own.
//! - An event forwarded to the merchant goes under the change it reports.
//! - Anything left over is placed among the steps by time (ties after the change).

use crate::server_fns::orders::{Source, TimelineEntry};

/// One step of the story: a sentence (`head`), with what belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub head: TimelineEntry,
    /// The refund this step requested, decided or reported (its row), when known.
    pub refund: Option<TimelineEntry>,
    /// Events forwarded to the merchant about this step.
    pub forwarded: Vec<TimelineEntry>,
    /// The technical record: provider calls and the notification that caused the step.
    pub calls: Vec<TimelineEntry>,
}

impl Step {
    fn new(head: TimelineEntry) -> Step {
        Step {
            head,
            refund: None,
            forwarded: Vec::new(),
            calls: Vec::new(),
        }
    }

    fn is_event(&self) -> bool {
        self.head.source == Source::Event
    }
}

/// The refund number an event is about (its detail starts with it), for refund events.
fn refund_no(e: &TimelineEntry) -> Option<&str> {
    e.what
        .starts_with("refund_")
        .then(|| e.detail.split_whitespace().next())
        .flatten()
}

/// The order event a merchant notification reports (`src/store/orders/fanout.rs`).
fn reported_kind(merchant_event: &str) -> Option<&'static str> {
    Some(match merchant_event {
        "order.paid" => "paid",
        "order.closed" => "closed",
        "refund.succeeded" => "refund_succeeded",
        "refund.failed" => "refund_failed",
        _ => return None,
    })
}

/// Builds the story from the timeline's entries. Order events must come in the order the
/// store keeps them (by sequence, as `order_events` returns them); everything else in any
/// order.
pub fn story(entries: Vec<TimelineEntry>) -> Vec<Step> {
    let (events, mut rest): (Vec<_>, Vec<_>) =
        entries.into_iter().partition(|e| e.source == Source::Event);
    rest.sort_by_key(|e| e.at);
    let mut steps: Vec<Step> = events.into_iter().map(Step::new).collect();
    let mut loose = Vec::new();
    let mut calls = Vec::new();
    for e in rest {
        match e.source {
            Source::ProviderCall => calls.push(e),
            Source::Refund => attach_refund(&mut steps, e, &mut loose),
            Source::Notification => attach_notification(&mut steps, e, &mut loose),
            Source::MerchantNotification => attach_forwarded(&mut steps, e, &mut loose),
            Source::Event => loose.push(e),
        }
    }
    let mut story = merge(steps, loose);
    attach_calls(&mut story, calls);
    story
}

/// A refund's row goes with every event about it; one no event names is a step itself.
fn attach_refund(steps: &mut [Step], refund: TimelineEntry, loose: &mut Vec<TimelineEntry>) {
    let mut used = false;
    for s in steps
        .iter_mut()
        .filter(|s| refund_no(&s.head) == Some(refund.what.as_str()))
    {
        s.refund = Some(refund.clone());
        used = true;
    }
    if !used {
        loose.push(refund);
    }
}

/// A notification goes under the change it caused (the change's cause names it).
fn attach_notification(steps: &mut [Step], n: TimelineEntry, loose: &mut Vec<TimelineEntry>) {
    let caused = steps.iter_mut().find(|s| {
        matches!((&s.head.cause, &n.cause), (Some((k, r)), Some((_, id))) if k == "notify" && r == id)
    });
    match caused {
        Some(s) => s.calls.push(n),
        None => loose.push(n),
    }
}

/// A forwarded event goes under the nearest change of the kind it reports.
fn attach_forwarded(steps: &mut [Step], m: TimelineEntry, loose: &mut Vec<TimelineEntry>) {
    let kind = reported_kind(&m.what);
    let nearest = steps
        .iter_mut()
        .filter(|s| Some(s.head.what.as_str()) == kind)
        .min_by_key(|s| (s.head.at - m.at).abs());
    match nearest {
        Some(s) => s.forwarded.push(m),
        None => loose.push(m),
    }
}

/// The events in their own order, with the loose entries (sorted by time) placed before
/// the first event that is later than them.
fn merge(steps: Vec<Step>, loose: Vec<TimelineEntry>) -> Vec<Step> {
    let mut out = Vec::with_capacity(steps.len() + loose.len());
    let mut loose = loose.into_iter().peekable();
    for step in steps {
        while let Some(e) = loose.next_if(|e| e.at < step.head.at) {
            out.push(Step::new(e));
        }
        out.push(step);
    }
    out.extend(loose.map(Step::new));
    out
}

/// Each call goes under the last change made before it started; changes of the very
/// millisecond it started in are ambiguous, so the first of them (the one that made the
/// call: a refund's request, not its success in the same millisecond). A call older than
/// every change goes to the first; without any change, each call is a step itself.
fn attach_calls(story: &mut Vec<Step>, calls: Vec<TimelineEntry>) {
    for call in calls {
        match owner(story, call.at) {
            Some(i) => story[i].calls.push(call),
            None => {
                let at = story.partition_point(|s| s.head.at <= call.at);
                story.insert(at, Step::new(call));
            }
        }
    }
    for s in story.iter_mut() {
        s.calls.sort_by_key(|c| c.at);
    }
}

fn owner(story: &[Step], at: i64) -> Option<usize> {
    let before: Vec<usize> = (0..story.len())
        .filter(|&i| story[i].is_event() && story[i].head.at <= at)
        .collect();
    let latest = before.iter().map(|&i| story[i].head.at).max();
    match latest {
        Some(l) if l == at => before.into_iter().find(|&i| story[i].head.at == at),
        Some(_) => before.last().copied(),
        None => story.iter().position(Step::is_event),
    }
}

#[cfg(test)]
#[path = "story_tests.rs"]
mod tests;
