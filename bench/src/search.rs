//! Order search on a large table: the dashboard's filter shapes, 50 rows a page, keyset
//! paging, measured through `Store::search_orders` (the function the orders page and the
//! CSV export call) on a database migrated by `paydesk migrate`.

use std::time::Instant;

use anyhow::{Result, bail};
use paydesk_core::order::OrderStatus;
use paydesk_core::order_query::{needle, search_text};
use paydesk_core::store::{Backend, Fragment, OrderSearch, Store};
use rand::Rng;

use crate::Database;
use crate::report::Table;
use crate::server::{DataPlace, Env};

const PAGE: i64 = 50;
/// Seeded orders span this many days back from now.
const DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;
const CREATORS: usize = 20;

pub struct SearchReport {
    pub database: Database,
    pub orders: usize,
    pub seed_secs: f64,
    /// (shape, rows per search on average, p50 ms, p95 ms, max ms)
    pub shapes: Vec<(String, f64, f64, f64, f64)>,
}

impl SearchReport {
    pub fn markdown(&self) -> String {
        let mut t = Table::new(&["search shape", "database", "rows", "p50", "p95", "max"]);
        for (shape, rows, p50, p95, max) in &self.shapes {
            t.row(vec![
                shape.clone(),
                format!("{:?}", self.database).to_lowercase(),
                format!("{rows:.0}"),
                format!("{p50:.2} ms"),
                format!("{p95:.2} ms"),
                format!("{max:.2} ms"),
            ]);
        }
        format!(
            "{} orders seeded in {:.0} s\n\n{}",
            self.orders,
            self.seed_secs,
            t.render()
        )
    }
}

pub async fn run(
    env: &Env,
    database: Database,
    orders: usize,
    rounds: usize,
) -> Result<SearchReport> {
    let place = DataPlace::fresh(env, database).await?;
    let store = Store::connect(&place.database_url).await?;
    store.migrate().await?;
    let now = paydesk_core::time::now_ms();
    eprintln!("seeding {orders} orders…");
    let t = Instant::now();
    seed(&store, orders, now).await?;
    let seed_secs = t.elapsed().as_secs_f64();
    let mut rng = rand::thread_rng();
    let mut shapes = Vec::new();
    for shape in Shape::ALL {
        let mut times = Vec::with_capacity(rounds);
        let mut rows = 0usize;
        for _ in 0..rounds {
            let mut s = shape.search(&mut rng, now, orders);
            // Half the rounds fetch a later page: the cursor of a page a few pages in.
            if shape.pages() && rng.gen_bool(0.5) {
                for _ in 0..rng.gen_range(1..=5) {
                    let page = store.search_orders(&s).await?;
                    match page.last() {
                        Some(o) => s.after = Some((o.created_at, o.id.clone())),
                        None => break,
                    }
                }
            }
            let t = Instant::now();
            let page = store.search_orders(&s).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            rows += page.len();
            if let Some(check) = shape.check()
                && !page.iter().all(&check)
            {
                bail!("{}: a row does not match the filter", shape.name());
            }
        }
        times.sort_by(f64::total_cmp);
        let q =
            |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
        shapes.push((
            shape.name().to_string(),
            rows as f64 / rounds as f64,
            q(0.5),
            q(0.95),
            q(1.0),
        ));
        eprintln!("{:<50} p95 {:.2} ms", shape.name(), q(0.95));
    }
    store.close().await;
    Ok(SearchReport {
        database,
        orders,
        seed_secs,
        shapes,
    })
}

#[derive(Clone, Copy)]
enum Shape {
    All,
    Status,
    ChannelStatus,
    Creator,
    CreatorStatusWeek,
    Number,
    ProviderNumber,
    LastWeekPaid,
    AmountRangeChannel,
    ExactAmount,
    NarrowAmount,
    Currency,
    OldestFirstDay,
    NumberEnd,
    NumberMiddle,
    SharedFragment,
    ProviderStart,
    SubjectWord,
    ChineseWord,
    RareChineseWord,
    Grammar,
    Attention,
}

