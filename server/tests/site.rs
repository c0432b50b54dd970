//! The front end on the wire (`oneshot`, no socket), on a site laid out the way
//! `scripts/site/assemble.mjs` writes it: pages name the content-hashed files, the bundle
//! is sent precompressed when accepted and cached for a year, dynamic answers are
//! compressed when accepted and never stored.

mod support;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use std::path::Path;
use support::oneshot::RouterApp;
use tower::ServiceExt;

const JS: &str = "paydesk.JSHASH0123456789.js";
const WASM: &str = "paydesk.WASMHASH01234567.wasm";
const CSS: &str = "paydesk.CSSHASH012345678.css";

/// A site with a hash file, each bundle file beside a `.br` and a `.gz` copy whose
/// contents say which copy was sent.
fn write_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    std::fs::write(
        root.join("hash.txt"),
        "js: JSHASH0123456789\nwasm: WASMHASH01234567\ncss: CSSHASH012345678\n",
    )
    .expect("hash.txt");
    for name in [JS, WASM, CSS] {
        std::fs::write(pkg.join(name), format!("raw {name}")).expect("file");
        std::fs::write(pkg.join(format!("{name}.br")), format!("br {name}")).expect("br");
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gz {name}")).expect("gz");
    }
    std::fs::write(root.join("favicon.svg"), "<svg/>").expect("icon");
}

async fn app_with_site() -> (RouterApp, tempfile::TempDir) {
    let site = tempfile::tempdir().expect("site");
    write_site(site.path());
    let root = site.path().to_path_buf();
    (RouterApp::with_settings(|s| s.site_root = root).await, site)
}

async fn get(
    app: &RouterApp,
    path: &str,
    accept: Option<&str>,
    cookie: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn value_of(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn pages_name_the_hashed_bundle() {
    let (app, _site) = app_with_site().await;
    let (status, _, body) = get(&app, "/login", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8_lossy(&body);
    for name in [JS, WASM, CSS] {
        assert!(
            html.contains(&format!("/pkg/{name}")),
            "the page names {name}:\n{html}"
        );
    }
}

#[tokio::test]
async fn the_bundle_is_precompressed_and_immutable() {
    let (app, _site) = app_with_site().await;
    for (accept, encoding, prefix) in [
        (Some("gzip, deflate, br, zstd"), "br", "br "),
        (Some("gzip"), "gzip", "gz "),
        (None, "", "raw "),
    ] {
        for name in [JS, WASM, CSS] {
            let (status, headers, body) = get(&app, &format!("/pkg/{name}"), accept, None).await;
            assert_eq!(status, StatusCode::OK, "{name}");
            assert_eq!(
                value_of(&headers, header::CONTENT_ENCODING),
                encoding,
                "{name} with {accept:?}"
            );
            assert_eq!(String::from_utf8_lossy(&body), format!("{prefix}{name}"));
            assert_eq!(
                value_of(&headers, header::CACHE_CONTROL),
                "public, max-age=31536000, immutable",
                "{name}"
            );
        }
    }
    let (_, headers, _) = get(&app, &format!("/pkg/{WASM}"), None, None).await;
    assert_eq!(value_of(&headers, header::CONTENT_TYPE), "application/wasm");
    let (status, headers, _) = get(&app, "/pkg/paydesk.nothere.js", Some("br"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ne!(
        value_of(&headers, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn pages_and_answers_are_compressed_and_never_stored() {
    let (app, _site) = app_with_site().await;
    // Signed out: the sign-in page.
    let (status, headers, body) = get(&app, "/login", Some("br, gzip"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value_of(&headers, header::CONTENT_ENCODING), "br");
    assert_eq!(value_of(&headers, header::CACHE_CONTROL), "no-store");
    let mut html = String::new();
    brotli_decompress(&body, &mut html);
    assert!(html.contains("<!DOCTYPE html>"), "{html}");

    // Signed in: pages, the CSV export and JSON.
    let cookie = app.login("admin", &app.admin_password.clone()).await;
    for path in ["/", "/orders", "/export/orders.csv", "/api/v1/openapi.json"] {
        let (status, headers, _) = get(&app, path, Some("gzip"), Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            value_of(&headers, header::CACHE_CONTROL),
            "no-store",
            "{path}"
        );
        assert_eq!(
            value_of(&headers, header::CONTENT_ENCODING),
            "gzip",
            "{path}"
        );
    }
    // Without Accept-Encoding nothing is encoded.
    let (_, headers, _) = get(&app, "/orders", None, Some(&cookie)).await;
    assert_eq!(value_of(&headers, header::CONTENT_ENCODING), "");
}

#[tokio::test]
async fn public_files_are_cached_briefly() {
    let (app, _site) = app_with_site().await;
    let (status, headers, _) = get(&app, "/favicon.svg", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        value_of(&headers, header::CACHE_CONTROL),
        "public, max-age=3600"
    );
}

#[tokio::test]
async fn redirect_targets_with_tabs_or_newlines_go_home() {
    let (app, _site) = app_with_site().await;
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2Forders%0D%0ASet-Cookie%3A+x%3D1",
    ] {
        for path in ["/auth/lang", "/auth/theme"] {
            let form = format!("lang=zh&theme=dark&next={next}");
            let reply = app.post_form(path, &form, None).await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path} {next}");
            assert_eq!(reply.location.as_deref(), Some("/"), "{path} {next}");
        }
        let form = format!("username=admin&password={}&next={next}", app.admin_password);
        let reply = app.post_form("/auth/login", &form, None).await;
        assert_eq!(reply.location.as_deref(), Some("/"), "login {next}");
    }
}

fn brotli_decompress(bytes: &[u8], out: &mut String) {
    use std::io::Read;
    brotli::Decompressor::new(bytes, 4096)
        .read_to_string(out)
        .expect("brotli");
}
