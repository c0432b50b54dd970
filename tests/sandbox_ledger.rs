//! Store stories for the sandbox's durable order book and its delivery queue, on SQLite
//! and Postgres: what one book wrote another reads (nothing lives in memory), concurrent
//! wallet payments pay once, concurrent refunds stay within the amount and the balance,
//! and each queued delivery is claimed by one worker, retried and acknowledged.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::ProviderKind;
use paydesk_core::sandbox::{Ledger, LedgerError, OrderState};
use paydesk_core::store::{SandboxDeliveryOutcome, SandboxDeliveryStatus, Store};
use paydesk_core::time::now_ms;

on_both_backends!(
    orders_refunds_and_codes_are_read_back_by_another_book,
    creating_again_returns_the_order_or_a_conflict,
    concurrent_wallet_payments_pay_once_and_queue_one_delivery,
    concurrent_refunds_stay_within_the_amount_and_the_balance,
    closing_and_paying_race_to_one_outcome,
    a_delivery_is_claimed_once_retried_and_acknowledged,
    concurrent_claims_never_share_a_delivery,
    each_provider_has_its_own_book,
    stripe_idempotency_keys_are_kept_for_every_instance,
);

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("cny")
}

fn wechat(store: &Store) -> Ledger {
    Ledger::durable(store.clone(), ProviderKind::Wechatpay)
}

async fn order(l: &Ledger, no: &str, minor: i64) {
    l.create("4200", "wx_", no, cny(minor), "tea", "http://127.0.0.1:9/n")
        .await
        .expect("create");
}

async fn orders_refunds_and_codes_are_read_back_by_another_book(store: &Store) {
    let a = wechat(store);
    let created = a
        .create(
            "4200",
            "wx_",
            "W1",
            cny(1000),
            "tea 茶",
            "http://127.0.0.1:9/n",
        )
        .await
        .expect("create");
    assert!(created.code.starts_with("wx_") && created.trade_no.starts_with("4200"));
    a.pay("W1").await.expect("pay");
    a.refund("W1", "R1", cny(300)).await.expect("refund");

    // A second book on the same database (another instance, or this one after a restart).
    let b = wechat(store);
    let o = b.get("W1").await.expect("read").expect("order");
    assert_eq!(o.state, OrderState::Paid);
    assert_eq!((o.amount, o.subject.as_str()), (cny(1000), "tea 茶"));
    assert_eq!(o.notify_url, "http://127.0.0.1:9/n");
    assert_eq!(o.code, created.code);
    assert_eq!(o.refunded().expect("sum"), cny(300));
    let by_code = b.find_by_code(&created.code).await.expect("read");
    assert_eq!(
        by_code.as_ref().map(|o| o.out_trade_no.as_str()),
        Some("W1")
    );
    let (ro, r) = b.find_refund("R1").await.expect("read").expect("refund");
    assert_eq!((ro.out_trade_no.as_str(), r.amount), ("W1", cny(300)));
    let by_id = b.find_refund(&r.refund_id).await.expect("read");
    assert_eq!(by_id.map(|(_, r)| r.out_refund_no), Some("R1".to_string()));
    let by_trade = b.with_trade_no(&o.trade_no).await.expect("read");
    assert_eq!(by_trade.map(|o| o.out_trade_no), Some("W1".to_string()));
    assert!(b.get("nope").await.expect("read").is_none());
    assert!(b.find_by_code("wx_nope").await.expect("read").is_none());

    // The refund number replays the first refund, from either book.
    let (_, again) = b.refund("W1", "R1", cny(1)).await.expect("replay");
    assert_eq!(again, r);
    // Numbers keep counting across books: no id is handed out twice.
    order(&b, "W2", 5).await;
    let w2 = a.get("W2").await.expect("read").expect("W2");
    assert_ne!(w2.trade_no, o.trade_no);
}

