//! One module per section of the dashboard; `section` is the frame they share.

pub mod checkout;
pub mod credentials;
pub mod display;
pub mod first_steps;
pub mod login;
pub mod logs;
pub mod orders;
pub mod overview;
pub mod receipt;
pub mod refunds;
pub mod refunds_awaiting;
pub mod section;
pub mod security;
pub mod sessions;
pub mod till;
pub mod users;
