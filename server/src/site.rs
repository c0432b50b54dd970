//! The built front end on the wire: which files the pages name, how they are served
//! (precompressed, cached) and what dynamic answers may be cached (nothing).
//!
//! `scripts/site/assemble.mjs` writes the site: `pkg/paydesk.<hash>.{js,wasm,css}` with
//! `.br` and `.gz` beside each, and `hash.txt` naming the hashes. A name changes whenever
//! its content does, so browsers may keep those files for a year without asking again.
//! A site without `hash.txt` (cargo-leptos' `watch` during development) has fixed names,
//! which browsers must revalidate.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::LeptosOptions;
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

pub const HASH_FILE: &str = "hash.txt";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
const NO_STORE: &str = "no-store";
/// Files from `public/` (the icon): an hour, then revalidated.
const PUBLIC_FILE: &str = "public, max-age=3600";

/// The site root as an absolute path, so Leptos finds `hash.txt` wherever the binary is
/// (it resolves the hash file against the executable's folder; an absolute path wins).
fn absolute(site_root: &Path) -> PathBuf {
    std::path::absolute(site_root).unwrap_or_else(|_| site_root.to_path_buf())
}

/// Leptos options for this site: hashed file names when the site has a hash file.
pub fn leptos_options(site_root: &Path, addr: std::net::SocketAddr) -> LeptosOptions {
    let root = absolute(site_root);
    let hash_file = root.join(HASH_FILE);
    LeptosOptions::builder()
        .output_name("paydesk")
        .site_root(root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_files(hash_file.is_file())
        .hash_file(std::sync::Arc::from(hash_file.to_string_lossy().as_ref()))
        .build()
}

/// `GET /pkg/…`: the hashed bundle, precompressed copies when the browser accepts them.
/// Only files found are cached: a 404 (a page naming a bundle this site no longer has,
/// during a deploy) must not stick in browsers for a year.
pub fn pkg_routes<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let found = if options.hash_files {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    Router::new()
        .nest_service(
            "/pkg",
            ServeDir::new(dir).precompressed_br().precompressed_gzip(),
        )
        .layer(axum::middleware::map_response(
            move |mut res: Response| async move {
                let cache = if res.status().is_success() {
                    found
                } else {
                    NO_STORE
                };
                let headers = res.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                // The same URL answers br, gzip or raw bytes: caches must key on the header.
                headers
                    .entry(header::VARY)
                    .or_insert(HeaderValue::from_static("accept-encoding"));
                res
            },
        ))
}

/// Everything that is not a static file is never stored by browsers or proxies: pages
/// show payment data and differ per user, JSON answers and exports likewise. Answers that
/// chose their own `Cache-Control` keep it.
pub async fn no_store(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        // ServeDir (the fallback serving `public/`) marks the files it sends.
        let value = if headers.contains_key(header::LAST_MODIFIED) {
            PUBLIC_FILE
        } else {
            NO_STORE
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}
