//! The payment flows end to end through the real server on a socket, with the sandbox
//! channels a fresh install has: checkout → wallet "Pay" → signed notification to
//! `/notify/{provider}/{channel}` → order paid; a storm of duplicate notifications racing
//! active queries → one transition; tampered notifications rejected and kept; a
//! notification stored before a crash applied by recovery; active query (补单) and expiry;
//! refunds.

use std::path::Path;
use std::time::Duration;

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus, RefundStatus};
use paydesk_core::payments::{CheckoutRequest, PaymentError, RefundInput};
use paydesk_core::provider::ProviderKind;
use paydesk_core::store::{InboxFilter, Order, Store, Verdict};
use paydesk_core::time::now_ms;

mod support;

use support::{TestApp as Server, spawn_app};

async fn start(dir: &Path) -> Server {
    spawn_app(dir, None).await
}

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

fn checkout(channel: &str, amount: Money) -> CheckoutRequest {
    CheckoutRequest {
        channel: channel.into(),
        amount,
        subject: "Oolong 乌龙茶".into(),
        out_trade_no: None,
        expires_in_secs: None,
        merchant_notify_url: None,
        api_key_id: None,
        cause: Cause::User("mia".into()),
    }
}

/// Presses "Pay" on the wallet page the QR code opens.
async fn pay_in_wallet(server: &Server, qr: &str) {
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{qr}/pay"))
        .header("Origin", &server.base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("press pay");
    assert_eq!(
        resp.status().as_u16(),
        303,
        "wallet answers with a redirect"
    );
}

async fn wait_for(store: &Store, out_trade_no: &str, status: OrderStatus) -> Order {
    for _ in 0..200 {
        let o = store
            .order(out_trade_no)
            .await
            .expect("read")
            .expect("order");
        if o.status == status {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("order {out_trade_no} did not become {status} within 10 s");
}

#[tokio::test]
async fn each_sandbox_channel_takes_a_payment_through_its_notification() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let payments = &server.state.payments;
    for (channel, amount) in [
        ("alipay-sandbox", cny(1234)),
        ("wechatpay-sandbox", cny(1)),
        ("wechatpay-v2-sandbox", cny(2)),
        (
            "stripe-sandbox",
            Money::new(999, Currency::Usd).expect("usd"),
        ),
    ] {
        let order = payments
            .create_checkout(checkout(channel, amount))
            .await
            .unwrap_or_else(|e| panic!("{channel}: {e}"));
        let qr = order.qr_code.clone().expect("qr code");
        assert!(
            qr.starts_with(&format!("{}/sandbox/pay/", server.base)),
            "{qr}"
        );
        assert_eq!(order.status, OrderStatus::Pending);
        pay_in_wallet(&server, &qr).await;
        let paid = wait_for(&server.state.store, &order.out_trade_no, OrderStatus::Paid).await;
        assert!(paid.provider_trade_no.is_some(), "{channel}");
        let events = server
            .state
            .store
            .order_events(&paid.id)
            .await
            .expect("events");
        let kinds: Vec<_> = events
            .iter()
            .map(|e| (e.kind.as_str(), e.cause.kind()))
            .collect();
        assert_eq!(
            kinds,
            [("created", "user"), ("paid", "notify")],
            "{channel}"
        );
        let inbox = server
            .state
            .store
            .notifications(&InboxFilter {
                out_trade_no: Some(order.out_trade_no.clone()),
                limit: 10,
                ..InboxFilter::default()
            })
            .await
            .expect("inbox");
        assert_eq!(
            inbox.len(),
            1,
            "{channel}: one notification, acknowledged at once"
        );
        assert_eq!(inbox[0].verdict, Verdict::Applied);
        // The timeline's cause names the stored notification.
        assert_eq!(events[1].cause, Cause::Notify(inbox[0].id.clone()));
    }
}

#[tokio::test]
async fn checkout_refuses_what_a_channel_cannot_take() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = &server.state.payments;
    let usd = Money::new(100, Currency::Usd).expect("usd");
    let e = p
        .create_checkout(checkout("alipay-sandbox", usd))
        .await
        .expect_err("usd on alipay");
    assert_eq!(e.code(), "invalid_request");
    let e = p
        .create_checkout(checkout("nope", cny(1)))
        .await
        .expect_err("unknown channel");
    assert!(matches!(e, PaymentError::ChannelNotFound));
    let mut req = checkout("wechatpay-sandbox", cny(100));
    req.out_trade_no = Some("has space".into());
    assert_eq!(
        p.create_checkout(req).await.expect_err("bad number").code(),
        "invalid_request"
    );
    let mut req = checkout("wechatpay-sandbox", cny(100));
    req.out_trade_no = Some("POS-0001".into());
    p.create_checkout(req.clone()).await.expect("first");
    assert!(matches!(
        p.create_checkout(req).await,
        Err(PaymentError::DuplicateOrder)
    ));
    server
        .state
        .store
        .set_channel_disabled("wechatpay-sandbox", true)
        .await
        .expect("disable");
    assert!(matches!(
        p.create_checkout(checkout("wechatpay-sandbox", cny(5)))
            .await,
        Err(PaymentError::ChannelDisabled)
    ));
}

/// A signed "paid" notification for `order` as the sandbox would send it.
async fn signed_paid(
    server: &Server,
    kind: ProviderKind,
    order: &Order,
) -> paydesk_core::sandbox::delivery::Notification {
    let set = server.state.sandbox.get().await.expect("sandbox");
    let paid = set
        .pay(kind, &order.out_trade_no)
        .await
        .expect("paid in the sandbox");
    set.paid_notification(kind, &paid).expect("notification")
}

async fn post(n: &paydesk_core::sandbox::delivery::Notification, body: &[u8]) -> (u16, String) {
    let mut req = reqwest::Client::new().post(&n.url).body(body.to_vec());
    for (k, v) in &n.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("post notify");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_storm_of_duplicates_racing_queries_pays_once_and_forgeries_are_kept_and_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = server.state.payments.clone();
    let order = p
        .create_checkout(checkout("wechatpay-sandbox", cny(2500)))
        .await
        .expect("checkout");
    let n = signed_paid(&server, ProviderKind::Wechatpay, &order).await;

    // A tampered body: stored, rejected, answered with WeChat's failure reply.
    let forged = String::from_utf8(n.body.clone())
        .expect("utf8")
        .replace("\"id\"", "\"id \"");
    let (status, body) = post(&n, forged.as_bytes()).await;
    assert!(status >= 400, "forgery answered {status}");
    assert!(body.contains("FAIL"), "{body}");

    let mut tasks = Vec::new();
    for i in 0..200 {
        let n = n.clone();
        tasks.push(tokio::spawn(async move { post(&n, &n.body).await }));
        if i % 20 == 0 {
            let p = p.clone();
            let no = order.out_trade_no.clone();
            tasks.push(tokio::spawn(async move {
                p.sync_now(&no).await.expect("query");
                (204, String::new())
            }));
        }
    }
    for t in tasks {
        let (status, _) = t.await.expect("task");
        assert!(status == 200 || status == 204, "acknowledged: {status}");
    }
    let store = &server.state.store;
    let paid = store
        .order(&order.out_trade_no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(paid.status, OrderStatus::Paid);
    let events = store.order_events(&paid.id).await.expect("events");
    assert_eq!(
        events.iter().filter(|e| e.kind == "paid").count(),
        1,
        "{events:?}"
    );

    let all = store
        .notifications(&InboxFilter {
            limit: 500,
            ..InboxFilter::default()
        })
        .await
        .expect("inbox");
    let count = |v: Verdict| all.iter().filter(|e| e.verdict == v).count();
    assert_eq!(all.len(), 201, "every delivery stored");
    assert_eq!(count(Verdict::Rejected), 1);
    assert!(count(Verdict::Applied) <= 1, "at most one applied");
    assert_eq!(count(Verdict::Received), 0, "none left unprocessed");
    let rejected = all
        .iter()
        .find(|e| e.verdict == Verdict::Rejected)
        .expect("rejected");
    assert!(
        rejected
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("signature"),
        "{rejected:?}"
    );
    assert!(!rejected.headers.to_lowercase().contains("authorization"));
}

#[tokio::test]
async fn a_notification_stored_before_a_crash_is_applied_by_recovery() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = &server.state.payments;
    let store = &server.state.store;
    let order = p
        .create_checkout(checkout("alipay-sandbox", cny(880)))
        .await
        .expect("checkout");
    let n = signed_paid(&server, ProviderKind::Alipay, &order).await;
    // What the endpoint commits first, and then the process dies.
    let headers: std::collections::BTreeMap<String, String> = n
        .headers
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect();
    let id = store
        .insert_notification(
            "alipay",
            "alipay-sandbox",
            now_ms() - 120_000,
            &serde_json::to_string(&headers).expect("json"),
            std::str::from_utf8(&n.body).expect("utf8"),
        )
        .await
        .expect("stored");
    assert_eq!(
        store
            .order(&order.out_trade_no)
            .await
            .expect("r")
            .expect("o")
            .status,
        OrderStatus::Pending
    );
    assert_eq!(p.recover_inbox(30_000).await, 1);
    let paid = store
        .order(&order.out_trade_no)
        .await
        .expect("r")
        .expect("o");
    assert_eq!(paid.status, OrderStatus::Paid);
    let events = store.order_events(&paid.id).await.expect("events");
    assert_eq!(
        events.last().map(|e| e.cause.clone()),
        Some(Cause::Notify(id.clone()))
    );
    assert_eq!(
        store
            .notification(&id)
            .await
            .expect("r")
            .expect("row")
            .verdict,
        Verdict::Applied
    );
    assert_eq!(p.recover_inbox(0).await, 0, "nothing left");
}

#[tokio::test]
async fn active_query_finds_a_silent_payment_and_expiry_closes_the_rest() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = &server.state.payments;
    let store = &server.state.store;
    let silent = p
        .create_checkout(checkout(
            "stripe-sandbox",
            Money::new(500, Currency::Eur).expect("eur"),
        ))
        .await
        .expect("checkout");
    // Paid at the provider, but the notification never arrives.
    let set = server.state.sandbox.get().await.expect("sandbox");
    set.pay(ProviderKind::Stripe, &silent.out_trade_no)
        .await
        .expect("pay");
    let expiring = p
        .create_checkout(checkout("wechatpay-sandbox", cny(300)))
        .await
        .expect("checkout");
    // Make both due now, and the second one expired.
    sqlx::query("UPDATE orders SET next_query_at = $1")
        .bind(now_ms() - 1)
        .execute(store.pool())
        .await
        .expect("due");
    sqlx::query("UPDATE orders SET expires_at = $1 WHERE out_trade_no = $2")
        .bind(now_ms() - 1)
        .bind(&expiring.out_trade_no)
        .execute(store.pool())
        .await
        .expect("expired");
    let report = p.run_due_queries(10).await;
    assert_eq!(
        (report.queried, report.paid, report.closed),
        (2, 1, 1),
        "{report:?}"
    );
    let paid = store
        .order(&silent.out_trade_no)
        .await
        .expect("r")
        .expect("o");
    assert_eq!(paid.status, OrderStatus::Paid);
    let events = store.order_events(&paid.id).await.expect("events");
    assert_eq!(events.last().map(|e| e.cause.kind()), Some("query"));
    let closed = store
        .order(&expiring.out_trade_no)
        .await
        .expect("r")
        .expect("o");
    assert_eq!(closed.status, OrderStatus::Closed);
    assert_eq!(closed.next_query_at, None);
    // Closed at the provider too: the wallet can no longer pay it.
    assert!(
        set.pay(ProviderKind::Wechatpay, &expiring.out_trade_no)
            .await
            .is_err()
    );
    // Nothing is due any more.
    assert_eq!(p.run_due_queries(10).await.queried, 0);
}

