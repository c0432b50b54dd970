//! Order search, order detail with its timeline, refunds.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct OrdersText {
    pub title: &'static str,
}

pub static EN: OrdersText = OrdersText { title: "Orders" };

pub static ZH: OrdersText = OrdersText { title: "订单" };
