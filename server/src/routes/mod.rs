//! Plain HTTP routes next to the Leptos pages: health probes, sign-in/out, language and
//! theme.

pub mod credentials;
pub mod display;
pub mod export;
pub mod guard;
pub mod health;
pub mod login;
pub mod notify;
pub mod preferences;
pub mod qr;
pub mod server_fns;
pub mod test_mode;
pub mod twofa;

use crate::rate_limit::{Limiter, too_many_requests};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// The TCP peer's address (never a forwarded header); None without a socket (router tests).
pub fn peer_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The sandbox wallet pages (what a stranger can load and post to) are rate-limited per
/// address; the sandbox gateway APIs that paydesk itself calls are not.
pub async fn limit_wallet(State(limiter): State<Limiter>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/sandbox/pay/") && !limiter.allow(peer_ip(req.extensions())) {
        return too_many_requests();
    }
    next.run(req).await
}

/// Where to send the browser after a form post: only local paths, never another host.
/// `//evil.example` and `/\evil.example` are protocol-relative in browsers, and browsers
/// drop tabs and newlines from URLs, so `/<TAB>/evil.example` is `//evil.example` too: a
/// target with any control character, space or backslash is refused whole (a newline
/// would also make an invalid `Location` header).
pub fn safe_next(next: &str) -> &str {
    let clean = !next
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    let local = clean && next.starts_with('/') && !next.starts_with("//");
    if local && !next.starts_with("/login") {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/orders?status=paid"), "/orders?status=paid");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/login"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn control_characters_and_spaces_are_refused() {
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/orders\r\nSet-Cookie: x=1",
            "/\u{0}x",
            "/\u{3000}/evil.example",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}
