//! Layered configuration: built-in defaults < `paydesk.toml` (optional) < `PAYDESK_*`
//! environment variables. A bad value stops start-up with one line naming the key.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

#[derive(Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Where to listen (`PAYDESK_ADDR`).
    pub addr: SocketAddr,
    /// The externally reachable base URL (`PAYDESK_PUBLIC_URL`); notify URLs are built
    /// from it, cookies are `Secure` when it is https, and it is an accepted Origin.
    pub public_url: Option<String>,
    /// `sqlite://…` or `postgres://…` (`PAYDESK_DATABASE_URL`); default: a SQLite file in
    /// the data directory.
    pub database_url: Option<String>,
    /// Where paydesk keeps its files (`PAYDESK_DATA_DIR`).
    pub data_dir: PathBuf,
    /// The built front end (`scripts/lib.sh` `build_site` output) (`PAYDESK_SITE_ROOT`).
    pub site_root: PathBuf,
    /// `text` or `json` (`PAYDESK_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// A session ends after this much inactivity (`PAYDESK_SESSION_IDLE_MINUTES`).
    pub session_idle_minutes: u32,
    /// A session ends this long after sign-in whatever its activity
    /// (`PAYDESK_SESSION_MAX_HOURS`).
    pub session_max_hours: u32,
    /// How long a new checkout can be paid unless the request says otherwise
    /// (`PAYDESK_ORDER_EXPIRY_MINUTES`).
    pub order_expiry_minutes: u32,
    /// How long a payment by the customer's code waits for the customer's password before
    /// it is cancelled at the provider (`PAYDESK_CODE_WAIT_SECONDS`, 10 to 120; the
    /// customer's code itself is good for about a minute).
    pub code_wait_seconds: u32,
    /// Let merchant notifications go to loopback addresses (`localhost`): for development
    /// only (`PAYDESK_MERCHANT_NOTIFY_ALLOW_LOOPBACK`). Link-local and reserved addresses
    /// are refused regardless.
    pub merchant_notify_allow_loopback: bool,
    /// A bearer token for `GET /metrics` (`PAYDESK_METRICS_TOKEN`); without it, only
    /// direct connections from this machine may read metrics.
    pub metrics_token: Option<String>,
    /// The shop's name, printed at the top of receipts (`PAYDESK_SHOP_NAME`); without it,
    /// receipts are headed by the product's name.
    pub shop_name: Option<String>,
    /// Per-address limits for unauthenticated endpoints (`PAYDESK_LOGIN_PER_MINUTE`, …).
    #[serde(flatten)]
    pub rate_limits: crate::rate_limit::RateLimitSettings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            database_url: None,
            data_dir: PathBuf::from("data"),
            site_root: PathBuf::from("target/site"),
            log_format: LogFormat::Text,
            session_idle_minutes: 8 * 60,
            session_max_hours: 7 * 24,
            order_expiry_minutes: 15,
            code_wait_seconds: 60,
            merchant_notify_allow_loopback: false,
            metrics_token: None,
            shop_name: None,
            rate_limits: crate::rate_limit::RateLimitSettings::default(),
        }
    }
}

// Database URLs carry passwords; never print them.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("data_dir", &self.data_dir)
            .field("site_root", &self.site_root)
            .field("log_format", &self.log_format)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_max_hours", &self.session_max_hours)
            .field("order_expiry_minutes", &self.order_expiry_minutes)
            .field("code_wait_seconds", &self.code_wait_seconds)
            .field(
                "merchant_notify_allow_loopback",
                &self.merchant_notify_allow_loopback,
            )
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<set>"),
            )
            .field("shop_name", &self.shop_name)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

/// Configuration after validation: what the rest of the program uses.
#[derive(Clone, Debug)]
pub struct Config {
    pub settings: Settings,
    pub public_url: Url,
    pub database_url: String,
}

