//! Background jobs: work that runs beside the request handlers, driven by rows in the store
//! so that any instance sharing the database can pick it up (and none picks it twice).
//!
//! * [`merchant_notify`]: forwarding order events to the merchant's system.

pub mod merchant_notify;
