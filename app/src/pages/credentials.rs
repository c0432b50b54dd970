use crate::pages::section::{ComingSoon, Section};
use leptos::prelude::*;
use paydesk_core::role::Capability;

#[component]
pub fn CredentialsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_credentials intro=|t| t.page_credentials_intro cap=Capability::ManageCredentials>
            <ComingSoon />
        </Section>
    }
}
