//! The sandbox wallet's payment code (付款码): `/sandbox/wallet/{provider}` shows a fresh,
//! single-use code (digits and a QR of them) for the till to scan, and what the wallet does
//! when it is charged (pay at once, ask for the password, decline). When the cashier's
//! charge waits for the password, the page asks for it ("Confirm with password").
//! Plain HTML with meta refresh and POST forms: works without JavaScript.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use paydesk_core::provider::ProviderKind;
use paydesk_core::sandbox::{CodeBehaviour, OrderState, PAY_CODE_VALID_MS};
use serde::Deserialize;

use super::SandboxHub;
use super::wallet::{document, esc, lang, message};

#[derive(Deserialize, Default)]
pub struct CodeQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    mode: String,
    /// When the code was issued (ms): after [`PAY_CODE_VALID_MS`] the page shows a new one.
    #[serde(default)]
    t: i64,
}

fn now_ms() -> i64 {
    paydesk_core::time::now_ms()
}

fn wallet_url(kind: ProviderKind, mode: CodeBehaviour) -> String {
    format!("/sandbox/wallet/{}?mode={}", kind.as_str(), mode.as_str())
}

/// GET: without `code`, issues a new code and redirects to it; with one, shows it (or the
/// password prompt once the cashier charged it).
pub async fn page(
    State(hub): State<SandboxHub>,
    Path(provider): Path<String>,
    Query(q): Query<CodeQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let t = lang.t();
    let Some(kind) = ProviderKind::parse(&provider) else {
        return message(lang, StatusCode::NOT_FOUND, t.wallet_not_found);
    };
    let mode = CodeBehaviour::parse(&q.mode).unwrap_or(CodeBehaviour::Pay);
    let set = match hub.get().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "sandbox keys unavailable");
            return message(lang, StatusCode::SERVICE_UNAVAILABLE, t.wallet_unavailable);
        }
    };
    let now = now_ms();
    if q.code.is_empty() || now - q.t > PAY_CODE_VALID_MS / 2 && !charged(&set, kind, &q.code).await
    {
        return match set.issue_pay_code(kind, mode, now).await {
            Ok(Some(code)) => Redirect::to(&format!(
                "/sandbox/wallet/{}?code={code}&mode={}&t={now}",
                kind.as_str(),
                mode.as_str()
            ))
            .into_response(),
            Ok(None) => message(lang, StatusCode::NOT_FOUND, t.wallet_not_found),
            Err(_) => message(lang, StatusCode::SERVICE_UNAVAILABLE, t.wallet_unavailable),
        };
    }
    let ledger = set.ledger(kind);
    let order = match ledger.pay_code_order(&q.code).await {
        Ok(Some(no)) => ledger.get(&no).await.ok().flatten(),
        Ok(None) => None,
        Err(_) => return message(lang, StatusCode::SERVICE_UNAVAILABLE, t.wallet_unavailable),
    };
    let title = format!(
        "<h2>{}</h2>",
        esc(&(t.wallet_code_title)(t.provider(kind.as_str())))
    );
    // An unused code and a pending password prompt look again soon, so the prompt shows
    // without a tap (and a code past its half-life is replaced).
    let refresh = order
        .as_ref()
        .is_none_or(|o| o.state == OrderState::Pending);
    let body = match order {
        // Charged, waiting for the password.
        Some(o) if o.state == OrderState::Pending => format!(
            "{title}<p class=\"status\" id=\"password-prompt\">{}</p>\
             <form method=\"post\" action=\"/sandbox/wallet/{}/confirm\">\
             <input type=\"hidden\" name=\"code\" value=\"{}\">\
             <button type=\"submit\" class=\"pay\" id=\"confirm-password\">{}</button></form>",
            esc(&(t.wallet_code_password)(&o.amount.to_string())),
            kind.as_str(),
            esc(&q.code),
            esc(t.wallet_code_confirm),
        ),
        Some(o) => {
            let (class, text) = match o.state {
                OrderState::Paid => ("paid", t.wallet_paid),
                _ => ("closed", t.wallet_code_used),
            };
            format!(
                "{title}<p class=\"status {class}\" id=\"code-outcome\">{}</p>\
                 <p><a href=\"{}\">{}</a></p>",
                esc(text),
                esc(&wallet_url(kind, mode)),
                esc(t.wallet_code_new)
            )
        }
        None => show_code(lang, kind, &q.code, mode, &title),
    };
    let mut resp = document(lang, StatusCode::OK, &body);
    if refresh {
        resp.headers_mut()
            .insert("refresh", axum::http::HeaderValue::from_static("3"));
    }
    resp
}

