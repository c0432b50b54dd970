//! The credentials area over real HTTP: who may use it (401/403), adding live channels
//! that point at the built-in sandbox, test connection, a bad key refused with its field
//! named and nothing stored, rotations recorded in the audit log without secrets, and
//! "Refresh certificates now" (and `paydesk channel refresh-certs`) explaining the outcome.

mod support;

use std::sync::Arc;

use paydesk_core::auth::hash_password;
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::wechatpay::sandbox::keys::WechatPaySandboxKeys;
use paydesk_core::role::Role;
use paydesk_core::store::NewUser;
use paydesk_server::startup::SESSION_COOKIE;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use support::{TestApp, spawn_app};

struct Client {
    http: reqwest::Client,
    base: String,
}

const BOUNDARY: &str = "----paydeskTestBoundary7MA4YWxk";

/// A `multipart/form-data` body as a browser sends it (file fields included).
fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{BOUNDARY}\r\n"));
        if let Some(field) = name.strip_suffix("_file") {
            body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{field}.pem\"\r\nContent-Type: application/x-pem-file\r\n\r\n"
            ));
        } else {
            body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            ));
        }
        body.push_str(value);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

impl Client {
    fn new(app: &TestApp) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: app.base.clone(),
        }
    }

    async fn login(&self, user: &str, password: &str) -> String {
        let r = self
            .http
            .post(format!("{}/auth/login", self.base))
            .form(&[("username", user), ("password", password)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        r.headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(SESSION_COOKIE))
            .and_then(|c| c.split(';').next())
            .expect("session cookie")
            .to_string()
    }

    async fn form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> (StatusCode, String) {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        reply(req.send().await.expect("post")).await
    }

    async fn multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> (StatusCode, String) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(fields));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        reply(req.send().await.expect("post")).await
    }

    async fn get(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("get");
        (r.status(), r.text().await.unwrap_or_default())
    }

    async fn rpc(&self, name: &str, cookie: Option<&str>) -> (StatusCode, String) {
        let mut req = self
            .http
            .post(format!("{}/rpc/{name}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        let r = req.send().await.expect("rpc");
        (r.status(), r.text().await.unwrap_or_default())
    }
}

/// Status, and for redirects the target (else the body).
async fn reply(r: reqwest::Response) -> (StatusCode, String) {
    let status = r.status();
    match r.headers().get(LOCATION).and_then(|l| l.to_str().ok()) {
        Some(l) => (status, l.to_string()),
        None => (status, r.text().await.unwrap_or_default()),
    }
}

async fn add_user(app: &TestApp, name: &str, role: Role) {
    let hash = hash_password("pw-123456789".into()).await.expect("hash");
    app.state
        .store
        .create_user(NewUser {
            username: name,
            password_hash: &hash,
            role,
        })
        .await
        .expect("user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_reach_credentials() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let c = Client::new(&app);
    for path in [
        "/credentials/test",
        "/credentials/toggle",
        "/credentials/refresh-certs",
    ] {
        let (s, _) = c.form(path, &[("name", "stripe-sandbox")], None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
    let (s, _) = c
        .multipart("/credentials/save", &[("provider", "stripe")], None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = c.rpc("list_channels", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    for (user, role) in [("mara", Role::Merchant), ("sam", Role::Support)] {
        add_user(&app, user, role).await;
        let cookie = c.login(user, "pw-123456789").await;
        let (s, _) = c
            .form(
                "/credentials/test",
                &[("name", "stripe-sandbox")],
                Some(&cookie),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (s, _) = c
            .form(
                "/credentials/toggle",
                &[("name", "stripe-sandbox"), ("enable", "0")],
                Some(&cookie),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (s, _) = c
            .form(
                "/credentials/refresh-certs",
                &[("name", "wechatpay-sandbox")],
                Some(&cookie),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (s, _) = c
            .multipart(
                "/credentials/rotate",
                &[("name", "x"), ("step", "retire_webhook_secret")],
                Some(&cookie),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (s, _) = c.rpc("list_channels", Some(&cookie)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        let (s, body) = c.get("/credentials", &cookie).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
        assert!(!body.contains("channels-table"));
    }
    let row = app
        .state
        .store
        .channel("stripe-sandbox")
        .await
        .expect("row")
        .expect("exists");
    assert!(row.disabled_at.is_none(), "nothing changed");
}

async fn admin(app: &TestApp, c: &Client) -> String {
    add_user(app, "root", Role::Admin).await;
    c.login("root", "pw-123456789").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_stripe_channel_against_the_sandbox_tests_ok_and_rotates_its_webhook_secret() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let c = Client::new(&app);
    let cookie = admin(&app, &c).await;
    let keys = app
        .state
        .payments
        .channels()
        .sandbox_keys()
        .await
        .expect("keys");
    let sk = keys.stripe.secret_key.expose().to_string();
    let gateway = format!("{}/sandbox/stripe", app.base);
    let (s, to) = c
        .multipart(
            "/credentials/save",
            &[
                ("provider", "stripe"),
                ("name", "shop-stripe"),
                ("gateway", &gateway),
                ("secret_key", &sk),
                ("webhook_secret", "whsec_first_secret_value"),
                ("success_url", &format!("{}/", app.base)),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(to, "/credentials?ok=channel_created&channel=shop-stripe");

    let (s, list) = c.rpc("list_channels", Some(&cookie)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains("shop-stripe"), "{list}");
    assert!(
        list.contains("webhook secret"),
        "fingerprints listed: {list}"
    );
    for secret in [sk.as_str(), "whsec_first_secret_value"] {
        assert!(!list.contains(secret), "secret in the list");
    }
    let (_, page) = c.get("/credentials", &cookie).await;
    assert!(page.contains("shop-stripe") && !page.contains(&sk));

    let (s, to) = c
        .form(
            "/credentials/test",
            &[("name", "shop-stripe")],
            Some(&cookie),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(to, "/credentials?channel=shop-stripe&tested=ok");

    // A wrong secret key is refused by the gateway: "bad key".
    let (s, _) = c
        .multipart(
            "/credentials/save",
            &[
                ("provider", "stripe"),
                ("editing", "1"),
                ("name", "shop-stripe"),
                ("gateway", &gateway),
                ("secret_key", "sk_test_wrong_key_000"),
                ("success_url", &format!("{}/", app.base)),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, to) = c
        .form(
            "/credentials/test",
            &[("name", "shop-stripe")],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?channel=shop-stripe&tested=bad_key");

    // Rotation: add a new webhook secret, retire the old one.
    let (_, to) = c
        .multipart(
            "/credentials/rotate",
            &[
                ("name", "shop-stripe"),
                ("step", "add_webhook_secret"),
                ("value", "whsec_second_secret_value"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?edit=shop-stripe&ok=webhook_secret_added");
    let old = paydesk_core::channel::config::secret_fingerprint("whsec_first_secret_value");
    let (_, to) = c
        .multipart(
            "/credentials/rotate",
            &[
                ("name", "shop-stripe"),
                ("step", "retire_webhook_secret"),
                ("value", &old),
                ("confirm", "yes"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        to,
        "/credentials?edit=shop-stripe&ok=webhook_secret_retired"
    );
    let (_, list) = c.rpc("list_channels", Some(&cookie)).await;
    assert!(!list.contains(&old), "retired secret gone");

    let audit = app.state.store.recent_audit(50).await.expect("audit");
    let actions: Vec<&str> = audit
        .iter()
        .filter(|e| e.actor == "root")
        .map(|e| e.action.as_str())
        .collect();
    for a in [
        "channel_created",
        "channel_updated",
        "channel_tested",
        "webhook_secret_added",
        "webhook_secret_retired",
    ] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
    for e in &audit {
        for secret in [sk.as_str(), "whsec_first", "whsec_second", "sk_test_wrong"] {
            assert!(
                !e.detail.contains(secret) && !e.target.contains(secret),
                "secret in audit"
            );
        }
    }
}

/// The built-in WeChat Pay sandbox merchant: its keys, its merchant private key (PEM) and
/// this server's sandbox gateway.
async fn sandbox_merchant(app: &TestApp) -> (Arc<WechatPaySandboxKeys>, String, String) {
    let keys = app
        .state
        .payments
        .channels()
        .sandbox_keys()
        .await
        .expect("keys");
    let w = keys.wechatpay.clone();
    let key = w
        .merchant_private_key
        .to_pkcs1_pem()
        .expect("pem")
        .expose()
        .to_string();
    (w, key, format!("{}/sandbox/wechatpay", app.base))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechat_channel_bad_key_names_the_field_then_rotation_switches_signing() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let c = Client::new(&app);
    let cookie = admin(&app, &c).await;
    let (w, merchant_key, gateway) = sandbox_merchant(&app).await;
    let public = w.platform_public_key_pem().expect("public");
    let fields = |key: &'static str, private: String| {
        vec![
            ("provider", "wechatpay".to_string()),
            ("name", "shop-wx".to_string()),
            ("gateway", gateway.clone()),
            ("mchid", w.mchid.clone()),
            ("appid", w.appid.clone()),
            ("merchant_serial", w.merchant_serial.clone()),
            (key, private),
            ("apiv3_key", w.apiv3_key.expose().to_string()),
            ("public_key_id", w.public_key_id.clone()),
            ("public_key", public.clone()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { v.clone() };

    // A bad private key: refused with the field named, nothing stored, input kept.
    let bad = as_refs(&fields(
        "merchant_private_key",
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----".into(),
    ));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, to) = c.multipart("/credentials/save", &bad, Some(&cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        to,
        "/credentials?add=wechatpay&error=invalid&field=merchant_private_key"
    );
    assert!(
        app.state
            .store
            .channel("shop-wx")
            .await
            .expect("read")
            .is_none(),
        "nothing stored"
    );
    let (_, page) = c.get(&to, &cookie).await;
    assert!(page.contains(&w.mchid), "non-secret input kept");
    assert!(page.contains("Merchant API private key"), "field named");
    assert!(!page.contains(w.apiv3_key.expose()), "secrets not echoed");

    // The same form uploaded as a file: stored, and the test connection verifies.
    let good = fields("merchant_private_key_file", merchant_key.clone());
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, to) = c.multipart("/credentials/save", &good, Some(&cookie)).await;
    assert_eq!(to, "/credentials?ok=channel_created&channel=shop-wx");
    let (_, to) = c
        .form("/credentials/test", &[("name", "shop-wx")], Some(&cookie))
        .await;
    assert_eq!(to, "/credentials?channel=shop-wx&tested=ok");

    // Rotating the merchant key: requests are now signed with the new key, which this
    // sandbox merchant does not know, so the gateway refuses it ("bad key").
    let new_key = RsaSigner::generate()
        .expect("key")
        .to_pkcs1_pem()
        .expect("pem")
        .expose()
        .to_string();
    let (_, to) = c
        .multipart(
            "/credentials/rotate",
            &[
                ("name", "shop-wx"),
                ("step", "rotate_merchant_key"),
                ("serial", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"),
                ("value_file", &new_key),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?edit=shop-wx&ok=merchant_key_rotated");
    let (_, to) = c
        .form("/credentials/test", &[("name", "shop-wx")], Some(&cookie))
        .await;
    assert_eq!(to, "/credentials?channel=shop-wx&tested=bad_key");
    let (_, list) = c.rpc("list_channels", Some(&cookie)).await;
    assert!(
        list.contains(&w.merchant_serial),
        "old key still listed: {list}"
    );
    let (_, to) = c
        .multipart(
            "/credentials/rotate",
            &[
                ("name", "shop-wx"),
                ("step", "retire_merchant_key"),
                ("value", &w.merchant_serial),
                ("confirm", "yes"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?edit=shop-wx&ok=merchant_key_retired");

    // Disable and enable.
    let (_, to) = c
        .form(
            "/credentials/toggle",
            &[("name", "shop-wx"), ("enable", "0"), ("confirm", "yes")],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?ok=channel_disabled&channel=shop-wx");
    assert!(
        app.state
            .store
            .channel("shop-wx")
            .await
            .expect("r")
            .expect("e")
            .disabled_at
            .is_some()
    );
    let (_, to) = c
        .form(
            "/credentials/toggle",
            &[("name", "shop-wx"), ("enable", "1")],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?ok=channel_enabled&channel=shop-wx");
}

/// Adds the sandbox merchant as a live WeChat Pay channel in platform-certificate mode
/// (downloading, no certificate yet), through the form; `apiv3` is its APIv3 key.
async fn add_downloading_wechat_channel(
    app: &TestApp,
    c: &Client,
    cookie: &str,
    name: &str,
    apiv3: &str,
) {
    let (w, key, gateway) = sandbox_merchant(app).await;
    let (_, to) = c
        .multipart(
            "/credentials/save",
            &[
                ("provider", "wechatpay"),
                ("name", name),
                ("gateway", &gateway),
                ("mchid", &w.mchid),
                ("appid", &w.appid),
                ("merchant_serial", &w.merchant_serial),
                ("merchant_private_key", &key),
                ("apiv3_key", apiv3),
                ("download_certificates", "1"),
            ],
            Some(cookie),
        )
        .await;
    assert_eq!(
        to,
        format!("/credentials?ok=channel_created&channel={name}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_certificates_now_explains_the_outcome_and_the_cli_does_the_same() {
    let dir = tempfile::tempdir().expect("dir");
    let app = spawn_app(dir.path(), None).await;
    let c = Client::new(&app);
    let cookie = admin(&app, &c).await;
    let (keys, _, _) = sandbox_merchant(&app).await;
    let platform = keys.platform_cert.clone();
    let apiv3 = keys.apiv3_key.expose().to_string();
    add_downloading_wechat_channel(&app, &c, &cookie, "wx-certs", &apiv3).await;

    // From the list: one certificate, new, with its expiry.
    let (s, to) = c
        .form(
            "/credentials/refresh-certs",
            &[("name", "wx-certs")],
            Some(&cookie),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        to,
        format!(
            "/credentials?channel=wx-certs&refreshed=ok&certs=1&added=1&expires={}",
            platform.not_after
        )
    );
    let (_, page) = c.get(&to, &cookie).await;
    assert!(
        page.contains("1 certificate, 1 new; the newest expires 20"),
        "{page}"
    );
    assert!(page.contains(&platform.serial), "listed: {page}");
    let (_, page) = c.get(&to, &format!("{cookie}; paydesk_lang=zh")).await;
    assert!(page.contains("共 1 张证书，新增 1 张"), "{page}");

    // From the edit page: back there, nothing new, the last download shown.
    let (_, to) = c
        .form(
            "/credentials/refresh-certs",
            &[("name", "wx-certs"), ("back", "edit")],
            Some(&cookie),
        )
        .await;
    assert!(
        to.starts_with("/credentials?edit=wx-certs&channel=wx-certs&refreshed=ok&certs=1&added=0"),
        "{to}"
    );
    let (_, page) = c.get(&to, &cookie).await;
    assert!(page.contains("1 certificate, none new"), "{page}");
    assert!(page.contains("Last download"), "{page}");
    assert!(page.contains("Next automatic download"), "{page}");

    // A wrong APIv3 key, in plain words, in both languages; nothing stored.
    add_downloading_wechat_channel(
        &app,
        &c,
        &cookie,
        "wx-bad-v3",
        "0123456789abcdef0123456789abcdef",
    )
    .await;
    let (_, to) = c
        .form(
            "/credentials/refresh-certs",
            &[("name", "wx-bad-v3")],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?channel=wx-bad-v3&refreshed=bad_apiv3_key");
    let (_, page) = c.get(&to, &cookie).await;
    assert!(
        page.contains("The APIv3 key does not decrypt the certificates"),
        "{page}"
    );
    let (_, page) = c.get(&to, &format!("{cookie}; paydesk_lang=zh")).await;
    assert!(page.contains("APIv3 密钥无法解密证书"), "{page}");
    // Not a WeChat Pay live channel; no such channel.
    let (_, to) = c
        .form(
            "/credentials/refresh-certs",
            &[("name", "stripe-sandbox")],
            Some(&cookie),
        )
        .await;
    assert_eq!(
        to,
        "/credentials?channel=stripe-sandbox&refreshed=not_wechat"
    );
    let (_, to) = c
        .form(
            "/credentials/refresh-certs",
            &[("name", "nope")],
            Some(&cookie),
        )
        .await;
    assert_eq!(to, "/credentials?error=not_found");

    let audit = app.state.store.recent_audit(50).await.expect("audit");
    let refreshes: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.action.starts_with("platform_certificates_refresh"))
        .map(|e| (e.action.as_str(), e.detail.as_str()))
        .collect();
    assert!(
        refreshes.contains(&("platform_certificates_refresh_failed", "bad_apiv3_key")),
        "{refreshes:?}"
    );
    assert!(
        refreshes
            .iter()
            .any(|(a, d)| *a == "platform_certificates_refreshed" && d.contains(&platform.serial)),
        "{refreshes:?}"
    );
    for e in &audit {
        assert!(!e.detail.contains(&apiv3), "no APIv3 key in the audit log");
    }

    // The command line does the same, on the same database.
    let out = run(paydesk(dir.path()).args(["channel", "refresh-certs", "wx-certs"]));
    assert!(
        out.contains("channel `wx-certs`: 1 platform certificate (none new), the newest expires"),
        "{out}"
    );
    let failed = paydesk(dir.path())
        .args(["channel", "refresh-certs", "wx-bad-v3"])
        .output()
        .expect("run");
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("APIv3 key does not decrypt"), "{err}");
    assert!(!err.contains(&apiv3));
}

fn paydesk(data_dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_paydesk"));
    cmd.env_clear()
        .env("PAYDESK_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    cmd
}

fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `paydesk channel rotate` does what the page does, keys read from files.
#[test]
fn cli_rotates_a_stripe_webhook_secret_from_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let sk = file("sk.txt", "sk_test_cli_rotation_secret");
    let first = file("wh1.txt", "whsec_cli_first_secret");
    let second = file("wh2.txt", "whsec_cli_second_secret");
    run(paydesk(dir.path())
        .args(["channel", "add", "shop", "--provider", "stripe"])
        .args(["--secret-key-file", &sk, "--webhook-secret-file", &first]));
    let out = run(paydesk(dir.path()).args([
        "channel",
        "rotate",
        "shop",
        "--add-webhook-secret-file",
        &second,
    ]));
    assert!(!out.contains("whsec_cli"), "{out}");
    let list = run(paydesk(dir.path()).args(["channel", "list"]));
    assert!(list.contains("previous webhook secret"), "{list}");
    let old = paydesk_core::channel::config::secret_fingerprint("whsec_cli_first_secret");
    assert!(list.contains(&old), "{list}");
    run(paydesk(dir.path()).args(["channel", "rotate", "shop", "--retire-webhook-secret", &old]));
    let list = run(paydesk(dir.path()).args(["channel", "list"]));
    assert!(!list.contains(&old), "{list}");
    // The last secret cannot be retired: one line naming the field.
    let new = paydesk_core::channel::config::secret_fingerprint("whsec_cli_second_secret");
    let out = paydesk(dir.path())
        .args(["channel", "rotate", "shop", "--retire-webhook-secret", &new])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("webhook_secret"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
