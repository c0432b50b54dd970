//! Refuses state-changing requests that a browser sent on behalf of another site (CSRF).
//!
//! Browsers attach `Origin` to cross-site POSTs (and `Referer` in most other cases); a
//! mutating request whose Origin/Referer names a host other than ours is refused. Requests
//! with neither header come from non-browser clients (provider notifications, the merchant
//! API with its bearer keys, curl), which CSRF cannot forge, so they pass.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use url::Url;

#[derive(Clone, Debug)]
pub struct AllowedOrigin {
    /// host[:port] of PAYDESK_PUBLIC_URL.
    pub public_authority: String,
}

impl AllowedOrigin {
    pub fn new(public_url: &Url) -> AllowedOrigin {
        let host = public_url.host_str().unwrap_or_default();
        let public_authority = match public_url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        AllowedOrigin { public_authority }
    }

    /// True when the request is safe or comes from our own pages.
    pub fn permits(&self, method: &Method, headers: &HeaderMap) -> bool {
        if matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) {
            return true;
        }
        let source = headers
            .get(header::ORIGIN)
            .or_else(|| headers.get(header::REFERER))
            .and_then(|v| v.to_str().ok());
        let Some(source) = source else { return true };
        // A sandboxed or privacy-stripped page sends `Origin: null`: not provably ours.
        let Ok(url) = Url::parse(source) else {
            return false;
        };
        let Some(host) = url.host_str() else {
            return false;
        };
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        if authority == self.public_authority {
            return true;
        }
        // The page's own host is accepted only for loopback names (a local install opened
        // as localhost while PAYDESK_PUBLIC_URL says 127.0.0.1). Trusting any Host would let
        // a DNS-rebinding page (evil.example resolving to this server) pass: its Origin and
        // Host agree.
        let request_host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        Some(authority.as_str()) == request_host && is_loopback_host(host)
    }
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The policy for answers that are not Leptos pages (redirects, JSON, CSV, the sandbox
/// wallet, the API key page): nothing inline may run, nothing may frame it. Leptos pages
/// send their own, with a nonce (`paydesk_app::content_security_policy`).
const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Security headers on every answer: a CSP (unless the page set its own), no framing,
/// no MIME sniffing, no Referer to other sites, and HSTS when we are served over https.
pub async fn security_headers(State(https): State<bool>, req: Request, next: Next) -> Response {
    use axum::http::HeaderValue;
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    resp
}

pub async fn reject_cross_origin(
    State(allowed): State<AllowedOrigin>,
    req: Request,
    next: Next,
) -> Response {
    if allowed.permits(req.method(), req.headers()) {
        return next.run(req).await;
    }
    tracing::warn!(method = %req.method(), path = %req.uri().path(), "refused cross-origin request");
    // A form post from a browser gets the login page with an explanation; anything else a 403.
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        Redirect::to("/login?error=cross_origin").into_response()
    } else {
        (StatusCode::FORBIDDEN, "cross-origin request refused").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn same_origin_and_headerless_posts_pass_foreign_ones_do_not() {
        let allowed = AllowedOrigin::new(&Url::parse("https://pay.example.com").expect("url"));
        let post = Method::POST;
        assert!(allowed.permits(
            &post,
            &headers(&[(header::ORIGIN, "https://pay.example.com")])
        ));
        assert!(allowed.permits(
            &post,
            &headers(&[
                (header::HOST, "127.0.0.1:3000"),
                (header::ORIGIN, "http://127.0.0.1:3000")
            ])
        ));
        assert!(
            allowed.permits(&post, &headers(&[])),
            "non-browser clients send neither header"
        );
        assert!(!allowed.permits(&post, &headers(&[(header::ORIGIN, "https://evil.example")])));
        assert!(!allowed.permits(
            &post,
            &headers(&[(header::REFERER, "https://evil.example/x")])
        ));
        assert!(!allowed.permits(&post, &headers(&[(header::ORIGIN, "null")])));
        assert!(!allowed.permits(
            &post,
            &headers(&[
                (header::HOST, "127.0.0.1:3000"),
                (header::ORIGIN, "http://127.0.0.1:4000")
            ])
        ));
        assert!(allowed.permits(
            &Method::GET,
            &headers(&[(header::ORIGIN, "https://evil.example")])
        ));
        // DNS rebinding: Origin and Host agree, but name another host than ours.
        assert!(!allowed.permits(
            &post,
            &headers(&[
                (header::HOST, "evil.example:3000"),
                (header::ORIGIN, "http://evil.example:3000")
            ])
        ));
        assert!(allowed.permits(
            &post,
            &headers(&[
                (header::HOST, "localhost:3000"),
                (header::ORIGIN, "http://localhost:3000")
            ])
        ));
    }
}
