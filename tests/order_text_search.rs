//! The orders search box on SQLite and Postgres (issue 18): fragments of the order number
//! (start, end, middle, any case), of the provider's trade number (its start), of the
//! subject (Chinese words of one, two and more characters), negated fragments, status and
//! channel lists, and the "needs attention" view; both ways a fragment is served (few
//! matches through the trigram index, many by walking the time-ordered index).

mod support;

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus, PayMethod};
use paydesk_core::order_query::needle;
use paydesk_core::store::{Fragment, NewOrder, Order, OrderSearch, Store};

on_both_backends!(
    fragments_find_orders_by_any_piece,
    status_channel_and_attention_terms,
    a_common_fragment_walks_in_page_order,
    orders_from_before_the_search_text_are_filled_in,
);

async fn add(store: &Store, no: &str, subject: &str, channel: &str) -> Order {
    store
        .create_order(
            NewOrder {
                out_trade_no: no,
                channel,
                amount: Money::new(1234, Currency::Cny).expect("money"),
                subject,
                creator: "mia",
                expires_at: paydesk_core::time::now_ms() + 15 * 60_000,
                qr_code: None,
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at: None,
                pay_method: PayMethod::Qr,
            },
            &Cause::User("mia".into()),
        )
        .await
        .expect("create order")
}

fn fragment(text: &str) -> Fragment {
    Fragment {
        needle: needle(&text.to_lowercase()),
        negated: false,
        typed: text.to_string(),
    }
}

async fn found(store: &Store, s: OrderSearch) -> Vec<String> {
    let mut v: Vec<String> = store
        .search_orders(&OrderSearch { limit: 100, ..s })
        .await
        .expect("search")
        .into_iter()
        .map(|o| o.out_trade_no)
        .collect();
    v.sort();
    v
}

async fn by_text(store: &Store, texts: &[&str]) -> Vec<String> {
    found(
        store,
        OrderSearch {
            fragments: texts.iter().map(|t| fragment(t)).collect(),
            ..Default::default()
        },
    )
    .await
}

