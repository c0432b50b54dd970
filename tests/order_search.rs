//! The dashboard's order search and refunds list, on SQLite and Postgres: each filter,
//! keyset paging in both directions without gaps or duplicates (including rows that share
//! a timestamp), and scoping to one creator.

mod support;

use std::collections::HashSet;

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus, RefundStatus};
use paydesk_core::store::{NewOrder, Order, OrderSearch, RefundRequest, RefundSearch, Store};

on_both_backends!(
    each_filter_narrows_the_search,
    keyset_pages_cover_every_row_once_in_both_directions,
    merchants_see_only_their_own_orders_and_refunds,
    refunds_list_filters_by_status_and_pages,
);

/// A base time so fixtures sit in a known range (2026-11-01 00:00 UTC).
const T0: i64 = 1_793_491_200_000;

struct Fixture<'a> {
    no: &'a str,
    channel: &'a str,
    minor: i64,
    currency: Currency,
    creator: &'a str,
    created_at: i64,
}

impl Default for Fixture<'_> {
    fn default() -> Self {
        Fixture {
            no: "",
            channel: "alipay-sandbox",
            minor: 1000,
            currency: Currency::Cny,
            creator: "mia",
            created_at: T0,
        }
    }
}

async fn add(store: &Store, f: Fixture<'_>) -> Order {
    let order = store
        .create_order(
            NewOrder {
                out_trade_no: f.no,
                channel: f.channel,
                amount: Money::new(f.minor, f.currency).expect("money"),
                subject: "测试",
                creator: f.creator,
                expires_at: f.created_at + 15 * 60_000,
                qr_code: None,
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::User(f.creator.into()),
        )
        .await
        .expect("create order");
    // Creation stamps "now"; the search is about when, so pin it.
    sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2")
        .bind(f.created_at)
        .bind(&order.id)
        .execute(store.pool())
        .await
        .expect("pin created_at");
    store
        .order(f.no)
        .await
        .expect("read")
        .expect("order exists")
}

async fn pay(store: &Store, o: &Order, trade_no: &str) {
    store
        .mark_paid(&o.out_trade_no, trade_no, o.amount, &Cause::Query)
        .await
        .expect("pay");
}

async fn numbers(store: &Store, s: OrderSearch) -> Vec<String> {
    let s = OrderSearch { limit: 100, ..s };
    store
        .search_orders(&s)
        .await
        .expect("search")
        .into_iter()
        .map(|o| o.out_trade_no)
        .collect()
}

async fn each_filter_narrows_the_search(store: &Store) {
    let a = add(
        store,
        Fixture {
            no: "ORD-A",
            created_at: T0,
            ..Default::default()
        },
    )
    .await;
    add(
        store,
        Fixture {
            no: "ORD-B",
            channel: "wechatpay-sandbox",
            minor: 250,
            created_at: T0 + 1000,
            creator: "noah",
            ..Default::default()
        },
    )
    .await;
    add(
        store,
        Fixture {
            no: "ORD-C",
            channel: "stripe-sandbox",
            minor: 5000,
            currency: Currency::Usd,
            created_at: T0 + 2000,
            ..Default::default()
        },
    )
    .await;
    pay(store, &a, "2026110122001").await;

    assert_eq!(
        numbers(store, OrderSearch::default()).await,
        ["ORD-C", "ORD-B", "ORD-A"],
        "newest first by default"
    );
    assert_eq!(
        numbers(
            store,
            OrderSearch {
                oldest_first: true,
                ..Default::default()
            }
        )
        .await,
        ["ORD-A", "ORD-B", "ORD-C"]
    );
    let by_number = |n: &str| OrderSearch {
        number: Some(n.into()),
        ..Default::default()
    };
    assert_eq!(numbers(store, by_number("ORD-B")).await, ["ORD-B"]);
    assert_eq!(
        numbers(store, by_number("2026110122001")).await,
        ["ORD-A"],
        "the provider's trade number finds the order too"
    );
    assert!(numbers(store, by_number("ORD")).await.is_empty(), "exact");
    assert_eq!(
        numbers(
            store,
            OrderSearch {
                status: Some(OrderStatus::Paid),
                ..Default::default()
            }
        )
        .await,
        ["ORD-A"]
    );
    assert_eq!(
        numbers(
            store,
            OrderSearch {
                channel: Some("wechatpay-sandbox".into()),
                ..Default::default()
            }
        )
        .await,
        ["ORD-B"]
    );
    assert_eq!(
        numbers(
            store,
            OrderSearch {
                currency: Some("USD".into()),
                ..Default::default()
            }
        )
        .await,
        ["ORD-C"]
    );
    assert_eq!(
        numbers(
            store,
            OrderSearch {
                min_minor: Some(250),
                max_minor: Some(1000),
                ..Default::default()
            }
        )
        .await,
        ["ORD-B", "ORD-A"],
        "amount bounds are inclusive"
    );
    assert_eq!(
        numbers(
            store,
            OrderSearch {
                from_ms: Some(T0 + 1000),
                to_ms: Some(T0 + 2000),
                ..Default::default()
            }
        )
        .await,
        ["ORD-B"],
        "from inclusive, to exclusive"
    );
    assert_eq!(
        numbers(
            store,
            OrderSearch {
                creator: Some("noah".into()),
                ..Default::default()
            }
        )
        .await,
        ["ORD-B"]
    );
    assert!(
        numbers(
            store,
            OrderSearch {
                creator: Some("noah".into()),
                status: Some(OrderStatus::Paid),
                ..Default::default()
            }
        )
        .await
        .is_empty(),
        "filters combine with AND"
    );
}

/// Walks every page of `s` and returns the numbers in the order seen.
async fn walk(store: &Store, s: &OrderSearch, page: i64) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let rows = store
            .search_orders(&OrderSearch {
                after: after.clone(),
                limit: page,
                ..s.clone()
            })
            .await
            .expect("page");
        let Some(last) = rows.last() else { break };
        after = Some((last.created_at, last.id.clone()));
        let full = rows.len() as i64 == page;
        seen.extend(rows.into_iter().map(|o| o.out_trade_no));
        if !full {
            break;
        }
    }
    seen
}