async fn charged(
    set: &paydesk_core::sandbox::set::SandboxSet,
    kind: ProviderKind,
    code: &str,
) -> bool {
    matches!(set.ledger(kind).pay_code_order(code).await, Ok(Some(_)))
}

fn show_code(
    lang: paydesk_app::i18n::Lang,
    kind: ProviderKind,
    code: &str,
    mode: CodeBehaviour,
    title: &str,
) -> String {
    let t = lang.t();
    let qr = crate::routes::qr::encode(code)
        .map(|png| base64::engine::general_purpose::STANDARD.encode(png))
        .unwrap_or_default();
    let bars = super::barcode::png(code)
        .map(|png| base64::engine::general_purpose::STANDARD.encode(png))
        .unwrap_or_default();
    let grouped: Vec<String> = code
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let modes: String = CodeBehaviour::ALL
        .into_iter()
        .map(|b| {
            let label = match b {
                CodeBehaviour::Pay => t.wallet_code_mode_pay,
                CodeBehaviour::Password => t.wallet_code_mode_password,
                CodeBehaviour::Decline => t.wallet_code_mode_decline,
            };
            if b == mode {
                format!(
                    "<li><strong aria-current=\"true\">{}</strong></li>",
                    esc(label)
                )
            } else {
                format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    esc(&wallet_url(kind, b)),
                    esc(label)
                )
            }
        })
        .collect();
    format!(
        "{title}<p class=\"note\">{}</p>\
         <img id=\"pay-barcode\" class=\"barcode\" alt=\"{code}\" src=\"data:image/png;base64,{bars}\">\
         <p class=\"amount\" id=\"pay-code\" data-code=\"{code}\">{}</p>\
         <img alt=\"{code}\" width=\"220\" height=\"220\" src=\"data:image/png;base64,{qr}\">\
         <p>{}</p><ul id=\"code-modes\">{modes}</ul>",
        esc(t.wallet_code_hint),
        esc(&grouped.join(" ")),
        esc(t.wallet_code_mode),
        code = esc(code),
    )
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    code: String,
}

/// POST: the customer entered the password: the charged order is paid and notified.
pub async fn confirm(
    State(hub): State<SandboxHub>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let lang = lang(&headers);
    let t = lang.t();
    let Some(kind) = ProviderKind::parse(&provider) else {
        return message(lang, StatusCode::NOT_FOUND, t.wallet_not_found);
    };
    let set = match hub.get().await {
        Ok(s) => s,
        Err(_) => return message(lang, StatusCode::SERVICE_UNAVAILABLE, t.wallet_unavailable),
    };
    // Codes are digits; anything else is no code of ours (and must not reach the
    // redirect's Location header).
    if f.code.is_empty() || !f.code.bytes().all(|b| b.is_ascii_digit()) {
        return message(lang, StatusCode::NOT_FOUND, t.wallet_not_found);
    }
    let ledger = set.ledger(kind);
    let order = match ledger.pay_code_order(&f.code).await {
        Ok(Some(no)) => ledger.get(&no).await.ok().flatten(),
        _ => None,
    };
    let Some(order) = order else {
        return message(lang, StatusCode::NOT_FOUND, t.wallet_not_found);
    };
    if order.state == OrderState::Pending {
        match set.pay_from_wallet(kind, &order).await {
            Ok(_) => hub.wake_deliveries(),
            Err(e) => tracing::info!(error = %e, "sandbox password confirmation refused"),
        }
    }
    Redirect::to(&format!(
        "/sandbox/wallet/{}?code={}&t={}",
        kind.as_str(),
        f.code,
        now_ms()
    ))
    .into_response()
}
