//! Server functions: Notify inbox, provider calls, merchant notifications (support, admin:
//! `ReadLogs`) and the audit log (admin only: `ManageUsers`).
//! Each one starts with `crate::guard::require(Capability::…)`.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;

/// A page of rows, newest first, and where the next (older) page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub older: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxRow {
    pub id: String,
    pub provider: String,
    pub channel: String,
    pub received_at: i64,
    pub verdict: String,
    pub reason: Option<String>,
    pub event: Option<String>,
    pub out_trade_no: Option<String>,
}

/// One notification with its payload, masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxDetail {
    pub row: InboxRow,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRow {
    pub at: i64,
    pub provider: String,
    pub channel: String,
    pub operation: String,
    pub method: String,
    pub url: String,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub attempt: i64,
    pub provider_code: Option<String>,
    pub error: Option<String>,
    pub out_trade_no: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub id: String,
    pub event: String,
    pub out_trade_no: String,
    pub url: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub at: i64,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub response: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub row: NotificationRow,
    pub attempts: Vec<AttemptRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[cfg(feature = "ssr")]
fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Every list pages by keyset on (time, id), newest first; the cursor in the page's URL
/// is `<time>:<id>` of the last row shown. A malformed cursor means the first page.
#[cfg(feature = "ssr")]
fn parse_cursor(cursor: Option<String>) -> Option<(i64, String)> {
    let cursor = blank_to_none(cursor)?;
    let (at, id) = cursor.split_once(':')?;
    let at = at.parse::<i64>().ok()?;
    (!id.is_empty() && id.len() <= 64).then(|| (at, id.to_string()))
}

/// The cursor of the next (older) page: the last row's position when the page is full.
#[cfg(feature = "ssr")]
fn older_cursor<T>(rows: &[T], position: impl Fn(&T) -> (i64, String)) -> Option<String> {
    if (rows.len() as i64) < PAGE_SIZE {
        return None;
    }
    rows.last().map(|r| {
        let (at, id) = position(r);
        format!("{at}:{id}")
    })
}

#[cfg(feature = "ssr")]
fn inbox_row(e: &paydesk_core::store::InboxEntry) -> InboxRow {
    InboxRow {
        id: e.id.clone(),
        provider: e.provider.clone(),
        channel: e.channel.clone(),
        received_at: e.received_at,
        verdict: e.verdict.as_str().to_string(),
        reason: e.reason.clone(),
        event: e.event.clone(),
        out_trade_no: e.out_trade_no.clone(),
    }
}

#[server(prefix = "/rpc", endpoint = "logs_inbox")]
pub async fn list_inbox(
    provider: Option<String>,
    channel: Option<String>,
    verdict: Option<String>,
    order: Option<String>,
    before: Option<String>,
) -> Result<Page<InboxRow>, AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::{InboxFilter, Verdict};
    let caller = crate::guard::require(Capability::ReadLogs).await?;
    let verdict = blank_to_none(verdict);
    let parsed = verdict.as_deref().map(Verdict::parse);
    if parsed == Some(None) {
        return Err(crate::guard::invalid(
            crate::server_fns::error::BadInput::Filter,
        ));
    }
    let entries = caller
        .store
        .notifications(&InboxFilter {
            provider: blank_to_none(provider),
            channel: blank_to_none(channel),
            verdict: parsed.flatten(),
            out_trade_no: blank_to_none(order),
            before: parse_cursor(before),
            limit: PAGE_SIZE,
        })
        .await
        .map_err(crate::guard::internal)?;
    Ok(Page {
        rows: entries.iter().map(inbox_row).collect(),
        older: older_cursor(&entries, |e| e.cursor()),
    })
}

#[server(prefix = "/rpc", endpoint = "logs_inbox_entry")]
pub async fn inbox_entry(id: String) -> Result<InboxDetail, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ReadLogs).await?;
    let Some(e) = caller
        .store
        .notification(&id)
        .await
        .map_err(crate::guard::internal)?
    else {
        return Err(crate::guard::not_found());
    };
    let masked = e.masked_payload();
    Ok(InboxDetail {
        row: inbox_row(&e),
        headers: masked.headers,
        body: masked.body,
        truncated: masked.truncated,
    })
}

#[server(prefix = "/rpc", endpoint = "logs_calls")]
pub async fn list_calls(
    provider: Option<String>,
    channel: Option<String>,
    order: Option<String>,
    failed: bool,
    before: Option<String>,
) -> Result<Page<CallRow>, AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::CallFilter;
    let caller = crate::guard::require(Capability::ReadLogs).await?;
    let calls = caller
        .store
        .provider_calls(&CallFilter {
            provider: blank_to_none(provider),
            channel: blank_to_none(channel),
            out_trade_no: blank_to_none(order),
            before: parse_cursor(before),
            failed_only: failed,
            limit: PAGE_SIZE,
        })
        .await
        .map_err(crate::guard::internal)?;
    let older = older_cursor(&calls, |c| c.cursor());
    // URLs and errors were masked when the call was recorded (`provider::http`).
    let rows = calls
        .into_iter()
        .map(|c| CallRow {
            at: c.at,
            provider: c.provider,
            channel: c.channel,
            operation: c.operation,
            method: c.method,
            url: c.url,
            status: c.status,
            latency_ms: c.latency_ms,
            attempt: c.attempt,
            provider_code: c.provider_code,
            error: c.error,
            out_trade_no: c.out_trade_no,
        })
        .collect();
    Ok(Page { rows, older })
}

