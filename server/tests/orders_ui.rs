//! The dashboard's order server functions and the CSV export, through the real server on
//! a socket: role checks on every server function (anonymous 401, merchants confined to
//! their own orders and never refunding), a support user refunding part of a paid order
//! through the no-JS forms, and the export streaming every row of a filter larger than one
//! keyset page.

use std::collections::HashSet;
use std::time::Duration;

use paydesk_core::auth::hash_password;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus, RefundStatus};
use paydesk_core::payments::CheckoutRequest;
use paydesk_core::role::Role;
use paydesk_core::store::{MAX_PAGE, NewOrder, NewUser, Order, Store};
use paydesk_core::time::now_ms;

mod support;

use support::{TestApp, spawn_app};

struct Reply {
    status: u16,
    location: Option<String>,
    body: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn add_user(store: &Store, name: &str, role: Role) {
    let hash = hash_password("pw-123456789".into()).await.expect("hash");
    store
        .create_user(NewUser {
            username: name,
            password_hash: &hash,
            role,
        })
        .await
        .expect("create user");
}

/// Signs in and returns the session cookie (`name=value`).
async fn login(app: &TestApp, name: &str) -> String {
    let resp = client()
        .post(format!("{}/auth/login", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("username={name}&password=pw-123456789"))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 303, "login of {name}");
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("paydesk_session="))
        .and_then(|c| c.split(';').next())
        .map(String::from)
        .expect("session cookie")
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = resp.text().await.unwrap_or_default();
    Reply {
        status,
        location,
        body,
    }
}

