//! Admin comfort through the HTTP surface (`oneshot`, no socket), as a browser without
//! JavaScript uses it: disabling a user, revoking an API key, disabling a channel and
//! retiring a key never happen on the first post (it redirects to a confirmation step
//! that asks again; the second post does it); a new API key is shown once on a GET page
//! reached by redirect (Back or a reload finds it gone, never a resubmission); the audit
//! log reads as sentences in both languages, sign-ins in their own filter.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::dashboard::text_of;
use support::oneshot::RouterApp;

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

/// A `multipart/form-data` post of `fields`, as the rotation forms send it.
fn multipart(path: &str, fields: &[(&str, &str)], cookie: &str) -> Request<Body> {
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--X\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str("--X--\r\n");
    Request::post(path)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=X")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn disabling_a_user_asks_again_before_anything_happens() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    app.add_user("olga", "olga-password-1", paydesk_core::role::Role::Support)
        .await;
    let olga = app.login("olga", "olga-password-1").await;

    // Disable a user: the first post asks, the confirmation page asks again.
    let r = app
        .rpc(
            "set_user_disabled",
            "username=olga&disabled=true",
            Some(&admin),
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/users?confirm=disable&user=olga")
    );
    let user = app.store.user_by_name("olga").await.expect("read");
    assert!(
        !user.expect("olga").disabled,
        "not disabled by the first post"
    );
    assert_eq!(
        app.rpc("logs_inbox", "", Some(&olga)).await.status,
        StatusCode::OK
    );
    let page = app
        .send(get("/users?confirm=disable&user=olga", &admin))
        .await;
    assert!(page.body.contains(r#"id="confirm-step""#), "{}", page.body);
    assert!(page.body.contains("Disable user olga?"));
    assert!(page.body.contains(r#"action="/rpc/set_user_disabled""#));
    assert!(page.body.contains(r#"name="confirm" value="yes""#));
    let r = app
        .rpc(
            "set_user_disabled",
            "username=olga&disabled=true&confirm=yes",
            Some(&admin),
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=user_disabled"));
}

/// Revoking a key: the same two steps; the name is encoded in the URL.
#[tokio::test]
async fn revoking_a_key_asks_again() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    let created = app
        .post_form("/admin/api-keys", "name=pos+%26+co", Some(&admin))
        .await;
    assert_eq!(created.location.as_deref(), Some("/admin/api-keys/new"));
    let r = app
        .rpc("revoke_api_key", "name=pos+%26+co", Some(&admin))
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/users?confirm=revoke&key=pos%20%26%20co")
    );
    let keys = app.store.api_keys().await.expect("keys");
    assert!(
        keys[0].revoked_at.is_none(),
        "not revoked by the first post"
    );
    let page = app
        .send(get("/users?confirm=revoke&key=pos%20%26%20co", &admin))
        .await;
    assert!(
        page.body.contains("Revoke API key “pos &amp; co”?"),
        "{}",
        page.body
    );
}

/// Disabling a channel and retiring a key: the first post changes nothing.
#[tokio::test]
async fn disabling_a_channel_and_retiring_a_key_ask_again() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    let r = app
        .post_form(
            "/credentials/toggle",
            "name=stripe-sandbox&enable=0",
            Some(&admin),
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/credentials?confirm=disable&channel=stripe-sandbox")
    );
    // Nothing was disabled by the first post (the confirmation itself is the journey's).
    let channels = app.store.channels().await.expect("read");
    assert!(channels.iter().all(|c| c.disabled_at.is_none()));
    let page = app
        .send(get(
            "/credentials?confirm=disable&channel=stripe-sandbox",
            &admin,
        ))
        .await;
    assert!(
        page.body.contains("Disable channel stripe-sandbox?"),
        "{}",
        page.body
    );
    let step = [
        ("name", "shop"),
        ("step", "retire_webhook_secret"),
        ("value", "sha256:ab12"),
    ];
    let r = app
        .send(multipart("/credentials/rotate", &step, &admin))
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some(
            "/credentials?edit=shop&confirm=retire&step=retire_webhook_secret&value=sha256%3Aab12"
        )
    );
    let confirmed = [step.as_slice(), &[("confirm", "yes")]].concat();
    let r = app
        .send(multipart("/credentials/rotate", &confirmed, &admin))
        .await;
    assert_eq!(r.location.as_deref(), Some("/credentials?error=not_found"));
}

#[tokio::test]
async fn a_new_api_key_is_shown_once_after_a_redirect() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    let r = app
        .post_form("/admin/api-keys", "name=till-1", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/admin/api-keys/new"));
    assert!(!r.body.contains("pdk_"), "not in the post's answer");

    let first = app.send(get("/admin/api-keys/new", &admin)).await;
    assert_eq!(first.status, StatusCode::OK);
    let key = text_of(&first.body, "new-api-key").unwrap_or_default();
    assert!(key.starts_with("pdk_"), "{}", first.body);
    let secret = text_of(&first.body, "new-signing-secret").unwrap_or_default();
    assert!(secret.starts_with("pdsec_"), "{}", first.body);
    assert!(
        first.body.contains(r#"data-copy="new-api-key""#),
        "copy button"
    );
    assert!(first.body.contains(r#"src="/admin.js""#));

    // Back or a reload: gone, never shown again.
    let again = app.send(get("/admin/api-keys/new", &admin)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains(r#"id="secret-gone""#), "{}", again.body);
    assert!(!again.body.contains("pdk_") && !again.body.contains("pdsec_"));

    // Another admin's session never sees it; a merchant is refused.
    let other = app.login("admin", &app.admin_password).await;
    let r = app
        .post_form("/admin/api-keys", "name=till-2", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let elsewhere = app.send(get("/admin/api-keys/new", &other)).await;
    assert!(!elsewhere.body.contains("pdk_"), "{}", elsewhere.body);
}

#[tokio::test]
async fn a_user_added_without_a_password_gets_a_temporary_one_shown_once() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    let r = app
        .rpc(
            "create_user",
            "username=tess&role=merchant&password=",
            Some(&admin),
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/admin/users/new-password"));
    let page = app.send(get("/admin/users/new-password", &admin)).await;
    let password = text_of(&page.body, "temp-password").unwrap_or_default();
    let password = password.as_str();
    assert!(
        password.len() >= 16 && password.chars().all(|c| c.is_ascii_alphanumeric()),
        "{password}: {}",
        page.body
    );
    assert!(page.body.contains(r#"data-copy="temp-password""#));
    app.login("tess", password).await;
    let again = app.send(get("/admin/users/new-password", &admin)).await;
    assert!(again.body.contains(r#"id="secret-gone""#) && !again.body.contains(password));
}

#[tokio::test]
async fn the_audit_log_reads_in_sentences_with_sign_ins_apart() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    let r = app
        .rpc(
            "create_user",
            "username=olga&role=support&password=long-enough-pw",
            Some(&admin),
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=user_created"));

    let page = app.send(get("/logs?tab=audit", &admin)).await;
    assert!(
        page.body.contains("admin added user olga (role=support)."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("admin signed in"), "sign-ins apart");
    let logins = app.send(get("/logs?tab=audit&show=sign_ins", &admin)).await;
    assert!(logins.body.contains("admin signed in"), "{}", logins.body);
    assert!(!logins.body.contains("added user olga"));

    // By object and by action; in Chinese.
    let by = app
        .send(get("/logs?tab=audit&show=all&object=olga", &admin))
        .await;
    assert!(by.body.contains("added user olga") && !by.body.contains("signed in"));
    let by = app
        .send(get("/logs?tab=audit&action=user_created", &admin))
        .await;
    assert!(by.body.contains("added user olga"));
    let zh = app
        .send(get("/logs?tab=audit", &format!("{admin}; paydesk_lang=zh")))
        .await;
    assert!(
        zh.body.contains("admin 添加了用户 olga（role=support）。"),
        "{}",
        zh.body
    );
    let bad = app.rpc("logs_audit", "show=nonsense", Some(&admin)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
