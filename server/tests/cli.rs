//! The `paydesk` binary as an operator uses it: first start, user management from stdin,
//! configuration errors, and a clean exit on SIGTERM.

use paydesk_core::auth::verify_password;
use paydesk_core::role::Role;
use paydesk_core::store::Store;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_paydesk");

fn paydesk(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAYDESK_DATA_DIR", data_dir)
        .env("PAYDESK_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    cmd
}

fn run_with_stdin(mut cmd: Command, input: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

async fn open(dir: &std::path::Path) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.join("paydesk.db").display());
    Store::connect(&url).await.expect("connect")
}

#[tokio::test]
async fn user_add_and_passwd_read_the_password_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut add = paydesk(dir.path());
    add.args(["user", "add", "sara", "--role", "support"]);
    let out = run_with_stdin(add, "first password 1\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let store = open(dir.path()).await;
    let sara = store
        .user_by_name("sara")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(sara.role, Role::Support);
    assert!(verify_password("first password 1".into(), sara.password_hash.clone()).await);

    let mut dup = paydesk(dir.path());
    dup.args(["user", "add", "sara", "--role", "admin"]);
    let out = run_with_stdin(dup, "another password\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    let mut passwd = paydesk(dir.path());
    passwd.args(["user", "passwd", "sara"]);
    let out = run_with_stdin(passwd, "second password 2\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sara = store
        .user_by_name("sara")
        .await
        .expect("get")
        .expect("exists");
    assert!(verify_password("second password 2".into(), sara.password_hash).await);

    let mut short = paydesk(dir.path());
    short.args(["user", "passwd", "sara"]);
    let out = run_with_stdin(short, "short\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));

    let mut bad_role = paydesk(dir.path());
    bad_role.args(["user", "add", "x", "--role", "root"]);
    assert!(
        !run_with_stdin(bad_role, "long enough password\n")
            .status
            .success()
    );
}

#[test]
fn bad_configuration_is_one_line_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = paydesk(dir.path())
        .env("PAYDESK_ADDR", "nonsense")
        .arg("migrate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("PAYDESK_ADDR") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// Starts `paydesk serve`, waits until it listens, SIGTERMs it; returns what it printed
/// on stdout, its exit status and how long shutting down took.
fn serve_once(dir: &std::path::Path) -> (String, std::process::ExitStatus, Duration) {
    let mut child = paydesk(dir)
        .env("RUST_LOG", "info")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("paydesk is listening") => break,
            Ok(_) => {}
            Err(e) => panic!("paydesk did not start: {e}"),
        }
    }
    let started = Instant::now();
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status,
        started.elapsed(),
    )
}

#[tokio::test]
async fn first_start_prints_the_admin_password_once_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, status, took) = serve_once(dir.path());
    assert!(status.success(), "exit on SIGTERM: {status:?}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    let password = first
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("password:")
                .map(|p| p.trim().to_string())
        })
        .expect("password printed on first start");
    assert!(first.contains("user:     admin"), "{first}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("master.key"))
            .expect("master.key created")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let store = open(dir.path()).await;
    let admin = store
        .user_by_name("admin")
        .await
        .expect("get")
        .expect("exists");
    assert!(verify_password(password.clone(), admin.password_hash).await);
    store.close().await;

    let (second, status, _) = serve_once(dir.path());
    assert!(status.success());
    assert!(
        !second.contains("password"),
        "never printed again: {second}"
    );
}

#[tokio::test]
async fn apikey_create_prints_the_key_once_and_revoke_disables_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = paydesk(dir.path())
        .args(["apikey", "create", "pos-1"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "key, then signing secret");
    let key = lines[0].trim().to_string();
    assert!(key.starts_with("pdk_"), "{key}");
    let signing_secret = lines[1].trim();
    assert!(
        signing_secret.starts_with("pdsec_"),
        "signing secret printed once"
    );

    let store = open(dir.path()).await;
    let master =
        paydesk_core::vault::MasterKey::load_or_create_file(&dir.path().join("master.key"))
            .expect("master key");
    let id = store.api_keys().await.expect("list")[0].id.clone();
    assert_eq!(
        store
            .api_key_signing_secret(&id, &master)
            .await
            .expect("signing secret")
            .map(|s| s.expose().to_string()),
        Some(signing_secret.to_string()),
        "stored sealed under the data dir's master key"
    );
    assert_eq!(
        store
            .authenticate_api_key(&key)
            .await
            .expect("auth")
            .map(|k| k.name),
        Some("pos-1".into())
    );

    let list = paydesk(dir.path())
        .args(["apikey", "list"])
        .output()
        .expect("run");
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("pos-1")
            && listed.contains("active")
            && !listed.contains(&key)
            && !listed.contains(signing_secret),
        "{listed}"
    );

    let out = paydesk(dir.path())
        .args(["apikey", "revoke", "pos-1"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(store.authenticate_api_key(&key).await.expect("auth"), None);
    let again = paydesk(dir.path())
        .args(["apikey", "revoke", "pos-1"])
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(1));
}

