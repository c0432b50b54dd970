//! The overview's first-steps checklist for admins (`server_fns::first_steps`): what a new
//! install still needs, ticked off from the real state; "Hide" is a plain form post.

use crate::components::layout::use_session;
use crate::server_fns::first_steps::{DismissFirstSteps, FirstStepsView, first_steps};
use leptos::form::ActionForm;
use leptos::prelude::*;
use paydesk_core::role::Capability;

#[component]
pub fn FirstSteps() -> impl IntoView {
    let admin = use_session()
        .user
        .is_some_and(|u| u.role.can(Capability::ManageUsers));
    admin.then(|| {
        let steps = Resource::new(|| (), |_| first_steps());
        view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    steps.await.ok().flatten().map(|v| view! { <Checklist v /> })
                })}
            </Suspense>
        }
    })
}

#[component]
fn Checklist(v: FirstStepsView) -> impl IntoView {
    let t = crate::i18n::first_steps::of(use_session().lang);
    let dismiss = ServerAction::<DismissFirstSteps>::new();
    let items = [
        (v.sandbox_paid, t.sandbox_paid),
        (v.second_user, t.second_user),
        (v.live_channel, t.live_channel),
        (v.twofa, t.twofa),
        (v.public_url, t.public_url),
    ]
    .into_iter()
    .map(|(done, (text, href, link))| {
        let state = if done { t.done } else { t.todo };
        view! {
            <li class=if done { "step done" } else { "step todo" }>
                <span class=if done { "status paid" } else { "status pending" }>{state}</span> " "
                {text}
                {(!done && !href.is_empty()).then(|| view! { " " <a href=href>{link}</a> })}
            </li>
        }
    })
    .collect_view();
    view! {
        <section class="first-steps panel" id="first-steps" aria-labelledby="first-steps-title">
            <h2 id="first-steps-title">{t.title}</h2>
            <p class="muted">{t.intro}</p>
            <ul class="steps">{items}</ul>
            <ActionForm action=dismiss attr:class="inline">
                <button type="submit" id="first-steps-dismiss">{t.dismiss}</button>
            </ActionForm>
        </section>
    }
}
