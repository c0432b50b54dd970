//! Two-step sign-in on SQLite and Postgres: enrolment (the secret sealed, never stored in
//! the clear), codes accepted once, recovery codes spent once (also when two sign-ins
//! race with the same one), the throttle locking out code guessing, the policy, reset.

mod support;

use paydesk_core::auth::{ThrottlePolicy, hash_password};
use paydesk_core::role::Role;
use paydesk_core::store::{NewChannel, NewUser, Store, User};
use paydesk_core::time::now_ms;
use paydesk_core::twofa::{Enrolment, Proof, TWOFA_POLICY_KEY, TotpSecret, TwoFaError, TwoFactor};
use paydesk_core::vault::MasterKey;

on_both_backends!(
    enrolment_codes_recovery_and_reset,
    a_recovery_code_raced_by_two_sign_ins_works_once,
    wrong_codes_lock_the_second_step,
    the_policy_requires_admins_once_a_live_channel_exists,
);

fn master() -> MasterKey {
    MasterKey::from_bytes([5; 32])
}

fn quick_throttle() -> ThrottlePolicy {
    ThrottlePolicy {
        base_delay_ms: 0,
        max_delay_ms: 0,
        lock_after_user: 4,
        ..ThrottlePolicy::default()
    }
}

async fn user(store: &Store, name: &str, role: Role) -> User {
    let hash = hash_password("pw-123456789".into()).await.expect("hash");
    store
        .create_user(NewUser {
            username: name,
            password_hash: &hash,
            role,
        })
        .await
        .expect("user")
}

fn now_secs() -> u64 {
    (now_ms() / 1000) as u64
}

fn code(e: &Enrolment, offset_secs: u64) -> String {
    TotpSecret::from_base32(&e.secret_base32)
        .expect("secret")
        .code_at(now_secs() + offset_secs)
}

async fn enrolled(tf: &TwoFactor<'_>, u: &User) -> (Enrolment, Vec<String>) {
    let e = tf.begin(u).await.expect("begin");
    let codes = tf.confirm(u, &code(&e, 0), None).await.expect("confirm");
    (e, codes)
}

async fn enrolment_codes_recovery_and_reset(store: &Store) {
    let key = master();
    let tf = TwoFactor {
        store,
        master: &key,
        throttle: quick_throttle(),
    };
    let ada = user(store, "ada", Role::Admin).await;
    let e = tf.begin(&ada).await.expect("begin");
    assert!(e.otpauth_url.starts_with("otpauth://totp/paydesk:ada?"));
    // A reload shows the same secret (a scanned QR stays valid).
    assert_eq!(
        tf.begin(&ada).await.expect("again").secret_base32,
        e.secret_base32
    );
    let row = store.totp_row(&ada.id).await.expect("row").expect("some");
    assert!(!row.enabled && MasterKey::is_sealed(&row.secret_sealed));
    assert!(!row.secret_sealed.contains(&e.secret_base32));
    assert!(!format!("{row:?} {e:?}").contains(&e.secret_base32));
    assert!(matches!(
        tf.confirm(&ada, "000000", None).await,
        Err(TwoFaError::BadCode)
    ));
    let first = code(&e, 0);
    let codes = tf.confirm(&ada, &first, None).await.expect("confirm");
    assert_eq!(codes.len(), 10);
    assert!(matches!(
        tf.begin(&ada).await,
        Err(TwoFaError::AlreadyEnabled)
    ));
    let status = tf.status(&ada).await.expect("status");
    assert!(status.enabled && status.recovery_codes_left == 10);
    // The code that confirmed is spent; the next step's code works, once.
    assert!(matches!(
        tf.verify(&ada, &first, None).await,
        Err(TwoFaError::BadCode)
    ));
    let next = code(&e, 30);
    assert_eq!(
        tf.verify(&ada, &next, None).await.expect("next"),
        Proof::Code
    );
    assert!(matches!(
        tf.verify(&ada, &next, None).await,
        Err(TwoFaError::BadCode)
    ));
    // A recovery code, however typed, once.
    let typed = codes[3].to_uppercase();
    assert_eq!(
        tf.verify(&ada, &typed, None).await.expect("recovery"),
        Proof::RecoveryCode { left: 9 }
    );
    assert!(matches!(
        tf.verify(&ada, &codes[3], None).await,
        Err(TwoFaError::BadCode)
    ));
    let actions: Vec<String> = store
        .recent_audit(50)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        "twofa_enrol_started",
        "twofa_enabled",
        "twofa_verified",
        "twofa_recovery_used",
        "twofa_failed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
    assert!(tf.reset(&ada, "cli").await.expect("reset"));
    assert_eq!(tf.status(&ada).await.expect("status"), Default::default());
    assert!(matches!(
        tf.verify(&ada, &codes[4], None).await,
        Err(TwoFaError::NotEnrolled)
    ));
}

async fn a_recovery_code_raced_by_two_sign_ins_works_once(store: &Store) {
    let key = master();
    let tf = TwoFactor {
        store,
        master: &key,
        throttle: quick_throttle(),
    };
    let bo = user(store, "bo", Role::Support).await;
    let (_, codes) = enrolled(&tf, &bo).await;
    let (a, b) = tokio::join!(
        tf.verify(&bo, &codes[0], None),
        tf.verify(&bo, &codes[0], None)
    );
    let ok = [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(ok, 1, "one of two racing uses of a recovery code succeeds");
    assert_eq!(tf.status(&bo).await.expect("status").recovery_codes_left, 9);
}

async fn wrong_codes_lock_the_second_step(store: &Store) {
    let key = master();
    let tf = TwoFactor {
        store,
        master: &key,
        throttle: quick_throttle(),
    };
    let cy = user(store, "cy", Role::Admin).await;
    let (e, _) = enrolled(&tf, &cy).await;
    for _ in 0..4 {
        assert!(matches!(
            tf.verify(&cy, "000001", Some("10.0.0.1")).await,
            Err(TwoFaError::BadCode)
        ));
    }
    // Locked: even the right code is refused unchecked.
    assert!(matches!(
        tf.verify(&cy, &code(&e, 30), Some("10.0.0.1")).await,
        Err(TwoFaError::Locked { .. })
    ));
    // The password's own key is separate: a correct password does not forgive codes.
    assert_eq!(
        store
            .throttle_state("user:cy")
            .await
            .expect("state")
            .failures,
        0
    );
    assert!(
        store
            .throttle_state("user:2fa:cy")
            .await
            .expect("state")
            .locked_until
            > now_ms()
    );
}

async fn the_policy_requires_admins_once_a_live_channel_exists(store: &Store) {
    let key = master();
    let tf = TwoFactor {
        store,
        master: &key,
        throttle: quick_throttle(),
    };
    let admin = user(store, "root", Role::Admin).await;
    let support = user(store, "sam", Role::Support).await;
    assert!(!tf.required(&admin).await.expect("required"));
    let id = Store::new_channel_id();
    store
        .insert_channel(NewChannel {
            id: &id,
            name: "alipay-live",
            provider: "alipay",
            mode: "live",
            settings: "{}",
            sealed_secrets: "",
        })
        .await
        .expect("channel");
    assert!(tf.required(&admin).await.expect("required"));
    assert!(!tf.required(&support).await.expect("required"));
    store
        .set_security_setting(TWOFA_POLICY_KEY, Some("support"), "root")
        .await
        .expect("set");
    assert!(!tf.required(&admin).await.expect("required"));
    assert!(tf.required(&support).await.expect("required"));
}