async fn creating_again_returns_the_order_or_a_conflict(store: &Store) {
    let l = wechat(store);
    // Many instances creating one number at once: one order, the same for all.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let l = wechat(store);
            tokio::spawn(async move {
                l.create("4200", "wx_", "C1", cny(100), "tea", "u")
                    .await
                    .map(|o| o.code)
            })
        })
        .collect();
    let mut codes = HashSet::new();
    for t in tasks {
        codes.insert(t.await.expect("join").expect("create"));
    }
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(
        l.create("4200", "wx_", "C1", cny(101), "tea", "u").await,
        Err(LedgerError::Conflict)
    );
    l.pay("C1").await.expect("pay");
    assert_eq!(
        l.create("4200", "wx_", "C1", cny(100), "tea", "u").await,
        Err(LedgerError::AlreadyPaid)
    );
}

async fn concurrent_wallet_payments_pay_once_and_queue_one_delivery(store: &Store) {
    let l = wechat(store);
    order(&l, "P1", 100).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let l = wechat(store);
            tokio::spawn(async move { l.pay_and_notify("P1").await })
        })
        .collect();
    let mut paid = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(o) => {
                assert_eq!(o.state, OrderState::Paid);
                paid += 1;
            }
            Err(e) => assert_eq!(e, LedgerError::AlreadyPaid),
        }
    }
    assert_eq!(paid, 1, "one payment wins");
    let queued = store.sandbox_deliveries(Some("P1")).await.expect("list");
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].status, SandboxDeliveryStatus::Pending);
    assert_eq!(queued[0].provider, ProviderKind::Wechatpay);
    // A plain pay (a test sending its own notification) queues nothing.
    order(&l, "P2", 100).await;
    l.pay("P2").await.expect("pay");
    assert!(
        store
            .sandbox_deliveries(Some("P2"))
            .await
            .expect("list")
            .is_empty()
    );
}

async fn concurrent_refunds_stay_within_the_amount_and_the_balance(store: &Store) {
    let l = wechat(store);
    order(&l, "R1", 1000).await;
    l.pay("R1").await.expect("pay");
    let refund_all = |no: &'static str, n: usize, minor: i64| {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let l = wechat(store);
                tokio::spawn(async move { l.refund(no, &format!("{no}-{i}"), cny(minor)).await })
            })
            .collect();
        async move {
            let mut ok = 0;
            for t in tasks {
                match t.await.expect("join") {
                    Ok(_) => ok += 1,
                    Err(e) => assert!(
                        matches!(
                            e,
                            LedgerError::RefundExceedsAmount | LedgerError::InsufficientBalance
                        ),
                        "{e:?}"
                    ),
                }
            }
            ok
        }
    };
    assert_eq!(
        refund_all("R1", 16, 100).await,
        10,
        "1000 in refunds of 100"
    );
    let o = l.get("R1").await.expect("read").expect("order");
    assert_eq!(o.refunded().expect("sum"), cny(1000));

    // The balance bounds refunds across orders.
    l.set_refund_balance(Some(250)).await.expect("balance");
    order(&l, "R2", 1000).await;
    l.pay("R2").await.expect("pay");
    assert_eq!(refund_all("R2", 8, 100).await, 2, "a balance of 250");
    assert_eq!(
        l.refund("R2", "R2-x", cny(51)).await,
        Err(LedgerError::InsufficientBalance)
    );
    l.refund("R2", "R2-y", cny(50)).await.expect("the rest");
    l.set_refund_balance(None).await.expect("unlimited");
    l.refund("R2", "R2-z", cny(100)).await.expect("unlimited");
    assert_eq!(
        l.refund("nope", "x", cny(1)).await,
        Err(LedgerError::NotFound)
    );
}

async fn closing_and_paying_race_to_one_outcome(store: &Store) {
    let l = wechat(store);
    for i in 0..6 {
        let no = format!("X{i}");
        order(&l, &no, 10).await;
        let (pay, close) = tokio::join!(
            {
                let l = wechat(store);
                let no = no.clone();
                async move { l.pay_and_notify(&no).await }
            },
            {
                let l = wechat(store);
                let no = no.clone();
                async move { l.close(&no).await }
            }
        );
        let o = l.get(&no).await.expect("read").expect("order");
        let queued = store.sandbox_deliveries(Some(&no)).await.expect("list");
        match o.state {
            OrderState::Paid => {
                assert!(pay.is_ok() && close == Err(LedgerError::AlreadyPaid));
                assert_eq!(queued.len(), 1);
            }
            OrderState::Closed => {
                assert!(close.is_ok() && pay == Err(LedgerError::Closed));
                assert!(queued.is_empty(), "a closed order owes no notification");
            }
            OrderState::Pending => panic!("{no} neither paid nor closed"),
        }
    }
}

