//! The orders search box, saved views and test mode through the real server (issue 18):
//! a fragment of the number or a Chinese word of the subject finds the order; a query
//! that does not parse says where in the page; saved views are each user's own; test mode
//! decides whether sandbox orders are listed and exported, per user, with a banner.

mod support;

use paydesk_core::order::Cause;
use paydesk_core::payments::CheckoutRequest;
use paydesk_core::role::Role;
use paydesk_core::store::Order;
use support::dashboard::{add_user, cny, get, login, post, text_of};
use support::{Options, PgSchema, TestApp, spawn_app_with};

async fn order(app: &TestApp, creator: &str, subject: &str) -> Order {
    app.state
        .payments
        .create_checkout(CheckoutRequest {
            channel: "alipay-sandbox".into(),
            amount: cny(1234),
            subject: subject.into(),
            out_trade_no: None,
            expires_in_secs: None,
            merchant_notify_url: None,
            api_key_id: None,
            cause: Cause::User(creator.into()),
        })
        .await
        .expect("checkout")
}

async fn orders_page(app: &TestApp, query: &str, cookie: &str) -> String {
    let r = get(app, &format!("/orders?{query}"), Some(cookie)).await;
    assert_eq!(r.status, 200, "GET /orders?{query}");
    r.body
}

async fn a_fragment_or_a_chinese_word_finds_the_order_and_errors_say_where(app: &TestApp) {
    add_user(&app.state.store, "sam", Role::Support).await;
    add_user(&app.state.store, "mia", Role::Merchant).await;
    let latte = order(app, "mia", "冰拿铁 Iced Latte").await;
    let tea = order(app, "ola", "乌龙茶").await;
    let sam = login(app, "sam").await;
    let no = &latte.out_trade_no;
    let tail = no[no.len() - 6..].to_lowercase();
    let page = orders_page(app, &format!("q={tail}"), &sam).await;
    assert!(page.contains(no.as_str()), "last 6 characters, lower case");
    assert!(!page.contains(tea.out_trade_no.as_str()));
    let page = orders_page(app, "q=%E6%8B%BF%E9%93%81", &sam).await; // 拿铁
    assert!(page.contains(no.as_str()), "a 2-character Chinese word");
    assert!(!page.contains(tea.out_trade_no.as_str()));
    let page = orders_page(app, "q=12.34+status%3Apending", &sam).await;
    assert!(page.contains(no.as_str()) && page.contains(tea.out_trade_no.as_str()));
    // A merchant's search stays within their own orders.
    let mia = login(app, "mia").await;
    let page = orders_page(app, "q=%E4%B9%8C%E9%BE%99", &mia).await; // 乌龙
    assert!(!page.contains(tea.out_trade_no.as_str()));
    let page = orders_page(app, "q=creator%3Aola", &mia).await;
    assert!(
        !page.contains(tea.out_trade_no.as_str()),
        "creator: cannot widen a merchant"
    );
    // An error names the text and the column, in the page's language.
    let page = orders_page(app, "q=status%3Apaid+stauts%3Aclosed", &sam).await;
    let problem = text_of(&page, "f-q-problem").expect("the problem is shown");
    assert!(
        problem.contains("stauts") && problem.contains("13"),
        "{problem}"
    );
    assert!(
        !page.contains("id=\"orders-table\""),
        "no results under an error"
    );
    // The export refuses it plainly.
    let r = get(app, "/export/orders.csv?q=stauts%3Aclosed", Some(&sam)).await;
    assert_eq!(r.status, 400);
}

