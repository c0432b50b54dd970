//! paydesk core: the payments library behind the dashboard.
//!
//! Pure modules (roles, money) compile everywhere, including the browser (wasm).
//! Everything that talks to a database, hashes passwords or calls a provider sits
//! behind the `server` feature.

pub mod approval;
pub mod channel_form;
pub mod limits;
pub mod money;
pub mod order;
pub mod order_query;
pub mod payment_code;
pub mod provider_kind;
pub mod role;
pub mod test_mode;
pub mod timestamp;

#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod channel;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
#[cfg(feature = "server")]
pub mod jobs;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod payments;
#[cfg(feature = "server")]
pub mod provider;
#[cfg(feature = "server")]
pub mod sandbox;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod time;
#[cfg(feature = "server")]
pub mod twofa;
#[cfg(feature = "server")]
pub mod vault;
