//! `/orders`: the order search (a GET form, so filters live in the URL and work without
//! JavaScript), keyset pages, and the CSV export of exactly the current filter.
//! `/orders/{no}` is in [`detail`].

mod detail;
mod refund;
mod views;

pub use detail::{OrderDetailPage, Outcome, RefundStatusCell};

use crate::components::format::{money, time_ms};
use crate::components::layout::{use_session, use_t};
use crate::i18n::Messages;
use crate::pages::section::Section;
use crate::server_fns::orders::{OrderPage, OrderQuery, OrderRow, encode, search_orders};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paydesk_core::money::Currency;
use paydesk_core::order::OrderStatus;
use paydesk_core::role::Capability;
use paydesk_core::timestamp::CHINA_OFFSET_MINUTES;

/// Where the CSV export is served (`server/src/routes/export.rs`).
pub const EXPORT_PATH: &str = "/export/orders.csv";

#[component]
pub fn OrdersPage() -> impl IntoView {
    view! {
        <Section title=|t| t.nav_orders intro=|t| t.page_orders_intro cap=Capability::ViewOrders>
            <OrderSearch />
        </Section>
    }
}

/// The message for an error code: the orders catalog first, then the common one.
pub fn error_text(t: &'static Messages, code: &str) -> String {
    t.orders
        .error(code)
        .or_else(|| t.security.error(code))
        .map(str::to_string)
        .unwrap_or_else(|| t.error(code))
}

