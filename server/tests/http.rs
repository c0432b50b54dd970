//! The HTTP surface, driven through the router with `oneshot` (no socket): health probes,
//! sign-in/out, sessions, role checks on pages and server functions, no-JS form posts,
//! language and theme switching and the cross-origin guard.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use paydesk_core::role::Role;
use paydesk_server::startup::SESSION_COOKIE;
use support::oneshot::{RouterApp, session_cookie};

#[tokio::test]
async fn health_probes_answer_and_readyz_follows_the_database() {
    let app = RouterApp::new().await;
    let r = app.get("/healthz", None).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    app.store.close().await;
    assert_eq!(
        app.get("/readyz", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_ico_icon_browsers_guess_points_at_the_svg_icon() {
    let app = RouterApp::new().await;
    // Pages that name no icon make browsers ask for /favicon.ico; a 404 there is a
    // console error in every browser test.
    let r = app.get("/favicon.ico", None).await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (StatusCode::PERMANENT_REDIRECT, Some("/favicon.svg"))
    );
}

#[tokio::test]
async fn pages_send_anonymous_visitors_to_login_and_back() {
    let app = RouterApp::new().await;
    let r = app.get("/orders?status=paid", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location.as_deref(),
        Some("/login?next=%2Forders%3Fstatus%3Dpaid")
    );

    let r = app.get("/login", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains(r#"action="/auth/login""#),
        "a plain form that works without JS"
    );
    assert!(r.body.contains(r#"name="password""#));

    let form = format!(
        "username=admin&password={}&next=%2Forders%3Fstatus%3Dpaid",
        app.admin_password
    );
    let r = app.post_form("/auth/login", &form, None).await;
    assert_eq!(r.location.as_deref(), Some("/orders?status=paid"));
    // Off-site targets are never followed.
    let form = format!(
        "username=admin&password={}&next=https%3A%2F%2Fevil.example",
        app.admin_password
    );
    assert_eq!(
        app.post_form("/auth/login", &form, None)
            .await
            .location
            .as_deref(),
        Some("/")
    );
}

#[tokio::test]
async fn login_sets_a_fresh_hardened_session_and_logout_destroys_it() {
    let app = RouterApp::new().await;
    // A session id planted by an attacker before sign-in is not the one used after it.
    let planted = format!("{SESSION_COOKIE}=AAAAAAAAAAAAAAAAAAAAAA");
    let form = format!("username=admin&password={}", app.admin_password);
    let r = app.post_form("/auth/login", &form, Some(&planted)).await;
    let header = r
        .cookies
        .iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .expect("cookie")
        .clone();
    assert!(
        header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Path=/"),
        "{header}"
    );
    assert!(
        !header.contains("Secure"),
        "plain http public URL: no Secure flag"
    );
    let cookie = session_cookie(&r).expect("cookie");
    assert_ne!(cookie, planted);

    let page = app.get("/", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Welcome, admin"), "{}", page.body);
    // Signed in, the login page sends you home.
    assert_eq!(
        app.get("/login", Some(&cookie)).await.location.as_deref(),
        Some("/")
    );

    let r = app.post_form("/auth/logout", "", Some(&cookie)).await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/login"))
    );
    assert_eq!(
        app.get("/", Some(&cookie)).await.location.as_deref(),
        Some("/login"),
        "old cookie is dead"
    );
    let audit: Vec<_> = app
        .store
        .recent_audit(10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        audit.contains(&"login".to_string()) && audit.contains(&"logout".to_string()),
        "{audit:?}"
    );
}

#[tokio::test]
async fn wrong_password_is_refused_with_a_translated_message() {
    let app = RouterApp::new().await;
    let r = app
        .post_form(
            "/auth/login",
            "username=admin&password=wrong-password",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/login?error=invalid"));
    assert!(
        session_cookie(&r).is_none(),
        "no session for a failed login"
    );

    let en = app.get("/login?error=invalid", None).await;
    assert!(
        en.body.contains("Wrong username or password"),
        "{}",
        en.body
    );
    let req =
        Request::get("/login?error=invalid").header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9");
    let zh = app.send(req.body(Body::empty()).expect("request")).await;
    assert!(zh.body.contains("用户名或密码错误"), "{}", zh.body);
    assert!(zh.body.contains(r#"lang="zh-CN""#));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_for_the_right_password() {
    let app = RouterApp::new().await;
    for _ in 0..10 {
        app.post_form("/auth/login", "username=admin&password=guess-guess", None)
            .await;
    }
    let form = format!("username=admin&password={}", app.admin_password);
    let r = app.post_form("/auth/login", &form, None).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/login?error=locked&minutes=15")
    );
    assert!(session_cookie(&r).is_none());
    let page = app.get("/login?error=locked&minutes=15", None).await;
    assert!(
        page.body.contains("try again in 15 minutes"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn server_functions_check_the_role_inside() {
    let app = RouterApp::new().await;
    app.add_user("mia", "merchant-password", Role::Merchant)
        .await;

    let anonymous = app.rpc("list_users", "", None).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );

    let merchant = app.login("mia", "merchant-password").await;
    let refused = app.rpc("list_users", "", Some(&merchant)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        !refused.body.contains("admin"),
        "no data leaks in the refusal: {}",
        refused.body
    );

    let admin = app.login("admin", &app.admin_password).await;
    let ok = app.rpc("list_users", "", Some(&admin)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let rows: serde_json::Value = serde_json::from_str(&ok.body).expect("json");
    let names: Vec<_> = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|u| u["username"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["admin", "mia"]);
    assert!(
        !ok.body.contains("argon2"),
        "password hashes never leave the server"
    );
}

#[tokio::test]
async fn pages_and_navigation_follow_the_role() {
    let app = RouterApp::new().await;
    app.add_user("mia", "merchant-password", Role::Merchant)
        .await;
    app.add_user("sam", "support-password", Role::Support).await;

    let merchant = app.login("mia", "merchant-password").await;
    let page = app.get("/users", Some(&merchant)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Your role cannot open this page"));
    assert!(!page.body.contains("users-table"));
    let home = app.get("/", Some(&merchant)).await;
    for (href, shown) in [
        ("/checkout", true),
        ("/orders", true),
        ("/refunds", false),
        ("/credentials", false),
        ("/users", false),
    ] {
        assert_eq!(
            home.body.contains(&format!(r#"href="{href}""#)),
            shown,
            "merchant nav {href}"
        );
    }
    assert_eq!(
        app.get("/credentials", Some(&merchant)).await.status,
        StatusCode::FORBIDDEN
    );

    let support = app.login("sam", "support-password").await;
    assert_eq!(
        app.get("/refunds", Some(&support)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/checkout", Some(&support)).await.status,
        StatusCode::FORBIDDEN
    );

    let admin = app.login("admin", &app.admin_password).await;
    let users = app.get("/users", Some(&admin)).await;
    assert_eq!(users.status, StatusCode::OK);
    assert!(
        users.body.contains("users-table") && users.body.contains("sam"),
        "{}",
        users.body
    );
}

#[tokio::test]
async fn language_switch_is_a_form_post_and_is_remembered() {
    let app = RouterApp::new().await;
    let admin = app.login("admin", &app.admin_password).await;
    let r = app
        .post_form("/auth/lang", "lang=zh&next=%2Fusers", Some(&admin))
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/users"))
    );
    let lang = r.set_cookie("paydesk_lang=zh").expect("language cookie");
    assert!(lang.contains("Max-Age=31536000"), "{lang}");

    let both = format!("{admin}; paydesk_lang=zh");
    let page = app.get("/users", Some(&both)).await;
    assert!(
        page.body.contains("退出登录") && page.body.contains("用户"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn theme_switch_is_a_form_post_rendered_by_the_server() {
    let app = RouterApp::new().await;
    // Before signing in too: the sign-in page has the switch.
    let r = app
        .post_form(
            "/auth/theme",
            "theme=dark&next=%2Flogin%3Fnext%3D%252Fusers",
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/")),
        "back to a local page (never /login itself)"
    );
    let admin = app.login("admin", &app.admin_password).await;
    let r = app
        .post_form("/auth/theme", "theme=dark&next=%2Fusers", Some(&admin))
        .await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/users"))
    );
    let cookie = r.set_cookie("paydesk_theme=dark").expect("theme cookie");
    assert!(cookie.contains("Max-Age=31536000"), "{cookie}");

    // In the first byte of every page: no flash of the wrong colours.
    let page = app
        .get("/users", Some(&format!("{admin}; paydesk_theme=dark")))
        .await;
    assert!(page.body.contains(r#"data-theme="dark""#), "{}", page.body);
    assert!(
        page.body.contains(r#"action="/auth/theme""#),
        "the switch is a form"
    );
    let page = app.get("/users", Some(&admin)).await;
    assert!(
        page.body.contains(r#"data-theme="system""#),
        "no cookie: the system's"
    );

    // Anything unknown means the system's theme.
    let r = app
        .post_form("/auth/theme", "theme=neon&next=%2F", Some(&admin))
        .await;
    assert!(r.set_cookie("paydesk_theme=system").is_some());
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let app = RouterApp::new().await;
    let form = format!("username=admin&password={}", app.admin_password);
    let r = app
        .post_form_from("/auth/login", &form, None, Some("https://evil.example"))
        .await;
    assert_eq!(r.location.as_deref(), Some("/login?error=cross_origin"));
    assert!(
        session_cookie(&r).is_none(),
        "the forged sign-in did not happen"
    );

    let admin = app.login("admin", &app.admin_password).await;
    let req = Request::post("/rpc/list_users")
        .header(header::COOKIE, &admin)
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
    // Our own origin passes.
    let r = app
        .post_form_from("/auth/login", &form, None, Some("http://127.0.0.1:3000"))
        .await;
    assert!(session_cookie(&r).is_some());
}

#[tokio::test]
async fn session_cookie_is_secure_behind_an_https_public_url() {
    let app = RouterApp::with_public_url(Some("https://pay.example.com")).await;
    let form = format!("username=admin&password={}", app.admin_password);
    let r = app
        .post_form_from("/auth/login", &form, None, Some("https://pay.example.com"))
        .await;
    let header = r
        .cookies
        .iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .expect("cookie");
    assert!(header.contains("Secure"), "{header}");
}
