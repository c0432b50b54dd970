//! The frame of a dashboard page: heading and introduction in the user's language,
//! shown only to roles with the capability.

use crate::components::layout::{Layout, RequireCap, use_t};
use crate::i18n::Messages;
use leptos::prelude::*;
use paydesk_core::role::Capability;

pub type Text = fn(&Messages) -> &'static str;

#[component]
pub fn Section(title: Text, intro: Text, cap: Capability, children: ChildrenFn) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <Layout>
            <RequireCap cap=Some(cap)>
                <SectionHeading title intro />
                {children.with_value(|c| c())}
            </RequireCap>
        </Layout>
    }
}

#[component]
fn SectionHeading(title: Text, intro: Text) -> impl IntoView {
    let t = use_t();
    view! {
        <h1>{title(t)}</h1>
        <p class="intro">{intro(t)}</p>
    }
}

#[component]
pub fn ComingSoon() -> impl IntoView {
    view! { <p class="empty">{use_t().coming_soon}</p> }
}
