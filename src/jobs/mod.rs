//! Background jobs: work that runs beside the request handlers, driven by rows in the store
//! so that any instance sharing the database can pick it up (and none picks it twice).
//!
//! * [`merchant_notify`]: forwarding order events to the merchant's system.
//! * [`address_guard`]: where those events may be sent (no loopback or metadata hosts).
//! * [`cert_refresh`]: downloading WeChat Pay platform certificates every 12 hours.

pub mod address_guard;
pub mod cert_refresh;
pub mod merchant_notify;
