//! What the log tabs share: reading query parameters, the error notice, filter fields and
//! buttons, order links, and the pager.

use crate::i18n::Messages;
use crate::server_fns::AppError;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// A query parameter, trimmed; `None` when absent or blank.
pub(super) fn param(q: &ParamsMap, name: &str) -> Option<String> {
    q.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

pub(super) fn failure(t: &'static Messages, e: &AppError) -> AnyView {
    let text = match e {
        AppError::Invalid(_) => t.logs.err_bad_filter,
        e => t.app_error(e),
    };
    view! { <p class="notice error" role="alert">{text}</p> }.into_any()
}

/// "Older" link: the current query with `before` replaced.
fn older_link(q: &ParamsMap, before: &str) -> String {
    let mut pairs: Vec<(String, String)> = q
        .clone()
        .into_iter()
        .filter(|(k, _)| k != "before" && k != "ok" && k != "error")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pairs.push(("before".into(), before.into()));
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let qs: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    format!("/logs?{}", qs.join("&"))
}

pub(super) fn order_link(no: Option<String>, t: &'static Messages) -> AnyView {
    match no {
        Some(no) => {
            view! { <a href=format!("/orders/{no}") class="mono">{no.clone()}</a> }.into_any()
        }
        None => view! { <span class="muted">{t.common.none}</span> }.into_any(),
    }
}

#[component]
pub(super) fn TextFilter(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    value: Option<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name value=value.unwrap_or_default() />
        </div>
    }
}

#[component]
pub(super) fn FilterButtons(tab: &'static str, t: &'static Messages) -> impl IntoView {
    view! {
        <input type="hidden" name="tab" value=tab />
        <div class="actions">
            <button type="submit" class="primary">{t.common.search}</button>
            <a class="button" href=format!("/logs?tab={tab}")>{t.common.reset}</a>
        </div>
    }
}

#[component]
pub(super) fn Pager(older: Option<String>, q: ParamsMap, t: &'static Messages) -> impl IntoView {
    let tab = param(&q, "tab").unwrap_or_else(|| "inbox".into());
    let paged = param(&q, "before").is_some();
    view! {
        <nav class="pager">
            {paged.then(|| view! { <a href=format!("/logs?tab={tab}")>{t.logs.newest}</a> })}
            {older.map(|b| view! { <a href=older_link(&q, &b) rel="next">{t.logs.older}</a> })}
        </nav>
    }
}
