use crate::components::layout::{Layout, RequireCap, use_session};
use leptos::prelude::*;

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <Layout>
            <RequireCap cap=None>
                <Welcome />
            </RequireCap>
        </Layout>
    }
}

#[component]
fn Welcome() -> impl IntoView {
    let session = use_session();
    let t = session.lang.t();
    let name = session.user.map(|u| u.username).unwrap_or_default();
    view! {
        <h1>{(t.welcome)(&name)}</h1>
        <p>{t.overview_intro}</p>
    }
}
