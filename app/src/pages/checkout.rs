use crate::pages::section::{ComingSoon, Section};
use leptos::prelude::*;
use paydesk_core::role::Capability;

#[component]
pub fn CheckoutPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_checkout intro=|t| t.page_checkout_intro cap=Capability::Checkout>
            <ComingSoon />
        </Section>
    }
}

#[component]
pub fn CheckoutStatusPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_checkout intro=|t| t.page_checkout_intro cap=Capability::Checkout>
            <ComingSoon />
        </Section>
    }
}
