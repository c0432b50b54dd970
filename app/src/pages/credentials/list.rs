//! The channel list: provider, mode, state, fingerprints, certificates with expiry badges,
//! and the per-channel buttons (plain forms).

use crate::components::format::{money, time_ms};
use crate::components::layout::use_t;
use crate::i18n::Messages;
use crate::server_fns::credentials::{CertView, ChannelView, list_channels};
use leptos::prelude::*;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

pub fn provider_name(t: &Messages, provider: &str) -> &'static str {
    t.provider(provider)
}

/// The date part of an expiry (UTC+8, the providers' clock).
pub fn date(unix: i64) -> String {
    time_ms(unix * 1000, CHINA_OFFSET_MINUTES)
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[component]
pub fn ChannelList() -> impl IntoView {
    let t = use_t();
    let channels = Resource::new(|| (), |_| list_channels());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match channels.await {
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                    Ok(rows) => view! { <Table rows /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Table(rows: Vec<ChannelView>) -> impl IntoView {
    let t = use_t();
    let c = t.credentials;
    let has_live = rows.iter().any(|r| r.mode == "live");
    view! {
        <h2>{c.channels}</h2>
        <div class="table-wrap">
            <table class="data" id="channels-table">
                <thead>
                    <tr>
                        <th>{c.col_name}</th>
                        <th>{c.col_provider}</th>
                        <th>{c.col_mode}</th>
                        <th>{c.col_status}</th>
                        <th>{c.col_keys}</th>
                        <th>{c.col_certificates}</th>
                        <th>{c.col_actions}</th>
                    </tr>
                </thead>
                <tbody>{rows.into_iter().map(|r| view! { <Row r /> }).collect_view()}</tbody>
            </table>
        </div>
        {(!has_live).then(|| view! { <p class="empty" id="no-live">{c.no_live}</p> })}
        <div class="actions" id="add-channel">
            {["alipay", "wechatpay", "stripe"]
                .into_iter()
                .map(|p| {
                    view! {
                        <a class="button" href=format!("/credentials?add={p}")>
                            {(c.add_channel)(provider_name(t, p))}
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[component]
fn Row(r: ChannelView) -> impl IntoView {
    let t = use_t();
    let c = t.credentials;
    let live = r.mode == "live";
    let mode = if live {
        t.common.live
    } else {
        t.common.sandbox
    };
    let keys = if !live {
        view! { <span class="muted">{c.sandbox_keys}</span> }.into_any()
    } else if let Some(field) = &r.problem {
        view! { <span class="status failed">{(c.misconfigured)(c.field(field))}</span> }.into_any()
    } else {
        view! {
            <ul class="cred-keys">
                {r.fingerprints
                    .iter()
                    .map(|(label, fp)| view! { <li>{c.label(label)} ": " <span class="mono">{fp.clone()}</span></li> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let certs = r
        .certificates
        .into_iter()
        .map(|cert| view! { <Cert cert /> })
        .collect_view();
    let name = r.name.clone();
    let (toggle_label, enable) = if r.disabled {
        (c.enable, "1")
    } else {
        (c.disable, "0")
    };
    view! {
        <tr data-channel=r.name.clone()>
            <td data-label=c.col_name>
                <strong>{r.name.clone()}</strong>
                {(!r.account.is_empty()).then(|| view! { <div class="muted mono">{r.account.clone()}</div> })}
            </td>
            <td data-label=c.col_provider>{provider_name(t, &r.provider)}</td>
            <td data-label=c.col_mode><span class=format!("badge mode-{}", r.mode)>{mode}</span></td>
            <td data-label=c.col_status>
                <span class=if r.disabled { "status closed" } else { "status paid" }>
                    {if r.disabled { c.disabled } else { c.enabled }}
                </span>
                {r.failing.clone().map(|v| view! {
                    <div class="status failed channel-failing">{t.checkout.failing} ": " {c.verdict(&v)}</div>
                })}
                {r.limit.map(|l| view! {
                    <div class="muted small limit-summary">
                        {(c.limits.per_order)(&money(l.max_minor, l.currency.code()))}
                    </div>
                })}
            </td>
            <td class="wrap" data-label=c.col_keys>{keys}</td>
            <td class="wrap" data-label=c.col_certificates><ul class="cred-certs">{certs}</ul></td>
            <td class="row-actions" data-label=c.col_actions>
                <div class="actions">
                    {toggle_form(t, name.clone(), r.disabled, toggle_label, enable)}
                    <form method="post" action="/credentials/test">
                        <input type="hidden" name="name" value=name.clone() />
                        <button type="submit" class="test-connection">{c.test_connection}</button>
                    </form>
                    {(live && r.platform_certificates).then(|| view! {
                        <RefreshButton name=name.clone() from_edit=false />
                    })}
                    {live.then(|| view! {
                        <a class="button" href=format!("/credentials?edit={name}")>{c.edit}</a>
                    })}
                    <a class="button amount-limits" href=format!("/credentials?limits={name}")>{c.limits.link}</a>
                </div>
            </td>
        </tr>
    }
}

/// "Refresh certificates now" (WeChat Pay platform certificates): a plain form post.
#[component]
pub fn RefreshButton(name: String, from_edit: bool) -> impl IntoView {
    let c = use_t().credentials;
    view! {
        <form method="post" action="/credentials/refresh-certs">
            <input type="hidden" name="name" value=name />
            {from_edit.then(|| view! { <input type="hidden" name="back" value="edit" /> })}
            <button type="submit" class="refresh-certs">{c.refresh_certs}</button>
        </form>
    }
}

#[component]
pub fn Cert(cert: CertView) -> impl IntoView {
    let c = use_t().credentials;
    let badge = match cert.expiry.as_str() {
        "expired" => Some(view! { <span class="status failed cert-expired">{c.expired}</span> }),
        "soon" => Some(view! { <span class="status pending cert-soon">{c.expiring_soon}</span> }),
        _ => None,
    };
    view! {
        <li>
            {c.label(&cert.label)} " " <span class="mono">{cert.serial}</span> " "
            <span class="muted">{(c.expires)(&date(cert.not_after))}</span> " " {badge}
        </li>
    }
}

/// Enable / disable (disabling asks twice: `components::confirm`). Type-erased: the
/// channel row is deep enough for the wasm build's type-layout limit.
fn toggle_form(
    t: &'static crate::i18n::Messages,
    name: String,
    disabled: bool,
    label: &'static str,
    enable: &'static str,
) -> AnyView {
    view! {
        <form method="post" action="/credentials/toggle">
            <input type="hidden" name="name" value=name />
            <input type="hidden" name="enable" value=enable />
            <button type="submit" class=if disabled { "" } else { "danger" }
                data-confirm=(!disabled).then_some(t.admin.press_again)>{label}</button>
        </form>
    }
    .into_any()
}