async fn keyset_pages_cover_every_row_once_in_both_directions(store: &Store) {
    // 23 orders over 8 timestamps: many share a created_at, so only the id tiebreak keeps
    // pages from skipping or repeating rows.
    let mut all = Vec::new();
    for i in 0..23 {
        let no = format!("PAGE-{i:03}");
        add(
            store,
            Fixture {
                no: &no,
                created_at: T0 + (i / 3) * 1000,
                ..Default::default()
            },
        )
        .await;
        all.push(no);
    }
    let everything: HashSet<String> = all.iter().cloned().collect();
    for page in [1, 4, 5, 23, 50] {
        for oldest_first in [false, true] {
            let s = OrderSearch {
                oldest_first,
                ..Default::default()
            };
            let seen = walk(store, &s, page).await;
            assert_eq!(seen.len(), 23, "page {page} oldest_first {oldest_first}");
            let unique: HashSet<String> = seen.iter().cloned().collect();
            assert_eq!(unique, everything, "no gaps, no duplicates");
            let rows = store
                .search_orders(&OrderSearch {
                    limit: 100,
                    ..s.clone()
                })
                .await
                .expect("all");
            let one_page: Vec<String> = rows.into_iter().map(|o| o.out_trade_no).collect();
            assert_eq!(seen, one_page, "paging keeps the single-page order");
        }
    }
    // Paging within a filter stays inside the filter.
    let s = OrderSearch {
        from_ms: Some(T0 + 2000),
        to_ms: Some(T0 + 5000),
        ..Default::default()
    };
    let seen = walk(store, &s, 2).await;
    assert_eq!(seen.len(), 9);
    assert!(
        seen.iter()
            .all(|n| (6..15).contains(&n[5..].parse::<i32>().expect("n")))
    );
}

async fn merchants_see_only_their_own_orders_and_refunds(store: &Store) {
    for (no, creator) in [("MIA-1", "mia"), ("NOAH-1", "noah"), ("MIA-2", "mia")] {
        let o = add(
            store,
            Fixture {
                no,
                creator,
                ..Default::default()
            },
        )
        .await;
        pay(store, &o, &format!("TN-{no}")).await;
        let r = store
            .request_refund(
                no,
                &format!("RF-{no}"),
                o.amount,
                "dup",
                &Cause::User("s1".into()),
            )
            .await
            .expect("refund");
        assert!(matches!(r, RefundRequest::Created(_)));
    }
    let mia = OrderSearch {
        creator: Some("mia".into()),
        ..Default::default()
    };
    let mut mine = numbers(store, mia.clone()).await;
    mine.sort();
    assert_eq!(mine, ["MIA-1", "MIA-2"]);
    // Another merchant's order number finds nothing when scoped.
    assert!(
        numbers(
            store,
            OrderSearch {
                number: Some("NOAH-1".into()),
                ..mia
            }
        )
        .await
        .is_empty()
    );
    let refunds = store
        .search_refunds(&RefundSearch {
            creator: Some("mia".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("refunds");
    let mut orders: Vec<String> = refunds.into_iter().map(|r| r.out_trade_no).collect();
    orders.sort();
    assert_eq!(orders, ["MIA-1", "MIA-2"]);
}

async fn refunds_list_filters_by_status_and_pages(store: &Store) {
    let o = add(
        store,
        Fixture {
            no: "RF-ORDER",
            minor: 10_000,
            ..Default::default()
        },
    )
    .await;
    pay(store, &o, "TN-RF").await;
    let cny = |m| Money::new(m, Currency::Cny).expect("money");
    for i in 0..7 {
        store
            .request_refund(
                "RF-ORDER",
                &format!("RFNO-{i:02}"),
                cny(100),
                "partial",
                &Cause::User("s1".into()),
            )
            .await
            .expect("refund");
    }
    let cause = Cause::User("s1".into());
    store
        .fail_refund("RFNO-01", "provider said no", &cause)
        .await
        .expect("fail");
    store
        .complete_refund("RFNO-02", Some("PR-2"), &cause)
        .await
        .expect("complete");
    let failed = store
        .search_refunds(&RefundSearch {
            status: Some(RefundStatus::Failed),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].refund.out_refund_no, "RFNO-01");
    assert_eq!(
        failed[0].refund.failure_reason.as_deref(),
        Some("provider said no")
    );
    assert_eq!(failed[0].out_trade_no, "RF-ORDER");

    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .search_refunds(&RefundSearch {
                before: before.clone(),
                limit: 3,
                ..Default::default()
            })
            .await
            .expect("page");
        let Some(last) = page.last() else { break };
        before = Some((last.refund.created_at, last.refund.id.clone()));
        let full = page.len() == 3;
        seen.extend(page.into_iter().map(|r| r.refund.out_refund_no));
        if !full {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (7, 7));
}