impl Shape {
    const ALL: [Shape; 22] = [
        Shape::All,
        Shape::Status,
        Shape::ChannelStatus,
        Shape::Creator,
        Shape::CreatorStatusWeek,
        Shape::Number,
        Shape::ProviderNumber,
        Shape::LastWeekPaid,
        Shape::AmountRangeChannel,
        Shape::ExactAmount,
        Shape::NarrowAmount,
        Shape::Currency,
        Shape::OldestFirstDay,
        Shape::NumberEnd,
        Shape::NumberMiddle,
        Shape::SharedFragment,
        Shape::ProviderStart,
        Shape::SubjectWord,
        Shape::ChineseWord,
        Shape::RareChineseWord,
        Shape::Grammar,
        Shape::Attention,
    ];

    fn name(self) -> &'static str {
        match self {
            Shape::All => "every order, newest first",
            Shape::Status => "status",
            Shape::ChannelStatus => "channel + status",
            Shape::Creator => "creator (a merchant's own orders)",
            Shape::CreatorStatusWeek => "creator + status + 7-day range",
            Shape::Number => "our order number",
            Shape::ProviderNumber => "provider trade number",
            Shape::LastWeekPaid => "paid in a 7-day range",
            Shape::AmountRangeChannel => "channel + amount range (¥10–¥20)",
            Shape::ExactAmount => "exact amount (\"the customer paid ¥123.45\")",
            Shape::NarrowAmount => "amount range ¥1 wide (¥123.00–¥124.00)",
            Shape::Currency => "currency USD",
            Shape::OldestFirstDay => "one day, oldest first",
            Shape::NumberEnd => "search box: last 6 characters of the number",
            Shape::NumberMiddle => "search box: 7 characters from the middle of the number",
            Shape::SharedFragment => "search box: a fragment every order has (s000000, lower case)",
            Shape::ProviderStart => "search box: start of the provider trade number",
            Shape::SubjectWord => "search box: a subject word (1 order in 8)",
            Shape::ChineseWord => "search box: a 2-character Chinese word (1 in 8)",
            Shape::RareChineseWord => "search box: a Chinese word (1 in 1,000)",
            Shape::Grammar => {
                "search box: status:paid channel:… amount:>100 created:>=… -status:closed"
            }
            Shape::Attention => "search box: is:attention",
        }
    }

    fn search(self, rng: &mut impl Rng, now: i64, orders: usize) -> OrderSearch {
        let status = [
            OrderStatus::Paid,
            OrderStatus::Pending,
            OrderStatus::Closed,
            OrderStatus::Refunded,
            OrderStatus::PartiallyRefunded,
        ][rng.gen_range(0..5)];
        let channel = CHANNELS[rng.gen_range(0..CHANNELS.len())].to_string();
        let creator = format!("merchant{}", rng.gen_range(0..CREATORS));
        let week_start = now - rng.gen_range(7..DAYS) * DAY_MS;
        let i = rng.gen_range(0..orders);
        let base = OrderSearch {
            limit: PAGE,
            ..OrderSearch::default()
        };
        let text = |t: &str| OrderSearch {
            fragments: vec![Fragment {
                needle: needle(&t.to_lowercase()),
                negated: false,
                typed: t.to_string(),
            }],
            limit: PAGE,
            ..OrderSearch::default()
        };
        let pad = format!("{i:012}");
        match self {
            Shape::NumberEnd => text(&pad[6..]),
            Shape::NumberMiddle => text(&pad[4..11]),
            Shape::SharedFragment => text("s000000"),
            Shape::ProviderStart => text(&format!("T{}", &pad[..9])),
            Shape::SubjectWord => text(["latte", "noodles", "parking", "matcha"][i % 4]),
            Shape::ChineseWord => text(["拿铁", "咖啡", "停车", "抹茶"][i % 4]),
            Shape::RareChineseWord => text("礼品卡"),
            // The documented example names a CNY channel (wechatpay); Stripe's are USD.
            Shape::Grammar => OrderSearch {
                statuses: vec![OrderStatus::Paid],
                not_statuses: vec![OrderStatus::Closed],
                channels: vec![CHANNELS[i % 2].to_string()],
                currency: Some("CNY".into()),
                min_minor: Some(10_001),
                from_ms: Some(week_start),
                ..base
            },
            Shape::Attention => OrderSearch {
                attention_at: Some(now),
                ..base
            },
            Shape::All => base,
            Shape::Status => OrderSearch {
                status: Some(status),
                ..base
            },
            Shape::ChannelStatus => OrderSearch {
                channel: Some(channel),
                status: Some(status),
                ..base
            },
            Shape::Creator => OrderSearch {
                creator: Some(creator),
                ..base
            },
            Shape::CreatorStatusWeek => OrderSearch {
                creator: Some(creator),
                status: Some(status),
                from_ms: Some(week_start),
                to_ms: Some(week_start + 7 * DAY_MS),
                ..base
            },
            Shape::Number => OrderSearch {
                number: Some(format!("S{i:012}")),
                ..base
            },
            Shape::ProviderNumber => OrderSearch {
                number: Some(format!("T{:012}", i - i % 10)),
                ..base
            },
            Shape::LastWeekPaid => OrderSearch {
                status: Some(OrderStatus::Paid),
                from_ms: Some(week_start),
                to_ms: Some(week_start + 7 * DAY_MS),
                ..base
            },
            Shape::AmountRangeChannel => OrderSearch {
                channel: Some(channel),
                min_minor: Some(1_000),
                max_minor: Some(2_000),
                ..base
            },
            Shape::ExactAmount => {
                let minor = rng.gen_range(100..100_000);
                OrderSearch {
                    min_minor: Some(minor),
                    max_minor: Some(minor),
                    ..base
                }
            }
            Shape::NarrowAmount => {
                let min = rng.gen_range(100..99_900);
                OrderSearch {
                    min_minor: Some(min),
                    max_minor: Some(min + 100),
                    ..base
                }
            }
            Shape::Currency => OrderSearch {
                currency: Some("USD".into()),
                ..base
            },
            Shape::OldestFirstDay => {
                let day = now - rng.gen_range(1..DAYS) * DAY_MS;
                OrderSearch {
                    from_ms: Some(day),
                    to_ms: Some(day + DAY_MS),
                    oldest_first: true,
                    ..base
                }
            }
        }
    }

    /// Whether results span pages (a number search finds one order).
    fn pages(self) -> bool {
        !matches!(self, Shape::Number | Shape::ProviderNumber)
    }

    /// A sanity check on the rows a shape returns.
    #[allow(clippy::type_complexity)]
    fn check(self) -> Option<Box<dyn Fn(&paydesk_core::store::Order) -> bool>> {
        match self {
            Shape::Currency => Some(Box::new(|o| o.amount.currency().code() == "USD")),
            Shape::AmountRangeChannel => {
                Some(Box::new(|o| (1_000..=2_000).contains(&o.amount.minor())))
            }
            Shape::SubjectWord | Shape::ChineseWord | Shape::RareChineseWord => {
                Some(Box::new(|o| o.subject != "seeded"))
            }
            _ => None,
        }
    }
}

