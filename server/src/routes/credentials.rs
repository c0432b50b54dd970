//! POST `/credentials/…`: the changes an admin makes on the credentials page (and the
//! actions it starts: test connection, download WeChat Pay platform certificates). Plain form
//! posts (key files as `multipart/form-data`) that redirect back with `?ok=` / `?error=`
//! codes, so they work without JavaScript. Reading is done by the page's server functions.
//!
//! Secrets are read from the form, sealed into the channel row and never echoed: a failed
//! save keeps only the non-secret fields (in the session, for the next page view).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use paydesk_app::components::confirm::confirmed;
use paydesk_app::server_fns::credentials::{ChannelForm, DRAFT_KEY};
use paydesk_core::auth::AuthSession;
use paydesk_core::channel::cert_refresh::RefreshError;
use paydesk_core::channel::input::ChannelInput;
use paydesk_core::channel::{ChannelError, LiveChannel, RotateError, Rotation, valid_name};
use paydesk_core::channel_form::{FieldKind, FormField};
use paydesk_core::provider_kind::ProviderKind;
use paydesk_core::store::{StoreError, User};
use serde::Deserialize;

use crate::routes::guard::{Allowed, ManageCredentials};
use crate::startup::AppState;

/// Every route here needs `Capability::ManageCredentials` (admins).
type Admin = Allowed<ManageCredentials>;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn back(query: &str) -> Response {
    Redirect::to(&format!("/credentials?{query}")).into_response()
}

async fn audit(state: &AppState, user: &User, action: &str, target: &str, detail: &str) {
    if let Err(e) = state
        .store
        .audit(&user.username, action, target, detail)
        .await
    {
        tracing::error!(error = %e, "audit write failed");
    }
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
    #[serde(default)]
    enable: String,
    /// `yes` once the admin confirmed a disable (`paydesk_app::components::confirm`).
    #[serde(default)]
    confirm: String,
}

/// POST /credentials/toggle (`name`, `enable=1|0`, `confirm=yes`). Disabling without the
/// confirmation changes nothing: the page asks again.
pub async fn toggle(
    State(state): State<AppState>,
    Allowed { user, .. }: Admin,
    Form(form): Form<NameForm>,
) -> Response {
    let disable = form.enable != "1";
    if disable && !confirmed(Some(form.confirm.as_str())) {
        return back(&format!("confirm=disable&channel={}", enc(&form.name)));
    }
    match state.store.set_channel_disabled(&form.name, disable).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return back("error=not_found"),
        Err(e) => {
            tracing::error!(error = %e, "channel toggle failed");
            return back("error=internal");
        }
    }
    let action = if disable {
        "channel_disabled"
    } else {
        "channel_enabled"
    };
    audit(&state, &user, action, &form.name, "").await;
    back(&format!("ok={action}&channel={}", enc(&form.name)))
}

/// POST /credentials/test (`name`): the connection test; the verdict comes back in the URL.
pub async fn test(
    State(state): State<AppState>,
    Allowed { user, .. }: Admin,
    Form(form): Form<NameForm>,
) -> Response {
    match state.payments.channels().test_connection(&form.name).await {
        Ok(verdict) => {
            audit(
                &state,
                &user,
                "channel_tested",
                &form.name,
                verdict.as_str(),
            )
            .await;
            back(&format!(
                "channel={}&tested={}",
                enc(&form.name),
                verdict.as_str()
            ))
        }
        Err(ChannelError::NotFound(_)) => back("error=not_found"),
        Err(e) => {
            tracing::error!(error = %e, "connection test failed");
            back("error=internal")
        }
    }
}

#[derive(Deserialize)]
pub struct RefreshForm {
    name: String,
    /// `edit` when posted from the channel's edit page (the answer goes back there).
    #[serde(default)]
    back: String,
}

