//! Overview figures on SQLite and Postgres: daily volume by UTC+8 calendar day, per-channel
//! figures whose volume and paid count go by the day of payment (so they match the chart)
//! and whose success rate goes by the day of creation and ignores still-pending orders,
//! refunds per channel, pending orders and failed refunds, each optionally limited to one
//! creator's orders.

mod support;

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::Cause;
use paydesk_core::provider::NotifyEvent;
use paydesk_core::store::stats::{DAY_MS, StatsScope, day_start};
use paydesk_core::store::{
    InboxWriter, NewNotification, NewOrder, Outcome, RefundRequest, Store, new_notification_id,
};
use paydesk_core::time::now_ms;

on_both_backends!(
    daily_volume_follows_utc8_calendar_days,
    channel_figures_count_success_and_refunds,
    pending_and_failed_refunds_are_scoped_to_the_creator,
    sums_of_huge_old_amounts_do_not_overflow,
    the_roll_up_the_store_keeps_equals_a_rebuild,
);

const H8: i64 = 8 * 3_600_000;

async fn order(store: &Store, no: &str, channel: &str, minor: i64, currency: Currency, by: &str) {
    store
        .create_order(
            NewOrder {
                out_trade_no: no,
                channel,
                amount: Money::new(minor, currency).expect("money"),
                subject: "test",
                creator: by,
                expires_at: now_ms() + 60_000,
                qr_code: None,
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::User(by.into()),
        )
        .await
        .expect("create");
}

async fn pay(store: &Store, no: &str, minor: i64, currency: Currency) {
    store
        .mark_paid(
            no,
            &format!("P{no}"),
            Money::new(minor, currency).expect("money"),
            &Cause::Query,
        )
        .await
        .expect("pay");
}

/// Moves an order's creation and payment to `at` (the store stamps "now").
async fn backdate(store: &Store, no: &str, at: i64) {
    sqlx::query(
        "UPDATE orders SET created_at = $1, paid_at = CASE WHEN paid_at IS NULL THEN NULL ELSE $1 END WHERE out_trade_no = $2",
    )
    .bind(at)
    .bind(no)
    .execute(store.pool())
    .await
    .expect("backdate");
    // Written behind the store's back: the roll-up is recomputed, as after any such write.
    store.rebuild_order_stats().await.expect("rebuild");
}

/// Moves only an order's creation to `at` (it was paid "now").
async fn backdate_creation(store: &Store, no: &str, at: i64) {
    sqlx::query("UPDATE orders SET created_at = $1 WHERE out_trade_no = $2")
        .bind(at)
        .bind(no)
        .execute(store.pool())
        .await
        .expect("backdate");
    store.rebuild_order_stats().await.expect("rebuild");
}

async fn daily_volume_follows_utc8_calendar_days(store: &Store) {
    let today = day_start(now_ms(), H8);
    // 23:30 and 00:30 local time on either side of midnight: two different days.
    order(store, "D1", "alipay-sandbox", 1000, Currency::Cny, "mia").await;
    pay(store, "D1", 1000, Currency::Cny).await;
    backdate(store, "D1", today - 30 * 60_000).await;
    order(store, "D2", "alipay-sandbox", 250, Currency::Cny, "mia").await;
    pay(store, "D2", 250, Currency::Cny).await;
    backdate(store, "D2", today + 30 * 60_000).await;
    order(store, "D3", "wechatpay-sandbox", 99, Currency::Cny, "bob").await;
    pay(store, "D3", 99, Currency::Cny).await;
    backdate(store, "D3", today + 60 * 60_000).await;
    // Pending orders are no volume.
    order(store, "D4", "alipay-sandbox", 5000, Currency::Cny, "mia").await;

    let from = today - 29 * DAY_MS;
    let rows = store
        .daily_volume(from, today + DAY_MS, H8, StatsScope::default())
        .await
        .expect("volume");
    let day = (today + H8) / DAY_MS;
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.day - day, r.channel.as_str(), r.count, r.volume_minor))
        .collect();
    assert_eq!(
        got,
        [
            (-1, "alipay-sandbox", 1, 1000),
            (0, "alipay-sandbox", 1, 250),
            (0, "wechatpay-sandbox", 1, 99),
        ]
    );
    assert!(rows.iter().all(|r| r.currency == "CNY"));

    let mine = store
        .daily_volume(
            from,
            today + DAY_MS,
            H8,
            StatsScope {
                creator: Some("bob"),
            },
        )
        .await
        .expect("volume");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].volume_minor, 99);
}