#[tokio::test]
async fn channel_add_reads_keys_from_files_seals_them_and_list_never_shows_them() {
    use paydesk_core::provider::crypto::RsaSigner;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let secret = "sk_live_51HxSecretSecretSecret";
    let sk = file("sk.txt", secret);
    let wh = file("wh.txt", "whsec_AbCdEfGhIjKlMnOp");
    let out = paydesk(dir.path())
        .args(["channel", "add", "shop-stripe", "--provider", "stripe"])
        .args(["--secret-key-file", &sk, "--webhook-secret-file", &wh])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("/notify/stripe/shop-stripe"), "{stdout}");
    assert!(!stdout.contains(secret), "{stdout}");

    let key = RsaSigner::generate().expect("key");
    let pem = key.to_pkcs1_pem().expect("pem");
    let pk = file("apiclient_key.pem", pem.expose());
    let public = file("pub.pem", &key.verifier().to_spki_pem().expect("spki"));
    let v3 = file("v3.txt", "0123456789abcdef0123456789ABCDEF");
    let out = paydesk(dir.path())
        .args(["channel", "add", "shop-wx", "--provider", "wechatpay"])
        .args([
            "--mchid",
            "1900000001",
            "--appid",
            "wx8888888888888888",
            "--serial",
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        ])
        .args(["--private-key", &pk, "--apiv3-key-file", &v3])
        .args([
            "--public-key-id",
            "PUB_KEY_ID_0114232134912410000",
            "--public-key",
            &public,
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A key file that is not a key: refused in one line naming the field, nothing stored.
    let bad = file("bad.pem", "not a key");
    let out = paydesk(dir.path())
        .args(["channel", "add", "broken", "--provider", "wechatpay"])
        .args(["--mchid", "1", "--appid", "wx1", "--serial", "AB"])
        .args([
            "--private-key",
            &bad,
            "--apiv3-key-file",
            &v3,
            "--download-certificates",
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(err.contains("merchant_private_key"), "{err}");

    let out = paydesk(dir.path())
        .args(["channel", "disable", "shop-wx"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let list = paydesk(dir.path())
        .args(["channel", "list"])
        .output()
        .expect("run");
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    for name in [
        "alipay-sandbox",
        "wechatpay-sandbox",
        "stripe-sandbox",
        "shop-stripe",
    ] {
        assert!(listed.contains(name), "{listed}");
    }
    assert!(
        listed.lines().any(|l| l.starts_with("shop-wx")
            && l.contains("disabled")
            && l.contains("public key")),
        "{listed}"
    );
    assert!(
        !listed.contains(secret) && !listed.contains("BEGIN") && !listed.contains("broken"),
        "{listed}"
    );

    // At rest: sealed, not readable.
    let store = open(dir.path()).await;
    let row = store
        .channel("shop-stripe")
        .await
        .expect("read")
        .expect("row");
    assert!(row.sealed_secrets.starts_with("v1:") && !row.sealed_secrets.contains("sk_live"));
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Backup while the database is in use (a writer keeps writing), then restore into place:
/// the restored database holds exactly what the backup saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_is_online_and_restore_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut add = paydesk(dir.path());
    add.args(["user", "add", "before", "--role", "support"]);
    ok(&run_with_stdin(add, "first password 1\n"));

    // Another process holds the database open and writes, as the server would.
    let store = open(dir.path()).await;
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                store
                    .audit("test", "busy", &format!("{i}"), "")
                    .await
                    .expect("audit");
            }
        })
    };
    let file = dir.path().join("backup.db");
    let mut backup = paydesk(dir.path());
    backup.arg("backup").arg(&file);
    let out = ok(&run_with_stdin(backup, ""));
    assert!(out.contains("1 users"), "{out}");
    writer.await.expect("writer");

    // The same name again is refused rather than overwritten.
    let mut again = paydesk(dir.path());
    again.arg("backup").arg(&file);
    let out = run_with_stdin(again, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    // Changes after the backup ...
    let mut later = paydesk(dir.path());
    later.args(["user", "add", "after", "--role", "support"]);
    ok(&run_with_stdin(later, "second password 2\n"));
    store.close().await;

    // ... are gone after the restore; the replaced database is kept beside it.
    let mut restore = paydesk(dir.path());
    restore.arg("restore").arg(&file);
    let out = ok(&run_with_stdin(restore, ""));
    assert!(out.contains("kept as"), "{out}");
    let store = open(dir.path()).await;
    assert!(store.user_by_name("before").await.expect("get").is_some());
    assert!(store.user_by_name("after").await.expect("get").is_none());
    let kept = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains("before-restore"));
    assert!(kept, "the previous database is kept");

    // Not a database: refused, nothing replaced.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not sqlite").expect("write");
    let mut bad = paydesk(dir.path());
    bad.arg("restore").arg(&junk);
    let out = run_with_stdin(bad, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(store.user_by_name("before").await.expect("get").is_some());
}