#[tokio::test]
async fn refunds_are_bounded_idempotent_and_settled() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = &server.state.payments;
    let store = &server.state.store;
    for channel in [
        "alipay-sandbox",
        "wechatpay-sandbox",
        "wechatpay-v2-sandbox",
        "stripe-sandbox",
    ] {
        let order = p
            .create_checkout(checkout(
                channel,
                Money::new(
                    1000,
                    if channel.starts_with("stripe") {
                        Currency::Usd
                    } else {
                        Currency::Cny
                    },
                )
                .expect("m"),
            ))
            .await
            .expect("checkout");
        pay_in_wallet(&server, order.qr_code.as_deref().expect("qr")).await;
        let order = wait_for(store, &order.out_trade_no, OrderStatus::Paid).await;
        let m = |minor| Money::new(minor, order.amount.currency()).expect("m");
        let input = |minor, no: &str| RefundInput {
            amount: m(minor),
            reason: "broken cup".into(),
            out_refund_no: Some(no.into()),
        };
        let who = Cause::User("sam".into());
        let first = p
            .refund(
                &order.out_trade_no,
                input(300, &format!("{channel}-r1")),
                &who,
            )
            .await
            .expect("partial refund");
        // Resubmitting the same number returns the same refund, refunds nothing twice.
        let again = p
            .refund(
                &order.out_trade_no,
                input(300, &format!("{channel}-r1")),
                &who,
            )
            .await
            .expect("idempotent");
        assert_eq!(first.id, again.id);
        let over = p
            .refund(
                &order.out_trade_no,
                input(701, &format!("{channel}-r2")),
                &who,
            )
            .await
            .expect_err("over-refund");
        assert_eq!(over.code(), "not_allowed", "{channel}: {over}");
        // Settled synchronously, by notification or by the refund query job (WeChat Pay v2
        // only accepts a refund: the query 10 s later settles it).
        for _ in 0..300 {
            if store
                .refund(&first.out_refund_no)
                .await
                .expect("r")
                .expect("refund")
                .status
                != RefundStatus::Pending
            {
                break;
            }
            p.run_due_queries(10).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let settled = store
            .refund(&first.out_refund_no)
            .await
            .expect("r")
            .expect("refund");
        if settled.status != RefundStatus::Succeeded {
            let calls = store
                .provider_calls(&paydesk_core::store::CallFilter {
                    out_trade_no: Some(order.out_trade_no.clone()),
                    limit: 50,
                    ..Default::default()
                })
                .await
                .expect("calls");
            for c in calls {
                eprintln!(
                    "{} {} {:?} {:?} {:?}",
                    c.operation, c.url, c.status, c.provider_code, c.error
                );
            }
        }
        assert_eq!(
            settled.status,
            RefundStatus::Succeeded,
            "{channel}: {settled:?}"
        );
        let now = store
            .order(&order.out_trade_no)
            .await
            .expect("r")
            .expect("o");
        assert_eq!(
            (now.status, now.refunded_minor),
            (OrderStatus::PartiallyRefunded, 300),
            "{channel}"
        );
        p.refund(
            &order.out_trade_no,
            input(700, &format!("{channel}-r3")),
            &who,
        )
        .await
        .expect("the rest");
        for _ in 0..300 {
            let o = store
                .order(&order.out_trade_no)
                .await
                .expect("r")
                .expect("o");
            if o.status == OrderStatus::Refunded {
                break;
            }
            p.run_due_queries(10).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let done = store
            .order(&order.out_trade_no)
            .await
            .expect("r")
            .expect("o");
        assert_eq!(
            (done.status, done.refunded_minor),
            (OrderStatus::Refunded, 1000),
            "{channel}"
        );
    }
}

#[tokio::test]
async fn notify_endpoints_bound_the_body_and_know_their_providers() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let client = reqwest::Client::new();
    let big = vec![b'a'; 100 * 1024];
    let resp = client
        .post(format!("{}/notify/alipay/alipay-sandbox", server.base))
        .body(big)
        .send()
        .await
        .expect("post");
    assert_eq!(
        resp.status().as_u16(),
        413,
        "bodies over 64 KiB are refused"
    );
    let resp = client
        .post(format!("{}/notify/paypal/x", server.base))
        .body("x")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 404);
    // A notification for a channel that does not exist is kept, rejected, and answered
    // in the provider's failure format (Alipay: anything but `success`).
    let resp = client
        .post(format!("{}/notify/alipay/nope", server.base))
        .body("out_trade_no=1")
        .send()
        .await
        .expect("post");
    let text = resp.text().await.expect("text");
    assert_ne!(text, "success");
    let rows = server
        .state
        .store
        .notifications(&InboxFilter {
            channel: Some("nope".into()),
            limit: 10,
            ..InboxFilter::default()
        })
        .await
        .expect("inbox");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].verdict, Verdict::Rejected);
}

