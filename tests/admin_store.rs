//! The store functions behind the logs and users pages, each story on SQLite and Postgres.

mod support;

use paydesk_core::role::Role;
use paydesk_core::store::{AuditFilter, NewUser, SignIns, Store, UserUpdate};
use paydesk_core::vault::MasterKey;

on_both_backends!(
    the_last_active_admin_cannot_be_demoted_or_disabled,
    audit_entries_filter_and_page_without_gaps,
    api_key_use_is_recorded_at_most_once_a_minute,
    inbox_payloads_are_masked_for_display,
);

async fn user(store: &Store, name: &str, role: Role) {
    store
        .create_user(NewUser {
            username: name,
            password_hash: "h",
            role,
        })
        .await
        .expect("create");
}

async fn the_last_active_admin_cannot_be_demoted_or_disabled(store: &Store) {
    user(store, "root", Role::Admin).await;
    user(store, "ann", Role::Support).await;
    assert_eq!(
        store
            .change_user_role("root", Role::Support)
            .await
            .expect("change"),
        UserUpdate::LastAdmin
    );
    assert_eq!(
        store
            .change_user_disabled("root", true)
            .await
            .expect("change"),
        UserUpdate::LastAdmin
    );
    assert_eq!(
        store
            .change_user_role("nobody", Role::Admin)
            .await
            .expect("change"),
        UserUpdate::NoSuchUser
    );
    // With a second admin, the first may go; then the second is the last one.
    assert_eq!(
        store
            .change_user_role("ann", Role::Admin)
            .await
            .expect("change"),
        UserUpdate::Updated
    );
    assert_eq!(
        store
            .change_user_disabled("root", true)
            .await
            .expect("change"),
        UserUpdate::Updated
    );
    assert_eq!(
        store
            .change_user_role("ann", Role::Merchant)
            .await
            .expect("change"),
        UserUpdate::LastAdmin,
        "a disabled admin does not count"
    );
    // A disabled admin can be demoted (it is not active), and re-enabled.
    assert_eq!(
        store
            .change_user_role("root", Role::Support)
            .await
            .expect("change"),
        UserUpdate::Updated
    );
    assert_eq!(
        store
            .change_user_disabled("root", false)
            .await
            .expect("change"),
        UserUpdate::Updated
    );
    let root = store
        .user_by_name("root")
        .await
        .expect("read")
        .expect("root");
    assert_eq!((root.role, root.disabled), (Role::Support, false));
}

async fn audit_entries_filter_and_page_without_gaps(store: &Store) {
    for i in 0..7 {
        let actor = if i % 2 == 0 { "admin" } else { "sam" };
        store
            .audit(actor, "login", actor, &format!("n{i}"))
            .await
            .expect("audit");
    }
    store
        .audit("admin", "user_created", "olga", "")
        .await
        .expect("audit");
    let all = store
        .audit_entries(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("all");
    assert_eq!(all.len(), 8);
    assert!(
        all.windows(2)
            .all(|w| (w[0].at, &w[0].id) > (w[1].at, &w[1].id))
    );

    // Pages of 3 cover everything once, even though several entries share a millisecond.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .audit_entries(&AuditFilter {
                before: before.clone(),
                limit: 3,
                ..AuditFilter::default()
            })
            .await
            .expect("page");
        seen.extend(page.iter().map(|e| e.id.clone()));
        match page.last() {
            Some(last) if page.len() == 3 => before = Some(last.cursor()),
            _ => break,
        }
    }
    assert_eq!(seen, all.iter().map(|e| e.id.clone()).collect::<Vec<_>>());

    let sam = store
        .audit_entries(&AuditFilter {
            actor: Some("sam".into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("sam");
    assert_eq!(sam.len(), 3);
    let created = store
        .audit_entries(&AuditFilter {
            actor: Some("admin".into()),
            action: Some("user_created".into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("created");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].target, "olga");

    // By object, and sign-ins apart from the rest (the audit tab's default leaves them out).
    let listed = |target: Option<&str>, sign_ins: SignIns| AuditFilter {
        target: target.map(str::to_string),
        sign_ins,
        limit: 100,
        ..AuditFilter::default()
    };
    let olga = listed(Some("olga"), SignIns::Included);
    assert_eq!(store.audit_entries(&olga).await.expect("olga").len(), 1);
    let changes = store.audit_entries(&listed(None, SignIns::Excluded)).await;
    let changes = changes.expect("changes");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].action, "user_created");
    let logins = store.audit_entries(&listed(None, SignIns::Only)).await;
    assert!(logins.expect("logins").iter().all(|e| e.action == "login"));
}

async fn api_key_use_is_recorded_at_most_once_a_minute(store: &Store) {
    let master = MasterKey::from_bytes([3; 32]);
    let key = store
        .create_api_key("pos", "admin", &master)
        .await
        .expect("key");
    store
        .authenticate_api_key(&key.secret)
        .await
        .expect("auth")
        .expect("valid");
    let first = store.api_keys().await.expect("list")[0]
        .last_used_at
        .expect("recorded");
    store
        .authenticate_api_key(&key.secret)
        .await
        .expect("auth")
        .expect("valid");
    let second = store.api_keys().await.expect("list")[0]
        .last_used_at
        .expect("recorded");
    assert_eq!(
        first, second,
        "a second use within the minute writes nothing"
    );
    // An old stamp is refreshed.
    sqlx::query("UPDATE api_keys SET last_used_at = $1")
        .bind(first - 120_000)
        .execute(store.pool())
        .await
        .expect("age it");
    store
        .authenticate_api_key(&key.secret)
        .await
        .expect("auth")
        .expect("valid");
    let third = store.api_keys().await.expect("list")[0]
        .last_used_at
        .expect("recorded");
    assert!(third >= first, "refreshed after a minute");
}

async fn inbox_payloads_are_masked_for_display(store: &Store) {
    let id = store
        .insert_notification(
            "stripe",
            "stripe-sandbox",
            1,
            r#"{"stripe-signature":"t=1,v1=abc","content-type":"application/json"}"#,
            r#"{"id":"evt_1","data":{"object":{"client_secret":"pi_1_secret_x"}}}"#,
        )
        .await
        .expect("insert");
    let e = store.notification(&id).await.expect("read").expect("entry");
    let m = e.masked_payload();
    assert!(
        m.headers
            .contains(&("stripe-signature".into(), "***".into()))
    );
    assert!(!m.body.contains("pi_1_secret_x"));
    assert!(m.body.contains("evt_1"));
}
