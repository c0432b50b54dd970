use crate::pages::section::{ComingSoon, Section};
use leptos::prelude::*;
use paydesk_core::role::Capability;

#[component]
pub fn LogsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_logs intro=|t| t.page_logs_intro cap=Capability::ReadLogs>
            <ComingSoon />
        </Section>
    }
}
