//! Refund approval through the real server, on SQLite and Postgres: an admin sets a
//! support threshold through the security page's server function; a support refund above
//! it waits (reserved, not sent); the requester's own approval is refused by a direct
//! server-function post; another admin's approval sends it (the sandbox refunds it); a
//! rejection needs a reason and releases the reservation; API keys follow their refund
//! policy (allowed, approval, forbidden) and cannot approve anything.

mod support;

use std::time::Duration;

use paydesk_core::approval::{ApprovalState, KeyRefundPolicy};
use paydesk_core::order::RefundStatus;
use paydesk_core::payments::{NumberKind, key_scoped_number};
use paydesk_core::role::Role;
use paydesk_core::store::Refund;
use paydesk_core::vault::MasterKey;
use serde_json::{Value, json};
use support::dashboard::{add_user, client, get, login, paid_order, post};
use support::{Options, PgSchema, TestApp, spawn_app, spawn_app_with};

async fn refund_of(app: &TestApp, order_id: &str) -> Refund {
    let mut refunds = app.state.store.refunds_of(order_id).await.expect("refunds");
    refunds.pop().expect("a refund")
}

async fn wait_settled(app: &TestApp, no: &str) -> Refund {
    for _ in 0..200 {
        let r = app
            .state
            .store
            .refund(no)
            .await
            .expect("read")
            .expect("refund");
        if r.status != RefundStatus::Pending {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("refund {no} not settled in 10 s");
}

fn state(r: &Refund) -> Option<ApprovalState> {
    r.approval.as_ref().map(|a| a.state)
}

async fn refund_form(app: &TestApp, cookie: &str, no: &str, amount: &str) -> String {
    let r = post(
        app,
        "/rpc/refund_order",
        &format!("no={no}&amount={amount}&reason=broken&token="),
        Some(cookie),
    )
    .await;
    r.location.unwrap_or_default()
}

async fn a_support_refund_above_the_threshold_waits_for_another_admin(app: &TestApp) {
    let store = &app.state.store;
    for (name, role) in [
        ("ada", Role::Admin),
        ("bea", Role::Admin),
        ("sam", Role::Support),
    ] {
        add_user(store, name, role).await;
    }
    let (ada, bea, sam) = (
        login(app, "ada").await,
        login(app, "bea").await,
        login(app, "sam").await,
    );
    // Support cannot change the policy; an admin can.
    let refused = post(
        app,
        "/rpc/set_refund_threshold",
        "role=support&currency=CNY&amount=5.00",
        Some(&sam),
    )
    .await;
    assert_eq!(refused.status, 403);
    let set = post(
        app,
        "/rpc/set_refund_threshold",
        "role=support&currency=CNY&amount=5.00",
        Some(&ada),
    )
    .await;
    assert_eq!(set.location.as_deref(), Some("/security?ok=saved"));
    let page = get(app, "/security", Some(&ada)).await;
    assert!(
        page.body.contains("data-threshold=\"support.CNY\""),
        "{}",
        page.body
    );

    // At the threshold: sent at once. Above it: waits.
    let order = paid_order(app, "mia", 1000).await;
    let no = order.out_trade_no.clone();
    assert!(
        refund_form(app, &sam, &no, "5.00")
            .await
            .contains("ok=refund_succeeded")
    );
    let loc = refund_form(app, &sam, &no, "5.00").await;
    assert!(loc.contains("ok=refund_succeeded"), "{loc}");
    let order = paid_order(app, "mia", 1000).await;
    let no = order.out_trade_no.clone();
    let loc = refund_form(app, &sam, &no, "6.00").await;
    assert!(loc.contains("ok=refund_awaiting"), "{loc}");
    let held = refund_of(app, &order.id).await;
    assert_eq!(
        (held.status, state(&held)),
        (RefundStatus::Pending, Some(ApprovalState::Awaiting))
    );
    let o = store.order(&no).await.expect("read").expect("order");
    assert_eq!((o.refund_reserved_minor, o.refunded_minor), (600, 0));
    // Still reserved: 5.00 more is over what is left.
    assert!(
        refund_form(app, &sam, &no, "5.00")
            .await
            .contains("error=over_refund")
    );
    let tab = get(app, "/refunds?status=awaiting", Some(&bea)).await;
    assert_eq!(tab.status, 200);
    assert!(
        tab.body
            .contains(&format!("data-refund=\"{}\"", held.out_refund_no)),
        "{}",
        tab.body
    );

    // Support may not decide at all (role guard).
    let form = format!(
        "out_refund_no={}&decision=approve&reason=",
        held.out_refund_no
    );
    assert_eq!(
        post(app, "/rpc/decide_refund", &form, Some(&sam))
            .await
            .status,
        403
    );
    // Another admin approves: sent, and the sandbox refunds it.
    let ok = post(app, "/rpc/decide_refund", &form, Some(&bea)).await;
    assert_eq!(
        ok.location.as_deref(),
        Some("/refunds?status=awaiting&ok=approved")
    );
    let done = wait_settled(app, &held.out_refund_no).await;
    assert_eq!(done.status, RefundStatus::Succeeded);
    // Approving again changes nothing.
    let again = post(app, "/rpc/decide_refund", &form, Some(&ada)).await;
    assert_eq!(
        again.location.as_deref(),
        Some("/refunds?status=awaiting&error=not_awaiting_approval")
    );
    let detail = get(app, &format!("/orders/{no}"), Some(&ada)).await;
    assert!(detail.body.contains("Refund approved") || detail.body.contains("退款已批准"));
}

async fn nobody_approves_their_own_and_rejection_releases(app: &TestApp) {
    let store = &app.state.store;
    add_user(store, "ada", Role::Admin).await;
    add_user(store, "bea", Role::Admin).await;
    let (ada, bea) = (login(app, "ada").await, login(app, "bea").await);
    post(
        app,
        "/rpc/set_refund_threshold",
        "role=admin&currency=CNY&amount=1",
        Some(&ada),
    )
    .await;
    let order = paid_order(app, "mia", 1000).await;
    let no = order.out_trade_no.clone();
    assert!(
        refund_form(app, &ada, &no, "10.00")
            .await
            .contains("ok=refund_awaiting")
    );
    let held = refund_of(app, &order.id).await;
    // The requester's direct server-function post is refused by the core.
    let approve = format!(
        "out_refund_no={}&decision=approve&reason=",
        held.out_refund_no
    );
    let own = post(app, "/rpc/decide_refund", &approve, Some(&ada)).await;
    assert_eq!(
        own.location.as_deref(),
        Some("/refunds?status=awaiting&error=own_refund")
    );
    let reject_own = format!(
        "out_refund_no={}&decision=reject&reason=mine",
        held.out_refund_no
    );
    let own = post(app, "/rpc/decide_refund", &reject_own, Some(&ada)).await;
    assert_eq!(
        own.location.as_deref(),
        Some("/refunds?status=awaiting&error=own_refund")
    );
    let r = store
        .refund(&held.out_refund_no)
        .await
        .expect("read")
        .expect("refund");
    assert_eq!(state(&r), Some(ApprovalState::Awaiting));
    // A rejection needs a reason, then releases the reservation.
    let no_reason = format!(
        "out_refund_no={}&decision=reject&reason=",
        held.out_refund_no
    );
    let r = post(app, "/rpc/decide_refund", &no_reason, Some(&bea)).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/refunds?status=awaiting&error=reason_missing")
    );
    let reject = format!(
        "out_refund_no={}&decision=reject&reason=duplicate",
        held.out_refund_no
    );
    let r = post(app, "/rpc/decide_refund", &reject, Some(&bea)).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/refunds?status=awaiting&ok=rejected")
    );
    let r = store
        .refund(&held.out_refund_no)
        .await
        .expect("read")
        .expect("refund");
    assert_eq!(
        (r.status, state(&r)),
        (RefundStatus::Failed, Some(ApprovalState::Rejected))
    );
    let o = store.order(&no).await.expect("read").expect("order");
    assert_eq!((o.refund_reserved_minor, o.refundable_minor()), (0, 1000));
    let audit: Vec<String> = store
        .recent_audit(50)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        "refund_awaiting_approval",
        "refund_rejected",
        "refund_approval_policy_changed",
    ] {
        assert!(audit.iter().any(|x| x == a), "{a}: {audit:?}");
    }
}

