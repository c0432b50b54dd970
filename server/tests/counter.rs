//! The counter's other screens through the real application on a socket, as a browser
//! without JavaScript uses them (and the display's event stream as `EventSource` reads
//! it), on SQLite and Postgres:
//!
//! - receipts: a paid order's and a succeeded refund's, for its cashier and for support;
//!   none for an unpaid order or for another merchant;
//! - the customer display: the cashier's current sale (pending with its QR code, then
//!   paid), pushed by `GET /display/events` within a second of the payment; never for
//!   support; a pending sale on screen is queried sooner;
//! - the till: its settings kept in cookies, "show QR" in one post on the remembered
//!   channel with the remembered note, a large amount asked about before anything is
//!   charged, and the roles that may not use it.

use std::time::{Duration, Instant};

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus, RefundStatus};
use paydesk_core::payments::{CheckoutRequest, RefundInput};
use paydesk_core::role::Role;
use paydesk_core::store::Order;

mod support;
use support::dashboard::{add_user, client, get, login, paid_order, pay_in_wallet, post, text_of};
use support::{Options, PgSchema, TestApp, spawn_app_with};

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

async fn pending_order(app: &TestApp, creator: &str, minor: i64) -> Order {
    app.state
        .payments
        .create_checkout(CheckoutRequest {
            channel: "wechatpay-sandbox".into(),
            amount: cny(minor),
            subject: "Jasmine 茉莉花茶".into(),
            out_trade_no: None,
            expires_in_secs: None,
            merchant_notify_url: None,
            api_key_id: None,
            cause: Cause::User(creator.into()),
        })
        .await
        .expect("checkout")
}

async fn refunded(app: &TestApp, order: &Order, minor: i64) -> String {
    let refund = app
        .state
        .payments
        .refund(
            &order.out_trade_no,
            RefundInput {
                amount: cny(minor),
                reason: "cup was cracked".into(),
                out_refund_no: None,
            },
            &Cause::User("sam".into()),
        )
        .await
        .expect("refund");
    for _ in 0..100 {
        let r = app.state.store.refund(&refund.out_refund_no).await;
        if r.expect("read").expect("refund").status == RefundStatus::Succeeded {
            return refund.out_refund_no;
        }
        app.state.payments.run_due_queries(10).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the refund did not succeed");
}

async fn receipts(app: &TestApp, m1: &str, m2: &str, sam: &str) {
    let order = paid_order(app, "m1", 123_456).await;
    let no = &order.out_trade_no;
    let page = get(app, &format!("/receipt/{no}?paper=58"), Some(m1)).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        text_of(&page.body, "receipt-amount").as_deref(),
        Some("¥1,234.56 CNY")
    );
    assert_eq!(
        text_of(&page.body, "receipt-order-no").as_deref(),
        Some(no.as_str())
    );
    let trade_no = order.provider_trade_no.clone().expect("trade no");
    assert!(page.body.contains(&trade_no), "the provider's number");
    assert!(
        page.body.contains("paper-58") && page.body.contains("<svg"),
        "slip + QR"
    );
    assert!(!page.body.contains("sidenav"), "no navigation on a receipt");
    for words in ["updates by itself", "自动更新"] {
        assert!(!page.body.contains(words));
    }
    // Support finds it too; another merchant is told there is none.
    let support = get(app, &format!("/receipt/{no}"), Some(sam)).await;
    assert_eq!(
        text_of(&support.body, "receipt-order-no").as_deref(),
        Some(no.as_str())
    );
    let other = get(app, &format!("/receipt/{no}"), Some(m2)).await;
    assert!(
        other.body.contains("id=\"receipt-error\""),
        "{}",
        other.body
    );
    assert!(!other.body.contains(&trade_no));
    // Not paid: no receipt.
    let unpaid = pending_order(app, "m1", 500).await;
    let none = get(app, &format!("/receipt/{}", unpaid.out_trade_no), Some(m1)).await;
    assert!(none.body.contains("id=\"receipt-error\""));
    // A refund's receipt: the refund's amount, the order's, the refund number.
    let refund_no = refunded(app, &order, 20_000).await;
    let slip = get(app, &format!("/receipt/{no}?refund={refund_no}"), Some(sam)).await;
    assert_eq!(
        text_of(&slip.body, "receipt-amount").as_deref(),
        Some("¥200.00 CNY")
    );
    assert!(slip.body.contains(&refund_no) && slip.body.contains("¥1,234.56"));
    let bogus = get(app, &format!("/receipt/{no}?refund=R-nope"), Some(sam)).await;
    assert!(bogus.body.contains("id=\"receipt-error\""));
    // The order page links to both.
    let detail = get(app, &format!("/orders/{no}"), Some(sam)).await;
    assert!(detail.body.contains(&format!("/receipt/{no}")));
    assert!(detail.body.contains(&format!("refund={refund_no}")));
}

