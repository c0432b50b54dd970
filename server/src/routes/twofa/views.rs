//! The two-step pages, rendered on the server in the app's look (`key_route::page`).
//! Plain forms only. Every page is sent `no-store` (some show the enrolment key or the
//! recovery codes) and `Referrer-Policy: same-origin`.

use crate::startup::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;
use paydesk_app::i18n::{Lang, Messages};
use paydesk_app::preferences::Theme;
use paydesk_app::server_fns::users::key_route::page;
use paydesk_core::twofa::Enrolment;

/// What every page needs: the stylesheet, language and theme of this request.
pub struct Ctx {
    stylesheet: String,
    pub lang: Lang,
    theme: Theme,
}

impl Ctx {
    pub fn new(state: &AppState, headers: &HeaderMap) -> Ctx {
        let (lang, theme) = paydesk_app::guard::preferences(headers);
        Ctx {
            stylesheet: paydesk_app::stylesheet_href(&state.leptos),
            lang,
            theme,
        }
    }

    pub fn t(&self) -> &'static Messages {
        self.lang.t()
    }

    fn respond(&self, status: StatusCode, title: &'static str, body: String) -> Response {
        // `same-origin`, not the frame's `no-referrer`: with no referrer at all browsers
        // send `Origin: null` on form posts, which the cross-origin check refuses.
        // Nothing secret is ever in these pages' URLs, and no referrer leaves the site.
        let html = page(&self.stylesheet, self.lang, self.theme, title, body).replacen(
            r#"<meta name="referrer" content="no-referrer">"#,
            r#"<meta name="referrer" content="same-origin">"#,
            1,
        );
        let mut resp = (status, Html(html)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        resp
    }
}

fn notice(error: Option<String>, ok: Option<&'static str>) -> String {
    let err =
        error.map(|e| view! { <p class="notice error" role="alert" id="twofa-error">{e}</p> });
    let ok = ok.map(|o| view! { <p class="notice ok" role="status" id="twofa-ok">{o}</p> });
    view! { {ok} {err} }.to_html()
}

fn code_input(label: &'static str, hint: &'static str) -> impl IntoView {
    view! {
        <label for="code">{label}</label>
        <input id="code" name="code" type="text" autocomplete="one-time-code" required autofocus
            maxlength="16" size="14" aria-describedby="code-hint" />
        <span class="hint muted" id="code-hint">{hint}</span>
    }
}

/// The sign-in's code step.
pub fn code_page(ctx: &Ctx, error: Option<String>) -> Response {
    let t = ctx.t().twofa;
    let body = view! {
        <p class="intro">{t.code_intro}</p>
        <form method="post" action="/auth/2fa" class="stack" id="twofa-form">
            {code_input(t.code_label, t.code_hint)}
            <button type="submit" class="primary" id="twofa-verify">{t.verify}</button>
        </form>
        <form method="post" action="/auth/logout" class="actions">
            <button type="submit" id="twofa-cancel">{t.cancel}</button>
        </form>
    }
    .to_html();
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    ctx.respond(status, t.code_title, notice(error, None) + &body)
}

/// Enrolment: the QR code, the typed key and the confirmation form posting to `action`.
pub fn enrol_page(
    ctx: &Ctx,
    action: &'static str,
    enrolment: &Enrolment,
    required: bool,
    error: Option<String>,
) -> Response {
    let t = ctx.t().twofa;
    let qr =
        paydesk_app::server_fns::checkout::ssr::qr_svg(&enrolment.otpauth_url).unwrap_or_default();
    let cancel = (action == "/auth/enroll").then(|| {
        view! {
            <form method="post" action="/auth/logout" class="actions">
                <button type="submit" id="twofa-cancel">{t.cancel}</button>
            </form>
        }
    });
    let body = view! {
        {required.then(|| view! { <p class="notice warn" role="status" id="twofa-required">{t.enrol_required}</p> })}
        <p class="intro">{t.enrol_intro}</p>
        <div class="qr-code" id="twofa-qr" inner_html=qr></div>
        <p>{t.enrol_key} " " <code class="mono secret" id="twofa-secret">{enrolment.secret_base32.clone()}</code></p>
        <form method="post" action=action class="stack" id="twofa-form">
            {code_input(t.enrol_code_label, t.code_hint)}
            <button type="submit" class="primary" id="twofa-confirm">{t.confirm}</button>
        </form>
        {cancel}
    }
    .to_html();
    ctx.respond(StatusCode::OK, t.enrol_title, notice(error, None) + &body)
}

/// The recovery codes, the only time they are shown.
pub fn codes_page(ctx: &Ctx, codes: &[String], next: &str) -> Response {
    let t = ctx.t().twofa;
    let body = view! {
        <p class="notice ok" role="status" id="twofa-ok">{t.ok_enabled}</p>
        <p class="notice warn" role="alert">{t.codes_once}</p>
        <ol class="recovery-codes mono" id="recovery-codes">
            {codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
        </ol>
        <p class="muted">{t.codes_hint}</p>
        <p class="actions"><a class="button primary" href=next.to_string() id="twofa-continue">{t.continue_}</a></p>
    }
    .to_html();
    ctx.respond(StatusCode::OK, t.codes_title, body)
}

/// What the account page shows besides its notices.
pub enum AccountState<'a> {
    Off,
    Enrolling(&'a Enrolment),
    On { codes_left: usize, required: bool },
}

pub fn account_page(
    ctx: &Ctx,
    state: AccountState<'_>,
    ok: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let t = ctx.t().twofa;
    if let AccountState::Enrolling(e) = state {
        return enrol_page(ctx, "/account/2fa/confirm", e, false, error);
    }
    let body = match state {
        AccountState::On {
            codes_left,
            required,
        } => {
            let off = if required {
                view! { <p class="muted" id="twofa-required">{t.required_note}</p> }.into_any()
            } else {
                view! {
                    <form method="post" action="/account/2fa/disable" class="stack" id="twofa-disable">
                        {code_input(t.code_label, t.disable_hint)}
                        <button type="submit" class="danger">{t.disable}</button>
                    </form>
                }
                .into_any()
            };
            view! { <p id="twofa-status" data-state="on">{(t.status_on)(codes_left)}</p> {off} }
                .to_html()
        }
        _ => view! {
            <p id="twofa-status" data-state="off">{t.status_off}</p>
            <form method="post" action="/account/2fa/start" class="actions">
                <button type="submit" class="primary" id="twofa-start">{t.start}</button>
            </form>
        }
        .to_html(),
    };
    let intro = view! { <p class="intro">{t.account_intro}</p> }.to_html();
    let back = view! { <p><a href="/">{ctx.t().nav_overview}</a></p> }.to_html();
    ctx.respond(
        StatusCode::OK,
        t.account_title,
        notice(error, ok) + &intro + &body + &back,
    )
}
