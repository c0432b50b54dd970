//! Key rotation panels of one live channel: add the new key or certificate next to the
//! old one, then retire the old one. Each step is its own small multipart form posting
//! to `/credentials/rotate`; WeChat Pay platform certificates can also be downloaded now
//! (`/credentials/refresh-certs`).

use super::form::Pem;
use super::list::{Cert, RefreshButton};
use crate::components::format::time_ms;
use crate::components::layout::use_t;
use crate::server_fns::credentials::{ChannelView, RefreshView, list_channels};
use leptos::prelude::*;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub fn RotationPanels(name: String) -> impl IntoView {
    let t = use_t();
    let channels = Resource::new(|| (), |_| list_channels());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || {
                let name = name.clone();
                Suspend::new(async move {
                    match channels.await {
                        Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                        Ok(rows) => match rows.into_iter().find(|r| r.name == name && r.mode == "live") {
                            Some(ch) => view! { <Panels ch /> }.into_any(),
                            None => ().into_any(),
                        },
                    }
                })
            }}
        </Suspense>
    }
}

/// A one-button rotation form (retire steps).
#[component]
fn StepButton(
    name: String,
    step: &'static str,
    value: String,
    label: &'static str,
    enabled: bool,
) -> impl IntoView {
    view! {
        <form method="post" action="/credentials/rotate" enctype="multipart/form-data" class="inline">
            <input type="hidden" name="name" value=name />
            <input type="hidden" name="step" value=step />
            <input type="hidden" name="value" value=value />
            <button type="submit" class="danger" disabled=!enabled data-confirm=use_t().admin.press_again>{label}</button>
        </form>
    }
}

/// When the platform certificates were last downloaded, how it went, and when the
/// background job downloads next.
#[component]
fn LastRefresh(r: RefreshView) -> impl IntoView {
    let c = use_t().credentials;
    let ok = r.outcome == "ok";
    view! {
        <p class=if ok { "muted" } else { "notice warn" } id="last-refresh" data-outcome=r.outcome.clone()>
            {(c.last_refresh)(&time_ms(r.at, CHINA_OFFSET_MINUTES), c.refresh_failure(&r.outcome))}
            {r.next_at.map(|at| view! { " " {(c.next_refresh)(&time_ms(at, CHINA_OFFSET_MINUTES))} })}
        </p>
    }
}