/// Reads `GET /display/events` until an event whose JSON has `status`, within `wait`.
async fn next_status(resp: &mut reqwest::Response, status: &str, wait: Duration) -> String {
    let until = Instant::now() + wait;
    let mut seen = String::new();
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
        if seen.contains(&format!("\"status\":\"{status}\"")) {
            return seen;
        }
    }
    panic!("no {status:?} event within {wait:?}; got {seen:?}");
}

async fn display(app: &TestApp, m1: &str, sam: &str) {
    assert_eq!(get(app, "/display", Some(sam)).await.status, 403);
    let refused = client()
        .get(format!("{}/display/events", app.base))
        .header("Cookie", sam)
        .send()
        .await
        .expect("events");
    assert_eq!(refused.status().as_u16(), 403);

    let order = pending_order(app, "m1", 4_200).await;
    let page = get(app, "/display", Some(m1)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("data-status=\"pending\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("¥42.00 CNY") && page.body.contains("<svg"));
    let private = ["user-name", "sidenav", "Jasmine"];
    assert!(
        !private.iter().any(|p| page.body.contains(p)),
        "nothing private"
    );
    assert!(page.body.contains("http-equiv=\"refresh\" content=\"1\""));
    // On screen, the order is asked about within WATCHED_QUERY_MS, not in 5 s.
    let watched = app
        .state
        .store
        .order(&order.out_trade_no)
        .await
        .expect("read");
    let next = watched.expect("order").next_query_at.expect("scheduled");
    assert!(next <= paydesk_core::time::now_ms() + paydesk_core::payments::WATCHED_QUERY_MS);

    let mut events = client()
        .get(format!("{}/display/events", app.base))
        .header("Cookie", m1)
        .send()
        .await
        .expect("events");
    assert_eq!(events.status().as_u16(), 200);
    let ct = events.headers()["content-type"]
        .to_str()
        .expect("ct")
        .to_string();
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    next_status(&mut events, "pending", Duration::from_secs(3)).await;
    let paid_at = Instant::now();
    pay_in_wallet(app, &order).await;
    let got = next_status(&mut events, "paid", Duration::from_secs(3)).await;
    assert!(
        paid_at.elapsed() < Duration::from_millis(1_500),
        "followed within a second or so"
    );
    assert!(
        !got.contains("\"m1\"") && !got.contains("Jasmine"),
        "nothing private in the feed"
    );
}

/// A pay-at-once code from the Alipay sandbox wallet, as its page shows it.
async fn fresh_code(app: &TestApp) -> String {
    let set = app.state.sandbox.get().await.expect("sandbox");
    let kind = paydesk_core::provider::ProviderKind::Alipay;
    let now = paydesk_core::time::now_ms();
    set.issue_pay_code(kind, paydesk_core::sandbox::CodeBehaviour::Pay, now)
        .await
        .expect("issue")
        .expect("code")
}

fn till_cookies(reply_cookies: &[String], session: &str) -> String {
    let mut all = vec![session.to_string()];
    all.extend(reply_cookies.iter().cloned());
    all.join("; ")
}

async fn till(app: &TestApp, m1: &str, m2: &str, sam: &str) {
    for rpc in ["till_charge", "till_qr", "till_settings"] {
        let r = post(
            app,
            &format!("/rpc/{rpc}"),
            "amount=1.00&auth_code=28",
            Some(sam),
        )
        .await;
        assert_eq!(r.status, 403, "{rpc} for support");
        let r = post(app, &format!("/rpc/{rpc}"), "amount=1.00", None).await;
        assert_eq!(r.status, 401, "{rpc} signed out");
    }
    // Settings: kept in cookies on this device.
    let resp = client()
        .post(format!("{}/rpc/till_settings", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &app.base)
        .header("Accept", "text/html")
        .header("Cookie", m1)
        .body("channel=alipay-sandbox&note=%E8%8C%B6%E9%A6%86+Tea+House")
        .send()
        .await
        .expect("settings");
    assert_eq!(resp.status().as_u16(), 302);
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("paydesk_till_"))
        .filter_map(|c| c.split(';').next().map(String::from))
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let jar = till_cookies(&cookies, m1);
    let page = get(app, "/till", Some(&jar)).await;
    assert!(
        page.body.contains("茶馆 Tea House"),
        "the default note is shown"
    );
    assert!(
        page.body.contains("alipay-sandbox\" selected"),
        "the channel is remembered"
    );

    // "Show QR": one post, on the remembered channel, with the default note.
    let qr = post(app, "/rpc/till_qr", "amount=18.80&subject=", Some(&jar)).await;
    assert_eq!(qr.status, 302, "{}", qr.body);
    let at = qr.location.expect("to the status page");
    let no = at
        .strip_prefix("/checkout/")
        .expect("status page")
        .to_string();
    let order = app
        .state
        .store
        .order(&no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(order.channel, "alipay-sandbox");
    assert_eq!(order.subject, "茶馆 Tea House");
    assert_eq!(order.amount, cny(1_880));

    // A large amount is asked about first, by code and by QR; confirmed, it goes ahead.
    let code = fresh_code(app).await;
    let big = format!("amount=20000.00&auth_code={code}");
    let asked = post(app, "/rpc/till_charge", &big, Some(&jar)).await;
    let back = asked.location.expect("back to the till");
    assert!(back.starts_with("/till?error=confirm_large"), "{back}");
    let asked = post(app, "/rpc/till_qr", "amount=20000.00", Some(&jar)).await;
    assert!(asked.location.expect("back").contains("confirm_large"));
    let till_page = get(app, &back, Some(&jar)).await;
    assert!(till_page.body.contains("id=\"till-confirm\""));
    assert!(
        till_page.body.contains("value=\"2000000CNY\""),
        "the token of this amount"
    );
    let confirmed = format!("{big}&confirm=2000000CNY");
    let paid = post(app, "/rpc/till_charge", &confirmed, Some(&jar)).await;
    let at = paid.location.expect("to the order");
    assert!(at.starts_with("/checkout/"), "{at}");
    let order = app
        .state
        .store
        .order(at.trim_start_matches("/checkout/"))
        .await
        .expect("read")
        .expect("order");
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.amount, cny(2_000_000));
    // One code scanned on two tills at once: charged once, the other declined.
    let code = fresh_code(app).await;
    let sale = format!("amount=7.00&auth_code={code}");
    let (a, b) = tokio::join!(
        post(app, "/rpc/till_charge", &sale, Some(&jar)),
        post(app, "/rpc/till_charge", &sale, Some(m1)),
    );
    let places = [a.location.expect("a"), b.location.expect("b")];
    let paid: Vec<_> = places
        .iter()
        .filter(|l| l.starts_with("/checkout/"))
        .collect();
    assert_eq!(paid.len(), 1, "charged exactly once: {places:?}");
    assert!(
        places.iter().any(|l| l.contains("error=declined")),
        "{places:?}"
    );

    // The island's calls: the same role checks, and nobody cancels another's sale.
    let input =
        "input%5Bamount%5D=1.00&input%5Bsubject%5D=&input%5Bauth_code%5D=&input%5Bconfirm%5D=";
    assert_eq!(
        post(app, "/rpc/till_sale", input, Some(sam)).await.status,
        403
    );
    assert_eq!(
        post(app, "/rpc/till_cancel", "no=x", Some(sam))
            .await
            .status,
        403
    );
    let mine = pending_order(app, "m1", 300).await;
    let cancel = format!("no={}", mine.out_trade_no);
    assert_eq!(
        post(app, "/rpc/till_cancel", &cancel, Some(m2))
            .await
            .status,
        404
    );
    let still = app
        .state
        .store
        .order(&mine.out_trade_no)
        .await
        .expect("read");
    assert_eq!(still.expect("order").status, OrderStatus::Pending);
    // (A form post: Leptos answers a browser's post with a redirect back, the data in the
    // body; the island's own calls get 200.)
    let done = post(app, "/rpc/till_cancel", &cancel, Some(m1)).await;
    assert!(matches!(done.status, 200 | 302), "{}", done.body);
    assert!(done.body.contains("closed"), "{}", done.body);
    // And a QR sale through the island's call answers with the view to draw.
    let started = post(app, "/rpc/till_sale", input, Some(&jar)).await;
    assert!(matches!(started.status, 200 | 302), "{}", started.body);
    assert!(
        started.body.contains("Started") && started.body.contains("<svg"),
        "{}",
        started.body
    );

    // A confirmation is for that amount only.
    let other = format!("amount=20000.01&auth_code={code}&confirm=2000000CNY");
    let again = post(app, "/rpc/till_charge", &other, Some(&jar)).await;
    assert!(again.location.expect("back").contains("confirm_large"));
}

async fn story(app: &TestApp) {
    for (name, role) in [
        ("m1", Role::Merchant),
        ("m2", Role::Merchant),
        ("sam", Role::Support),
    ] {
        add_user(&app.state.store, name, role).await;
    }
    let m1 = login(app, "m1").await;
    let m2 = login(app, "m2").await;
    let sam = login(app, "sam").await;
    receipts(app, &m1, &m2, &sam).await;
    display(app, &m1, &sam).await;
    till(app, &m1, &m2, &sam).await;
}

#[tokio::test]
async fn the_counter_screens_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_app_with(dir.path(), Options::default()).await;
    story(&app).await;
}

#[tokio::test]
async fn the_counter_screens_on_postgres() {
    let Some(schema) = PgSchema::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let options = Options {
        database_url: Some(schema.url.clone()),
        ..Options::default()
    };
    let app = spawn_app_with(dir.path(), options).await;
    story(&app).await;
    schema.drop().await;
}
