//! Store stories, each run on SQLite and on Postgres.

mod support;

use paydesk_core::auth::{
    Backend, Credentials, DbSessionStore, LoginOutcome, ThrottlePolicy, Verdict,
    ensure_bootstrap_admin, hash_password, verify_password,
};
use paydesk_core::role::Role;
use paydesk_core::store::{NewUser, SessionOwner, Store, StoreError, StoredSession};
use paydesk_core::time::now_ms;
use paydesk_core::vault::MasterKey;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

on_both_backends!(
    migrations_are_idempotent,
    users_are_created_found_and_unique,
    sessions_expire_and_are_replaced,
    sessions_are_listed_and_ended_per_user,
    session_store_round_trips_records,
    throttle_counts_windows_and_locks,
    login_attempts_throttle_then_lock,
    bootstrap_admin_is_created_once,
    audit_log_reads_back_newest_first,
    api_keys_are_shown_once_stored_hashed_and_revocable,
    idempotency_keys_claim_replay_and_expire,
);

async fn migrations_are_idempotent(store: &Store) {
    store.migrate().await.expect("second migrate is a no-op");
    assert!(store.ping().await);
    assert_eq!(store.count_users().await.expect("count"), 0);
}

async fn users_are_created_found_and_unique(store: &Store) {
    let u = store
        .create_user(NewUser {
            username: "alice",
            password_hash: "h1",
            role: Role::Support,
        })
        .await
        .expect("create");
    assert_eq!(
        (u.username.as_str(), u.role, u.disabled),
        ("alice", Role::Support, false)
    );
    let dup = store
        .create_user(NewUser {
            username: "alice",
            password_hash: "h2",
            role: Role::Admin,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");

    assert_eq!(
        store.user_by_id(&u.id).await.expect("by id"),
        Some(u.clone())
    );
    assert_eq!(
        store
            .user_by_name("alice")
            .await
            .expect("by name")
            .map(|u| u.id),
        Some(u.id.clone())
    );
    assert_eq!(store.user_by_name("bob").await.expect("by name"), None);

    store
        .set_password_hash("alice", "h3")
        .await
        .expect("passwd");
    store
        .set_user_disabled("alice", true)
        .await
        .expect("disable");
    let again = store
        .user_by_name("alice")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!((again.password_hash.as_str(), again.disabled), ("h3", true));
    assert!(matches!(
        store.set_password_hash("nobody", "x").await,
        Err(StoreError::NotFound)
    ));

    store
        .create_user(NewUser {
            username: "ann",
            password_hash: "h",
            role: Role::Merchant,
        })
        .await
        .expect("create");
    let names: Vec<_> = store
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["alice", "ann"]);
    assert_eq!(store.count_users().await.expect("count"), 2);
    assert!(
        !format!("{again:?}").contains("h3"),
        "Debug must not show the password hash"
    );
}

async fn sessions_expire_and_are_replaced(store: &Store) {
    let now = now_ms();
    let live = StoredSession {
        data: "{\"a\":1}".into(),
        expires_at: now + 60_000,
        owner: None,
    };
    let dead = StoredSession {
        data: "{}".into(),
        expires_at: now - 1,
        owner: None,
    };
    store.insert_session("s1", &live).await.expect("insert");
    store.insert_session("s2", &dead).await.expect("insert");
    assert!(matches!(
        store.insert_session("s1", &live).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.load_session("s1", now).await.expect("load"),
        Some(live.data.clone())
    );
    assert_eq!(
        store.load_session("s2", now).await.expect("load"),
        None,
        "expired sessions are not loaded"
    );

    let newer = StoredSession {
        data: "{\"a\":2}".into(),
        expires_at: now + 120_000,
        owner: None,
    };
    store.upsert_session("s1", &newer).await.expect("upsert");
    assert_eq!(
        store.load_session("s1", now).await.expect("load"),
        Some(newer.data)
    );
    assert_eq!(store.delete_expired_sessions(now).await.expect("sweep"), 1);
    store.delete_session("s1").await.expect("delete");
    assert_eq!(store.load_session("s1", now).await.expect("load"), None);
}

async fn sessions_are_listed_and_ended_per_user(store: &Store) {
    let now = now_ms();
    let owned = |user: &str, handle: &str, seen: i64, expires_at: i64| StoredSession {
        data: "{}".into(),
        expires_at,
        owner: Some(SessionOwner {
            user_id: user.into(),
            handle: handle.into(),
            signed_in_at: now - 1000,
            last_seen: seen,
            user_agent: "Firefox".into(),
            ip: "10.0.0.7".into(),
        }),
    };
    store
        .insert_session("a1", &owned("u-a", "h1", now - 10, now + 60_000))
        .await
        .expect("insert");
    store
        .insert_session("a2", &owned("u-a", "h2", now - 5, now + 60_000))
        .await
        .expect("insert");
    store
        .insert_session("a3", &owned("u-a", "h3", now - 1, now - 1))
        .await
        .expect("insert");
    store
        .insert_session("b1", &owned("u-b", "h4", now, now + 60_000))
        .await
        .expect("insert");
    let listed = store.sessions_of_user("u-a", now).await.expect("list");
    assert_eq!(
        listed.iter().map(|s| s.handle.as_str()).collect::<Vec<_>>(),
        ["h2", "h1"],
        "live ones only, most recent first"
    );
    assert_eq!(
        (listed[0].ip.as_str(), listed[0].user_agent.as_str()),
        ("10.0.0.7", "Firefox")
    );
    assert!(
        !store.end_session_of_user("u-a", "h4").await.expect("end"),
        "another user's session is not ended by handle"
    );
    assert!(store.end_session_of_user("u-a", "h1").await.expect("end"));
    assert_eq!(store.load_session("a1", now).await.expect("load"), None);
    assert_eq!(store.end_sessions_of_user("u-a").await.expect("end all"), 2);
    assert!(store.load_session("b1", now).await.expect("load").is_some());
}

async fn session_store_round_trips_records(store: &Store) {
    let sessions = DbSessionStore::new(store.clone());
    let mut record = Record {
        id: Id::default(),
        data: [("k".to_string(), serde_json::json!({"v": 1}))]
            .into_iter()
            .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    sessions.create(&mut record).await.expect("create");
    let loaded = sessions
        .load(&record.id)
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.data, record.data);
    sessions.delete(&record.id).await.expect("delete");
    assert!(sessions.load(&record.id).await.expect("load").is_none());
}

async fn throttle_counts_windows_and_locks(store: &Store) {
    let t0 = 1_000_000_000;
    assert_eq!(
        store
            .throttle_record_failure("k", t0, 1000)
            .await
            .expect("fail"),
        1
    );
    assert_eq!(
        store
            .throttle_record_failure("k", t0 + 10, 1000)
            .await
            .expect("fail"),
        2
    );
    // The window (1 s) passed: counting starts over.
    assert_eq!(
        store
            .throttle_record_failure("k", t0 + 2000, 1000)
            .await
            .expect("fail"),
        1
    );
    store.throttle_lock("k", t0 + 5000).await.expect("lock");
    let s = store.throttle_state("k").await.expect("state");
    assert_eq!(
        (s.failures, s.window_start, s.locked_until),
        (1, t0 + 2000, t0 + 5000)
    );
    store.throttle_clear("k").await.expect("clear");
    assert_eq!(store.throttle_state("k").await.expect("state").failures, 0);

    let policy = ThrottlePolicy::default();
    let now = now_ms();
    // Each attempt is counted before its password is checked; the delay it owes is for
    // the failures before it.
    let mut verdicts = Vec::new();
    for name in ["Eve", "eve", "eve", "eve"] {
        verdicts.push(
            policy
                .reserve(store, name, Some("10.9.9.9"), now)
                .await
                .expect("reserve"),
        );
    }
    assert_eq!(
        verdicts,
        [0, 0, 0, 250].map(|delay_ms| Verdict::Proceed { delay_ms })
    );
    for _ in 4..10 {
        policy
            .reserve(store, "eve", Some("10.9.9.9"), now)
            .await
            .expect("reserve");
    }
    assert_eq!(
        policy.check(store, "EVE", None, now).await.expect("check"),
        Verdict::Locked {
            until: now + policy.lock_ms
        },
        "the tenth attempt locks the account"
    );
    assert_eq!(
        policy
            .reserve(store, "eve", Some("10.9.9.9"), now)
            .await
            .expect("reserve"),
        Verdict::Locked {
            until: now + policy.lock_ms
        }
    );
    // The address is slowed down (10 failures) but not locked (limit 30).
    assert_eq!(
        policy
            .check(store, "other", Some("10.9.9.9"), now)
            .await
            .expect("check"),
        Verdict::Proceed { delay_ms: 4000 }
    );
    // A right password gives the address its attempt back.
    policy
        .record_success(store, "other", Some("10.9.9.9"))
        .await
        .expect("success");
    assert_eq!(
        store
            .throttle_state("ip:10.9.9.9")
            .await
            .expect("state")
            .failures,
        9
    );
}

async fn login_attempts_throttle_then_lock(store: &Store) {
    let hash = hash_password("right password".into()).await.expect("hash");
    store
        .create_user(NewUser {
            username: "carol",
            password_hash: &hash,
            role: Role::Merchant,
        })
        .await
        .expect("create");
    let policy = ThrottlePolicy {
        base_delay_ms: 1,
        max_delay_ms: 2,
        lock_after_user: 4,
        ..Default::default()
    };
    let backend = Backend::new(store.clone(), policy);
    let creds = |p: &str| Credentials {
        username: "carol".into(),
        password: p.into(),
    };

    assert!(matches!(
        backend
            .attempt(&creds("right password"), Some("1.2.3.4"))
            .await,
        Ok(LoginOutcome::Success(_))
    ));
    for _ in 0..3 {
        assert!(matches!(
            backend.attempt(&creds("wrong"), Some("1.2.3.4")).await,
            Ok(LoginOutcome::Invalid)
        ));
    }
    // A success forgives the account's failures.
    assert!(matches!(
        backend.attempt(&creds("right password"), None).await,
        Ok(LoginOutcome::Success(_))
    ));
    for _ in 0..4 {
        assert!(matches!(
            backend.attempt(&creds("wrong"), None).await,
            Ok(LoginOutcome::Invalid)
        ));
    }
    // Locked: even the right password is refused.
    assert!(matches!(
        backend.attempt(&creds("right password"), None).await,
        Ok(LoginOutcome::Locked { .. })
    ));

    // Unknown users and disabled users look exactly like wrong passwords.
    let ghost = Credentials {
        username: "ghost".into(),
        password: "whatever".into(),
    };
    assert!(matches!(
        backend.attempt(&ghost, None).await,
        Ok(LoginOutcome::Invalid)
    ));
    let hash = hash_password("dan's password".into()).await.expect("hash");
    store
        .create_user(NewUser {
            username: "dan",
            password_hash: &hash,
            role: Role::Support,
        })
        .await
        .expect("create");
    store.set_user_disabled("dan", true).await.expect("disable");
    let dan = Credentials {
        username: "dan".into(),
        password: "dan's password".into(),
    };
    assert!(matches!(
        backend.attempt(&dan, None).await,
        Ok(LoginOutcome::Invalid)
    ));
}

async fn bootstrap_admin_is_created_once(store: &Store) {
    let password = ensure_bootstrap_admin(store)
        .await
        .expect("bootstrap")
        .expect("first time creates");
    assert_eq!(password.len(), 20);
    assert_eq!(
        ensure_bootstrap_admin(store).await.expect("bootstrap"),
        None,
        "never again"
    );
    let admin = store
        .user_by_name("admin")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(admin.role, Role::Admin);
    assert!(verify_password(password, admin.password_hash).await);
}

async fn audit_log_reads_back_newest_first(store: &Store) {
    store
        .audit("alice", "login", "alice", "1.2.3.4")
        .await
        .expect("audit");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store
        .audit("admin", "user_created", "bob", "role=support")
        .await
        .expect("audit");
    let entries = store.recent_audit(10).await.expect("read");
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user_created", "login"]);
    assert_eq!(entries[0].detail, "role=support");
}

async fn api_keys_are_shown_once_stored_hashed_and_revocable(store: &Store) {
    let master = MasterKey::from_bytes([3; 32]);
    let key = store
        .create_api_key("pos-1", "admin", &master)
        .await
        .expect("create");
    assert!(
        key.secret.starts_with("pdk_") && key.secret.len() > 40,
        "{}",
        key.info.prefix
    );
    assert!(key.secret.starts_with(&key.info.prefix));
    assert!(
        !format!("{key:?}").contains(&key.secret),
        "Debug hides the key"
    );
    assert!(matches!(
        store.create_api_key("pos-1", "admin", &master).await,
        Err(StoreError::Conflict)
    ));

    // Only a hash is stored.
    let raw: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_all(store.pool())
        .await
        .expect("raw");
    assert!(
        raw.iter()
            .all(|h| h.len() == 64 && !h.contains(&key.secret))
    );

    let found = store
        .authenticate_api_key(&key.secret)
        .await
        .expect("auth")
        .expect("valid");
    assert_eq!(found.name, "pos-1");
    assert!(
        store.api_keys().await.expect("list")[0]
            .last_used_at
            .is_some(),
        "use is recorded"
    );
    assert_eq!(
        store.authenticate_api_key("pdk_wrong").await.expect("auth"),
        None
    );
    assert_eq!(
        store.authenticate_api_key("nonsense").await.expect("auth"),
        None
    );

    store.revoke_api_key("pos-1").await.expect("revoke");
    assert_eq!(
        store.authenticate_api_key(&key.secret).await.expect("auth"),
        None,
        "revoked keys stop working"
    );
    assert!(matches!(
        store.revoke_api_key("pos-1").await,
        Err(StoreError::NotFound)
    ));
}

async fn idempotency_keys_claim_replay_and_expire(store: &Store) {
    use paydesk_core::store::{IDEMPOTENCY_STALE_MS, IdempotencyBegin};
    const TTL: i64 = 24 * 60 * 60 * 1000;
    let now = now_ms();
    let begin = |key: &'static str, api: &'static str, sha: &'static str, at: i64| async move {
        store
            .idempotency_begin(api, key, sha, at, TTL)
            .await
            .expect("begin")
    };
    assert_eq!(
        begin("k1", "api-a", "sha1", now).await,
        IdempotencyBegin::Started
    );
    // While the first runs: in progress for the same request, refused for another.
    assert_eq!(
        begin("k1", "api-a", "sha1", now).await,
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        begin("k1", "api-a", "sha2", now).await,
        IdempotencyBegin::Mismatch
    );
    // Keys belong to one API key.
    assert_eq!(
        begin("k1", "api-b", "sha2", now).await,
        IdempotencyBegin::Started
    );

    store
        .idempotency_finish("api-a", "k1", 201, r#"{"ok":true}"#)
        .await
        .expect("finish");
    let replay = IdempotencyBegin::Replay {
        status: 201,
        response: r#"{"ok":true}"#.into(),
    };
    assert_eq!(begin("k1", "api-a", "sha1", now + 1000).await, replay);
    assert_eq!(
        begin("k1", "api-a", "sha2", now + 1000).await,
        IdempotencyBegin::Mismatch
    );
    // A finished key is not released by abandon; an unfinished one is.
    store
        .idempotency_abandon("api-a", "k1")
        .await
        .expect("abandon");
    assert_eq!(begin("k1", "api-a", "sha1", now + 2000).await, replay);
    store
        .idempotency_abandon("api-b", "k1")
        .await
        .expect("abandon");
    assert_eq!(
        begin("k1", "api-b", "sha3", now).await,
        IdempotencyBegin::Started
    );

    // A placeholder left by a request that died stops blocking after a while.
    assert_eq!(
        begin("k2", "api-a", "sha1", now).await,
        IdempotencyBegin::Started
    );
    assert_eq!(
        begin("k2", "api-a", "sha1", now + IDEMPOTENCY_STALE_MS - 1).await,
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        begin("k2", "api-a", "sha2", now + IDEMPOTENCY_STALE_MS + 1).await,
        IdempotencyBegin::Started
    );
    // After 24 h a key is forgotten: the same key may start a different request.
    assert_eq!(
        begin("k1", "api-a", "sha9", now + TTL + 1).await,
        IdempotencyBegin::Started
    );
}