/// The subjects by `i % 8` (one in 1,000 a gift card) as SQL `CASE`s: the subject, and
/// its part of `orders.search_text` (what `order_query::search_text` writes after the
/// number).
fn subjects() -> (String, String) {
    const SUBJECTS: [&str; 8] = [
        "冰拿铁 Iced Latte",
        "热美式咖啡 Americano",
        "抹茶蛋糕 Matcha cake",
        "牛肉面 Beef noodles",
        "停车费 Parking",
        "会员充值 Top-up",
        "水果拼盘 Fruit",
        "seeded",
    ];
    const GIFT: &str = "礼品卡 Gift card";
    let tail = |subject: &str| search_text("x", subject)[2..].to_string();
    let case = |f: &dyn Fn(&str) -> String| {
        let arms: String = SUBJECTS
            .iter()
            .enumerate()
            .map(|(k, s)| format!(" WHEN {k} THEN '{}'", f(s)))
            .collect();
        format!(
            "(CASE WHEN i % 1000 = 999 THEN '{}' ELSE CASE i % 8{arms} END END)",
            f(GIFT)
        )
    };
    (case(&|s| s.to_string()), case(&|s| tail(s)))
}

const CHANNELS: [&str; 3] = ["alipay-sandbox", "wechatpay-sandbox", "stripe-sandbox"];

