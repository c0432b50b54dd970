//! How long a dashboard session lives, and a fresh session id at every sign-in.
//!
//! - **Idle timeout, sliding**: a session ends after `idle` without a request. Each request
//!   of a signed-in session pushes its expiry forward, but writes it to the database at most
//!   every [`SessionLimits::touch_every`] (a minute in production), so a busy dashboard does
//!   not write a row per click; the idle limit is therefore exact to within that interval.
//! - **Absolute lifetime**: whatever the activity, a session ends `absolute` after sign-in.
//! - **Fresh id at sign-in** (`start`): a cookie planted by someone else, signed in or not,
//!   never becomes the victim's session.
//!
//! The decision is [`decide`], a pure function of the session's facts and the clock.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use paydesk_core::auth::{AuthSession, SESSION_META_KEY, SessionMeta};
use paydesk_core::store::User;
use paydesk_core::time::now_ms;
use std::time::Duration;

use crate::config::Config;

/// Longest a browser's user-agent string is kept (for the sessions list only).
const USER_AGENT_MAX: usize = 200;

#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

impl SessionLimits {
    pub fn for_config(config: &Config) -> SessionLimits {
        SessionLimits {
            idle: Duration::from_secs(u64::from(config.settings.session_idle_minutes) * 60),
            absolute: Duration::from_secs(u64::from(config.settings.session_max_hours) * 3600),
        }
    }

    /// How stale the stored "last seen" may get before a request refreshes it: a minute,
    /// or a quarter of the idle limit when that is shorter (tests use seconds).
    pub fn touch_every(&self) -> Duration {
        (self.idle / 4).min(Duration::from_secs(60))
    }
}

/// What a request does to the signed-in session it arrives with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// Recently refreshed: nothing to write.
    Keep,
    /// Write these facts back, which also pushes the idle expiry forward.
    Touch(SessionMeta),
    /// Past its absolute lifetime: sign out.
    Expired,
}

/// Pure: the session's facts (None for a session signed in before they were kept), now.
pub fn decide(meta: Option<&SessionMeta>, now: i64, limits: &SessionLimits) -> Lifecycle {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let Some(meta) = meta else {
        return Lifecycle::Touch(SessionMeta {
            signed_in_at: now,
            seen_at: now,
            user_agent: String::new(),
            ip: String::new(),
        });
    };
    if now.saturating_sub(meta.signed_in_at) >= ms(limits.absolute) {
        Lifecycle::Expired
    } else if now.saturating_sub(meta.seen_at) >= ms(limits.touch_every()) {
        Lifecycle::Touch(SessionMeta {
            seen_at: now,
            ..meta.clone()
        })
    } else {
        Lifecycle::Keep
    }
}

/// Middleware (inside the auth layer): applies [`decide`] to every request of a signed-in
/// session. An expired session is signed out before the request is handled, so the
/// request continues as anonymous (pages then go to the sign-in page, server functions
/// answer 401).
pub async fn lifecycle(
    State(limits): State<SessionLimits>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(auth) = req.extensions_mut().get_mut::<AuthSession>()
        && auth.user.is_some()
    {
        let meta: Option<SessionMeta> = auth.session.get(SESSION_META_KEY).await.ok().flatten();
        match decide(meta.as_ref(), now_ms(), &limits) {
            Lifecycle::Keep => {}
            Lifecycle::Touch(meta) => {
                if let Err(e) = auth.session.insert(SESSION_META_KEY, meta).await {
                    tracing::warn!(error = %e, "cannot refresh a session");
                }
            }
            Lifecycle::Expired => {
                let user = auth.logout().await.ok().flatten();
                if let Some(user) = user {
                    tracing::info!(user = %user.username, "session reached its maximum lifetime; signed out");
                }
            }
        }
    }
    next.run(req).await
}

/// Signs `user` in on a fresh session id: an earlier user's session on this browser is
/// ended first (its id could be known to someone else), then the id changes whatever the
/// session was, then the facts for the sessions list are recorded.
pub async fn start(
    auth: &mut AuthSession,
    user: &User,
    user_agent: &str,
    ip: Option<&str>,
) -> Result<(), String> {
    if auth.user.is_some() {
        auth.session.flush().await.map_err(|e| e.to_string())?;
    }
    auth.session.cycle_id().await.map_err(|e| e.to_string())?;
    auth.login(user).await.map_err(|e| e.to_string())?;
    let now = now_ms();
    let meta = SessionMeta {
        signed_in_at: now,
        seen_at: now,
        user_agent: user_agent.chars().take(USER_AGENT_MAX).collect(),
        ip: ip.unwrap_or("").to_string(),
    };
    auth.session
        .insert(SESSION_META_KEY, meta)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SessionLimits {
        SessionLimits {
            idle: Duration::from_secs(8 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
        }
    }

    fn meta(signed_in_at: i64, seen_at: i64) -> SessionMeta {
        SessionMeta {
            signed_in_at,
            seen_at,
            user_agent: "ua".into(),
            ip: "1.2.3.4".into(),
        }
    }

    #[test]
    fn a_used_session_is_refreshed_once_a_minute_and_ends_after_its_lifetime() {
        let l = limits();
        let t0 = 1_000_000_000_000;
        assert_eq!(
            decide(Some(&meta(t0, t0)), t0 + 59_999, &l),
            Lifecycle::Keep
        );
        assert_eq!(
            decide(Some(&meta(t0, t0)), t0 + 60_000, &l),
            Lifecycle::Touch(meta(t0, t0 + 60_000))
        );
        let week = 7 * 24 * 3600 * 1000;
        assert_eq!(
            decide(Some(&meta(t0, t0 + week - 1)), t0 + week, &l),
            Lifecycle::Expired
        );
        assert!(matches!(decide(None, t0, &l), Lifecycle::Touch(m) if m.signed_in_at == t0));
    }

    #[test]
    fn short_idle_limits_refresh_more_often() {
        let l = SessionLimits {
            idle: Duration::from_secs(2),
            absolute: Duration::from_secs(60),
        };
        assert_eq!(l.touch_every(), Duration::from_millis(500));
        assert_eq!(limits().touch_every(), Duration::from_secs(60));
    }
}
