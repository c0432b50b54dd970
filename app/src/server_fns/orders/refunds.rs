//! Server functions: refunding an order, retrying a failed refund, the refunds list.

use super::RefundPage;
#[cfg(feature = "ssr")]
use super::{PAGE_SIZE, cursor, parse_cursor, server};
use crate::server_fns::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use paydesk_core::order::RefundStatus;

/// Refunds `amount` (a decimal in the order's currency) after the confirmation step.
/// `token` is the refund number chosen when the confirmation was shown: posting the same
/// confirmation twice (reload, double click) refunds once.
#[server(prefix = "/rpc", endpoint = "refund_order")]
pub async fn refund_order(
    no: String,
    amount: String,
    reason: String,
    token: String,
) -> Result<(), AppError> {
    use paydesk_core::money::Money;
    use paydesk_core::order::Cause;
    use paydesk_core::payments::RefundInput;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Refund).await?;
    let order = server::visible_order(&caller, &no).await?;
    let Ok(money) = Money::parse_decimal(amount.trim(), order.amount.currency()) else {
        server::back_to_order(&no, "error", "bad_amount");
        return Ok(());
    };
    if !order.status.is_refundable() {
        server::back_to_order(&no, "error", "not_paid");
        return Ok(());
    }
    if money.minor() > order.refundable_minor() {
        server::back_to_order(&no, "error", "over_refund");
        return Ok(());
    }
    let input = RefundInput {
        amount: money,
        reason: reason.trim().to_string(),
        out_refund_no: (!token.is_empty()).then_some(token),
    };
    let cause = Cause::User(caller.user.username.clone());
    match caller.payments.refund(&no, input, &cause).await {
        Ok(r) => server::back_to_order(&no, "ok", &crate::server_fns::approvals::outcome_code(&r)),
        Err(e) => {
            tracing::info!(error = %e, out_trade_no = %no, "refund refused");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}

/// Retries a failed refund as a new refund of the same amount.
#[server(prefix = "/rpc", endpoint = "retry_refund")]
pub async fn retry_refund(out_refund_no: String) -> Result<(), AppError> {
    use paydesk_core::order::Cause;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Refund).await?;
    let failed = caller
        .store
        .refund(&out_refund_no)
        .await
        .map_err(crate::guard::internal)?
        .ok_or_else(crate::guard::not_found)?;
    let order = caller
        .store
        .order_by_id(&failed.order_id)
        .await
        .map_err(crate::guard::internal)?;
    let no = order.out_trade_no;
    let cause = Cause::User(caller.user.username.clone());
    match caller.payments.retry_refund(&out_refund_no, &cause).await {
        Ok(r) => server::back_to_order(&no, "ok", &crate::server_fns::approvals::outcome_code(&r)),
        Err(e) => {
            tracing::info!(error = %e, %out_refund_no, "refund retry refused");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}

/// The refunds list, newest first; `status` empty = all. `before` is a keyset cursor.
#[server(prefix = "/rpc", endpoint = "list_refunds")]
pub async fn list_refunds(status: String, before: String) -> Result<RefundPage, AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::RefundSearch;
    let caller = crate::guard::require(Capability::Refund).await?;
    let status = match status.trim() {
        "" => None,
        s => Some(
            s.parse::<RefundStatus>()
                .map_err(|_| crate::guard::invalid(crate::server_fns::error::BadInput::Status))?,
        ),
    };
    let before = match before.trim() {
        "" => None,
        c => Some(
            parse_cursor(c)
                .ok_or_else(|| crate::guard::invalid(crate::server_fns::error::BadInput::Cursor))?,
        ),
    };
    let creator =
        paydesk_core::role::search_scope(caller.user.role, &caller.user.username).map(String::from);
    let rows = caller
        .store
        .search_refunds(&RefundSearch {
            status,
            creator,
            before,
            limit: PAGE_SIZE,
        })
        .await
        .map_err(crate::guard::internal)?;
    let next = (rows.len() as i64 == PAGE_SIZE)
        .then(|| {
            rows.last()
                .map(|r| cursor(r.refund.created_at, &r.refund.id))
        })
        .flatten();
    Ok(RefundPage {
        rows: rows
            .iter()
            .map(|r| server::refund_row(&r.refund, &r.out_trade_no))
            .collect(),
        next,
        can_retry: true,
    })
}
