//! The order's timeline on its page: the story (`story.rs`) as one sentence per step in
//! the reader's language, and under each step its technical record (provider calls, the
//! notification that caused it) in a `<details>`, collapsed (works without JavaScript).

use super::story::{Step, story};
use crate::components::format::{money, time_ms};
use crate::components::layout::use_t;
use crate::i18n::Messages;
use crate::server_fns::orders::{RefundRow, Source, TimelineEntry};
use leptos::prelude::*;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub fn Timeline(entries: Vec<TimelineEntry>, refunds: Vec<RefundRow>) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let steps = story(entries);
    let body = if steps.is_empty() {
        view! { <p class="empty">{o.timeline_empty}</p> }.into_any()
    } else {
        view! {
            <ol class="timeline" id="timeline">
                {steps.into_iter().map(|s| step_view(t, s, &refunds)).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="h-timeline">
            <h2 id="h-timeline">{o.h_timeline}</h2>
            {body}
        </section>
    }
}

fn step_view(t: &'static Messages, s: Step, refunds: &[RefundRow]) -> impl IntoView + use<> {
    let class = format!("tl-item tl-{:?}", s.head.source).to_lowercase();
    let kind = (s.head.source == Source::Event).then(|| s.head.what.clone());
    let text = sentence(t, &s, refunds);
    let forwarded = s
        .forwarded
        .iter()
        .map(|m| {
            let status = state_words(t, m.state.as_deref());
            view! { <li>{(story_text().forwarded)(&m.what, &status)}</li> }
        })
        .collect_view();
    let has_forwarded = !s.forwarded.is_empty();
    view! {
        <li class=class data-kind=kind>
            <time class="tl-time muted">{time_ms(s.head.at, CHINA_OFFSET_MINUTES)}</time>
            <div class="tl-body">
                <p class="tl-what">{text}</p>
                {has_forwarded.then(|| view! { <ul class="tl-notes small">{forwarded}</ul> })}
                {record(t, &s.calls)}
            </div>
        </li>
    }
}

/// A timeline state in words ("pending" is the common word).
fn state_words(t: &'static Messages, state: Option<&str>) -> String {
    state
        .map(|s| t.orders.state(s, t.common.status_pending))
        .unwrap_or_default()
}

/// The collapsed technical record of a step: its calls and notifications, one per line.
fn record(t: &'static Messages, calls: &[TimelineEntry]) -> Option<impl IntoView + use<>> {
    if calls.is_empty() {
        return None;
    }
    let n = |src: Source| calls.iter().filter(|c| c.source == src).count();
    let failed = calls
        .iter()
        .filter(|c| c.source == Source::ProviderCall && c.state.as_deref() == Some("failed"))
        .count();
    let summary = (story_text().record)(n(Source::ProviderCall), failed, n(Source::Notification));
    let any_failed = failed > 0;
    let lines = calls
        .iter()
        .map(|c| {
            let state = c.state.clone().unwrap_or_default();
            let words = state_words(t, c.state.as_deref());
            let what = match c.source {
                Source::Notification => (story_text().notification_line)(&c.what),
                _ => c.what.clone(),
            };
            view! {
                <li>
                    <time class="muted">{time_ms(c.at, CHINA_OFFSET_MINUTES)}</time> " "
                    <strong>{what}</strong> " "
                    <span class=format!("status {state}")>{words}</span>
                    {(!c.detail.is_empty()).then(|| view! { <div class="tl-detail mono">{c.detail.clone()}</div> })}
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <details class="tl-calls">
            <summary class:tl-failed=any_failed>{summary}</summary>
            <ul class="small">{lines}</ul>
        </details>
    })
}

/// The step in one sentence, in the reader's language.
fn sentence(t: &'static Messages, s: &Step, refunds: &[RefundRow]) -> String {
    let st = story_text();
    let e = &s.head;
    match e.source {
        Source::Event => {
            let no = s.refund.as_ref().map(|r| r.what.as_str());
            event_sentence(e, no, refunds)
        }
        Source::Notification => (st.notification)(
            &t.orders.event(&e.what),
            &state_words(t, e.state.as_deref()),
            &e.detail,
        ),
        Source::Refund => {
            (st.refund_alone)(&e.what, &e.detail, &state_words(t, e.state.as_deref()))
        }
        Source::MerchantNotification => {
            (st.forwarded)(&e.what, &state_words(t, e.state.as_deref()))
        }
        Source::ProviderCall => (st.call_alone)(&e.what, &state_words(t, e.state.as_deref())),
    }
}

/// `refund_no`: the refund the story tied the event to, if any.
fn event_sentence(e: &TimelineEntry, refund_no: Option<&str>, refunds: &[RefundRow]) -> String {
    let st = story_text();
    let via = st.via(e.cause.as_ref());
    // Refund events: "<refund no> <reason or failure>"; their row has amount and reason.
    let (first, rest) = e.detail.split_once(' ').unwrap_or((e.detail.as_str(), ""));
    let no = refund_no.unwrap_or(first);
    let row = refunds.iter().find(|r| r.out_refund_no == no);
    let amount = row
        .map(|r| money(r.amount_minor, &r.currency))
        .unwrap_or_default();
    let reason = |text: &str| {
        let text = text.trim();
        if text.is_empty() {
            st.no_reason.to_string()
        } else {
            text.to_string()
        }
    };
    let row_reason = reason(row.map(|r| r.reason.as_str()).unwrap_or(""));
    match e.what.as_str() {
        "created" => (st.created)(&via, &e.detail),
        "paid" => (st.paid)(&st.confirmed_by(e.cause.as_ref()), &e.detail),
        "closed" => (st.closed)(&via),
        "refund_requested" => (st.refund_requested)(&via, &amount, no, &row_reason),
        "refund_awaiting_approval" => (st.refund_awaiting)(&via, &amount, no, &row_reason),
        "refund_approved" => (st.refund_approved)(&via, no),
        "refund_rejected" => (st.refund_rejected)(&via, no, &reason(rest)),
        "refund_succeeded" => {
            (st.refund_succeeded)(&st.confirmed_by(e.cause.as_ref()), &amount, no)
        }
        "refund_failed" => (st.refund_failed)(no, &reason(rest)),
        other => (st.other)(other, &e.detail),
    }
}

/// The timeline's sentences in the page's language (`i18n::story`, kept out of `Messages`
/// so they stay out of the wasm).
fn story_text() -> &'static crate::i18n::story::StoryText {
    crate::i18n::story::of(crate::components::layout::use_session().lang)
}