async fn a_delivery_is_claimed_once_retried_and_acknowledged(store: &Store) {
    let l = wechat(store);
    order(&l, "D1", 100).await;
    l.pay_and_notify("D1").await.expect("pay");
    assert!(
        store
            .has_pending_sandbox_deliveries()
            .await
            .expect("pending")
    );
    let now = now_ms();
    let claimed = store
        .claim_due_sandbox_deliveries(now, 10, 15_000)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let c = claimed[0].clone();
    assert_eq!((c.out_trade_no.as_str(), c.attempts), ("D1", 0));
    assert_eq!(c.lease_until, now + 15_000);
    // Claimed: nobody else gets it until the lease ends.
    assert!(
        store
            .claim_due_sandbox_deliveries(now + 1, 10, 15_000)
            .await
            .expect("claim")
            .is_empty()
    );
    // Not acknowledged: due again at the retry time, with the reason.
    let retry_at = now + 1000;
    let retry = SandboxDeliveryOutcome::RetryAt(retry_at, "HTTP 500".into());
    assert!(
        store
            .finish_sandbox_delivery(&c, &retry)
            .await
            .expect("finish")
    );
    // The same (stale) claim cannot record again.
    assert!(
        !store
            .finish_sandbox_delivery(&c, &retry)
            .await
            .expect("stale")
    );
    let listed = &store.sandbox_deliveries(Some("D1")).await.expect("list")[0];
    assert_eq!((listed.attempts, listed.next_at), (1, retry_at));
    assert_eq!(listed.last_error.as_deref(), Some("HTTP 500"));
    assert!(
        store
            .claim_due_sandbox_deliveries(retry_at - 1, 10, 15_000)
            .await
            .expect("claim")
            .is_empty(),
        "not due yet"
    );
    let second = store
        .claim_due_sandbox_deliveries(retry_at, 10, 15_000)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 1);
    // Handed back (shutdown): due at once, the attempt not counted.
    assert!(
        store
            .release_sandbox_delivery(&second[0])
            .await
            .expect("release")
    );
    let third = store
        .claim_due_sandbox_deliveries(now_ms(), 10, 15_000)
        .await
        .expect("claim");
    assert_eq!((third.len(), third[0].attempts), (1, 1));
    assert!(
        store
            .finish_sandbox_delivery(&third[0], &SandboxDeliveryOutcome::Acknowledged)
            .await
            .expect("ack")
    );
    let done = &store.sandbox_deliveries(Some("D1")).await.expect("list")[0];
    assert_eq!(
        (done.status, done.attempts),
        (SandboxDeliveryStatus::Acknowledged, 2)
    );
    assert!(
        !store
            .has_pending_sandbox_deliveries()
            .await
            .expect("pending")
    );
    // A crashed worker's claim: due again when its lease ends, and then only then.
    order(&l, "D2", 100).await;
    l.pay_and_notify("D2").await.expect("pay");
    let t = now_ms();
    let lost = store
        .claim_due_sandbox_deliveries(t, 10, 500)
        .await
        .expect("claim");
    assert_eq!(lost.len(), 1);
    assert!(
        store
            .claim_due_sandbox_deliveries(t + 499, 10, 500)
            .await
            .expect("claim")
            .is_empty()
    );
    let resumed = store
        .claim_due_sandbox_deliveries(t + 500, 10, 500)
        .await
        .expect("claim");
    assert_eq!(resumed.len(), 1);
    let give_up = SandboxDeliveryOutcome::GiveUp("HTTP 502".into());
    assert!(
        !store
            .finish_sandbox_delivery(&lost[0], &give_up)
            .await
            .expect("stale")
    );
    assert!(
        store
            .finish_sandbox_delivery(&resumed[0], &give_up)
            .await
            .expect("give up")
    );
    let gone = &store.sandbox_deliveries(Some("D2")).await.expect("list")[0];
    assert_eq!(gone.status, SandboxDeliveryStatus::GivenUp);
}

