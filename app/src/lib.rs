//! The paydesk dashboard: Leptos pages and the server functions they call.
//!
//! Built twice: with `ssr` into the server (pages rendered to HTML, server functions
//! executed), and with `hydrate` into wasm for the browser. Every page also works without
//! JavaScript: navigation is links, every mutation is a form that posts.

pub mod api;
mod app;
pub mod components;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod i18n;
mod pages;
pub mod preferences;

pub use app::{App, content_security_policy, shell, stylesheet_href};
#[cfg(feature = "ssr")]
pub use guard::Services;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A mark that the page is interactive now: browser tests and page-speed figures wait
    // for `html[data-hydrated]`.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
