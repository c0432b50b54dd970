//! The application as a router driven with `oneshot` (no socket): SQLite and the master
//! key in a temporary directory, the bootstrap admin created, sign-in delays of a
//! millisecond. Requests are built the way browsers (with and without JavaScript) and the
//! wasm client send them.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use paydesk_core::auth::{ThrottlePolicy, ensure_bootstrap_admin, hash_password};
use paydesk_core::role::Role;
use paydesk_core::store::{NewUser, Store};
use paydesk_server::config::{Config, Settings};
use paydesk_server::startup::{AppState, SESSION_COOKIE, app};
use tower::ServiceExt;

pub struct RouterApp {
    pub router: Router,
    pub store: Store,
    pub admin_password: String,
    _dir: tempfile::TempDir,
}

/// An answer, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
}

impl RouterApp {
    pub async fn new() -> RouterApp {
        RouterApp::with_public_url(None).await
    }

    pub async fn with_public_url(public_url: Option<&str>) -> RouterApp {
        RouterApp::with_settings(|s| s.public_url = public_url.map(String::from)).await
    }

    /// Default settings (data in a temporary directory) as changed by `edit`.
    pub async fn with_settings(edit: impl FnOnce(&mut Settings)) -> RouterApp {
        RouterApp::build(edit, |_| {}).await
    }

    /// [`RouterApp::with_settings`], and `edit_state` changes the application state
    /// (limits tests shorten) before the router is built.
    pub async fn build(
        edit: impl FnOnce(&mut Settings),
        edit_state: impl FnOnce(&mut AppState),
    ) -> RouterApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        edit(&mut settings);
        let config = Config::from_settings(settings).expect("config");
        let store = Store::connect(&config.database_url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let admin_password = ensure_bootstrap_admin(&store)
            .await
            .expect("bootstrap")
            .expect("created");
        let mut state = AppState::new(config, store.clone());
        state.throttle = ThrottlePolicy {
            base_delay_ms: 1,
            max_delay_ms: 2,
            ..ThrottlePolicy::default()
        };
        edit_state(&mut state);
        RouterApp {
            router: app(state),
            store,
            admin_password,
            _dir: dir,
        }
    }

    pub async fn add_user(&self, name: &str, password: &str, role: Role) {
        let hash = hash_password(password.into()).await.expect("hash");
        self.store
            .create_user(NewUser {
                username: name,
                password_hash: &hash,
                role,
            })
            .await
            .expect("create");
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let cookies = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            location,
            cookies,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    /// A form post exactly as a browser without JavaScript sends it (no `Origin`).
    pub async fn post_form(&self, path: &str, form: &str, cookie: Option<&str>) -> Reply {
        self.post_form_from(path, form, cookie, None).await
    }

    /// [`RouterApp::post_form`] with an `Origin` header.
    pub async fn post_form_from(
        &self,
        path: &str,
        form: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Reply {
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        self.send(req.body(Body::from(form.to_string())).expect("request"))
            .await
    }

    /// A server function call as the hydrated page makes it.
    pub async fn rpc(&self, name: &str, form: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::post(format!("/rpc/{name}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(form.to_string())).expect("request"))
            .await
    }

    /// Signs in; the `name=value` session cookie, or None when refused.
    pub async fn try_login(&self, user: &str, password: &str) -> Option<String> {
        let r = self
            .post_form(
                "/auth/login",
                &format!("username={user}&password={password}"),
                None,
            )
            .await;
        (r.status == StatusCode::SEE_OTHER && r.location.as_deref() == Some("/"))
            .then(|| session_cookie(&r))
            .flatten()
    }

    /// Signs in and returns the `name=value` session cookie.
    pub async fn login(&self, user: &str, password: &str) -> String {
        self.try_login(user, password)
            .await
            .unwrap_or_else(|| panic!("{user} can sign in"))
    }
}

impl Reply {
    /// The whole `Set-Cookie` value (attributes included) that starts with `prefix`.
    pub fn set_cookie(&self, prefix: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|c| c.starts_with(prefix))
            .map(String::as_str)
    }
}

/// The `name=value` of the session cookie a reply sets.
pub fn session_cookie(r: &Reply) -> Option<String> {
    r.set_cookie(&format!("{SESSION_COOKIE}="))
        .and_then(|c| c.split(';').next())
        .map(String::from)
}