#[component]
fn Panels(ch: ChannelView) -> impl IntoView {
    let c = use_t().credentials;
    let name = ch.name.clone();
    let body = match ch.provider.as_str() {
        "stripe" => {
            let several = ch.webhook_secrets.len() > 1;
            let items = ch
                .webhook_secrets
                .iter()
                .enumerate()
                .map(|(i, fp)| {
                    view! {
                        <li>
                            <span class="mono">{fp.clone()}</span> " "
                            <span class="badge">{if i == 0 { c.newest } else { c.previous }}</span> " "
                            <StepButton name=name.clone() step="retire_webhook_secret" value=fp.clone() label=c.retire enabled=several />
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="card" id="rotate-webhook">
                    <h3>{c.webhook_secrets}</h3>
                    <p class="hint">{c.webhook_overlap_hint}</p>
                    <ul class="cred-keys" id="webhook-secrets">{items}</ul>
                    <form method="post" action="/credentials/rotate" enctype="multipart/form-data" class="row">
                        <input type="hidden" name="name" value=name.clone() />
                        <input type="hidden" name="step" value="add_webhook_secret" />
                        <div class="field">
                            <label for="rot-webhook">{c.add_webhook_secret}</label>
                            <input type="password" id="rot-webhook" name="value" autocomplete="new-password" />
                        </div>
                        <div class="field"><button type="submit" class="primary" id="add-webhook-secret">{c.add_webhook_secret}</button></div>
                    </form>
                </section>
            }
            .into_any()
        }
        "wechatpay" => {
            let current = ch
                .fingerprints
                .first()
                .map(|(_, fp)| fp.clone())
                .unwrap_or_default();
            let previous = ch
                .previous_merchant_keys
                .iter()
                .map(|(serial, fp)| {
                    view! {
                        <li>
                            <span class="mono">{serial.clone()}</span> " " <span class="mono muted">{fp.clone()}</span> " "
                            <span class="badge">{c.previous}</span> " "
                            <StepButton name=name.clone() step="retire_merchant_key" value=serial.clone() label=c.retire enabled=true />
                        </li>
                    }
                })
                .collect_view();
            let certs = ch
                .certificates
                .iter()
                .map(|cert| {
                    view! {
                        <div class="row cred-cert-row">
                            <ul class="cred-certs"><Cert cert=cert.clone() /></ul>
                            <StepButton name=name.clone() step="retire_platform_certificate" value=cert.serial.clone() label=c.retire enabled=true />
                        </div>
                    }
                })
                .collect_view();
            view! {
                <section class="card" id="rotate-merchant">
                    <h3>{c.merchant_key}</h3>
                    <p class="hint">{c.merchant_overlap_hint}</p>
                    <ul class="cred-keys" id="merchant-keys">
                        <li>
                            <span class="mono">{ch.merchant_serial.clone()}</span> " " <span class="mono muted">{current}</span> " "
                            <span class="badge">{c.current}</span>
                        </li>
                        {previous}
                    </ul>
                    <form method="post" action="/credentials/rotate" enctype="multipart/form-data">
                        <input type="hidden" name="name" value=name.clone() />
                        <input type="hidden" name="step" value="rotate_merchant_key" />
                        <div class="field">
                            <label for="rot-serial">{c.new_serial}</label>
                            <input type="text" id="rot-serial" name="serial" autocomplete="off" />
                        </div>
                        <Pem name="value" label=c.new_private_key value=String::new() secret=true editing=false prefix="rot-merchant" />
                        <button type="submit" class="primary" id="rotate-merchant-key">{c.rotate_merchant_key}</button>
                    </form>
                </section>
                <section class="card" id="rotate-platform">
                    <h3>{c.platform_certificates}</h3>
                    <p class="hint">{c.platform_overlap_hint}</p>
                    {if ch.certificates.is_empty() { Some(view! { <p class="muted">{c.none_yet}</p> }) } else { None }}
                    {certs}
                    {ch.platform_certificates.then(|| view! {
                        <div class="cred-refresh" id="refresh-certs">
                            <p class="hint">{c.refresh_hint}</p>
                            {ch.last_refresh.clone().map(|r| view! { <LastRefresh r /> })}
                            <RefreshButton name=name.clone() from_edit=true />
                        </div>
                    })}
                    <form method="post" action="/credentials/rotate" enctype="multipart/form-data">
                        <input type="hidden" name="name" value=name.clone() />
                        <input type="hidden" name="step" value="add_platform_certificate" />
                        <Pem name="value" label=c.add_certificate value=String::new() secret=false editing=false prefix="rot-cert" />
                        <button type="submit" id="add-platform-cert">{c.add_certificate}</button>
                    </form>
                    <form method="post" action="/credentials/rotate" enctype="multipart/form-data">
                        <input type="hidden" name="name" value=name.clone() />
                        <input type="hidden" name="step" value="set_public_key" />
                        <div class="field">
                            <label for="rot-key-id">{c.f_public_key_id}</label>
                            <input type="text" id="rot-key-id" name="key_id" autocomplete="off" />
                        </div>
                        <Pem name="value" label=c.f_public_key value=String::new() secret=false editing=false prefix="rot-pubkey" />
                        <button type="submit" id="set-public-key">{c.set_public_key}</button>
                    </form>
                </section>
            }
            .into_any()
        }
        "alipay" if !ch.certificates.is_empty() => {
            let certs = ch
                .certificates
                .iter()
                .map(|cert| {
                    let previous = cert.label.starts_with("previous");
                    view! {
                        <div class="row cred-cert-row">
                            <ul class="cred-certs"><Cert cert=cert.clone() /></ul>
                            {previous.then(|| view! {
                                <StepButton name=name.clone() step="retire_alipay_certificate" value=cert.serial.clone() label=c.retire enabled=true />
                            })}
                        </div>
                    }
                })
                .collect_view();
            view! {
                <section class="card" id="rotate-alipay">
                    <h3>{c.alipay_certificates}</h3>
                    <p class="hint">{c.alipay_overlap_hint}</p>
                    {certs}
                    <form method="post" action="/credentials/rotate" enctype="multipart/form-data">
                        <input type="hidden" name="name" value=name.clone() />
                        <input type="hidden" name="step" value="add_alipay_certificate" />
                        <Pem name="value" label=c.f_alipay_cert value=String::new() secret=false editing=false prefix="rot-alipay" />
                        <Pem name="root" label=c.f_alipay_root_cert value=String::new() secret=false editing=false prefix="rot-alipay" />
                        <button type="submit" id="add-alipay-cert">{c.add_alipay_certificate}</button>
                    </form>
                </section>
            }
            .into_any()
        }
        _ => ().into_any(),
    };
    view! {
        <h2>{c.rotation}</h2>
        <p class="intro">{c.rotation_intro}</p>
        {body}
    }
}
