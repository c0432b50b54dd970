//! The paydesk dashboard: Leptos pages and the server functions they call.
//!
//! Built twice: with `ssr` into the server (pages rendered to HTML, server functions
//! executed), and with `hydrate` into wasm for the browser. Every page also works without
//! JavaScript: navigation is links, every mutation is a form that posts.

mod app;
pub mod components;
#[cfg(feature = "ssr")]
pub mod guard;
pub mod i18n;
mod pages;
pub mod preferences;
pub mod server_fns;

pub use app::{App, content_security_policy, shell, stylesheet_href};
#[cfg(feature = "ssr")]
pub use guard::Services;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Islands mode: the page is server-rendered HTML; the loader script then hydrates each
    // `<leptos-island>` in turn (see `pages::islands`).
    leptos::mount::hydrate_islands();
    // A mark that the page is interactive: browser tests and page-speed figures wait for
    // `html[data-hydrated]`. The loader hydrates the islands right after this returns (one
    // microtask per element), so a zero timeout (a task, after all microtasks) marks it
    // once every island is live.
    leptos::prelude::set_timeout(
        || {
            if let Some(root) = leptos::prelude::document().document_element() {
                let _ = root.set_attribute("data-hydrated", "");
            }
        },
        std::time::Duration::ZERO,
    );
}