#[derive(Debug, thiserror::Error)]
#[error("bad configuration: {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.to_string(),
            problem: problem.into(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (if it exists), then the environment.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let figment = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("PAYDESK_").ignore(&["MASTER_KEY"]));
        let settings: Settings = figment.extract().map_err(|e| {
            let key = e
                .path
                .last()
                .map(|k| format!("{k} (PAYDESK_{})", k.to_uppercase()));
            ConfigError::new(
                &key.unwrap_or_else(|| file.display().to_string()),
                e.kind.to_string(),
            )
        })?;
        Config::from_settings(settings)
    }

    pub fn from_settings(settings: Settings) -> Result<Config, ConfigError> {
        let public_url = match &settings.public_url {
            Some(raw) => {
                let url = Url::parse(raw).map_err(|e| {
                    ConfigError::new(
                        "public_url (PAYDESK_PUBLIC_URL)",
                        format!("`{raw}` is not a URL: {e}"),
                    )
                })?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(ConfigError::new(
                        "public_url (PAYDESK_PUBLIC_URL)",
                        "must be an http:// or https:// URL",
                    ));
                }
                url
            }
            None => Url::parse(&format!("http://{}/", settings.addr))
                .map_err(|e| ConfigError::new("addr (PAYDESK_ADDR)", e.to_string()))?,
        };
        let database_url = match &settings.database_url {
            Some(u)
                if u.starts_with("sqlite:")
                    || u.starts_with("postgres://")
                    || u.starts_with("postgresql://") =>
            {
                u.clone()
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "database_url (PAYDESK_DATABASE_URL)",
                    "must start with sqlite:// or postgres://",
                ));
            }
            None => format!(
                "sqlite://{}?mode=rwc",
                settings.data_dir.join("paydesk.db").display()
            ),
        };
        if settings.session_idle_minutes == 0 {
            return Err(ConfigError::new(
                "session_idle_minutes",
                "must be at least 1",
            ));
        }
        if settings.session_max_hours == 0 {
            return Err(ConfigError::new(
                "session_max_hours (PAYDESK_SESSION_MAX_HOURS)",
                "must be at least 1",
            ));
        }
        if !(1..=120).contains(&settings.order_expiry_minutes) {
            return Err(ConfigError::new(
                "order_expiry_minutes (PAYDESK_ORDER_EXPIRY_MINUTES)",
                "must be 1 to 120",
            ));
        }
        if !(10..=120).contains(&settings.code_wait_seconds) {
            return Err(ConfigError::new(
                "code_wait_seconds (PAYDESK_CODE_WAIT_SECONDS)",
                "must be 10 to 120",
            ));
        }
        Ok(Config {
            settings,
            public_url,
            database_url,
        })
    }

    pub fn cookies_secure(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::result_large_err)] // figment::Jail's closure signature is fixed
    fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce(&mut figment::Jail) -> T) -> T {
        let mut out = None;
        figment::Jail::expect_with(|jail| {
            for (k, v) in vars {
                jail.set_env(k, v);
            }
            out = Some(f(jail));
            Ok(())
        });
        out.expect("jail ran")
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = with_env(&[], |_| {
            Config::load(Path::new("paydesk.toml")).expect("loads")
        });
        assert_eq!(c.settings.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url.as_str(), "http://127.0.0.1:3000/");
        assert_eq!(c.database_url, "sqlite://data/paydesk.db?mode=rwc");
        assert!(!c.cookies_secure());
    }

    #[test]
    fn environment_beats_file_beats_defaults() {
        let c = with_env(
            &[
                ("PAYDESK_ADDR", "0.0.0.0:8080"),
                ("PAYDESK_PUBLIC_URL", "https://pay.example.com"),
            ],
            |jail| {
                jail.create_file(
                    "paydesk.toml",
                    "addr = \"127.0.0.1:9000\"\ndata_dir = \"/srv/paydesk\"\n",
                )
                .expect("file");
                Config::load(Path::new("paydesk.toml")).expect("loads")
            },
        );
        assert_eq!(c.settings.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(c.settings.data_dir, PathBuf::from("/srv/paydesk"));
        assert_eq!(c.database_url, "sqlite:///srv/paydesk/paydesk.db?mode=rwc");
        assert!(c.cookies_secure());
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = with_env(&[("PAYDESK_ADDR", "not-an-address")], |_| {
            Config::load(Path::new("x.toml")).err()
        });
        let msg = e.expect("fails").to_string();
        assert!(msg.contains("PAYDESK_ADDR"), "{msg}");
        let e = with_env(&[("PAYDESK_DATABASE_URL", "mysql://x")], |_| {
            Config::load(Path::new("x.toml")).err()
        });
        assert!(
            e.expect("fails")
                .to_string()
                .contains("PAYDESK_DATABASE_URL")
        );
        let e = with_env(&[("PAYDESK_PUBLIC_URL", "ftp://x")], |_| {
            Config::load(Path::new("x.toml")).err()
        });
        assert!(e.expect("fails").to_string().contains("PAYDESK_PUBLIC_URL"));
    }

    #[test]
    fn debug_hides_the_database_url() {
        let s = Settings {
            database_url: Some("postgres://u:secretpw@h/db".into()),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("secretpw"));
    }
}
