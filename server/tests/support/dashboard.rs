//! Driving the dashboard over a socket the way a browser without JavaScript does: sign
//! in (with a second step when asked), plain form posts to server functions and form
//! routes, GETs, and a sandbox order paid through the wallet page.
#![allow(dead_code)]

use std::time::Duration;

use paydesk_core::auth::hash_password;
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::{Cause, OrderStatus};
use paydesk_core::payments::CheckoutRequest;
use paydesk_core::role::Role;
use paydesk_core::store::{NewUser, Order, Store};

use super::TestApp;

pub const PASSWORD: &str = "pw-123456789";

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub cookie: Option<String>,
    pub body: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::Cny).expect("money")
}

pub async fn add_user(store: &Store, name: &str, role: Role) {
    let hash = hash_password(PASSWORD.into()).await.expect("hash");
    store
        .create_user(NewUser {
            username: name,
            password_hash: &hash,
            role,
        })
        .await
        .expect("create user");
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let location = header("location");
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("paydesk_session="))
        .and_then(|c| c.split(';').next())
        .map(String::from);
    let body = resp.text().await.unwrap_or_default();
    Reply {
        status,
        location,
        cookie,
        body,
    }
}

/// A form post (same origin, Accept text/html, as a browser without JavaScript).
pub async fn post(app: &TestApp, path: &str, form: &str, cookie: Option<&str>) -> Reply {
    let mut req = client()
        .post(format!("{}{path}", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", &app.base)
        .header("Accept", "text/html")
        .body(form.to_string());
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    reply(req.send().await.expect("post")).await
}

pub async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Reply {
    let mut req = client().get(format!("{}{path}", app.base));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    reply(req.send().await.expect("get")).await
}

/// The password step: the reply (303 to `next`, or to `/login/2fa` / `/login/enroll`).
pub async fn password(app: &TestApp, name: &str) -> Reply {
    post(
        app,
        "/auth/login",
        &format!("username={name}&password={PASSWORD}"),
        None,
    )
    .await
}

/// Signs in a user without a second step; returns the session cookie.
pub async fn login(app: &TestApp, name: &str) -> String {
    let r = password(app, name).await;
    assert_eq!(r.status, 303, "login of {name}");
    assert_eq!(
        r.location.as_deref(),
        Some("/"),
        "{name} has no second step"
    );
    r.cookie.expect("session cookie")
}

/// The text of the element with `id` (`<… id="ID">TEXT<`), if any.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(rest[start..end].trim().to_string())
}

/// Presses "Pay" on the sandbox wallet page of `order`'s QR code (the wallet confirms with
/// a 303; the notification follows asynchronously).
pub async fn pay_in_wallet(app: &TestApp, order: &Order) {
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
}

/// A real sandbox order of `minor` fen, paid through the wallet page.
pub async fn paid_order(app: &TestApp, creator: &str, minor: i64) -> Order {
    let order = app
        .state
        .payments
        .create_checkout(CheckoutRequest {
            channel: "alipay-sandbox".into(),
            amount: cny(minor),
            subject: "Oolong 乌龙茶".into(),
            out_trade_no: None,
            expires_in_secs: None,
            merchant_notify_url: None,
            api_key_id: None,
            cause: Cause::User(creator.into()),
        })
        .await
        .expect("checkout");
    pay_in_wallet(app, &order).await;
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