/// `orders` rows in one statement, spread evenly over the last `DAYS` days: channel by
/// `i % 3` (Stripe in USD), status by `i % 10` (60 % paid, 10 % each pending, closed,
/// refunded, partially refunded), 20 creators (independent of status), amounts ¥1–¥1000.
async fn seed(store: &Store, orders: usize, now: i64) -> Result<()> {
    let step = (DAYS * DAY_MS) / orders.max(1) as i64;
    let (source, text_i, pad) = match store.backend() {
        Backend::Sqlite => (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) ",
                orders - 1
            ),
            "CAST(i AS TEXT)",
            "printf('%012d', i)",
        ),
        Backend::Postgres => (String::new(), "i::text", "lpad(i::text, 12, '0')"),
    };
    let from = match store.backend() {
        Backend::Sqlite => "n",
        Backend::Postgres => &format!("generate_series(0::bigint, {}) AS g(i)", orders - 1),
    };
    // Pending only in the last hour (older ones expired and were closed, as the active
    // query job does), so "needs attention" sees what a real database would.
    let status = format!(
        "CASE WHEN i % 10 = 6 AND i * {step} < 3600000 THEN 'pending' WHEN i % 10 IN (6, 7) THEN 'closed' \
         WHEN i % 10 = 8 THEN 'refunded' WHEN i % 10 = 9 THEN 'partially_refunded' ELSE 'paid' END"
    );
    let (subject, text) = subjects();
    let sql = format!(
        "{source}INSERT INTO orders (id, out_trade_no, channel, amount_minor, currency, subject, status, \
         provider_trade_no, creator, created_at, updated_at, expires_at, version, search_text) \
         SELECT 'seed-' || {text_i}, 'S' || {pad}, \
           CASE i % 3 WHEN 0 THEN 'alipay-sandbox' WHEN 1 THEN 'wechatpay-sandbox' ELSE 'stripe-sandbox' END, \
           100 + (i * 7919) % 99900, CASE i % 3 WHEN 2 THEN 'USD' ELSE 'CNY' END, {subject}, {status}, \
           CASE WHEN i % 10 IN (6, 7) THEN NULL ELSE 'T' || {pad} END, \
           'merchant' || CAST((i / 10) % {CREATORS} AS TEXT), {now} - i * {step}, {now} - i * {step}, \
           {now} - i * {step} + 900000, 1, lower('S' || {pad}) || ' ' || {text} \
         FROM {from}"
    );
    sqlx::query(&sql).execute(store.pool()).await?;
    // What "needs attention" finds besides recent pending orders: a failed refund on one
    // order in 1,000, a refused provider notification on another.
    let refunds = "INSERT INTO refunds (id, out_refund_no, order_id, amount_minor, currency, reason, status, \
         requested_by, created_at, updated_at) \
         SELECT 'r' || id, 'R' || out_trade_no, id, 100, currency, '', 'failed', 'support', created_at, created_at \
         FROM orders WHERE status = 'partially_refunded' AND out_trade_no LIKE '%009'";
    sqlx::query(refunds).execute(store.pool()).await?;
    sqlx::query(
        "INSERT INTO notify_inbox (id, provider, channel, received_at, headers, body, status, reason, out_trade_no) \
         SELECT 'n' || id, 'alipay', channel, created_at, '', '', 'refused', 'paid after close', out_trade_no \
         FROM orders WHERE out_trade_no LIKE '%001'",
    )
    .execute(store.pool())
    .await?;
    // What a long-running database has: statistics for the planner.
    let analyze = match store.backend() {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "ANALYZE orders",
    };
    sqlx::query(analyze).execute(store.pool()).await?;
    Ok(())
}
