//! The overview: today's and the last 30 days' figures, a daily volume chart per currency
//! (SVG drawn here, so it renders without JavaScript and prints), pending orders and
//! recent failures. Merchants see their own orders only.

use crate::components::format::{money, time_ms};
use crate::components::layout::{Layout, RequireCap, use_session, use_t};
use crate::i18n::Messages;
use crate::server_fns::overview::{
    ChannelLine, DAYS, DayBar, FailedRefundLine, NotificationLine, OFFSET_MINUTES, OverviewData,
    overview,
};
use leptos::prelude::*;
use paydesk_core::role::Capability;
use std::collections::BTreeMap;

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <Layout>
            <RequireCap cap=None>
                <Welcome />
                <crate::pages::first_steps::FirstSteps />
                <Figures />
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
        <p class="intro">{t.overview_intro}</p>
    }
}

#[component]
fn Figures() -> impl IntoView {
    let t = use_t();
    let data = Resource::new(|| (), |_| overview());
    view! {
        <Suspense fallback=move || view! { <p>{t.loading}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="notice error" role="alert">{t.app_error(&e)}</p> }.into_any(),
                    Ok(o) => view! { <Dashboard o /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(o: OverviewData) -> impl IntoView {
    let t = use_t();
    let to = t.overview;
    let can_checkout = use_session()
        .user
        .is_some_and(|u| u.role.can(Capability::Checkout));
    let charts = charts(t, &o);
    let empty_month = o.month_lines.is_empty();
    view! {
        <div class="overview" id="overview">
            {o.own_only.then(|| view! { <p class="muted">{to.own_only}</p> })}
            <div class="kpis">
                <Kpis heading=to.today lines=o.today_lines.clone() />
                <Kpis heading=to.last_30_days lines=o.month_lines.clone() />
            </div>
            <p class="muted small">{to.success_hint}</p>
            {charts}
            <section class="card">
                <h2>{to.by_channel}</h2>
                {if empty_month {
                    view! {
                        <p class="empty">
                            {to.no_orders} " "
                            {can_checkout.then(|| view! { <a href="/checkout">{to.start_checkout}</a> })}
                        </p>
                    }.into_any()
                } else {
                    view! { <ChannelTable lines=o.month_lines.clone() /> }.into_any()
                }}
            </section>
            <section class="card" id="pending">
                <h2>{to.pending_heading}</h2>
                {if o.pending_count == 0 {
                    view! { <p class="empty">{to.pending_none}</p> }.into_any()
                } else {
                    view! {
                        <p>{(to.pending_count)(
                            o.pending_count,
                            o.pending_oldest.map(|at| time_ms(at, OFFSET_MINUTES)).as_deref(),
                        )}</p>
                        <p><a href="/orders?status=pending">{to.see_pending}</a></p>
                    }.into_any()
                }}
            </section>
            <section class="card" id="failures">
                <h2>{to.failures_heading}</h2>
                <h3>{to.failed_refunds}</h3>
                <FailedRefunds rows=o.failed_refunds.clone() />
                {o.notification_problems.clone().map(|rows| view! {
                    <h3>{to.notification_problems}</h3>
                    <NotificationProblems rows />
                })}
            </section>
        </div>
    }
}

/// Sums of several lines, per currency (amounts in different currencies never add up).
/// Saturating, like the store's sums: absurd old rows show the largest figure instead of
/// panicking the page (`paydesk_core::store::stats`).
fn per_currency(lines: &[ChannelLine], f: impl Fn(&ChannelLine) -> i64) -> Vec<(String, i64)> {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for l in lines {
        let sum = sums.entry(l.currency.clone()).or_default();
        *sum = sum.saturating_add(f(l));
    }
    sums.into_iter().collect()
}

fn percent(permille: Option<i64>, none: &'static str) -> String {
    match permille {
        Some(p) => format!("{}.{}%", p / 10, p % 10),
        None => none.to_string(),
    }
}

#[component]
fn Kpis(heading: &'static str, lines: Vec<ChannelLine>) -> impl IntoView {
    let t = use_t();
    let to = t.overview;
    let volume = per_currency(&lines, |l| l.volume_minor);
    let refunded: Vec<_> = per_currency(&lines, |l| l.refunded_minor)
        .into_iter()
        .filter(|(_, v)| *v > 0)
        .collect();
    let net = per_currency(&lines, |l| l.volume_minor.saturating_sub(l.refunded_minor));
    let sum = |f: fn(&ChannelLine) -> i64| lines.iter().map(f).sum::<i64>();
    let total = ChannelLine {
        created: sum(|l| l.created),
        created_paid: sum(|l| l.created_paid),
        created_pending: sum(|l| l.created_pending),
        paid: sum(|l| l.paid),
        refund_count: sum(|l| l.refund_count),
        ..ChannelLine::default()
    };
    let amounts = |v: Vec<(String, i64)>, empty: &'static str| {
        if v.iter().all(|(_, x)| *x == 0) {
            view! { <span class="muted">{empty}</span> }.into_any()
        } else {
            v.into_iter()
                .filter(|(_, x)| *x != 0)
                .map(|(c, x)| view! { <span class="num">{money(x, &c)}</span> })
                .collect_view()
                .into_any()
        }
    };
    view! {
        <section class="card kpi">
            <h2>{heading}</h2>
            <dl class="facts">
                <dt>{to.volume}</dt>
                <dd class="kpi-volume">{amounts(volume, to.no_volume)}</dd>
                <dt>{to.paid_orders}</dt>
                <dd class="num">{total.paid}</dd>
                <dt>{to.success_rate}</dt>
                <dd class="kpi-success">
                    <span class="num">{percent(total.success_permille(), t.common.none)}</span> " "
                    <span class="muted small">
                        {(to.success_of)(total.created_paid, total.created - total.created_pending)}
                    </span>
                </dd>
                <dt>{to.refunds}</dt>
                <dd>
                    <span class="num">{total.refund_count}</span> " "
                    {amounts(refunded, "")}
                </dd>
                <dt>{to.net}</dt>
                <dd class="kpi-net">{amounts(net, to.no_volume)}</dd>
            </dl>
        </section>
    }
}

#[component]
fn ChannelTable(lines: Vec<ChannelLine>) -> impl IntoView {
    let t = use_t();
    let to = t.overview;
    view! {
        <div class="table-wrap">
            <table class="data" id="channel-figures">
                <thead>
                    <tr>
                        <th>{to.col_channel}</th>
                        <th class="num">{to.col_created}</th>
                        <th class="num">{to.col_paid}</th>
                        <th class="num">{to.col_success}</th>
                        <th class="num">{to.col_volume}</th>
                        <th class="num">{to.col_refunds}</th>
                    </tr>
                </thead>
                <tbody>
                    {lines.into_iter().map(|l| {
                        let rate = percent(l.success_permille(), t.common.none);
                        view! {
                            <tr>
                                <td class="mono" data-label=to.col_channel>{l.channel.clone()}</td>
                                <td class="num" data-label=to.col_created>{l.created}</td>
                                <td class="num" data-label=to.col_paid>{l.paid}</td>
                                <td class="num" data-label=to.col_success>{rate}</td>
                                <td class="num" data-label=to.col_volume>{money(l.volume_minor, &l.currency)}</td>
                                <td class="num" data-label=to.col_refunds>{l.refund_count} " / " {money(l.refunded_minor, &l.currency)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn FailedRefunds(rows: Vec<FailedRefundLine>) -> impl IntoView {
    let t = use_t();
    let to = t.overview;
    if rows.is_empty() {
        return view! { <p class="empty">{to.no_failed_refunds}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data" id="failed-refunds">
                <thead>
                    <tr>
                        <th>{to.col_when}</th>
                        <th>{to.col_refund}</th>
                        <th>{to.col_order}</th>
                        <th class="num">{to.col_amount}</th>
                        <th>{to.col_reason}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <td data-label=to.col_when>{time_ms(r.created_at, OFFSET_MINUTES)}</td>
                            <td class="mono" data-label=to.col_refund>{r.out_refund_no}</td>
                            <td class="mono" data-label=to.col_order><a href=format!("/orders/{}", r.out_trade_no)>{r.out_trade_no.clone()}</a></td>
                            <td class="num" data-label=to.col_amount>{money(r.amount_minor, &r.currency)}</td>
                            <td class="wrap" data-label=to.col_reason>{r.failure_reason.unwrap_or_else(|| t.common.none.to_string())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn NotificationProblems(rows: Vec<NotificationLine>) -> impl IntoView {
    let t = use_t();
    let to = t.overview;
    if rows.is_empty() {
        return view! { <p class="empty">{to.no_notification_problems}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="data" id="notification-problems">
                <thead>
                    <tr>
                        <th>{to.col_when}</th>
                        <th>{to.col_provider}</th>
                        <th>{to.col_verdict}</th>
                        <th>{to.col_order}</th>
                        <th>{to.col_reason}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|n| {
                        let verdict = if n.verdict == "rejected" { to.verdict_rejected } else { to.verdict_refused };
                        view! {
                            <tr>
                                <td data-label=to.col_when>{time_ms(n.received_at, OFFSET_MINUTES)}</td>
                                <td data-label=to.col_provider>{crate::pages::checkout::provider_name(t, &n.provider)} " " <span class="mono muted">{n.channel}</span></td>
                                <td data-label=to.col_verdict><span class=format!("status {}", n.verdict)>{verdict}</span></td>
                                <td class="mono" data-label=to.col_order>{n.out_trade_no.unwrap_or_default()}</td>
                                <td class="wrap" data-label=to.col_reason>{n.reason.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// One chart card per currency that had payments in the last 30 days.
fn charts(t: &'static Messages, o: &OverviewData) -> AnyView {
    let to = t.overview;
    let mut currencies: Vec<&str> = o.daily.iter().map(|d| d.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    if currencies.is_empty() {
        return view! {
            <section class="card chart-card">
                <p class="empty">{to.chart_empty}</p>
            </section>
        }
        .into_any();
    }
    currencies
        .into_iter()
        .map(|c| {
            let bars: Vec<&DayBar> = o.daily.iter().filter(|d| d.currency == c).collect();
            let (svg, legend) = bar_chart(&bars, o.today, c, &(to.chart_label)(c));
            let legend = legend
                .into_iter()
                .enumerate()
                .map(|(i, name)| {
                    view! { <li><span class=format!("swatch series-{}", i % 4)></span><span class="mono">{name}</span></li> }
                })
                .collect_view();
            view! {
                <section class="card chart-card">
                    <h2>{(to.chart_heading)(c)}</h2>
                    <div class="chart" inner_html=svg></div>
                    <ul class="legend">{legend}</ul>
                </section>
            }
        })
        .collect_view()
        .into_any()
}

/// A stacked bar chart of daily volume, one bar per day for the last [`DAYS`] days and one
/// colour per channel (CSS classes `series-N`, so light and dark themes both work).
/// Returns the SVG and the channel names in series order.
fn bar_chart(bars: &[&DayBar], today: i64, currency: &str, label: &str) -> (String, Vec<String>) {
    const W: i64 = 600;
    const H: i64 = 200;
    const LEFT: i64 = 8;
    const BOTTOM: i64 = 20;
    const TOP: i64 = 16;
    let first = today - DAYS + 1;
    let mut channels: Vec<String> = bars.iter().map(|b| b.channel.clone()).collect();
    channels.sort();
    channels.dedup();
    let mut per_day: BTreeMap<i64, i64> = BTreeMap::new();
    for b in bars {
        let day = per_day.entry(b.day).or_default();
        *day = day.saturating_add(b.volume_minor);
    }
    let max = per_day.values().copied().max().unwrap_or(0).max(1);
    let slot = (W - LEFT) / DAYS;
    let plot_h = H - BOTTOM - TOP;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{}" class="bar-chart">"#,
        escape(label)
    );
    svg.push_str(&format!(
        r#"<line class="axis" x1="{LEFT}" y1="{y}" x2="{W}" y2="{y}"/>"#,
        y = H - BOTTOM
    ));
    svg.push_str(&format!(
        r#"<text class="max" x="{LEFT}" y="11">{}</text>"#,
        escape(&crate::components::format::money(max, currency))
    ));
    for i in 0..DAYS {
        let day = first + i;
        let x = LEFT + i * slot + 2;
        let mut y = H - BOTTOM;
        for (s, ch) in channels.iter().enumerate() {
            let Some(b) = bars.iter().find(|b| b.day == day && &b.channel == ch) else {
                continue;
            };
            let h = ((b.volume_minor as f64 / max as f64) * plot_h as f64).round() as i64;
            let h = h.max(1);
            y -= h;
            svg.push_str(&format!(
                r#"<rect class="series-{}" x="{x}" y="{y}" width="{}" height="{h}"><title>{} {} {} ({})</title></rect>"#,
                s % 4,
                slot - 4,
                date(day),
                escape(ch),
                escape(&crate::components::format::money(b.volume_minor, currency)),
                b.count
            ));
        }
        if i % 5 == 4 || i == DAYS - 1 {
            svg.push_str(&format!(
                r#"<text class="day" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                x + (slot - 4) / 2,
                H - 5,
                date(day)
            ));
        }
    }
    svg.push_str("</svg>");
    (svg, channels)
}

/// `MM-DD` of a day number.
fn date(day: i64) -> String {
    time_ms(day * 86_400_000, 0)[5..10].to_string()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(day: i64, channel: &str, v: i64) -> DayBar {
        DayBar {
            day,
            channel: channel.into(),
            currency: "CNY".into(),
            count: 1,
            volume_minor: v,
        }
    }

    #[test]
    fn chart_stacks_channels_per_day() {
        let a = bar(100, "alipay-sandbox", 300);
        let b = bar(100, "wechatpay-sandbox", 100);
        let c = bar(90, "alipay-sandbox", 50);
        let (svg, legend) = bar_chart(&[&a, &b, &c], 100, "CNY", "label <x>");
        assert_eq!(legend, ["alipay-sandbox", "wechatpay-sandbox"]);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("label &lt;x&gt;"));
        assert!(svg.contains("¥4.00 CNY"), "the tallest day sets the scale");
    }

    #[test]
    fn dates_are_month_and_day() {
        // Day 20_415 is 2025-11-23.
        assert_eq!(date(20_415), "11-23");
    }
}