/// POST /credentials/refresh-certs (`name`, `back=edit`): downloads the WeChat Pay
/// platform certificates of a live channel now and merges them into its set (what the
/// background job does every 12 hours). The outcome comes back in the URL: counts and the
/// latest expiry, or the failure's code.
pub async fn refresh_certs(
    State(state): State<AppState>,
    Allowed { user, .. }: Admin,
    Form(form): Form<RefreshForm>,
) -> Response {
    let registry = state.payments.channels();
    let result = registry
        .refresh_platform_certificates(&form.name, &state.jobs.cert_refresh)
        .await;
    let channel = enc(&form.name);
    let target = if form.back == "edit" {
        format!("edit={channel}&channel={channel}")
    } else {
        format!("channel={channel}")
    };
    match result {
        Ok(r) => {
            let detail = format!(
                "total {}; added [{}]; expired [{}]",
                r.certificates,
                r.added.join(" "),
                r.expired.join(" ")
            );
            audit(
                &state,
                &user,
                "platform_certificates_refreshed",
                &form.name,
                &detail,
            )
            .await;
            back(&format!(
                "{target}&refreshed=ok&certs={}&added={}&expires={}",
                r.certificates,
                r.added.len(),
                r.latest_expiry.unwrap_or_default()
            ))
        }
        Err(RefreshError::NotFound(_)) => back("error=not_found"),
        Err(e) => {
            audit(
                &state,
                &user,
                "platform_certificates_refresh_failed",
                &form.name,
                e.code(),
            )
            .await;
            back(&format!("{target}&refreshed={}", e.code()))
        }
    }
}

/// The text fields of a multipart form. A file input `<field>_file` wins over the pasted
/// text of `<field>` when a file was chosen.
struct Fields(HashMap<String, String>);

impl Fields {
    /// On failure, the query string to send the browser back with.
    async fn read(mut m: Multipart) -> Result<Fields, String> {
        let mut map = HashMap::new();
        loop {
            let field = match m.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::info!(error = %e, "unreadable credentials form");
                    return Err("error=bad_form".into());
                }
            };
            let Some(name) = field.name().map(str::to_string) else {
                continue;
            };
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    tracing::info!(error = %e, "unreadable credentials form");
                    return Err("error=bad_form".into());
                }
            };
            // Key files are text (PEM); anything else cannot be a key we accept.
            let Ok(text) = String::from_utf8(bytes.to_vec()) else {
                return Err(format!("error=invalid&field={}", enc(&name)));
            };
            map.insert(name, text);
        }
        Ok(Fields(map))
    }

    fn get(&self, field: &str) -> String {
        let file = self
            .0
            .get(&format!("{field}_file"))
            .map(|s| s.trim())
            .unwrap_or("");
        if !file.is_empty() {
            return file.to_string();
        }
        self.0
            .get(field)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// The non-secret part of the form, kept in the session after a failed save. Which
    /// fields there are is the provider's (`LiveChannel::fields_of`).
    fn form(&self) -> ChannelForm {
        let provider = self.get("provider");
        let specs = ProviderKind::parse(&provider)
            .and_then(LiveChannel::fields_of)
            .unwrap_or_default();
        let gateway = FormField {
            name: "gateway".into(),
            kind: FieldKind::Text,
            value: self.get("gateway"),
        };
        ChannelForm {
            name: self.get("name"),
            fields: std::iter::once(gateway)
                .chain(specs.iter().map(|f| FormField::of(f, self.get(f.name))))
                .collect(),
            provider,
        }
    }
}

impl ChannelInput for Fields {
    fn text(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }
}

/// Back to the form with the non-secret input kept and the field named.
async fn refuse(auth: &AuthSession, form: &ChannelForm, editing: bool, field: &str) -> Response {
    if let Err(e) = auth.session.insert(DRAFT_KEY, form).await {
        tracing::error!(error = %e, "could not keep the form draft");
    }
    let target = if editing {
        format!("edit={}", enc(&form.name))
    } else {
        format!("add={}", enc(&form.provider))
    };
    back(&format!("{target}&error=invalid&field={}", enc(field)))
}