/// A merchant system that records what paydesk forwards to it.
async fn merchant_receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, axum::body::Bytes)>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |h: axum::http::HeaderMap, b: axum::body::Bytes| {
            let _ = tx.send((h, b));
            async { "ok" }
        }),
    );
    let base = paydesk_core::sandbox::serve_local(router)
        .await
        .expect("receiver");
    (format!("{base}/hook"), rx)
}

#[tokio::test]
async fn api_orders_forward_signed_events_and_failed_refunds_can_be_retried() {
    use paydesk_core::jobs::merchant_notify::{MerchantNotifier, verify_signature};
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = &server.state.payments;
    let store = &server.state.store;
    let master = p.channels().master().clone();
    let key = store
        .create_api_key("pos-9", "test", &master)
        .await
        .expect("api key");
    let (url, mut got) = merchant_receiver().await;
    let mut req = checkout("alipay-sandbox", cny(2000));
    req.api_key_id = Some(key.info.id.clone());
    req.merchant_notify_url = Some(url);
    req.cause = Cause::ApiKey("pos-9".into());
    let order = p.create_checkout(req).await.expect("checkout");
    pay_in_wallet(&server, order.qr_code.as_deref().expect("qr")).await;
    wait_for(store, &order.out_trade_no, OrderStatus::Paid).await;

    // The refund is refused by the provider (no balance): failed, with its reason.
    let set = server.state.sandbox.get().await.expect("sandbox");
    set.ledger(ProviderKind::Alipay)
        .set_refund_balance(Some(0))
        .await
        .expect("balance");
    let who = Cause::User("sam".into());
    let failed = p
        .refund(
            &order.out_trade_no,
            RefundInput {
                amount: cny(500),
                reason: "wrong size".into(),
                out_refund_no: None,
            },
            &who,
        )
        .await
        .expect("refund recorded");
    assert_eq!(failed.status, RefundStatus::Failed);
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap_or("")
            .contains("refused"),
        "{failed:?}"
    );
    assert_eq!(
        store
            .order(&order.out_trade_no)
            .await
            .expect("r")
            .expect("o")
            .refund_reserved_minor,
        0,
        "a failed refund releases its reservation"
    );
    // Balance back: retrying makes a new refund for the same amount, which succeeds.
    set.ledger(ProviderKind::Alipay)
        .set_refund_balance(None)
        .await
        .expect("balance");
    let retried = p
        .retry_refund(&failed.out_refund_no, &who)
        .await
        .expect("retry");
    assert_ne!(retried.out_refund_no, failed.out_refund_no);
    assert_eq!(
        (retried.status, retried.amount),
        (RefundStatus::Succeeded, cny(500))
    );
    assert!(
        p.retry_refund(&retried.out_refund_no, &who).await.is_err(),
        "only failed ones"
    );

    // The worker forwards paid, refund failed, refund succeeded — signed with the key's secret.
    let notifier = MerchantNotifier::new(
        store.clone(),
        master,
        server.state.jobs.merchant_notify.clone(),
    )
    .expect("notifier");
    assert_eq!(notifier.run_once().await, 3);
    let mut events = Vec::new();
    for _ in 0..3 {
        let (h, body) = got.recv().await.expect("delivered");
        let sig = h
            .get("paydesk-signature")
            .and_then(|v| v.to_str().ok())
            .expect("signed");
        assert!(verify_signature(
            sig,
            &body,
            key.signing_secret.expose(),
            now_ms() / 1000,
            300
        ));
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["data"]["out_trade_no"], order.out_trade_no.as_str());
        events.push(v["type"].as_str().unwrap_or_default().to_string());
    }
    events.sort();
    assert_eq!(events, ["order.paid", "refund.failed", "refund.succeeded"]);
}

