//! `/sessions`: where the signed-in user is signed in, and ending those sessions.
//!
//! Every change is an `ActionForm` posting to `server_fns::sessions` (which redirects back with
//! `?ok=`/`?error=`), so the page works the same without JavaScript.

use crate::components::format::time_ms;
use crate::components::layout::use_session;
use crate::i18n::Messages;
use crate::pages::section::Section;
use crate::server_fns::sessions::{ActiveSessionRow, EndMySession, EndOtherSessions, my_sessions};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::role::Capability;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

#[component]
pub fn SessionsPage() -> impl IntoView {
    view! {
        <Section title=|t| t.sessions.title intro=|t| t.sessions.intro cap=Capability::OwnSessions>
            <SessionsBody />
        </Section>
    }
}

#[component]
fn SessionsBody() -> impl IntoView {
    let t = use_session().lang.t();
    let query = use_query_map();
    let end = ServerAction::<EndMySession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let rows = Resource::new(
        move || (query.get(), end.version().get(), end_others.version().get()),
        |_| my_sessions(),
    );
    let notice = move || {
        let q = query.get();
        if let Some(text) = q.get("ok").and_then(|c| t.sessions.ok(&c)) {
            return Some(view! { <p class="notice ok" role="status">{text}</p> }.into_any());
        }
        q.get("error").map(|c| {
            let text = t
                .sessions
                .error(&c)
                .map(str::to_string)
                .unwrap_or_else(|| t.error(&c));
            view! { <p class="notice error" role="alert">{text}</p> }.into_any()
        })
    };
    view! {
        {notice}
        <section class="card">
            <Suspense fallback=move || view! { <p>{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                        Ok(rows) => {
                            let others = rows.iter().any(|r| !r.current);
                            view! {
                                <div class="table-wrap">
                                    <table class="data" id="sessions-table">
                                        <thead><tr>
                                            <th>{t.sessions.device}</th><th>{t.sessions.address}</th>
                                            <th>{t.sessions.signed_in}</th><th>{t.sessions.last_seen}</th><th></th>
                                        </tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|r| session_line(r, t, end)).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                {if others {
                                    view! {
                                        <ActionForm action=end_others attr:class="actions">
                                            <button type="submit" class="danger">{t.sessions.end_others}</button>
                                        </ActionForm>
                                    }.into_any()
                                } else {
                                    view! { <p class="empty">{t.sessions.none}</p> }.into_any()
                                }}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

fn session_line(
    r: ActiveSessionRow,
    t: &'static Messages,
    end: ServerAction<EndMySession>,
) -> impl IntoView {
    let device =
        device_label(&r.user_agent).unwrap_or_else(|| t.sessions.unknown_device.to_string());
    let full_agent = r.user_agent.clone();
    let (row_handle, form_handle) = (r.handle.clone(), r.handle.clone());
    view! {
        <tr data-session=row_handle data-current=r.current.then_some("true")>
            <td class="wrap" title=full_agent data-label=t.sessions.device>
                {device}
                {r.current.then(|| view! { " " <span class="badge">{t.sessions.this_session}</span> })}
            </td>
            <td class="mono" data-label=t.sessions.address>{if r.ip.is_empty() { t.common.none.to_string() } else { r.ip.clone() }}</td>
            <td class="mono" data-label=t.sessions.signed_in>{time_ms(r.signed_in_at, CHINA_OFFSET_MINUTES)}</td>
            <td class="mono" data-label=t.sessions.last_seen>{time_ms(r.last_seen, CHINA_OFFSET_MINUTES)}</td>
            <td class="row-actions">
                <ActionForm action=end attr:class="inline">
                    <input type="hidden" name="handle" value=form_handle />
                    <button type="submit">{t.sessions.end}</button>
                </ActionForm>
            </td>
        </tr>
    }
}

/// "Chrome on Windows" from a user-agent string: enough to recognise one's own devices;
/// the whole string is in the cell's tooltip. None when nothing is recognised.
pub fn device_label(user_agent: &str) -> Option<String> {
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
    const BROWSERS: [(&str, &str); 7] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    const SYSTEMS: [(&str, &str); 6] = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let find = |list: &[(&str, &'static str)]| {
        list.iter()
            .find(|(needle, _)| user_agent.contains(needle))
            .map(|(_, name)| *name)
    };
    match (find(&BROWSERS), find(&SYSTEMS)) {
        (Some(b), Some(s)) => Some(format!("{b} · {s}")),
        (Some(x), None) | (None, Some(x)) => Some(x.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::device_label;

    #[test]
    fn devices_are_named_by_browser_and_system() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        assert_eq!(device_label(chrome).as_deref(), Some("Chrome · Windows"));
        let edge =
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0";
        assert_eq!(device_label(edge).as_deref(), Some("Edge · Windows"));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_label(iphone).as_deref(), Some("Safari · iPhone"));
        assert_eq!(device_label(""), None);
    }
}
