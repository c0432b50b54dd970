//! Orders and refunds. Every change is one compare-and-set `UPDATE … WHERE <expected
//! state>` inside a transaction with its timeline event: whoever loses a race changes
//! nothing and is told what the order looks like now. No "read, check, then write".
//!
//! One concern per module:
//!
//! - `model`: the rows (`Order`, `Refund`, `OrderEvent`), the results of asking for a
//!   change (`Transition`, `RefundRequest`), and reading rows.
//! - `transitions`: creating orders; pending → paid and pending → closed one at a time.
//! - `paid_batch`: pending → paid for many orders in one statement (the notification
//!   writer's batches).
//! - `refunds`: reserving and settling refunds.
//! - `timeline`: the order's timeline events, one or many per statement.
//! - `fanout`: queuing the merchant system's notification of a change.

mod fanout;
mod model;
mod paid_batch;
mod refunds;
mod timeline;
mod transitions;

pub use model::{NewOrder, Order, OrderEvent, Refund, RefundRequest, Transition};

pub(super) use fanout::notify_merchant;
pub(super) use model::{
    ORDER_COLUMNS, REFUND_COLUMNS, cause_text, order_from_row, refund_from_row,
};
pub(super) use paid_batch::{PaidClaim, paid_many, paid_returning};
pub(super) use refunds::{refund_in, settle_refund_in};
pub(super) use timeline::{EventRow, insert_events, record_event};
pub(super) use transitions::{closed_in, order_in};