async fn fragments_find_orders_by_any_piece(store: &Store) {
    let a = add(
        store,
        "PD20261204X7K9Q2",
        "冰拿铁 Iced Latte",
        "alipay-sandbox",
    )
    .await;
    add(store, "PD20261204M3B8Z1", "热美式咖啡", "alipay-sandbox").await;
    add(store, "shop-order-42_%x", "茶 tea", "stripe-sandbox").await;
    store
        .mark_paid(
            &a.out_trade_no,
            "2026120422001400551234567890",
            a.amount,
            &Cause::Query,
        )
        .await
        .expect("pay");
    let stripe = store
        .order("shop-order-42_%x")
        .await
        .expect("read")
        .expect("order");
    store
        .mark_paid(
            &stripe.out_trade_no,
            "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            stripe.amount,
            &Cause::Query,
        )
        .await
        .expect("pay");
    let one = |s: &str| vec![s.to_string()];
    // A mixed-case provider id (Stripe's) by its start, as typed.
    assert_eq!(
        by_text(store, &["pi_3MtwBwLk"]).await,
        one("shop-order-42_%x")
    );
    // The number: its end (what a customer reads out), start, middle, any case.
    assert_eq!(by_text(store, &["k9q2"]).await, one("PD20261204X7K9Q2"));
    assert_eq!(by_text(store, &["X7K"]).await, one("PD20261204X7K9Q2"));
    assert_eq!(by_text(store, &["pd2026"]).await.len(), 2);
    // LIKE's wildcards are ordinary characters in a fragment.
    assert_eq!(by_text(store, &["42_%"]).await, one("shop-order-42_%x"));
    assert!(by_text(store, &["2_x"]).await.is_empty());
    // The provider's trade number: its start.
    assert_eq!(
        by_text(store, &["2026120422001400"]).await,
        one("PD20261204X7K9Q2")
    );
    // The subject: words, Chinese of 1, 2 and 3 characters; neighbours only.
    assert_eq!(by_text(store, &["latte"]).await, one("PD20261204X7K9Q2"));
    assert_eq!(by_text(store, &["拿铁"]).await, one("PD20261204X7K9Q2"));
    assert_eq!(by_text(store, &["咖啡"]).await, one("PD20261204M3B8Z1"));
    assert_eq!(by_text(store, &["茶"]).await, one("shop-order-42_%x"));
    assert_eq!(by_text(store, &["美式咖"]).await, one("PD20261204M3B8Z1"));
    assert!(by_text(store, &["冰铁"]).await.is_empty());
    // Several fragments: all of them.
    assert_eq!(
        by_text(store, &["pd2026", "iced"]).await,
        one("PD20261204X7K9Q2")
    );
    // Negated: none of them.
    let not_iced = found(
        store,
        OrderSearch {
            fragments: vec![
                fragment("pd2026"),
                Fragment {
                    needle: needle("拿铁"),
                    negated: true,
                    ..Fragment::default()
                },
            ],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(not_iced, one("PD20261204M3B8Z1"));
}

async fn status_channel_and_attention_terms(store: &Store) {
    let paid = add(store, "ATT-PAID-1", "paid", "alipay-sandbox").await;
    store
        .mark_paid(&paid.out_trade_no, "T-1", paid.amount, &Cause::Query)
        .await
        .expect("pay");
    let stuck = add(store, "ATT-STUCK-1", "stuck", "wechatpay-sandbox").await;
    add(store, "ATT-FRESH-1", "fresh", "stripe-sandbox").await;
    let failed = add(store, "ATT-FAILED-1", "refund failed", "alipay-sandbox").await;
    store
        .mark_paid(&failed.out_trade_no, "T-2", failed.amount, &Cause::Query)
        .await
        .expect("pay");
    store
        .request_refund(
            &failed.out_trade_no,
            "R-ATT-1",
            Money::new(100, Currency::Cny).expect("money"),
            "",
            &Cause::User("sam".into()),
        )
        .await
        .expect("refund");
    store
        .fail_refund("R-ATT-1", "ACQ.SYSTEM_ERROR", &Cause::Query)
        .await
        .expect("fail");
    // "Pending for 20 minutes": created 20 minutes ago.
    let now = paydesk_core::time::now_ms();
    sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2")
        .bind(now - 20 * 60_000)
        .bind(&stuck.id)
        .execute(store.pool())
        .await
        .expect("age");
    let with = |s: OrderSearch| OrderSearch {
        fragments: vec![fragment("att-")],
        ..s
    };
    let attention = found(
        store,
        with(OrderSearch {
            attention_at: Some(now),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(attention, vec!["ATT-FAILED-1", "ATT-STUCK-1"]);
    let either = found(
        store,
        with(OrderSearch {
            statuses: vec![OrderStatus::Paid, OrderStatus::Pending],
            not_channels: vec!["stripe-sandbox".into()],
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(either, vec!["ATT-FAILED-1", "ATT-PAID-1", "ATT-STUCK-1"]);
    let not_pending = found(
        store,
        with(OrderSearch {
            not_statuses: vec![OrderStatus::Pending],
            channels: vec!["alipay-sandbox".into()],
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(not_pending, vec!["ATT-FAILED-1", "ATT-PAID-1"]);
}

/// More orders than the trigram index's "few" bound contain the fragment: the search
/// walks the time-ordered index instead and still pages newest first.
async fn a_common_fragment_walks_in_page_order(store: &Store) {
    let n = 10_050;
    sqlx::query(
        "INSERT INTO orders (id, out_trade_no, channel, amount_minor, currency, subject, status, creator, \
         created_at, updated_at, expires_at, search_text) \
         WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1) \
         SELECT 'bulk-' || i, 'BULK-' || i, 'alipay-sandbox', 100, 'CNY', 'bulk', 'pending', 'mia', \
         i, i, i, 'bulk-' || i || ' bulk' FROM seq",
    )
    .bind(n as i64)
    .execute(store.pool())
    .await
    .expect("bulk insert");
    if store.backend() == paydesk_core::store::Backend::Sqlite {
        // Rows written straight to the table go through the FTS trigger too.
        let row: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM order_text WHERE order_text MATCH '\"bulk\"'")
                .fetch_one(store.pool())
                .await
                .expect("count");
        assert_eq!(row.0, n as i64);
    }
    let page = store
        .search_orders(&OrderSearch {
            fragments: vec![fragment("bulk")],
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("search");
    let got: Vec<&str> = page.iter().map(|o| o.out_trade_no.as_str()).collect();
    let want: Vec<String> = (n - 49..=n).rev().map(|i| format!("BULK-{i}")).collect();
    assert_eq!(got, want);
    // A rare fragment among them still finds its one order.
    assert_eq!(by_text(store, &["bulk-99999"]).await.len(), 0);
    assert_eq!(
        by_text(store, &["k-9999"]).await,
        vec!["BULK-9999".to_string()]
    );
}

/// Orders written before the migration (search_text empty) are filled in by the next
/// migrate, on SQLite into the FTS table too.
async fn orders_from_before_the_search_text_are_filled_in(store: &Store) {
    let o = add(store, "OLD-ORDER-77", "旧订单", "alipay-sandbox").await;
    sqlx::query("UPDATE orders SET search_text = '' WHERE id = $1")
        .bind(&o.id)
        .execute(store.pool())
        .await
        .expect("blank");
    if store.backend() == paydesk_core::store::Backend::Sqlite {
        sqlx::query("DELETE FROM order_text")
            .execute(store.pool())
            .await
            .expect("empty fts");
    }
    assert!(by_text(store, &["订单"]).await.is_empty());
    store.migrate().await.expect("migrate again");
    assert_eq!(
        by_text(store, &["订单"]).await,
        vec!["OLD-ORDER-77".to_string()]
    );
    assert_eq!(
        by_text(store, &["der-77"]).await,
        vec!["OLD-ORDER-77".to_string()]
    );
}
