//! What the counter's screens read: the cashier's current sale (the customer display) and
//! asking the active-query job to look at an order someone is watching.

use super::orders::{ORDER_COLUMNS, order_from_row};
use super::{Order, Store, StoreError};

impl Store {
    /// The newest order `creator` made at the counter since `since` (ms): the sale the
    /// customer display shows. Orders made through the merchant API are not the counter's.
    /// Served by the `(creator, created_at, id)` index.
    pub async fn latest_counter_order(
        &self,
        creator: &str,
        since: i64,
    ) -> Result<Option<Order>, StoreError> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE creator = $1 AND created_at >= $2 \
             AND api_key_id IS NULL ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(creator)
            .bind(since)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(order_from_row).transpose()
    }

    /// Someone is watching this pending order (the till, the customer display): the
    /// active-query job asks the provider by `at` instead of on its slower schedule, so a
    /// customer's cancel in the wallet shows within seconds. Only ever earlier, never
    /// later; a row that is not pending is left alone.
    pub async fn query_by(&self, out_trade_no: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE orders SET next_query_at = $1 WHERE out_trade_no = $2 \
             AND status = 'pending' AND next_query_at IS NOT NULL AND next_query_at > $1",
        )
        .bind(at)
        .bind(out_trade_no)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
