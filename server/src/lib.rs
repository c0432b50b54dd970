//! The `paydesk` binary's library half: configuration, CLI, the HTTP router and start-up.
//! `main.rs` only parses the command line and calls in here, so tests drive the same code.

pub mod backup_cli;
pub mod channel_cli;
pub mod channel_limit_cli;
pub mod cli;
pub mod config;
pub mod jobs;
pub mod merchant_api;
pub mod metrics;
pub mod rate_limit;
pub mod routes;
pub mod sandbox;
pub mod security;
pub mod security_cli;
pub mod sessions;
pub mod site;
pub mod startup;
pub mod telemetry;
