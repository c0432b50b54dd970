//! Server functions: the orders list, an order's page, and "sync now" / close.

use super::{OrderPage, OrderQuery, OrderView};
#[cfg(feature = "ssr")]
use super::{PAGE_SIZE, cursor, server};
use crate::server_fns::error::AppError;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "search_orders")]
pub async fn search_orders(query: OrderQuery) -> Result<OrderPage, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let scope = crate::server_fns::test_mode::ssr::scope(&caller.store, &caller.user.id)
        .await
        .map_err(crate::guard::internal)?;
    // The channel filter offers the channels of the data shown (test or live).
    let channels = caller
        .store
        .channels()
        .await
        .map_err(crate::guard::internal)?
        .into_iter()
        .map(|c| c.name)
        .filter(|name| scope.shows(name))
        .collect();
    let mut page = OrderPage {
        rows: Vec::new(),
        next: None,
        channels,
        all_creators: paydesk_core::role::search_scope(caller.user.role, "").is_none(),
        problem: None,
    };
    // The search box's text first: its error says where and what, so the page shows it
    // beside the box instead of a generic "invalid filter".
    if let Err(e) = paydesk_core::order_query::parse(&query.q) {
        page.problem = Some(e);
        return Ok(page);
    }
    let mut search =
        server::to_search(&query, &caller.user, PAGE_SIZE).map_err(crate::guard::invalid)?;
    scope.narrow(&mut search);
    let orders = caller
        .store
        .search_orders(&search)
        .await
        .map_err(crate::guard::internal)?;
    page.next = (orders.len() as i64 == PAGE_SIZE)
        .then(|| orders.last().map(|o| cursor(o.created_at, &o.id)))
        .flatten();
    page.rows = orders.iter().map(server::order_row).collect();
    Ok(page)
}

#[server(prefix = "/rpc", endpoint = "order_detail")]
pub async fn order_detail(no: String) -> Result<OrderView, AppError> {
    use paydesk_core::order::OrderStatus;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let order = server::visible_order(&caller, &no).await?;
    let refunds = caller
        .store
        .refunds_of(&order.id)
        .await
        .map_err(crate::guard::internal)?;
    let timeline = server::timeline(&caller.store, &order, &refunds)
        .await
        .map_err(crate::guard::internal)?;
    Ok(OrderView {
        order: server::order_row(&order),
        qr_code: order.qr_code.clone(),
        provider_ref: order.provider_ref.clone(),
        refundable_minor: order.refundable_minor(),
        expires_at: order.expires_at,
        paid_at: order.paid_at,
        closed_at: order.closed_at,
        refunds: refunds
            .iter()
            .map(|r| server::refund_row(r, &order.out_trade_no))
            .collect(),
        timeline,
        can_refund: caller.user.role.can(Capability::Refund) && order.refundable_minor() > 0,
        can_close: caller.user.role.can(Capability::CloseOrders)
            && order.status == OrderStatus::Pending,
        refund_token: paydesk_core::payments::new_number("RF"),
    })
}

/// "Sync now": asks the provider for the order's state and records what it says.
#[server(prefix = "/rpc", endpoint = "sync_order")]
pub async fn sync_order(no: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let order = server::visible_order(&caller, &no).await?;
    match caller.payments.sync_now(&order.out_trade_no).await {
        Ok(_) => server::back_to_order(&no, "ok", "synced"),
        Err(e) => {
            tracing::info!(error = %e, out_trade_no = %no, "sync now failed");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}

/// Closes an unpaid order (at the provider first). Merchants may close their own orders.
#[server(prefix = "/rpc", endpoint = "close_order")]
pub async fn close_order(no: String) -> Result<(), AppError> {
    use paydesk_core::order::Cause;
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::CloseOrders).await?;
    let order = server::visible_order(&caller, &no).await?;
    let cause = Cause::User(caller.user.username.clone());
    match caller.payments.close(&order.out_trade_no, &cause).await {
        Ok(_) => server::back_to_order(&no, "ok", "closed"),
        Err(e) => {
            tracing::info!(error = %e, out_trade_no = %no, "close failed");
            server::back_to_order(&no, "error", e.code());
        }
    }
    Ok(())
}
