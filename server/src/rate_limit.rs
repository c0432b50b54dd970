//! Per-address rate limits for what strangers can reach without signing in: the sign-in
//! form, the sandbox wallet pages, failed merchant-API authentication and notifications
//! that fail verification. A limited request gets 429 and nothing is stored or logged for
//! it beyond one debug line.
//!
//! Why these and not more: signed-in pages and the merchant API with a valid key are
//! already bounded by who may use them; verified provider notifications are never limited
//! (providers send bursts from a few addresses during a sale, and refusing one would delay
//! a payment) — only what fails verification counts against the sender.
//!
//! The address is the TCP peer (`ConnectInfo`), never `X-Forwarded-For`, which anyone can
//! send. Behind a reverse proxy every request shares the proxy's address, so raise the
//! limits there (or limit at the proxy).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Requests per minute per address; 0 turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitSettings {
    /// Sign-in form posts (`POST /auth/login`).
    pub login_per_minute: u32,
    /// Sandbox wallet pages and their pay/cancel posts (`/sandbox/wallet/…`).
    pub wallet_per_minute: u32,
    /// Merchant API requests whose key was missing or wrong.
    pub api_auth_failures_per_minute: u32,
    /// Provider notifications that failed verification (stored for diagnosis until then).
    pub notify_rejected_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            login_per_minute: 30,
            wallet_per_minute: 3000,
            api_auth_failures_per_minute: 30,
            notify_rejected_per_minute: 30,
        }
    }
}

/// One keyed limiter; `None` when switched off.
#[derive(Clone, Default)]
pub struct Limiter(Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>);

/// Addresses remembered before old ones are forgotten (bounds memory under a scan).
const REMEMBERED: usize = 50_000;

impl Limiter {
    pub fn per_minute(n: u32) -> Limiter {
        Limiter(
            NonZeroU32::new(n)
                .map(|n| Arc::new(governor::RateLimiter::keyed(Quota::per_minute(n)))),
        )
    }

    /// Takes one request's worth for `ip`; false when the address is over its limit.
    /// Unknown addresses (router tests without a socket) are never limited.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        let (Some(limiter), Some(ip)) = (&self.0, ip) else {
            return true;
        };
        if limiter.len() > REMEMBERED {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).is_ok()
    }
}

/// The limiters, built once from the settings and shared by the routes.
#[derive(Clone, Default)]
pub struct RateLimits {
    pub login: Limiter,
    pub wallet: Limiter,
    pub api_auth_failures: Limiter,
    pub notify_rejected: Limiter,
}

impl RateLimits {
    pub fn new(s: &RateLimitSettings) -> RateLimits {
        RateLimits {
            login: Limiter::per_minute(s.login_per_minute),
            wallet: Limiter::per_minute(s.wallet_per_minute),
            api_auth_failures: Limiter::per_minute(s.api_auth_failures_per_minute),
            notify_rejected: Limiter::per_minute(s.notify_rejected_per_minute),
        }
    }
}

/// The 429 answer, in both languages (the caller may not have a language cookie).
pub fn too_many_requests() -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests from your address. Wait a minute, then try again.\n\
         来自您地址的请求过多，请等待一分钟后再试。\n",
    )
        .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_allowance_and_zero_means_off() {
        let l = Limiter::per_minute(2);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(l.allow(a) && l.allow(a));
        assert!(!l.allow(a), "third within the minute");
        assert!(l.allow(b), "another address is not affected");
        assert!(l.allow(None), "unknown address");
        let off = Limiter::per_minute(0);
        assert!((0..100).all(|_| off.allow(a)));
    }
}