async fn channel_figures_count_success_and_refunds(store: &Store) {
    let start = day_start(now_ms(), H8);
    for (no, minor) in [("C1", 1000), ("C2", 2000), ("C3", 3000), ("C4", 4000)] {
        order(store, no, "alipay-sandbox", minor, Currency::Cny, "mia").await;
    }
    pay(store, "C1", 1000, Currency::Cny).await;
    pay(store, "C2", 2000, Currency::Cny).await;
    store
        .close_order("C3", &Cause::System("expired".into()))
        .await
        .expect("close");
    // C4 stays pending: not counted in the success rate.
    let refund = store
        .request_refund(
            "C2",
            "R1",
            Money::new(500, Currency::Cny).expect("money"),
            "",
            &Cause::User("mia".into()),
        )
        .await
        .expect("refund");
    assert!(matches!(refund, RefundRequest::Created(_)));
    store
        .complete_refund("R1", Some("pr1"), &Cause::Query)
        .await
        .expect("complete");
    order(store, "S1", "stripe-sandbox", 700, Currency::Usd, "mia").await;
    pay(store, "S1", 700, Currency::Usd).await;
    // Y1: a checkout started yesterday and paid today. Its money is today's; its success
    // belongs to yesterday's checkouts.
    order(store, "Y1", "alipay-sandbox", 600, Currency::Cny, "mia").await;
    pay(store, "Y1", 600, Currency::Cny).await;
    backdate_creation(store, "Y1", start - 60_000).await;

    let figures = store
        .channel_figures(start, start + DAY_MS, StatsScope::default())
        .await
        .expect("figures");
    assert_eq!(figures.len(), 2, "{figures:?}");
    let alipay = &figures[0];
    assert_eq!(
        (
            alipay.channel.as_str(),
            alipay.currency.as_str(),
            alipay.created,
            alipay.created_paid,
            alipay.created_pending,
            alipay.paid,
            alipay.volume_minor,
            alipay.refund_count,
            alipay.refunded_minor,
        ),
        ("alipay-sandbox", "CNY", 4, 2, 1, 3, 3600, 1, 500)
    );
    // 2 paid of the 3 decided checkouts started today (the pending one is not decided
    // yet; Y1 was started yesterday).
    let rate = alipay.success_rate().expect("rate");
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    let stripe = &figures[1];
    assert_eq!(
        (stripe.currency.as_str(), stripe.paid, stripe.volume_minor),
        ("USD", 1, 700)
    );
    assert_eq!(stripe.success_rate(), Some(1.0));

    // Today's figures are today's bar of the chart.
    let bars = store
        .daily_volume(start, start + DAY_MS, H8, StatsScope::default())
        .await
        .expect("volume");
    let bar = bars
        .iter()
        .find(|b| b.channel == "alipay-sandbox")
        .expect("bar");
    assert_eq!(
        (bar.count, bar.volume_minor),
        (alipay.paid, alipay.volume_minor)
    );

    // Yesterday: Y1 was created and (eventually) paid, but no money arrived yesterday.
    let before = store
        .channel_figures(start - DAY_MS, start, StatsScope::default())
        .await
        .expect("figures");
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(
        (
            before[0].created,
            before[0].created_paid,
            before[0].paid,
            before[0].volume_minor
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(before[0].success_rate(), Some(1.0));

    // The day before: nothing.
    let empty = store
        .channel_figures(start - 2 * DAY_MS, start - DAY_MS, StatsScope::default())
        .await
        .expect("figures");
    assert!(empty.is_empty(), "{empty:?}");
}

async fn pending_and_failed_refunds_are_scoped_to_the_creator(store: &Store) {
    let none = store
        .pending_summary(StatsScope::default())
        .await
        .expect("pending");
    assert_eq!((none.count, none.oldest_created_at), (0, None));

    order(store, "P1", "wechatpay-sandbox", 100, Currency::Cny, "mia").await;
    backdate(store, "P1", now_ms() - 3_600_000).await;
    order(store, "P2", "wechatpay-sandbox", 100, Currency::Cny, "bob").await;
    order(store, "F1", "wechatpay-sandbox", 800, Currency::Cny, "bob").await;
    pay(store, "F1", 800, Currency::Cny).await;
    store
        .request_refund(
            "F1",
            "RF1",
            Money::new(800, Currency::Cny).expect("money"),
            "",
            &Cause::User("bob".into()),
        )
        .await
        .expect("refund");
    store
        .fail_refund("RF1", "NOT_ENOUGH", &Cause::Query)
        .await
        .expect("fail");

    let all = store
        .pending_summary(StatsScope::default())
        .await
        .expect("pending");
    assert_eq!(all.count, 2);
    let oldest = all.oldest_created_at.expect("oldest");
    assert!(
        now_ms() - oldest >= 3_500_000,
        "the backdated one is oldest"
    );
    let bob = StatsScope {
        creator: Some("bob"),
    };
    assert_eq!(store.pending_summary(bob).await.expect("pending").count, 1);

    let failed = store
        .failed_refunds(now_ms() - DAY_MS, 10, StatsScope::default())
        .await
        .expect("failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (
            failed[0].out_refund_no.as_str(),
            failed[0].out_trade_no.as_str(),
            failed[0].amount_minor,
            failed[0].failure_reason.as_deref(),
        ),
        ("RF1", "F1", 800, Some("NOT_ENOUGH"))
    );
    assert_eq!(
        store
            .failed_refunds(now_ms() - DAY_MS, 10, bob)
            .await
            .expect("failed")
            .len(),
        1
    );
    let mia = StatsScope {
        creator: Some("mia"),
    };
    assert!(
        store
            .failed_refunds(now_ms() - DAY_MS, 10, mia)
            .await
            .expect("failed")
            .is_empty()
    );
}

/// Two paid orders of 2^62 fen (possible before amount ceilings existed) once made every
/// overview query fail: SQLite's SUM raised "integer overflow", Postgres's cast of its
/// NUMERIC sum back to BIGINT "out of range". Now the figures are exact where they fit and
/// saturate at i64::MAX where they do not, on both databases.
async fn sums_of_huge_old_amounts_do_not_overflow(store: &Store) {
    let huge = 1i64 << 62;
    let start = day_start(now_ms(), H8);
    for no in ["H1", "H2"] {
        order(store, no, "alipay-sandbox", huge, Currency::Cny, "mia").await;
        pay(store, no, huge, Currency::Cny).await;
        let r = store
            .request_refund(
                no,
                &format!("R{no}"),
                Money::new(huge, Currency::Cny).expect("money"),
                "",
                &Cause::User("mia".into()),
            )
            .await
            .expect("refund");
        assert!(matches!(r, RefundRequest::Created(_)), "{r:?}");
        store
            .complete_refund(&format!("R{no}"), Some("p"), &Cause::Query)
            .await
            .expect("complete");
    }
    // Another channel: a huge amount and a small one, whose sum still fits and must be
    // exact (the split into high and low halves loses nothing).
    order(store, "E1", "wechatpay-sandbox", huge, Currency::Cny, "mia").await;
    pay(store, "E1", huge, Currency::Cny).await;
    order(store, "E2", "wechatpay-sandbox", 3, Currency::Cny, "mia").await;
    pay(store, "E2", 3, Currency::Cny).await;

    let figures = store
        .channel_figures(start, start + DAY_MS, StatsScope::default())
        .await
        .expect("figures do not fail");
    let got: Vec<_> = figures
        .iter()
        .map(|f| {
            (
                f.channel.as_str(),
                f.paid,
                f.volume_minor,
                f.refund_count,
                f.refunded_minor,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("alipay-sandbox", 2, i64::MAX, 2, i64::MAX),
            ("wechatpay-sandbox", 2, huge + 3, 0, 0),
        ]
    );
    let bars = store
        .daily_volume(start, start + DAY_MS, H8, StatsScope::default())
        .await
        .expect("volume does not fail");
    let got: Vec<_> = bars
        .iter()
        .map(|b| (b.channel.as_str(), b.count, b.volume_minor))
        .collect();
    assert_eq!(
        got,
        [
            ("alipay-sandbox", 2, i64::MAX),
            ("wechatpay-sandbox", 2, huge + 3)
        ]
    );
    // The merchant's own view goes through the same sums.
    let mine = store
        .channel_figures(
            start,
            start + DAY_MS,
            StatsScope {
                creator: Some("mia"),
            },
        )
        .await
        .expect("scoped figures");
    assert_eq!(mine.len(), 2);
}

/// Everything the overview reads, over a window wide enough for every test order.
async fn figures(store: &Store) -> (Vec<String>, Vec<String>) {
    let start = day_start(now_ms(), H8);
    let (from, to) = (start - 2 * DAY_MS, start + 2 * DAY_MS);
    let f = store
        .channel_figures(from, to, StatsScope::default())
        .await
        .expect("figures");
    let mut lines: Vec<String> = f.iter().map(|f| format!("{f:?}")).collect();
    let mine = store
        .channel_figures(
            from,
            to,
            StatsScope {
                creator: Some("bob"),
            },
        )
        .await
        .expect("figures");
    lines.extend(mine.iter().map(|f| format!("bob {f:?}")));
    let bars = store
        .daily_volume(from, to, H8, StatsScope::default())
        .await
        .expect("volume");
    (lines, bars.iter().map(|b| format!("{b:?}")).collect())
}

/// The roll-up is written by every path that changes a figure (create, paid one by one
/// and in group-committed batches from several writers at once, closed, refunds that
/// succeed or fail); what it holds afterwards is exactly what a rebuild from the orders
/// computes.
async fn the_roll_up_the_store_keeps_equals_a_rebuild(store: &Store) {
    for i in 0..6 {
        let by = if i % 2 == 0 { "mia" } else { "bob" };
        order(
            store,
            &format!("K{i}"),
            "alipay-sandbox",
            100 + i,
            Currency::Cny,
            by,
        )
        .await;
    }
    order(store, "KU", "stripe-sandbox", 900, Currency::Usd, "bob").await;
    pay(store, "K0", 100, Currency::Cny).await;
    pay(store, "KU", 900, Currency::Usd).await;
    store
        .close_order("K1", &Cause::System("expired".into()))
        .await
        .expect("close");
    for (no, r, ok) in [("K0", "RK0", true), ("KU", "RKU", false)] {
        let currency = if no == "KU" {
            Currency::Usd
        } else {
            Currency::Cny
        };
        let req = store
            .request_refund(
                no,
                r,
                Money::new(50, currency).expect("money"),
                "",
                &Cause::User("mia".into()),
            )
            .await
            .expect("refund");
        assert!(matches!(req, RefundRequest::Created(_)), "{req:?}");
        if ok {
            store
                .complete_refund(r, Some("p"), &Cause::Query)
                .await
                .expect("complete");
        } else {
            store
                .fail_refund(r, "NOPE", &Cause::Query)
                .await
                .expect("fail");
        }
    }
    // Group-committed payments from concurrent writers, with duplicates.
    let writer = InboxWriter::new(store.clone());
    let mut tasks = Vec::new();
    for copy in 0..3 {
        for i in 2..6 {
            let writer = writer.clone();
            let note = NewNotification {
                id: new_notification_id(),
                provider: "alipay".into(),
                channel: "alipay-sandbox".into(),
                received_at: now_ms(),
                headers: "{}".into(),
                body: format!("copy {copy}"),
                outcome: Outcome::Verified(NotifyEvent::Paid {
                    out_trade_no: format!("K{i}"),
                    trade_no: format!("T{i}"),
                    amount: Money::new(100 + i, Currency::Cny).expect("money"),
                }),
            };
            tasks.push(tokio::spawn(async move { writer.write(note).await }));
        }
    }
    for t in tasks {
        t.await.expect("task").expect("write");
    }

    let kept = figures(store).await;
    assert!(!kept.0.is_empty() && !kept.1.is_empty(), "{kept:?}");
    store.rebuild_order_stats().await.expect("rebuild");
    assert_eq!(figures(store).await, kept);
    // Five of six alipay orders paid, one closed; one refund of 0.50 succeeded.
    assert!(
        kept.0[0].contains("created: 6, created_paid: 5, created_pending: 0, paid: 5"),
        "{kept:?}"
    );
}
