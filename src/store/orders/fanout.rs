//! Merchant fan-out: the event a change reports to the merchant's system, queued in the
//! change's own transaction.

use super::model::{ORDER_COLUMNS, order_from_row};
use super::refunds::refund_in;
use crate::store::StoreError;
use sqlx::{Any, Transaction};

/// Queues the event for the merchant system, in the transaction of the change it reports,
/// when the order asked for it (merchant API orders with a `notify_url`): the event exists
/// iff the change commits.
pub(in crate::store) async fn notify_merchant(
    tx: &mut Transaction<'static, Any>,
    order_id: &str,
    kind: &str,
    out_refund_no: Option<&str>,
) -> Result<(), StoreError> {
    use crate::jobs::merchant_notify as mn;
    let event = match kind {
        "paid" => mn::EVENT_ORDER_PAID,
        "closed" => mn::EVENT_ORDER_CLOSED,
        "refund_succeeded" => mn::EVENT_REFUND_SUCCEEDED,
        "refund_failed" => mn::EVENT_REFUND_FAILED,
        _ => return Ok(()),
    };
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await?;
    let order = order_from_row(&row)?;
    let (Some(url), Some(key)) = (&order.merchant_notify_url, &order.api_key_id) else {
        return Ok(());
    };
    let refund = match out_refund_no {
        Some(no) => refund_in(tx, no).await?,
        None => None,
    };
    let body = mn::event_body(event, &order, refund.as_ref());
    crate::store::enqueue_merchant_notification(
        tx,
        crate::store::NewMerchantNotification {
            order_id,
            out_trade_no: &order.out_trade_no,
            api_key_id: key,
            url,
            event,
            body: &body,
        },
    )
    .await?;
    Ok(())
}
