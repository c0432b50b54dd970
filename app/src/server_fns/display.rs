//! Server functions: the customer display, a second screen turned to the customer that
//! follows the cashier's current sale (merchant, admin). It shows the amount, the QR code
//! and the outcome, nothing else: no order numbers of other sales, no staff names.
//!
//! The page renders [`display_state`]; with JavaScript it then follows
//! `GET /display/events` (server-sent events, `server/src/routes/display.rs`), which
//! sends a new [`DisplayView`] whenever the sale changes. Without JavaScript the page
//! reloads itself every second.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use paydesk_core::order::{OrderStatus, PayMethod};
use serde::{Deserialize, Serialize};

/// A sale older than this is no longer shown (the display greets the next customer).
pub const SALE_SHOWN_MS: i64 = 10 * 60 * 1000;
/// A finished sale ("Paid", "Cancelled") stays on the display this long.
pub const OUTCOME_SHOWN_MS: i64 = 60 * 1000;

/// What the display shows: the current sale, or nothing (a welcome).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayView {
    pub sale: Option<DisplaySale>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplaySale {
    /// Which sale this is, so the page knows a new one began (never shown).
    pub key: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: OrderStatus,
    pub pay_method: PayMethod,
    /// `alipay`, `wechatpay`, …: the wallet to scan with.
    pub provider: String,
    /// The QR code to scan, as SVG, while a QR sale is pending.
    pub qr_svg: Option<String>,
}

/// The cashier's current sale, for the display's first render.
#[server(prefix = "/rpc", endpoint = "display_state")]
pub async fn display_state() -> Result<DisplayView, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    ssr::current(
        &caller.store,
        &caller.user.username,
        paydesk_core::time::now_ms(),
    )
    .await
    .map_err(crate::guard::internal)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use paydesk_core::store::{Order, Store, StoreError};

    /// What the display of `cashier` shows at `now`: their newest counter sale, while it
    /// is pending or finished less than [`OUTCOME_SHOWN_MS`] ago. A pending sale someone
    /// is watching is queried sooner (`Store::query_by`), so a customer's cancel shows.
    pub async fn current(
        store: &Store,
        cashier: &str,
        now: i64,
    ) -> Result<DisplayView, StoreError> {
        let Some(order) = store
            .latest_counter_order(cashier, now - SALE_SHOWN_MS)
            .await?
        else {
            return Ok(DisplayView::default());
        };
        watch(store, &order, now).await?;
        let provider = store
            .channel(&order.channel)
            .await?
            .map(|r| r.provider)
            .unwrap_or_default();
        Ok(view_of(&order, provider, now))
    }

    /// Someone is looking at this pending order: have it queried within
    /// `WATCHED_QUERY_MS` (a write only when its next query is later than that).
    pub async fn watch(store: &Store, order: &Order, now: i64) -> Result<(), StoreError> {
        let soon = now + paydesk_core::payments::WATCHED_QUERY_MS;
        if order.status == OrderStatus::Pending && order.next_query_at.is_some_and(|at| at > soon) {
            store.query_by(&order.out_trade_no, soon).await?;
        }
        Ok(())
    }

    /// The display's view of one order (pure: the SSE stream compares these).
    pub fn view_of(order: &Order, provider: String, now: i64) -> DisplayView {
        let finished_at = order
            .paid_at
            .or(order.closed_at)
            .unwrap_or(order.updated_at);
        if order.status != OrderStatus::Pending && now - finished_at > OUTCOME_SHOWN_MS {
            return DisplayView::default();
        }
        let qr_svg = match (order.status, order.pay_method) {
            (OrderStatus::Pending, PayMethod::Qr) => order
                .qr_code
                .as_deref()
                .and_then(crate::server_fns::checkout::ssr::qr_svg),
            _ => None,
        };
        DisplayView {
            sale: Some(DisplaySale {
                key: order.id.clone(),
                amount_minor: order.amount.minor(),
                currency: order.amount.currency().code().to_string(),
                status: order.status,
                pay_method: order.pay_method,
                provider,
                qr_svg,
            }),
        }
    }
}
