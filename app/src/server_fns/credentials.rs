//! Server functions: channels and their keys (admin only). Reading only: every change is a
//! plain form post to `/credentials/…` (server/src/routes/credentials.rs), because key
//! files are uploaded as `multipart/form-data`, which must work without JavaScript.
//!
//! Nothing here ever carries a secret: fingerprints, serials and expiry dates only.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Days before a certificate's expiry when the list starts warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// A certificate as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertView {
    pub label: String,
    pub serial: String,
    /// Unix seconds.
    pub not_after: i64,
    /// `ok`, `soon` (< 30 days) or `expired`, decided on the server so the page renders the
    /// same before and after hydration.
    pub expiry: String,
}

/// One channel row of the list. `problem` is set when a live channel cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub name: String,
    pub provider: String,
    pub mode: String,
    pub disabled: bool,
    pub key_mode: String,
    pub account: String,
    pub fingerprints: Vec<(String, String)>,
    pub certificates: Vec<CertView>,
    pub problem: Option<String>,
    pub notify_url: String,
    /// Stripe: fingerprints of the accepted webhook secrets, newest first.
    pub webhook_secrets: Vec<String>,
    /// WeChat Pay: `(serial, fingerprint)` of merchant keys replaced by a rotation.
    pub previous_merchant_keys: Vec<(String, String)>,
    /// WeChat Pay: the current merchant key's serial.
    pub merchant_serial: String,
    /// WeChat Pay in platform-certificate mode (certificates listed, or downloading them):
    /// the page offers "Refresh certificates now".
    pub platform_certificates: bool,
    /// WeChat Pay: the last certificate download (background or by hand), if any.
    pub last_refresh: Option<RefreshView>,
    /// The limit per order in the channel's first currency (CNY), for the list; all of
    /// them are on `?limits=<name>`.
    pub limit: Option<paydesk_core::limits::AmountLimit>,
    /// A live channel whose last connection check (or refused checkout) failed: the
    /// verdict (`ConnectionCheck::as_str`).
    #[serde(default)]
    pub failing: Option<String>,
}

/// The last platform certificate download of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshView {
    /// When it was attempted (ms).
    pub at: i64,
    /// `ok` or a failure code (`bad_apiv3_key`, `unreachable`, …).
    pub outcome: String,
    /// When the background job downloads next (ms), for channels that download.
    pub next_at: Option<i64>,
}

/// The non-secret fields of the add/edit form. Also what survives a failed save (kept in
/// the session for one page view), so the admin does not retype them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelForm {
    pub provider: String,
    pub name: String,
    /// The provider's fields in order (`gateway` first), as its folder declares them
    /// (`src/provider/<name>/live.rs`); secrets always empty.
    pub fields: Vec<paydesk_core::channel_form::FormField>,
}

impl ChannelForm {
    /// The value of a field (empty when the form has no such field).
    pub fn value(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
            .unwrap_or("")
    }
}

/// Session key of the form kept after a failed save.
pub const DRAFT_KEY: &str = "credentials_draft";

#[server(prefix = "/rpc", endpoint = "list_channels")]
pub async fn list_channels() -> Result<Vec<ChannelView>, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageCredentials).await?;
    let registry = caller.payments.channels().clone();
    let rows = caller
        .store
        .channels()
        .await
        .map_err(crate::guard::internal)?;
    let now = paydesk_core::time::now_ms() / 1000;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(ssr::view(&registry, row, now).await);
    }
    Ok(out)
}

