//! `/credentials` (admin): the channel list with key fingerprints and certificate expiry,
//! enable/disable and test connection; `?add=<provider>` the form for a new live channel;
//! `?edit=<name>` the edit form and the key-rotation panels of one channel; `?limits=<name>`
//! the amount limits of one channel (sandbox channels too).
//!
//! Every change is a plain form post to `/credentials/…` that redirects back here with
//! `?ok=` / `?error=` / `?tested=` / `?refreshed=`, so the page works the same with and
//! without JavaScript.

mod form;
mod limits;
mod list;
mod rotate;

use crate::components::confirm::{AdminScript, ConfirmCard};
use crate::components::layout::use_t;
use crate::pages::section::Section;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::role::Capability;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_credentials intro=|t| t.page_credentials_intro cap=Capability::ManageCredentials>
            <Body />
        </Section>
    }
}

#[component]
fn Body() -> impl IntoView {
    let query = use_query_map();
    move || {
        let (add, edit, limits) = query.with(|q| (q.get("add"), q.get("edit"), q.get("limits")));
        view! {
            <AdminScript />
            <Notices />
            <ConfirmStep />
            {match (add, edit, limits) {
                (_, _, Some(name)) => view! { <limits::LimitsPanel name /> }.into_any(),
                (Some(provider), _, None) => view! { <form::ChannelFormView provider name=String::new() /> }.into_any(),
                (None, Some(name), None) => view! {
                    <form::ChannelFormView provider=String::new() name=name.clone() />
                    <rotate::RotationPanels name />
                }.into_any(),
                (None, None, None) => view! { <list::ChannelList /> }.into_any(),
            }}
        }
    }
}

/// The outcome of the last post, from the query string.
#[component]
fn Notices() -> impl IntoView {
    let t = use_t();
    let c = t.credentials;
    let query = use_query_map();
    move || {
        query.with(|q| {
            let channel = q.get("channel").unwrap_or_default();
            let limits_of = q.get("limits").unwrap_or_default();
            let currency = q.get("currency").unwrap_or_default();
            let ok = q.get("ok").map(|code| match code.as_str() {
                "limit_saved" => (c.limits.ok_saved)(&limits_of, &currency),
                "limit_reset" => (c.limits.ok_reset)(&limits_of, &currency),
                "channel_created" => (c.ok_created)(&channel),
                "channel_updated" => (c.ok_updated)(&channel),
                "channel_enabled" => (c.ok_enabled)(&channel),
                "channel_disabled" => (c.ok_disabled)(&channel),
                _ => c.ok_rotated.to_string(),
            });
            // Refused limit saves are shown by the limits panel, which knows the figures.
            let error = q.get("error").filter(|code| !code.starts_with("limit_")).map(|code| match code.as_str() {
                "invalid" => (c.err_invalid)(c.field(&q.get("field").unwrap_or_default())),
                "name_taken" => c.err_name_taken.to_string(),
                "bad_form" => c.err_bad_form.to_string(),
                other => t.error(other),
            });
            let tested = q.get("tested").map(|verdict| {
                let class = if verdict == "ok" { "notice ok" } else { "notice warn" };
                view! {
                    <p class=class role="status" id="test-result" data-verdict=verdict.clone()>
                        <strong>{(c.tested)(&channel)}</strong> " " {c.verdict(&verdict)}
                    </p>
                }
            });
            let refreshed = q.get("refreshed").map(|outcome| {
                let number = |k: &str| q.get(k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
                let (class, text) = if outcome == "ok" {
                    let expires = q
                        .get("expires")
                        .and_then(|v| v.parse::<i64>().ok())
                        .map(list::date)
                        .unwrap_or_default();
                    ("notice ok", (c.refresh_ok)(number("certs"), number("added"), &expires))
                } else {
                    ("notice warn", c.refresh_failure(&outcome).to_string())
                };
                view! {
                    <p class=class role="status" id="refresh-result" data-outcome=outcome.clone()>
                        <strong>{(c.refreshed)(&channel)}</strong> " " {text}
                    </p>
                }
            });
            view! {
                {ok.map(|m| view! { <p class="notice ok" role="status" id="cred-ok">{m}</p> })}
                {error.map(|m| view! { <p class="notice error" role="alert" id="cred-error">{m}</p> })}
                {tested}
                {refreshed}
            }
        })
    }
}

/// `?confirm=disable&channel=…` / `?edit=…&confirm=retire&step=…&value=…`: the second step
/// of a disable or a retire posted without JavaScript (the first post changed nothing).
#[component]
fn ConfirmStep() -> impl IntoView {
    let t = use_t();
    let a = t.admin;
    let query = use_query_map();
    move || {
        let q = query.get();
        let get = |k: &str| q.get(k).unwrap_or_default();
        match get("confirm").as_str() {
            "disable" => {
                let c = get("channel");
                let fields = vec![("name", c.clone()), ("enable", "0".to_string())];
                Some(view! {
                    <ConfirmCard t question=(a.confirm_disable_channel)(&c) yes=(a.confirm_disable_channel_yes)(&c)
                        action="/credentials/toggle" fields cancel_href="/credentials".to_string() />
                }.into_any())
            }
            "retire" => {
                let (c, value) = (get("edit"), get("value"));
                let cancel_href = format!(
                    "/credentials?edit={}",
                    crate::server_fns::orders::encode(&c)
                );
                let fields = vec![
                    ("name", c.clone()),
                    ("step", get("step")),
                    ("value", value.clone()),
                ];
                Some(view! {
                    <ConfirmCard t question=(a.confirm_retire)(&c, &value) yes=a.confirm_retire_yes.to_string()
                        action="/credentials/rotate" fields cancel_href multipart=true />
                }.into_any())
            }
            _ => None,
        }
    }
}
