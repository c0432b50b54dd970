//! Server functions: the receipt of a paid order or of a succeeded refund (merchant,
//! support, admin: whoever may see the order in the dashboard).

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything a receipt prints. Times are UTC milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptView {
    /// `PAYDESK_SHOP_NAME`, if set.
    pub shop_name: Option<String>,
    pub out_trade_no: String,
    /// The provider's trade number (Alipay `trade_no`, WeChat `transaction_id`, Stripe
    /// payment intent).
    pub provider_trade_no: Option<String>,
    pub channel: String,
    pub provider: String,
    pub sandbox: bool,
    pub subject: String,
    /// The order's amount, or the refund's for a refund receipt.
    pub amount_minor: i64,
    pub currency: String,
    /// When it was paid, or when the refund was asked for.
    pub at: i64,
    /// Who took the payment (or asked for the refund); `None` for orders made through the
    /// merchant API.
    pub cashier: Option<String>,
    pub refund: Option<RefundPart>,
    /// The QR code of the order number (support scans it into the search), as SVG.
    pub qr_svg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPart {
    pub out_refund_no: String,
    pub provider_refund_id: Option<String>,
    pub reason: String,
    /// The order's amount, which the refund is part of.
    pub order_amount_minor: i64,
}

/// The receipt of order `no`, or of its refund `refund` when that is not empty. Orders
/// that are not paid and refunds that did not succeed have no receipt (`NotFound`, as for
/// orders the caller may not see).
#[server(prefix = "/rpc", endpoint = "receipt")]
pub async fn receipt(
    no: String,
    #[server(default)] refund: String,
) -> Result<ReceiptView, AppError> {
    use paydesk_core::role::{Capability, OrderPurpose, Viewer, visible_to};
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let order = caller
        .store
        .order(no.trim())
        .await
        .map_err(crate::guard::internal)?
        .filter(|o| {
            let viewer = Viewer::User {
                role: caller.user.role,
                username: &caller.user.username,
            };
            visible_to(
                viewer,
                OrderPurpose::Service,
                &o.creator,
                o.api_key_id.as_deref(),
            )
        })
        .ok_or_else(crate::guard::not_found)?;
    let paid_at = match (order.status.is_paid_like(), order.paid_at) {
        (true, Some(at)) => at,
        _ => return Err(crate::guard::not_found()),
    };
    let row = caller
        .store
        .channel(&order.channel)
        .await
        .map_err(crate::guard::internal)?;
    let (provider, sandbox) = row
        .map(|r| (r.provider, r.mode == "sandbox"))
        .unwrap_or_default();
    let shop_name = crate::guard::services()?.shop_name;
    let by_api = order.api_key_id.is_some();
    let mut view = ReceiptView {
        shop_name,
        qr_svg: super::checkout::ssr::qr_svg(&order.out_trade_no),
        out_trade_no: order.out_trade_no.clone(),
        provider_trade_no: order.provider_trade_no.clone(),
        channel: order.channel.clone(),
        provider,
        sandbox,
        subject: order.subject.clone(),
        amount_minor: order.amount.minor(),
        currency: order.amount.currency().code().to_string(),
        at: paid_at,
        cashier: (!by_api).then(|| order.creator.clone()),
        refund: None,
    };
    let refund = refund.trim();
    if refund.is_empty() {
        return Ok(view);
    }
    let found = caller
        .store
        .refunds_of(&order.id)
        .await
        .map_err(crate::guard::internal)?
        .into_iter()
        .find(|r| r.out_refund_no == refund || r.merchant_no.as_deref() == Some(refund))
        .filter(|r| r.status == paydesk_core::order::RefundStatus::Succeeded)
        .ok_or_else(crate::guard::not_found)?;
    view.refund = Some(RefundPart {
        out_refund_no: found.out_refund_no,
        provider_refund_id: found.provider_refund_id,
        reason: found.reason,
        order_amount_minor: view.amount_minor,
    });
    view.amount_minor = found.amount.minor();
    view.at = found.created_at;
    view.cashier = (!by_api).then_some(found.requested_by);
    Ok(view)
}
