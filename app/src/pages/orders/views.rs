//! The orders page's saved views: the caller's named searches as links, a form that saves
//! the current search under a name, and a delete button per view (plain form posts to
//! `server_fns::saved_views`, which redirect back).

use crate::components::layout::use_t;
use crate::server_fns::saved_views::{
    DeleteOrderView, NAME_MAX, SaveOrderView, SavedViewRow, my_saved_views,
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SavedViews(query: String) -> impl IntoView {
    let t = use_t();
    let lang = crate::components::layout::use_session().lang;
    let ts = crate::i18n::search::of(lang);
    let views = Resource::new(|| (), |_| my_saved_views());
    let save = ServerAction::<SaveOrderView>::new();
    let params = use_query_map();
    let note = move || {
        params.with(|p| {
            let s = crate::i18n::search::of(lang);
            match (p.get("ok").as_deref(), p.get("error").as_deref()) {
                (Some("view_saved"), _) => Some(("notice ok", s.saved)),
                (_, Some("view_name")) => Some(("notice error", s.err_view_name)),
                (_, Some("view_limit")) => Some(("notice error", s.err_view_limit)),
                _ => None,
            }
        })
    };
    view! {
        <section class="saved-views" aria-labelledby="saved-views-title">
            <h2 id="saved-views-title" class="small-title">{ts.views}</h2>
            {move || note().map(|(class, text)| view! { <p class=class role="status" id="views-note">{text}</p> })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match views.await {
                        Ok(v) if v.is_empty() => view! { <p class="muted small" id="views-none">{ts.views_none}</p> }.into_any(),
                        Ok(v) => view! { <ViewList views=v /> }.into_any(),
                        Err(e) => view! { <p class="notice error">{t.app_error(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <ActionForm action=save attr:class="inline save-view" attr:id="save-view">
                <input type="hidden" name="query" value=query />
                <label for="view-name">{ts.save_label}</label>
                <input id="view-name" name="name" type="text" required maxlength=NAME_MAX.to_string() size="16" />
                <button type="submit">{ts.save}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ViewList(views: Vec<SavedViewRow>) -> impl IntoView {
    let ts = crate::i18n::search::of(crate::components::layout::use_session().lang);
    let delete = ServerAction::<DeleteOrderView>::new();
    let items = views
        .into_iter()
        .map(|v| {
            let href = if v.query.is_empty() {
                "/orders".to_string()
            } else {
                format!("/orders?{}", v.query)
            };
            let label = format!("{} {}", ts.delete, v.name);
            view! {
                <li>
                    <a href=href class="view-link">{v.name.clone()}</a>
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="id" value=v.id />
                        <button type="submit" class="link small" aria-label=label>{ts.delete}</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="view-list" id="view-list">{items}</ul> }
}
