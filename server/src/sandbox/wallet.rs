//! The sandbox wallet: `/sandbox/pay/{code}` is what a phone opens from a sandbox QR code
//! (the QR content is `{PAYDESK_PUBLIC_URL}/sandbox/pay/{code}`). Plain server-rendered
//! HTML with two POST forms, so it works without JavaScript; after a form post the browser
//! is redirected back to the page (post/redirect/get), which then shows the outcome.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use paydesk_app::i18n::{Lang, Messages};
use paydesk_core::provider::ProviderKind;
use paydesk_core::sandbox::set::SandboxSet;
use paydesk_core::sandbox::{LedgerError, OrderState, SandboxOrder};
use std::sync::Arc;

use super::SandboxHub;

pub(super) fn lang(headers: &HeaderMap) -> Lang {
    let h = |n| headers.get(n).and_then(|v| v.to_str().ok());
    Lang::negotiate(h(header::COOKIE), h(header::ACCEPT_LANGUAGE))
}

fn provider_name(t: &Messages, kind: ProviderKind) -> &'static str {
    t.provider(kind.as_str())
}

/// Escapes text for HTML element content and attribute values (the subject is merchant
/// input, and the page is on our origin).
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px rgba(0,0,0,.08)}h1{font-size:1.2rem;margin:0 0 .25rem}\
.note{color:#6b7280;font-size:.85rem;margin:0 0 1.25rem}dl{margin:0 0 1.5rem}\
dt{color:#6b7280;font-size:.85rem}dd{margin:0 0 .75rem;font-size:1.05rem}\
.amount{font-size:1.8rem;font-weight:600}.actions{display:flex;gap:.75rem}\
.actions form{flex:1}button{width:100%;padding:.8rem;font-size:1rem;border-radius:8px;\
border:1px solid #cbd2dc;background:#fff;cursor:pointer}button.pay{background:#1677ff;\
color:#fff;border-color:#1677ff}.status{padding:.8rem;border-radius:8px;background:#eef6ee}\
.status.closed,.status.error{background:#fdf0f0}.barcode{display:block;width:100%;height:5rem;\
image-rendering:pixelated}";

pub(super) fn document(lang: Lang, status: StatusCode, body: &str) -> Response {
    let t = lang.t();
    let html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>\
         <h1>{}</h1><p class=\"note\">{}</p>{body}</main></body></html>",
        lang.html_lang(),
        esc(t.wallet_title),
        esc(t.wallet_title),
        esc(t.wallet_note),
    );
    let mut resp = (status, Html(html)).into_response();
    // The page's one inline style, allowed by its hash (the default policy allows no
    // inline style, which left the wallet unstyled); nothing else inline may run.
    if let Ok(v) = header::HeaderValue::from_str(&wallet_csp()) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    // The page shows live order state; a cached copy would offer "Pay" for a paid order.
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// The default policy (`crate::security`) with this page's stylesheet allowed by hash.
fn wallet_csp() -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-{hash}'; \
         img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

pub(super) fn message(lang: Lang, status: StatusCode, text: &str) -> Response {
    document(
        lang,
        status,
        &format!("<p class=\"status error\">{}</p>", esc(text)),
    )
}

fn order_page(lang: Lang, kind: ProviderKind, o: &SandboxOrder) -> Response {
    let t = lang.t();
    let details = format!(
        "<p>{}</p><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd class=\"amount\">{}</dd></dl>",
        esc(&(t.wallet_pay_with)(provider_name(t, kind))),
        esc(t.wallet_merchant_item),
        esc(&o.subject),
        esc(t.wallet_amount),
        esc(&o.amount.to_string()),
    );
    let state = match o.state {
        OrderState::Pending => {
            // The code is the sandbox's own (`[A-Za-z0-9_]`), but escape it anyway.
            let code = esc(&o.code);
            format!(
                "<div class=\"actions\">\
                 <form method=\"post\" action=\"/sandbox/pay/{code}/cancel\">\
                 <button type=\"submit\">{}</button></form>\
                 <form method=\"post\" action=\"/sandbox/pay/{code}/pay\">\
                 <button type=\"submit\" class=\"pay\">{}</button></form></div>",
                esc(t.wallet_cancel),
                esc(t.wallet_pay),
            )
        }
        OrderState::Paid => format!("<p class=\"status paid\">{}</p>", esc(t.wallet_paid)),
        OrderState::Closed => format!("<p class=\"status closed\">{}</p>", esc(t.wallet_closed)),
    };
    document(lang, StatusCode::OK, &(details + &state))
}

/// Loads the sandboxes and the order for `code`, or the error page to answer with.
async fn lookup(
    hub: &SandboxHub,
    lang: Lang,
    code: &str,
) -> Result<(Arc<SandboxSet>, ProviderKind, SandboxOrder), Response> {
    let set = hub.get().await.map_err(|e| {
        tracing::error!(error = %e, "sandbox keys unavailable");
        message(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            lang.t().wallet_unavailable,
        )
    })?;
    match set.find(code).await {
        Ok(Some((kind, order))) => Ok((set, kind, order)),
        Ok(None) => Err(message(
            lang,
            StatusCode::NOT_FOUND,
            lang.t().wallet_not_found,
        )),
        // The order book is unavailable (logged there).
        Err(_) => Err(message(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            lang.t().wallet_unavailable,
        )),
    }
}

pub async fn page(
    State(hub): State<SandboxHub>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    match lookup(&hub, lang, &code).await {
        Ok((_, kind, order)) => order_page(lang, kind, &order),
        Err(resp) => resp,
    }
}

fn back_to(order: &SandboxOrder) -> Response {
    Redirect::to(&format!("/sandbox/pay/{}", order.code)).into_response()
}

/// "Pay": marks the sandbox order paid and, in the same transaction, queues the signed
/// notification; the delivery worker sends it (also after a crash, or from another
/// instance).
pub async fn pay(
    State(hub): State<SandboxHub>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let (set, kind, order) = match lookup(&hub, lang, &code).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    match set.pay_from_wallet(kind, &order).await {
        Ok(paid) => {
            tracing::info!(provider = %kind, out_trade_no = %paid.out_trade_no, "sandbox order paid in the wallet");
            hub.wake_deliveries();
            back_to(&paid)
        }
        // A second press (or a press on a closed order) shows the order as it is.
        Err(LedgerError::AlreadyPaid | LedgerError::Closed) => back_to(&order),
        Err(LedgerError::Unavailable) => message(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            lang.t().wallet_unavailable,
        ),
        Err(e) => {
            tracing::warn!(provider = %kind, error = %e, "sandbox pay refused");
            message(lang, StatusCode::CONFLICT, lang.t().err_internal)
        }
    }
}

/// "Cancel": the payer backs out and the sandbox closes the order.
pub async fn cancel(
    State(hub): State<SandboxHub>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let (set, kind, order) = match lookup(&hub, lang, &code).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    match set.cancel(kind, &order.out_trade_no).await {
        Ok(closed) => back_to(&closed),
        // Already paid: cancelling is too late; the page says it was paid.
        Err(_) => back_to(&order),
    }
}
