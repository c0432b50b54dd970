//! The add/edit form of a live channel: a multipart form with a textarea to paste each key
//! and a file input to upload it instead. Secrets are never pre-filled: when editing, an
//! empty secret field keeps the stored secret.

use super::list::provider_name;
use crate::components::layout::use_t;
use crate::server_fns::credentials::{ChannelForm, load_channel_form};
use leptos::prelude::*;

#[component]
pub fn ChannelFormView(provider: String, name: String) -> impl IntoView {
    let t = use_t();
    // `?edit=<name>` edits a stored channel; `?add=<provider>` (no name) creates one.
    let editing = !name.is_empty();
    let form = Resource::new(
        move || (provider.clone(), name.clone()),
        |(p, n)| load_channel_form(p, n),
    );
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                    Ok(f) => view! { <Fields f editing /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Fields(f: ChannelForm, editing: bool) -> impl IntoView {
    let t = use_t();
    let c = t.credentials;
    let pname = provider_name(t, &f.provider);
    let title = if editing {
        (c.edit_title)(&f.name)
    } else {
        (c.add_title)(pname)
    };
    let specific = match f.provider.as_str() {
        "alipay" => view! {
            <Text name="app_id" label=c.f_app_id value=f.app_id.clone() />
            <Pem name="app_private_key" label=c.f_app_private_key value=String::new() secret=true editing />
            <p class="hint">{c.alipay_mode_hint}</p>
            <Pem name="alipay_public_key" label=c.f_alipay_public_key value=f.alipay_public_key.clone() secret=false editing />
            <Pem name="app_cert" label=c.f_app_cert value=f.app_cert.clone() secret=false editing />
            <Pem name="alipay_cert" label=c.f_alipay_cert value=f.alipay_cert.clone() secret=false editing />
            <Pem name="alipay_root_cert" label=c.f_alipay_root_cert value=f.alipay_root_cert.clone() secret=false editing />
        }
        .into_any(),
        "wechatpay" => view! {
            <Text name="mchid" label=c.f_mchid value=f.mchid.clone() />
            <Text name="appid" label=c.f_appid value=f.appid.clone() />
            <Text name="merchant_serial" label=c.f_merchant_serial value=f.merchant_serial.clone() />
            <Pem name="merchant_private_key" label=c.f_merchant_private_key value=String::new() secret=true editing />
            <Secret name="apiv3_key" label=c.f_apiv3_key editing />
            <p class="hint">{c.wechat_mode_hint}</p>
            <Text name="public_key_id" label=c.f_public_key_id value=f.public_key_id.clone() />
            <Pem name="public_key" label=c.f_public_key value=f.public_key.clone() secret=false editing />
            <Pem name="platform_certificates" label=c.f_platform_certificates value=f.platform_certificates.clone() secret=false editing />
            <div class="field cred-check">
                <label for="cf-download_certificates">
                    <input type="checkbox" id="cf-download_certificates" name="download_certificates" value="1" checked=f.download_certificates />
                    " " {c.f_download_certificates}
                </label>
            </div>
        }
        .into_any(),
        _ => view! {
            <Secret name="secret_key" label=c.f_secret_key editing />
            <Secret name="webhook_secret" label=c.f_webhook_secret editing />
            <Text name="success_url" label=c.f_success_url value=f.success_url.clone() />
        }
        .into_any(),
    };
    view! {
        <form method="post" action="/credentials/save" enctype="multipart/form-data" class="card cred-form" id="channel-form">
            <h2>{title}</h2>
            <p class="hint">{c.secret_hint}</p>
            <input type="hidden" name="provider" value=f.provider.clone() />
            {if editing {
                view! {
                    <input type="hidden" name="editing" value="1" />
                    <input type="hidden" name="name" value=f.name.clone() />
                }
                .into_any()
            } else {
                view! {
                    <div class="field">
                        <label for="cf-name">{c.f_name}</label>
                        <input type="text" id="cf-name" name="name" value=f.name.clone() required autocomplete="off" />
                        <span class="hint">{c.name_hint}</span>
                    </div>
                }
                .into_any()
            }}
            <div class="field">
                <label for="cf-gateway">{c.f_gateway}</label>
                <input type="text" id="cf-gateway" name="gateway" value=f.gateway.clone() />
                <span class="hint">{c.gateway_hint}</span>
            </div>
            {specific}
            <div class="actions">
                <button type="submit" class="primary" id="save-channel">{c.save}</button>
                <a class="button" href="/credentials">{c.back_to_list}</a>
            </div>
        </form>
    }
}

#[component]
fn Text(name: &'static str, label: &'static str, value: String) -> impl IntoView {
    let id = format!("cf-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input type="text" id=id name=name value=value autocomplete="off" />
        </div>
    }
}

/// A single-line secret (API keys): never pre-filled.
#[component]
fn Secret(name: &'static str, label: &'static str, editing: bool) -> impl IntoView {
    let c = use_t().credentials;
    let id = format!("cf-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input type="password" id=id name=name autocomplete="new-password"
                placeholder=editing.then_some(c.unchanged) />
        </div>
    }
}

/// A PEM key or certificate: paste it, or upload the file (`<name>_file` wins when chosen).
#[component]
pub fn Pem(
    name: &'static str,
    label: &'static str,
    value: String,
    secret: bool,
    editing: bool,
    /// Makes the element ids unique when several forms on a page share a field name.
    #[prop(default = "cf")]
    prefix: &'static str,
) -> impl IntoView {
    let c = use_t().credentials;
    let id = format!("{prefix}-{name}");
    let file_id = format!("{prefix}-{name}-file");
    view! {
        <div class="field pem">
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows="4" spellcheck="false" autocomplete="off"
                placeholder=(secret && editing).then_some(c.unchanged)>{value}</textarea>
            <label for=file_id.clone() class="hint">{c.or_upload}</label>
            <input type="file" id=file_id name=format!("{name}_file") accept=".pem,.crt,.cer,.key,.txt" />
        </div>
    }
}
