//! A real SQLite store with a handful of orders, for the order-search target, and the
//! search rule written out in plain Rust as the oracle.

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::Cause;
use paydesk_core::store::{MAX_PAGE, NewOrder, Order, OrderSearch, Store};

/// 2026-11-01 00:00 UTC, so the orders sit on known dates (as in tests/order_search.rs).
pub const T0: i64 = 1_793_491_200_000;

/// (number, channel, minor, currency, creator, created_at offset ms, state)
type Fixture = (
    &'static str,
    &'static str,
    i64,
    Currency,
    &'static str,
    i64,
    &'static str,
);

/// Different channels, currencies, amounts, creators and days; two pairs share a
/// timestamp so keyset paging must break ties by id.
const FIXTURES: [Fixture; 10] = [
    (
        "ORD-A",
        "alipay-sandbox",
        1000,
        Currency::Cny,
        "mia",
        0,
        "paid",
    ),
    (
        "ORD-B",
        "wechatpay-sandbox",
        250,
        Currency::Cny,
        "noah",
        1000,
        "pending",
    ),
    (
        "ORD-C",
        "stripe-sandbox",
        5000,
        Currency::Usd,
        "mia",
        2000,
        "pending",
    ),
    (
        "ORD-D",
        "alipay-sandbox",
        1,
        Currency::Cny,
        "mia",
        2000,
        "closed",
    ),
    (
        "ORD-E",
        "alipay-sandbox",
        4_999_999,
        Currency::Cny,
        "shop-api",
        86_400_000,
        "paid",
    ),
    (
        "ORD-F",
        "stripe-sandbox",
        12,
        Currency::Jpy,
        "noah",
        86_400_000,
        "pending",
    ),
    (
        "ORD-G",
        "wechatpay-sandbox",
        1000,
        Currency::Cny,
        "mia",
        2 * 86_400_000,
        "pending",
    ),
    (
        "ORD-H",
        "stripe-sandbox",
        1234,
        Currency::Kwd,
        "mia",
        -86_400_000,
        "paid",
    ),
    (
        "ORD-I",
        "alipay-sandbox",
        2,
        Currency::Cny,
        "noah",
        40 * 86_400_000,
        "closed",
    ),
    (
        "ORD-J",
        "wechatpay-sandbox",
        5_000_000,
        Currency::Cny,
        "mia",
        3,
        "pending",
    ),
];

pub struct Fixtures {
    pub store: Store,
    pub orders: Vec<Order>,
}

/// A fresh database file for this process, migrated, with [`FIXTURES`] in it.
pub async fn store_with_orders() -> Fixtures {
    let path = std::env::temp_dir().join(format!("paydesk-fuzz-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate");
    let mut orders = Vec::new();
    for (no, channel, minor, currency, creator, offset, state) in FIXTURES {
        let cause = Cause::User(creator.into());
        let order = store
            .create_order(
                NewOrder {
                    out_trade_no: no,
                    channel,
                    amount: Money::new(minor, currency).expect("fixture amount"),
                    subject: "测试, \"quoted\"",
                    creator,
                    expires_at: T0 + offset + 15 * 60_000,
                    qr_code: None,
                    merchant_notify_url: None,
                    api_key_id: None,
                    next_query_at: None,
                    pay_method: paydesk_core::order::PayMethod::Qr,
                },
                &cause,
            )
            .await
            .expect("create order");
        match state {
            "paid" => {
                let trade_no = format!("TRADE-{no}");
                store
                    .mark_paid(no, &trade_no, order.amount, &cause)
                    .await
                    .expect("pay");
            }
            "closed" => {
                store.close_order(no, &cause).await.expect("close");
            }
            _ => {}
        }
        // Creation stamps "now"; searches are about when, so pin it.
        sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2")
            .bind(T0 + offset)
            .bind(&order.id)
            .execute(store.pool())
            .await
            .expect("pin created_at");
        orders.push(store.order(no).await.expect("read").expect("order exists"));
    }
    Fixtures { store, orders }
}

fn matches(s: &OrderSearch, o: &Order) -> bool {
    let key = (o.created_at, o.id.as_str());
    s.number
        .as_deref()
        .is_none_or(|n| o.out_trade_no == n || o.provider_trade_no.as_deref() == Some(n))
        && s.status.is_none_or(|st| o.status == st)
        && s.channel.as_deref().is_none_or(|c| o.channel == c)
        && s.currency
            .as_deref()
            .is_none_or(|c| o.amount.currency().code() == c)
        && s.min_minor.is_none_or(|m| o.amount.minor() >= m)
        && s.max_minor.is_none_or(|m| o.amount.minor() <= m)
        && s.from_ms.is_none_or(|t| o.created_at >= t)
        && s.to_ms.is_none_or(|t| o.created_at < t)
        && s.creator.as_deref().is_none_or(|c| o.creator == c)
        && s.after.as_ref().is_none_or(|(at, id)| {
            let after = (*at, id.as_str());
            if s.oldest_first {
                key > after
            } else {
                key < after
            }
        })
}

/// The ids one page of `s` must return, in order.
pub fn expected_page(s: &OrderSearch, all: &[Order]) -> Vec<String> {
    let mut hits: Vec<&Order> = all.iter().filter(|o| matches(s, o)).collect();
    hits.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    if !s.oldest_first {
        hits.reverse();
    }
    let limit = usize::try_from(s.limit.clamp(1, MAX_PAGE)).unwrap_or(1);
    hits.into_iter().take(limit).map(|o| o.id.clone()).collect()
}

/// Whether SQLite's and Rust's text comparison can be trusted to agree: SQLite leaves
/// comparisons of text with embedded NULs undefined, so such searches are only run, not
/// judged.
pub fn comparable(s: &OrderSearch) -> bool {
    let texts = [
        s.number.as_deref(),
        s.channel.as_deref(),
        s.currency.as_deref(),
        s.creator.as_deref(),
        s.after.as_ref().map(|(_, id)| id.as_str()),
    ];
    texts.iter().flatten().all(|t| !t.contains('\0'))
}