#[cfg(feature = "ssr")]
fn notification_row(n: paydesk_core::store::MerchantNotification) -> NotificationRow {
    NotificationRow {
        // The merchant's URL may carry its own token in the query.
        url: paydesk_core::provider::secret::mask_url(&n.url),
        id: n.id,
        event: n.event,
        out_trade_no: n.out_trade_no,
        status: n.status.as_str().to_string(),
        attempts: n.attempts,
        next_attempt_at: n.next_attempt_at,
        created_at: n.created_at,
        delivered_at: n.delivered_at,
        last_error: n.last_error,
    }
}

#[server(prefix = "/rpc", endpoint = "logs_notifications")]
pub async fn list_notifications(
    status: Option<String>,
    order: Option<String>,
    before: Option<String>,
) -> Result<Page<NotificationRow>, AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::MerchantNotificationFilter;
    let caller = crate::guard::require(Capability::ReadLogs).await?;
    let status = match blank_to_none(status) {
        None => None,
        Some(s) => Some(
            s.parse()
                .map_err(|_| crate::guard::invalid(crate::server_fns::error::BadInput::Filter))?,
        ),
    };
    let rows = caller
        .store
        .merchant_notifications(&MerchantNotificationFilter {
            status,
            out_trade_no: blank_to_none(order),
            before: parse_cursor(before),
            limit: PAGE_SIZE,
            ..Default::default()
        })
        .await
        .map_err(crate::guard::internal)?;
    Ok(Page {
        older: older_cursor(&rows, |n| n.cursor()),
        rows: rows.into_iter().map(notification_row).collect(),
    })
}

#[server(prefix = "/rpc", endpoint = "logs_notification")]
pub async fn notification_detail(id: String) -> Result<NotificationView, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ReadLogs).await?;
    let Some(n) = caller
        .store
        .merchant_notification(&id)
        .await
        .map_err(crate::guard::internal)?
    else {
        return Err(crate::guard::not_found());
    };
    let attempts = caller
        .store
        .merchant_notification_attempts(&id)
        .await
        .map_err(crate::guard::internal)?
        .into_iter()
        .map(|a| AttemptRow {
            at: a.at,
            status: a.status,
            latency_ms: a.latency_ms,
            error: a.error,
            response: a.response,
        })
        .collect();
    Ok(NotificationView {
        row: notification_row(n),
        attempts,
    })
}

/// Queues a merchant notification again, due now. Redirects back to the notifications tab
/// with a notice code (works as a plain form post).
#[server(prefix = "/rpc", endpoint = "logs_resend_notification")]
pub async fn resend_notification(id: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::StoreError;
    let caller = crate::guard::require(Capability::ResendNotifications).await?;
    let code = match caller.store.resend_merchant_notification(&id).await {
        Ok(()) => {
            caller
                .store
                .audit(
                    &caller.user.username,
                    "merchant_notification_resent",
                    &id,
                    "",
                )
                .await
                .map_err(crate::guard::internal)?;
            "ok=resent"
        }
        Err(StoreError::NotFound) => "error=not_found",
        Err(e) => return Err(crate::guard::internal(e)),
    };
    leptos_axum::redirect(&format!("/logs?tab=notifications&{code}"));
    Ok(())
}

/// The audit log: admins only (it shows who did what, sign-ins included). By actor,
/// action and object (`target`); `show` is `changes` (the default: without sign-ins),
/// `sign_ins` (only them) or `all`.
#[server(prefix = "/rpc", endpoint = "logs_audit")]
pub async fn list_audit(
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    show: Option<String>,
    before: Option<String>,
) -> Result<Page<AuditRow>, AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::{AuditFilter, SignIns};
    let caller = crate::guard::require(Capability::ManageUsers).await?;
    let sign_ins = match blank_to_none(show).as_deref() {
        None | Some("changes") => SignIns::Excluded,
        Some("sign_ins") => SignIns::Only,
        Some("all") => SignIns::Included,
        Some(_) => {
            return Err(crate::guard::invalid(
                crate::server_fns::error::BadInput::Filter,
            ));
        }
    };
    let entries = caller
        .store
        .audit_entries(&AuditFilter {
            actor: blank_to_none(actor),
            action: blank_to_none(action),
            target: blank_to_none(target),
            sign_ins,
            before: parse_cursor(before),
            limit: PAGE_SIZE,
        })
        .await
        .map_err(crate::guard::internal)?;
    let older = older_cursor(&entries, |e| e.cursor());
    Ok(Page {
        rows: entries
            .into_iter()
            .map(|e| AuditRow {
                at: e.at,
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail: e.detail,
            })
            .collect(),
        older,
    })
}