async fn saved_views_belong_to_their_user(app: &TestApp) {
    add_user(&app.state.store, "sam", Role::Support).await;
    add_user(&app.state.store, "sue", Role::Support).await;
    let sam = login(app, "sam").await;
    let sue = login(app, "sue").await;
    let r = post(
        app,
        "/rpc/save_order_view",
        "name=Lattes&query=q%3Dlatte%26status%3Dpaid%26evil%3D1",
        Some(&sam),
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/orders?q=latte&status=paid&ok=view_saved")
    );
    let page = orders_page(app, "", &sam).await;
    assert!(
        page.contains("href=\"/orders?q=latte&amp;status=paid\""),
        "the view is listed"
    );
    assert!(!orders_page(app, "", &sue).await.contains("Lattes"));
    // A name is required; control characters are refused.
    let r = post(app, "/rpc/save_order_view", "name=%0A&query=", Some(&sam)).await;
    assert_eq!(r.location.as_deref(), Some("/orders?error=view_name"));
    let sam_id = app
        .state
        .store
        .user_by_name("sam")
        .await
        .expect("read")
        .expect("sam")
        .id;
    let views = app.state.store.saved_views(&sam_id).await.expect("views");
    assert_eq!(views.len(), 1);
    // Another user cannot delete it.
    let r = post(
        app,
        "/rpc/delete_order_view",
        &format!("id={}", views[0].id),
        Some(&sue),
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/orders?error=not_found"));
    assert_eq!(
        app.state
            .store
            .saved_views(&sam_id)
            .await
            .expect("views")
            .len(),
        1
    );
    let r = post(
        app,
        "/rpc/delete_order_view",
        &format!("id={}", views[0].id),
        Some(&sam),
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/orders?ok=view_deleted"));
    assert!(
        app.state
            .store
            .saved_views(&sam_id)
            .await
            .expect("views")
            .is_empty()
    );
    // Signed out: refused.
    let r = post(app, "/rpc/save_order_view", "name=x&query=", None).await;
    assert!(matches!(r.status, 302 | 401), "{}", r.status);
    assert!(r.location.as_deref() != Some("/orders?ok=view_saved"));
}

async fn test_mode_keeps_sandbox_orders_apart_per_user(app: &TestApp) {
    add_user(&app.state.store, "sam", Role::Support).await;
    add_user(&app.state.store, "sue", Role::Support).await;
    let o = order(app, "mia", "测试订单").await;
    let sam = login(app, "sam").await;
    let sue = login(app, "sue").await;
    // A fresh install (no live channel) starts in test mode: the sandbox order is listed
    // under the banner.
    let page = orders_page(app, "", &sam).await;
    assert!(page.contains("id=\"test-banner\""));
    assert!(page.contains(o.out_trade_no.as_str()));
    // Sam turns it off: live data only, no banner; the export agrees; Sue is unchanged.
    let r = post(
        app,
        "/account/test-mode",
        "test=0&next=%2Forders%3Fq%3Dabc",
        Some(&sam),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/orders?q=abc"));
    let page = orders_page(app, "", &sam).await;
    assert!(!page.contains("id=\"test-banner\""));
    assert!(
        page.contains("id=\"test-mode-toggle\""),
        "the switch to turn it back on"
    );
    assert!(
        !page.contains(o.out_trade_no.as_str()),
        "test orders are not live data"
    );
    let csv = get(app, "/export/orders.csv", Some(&sam)).await;
    assert_eq!(csv.status, 200);
    assert!(!csv.body.contains(o.out_trade_no.as_str()));
    assert!(
        orders_page(app, "", &sue)
            .await
            .contains(o.out_trade_no.as_str())
    );
    let overview = get(app, "/", Some(&sam)).await;
    assert!(!overview.body.contains("id=\"test-banner\""));
    // Back on; a hostile `next` goes home; a bad value is refused; signed out is refused.
    let r = post(
        app,
        "/account/test-mode",
        "test=1&next=%2F%2Fevil.example",
        Some(&sam),
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/"));
    assert!(
        orders_page(app, "", &sam)
            .await
            .contains(o.out_trade_no.as_str())
    );
    let r = post(app, "/account/test-mode", "test=maybe", Some(&sam)).await;
    assert_eq!(r.status, 400);
    let r = post(app, "/account/test-mode", "test=0", None).await;
    assert_ne!(r.status, 303);
}

/// Each story on SQLite and on Postgres.
macro_rules! on_both {
    ($($story:ident),*) => {$(
        mod $story {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().expect("tempdir");
                let app = spawn_app_with(dir.path(), Options::default()).await;
                super::$story(&app).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(schema) = PgSchema::create().await else { return };
                let dir = tempfile::tempdir().expect("tempdir");
                let options = Options { database_url: Some(schema.url.clone()), ..Options::default() };
                let app = spawn_app_with(dir.path(), options).await;
                super::$story(&app).await;
            }
        }
    )*};
}

on_both!(
    a_fragment_or_a_chinese_word_finds_the_order_and_errors_say_where,
    saved_views_belong_to_their_user,
    test_mode_keeps_sandbox_orders_apart_per_user
);
