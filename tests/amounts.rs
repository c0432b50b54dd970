//! Amount bounds in the store, on SQLite and Postgres: a channel's amount limits per
//! currency (set, replaced, reset, nonsense refused by the table), and refund requests
//! whose amount would overflow the reservation arithmetic, which are refused like any
//! other over-refund instead of failing in SQL.

mod support;

use paydesk_core::limits::AmountLimit;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::Cause;
use paydesk_core::store::{NewChannel, NewOrder, RefundRequest, Store};
use paydesk_core::time::now_ms;

on_both_backends!(
    limits_are_kept_per_channel_and_currency,
    huge_refund_requests_are_refused_not_errors,
);

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

async fn channel(store: &Store, name: &str) -> String {
    let id = Store::new_channel_id();
    store
        .insert_channel(NewChannel {
            id: &id,
            name,
            provider: "stripe",
            mode: "sandbox",
            settings: "{}",
            sealed_secrets: "",
        })
        .await
        .expect("channel");
    id
}

async fn limits_are_kept_per_channel_and_currency(store: &Store) {
    let a = channel(store, "shop-a").await;
    let b = channel(store, "shop-b").await;
    assert_eq!(
        store.amount_limit(&a, Currency::Cny).await.expect("r"),
        None
    );
    let l = |currency, max, confirm| AmountLimit {
        currency,
        max_minor: max,
        confirm_above_minor: confirm,
    };
    store
        .set_amount_limit(&a, &l(Currency::Cny, 10_000, 5_000), "root")
        .await
        .expect("set");
    store
        .set_amount_limit(&a, &l(Currency::Usd, 700, 700), "root")
        .await
        .expect("set usd");
    // Setting again replaces, it does not add.
    store
        .set_amount_limit(&a, &l(Currency::Cny, 20_000, 1_000), "root")
        .await
        .expect("replace");
    assert_eq!(
        store.amount_limits(&a).await.expect("list"),
        [l(Currency::Cny, 20_000, 1_000), l(Currency::Usd, 700, 700)]
    );
    assert_eq!(store.amount_limits(&b).await.expect("other channel"), []);
    assert_eq!(
        store.amount_limit(&a, Currency::Cny).await.expect("one"),
        Some(l(Currency::Cny, 20_000, 1_000))
    );
    assert!(
        store
            .reset_amount_limit(&a, Currency::Cny)
            .await
            .expect("reset")
    );
    assert!(
        !store
            .reset_amount_limit(&a, Currency::Cny)
            .await
            .expect("again")
    );
    assert_eq!(
        store.amount_limit(&a, Currency::Cny).await.expect("r"),
        None
    );
    // The table's CHECKs hold even for a caller that skipped `limits::validate`.
    for bad in [
        l(Currency::Cny, 0, 1),
        l(Currency::Cny, 100, 101),
        l(Currency::Cny, 100, 0),
    ] {
        assert!(
            store.set_amount_limit(&a, &bad, "root").await.is_err(),
            "{bad:?}"
        );
    }
}

async fn huge_refund_requests_are_refused_not_errors(store: &Store) {
    store
        .create_order(
            NewOrder {
                out_trade_no: "BIG-REFUND-1",
                channel: "alipay-sandbox",
                amount: cny(1000),
                subject: "tea",
                creator: "mia",
                expires_at: now_ms() + 60_000,
                qr_code: None,
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::User("mia".into()),
        )
        .await
        .expect("order");
    store
        .mark_paid("BIG-REFUND-1", "P1", cny(1000), &Cause::Query)
        .await
        .expect("paid");
    let who = Cause::User("sam".into());
    let refund = |no: &'static str, minor: i64| {
        let who = who.clone();
        async move {
            store
                .request_refund("BIG-REFUND-1", no, cny(minor), "", &who)
                .await
        }
    };
    assert!(matches!(
        refund("RF-SMALL-1", 1).await.expect("small"),
        RefundRequest::Created(_)
    ));
    // With something reserved, `reserved + amount` no longer fits in i64: this used to be
    // an SQL error (500), and must be a refusal that says what can still be refunded.
    for (no, minor) in [
        ("RF-HUGE-1", i64::MAX),
        ("RF-HUGE-2", i64::MAX - 1),
        ("RF-HUGE-3", 1 << 62),
    ] {
        match refund(no, minor).await.expect("not an error") {
            RefundRequest::Refused { reason } => {
                assert!(reason.contains("exceeds the refundable 9.99"), "{reason}")
            }
            other => panic!("{no}: {other:?}"),
        }
    }
    assert!(matches!(
        refund("RF-REST-1", 999).await.expect("the rest"),
        RefundRequest::Created(_)
    ));
    assert!(matches!(
        refund("RF-OVER-1", 1).await.expect("one more"),
        RefundRequest::Refused { .. }
    ));
    let order = store
        .order("BIG-REFUND-1")
        .await
        .expect("r")
        .expect("order");
    assert_eq!(order.refund_reserved_minor, 1000);
}
