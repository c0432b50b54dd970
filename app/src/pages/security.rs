//! `/security` (admins): who must sign in with two steps, refund approval thresholds,
//! API key refund policies, resetting a user's two-step sign-in. Every change is a plain
//! form posting to a server function in `server_fns::security`, which redirects back here.

use crate::components::format::money;
use crate::components::layout::use_t;
use crate::i18n::Messages;
use crate::pages::section::Section;
use crate::server_fns::security::{SecurityData, TWOFA_CHOICES, security_view};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::approval::KeyRefundPolicy;
use paydesk_core::money::Currency;
use paydesk_core::role::{Capability, Role};

#[component]
pub fn SecurityPage() -> impl IntoView {
    view! {
        <Section title=|t| t.security.title intro=|t| t.security.intro cap=Capability::ManageUsers>
            <Notice />
            <SecurityBody />
        </Section>
    }
}

#[component]
pub fn Notice() -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    move || {
        query.with(|q| {
            if let Some(text) = q.get("ok").and_then(|c| t.security.ok(&c)) {
                return Some(
                    view! { <p class="notice ok" role="status" id="security-ok">{text}</p> }
                        .into_any(),
                );
            }
            q.get("error").map(|c| {
                let text = t
                    .security
                    .error(&c)
                    .map(str::to_string)
                    .unwrap_or_else(|| t.error(&c));
                view! { <p class="notice error" role="alert" id="security-error">{text}</p> }
                    .into_any()
            })
        })
    }
}

#[component]
fn SecurityBody() -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    let data = Resource::new(move || query.get(), |_| security_view());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                    Ok(v) => view! {
                        {twofa_card(t, &v)}
                        {refunds_card(t, &v)}
                        {keys_card(t, &v)}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn twofa_label(t: &'static Messages, value: &str) -> &'static str {
    let s = t.security;
    match value {
        "auto" => s.twofa_auto,
        "admin" => s.twofa_admin,
        "admin,support" => s.twofa_admin_support,
        "admin,merchant,support" => s.twofa_everyone,
        _ => s.twofa_nobody,
    }
}

fn twofa_card(t: &'static Messages, v: &SecurityData) -> impl IntoView + use<> {
    let s = t.security;
    let current = v.twofa_policy.clone();
    let users = v
        .users
        .clone()
        .into_iter()
        .map(|u| {
            let name = u.username.clone();
            view! {
                <tr data-user=u.username.clone()>
                    <td>{u.username.clone()}</td>
                    <td>{t.role(u.role)}</td>
                    <td class="twofa-state">{if u.enabled { s.twofa_on } else { s.twofa_off }}</td>
                    <td>{u.enabled.then(|| view! {
                        <form method="post" action="/rpc/reset_user_twofa" class="inline">
                            <input type="hidden" name="username" value=name.clone() />
                            <button type="submit" class="danger">{s.reset_twofa}</button>
                        </form>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="h-twofa">
            <h2 id="h-twofa">{s.h_twofa}</h2>
            <form method="post" action="/rpc/set_twofa_policy" class="row" id="twofa-policy-form">
                <label for="twofa-policy">{s.twofa_policy}</label>
                <select id="twofa-policy" name="policy">
                    {TWOFA_CHOICES.into_iter().map(|c| view! {
                        <option value=c selected={c == current}>{twofa_label(t, c)}</option>
                    }).collect_view()}
                </select>
                <button type="submit" class="primary">{s.save}</button>
            </form>
            <h3>{s.h_users}</h3>
            <div class="table-wrap">
                <table class="data" id="twofa-users">
                    <thead><tr><th>{t.col_username}</th><th>{t.col_role}</th><th>{s.col_twofa}</th><th></th></tr></thead>
                    <tbody>{users}</tbody>
                </table>
            </div>
        </section>
    }
}

fn refunds_card(t: &'static Messages, v: &SecurityData) -> impl IntoView + use<> {
    let s = t.security;
    let rows = v.thresholds.clone();
    let list =
        if rows.is_empty() {
            view! { <p class="empty">{s.threshold_none}</p> }.into_any()
        } else {
            rows.into_iter().map(|r| view! {
            <tr data-threshold=format!("{}.{}", r.role.as_str(), r.currency)>
                <td>{t.role(r.role)}</td>
                <td class="num">{money(r.above_minor, &r.currency)}</td>
                <td>
                    <form method="post" action="/rpc/set_refund_threshold" class="inline">
                        <input type="hidden" name="role" value=r.role.as_str() />
                        <input type="hidden" name="currency" value=r.currency.clone() />
                        <input type="hidden" name="amount" value="" />
                        <button type="submit">{s.remove}</button>
                    </form>
                </td>
            </tr>
        }).collect_view().into_any()
        };
    view! {
        <section class="card" aria-labelledby="h-refund-approval">
            <h2 id="h-refund-approval">{s.h_refunds}</h2>
            <p class="muted">{s.refunds_intro}</p>
            <table class="data" id="refund-thresholds"><tbody>{list}</tbody></table>
            <form method="post" action="/rpc/set_refund_threshold" class="row" id="threshold-form">
                <div class="field">
                    <label for="threshold-role">{s.threshold_role}</label>
                    <select id="threshold-role" name="role">
                        {[Role::Support, Role::Admin].into_iter().map(|r| view! {
                            <option value=r.as_str()>{t.role(r)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="threshold-amount">{s.threshold_above}</label>
                    <input id="threshold-amount" name="amount" type="text" inputmode="decimal" size="10" />
                    <span class="hint muted">{s.threshold_hint}</span>
                </div>
                <div class="field">
                    <label for="threshold-currency">{s.currency}</label>
                    <select id="threshold-currency" name="currency">
                        {Currency::ALL.into_iter().map(|c| view! { <option value=c.code()>{c.code()}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary">{s.save}</button>
            </form>
        </section>
    }
}

fn keys_card(t: &'static Messages, v: &SecurityData) -> impl IntoView + use<> {
    let s = t.security;
    let body = if v.keys.is_empty() {
        view! { <p class="empty">{s.keys_none}</p> }.into_any()
    } else {
        v.keys.clone().into_iter().map(|(name, policy)| view! {
            <form method="post" action="/rpc/set_key_refund_policy" class="row" data-key=name.clone()>
                <input type="hidden" name="name" value=name.clone() />
                <span class="mono">{name.clone()}</span>
                <select name="policy" aria-label=s.h_keys>
                    {KeyRefundPolicy::ALL.into_iter().map(|p| view! {
                        <option value=p.as_str() selected={p == policy}>{s.key_policy(p)}</option>
                    }).collect_view()}
                </select>
                <button type="submit">{s.save}</button>
            </form>
        }).collect_view().into_any()
    };
    view! {
        <section class="card" aria-labelledby="h-keys">
            <h2 id="h-keys">{s.h_keys}</h2>
            {body}
        </section>
    }
}
