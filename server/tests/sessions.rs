//! Sign-in and session hygiene under attack: a burst of guesses cannot outrun the lock, a
//! planted signed-in cookie never becomes the victim's session, sessions slide while used
//! and end at their absolute lifetime.

mod support;

use axum::http::StatusCode;
use paydesk_core::role::Role;
use paydesk_server::sessions::SessionLimits;
use std::sync::Arc;
use std::time::Duration;
use support::oneshot::{RouterApp, session_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_guesses_tests_no_more_passwords_than_the_lock_allows() {
    let app = Arc::new(RouterApp::new().await);
    let burst: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.post_form(
                    "/auth/login",
                    &format!("username=admin&password=guess-{i:02}-wrong"),
                    None,
                )
                .await
                .location
                .unwrap_or_default()
            })
        })
        .collect();
    let mut checked = 0;
    let mut locked = 0;
    for task in burst {
        let location = task.await.expect("task");
        if location == "/login?error=invalid" {
            checked += 1;
        } else if location.starts_with("/login?error=locked") {
            locked += 1;
        } else {
            panic!("unexpected answer {location}");
        }
    }
    // The limit is 10: at most 10 of the 20 passwords were checked, the rest refused unchecked.
    assert!(checked <= 10, "{checked} passwords checked in one burst");
    assert_eq!(checked + locked, 20);
    let failed = app
        .store
        .recent_audit(100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "login_failed")
        .count();
    assert!(failed <= 10, "{failed} checked failures recorded");
    // And the account is locked now, even for the right password.
    assert_eq!(app.try_login("admin", &app.admin_password).await, None);
}

#[tokio::test]
async fn signing_in_over_someone_elses_signed_in_session_gets_a_new_id() {
    let app = RouterApp::new().await;
    app.add_user("mallory", "mallory-password", Role::Support)
        .await;
    // The attacker signs in and plants their own cookie in the victim's browser.
    let planted = app.login("mallory", "mallory-password").await;
    let form = format!("username=admin&password={}", app.admin_password);
    let r = app.post_form("/auth/login", &form, Some(&planted)).await;
    assert_eq!(r.location.as_deref(), Some("/"));
    let victim = session_cookie(&r).expect("a new session cookie");
    assert_ne!(victim, planted, "the session id changed at sign-in");
    // The attacker's copy is not the admin's session (it is no session at all).
    let attacker = app.get("/users", Some(&planted)).await;
    assert_eq!(attacker.location.as_deref(), Some("/login?next=%2Fusers"));
    let admin = app.get("/users", Some(&victim)).await;
    assert_eq!(admin.status, StatusCode::OK);
}

#[tokio::test]
async fn a_used_session_slides_and_an_idle_one_ends() {
    let app = RouterApp::build(
        |_| {},
        |state| {
            state.sessions = SessionLimits {
                idle: Duration::from_secs(2),
                absolute: Duration::from_secs(3600),
            }
        },
    )
    .await;
    let cookie = app.login("admin", &app.admin_password).await;
    // Used every 0.7 s for 4 s, twice the idle limit: still signed in.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let r = app.get("/", Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "signed out while in use");
    }
    // Then left alone past the idle limit: signed out.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(
        app.get("/", Some(&cookie)).await.location.as_deref(),
        Some("/login")
    );
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
    let app = RouterApp::build(
        |_| {},
        |state| {
            state.sessions = SessionLimits {
                idle: Duration::from_secs(3600),
                absolute: Duration::from_secs(2),
            }
        },
    )
    .await;
    let cookie = app.login("admin", &app.admin_password).await;
    assert_eq!(app.get("/", Some(&cookie)).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        app.get("/", Some(&cookie)).await.location.as_deref(),
        Some("/login")
    );
    // Server functions answer as to anybody signed out.
    let r = app.rpc("session", "", Some(&cookie)).await;
    assert!(!r.body.contains("admin"), "{}", r.body);
}

#[tokio::test]
async fn users_see_and_end_their_sessions_and_admins_end_all_of_a_users() {
    let app = RouterApp::new().await;
    app.add_user("sam", "support-password", Role::Support).await;
    let laptop = app.login("sam", "support-password").await;
    let phone = app.login("sam", "support-password").await;
    let admin = app.login("admin", &app.admin_password).await;

    let page = app.get("/sessions", Some(&laptop)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body.matches("data-session=").count(),
        2,
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("data-current=\"true\"").count(), 1);
    assert!(
        !page.body.contains(laptop.split('=').nth(1).expect("id")),
        "the session id itself is never shown"
    );
    let list = app.rpc("my_sessions", "", Some(&laptop)).await;
    let rows: serde_json::Value = serde_json::from_str(&list.body).expect("json");
    let other = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["current"] == false)
        .and_then(|r| r["handle"].as_str())
        .expect("the phone's session")
        .to_string();

    // The admin's session handles are not sam's to end.
    let admin_rows: serde_json::Value =
        serde_json::from_str(&app.rpc("my_sessions", "", Some(&admin)).await.body).expect("json");
    let admin_handle = admin_rows[0]["handle"]
        .as_str()
        .expect("handle")
        .to_string();
    let r = app
        .rpc(
            "end_my_session",
            &format!("handle={admin_handle}"),
            Some(&laptop),
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/sessions?error=no_such_session")
    );
    assert_eq!(app.get("/", Some(&admin)).await.status, StatusCode::OK);

    // Sam ends the phone's session from the laptop.
    let r = app
        .rpc("end_my_session", &format!("handle={other}"), Some(&laptop))
        .await;
    assert_eq!(r.location.as_deref(), Some("/sessions?ok=session_ended"));
    assert_eq!(
        app.get("/", Some(&phone)).await.location.as_deref(),
        Some("/login")
    );
    assert_eq!(app.get("/", Some(&laptop)).await.status, StatusCode::OK);

    // Only admins end someone else's sessions, all at once.
    let r = app
        .rpc("end_user_sessions", "username=admin", Some(&laptop))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .rpc("end_user_sessions", "username=sam", Some(&admin))
        .await;
    assert_eq!(r.location.as_deref(), Some("/users?ok=sessions_ended"));
    assert_eq!(
        app.get("/", Some(&laptop)).await.location.as_deref(),
        Some("/login")
    );
    let users = app.get("/users", Some(&admin)).await;
    assert!(
        users.body.contains("end_user_sessions"),
        "the button is on the users page"
    );
}