/// A Stripe refund whose create call lost its answer has no `re_…` id: the query job finds
/// it by our number, and sends it again when Stripe never got it.
#[tokio::test]
async fn stripe_refunds_with_a_lost_answer_are_found_or_sent_again() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = &server.state.payments;
    let store = &server.state.store;
    let order = p
        .create_checkout(checkout(
            "stripe-sandbox",
            Money::new(1000, Currency::Usd).expect("usd"),
        ))
        .await
        .expect("checkout");
    pay_in_wallet(&server, order.qr_code.as_deref().expect("qr")).await;
    let order = wait_for(store, &order.out_trade_no, OrderStatus::Paid).await;
    let usd = |minor| Money::new(minor, Currency::Usd).expect("usd");
    let who = Cause::User("sam".into());
    // Reserved here but never sent (the request died before reaching Stripe) ...
    store
        .request_refund(&order.out_trade_no, "lost-never-sent", usd(200), "", &who)
        .await
        .expect("reserve");
    // ... and reserved here, done at Stripe, but the answer never came back.
    store
        .request_refund(&order.out_trade_no, "lost-answer", usd(300), "", &who)
        .await
        .expect("reserve");
    let set = server.state.sandbox.get().await.expect("sandbox");
    let (_, done) = set
        .ledger(ProviderKind::Stripe)
        .refund(&order.out_trade_no, "lost-answer", usd(300))
        .await
        .expect("refund at stripe");
    sqlx::query("UPDATE refunds SET next_query_at = $1")
        .bind(now_ms() - 1)
        .execute(store.pool())
        .await
        .expect("due");

    let report = p.run_due_queries(10).await;
    assert_eq!(
        (report.refunds_settled, report.refunds_resubmitted),
        (1, 1),
        "{report:?}"
    );
    let found = store
        .refund("lost-answer")
        .await
        .expect("r")
        .expect("refund");
    assert_eq!(found.status, RefundStatus::Succeeded);
    assert_eq!(
        found.provider_refund_id.as_deref(),
        Some(done.refund_id.as_str())
    );
    let resent = store
        .refund("lost-never-sent")
        .await
        .expect("r")
        .expect("refund");
    assert_eq!(resent.status, RefundStatus::Succeeded, "{resent:?}");
    assert!(resent.provider_refund_id.is_some(), "{resent:?}");
    // Stripe refunded each exactly once.
    let at_stripe = set
        .ledger(ProviderKind::Stripe)
        .find_refund("lost-never-sent")
        .await
        .expect("read")
        .expect("at stripe")
        .0;
    assert_eq!(at_stripe.refunded().expect("sum"), usd(500));
    let now = store
        .order(&order.out_trade_no)
        .await
        .expect("r")
        .expect("o");
    assert_eq!(
        (now.status, now.refunded_minor),
        (OrderStatus::PartiallyRefunded, 500)
    );
}