#[component]
fn OrderSearch() -> impl IntoView {
    let t = use_t();
    let query = use_query_map();
    let current = Memo::new(move |_| query.with(|q| OrderQuery::from_pairs(|k| q.get(k))));
    let page = Resource::new(move || current.get(), search_orders);
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                let q = current.get();
                match page.await {
                    Ok(p) => {
                        let problem = p.problem.as_ref().map(|e| crate::i18n::search::of(use_session().lang).problem(e));
                        view! {
                            <Filters q=q.clone() channels=p.channels.clone() all_creators=p.all_creators problem=problem.clone() />
                            <views::SavedViews query=q.to_query_string(false) />
                            {match problem {
                                Some(_) => None,
                                None => Some(view! { <Results q p /> }),
                            }}
                        }.into_any()
                    }
                    Err(e) => view! {
                        <Filters q channels=Vec::new() all_creators=false problem=None />
                        <p class="notice error" role="alert" id="orders-error">{t.app_error(&e)}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `<option>`s with the current value selected (the server renders `selected`, so the
/// form shows the active filter without JavaScript).
fn options(items: Vec<(String, String)>, current: &str) -> impl IntoView + use<> {
    let current = current.to_string();
    items
        .into_iter()
        .map(|(value, label)| {
            let selected = value == current;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view()
}

#[component]
fn Filters(
    q: OrderQuery,
    channels: Vec<String>,
    all_creators: bool,
    problem: Option<String>,
) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let any = || (String::new(), o.any.to_string());
    let statuses = std::iter::once(any())
        .chain(
            OrderStatus::ALL
                .into_iter()
                .map(|s| (s.as_str().to_string(), t.common.order_status(s).to_string())),
        )
        .collect();
    let channels = std::iter::once(any())
        .chain(channels.into_iter().map(|c| (c.clone(), c)))
        .collect();
    let currencies = std::iter::once(any())
        .chain(
            Currency::ALL
                .into_iter()
                .map(|c| (c.code().to_string(), c.code().to_string())),
        )
        .collect();
    let sorts = vec![
        (String::new(), o.sort_newest.to_string()),
        ("oldest".to_string(), o.sort_oldest.to_string()),
    ];
    let creator = all_creators.then(|| {
        view! {
            <div class="field">
                <label for="f-creator">{o.f_creator}</label>
                <input id="f-creator" name="creator" type="text" value=q.creator.clone() size="12" />
            </div>
        }
    });
    view! {
        <form method="get" action="/orders" class="filters orders-filters" id="orders-filters">
            <SearchBox q=q.q.clone() problem />
            <div class="field">
                <label for="f-status">{o.f_status}</label>
                <select id="f-status" name="status">{options(statuses, &q.status)}</select>
            </div>
            <div class="field">
                <label for="f-channel">{o.f_channel}</label>
                <select id="f-channel" name="channel">{options(channels, &q.channel)}</select>
            </div>
            <div class="field">
                <label for="f-currency">{o.f_currency}</label>
                <select id="f-currency" name="currency">{options(currencies, &q.currency)}</select>
            </div>
            <div class="field">
                <label for="f-min">{o.f_min}</label>
                <input id="f-min" name="min" type="text" inputmode="decimal" value=q.min.clone() size="8" aria-describedby="f-amount-hint" />
            </div>
            <div class="field">
                <label for="f-max">{o.f_max}</label>
                <input id="f-max" name="max" type="text" inputmode="decimal" value=q.max.clone() size="8" aria-describedby="f-amount-hint" />
            </div>
            <div class="field">
                <label for="f-from">{o.f_from}</label>
                <input id="f-from" name="from" type="date" value=q.from.clone() aria-describedby="f-dates-hint" />
            </div>
            <div class="field">
                <label for="f-to">{o.f_to}</label>
                <input id="f-to" name="to" type="date" value=q.to.clone() aria-describedby="f-dates-hint" />
            </div>
            {creator}
            <div class="field">
                <label for="f-sort">{o.f_sort}</label>
                <select id="f-sort" name="sort">{options(sorts, &q.sort)}</select>
            </div>
            <div class="actions">
                <button type="submit" class="primary" id="orders-search">{t.common.search}</button>
                <a class="button" href="/orders">{t.common.reset}</a>
            </div>
            <p class="hint muted filters-hint">
                <span id="f-amount-hint">{o.f_amount_hint}</span> " · "
                <span id="f-dates-hint">{o.f_dates_hint}</span>
            </p>
        </form>
    }
}

/// The search box, its error (beside it, read out with it) and the grammar's help.
#[component]
fn SearchBox(q: String, problem: Option<String>) -> impl IntoView {
    let s = crate::i18n::search::of(use_session().lang);
    let invalid = problem.is_some().then_some("true");
    let help = s
        .help
        .iter()
        .map(|(example, meaning)| view! { <li><code>{*example}</code> " — " {*meaning}</li> })
        .collect_view();
    view! {
        <div class="field wide search-box">
            <label for="f-q">{s.label}</label>
            <input id="f-q" name="q" type="search" value=q placeholder=s.placeholder
                aria-invalid=invalid aria-describedby="f-q-problem f-q-help" autocomplete="off" />
            {problem.map(|p| view! { <p class="field-error" id="f-q-problem" role="alert">{p}</p> })}
            <details class="search-help" id="f-q-help">
                <summary>{s.help_summary}</summary>
                <ul>{help}</ul>
            </details>
            <p class="search-links">
                <a href="/orders?q=is%3Aattention" id="orders-attention" title=s.attention_hint>{s.attention}</a>
            </p>
        </div>
    }
}

#[component]
fn Results(q: OrderQuery, p: OrderPage) -> impl IntoView {
    let t = use_t();
    let o = t.orders;
    let filters = q.to_query_string(false);
    let export = if filters.is_empty() {
        EXPORT_PATH.to_string()
    } else {
        format!("{EXPORT_PATH}?{filters}")
    };
    let first = format!("/orders?{filters}");
    let next = p.next.clone().map(|c| {
        let sep = if filters.is_empty() { "" } else { "&" };
        format!("/orders?{filters}{sep}after={}", encode(&c))
    });
    let paged = !q.after.is_empty();
    let filtered = !filters.is_empty();
    let body = if p.rows.is_empty() {
        let text = if filtered || paged {
            o.empty_filtered
        } else {
            o.empty_none
        };
        view! { <p class="empty" id="orders-empty">{text}</p> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data orders-table" id="orders-table">
                    <caption class="sr-only">{o.results_caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{o.col_number}</th>
                            <th scope="col">{o.col_status}</th>
                            <th scope="col" class="num">{o.col_amount}</th>
                            <th scope="col">{o.col_channel}</th>
                            <th scope="col">{o.col_subject}</th>
                            <th scope="col">{o.col_creator}</th>
                            <th scope="col">{o.col_created}</th>
                        </tr>
                    </thead>
                    <tbody>{p.rows.into_iter().map(|r| view! { <Row r /> }).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <div class="actions orders-export">
            <a class="button" href=export id="orders-export" download>{o.export_csv}</a>
            <span class="muted hint">{o.export_hint}</span>
        </div>
        {body}
        <nav class="pager" aria-label="pages">
            {paged.then(|| view! { <a class="button" href=first.clone()>{t.common.first_page}</a> })}
            {next.map(|href| view! { <a class="button" href=href id="orders-next" rel="next">{t.common.next_page}</a> })}
        </nav>
    }
}

#[component]
fn Row(r: OrderRow) -> impl IntoView {
    let t = use_t();
    let href = format!("/orders/{}", encode(&r.out_trade_no));
    let refunded = (r.refunded_minor > 0).then(|| {
        view! {
            <br />
            <span class="muted small">
                {t.orders.col_refunded} " " {money(r.refunded_minor, &r.currency)}
            </span>
        }
    });
    view! {
        <tr>
            <td data-label=t.orders.col_number>
                <a href=href class="mono">{r.out_trade_no.clone()}</a>
                {r.provider_trade_no.map(|p| view! { <br /><span class="mono muted small">{p}</span> })}
            </td>
            <td data-label=t.orders.col_status><span class=format!("status {}", r.status.as_str())>{t.common.order_status(r.status)}</span></td>
            <td class="num" data-label=t.orders.col_amount>{money(r.amount_minor, &r.currency)}{refunded}</td>
            <td data-label=t.orders.col_channel>{r.channel}</td>
            <td class="wrap" data-label=t.orders.col_subject>{r.subject}</td>
            <td data-label=t.orders.col_creator>{r.creator}</td>
            <td class="nowrap" data-label=t.orders.col_created>{time_ms(r.created_at, CHINA_OFFSET_MINUTES)}</td>
        </tr>
    }
}