async fn api(app: &TestApp, key: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}{path}", app.base))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("api");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn api_keys_follow_their_refund_policy(app: &TestApp) {
    let store = &app.state.store;
    add_user(store, "ada", Role::Admin).await;
    let master = MasterKey::load(&app.state.config.settings.data_dir).expect("master");
    let created = store
        .create_api_key("pos", "test", &master)
        .await
        .expect("key");
    let key = created.secret.clone();
    let internal = key_scoped_number(&created.info.id, NumberKind::Order, "KEYORD-1");
    let body = json!({"channel": "alipay-sandbox", "amount": 1000, "currency": "CNY",
                      "subject": "tea", "out_trade_no": "KEYORD-1"});
    let (s, order) = api(app, &key, "/api/v1/orders", body).await;
    assert_eq!(s, 201, "{order}");
    let qr = order["qr_code"].as_str().expect("qr").to_string();
    let paid = client()
        .post(format!("{qr}/pay"))
        .header("Origin", &app.base)
        .body("")
        .send()
        .await
        .expect("pay");
    assert_eq!(paid.status().as_u16(), 303);
    let mut paid_in_time = false;
    for _ in 0..200 {
        let o = store.order(&internal).await.expect("read");
        if o.is_some_and(|o| o.status.is_refundable()) {
            paid_in_time = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(paid_in_time, "paid within 10 s");
    let refunds = "/api/v1/orders/KEYORD-1/refunds";
    let (s, r) = api(app, &key, refunds, json!({"amount": 100})).await;
    assert_eq!((s, r["approval"].clone()), (201, Value::Null), "{r}");
    store
        .set_api_key_refund_policy("pos", KeyRefundPolicy::NeedsApproval)
        .await
        .expect("policy");
    let (s, held) = api(app, &key, refunds, json!({"amount": 200})).await;
    assert_eq!(s, 201, "{held}");
    assert_eq!(
        (held["status"].as_str(), held["approval"].as_str()),
        (Some("pending"), Some("awaiting"))
    );
    let rf = held["out_refund_no"].as_str().expect("no").to_string();
    // The key has no way to approve: there is no such route.
    let (s, _) = api(
        app,
        &key,
        &format!("/api/v1/refunds/{rf}/approve"),
        json!({}),
    )
    .await;
    assert!(s == 404 || s == 405, "{s}");
    let o = store.order(&internal).await.expect("read").expect("order");
    assert_eq!(o.refund_reserved_minor, 300, "held refund reserved");
    store
        .set_api_key_refund_policy("pos", KeyRefundPolicy::Forbidden)
        .await
        .expect("policy");
    let (s, e) = api(app, &key, refunds, json!({"amount": 50})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (403, Some("refund_forbidden")),
        "{e}"
    );
    // An admin approves the key's held refund; it is sent.
    let ada = login(app, "ada").await;
    let form = format!("out_refund_no={rf}&decision=approve&reason=");
    let ok = post(app, "/rpc/decide_refund", &form, Some(&ada)).await;
    assert_eq!(
        ok.location.as_deref(),
        Some("/refunds?status=awaiting&ok=approved")
    );
    assert_eq!(wait_settled(app, &rf).await.status, RefundStatus::Succeeded);
}

macro_rules! on_both_databases {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().expect("tempdir");
                let app = spawn_app(dir.path(), None).await;
                super::$story(&app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(pg) = PgSchema::create().await else { return };
                let dir = tempfile::tempdir().expect("tempdir");
                let options = Options { database_url: Some(pg.url.clone()), ..Options::default() };
                let app = spawn_app_with(dir.path(), options).await;
                super::$story(&app).await;
                app.state.store.close().await;
                pg.drop().await;
            }
        }
    )*};
}

on_both_databases!(
    a_support_refund_above_the_threshold_waits_for_another_admin,
    nobody_approves_their_own_and_rejection_releases,
    api_keys_follow_their_refund_policy,
);
