//! Server functions: refunds waiting for approval, and approving or rejecting one.
//! The rules (never one's own refund, one decision) live in the core and the store
//! (`paydesk_core::approval`, `Store::decide_refund`); these only check the role with
//! `crate::guard::require` and redirect back with `?ok=` / `?error=` (plain forms work
//! without JavaScript).

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A refund waiting for approval, as the refunds list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitingRow {
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reason: String,
    pub requested_by: String,
    pub created_at: i64,
    /// The caller asked for it (so they cannot decide it).
    pub own: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitingPage {
    pub rows: Vec<AwaitingRow>,
    /// Whether the caller's role may approve refunds.
    pub can_decide: bool,
}

/// Refunds waiting for approval, oldest first.
#[server(prefix = "/rpc", endpoint = "awaiting_refunds")]
pub async fn awaiting_refunds() -> Result<AwaitingPage, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Refund).await?;
    let me = format!("user:{}", caller.user.username);
    let rows = caller
        .store
        .awaiting_refunds(200)
        .await
        .map_err(crate::guard::internal)?;
    Ok(AwaitingPage {
        can_decide: caller.user.role.can(Capability::ApproveRefunds),
        rows: rows
            .into_iter()
            .map(|l| AwaitingRow {
                own: l.refund.requested_by == me,
                out_refund_no: l.refund.out_refund_no,
                out_trade_no: l.out_trade_no,
                amount_minor: l.refund.amount.minor(),
                currency: l.refund.amount.currency().code().to_string(),
                reason: l.refund.reason,
                requested_by: l.refund.requested_by,
                created_at: l.refund.created_at,
            })
            .collect(),
    })
}

/// Approves (`decision = "approve"`) or rejects (`"reject"`, `reason` required) a refund
/// waiting for approval.
#[server(prefix = "/rpc", endpoint = "decide_refund")]
pub async fn decide_refund(
    out_refund_no: String,
    decision: String,
    reason: String,
) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ApproveRefunds).await?;
    let approve = decision == "approve";
    let back = |kind: &str, code: &str| {
        leptos_axum::redirect(&format!("/refunds?status=awaiting&{kind}={code}"));
    };
    match caller
        .payments
        .decide_refund(out_refund_no.trim(), &caller.user, approve, &reason)
        .await
    {
        Ok(_) => back("ok", if approve { "approved" } else { "rejected" }),
        Err(e) => {
            tracing::info!(error = %e, %out_refund_no, user = %caller.user.username, "refund decision refused");
            back("error", e.code());
        }
    }
    Ok(())
}

/// The `?ok=` code for the order page after a refund request.
#[cfg(feature = "ssr")]
pub fn outcome_code(r: &paydesk_core::store::Refund) -> String {
    use paydesk_core::approval::ApprovalState;
    match &r.approval {
        Some(a) if a.state == ApprovalState::Awaiting => "refund_awaiting".into(),
        _ => format!("refund_{}", r.status.as_str()),
    }
}
