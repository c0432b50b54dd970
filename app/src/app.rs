use crate::components::layout::Layout;
use crate::pages::checkout::{CheckoutPage, CheckoutStatusPage};
use crate::pages::credentials::CredentialsPage;
use crate::pages::display::DisplayPage;
use crate::pages::login::LoginPage;
use crate::pages::logs::LogsPage;
use crate::pages::orders::{OrderDetailPage, OrdersPage};
use crate::pages::overview::OverviewPage;
use crate::pages::receipt::ReceiptPage;
use crate::pages::refunds::RefundsPage;
use crate::pages::security::SecurityPage;
use crate::pages::sessions::SessionsPage;
use crate::pages::till::TillPage;
use crate::pages::users::UsersPage;
use crate::server_fns::{AppError, SessionInfo, get_session};
use leptos::prelude::*;
use leptos_meta::{Html, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around the app (rendered on the server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <link rel="stylesheet" href=stylesheet_href(&options) />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from this origin or inline with this
/// response's nonce (Leptos puts it on its hydration and resource scripts), the wasm
/// compiled (`'wasm-unsafe-eval'`), no inline styles, no framing, forms only to us.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sends [`content_security_policy`] with the nonce Leptos uses for this render.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use axum::http::{HeaderValue, header};
    let nonce = leptos::nonce::use_nonce();
    let response = use_context::<leptos_axum::ResponseOptions>();
    if let (Some(nonce), Some(response)) = (nonce, response)
        && let Ok(value) = HeaderValue::from_str(&content_security_policy(&nonce))
    {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The stylesheet's URL: content-hashed when the site names its hashes in a hash file
/// (`scripts/site/assemble.mjs`; the same file Leptos reads for the script and the wasm).
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let name = &options.output_name;
    let pkg = &options.site_pkg_dir;
    let hashes = if options.hash_files {
        std::fs::read_to_string(options.hash_file.as_ref()).ok()
    } else {
        None
    };
    let hash = hashes.as_deref().and_then(|hashes| {
        hashes.lines().find_map(|line| {
            let (kind, hash) = line.split_once(':')?;
            (kind.trim() == "css").then(|| hash.trim().to_string())
        })
    });
    match hash {
        Some(hash) => format!("/{pkg}/{name}.{hash}.css"),
        None => format!("/{pkg}/{name}.css"),
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Loaded before the first byte is sent and serialized into the page, so the browser
    // hydrates with exactly the language and user the server rendered. `SessionGate`
    // awaits it; the routes stay outside any Suspense so the server can list them.
    let session = Resource::new_blocking(|| (), |_| get_session());
    provide_context(SessionResource(session));

    view! {
        <Router>
            <Routes fallback=|| view! { <Layout><NotFound /></Layout> }>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <Route path=path!("/") view=OverviewPage ssr=SsrMode::Async />
                <Route path=path!("/till") view=TillPage ssr=SsrMode::Async />
                <Route path=path!("/checkout") view=CheckoutPage ssr=SsrMode::Async />
                <Route path=path!("/checkout/:no") view=CheckoutStatusPage ssr=SsrMode::Async />
                <Route path=path!("/display") view=DisplayPage ssr=SsrMode::Async />
                <Route path=path!("/receipt/:no") view=ReceiptPage ssr=SsrMode::Async />
                <Route path=path!("/orders") view=OrdersPage ssr=SsrMode::Async />
                <Route path=path!("/orders/:no") view=OrderDetailPage ssr=SsrMode::Async />
                <Route path=path!("/refunds") view=RefundsPage ssr=SsrMode::Async />
                <Route path=path!("/logs") view=LogsPage ssr=SsrMode::Async />
                <Route path=path!("/credentials") view=CredentialsPage ssr=SsrMode::Async />
                <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async />
                <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async />
                <Route path=path!("/security") view=SecurityPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// The session resource, shared through context.
#[derive(Clone, Copy)]
pub struct SessionResource(pub Resource<Result<SessionInfo, AppError>>);

/// Waits for the session, provides it (language, theme and user) to `children`, and sets
/// the document language, theme and title.
#[component]
pub fn SessionGate(children: ChildrenFn) -> impl IntoView {
    let resource = use_context::<SessionResource>().map(|r| r.0);
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let info = match resource {
                    Some(r) => r.await.unwrap_or_default(),
                    None => SessionInfo::default(),
                };
                let (lang, theme) = (info.lang, info.theme);
                provide_context(info);
                view! {
                    // Both on <html> in the server's first byte: no flash of the wrong
                    // language or colours.
                    <Html attr:lang=lang.html_lang() attr:data-theme=theme.code() />
                    <Title text=lang.t().app_name />
                    {children.with_value(|c| c())}
                }
            })}
        </Suspense>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! { <p class="notice">{crate::components::layout::use_t().err_not_found}</p> }
}