/// A server function called as the browser's form post without JavaScript
/// (`html = true`: Accept text/html, same-origin) or as the wasm client does.
async fn rpc(app: &TestApp, name: &str, form: &str, cookie: Option<&str>, html: bool) -> Reply {
    let mut req = client()
        .post(format!("{}/rpc/{name}", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &app.base)
        .body(form.to_string());
    if html {
        req = req.header("Accept", "text/html");
    }
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    reply(req.send().await.expect("rpc")).await
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Reply {
    let mut req = client().get(format!("{}{path}", app.base));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    reply(req.send().await.expect("get")).await
}

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

/// An order created in the store directly (no provider call), by `creator`.
async fn stored_order(store: &Store, no: &str, creator: &str, subject: &str) -> Order {
    store
        .create_order(
            NewOrder {
                out_trade_no: no,
                channel: "alipay-sandbox",
                amount: cny(1234),
                subject,
                creator,
                expires_at: now_ms() + 15 * 60_000,
                qr_code: None,
                merchant_notify_url: None,
                api_key_id: None,
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::User(creator.into()),
        )
        .await
        .expect("create order")
}

/// A real sandbox order, paid through the wallet page, created by `creator`.
async fn paid_order(app: &TestApp, creator: &str) -> Order {
    let order = app
        .state
        .payments
        .create_checkout(CheckoutRequest {
            channel: "alipay-sandbox".into(),
            amount: cny(1000),
            subject: "Oolong 乌龙茶".into(),
            out_trade_no: None,
            expires_in_secs: None,
            merchant_notify_url: None,
            api_key_id: None,
            cause: Cause::User(creator.into()),
        })
        .await
        .expect("checkout");
    let qr = order.qr_code.clone().expect("qr");
    let resp = client()
        .post(format!("{qr}/pay"))
        .header("Origin", &app.base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("pay");
    assert_eq!(resp.status().as_u16(), 303);
    for _ in 0..200 {
        let o = app
            .state
            .store
            .order(&order.out_trade_no)
            .await
            .expect("read")
            .expect("order");
        if o.status == OrderStatus::Paid {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("order was not paid within 10 s");
}

#[tokio::test]
async fn every_order_server_fn_refuses_anonymous_callers() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let calls = [
        ("search_orders", "query%5Bq%5D="),
        ("order_detail", "no=ORDER-1"),
        ("sync_order", "no=ORDER-1"),
        ("close_order", "no=ORDER-1"),
        ("refund_order", "no=ORDER-1&amount=1.00&reason=x&token="),
        ("retry_refund", "out_refund_no=RF-1"),
        ("list_refunds", "status=&before="),
    ];
    for (name, form) in calls {
        let r = rpc(&app, name, form, None, false).await;
        assert_eq!(r.status, 401, "{name}: {}", r.body);
        assert!(r.body.contains("unauthenticated"), "{name}: {}", r.body);
    }
    let r = get(&app, "/export/orders.csv", None).await;
    assert_eq!(r.status, 401, "export refused to anonymous users");
    assert!(!r.body.contains("out_trade_no"));
}

#[tokio::test]
async fn merchants_see_and_close_only_their_own_orders_and_never_refund() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let store = &app.state.store;
    add_user(store, "m1", Role::Merchant).await;
    add_user(store, "m2", Role::Merchant).await;
    let theirs = paid_order(&app, "m1").await;
    let no = theirs.out_trade_no.clone();
    let pending_m1 = app
        .state
        .payments
        .create_checkout(CheckoutRequest {
            channel: "alipay-sandbox".into(),
            amount: cny(500),
            subject: "tea".into(),
            out_trade_no: None,
            expires_in_secs: None,
            merchant_notify_url: None,
            api_key_id: None,
            cause: Cause::User("m1".into()),
        })
        .await
        .expect("checkout");
    let m2 = login(&app, "m2").await;

    // m2 neither sees nor touches m1's orders: 404, as if they did not exist.
    let r = rpc(&app, "order_detail", &format!("no={no}"), Some(&m2), false).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = rpc(
        &app,
        "close_order",
        &format!("no={}", pending_m1.out_trade_no),
        Some(&m2),
        true,
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = rpc(&app, "sync_order", &format!("no={no}"), Some(&m2), false).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = rpc(&app, "search_orders", "query%5Bq%5D=", Some(&m2), false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains(&no), "m2's search shows no m1 order");
    let r = rpc(
        &app,
        "search_orders",
        "query%5Bcreator%5D=m1",
        Some(&m2),
        false,
    )
    .await;
    assert!(
        !r.body.contains(&no),
        "the creator filter cannot widen a merchant's scope"
    );
    // Merchants cannot refund at all, not even their own orders.
    let m1 = login(&app, "m1").await;
    for cookie in [&m1, &m2] {
        let r = rpc(
            &app,
            "refund_order",
            &format!("no={no}&amount=1.00&reason=x&token="),
            Some(cookie),
            false,
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = rpc(&app, "list_refunds", "status=&before=", Some(cookie), false).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = rpc(
            &app,
            "retry_refund",
            "out_refund_no=RF-1",
            Some(cookie),
            false,
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    assert!(
        store
            .refunds_of(&theirs.id)
            .await
            .expect("refunds")
            .is_empty()
    );

    // Support sees the order but may not close it (closing is not a support task).
    add_user(store, "sam", Role::Support).await;
    let sam = login(&app, "sam").await;
    let r = rpc(
        &app,
        "close_order",
        &format!("no={}", pending_m1.out_trade_no),
        Some(&sam),
        false,
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = rpc(
        &app,
        "order_detail",
        &format!("no={}", pending_m1.out_trade_no),
        Some(&sam),
        false,
    )
    .await;
    assert!(r.body.contains("\"can_close\":false"), "{}", r.body);

    // m1 sees and closes their own pending order.
    let r = rpc(&app, "search_orders", "query%5Bq%5D=", Some(&m1), false).await;
    assert!(r.body.contains(&no) && r.body.contains(&pending_m1.out_trade_no));
    let r = rpc(
        &app,
        "close_order",
        &format!("no={}", pending_m1.out_trade_no),
        Some(&m1),
        true,
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/orders/{}?ok=closed", pending_m1.out_trade_no).as_str())
    );
    let closed = store
        .order(&pending_m1.out_trade_no)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(closed.status, OrderStatus::Closed);
}

#[tokio::test]
async fn support_refunds_part_of_a_paid_order_through_the_confirmation_step() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let store = &app.state.store;
    add_user(store, "s1", Role::Support).await;
    let order = paid_order(&app, "mia").await;
    let no = order.out_trade_no.clone();
    let s1 = login(&app, "s1").await;

    // Step 1 (GET): the page shows what will be refunded and what remains.
    let r = get(
        &app,
        &format!("/orders/{no}?refund=3.00&reason=broken"),
        Some(&s1),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains(r#"id="refund-confirm""#),
        "confirmation shown"
    );
    assert!(r.body.contains("¥7.00 CNY"), "remaining refundable shown");
    assert!(r.body.contains(r#"action="/rpc/refund_order""#));
    // An over-refund is caught before anything is posted.
    let r = get(&app, &format!("/orders/{no}?refund=10.01"), Some(&s1)).await;
    assert!(r.body.contains(r#"id="refund-problem""#));
    assert!(!r.body.contains(r#"id="refund-confirm""#));

    // Step 2 (POST): the refund, then back to the order with the outcome.
    let form = format!("no={no}&amount=3.00&reason=broken&token=RF-UI-TEST-0001");
    let r = rpc(&app, "refund_order", &form, Some(&s1), true).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.location.expect("location");
    assert!(
        location.starts_with(&format!("/orders/{no}?ok=refund_")),
        "{location}"
    );
    // Posting the same confirmation again refunds nothing more.
    let r = rpc(&app, "refund_order", &form, Some(&s1), true).await;
    assert_eq!(r.status, 302);
    let refunds = store.refunds_of(&order.id).await.expect("refunds");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount, cny(300));
    assert_eq!(refunds[0].requested_by, "user:s1");
    assert_ne!(refunds[0].status, RefundStatus::Failed);

    // More than what is left: refused with a code the page explains.
    let r = rpc(
        &app,
        "refund_order",
        &format!("no={no}&amount=7.01&reason=&token=RF-UI-TEST-0002"),
        Some(&s1),
        true,
    )
    .await;
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/orders/{no}?error=over_refund").as_str())
    );
    let r = rpc(
        &app,
        "refund_order",
        &format!("no={no}&amount=abc&reason=&token="),
        Some(&s1),
        true,
    )
    .await;
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/orders/{no}?error=bad_amount").as_str())
    );

    // A failed refund is retried as a new one of the same amount.
    store
        .request_refund(
            &no,
            "RF-FAILED-0001",
            cny(100),
            "retry me",
            &Cause::User("s1".into()),
        )
        .await
        .expect("reserve");
    store
        .fail_refund("RF-FAILED-0001", "provider said no", &Cause::Query)
        .await
        .expect("fail");
    let r = rpc(
        &app,
        "retry_refund",
        "out_refund_no=RF-FAILED-0001",
        Some(&s1),
        true,
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.location.expect("location");
    assert!(
        location.starts_with(&format!("/orders/{no}?ok=refund_")),
        "{location}"
    );
    let refunds = store.refunds_of(&order.id).await.expect("refunds");
    assert_eq!(refunds.len(), 3);
    assert!(
        refunds
            .iter()
            .any(|r| r.amount == cny(100) && r.status != RefundStatus::Failed)
    );
    let r = rpc(
        &app,
        "retry_refund",
        "out_refund_no=RF-UI-TEST-0001",
        Some(&s1),
        true,
    )
    .await;
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/orders/{no}?error=not_allowed").as_str()),
        "only failed refunds are retried"
    );

    // The refunds list and the order's timeline show it.
    let r = rpc(&app, "list_refunds", "status=&before=", Some(&s1), false).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("RF-UI-TEST-0001"));
    let r = get(&app, &format!("/orders/{no}"), Some(&s1)).await;
    assert!(r.body.contains(r#"id="timeline""#));
    assert!(r.body.contains("RF-UI-TEST-0001"));
    let r = get(&app, "/refunds", Some(&s1)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("RF-UI-TEST-0001"));
}

#[tokio::test]
async fn csv_export_streams_every_row_of_a_filter_larger_than_a_page() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let store = &app.state.store;
    add_user(store, "support1", Role::Support).await;
    add_user(store, "noah", Role::Merchant).await;
    let rows = (2 * MAX_PAGE + 7) as usize;
    for i in 0..rows {
        stored_order(store, &format!("EXP-{i:05}"), "mia", "tea").await;
    }
    stored_order(store, "EXP-QUOTE", "mia", "cup, \"large\"").await;
    for i in 0..3 {
        stored_order(store, &format!("NOAH-{i:02}"), "noah", "tea").await;
    }
    let support = login(&app, "support1").await;

    let r = get(
        &app,
        "/export/orders.csv?status=pending&creator=mia&after=999.x",
        Some(&support),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.body.trim_start_matches('\u{feff}');
    let mut lines = body.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next(),
        Some(
            "out_trade_no,provider_trade_no,status,channel,currency,amount,refunded,subject,creator,created_at,paid_at,closed_at"
        )
    );
    let data: Vec<&str> = lines.collect();
    assert_eq!(data.len(), rows + 1, "every row, across pages, once");
    let numbers: HashSet<&str> = data
        .iter()
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    assert_eq!(numbers.len(), rows + 1, "no duplicates");
    assert!(
        numbers.contains("EXP-00000") && numbers.contains(format!("EXP-{:05}", rows - 1).as_str())
    );
    assert!(
        !numbers.iter().any(|n| n.starts_with("NOAH")),
        "the filter applies"
    );
    let quoted = data
        .iter()
        .find(|l| l.starts_with("EXP-QUOTE,"))
        .expect("quoted row");
    assert!(
        quoted.contains(",pending,alipay-sandbox,CNY,12.34,0.00,\"cup, \"\"large\"\"\",mia,"),
        "{quoted}"
    );
    assert!(
        quoted.contains('T') && quoted.contains('Z'),
        "ISO times: {quoted}"
    );

    // A merchant's export holds only their orders, whatever the link asks for.
    let noah = login(&app, "noah").await;
    let r = get(&app, "/export/orders.csv?creator=mia", Some(&noah)).await;
    assert_eq!(r.status, 200);
    let data: Vec<&str> = r
        .body
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(data.len(), 3, "{data:?}");
    assert!(data.iter().all(|l| l.starts_with("NOAH-")));

    let r = get(&app, "/export/orders.csv?min=abc", Some(&support)).await;
    assert_eq!(r.status, 400);
}