/// The edit form of a live channel, pre-filled with its non-secret settings (or with the
/// draft of a failed save). `name` empty: a new channel of `provider`.
#[server(prefix = "/rpc", endpoint = "load_channel_form")]
pub async fn load_channel_form(provider: String, name: String) -> Result<ChannelForm, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ManageCredentials).await?;
    let auth = crate::guard::auth_session().await?;
    // Read, not taken: the page may render the form more than once per request (a
    // taken draft then shows only the first time). A successful save clears it; the next
    // failed one replaces it.
    let draft: Option<ChannelForm> = auth.session.get(DRAFT_KEY).await.unwrap_or_default();
    // The draft of a failed save of this same form wins over the stored settings.
    let same_form = |d: &ChannelForm| {
        if name.is_empty() {
            d.provider == provider
        } else {
            d.name == name
        }
    };
    if let Some(d) = draft.filter(same_form) {
        return Ok(d);
    }
    if name.is_empty() {
        return ssr::blank(&provider, caller.payments.channels().public_url())
            .ok_or_else(crate::guard::not_found);
    }
    match caller.payments.channels().live_config(&name).await {
        Ok(Some(live)) => Ok(ssr::form_of(&name, &live)),
        Ok(None) => Err(crate::guard::not_found()),
        Err(paydesk_core::channel::ChannelError::NotFound(_)) => Err(crate::guard::not_found()),
        Err(e) => Err(crate::guard::internal(e)),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{CertView, ChannelForm, ChannelView, EXPIRY_WARNING_DAYS, RefreshView};
    use paydesk_core::channel::{ChannelRegistry, LiveChannel, config::secret_fingerprint};
    use paydesk_core::store::ChannelRow;

    fn expiry(not_after: i64, now: i64) -> &'static str {
        if not_after <= now {
            "expired"
        } else if not_after - now < EXPIRY_WARNING_DAYS * 86_400 {
            "soon"
        } else {
            "ok"
        }
    }

    pub async fn view(registry: &ChannelRegistry, row: ChannelRow, now: i64) -> ChannelView {
        let mut v = bare_view(registry, &row);
        match crate::server_fns::checkout::ssr::channel_limits(registry.store(), &row).await {
            Ok(limits) => v.limit = limits.first().copied(),
            Err(_) => tracing::error!(channel = %row.name, "amount limits unreadable"),
        }
        let live = match registry.live_config(&row.name).await {
            Ok(Some(live)) => live,
            Ok(None) => return v,
            Err(e) => {
                tracing::error!(channel = %row.name, error = %e, "channel unreadable");
                v.problem = Some("unreadable".into());
                return v;
            }
        };
        summarise(&mut v, &live, now);
        match &live {
            LiveChannel::Stripe(_, k) => {
                v.webhook_secrets = k.webhook_secrets().map(secret_fingerprint).collect();
            }
            LiveChannel::Wechatpay(s, _) => {
                v.merchant_serial = s.merchant_serial.clone();
                v.previous_merchant_keys = s
                    .previous_merchant_keys
                    .iter()
                    .map(|p| (p.serial.clone(), p.fingerprint.clone()))
                    .collect();
                v.platform_certificates =
                    !s.platform_certificates.is_empty() || s.download_certificates;
                v.last_refresh = last_refresh(registry, &row, s.download_certificates).await;
            }
            LiveChannel::Alipay(..) => {}
        }
        v
    }

    /// The row's own facts; the rest is filled from its live configuration.
    fn bare_view(registry: &ChannelRegistry, row: &ChannelRow) -> ChannelView {
        let kind = paydesk_core::channel::parse_provider(&row.provider);
        ChannelView {
            notify_url: kind
                .map(|k| registry.notify_url(k, &row.name))
                .unwrap_or_default(),
            name: row.name.clone(),
            provider: row.provider.clone(),
            mode: row.mode.clone(),
            disabled: row.disabled_at.is_some(),
            key_mode: String::new(),
            account: String::new(),
            fingerprints: Vec::new(),
            certificates: Vec::new(),
            problem: None,
            webhook_secrets: Vec::new(),
            previous_merchant_keys: Vec::new(),
            merchant_serial: String::new(),
            platform_certificates: false,
            last_refresh: None,
            limit: None,
            failing: row.failing().then(|| row.last_check.clone()).flatten(),
        }
    }

    /// Key mode, account, fingerprints and certificates, or the field that is wrong.
    fn summarise(v: &mut ChannelView, live: &LiveChannel, now: i64) {
        match live.validate() {
            Ok(s) => {
                v.key_mode = s.key_mode;
                v.account = s.account;
                v.fingerprints = s.fingerprints;
                v.certificates = s
                    .certificates
                    .into_iter()
                    .map(|(label, serial, not_after)| CertView {
                        expiry: expiry(not_after, now).to_string(),
                        label,
                        serial,
                        not_after,
                    })
                    .collect();
            }
            Err(p) => v.problem = Some(p.field.to_string()),
        }
    }

    /// The channel's last platform certificate download (WeChat Pay), if any.
    async fn last_refresh(
        registry: &ChannelRegistry,
        row: &ChannelRow,
        downloads: bool,
    ) -> Option<RefreshView> {
        match registry.store().cert_refresh_state(&row.id).await {
            Ok(state) => state.and_then(|st| {
                Some(RefreshView {
                    at: st.attempted_at?,
                    outcome: st.outcome?,
                    next_at: downloads.then_some(st.next_at),
                })
            }),
            Err(e) => {
                tracing::error!(channel = %row.name, error = %e, "certificate download state unreadable");
                None
            }
        }
    }

    /// Defaults for a new channel: the production gateway (the admin may point it at the
    /// built-in sandbox instead). `None`: no such provider, or none with live channels.
    pub fn blank(provider: &str, public_url: &str) -> Option<ChannelForm> {
        let kind = paydesk_core::provider_kind::ProviderKind::parse(provider)?;
        Some(ChannelForm {
            provider: provider.to_string(),
            name: String::new(),
            fields: LiveChannel::blank_form(kind, public_url)?,
        })
    }

    pub fn form_of(name: &str, live: &LiveChannel) -> ChannelForm {
        ChannelForm {
            provider: live.provider().as_str().to_string(),
            name: name.to_string(),
            fields: live.form(),
        }
    }
}
