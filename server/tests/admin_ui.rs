//! Logs, users and API keys through the HTTP surface (`oneshot`, no socket): every server
//! function and route refuses anonymous callers (401) and merchants (403); support reads
//! the logs but not the audit log or users; an admin manages users and keys, and each
//! change is audited.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use paydesk_core::money::{Currency, Money};
use paydesk_core::order::Cause;
use paydesk_core::role::Role;
use paydesk_core::store::{
    AuditFilter, MerchantNotificationStatus, NewMerchantNotification, NewOrder,
};
use paydesk_core::time::now_ms;
use support::oneshot::RouterApp;

/// The status a merchant API request with `key` gets.
async fn api_get(app: &RouterApp, path: &str, key: &str) -> StatusCode {
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .expect("request");
    app.send(req).await.status
}

/// (action, target) of everything `actor` did, newest first.
async fn audit_actions(app: &RouterApp, actor: &str) -> Vec<(String, String)> {
    app.store
        .audit_entries(&AuditFilter {
            actor: Some(actor.into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.target))
        .collect()
}

/// The server functions of logs/users, with arguments that would otherwise succeed.
const READ_LOGS: [(&str, &str); 4] = [
    ("logs_inbox", ""),
    ("logs_inbox_entry", "id=x"),
    ("logs_calls", "failed=false"),
    ("logs_notifications", ""),
];
const ADMIN_ONLY: [(&str, &str); 9] = [
    // Resending reaches the merchant's systems: not a support task.
    ("logs_resend_notification", "id=x"),
    ("logs_audit", ""),
    ("list_users", ""),
    (
        "create_user",
        "username=eve&role=admin&password=long-enough-pw",
    ),
    ("set_user_role", "username=admin&role=merchant"),
    ("set_user_disabled", "username=admin&disabled=true"),
    (
        "reset_user_password",
        "username=admin&password=long-enough-pw",
    ),
    ("list_api_keys", ""),
    ("revoke_api_key", "name=x"),
];

#[tokio::test]
async fn every_function_and_route_refuses_anonymous_and_merchants() {
    let app = RouterApp::new().await;
    app.add_user("mia", "merchant-password", Role::Merchant)
        .await;
    app.add_user("sam", "support-password", Role::Support).await;
    let merchant = app.login("mia", "merchant-password").await;
    let support = app.login("sam", "support-password").await;

    for (name, form) in READ_LOGS.iter().chain(ADMIN_ONLY.iter()) {
        let r = app.rpc(name, form, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: {}", r.body);
        let r = app.rpc(name, form, Some(&merchant)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
    }
    for (name, form) in ADMIN_ONLY {
        let r = app.rpc(name, form, Some(&support)).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "support: {name}: {}",
            r.body
        );
    }
    for (name, form) in [
        ("logs_inbox", ""),
        ("logs_calls", "failed=true"),
        ("logs_notifications", ""),
    ] {
        let r = app.rpc(name, form, Some(&support)).await;
        assert_eq!(r.status, StatusCode::OK, "support reads {name}: {}", r.body);
    }

    let r = app.post_form("/admin/api-keys", "name=k1", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .post_form("/admin/api-keys", "name=k1", Some(&merchant))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.body.contains("pdk_"), "{}", r.body);
    let r = app
        .post_form("/admin/api-keys", "name=k1", Some(&support))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Pages: the audit tab and /users refuse support, the logs page does not.
    let r = app.send(get("/users", &support)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(get("/logs?tab=audit", &support)).await;
    assert!(!r.body.contains("audit-table"), "no audit rows for support");
    let r = app.send(get("/logs", &support)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(app.store.api_keys().await.expect("keys").is_empty());
    assert!(
        app.store.user_by_name("eve").await.expect("user").is_none(),
        "nothing was changed by a refused call"
    );
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn admin_manages_users_and_every_change_is_audited() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;

    // Create (as a no-JS form post: redirected back with a notice code).
    let r = app
        .post_form(
            "/rpc/create_user",
            "username=olga&role=support&password=first-password-1",
            Some(&admin),
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/users?ok=user_created"),
        "{}",
        r.body
    );
    let olga = app.login("olga", "first-password-1").await;
    let dup = app
        .rpc(
            "create_user",
            "username=olga&role=admin&password=first-password-1",
            Some(&admin),
        )
        .await;
    assert_eq!(dup.location.as_deref(), Some("/users?error=user_exists"));
    let short = app
        .rpc(
            "create_user",
            "username=pat&role=admin&password=short",
            Some(&admin),
        )
        .await;
    assert_eq!(
        short.location.as_deref(),
        Some("/users?error=password_invalid")
    );

    // Change role: olga becomes a merchant; the change ends her sessions (she signs in
    // again on a new session id), and the new role has no logs.
    let r = app
        .rpc("set_user_role", "username=olga&role=merchant", Some(&admin))
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=role_changed"));
    assert_eq!(
        app.rpc("logs_inbox", "", Some(&olga)).await.status,
        StatusCode::UNAUTHORIZED,
        "the old session ended with the privilege change"
    );
    let olga = app.login("olga", "first-password-1").await;
    assert_eq!(
        app.rpc("logs_inbox", "", Some(&olga)).await.status,
        StatusCode::FORBIDDEN
    );

    // Reset password: the new one works, the old one does not.
    let r = app
        .rpc(
            "reset_user_password",
            "username=olga&password=second-password-2",
            Some(&admin),
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=password_reset"));
    assert!(app.try_login("olga", "first-password-1").await.is_none());
    let olga = app.login("olga", "second-password-2").await;

    // Disable: sessions end and sign-in is refused; enable again.
    let r = app
        .rpc(
            "set_user_disabled",
            "username=olga&disabled=true&confirm=yes",
            Some(&admin),
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=user_disabled"));
    assert_eq!(
        app.rpc("logs_inbox", "", Some(&olga)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(app.try_login("olga", "second-password-2").await.is_none());
    let r = app
        .rpc(
            "set_user_disabled",
            "username=olga&disabled=false",
            Some(&admin),
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=user_enabled"));
    app.login("olga", "second-password-2").await;

    // The admin cannot disable or demote themselves, and the last admin stays.
    let r = app
        .rpc(
            "set_user_disabled",
            "username=admin&disabled=true",
            Some(&admin),
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?error=self_disable"));
    let r = app
        .rpc("set_user_role", "username=admin&role=support", Some(&admin))
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?error=self_demote"));
    assert!(
        !app.store
            .user_by_name("admin")
            .await
            .expect("u")
            .expect("admin")
            .disabled
    );

    let actions = audit_actions(&app, "admin").await;
    for action in [
        "user_created",
        "user_role_changed",
        "password_reset",
        "user_disabled",
        "user_enabled",
    ] {
        assert!(
            actions.iter().any(|(a, t)| a == action && t == "olga"),
            "{action} audited: {actions:?}"
        );
    }
    // The audit log reads back through its server function, filtered.
    let r = app
        .rpc(
            "logs_audit",
            "actor=admin&action=user_created",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(page["rows"].as_array().expect("rows").len(), 1);
}

#[tokio::test]
async fn api_key_is_shown_once_authenticates_and_revoke_stops_it() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    let r = app
        .post_form("/admin/api-keys", "name=pos+terminal", Some(&admin))
        .await;
    let to = r.location.as_deref();
    assert_eq!(to, Some("/admin/api-keys/new"), "shown after a redirect");
    let r = app.send(get("/admin/api-keys/new", &admin)).await;
    let key = token(&r.body, "pdk_").expect("key on the page");
    let secret = token(&r.body, "pdsec_").expect("secret on the page");
    assert!(key.starts_with("pdk_"), "{key}");
    assert!(secret.trim().starts_with("pdsec_"), "{secret}");

    // Never again: not in the list, not on the users page, not in the audit log.
    let list = app.rpc("list_api_keys", "", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("pos terminal"));
    assert!(!list.body.contains(&key));
    let page = app.send(get("/users", &admin)).await;
    assert!(page.body.contains("pos terminal"));
    assert!(!page.body.contains(&key) && !page.body.contains(secret.trim()));
    let audit = audit_actions(&app, "admin").await;
    assert!(
        audit
            .iter()
            .any(|(a, t)| a == "api_key_created" && t == "pos terminal")
    );

    let dup = app
        .post_form("/admin/api-keys", "name=pos+terminal", Some(&admin))
        .await;
    assert_eq!(dup.location.as_deref(), Some("/users?error=key_exists"));

    // The key works against the merchant API (404: no such order, but authenticated).
    assert_eq!(
        api_get(&app, "/api/v1/orders/NOPE", &key).await,
        StatusCode::NOT_FOUND
    );
    let keys = app.store.api_keys().await.expect("keys");
    assert!(keys[0].last_used_at.is_some(), "use recorded");

    let form = "name=pos+terminal&confirm=yes";
    let r = app.rpc("revoke_api_key", form, Some(&admin)).await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=key_revoked"));
    assert_eq!(
        api_get(&app, "/api/v1/orders/NOPE", &key).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        audit_actions(&app, "admin")
            .await
            .iter()
            .any(|(a, t)| a == "api_key_revoked" && t == "pos terminal")
    );
}

/// The first `prefix…` token (base64url characters) in `s`.
fn token(s: &str, prefix: &str) -> Option<String> {
    let from = s.find(prefix)?;
    let rest = &s[from..];
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    Some(rest[..len].to_string())
}

#[tokio::test]
async fn resend_requeues_a_merchant_notification_and_support_reads_it() {
    let app = RouterApp::new().await;
    app.add_user("sam", "support-password", Role::Support).await;
    let support = app.login("sam", "support-password").await;
    let admin = app.login("admin", &app.admin_password).await;
    let master = paydesk_core::vault::MasterKey::from_bytes([9; 32]);
    let key = app
        .store
        .create_api_key("pos", "admin", &master)
        .await
        .expect("key");
    let order = app
        .store
        .create_order(
            NewOrder {
                out_trade_no: "R-1",
                channel: "alipay-sandbox",
                amount: Money::new(1000, Currency::Cny).expect("money"),
                subject: "tea",
                creator: "pos",
                expires_at: now_ms() + 60_000,
                qr_code: None,
                merchant_notify_url: Some("https://merchant.example/hook?token=abc"),
                api_key_id: Some(&key.info.id),
                next_query_at: None,
                pay_method: paydesk_core::order::PayMethod::Qr,
            },
            &Cause::ApiKey("pos".into()),
        )
        .await
        .expect("order");
    let id = app
        .store
        .enqueue_merchant_notification(NewMerchantNotification {
            order_id: &order.id,
            out_trade_no: "R-1",
            api_key_id: &key.info.id,
            url: "https://merchant.example/hook?token=abc",
            event: "order.paid",
            body: "{}",
        })
        .await
        .expect("enqueue");
    // Make it failed, as after an exhausted schedule.
    sqlx::query("UPDATE merchant_notifications SET status = 'failed', attempts = 5 WHERE id = $1")
        .bind(&id)
        .execute(app.store.pool())
        .await
        .expect("fail it");

    let list = app
        .rpc("logs_notifications", "status=failed", Some(&support))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&id));
    assert!(
        !list.body.contains("token=abc"),
        "merchant URL tokens are masked: {}",
        list.body
    );

    let r = app
        .post_form(
            "/rpc/logs_resend_notification",
            &format!("id={id}"),
            Some(&support),
        )
        .await;
    assert_ne!(
        r.location.as_deref(),
        Some("/logs?tab=notifications&ok=resent"),
        "support may read notifications but not resend them"
    );
    let page = app.send(get("/logs?tab=notifications", &support)).await;
    assert!(
        !page.body.contains("logs_resend_notification"),
        "no resend button for support"
    );
    let r = app
        .post_form(
            "/rpc/logs_resend_notification",
            &format!("id={id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/logs?tab=notifications&ok=resent")
    );
    let n = app
        .store
        .merchant_notification(&id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(n.status, MerchantNotificationStatus::Pending);
    assert!(n.next_attempt_at <= now_ms());
    assert!(
        audit_actions(&app, "admin")
            .await
            .iter()
            .any(|(a, t)| a == "merchant_notification_resent" && t == &id)
    );
    let page = app.send(get("/logs?tab=notifications", &admin)).await;
    assert!(
        page.body.contains("logs_resend_notification"),
        "admins get the button"
    );
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("notifications-table"), "{}", page.body);
}

#[tokio::test]
async fn logs_pages_continue_after_the_last_row_shown_even_within_one_millisecond() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    // A page and a half of notifications, all received in the same millisecond.
    let at = now_ms() - 1_000;
    for _ in 0..75 {
        app.store
            .insert_notification("alipay", "alipay-sandbox", at, "{}", "{}")
            .await
            .expect("insert");
    }
    let page = |before: Option<String>| {
        let form = before.map(|b| format!("before={b}")).unwrap_or_default();
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app.rpc("logs_inbox", &form, Some(&admin)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
            let ids: Vec<String> = v["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| r["id"].as_str().expect("id").to_string())
                .collect();
            (ids, v["older"].as_str().map(String::from))
        }
    };
    let (first, older) = page(None).await;
    assert_eq!(first.len(), 50);
    let older = older.expect("a full page links the next one");
    assert!(older.starts_with(&format!("{at}:")), "{older}");
    let (second, last) = page(Some(older)).await;
    assert_eq!(second.len(), 25);
    assert_eq!(last, None, "no page after the last");
    let all: std::collections::HashSet<&String> = first.iter().chain(&second).collect();
    assert_eq!(all.len(), 75, "every notification once");

    // A cursor that is not ours means the first page, not an error.
    let (again, _) = page(Some("yesterday".into())).await;
    assert_eq!(again, first);
}