/// WeChat Pay v2 end to end: the refund goes to the sandbox over mutual TLS with the
/// merchant certificate (the same call without one is refused by the TLS layer), and the
/// encrypted refund notification settles it.
#[tokio::test]
async fn wechatpay_v2_refunds_over_mutual_tls_and_its_refund_notification_settles() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path()).await;
    let p = &server.state.payments;
    let store = &server.state.store;
    let order = p
        .create_checkout(checkout("wechatpay-v2-sandbox", cny(800)))
        .await
        .expect("checkout");
    pay_in_wallet(&server, order.qr_code.as_deref().expect("qr")).await;
    let order = wait_for(store, &order.out_trade_no, OrderStatus::Paid).await;
    let refund = p
        .refund(
            &order.out_trade_no,
            RefundInput {
                amount: cny(300),
                reason: "cold tea".into(),
                out_refund_no: Some("v2-refund-1".into()),
            },
            &Cause::User("sam".into()),
        )
        .await
        .expect("refund over mutual TLS");
    assert_ne!(refund.status, RefundStatus::Failed, "{refund:?}");

    // The sandbox's TLS listener refuses a client without the merchant certificate.
    let mut refund_call = None;
    for _ in 0..100 {
        let calls = store
            .provider_calls(&paydesk_core::store::CallFilter {
                out_trade_no: Some(order.out_trade_no.clone()),
                limit: 50,
                ..Default::default()
            })
            .await
            .expect("calls");
        refund_call = calls
            .into_iter()
            .find(|c| c.url.contains("/secapi/pay/refund"));
        if refund_call.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refund_call = refund_call.expect("the refund call was recorded");
    assert_eq!(
        (refund_call.status, &refund_call.error),
        (Some(200), &None),
        "{refund_call:?}"
    );
    assert!(
        refund_call.url.starts_with("https://127.0.0.1:"),
        "{}",
        refund_call.url
    );
    let bare = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client")
        .post(&refund_call.url)
        .body("<xml></xml>")
        .send()
        .await;
    assert!(bare.is_err(), "no client certificate, no answer: {bare:?}");

    // The refund notification (req_info, AES-256-ECB) settles the refund.
    let set = server.state.sandbox.get().await.expect("sandbox");
    let sandbox_order = set
        .ledger(ProviderKind::WechatpayV2)
        .get(&order.out_trade_no)
        .await
        .expect("ledger")
        .expect("sandbox order");
    let sandbox_refund = sandbox_order
        .refunds
        .iter()
        .find(|r| r.out_refund_no == "v2-refund-1")
        .expect("sandbox refund")
        .clone();
    let mut n = set
        .wechatpay_v2
        .refund_notification(&sandbox_order, &sandbox_refund);
    n.url = format!("{}/notify/wechatpay_v2/wechatpay-v2-sandbox", server.base);
    let mut req = reqwest::Client::new().post(&n.url).body(n.body.clone());
    for (k, v) in &n.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("post refund notification");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.text().await.unwrap_or_default().contains("SUCCESS"));
    let settled = store
        .refund("v2-refund-1")
        .await
        .expect("r")
        .expect("refund");
    assert_eq!(settled.status, RefundStatus::Succeeded, "{settled:?}");
    let now = store
        .order(&order.out_trade_no)
        .await
        .expect("r")
        .expect("o");
    assert_eq!(
        (now.status, now.refunded_minor),
        (OrderStatus::PartiallyRefunded, 300)
    );
}
