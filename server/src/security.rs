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
        let request_host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        authority == self.public_authority || Some(authority.as_str()) == request_host
    }
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
    }
}
