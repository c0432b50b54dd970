use crate::pages::section::{ComingSoon, Section};
use leptos::prelude::*;
use paydesk_core::role::Capability;

#[component]
pub fn OrdersPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_orders intro=|t| t.page_orders_intro cap=Capability::ViewOrders>
            <ComingSoon />
        </Section>
    }
}

#[component]
pub fn OrderDetailPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_orders intro=|t| t.page_orders_intro cap=Capability::ViewOrders>
            <ComingSoon />
        </Section>
    }
}
