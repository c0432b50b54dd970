//! The second step of a dangerous change, and copy buttons for secrets shown once.
//!
//! Without JavaScript, a dangerous form (disable, revoke, retire) posts without
//! `confirm=yes`; its handler changes nothing and redirects to its page with the question
//! in the URL, where [`ConfirmCard`] asks again with a form that carries `confirm=yes`.
//! With JavaScript (`public/admin.js`, a few lines allowed by the CSP's `'self'`), a
//! button with `data-confirm` asks for a second press in place and then posts with
//! `confirm=yes` at once. Copy buttons are hidden until that script shows them; the
//! secret stays selectable text either way.

use crate::i18n::Messages;
use leptos::prelude::*;

/// The form field that says "asked and confirmed".
pub const CONFIRM_FIELD: &str = "confirm";

/// Whether a post carries the confirmation.
pub fn confirmed(value: Option<&str>) -> bool {
    value == Some("yes")
}

/// The enhancement script, loaded by the pages that have confirm or copy buttons.
#[component]
pub fn AdminScript() -> impl IntoView {
    view! { <script src="/admin.js" defer></script> }
}

/// The question, and a form that posts `fields` plus `confirm=yes` to `action`.
#[component]
pub fn ConfirmCard(
    t: &'static Messages,
    question: String,
    yes: String,
    action: &'static str,
    fields: Vec<(&'static str, String)>,
    cancel_href: String,
    #[prop(optional)] multipart: bool,
) -> impl IntoView {
    let enctype = multipart.then_some("multipart/form-data");
    view! {
        <section class="card confirm-card" aria-labelledby="confirm-title" id="confirm-step">
            <h2 id="confirm-title">{t.admin.confirm_title}</h2>
            <p id="confirm-question">{question}</p>
            <form method="post" action=action enctype=enctype class="actions">
                {fields.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v /> }).collect_view()}
                <input type="hidden" name=CONFIRM_FIELD value="yes" />
                <button type="submit" class="danger" id="confirm-yes">{yes}</button>
                <a class="button" href=cancel_href id="confirm-cancel">{t.admin.cancel}</a>
            </form>
        </section>
    }
}

/// A button that copies the text of the element `target` (an id), shown by the script.
#[component]
pub fn CopyButton(t: &'static Messages, target: &'static str) -> impl IntoView {
    view! {
        <button type="button" class="copy" hidden data-copy=target
            data-copied=t.admin.copied data-failed=t.admin.copy_failed>{t.admin.copy}</button>
    }
}
