use crate::pages::section::{ComingSoon, Section};
use leptos::prelude::*;
use paydesk_core::role::Capability;

#[component]
pub fn RefundsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_refunds intro=|t| t.page_refunds_intro cap=Capability::Refund>
            <ComingSoon />
        </Section>
    }
}
