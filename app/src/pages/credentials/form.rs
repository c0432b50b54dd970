//! The add/edit form of a live channel: a multipart form with a textarea to paste each key
//! and a file input to upload it instead. Secrets are never pre-filled: when editing, an
//! empty secret field keeps the stored secret.

use super::list::provider_name;
use crate::components::layout::use_t;
use crate::server_fns::credentials::{ChannelForm, load_channel_form};
use leptos::prelude::*;
use paydesk_core::channel_form::{FieldKind, FormField};

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
    // The provider's own fields, in the order its folder lists them (`gateway` first,
    // shown with its hint below).
    let specific = f
        .fields
        .iter()
        .filter(|field| field.name != "gateway")
        .map(|field| view! { <Field field=field.clone() editing /> })
        .collect_view();
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
                <input type="text" id="cf-gateway" name="gateway" value=f.value("gateway").to_string() />
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

/// One field of a provider's form, by its kind.
#[component]
fn Field(field: FormField, editing: bool) -> impl IntoView {
    let c = use_t().credentials;
    let name = field.name.clone();
    let label = c.field(&field.name);
    match field.kind {
        FieldKind::Text => view! { <Text name label value=field.value /> }.into_any(),
        FieldKind::Secret => view! { <Secret name label editing /> }.into_any(),
        FieldKind::SecretPem => {
            view! { <Pem name label value=String::new() secret=true editing /> }.into_any()
        }
        FieldKind::Pem | FieldKind::Certificates => {
            view! { <Pem name label value=field.value secret=false editing /> }.into_any()
        }
        FieldKind::Checkbox => view! {
            <div class="field cred-check">
                <label for=format!("cf-{name}")>
                    <input type="checkbox" id=format!("cf-{name}") name=name.clone() value="1" checked=field.value == "1" />
                    " " {label}
                </label>
            </div>
        }
        .into_any(),
        FieldKind::Hint => view! { <p class="hint">{c.hint(&field.name)}</p> }.into_any(),
    }
}

#[component]
fn Text(#[prop(into)] name: String, label: &'static str, value: String) -> impl IntoView {
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
fn Secret(#[prop(into)] name: String, label: &'static str, editing: bool) -> impl IntoView {
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
    #[prop(into)] name: String,
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
    let file_name = format!("{name}_file");
    view! {
        <div class="field pem">
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows="4" spellcheck="false" autocomplete="off"
                placeholder=(secret && editing).then_some(c.unchanged)>{value}</textarea>
            <label for=file_id.clone() class="hint">{c.or_upload}</label>
            <input type="file" id=file_id name=file_name accept=".pem,.crt,.cer,.key,.txt" />
        </div>
    }
}
