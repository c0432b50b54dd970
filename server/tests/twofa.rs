//! Two-step sign-in through the real server (plain forms, no JavaScript), on SQLite and
//! Postgres: the enforced policy walking an admin through enrolment at sign-in, recovery
//! codes shown once, sign-in with a code and with a recovery code, a reused recovery code
//! refused, the reset (as `paydesk user reset-2fa` does it), and a signed-in user's own
//! enrolment on `/account/2fa`.

mod support;

use paydesk_core::role::Role;
use paydesk_core::time::now_ms;
use paydesk_core::twofa::{TWOFA_POLICY_KEY, TotpSecret};
use support::dashboard::{add_user, get, password, post, text_of};
use support::{Options, PgSchema, TestApp, spawn_app, spawn_app_with};

fn code_now(secret: &str, offset: u64) -> String {
    TotpSecret::from_base32(secret)
        .expect("secret")
        .code_at((now_ms() / 1000) as u64 + offset)
}

fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(String::from)
        .collect()
}

async fn enforced_enrolment_then_code_and_recovery_sign_ins(app: &TestApp) {
    let store = &app.state.store;
    add_user(store, "ada", Role::Admin).await;
    store
        .set_security_setting(TWOFA_POLICY_KEY, Some("admin"), "test")
        .await
        .expect("policy");
    // The password is right, but the role needs a second step: enrol first.
    let r = password(app, "ada").await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/login/enroll"))
    );
    let pending = r.cookie.expect("pending session");
    // Half-way is not signed in.
    let home = get(app, "/orders", Some(&pending)).await;
    assert_eq!(home.status, 303);
    assert!(home.location.unwrap_or_default().starts_with("/login"));
    let page = get(app, "/login/enroll", Some(&pending)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"twofa-qr\"") && page.body.contains("<svg"));
    let secret = text_of(&page.body, "twofa-secret").expect("secret shown");
    // With `no-referrer` browsers post these forms with `Origin: null`, which the
    // cross-origin check refuses.
    assert!(!page.body.contains("no-referrer"), "{}", page.body);
    let wrong = post(app, "/auth/enroll", "code=000000", Some(&pending)).await;
    assert_eq!(
        wrong.location.as_deref(),
        Some("/login/enroll?error=bad_code")
    );
    let first = code_now(&secret, 0);
    let done = post(
        app,
        "/auth/enroll",
        &format!("code={first}"),
        Some(&pending),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = recovery_codes(&done.body);
    assert_eq!(codes.len(), 10, "{}", done.body);
    let session = done.cookie.expect("signed-in session");
    assert_eq!(get(app, "/orders", Some(&session)).await.status, 200);
    // The secret is never shown again.
    let account = get(app, "/account/2fa", Some(&session)).await;
    assert!(!account.body.contains(&secret));
    assert!(
        account.body.contains("data-state=\"on\""),
        "{}",
        account.body
    );

    // Next sign-in: password, then a code.
    let r = password(app, "ada").await;
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    let pending = r.cookie.expect("pending");
    let used = post(app, "/auth/2fa", &format!("code={first}"), Some(&pending)).await;
    assert_eq!(
        used.location.as_deref(),
        Some("/login/2fa?error=bad_code"),
        "a code works once"
    );
    let next = code_now(&secret, 30);
    let ok = post(app, "/auth/2fa", &format!("code={next}"), Some(&pending)).await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/")));
    assert_eq!(get(app, "/orders", ok.cookie.as_deref()).await.status, 200);

    // With a recovery code, once.
    let r = password(app, "ada").await;
    let pending = r.cookie.expect("pending");
    let ok = post(
        app,
        "/auth/2fa",
        &format!("code={}", codes[0]),
        Some(&pending),
    )
    .await;
    assert_eq!(ok.location.as_deref(), Some("/"));
    let r = password(app, "ada").await;
    let pending = r.cookie.expect("pending");
    let again = post(
        app,
        "/auth/2fa",
        &format!("code={}", codes[0]),
        Some(&pending),
    )
    .await;
    assert_eq!(again.location.as_deref(), Some("/login/2fa?error=bad_code"));

    // Reset (the CLI's function): the policy walks ada through enrolment again.
    paydesk_server::security_cli::reset_2fa(&app.state.config, "ada")
        .await
        .expect("reset");
    let r = password(app, "ada").await;
    assert_eq!(r.location.as_deref(), Some("/login/enroll"));
    let audit: Vec<String> = store
        .recent_audit(100)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        "twofa_enabled",
        "twofa_verified",
        "twofa_recovery_used",
        "twofa_failed",
        "twofa_reset",
    ] {
        assert!(audit.iter().any(|x| x == a), "{a}: {audit:?}");
    }
}

async fn a_user_enrols_on_the_account_page_and_turns_it_off(app: &TestApp) {
    let store = &app.state.store;
    add_user(store, "sam", Role::Support).await;
    let session = support::dashboard::login(app, "sam").await;
    let off = get(app, "/account/2fa", Some(&session)).await;
    assert_eq!(off.status, 200);
    assert!(off.body.contains("data-state=\"off\""));
    let start = post(app, "/account/2fa/start", "", Some(&session)).await;
    assert_eq!(start.location.as_deref(), Some("/account/2fa"));
    let page = get(app, "/account/2fa", Some(&session)).await;
    let secret = text_of(&page.body, "twofa-secret").expect("secret");
    let code = code_now(&secret, 0);
    let done = post(
        app,
        "/account/2fa/confirm",
        &format!("code={code}"),
        Some(&session),
    )
    .await;
    assert_eq!((done.status, recovery_codes(&done.body).len()), (200, 10));
    // Now the sign-in asks for a code.
    assert_eq!(
        password(app, "sam").await.location.as_deref(),
        Some("/login/2fa")
    );
    let next = code_now(&secret, 30);
    let off = post(
        app,
        "/account/2fa/disable",
        &format!("code={next}"),
        Some(&session),
    )
    .await;
    assert_eq!(off.location.as_deref(), Some("/account/2fa?ok=disabled"));
    assert_eq!(password(app, "sam").await.location.as_deref(), Some("/"));
    // Anonymous: to the sign-in page.
    let anon = get(app, "/account/2fa", None).await;
    assert_eq!(anon.status, 303);
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
    enforced_enrolment_then_code_and_recovery_sign_ins,
    a_user_enrols_on_the_account_page_and_turns_it_off,
);