async fn concurrent_claims_never_share_a_delivery(store: &Store) {
    let l = wechat(store);
    for i in 0..40 {
        let no = format!("Q{i}");
        order(&l, &no, 1).await;
        l.pay_and_notify(&no).await.expect("pay");
    }
    let now = now_ms();
    let store = Arc::new(store.clone());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = store
                        .claim_due_sandbox_deliveries(now, 3, 60_000)
                        .await
                        .expect("claim");
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|c| c.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("join"));
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (40, 40),
        "each claimed exactly once"
    );
}

async fn each_provider_has_its_own_book(store: &Store) {
    let ali = Ledger::durable(store.clone(), ProviderKind::Alipay);
    let wx = wechat(store);
    ali.create("2024", "ali_", "SAME", cny(5), "a", "")
        .await
        .expect("alipay");
    assert!(wx.get("SAME").await.expect("read").is_none());
    order(&wx, "SAME", 7).await;
    assert_eq!(
        ali.get("SAME").await.expect("read").map(|o| o.amount),
        Some(cny(5))
    );
    let usd = Money::new(250, Currency::Usd).expect("usd");
    let stripe = Ledger::durable(store.clone(), ProviderKind::Stripe);
    let s = stripe
        .create("pi_", "cs_test_", "SAME", usd, "b", "")
        .await
        .expect("stripe");
    let back = stripe
        .find_by_code(&s.code)
        .await
        .expect("read")
        .expect("session");
    assert_eq!(back.amount, usd, "the currency is kept");
    assert!(
        stripe
            .with_trade_no(&s.trade_no)
            .await
            .expect("read")
            .is_none(),
        "a PaymentIntent exists once paid"
    );
    stripe.pay("SAME").await.expect("pay");
    assert!(
        stripe
            .with_trade_no(&s.trade_no)
            .await
            .expect("read")
            .is_some()
    );
}

/// Two Stripe sandboxes (two instances, or one before and after a restart) on one
/// database: a POST retried on the other with the same key is replayed, not run again.
async fn stripe_idempotency_keys_are_kept_for_every_instance(store: &Store) {
    use paydesk_core::provider::FixedClock;
    use paydesk_core::provider::stripe::sandbox::{StripeSandbox, router};
    use paydesk_core::sandbox::serve_local;
    let mut bases = Vec::new();
    for _ in 0..2 {
        let mut sb = StripeSandbox::new(
            "sk_test_x".into(),
            "whsec_x".into(),
            "http://127.0.0.1:9/pay".into(),
            Arc::new(FixedClock(1_700_000_000)),
        );
        sb.ledger = Ledger::durable(store.clone(), ProviderKind::Stripe);
        sb.keep_idempotency_keys_in(store.clone());
        bases.push(serve_local(router(Arc::new(sb))).await.expect("serve"));
    }
    let form = |amount: i64| {
        [
            ("mode", "payment".to_string()),
            ("success_url", "https://shop.test/ok".to_string()),
            ("client_reference_id", "IDEM-1".to_string()),
            ("line_items[0][quantity]", "1".to_string()),
            ("line_items[0][price_data][currency]", "usd".to_string()),
            ("line_items[0][price_data][unit_amount]", amount.to_string()),
            (
                "line_items[0][price_data][product_data][name]",
                "tea".to_string(),
            ),
        ]
        .iter()
        .map(|(k, v)| format!("{}={v}", k.replace('[', "%5B").replace(']', "%5D")))
        .collect::<Vec<_>>()
        .join("&")
    };
    let http = reqwest::Client::new();
    let post = |base: &str, body: String| {
        http.post(format!("{base}/v1/checkout/sessions"))
            .bearer_auth("sk_test_x")
            .header("Idempotency-Key", "key-1")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let first = post(&bases[0], form(500)).await.expect("first");
    assert_eq!(first.status().as_u16(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = first.text().await.expect("body");
    let replayed = post(&bases[1], form(500)).await.expect("replay");
    assert_eq!(replayed.status().as_u16(), 200);
    assert_eq!(
        replayed
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(replayed.text().await.expect("body"), first);
    let other = post(&bases[1], form(501)).await.expect("other params");
    assert_eq!(other.status().as_u16(), 400);
    assert!(
        other
            .text()
            .await
            .expect("body")
            .contains("idempotency_error")
    );
}