/// POST /credentials/save (multipart): adds a live channel, or with `editing=1` replaces
/// the settings of an existing one. Validated by `LiveChannel::validate` before storing.
pub async fn save(
    State(state): State<AppState>,
    Allowed { user, auth, .. }: Admin,
    m: Multipart,
) -> Response {
    let fields = match Fields::read(m).await {
        Ok(f) => f,
        Err(query) => return back(&query),
    };
    let editing = fields.get("editing") == "1";
    let form = fields.form();
    let registry = state.payments.channels();
    if !valid_name(&form.name) {
        return refuse(&auth, &form, editing, "name").await;
    }
    let existing = if editing {
        match registry.live_config(&form.name).await {
            Ok(Some(l)) => Some(l),
            Ok(None) | Err(ChannelError::NotFound(_)) => return back("error=not_found"),
            Err(e) => {
                tracing::error!(error = %e, "channel unreadable");
                return back("error=internal");
            }
        }
    } else {
        None
    };
    let Some(provider) = ProviderKind::parse(&form.provider) else {
        return refuse(&auth, &form, editing, "provider").await;
    };
    let public_url = registry.public_url().to_string();
    let live = match LiveChannel::from_input(provider, &fields, existing.as_ref(), &public_url) {
        Ok(l) => l,
        Err(p) => return refuse(&auth, &form, editing, p.field).await,
    };
    let summary = match live.validate() {
        Ok(s) => s,
        Err(p) => return refuse(&auth, &form, editing, p.field).await,
    };
    let stored = if editing {
        registry.update_live(&form.name, &live).await.map(|_| ())
    } else {
        registry.add_live(&form.name, &live).await.map(|_| ())
    };
    match stored {
        Ok(()) => {}
        Err(ChannelError::Store(StoreError::Conflict)) => {
            if let Err(e) = auth.session.insert(DRAFT_KEY, &form).await {
                tracing::error!(error = %e, "could not keep the form draft");
            }
            return back(&format!(
                "add={}&error=name_taken&field=name",
                enc(&form.provider)
            ));
        }
        Err(ChannelError::Config { .. }) => {
            return refuse(&auth, &form, editing, "name").await;
        }
        Err(e) => {
            tracing::error!(error = %e, "channel save failed");
            return back("error=internal");
        }
    }
    let action = if editing {
        "channel_updated"
    } else {
        "channel_created"
    };
    audit(&state, &user, action, &form.name, &summary.key_mode).await;
    // Saved: the draft of an earlier failed attempt is no longer wanted.
    let _ = auth.session.remove::<ChannelForm>(DRAFT_KEY).await;
    back(&format!("ok={action}&channel={}", enc(&form.name)))
}

/// The rotation step a rotate form asks for (`step` names it).
fn step_of(fields: &Fields) -> Option<Rotation> {
    let value = fields.get("value");
    Some(match fields.get("step").as_str() {
        "add_webhook_secret" => Rotation::AddWebhookSecret(value),
        "retire_webhook_secret" => Rotation::RetireWebhookSecret(value),
        "add_platform_certificate" => Rotation::AddPlatformCertificate(value),
        "retire_platform_certificate" => Rotation::RetirePlatformCertificate(value),
        "set_public_key" => Rotation::SetPublicKey {
            id: fields.get("key_id"),
            pem: value,
        },
        "rotate_merchant_key" => Rotation::RotateMerchantKey {
            serial: fields.get("serial"),
            private_key: value,
        },
        "retire_merchant_key" => Rotation::RetireMerchantKey(value),
        "add_alipay_certificate" => Rotation::AddAlipayCertificate {
            cert: value,
            root: Some(fields.get("root")),
        },
        "retire_alipay_certificate" => Rotation::RetireAlipayCertificate(value),
        _ => return None,
    })
}

/// POST /credentials/rotate (multipart: `name`, `step`, `value` or `value_file`, …).
pub async fn rotate(
    State(state): State<AppState>,
    Allowed { user, .. }: Admin,
    m: Multipart,
) -> Response {
    let fields = match Fields::read(m).await {
        Ok(f) => f,
        Err(query) => return back(&query),
    };
    let name = fields.get("name");
    let Some(step) = step_of(&fields) else {
        return back("error=bad_form");
    };
    let action = step.action();
    let edit = format!("edit={}", enc(&name));
    // Retiring asks first (the value is a serial or fingerprint, never a secret).
    if action.ends_with("_retired") && !confirmed(Some(fields.get("confirm").as_str())) {
        return back(&format!(
            "{edit}&confirm=retire&step={}&value={}",
            enc(&fields.get("step")),
            enc(&fields.get("value"))
        ));
    }
    match state.payments.channels().rotate(&name, step).await {
        Ok(detail) => {
            audit(&state, &user, action, &name, &detail).await;
            back(&format!("{edit}&ok={action}"))
        }
        Err(RotateError::Problem(p)) => {
            back(&format!("{edit}&error=invalid&field={}", enc(p.field)))
        }
        Err(RotateError::Channel(ChannelError::NotFound(_))) => back("error=not_found"),
        Err(e) => {
            tracing::error!(error = %e, "rotation failed");
            back(&format!("{edit}&error=internal"))
        }
    }
}
