//! The axum-login backend: how a session's user id becomes a `User`, and how a login
//! attempt is judged (throttle first, then argon2id verification).

use super::password::verify_password;
use super::throttle::{ThrottlePolicy, Verdict};
use crate::store::{Store, StoreError, User};
use crate::time::now_ms;
use axum_login::{AuthUser, AuthnBackend, UserId};
use std::time::Duration;

impl AuthUser for User {
    type Id = String;

    fn id(&self) -> String {
        self.id.clone()
    }

    /// Sessions are bound to the password hash: changing a password logs out every
    /// other session of that user.
    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

/// Login form input. `Debug` never shows the password.
#[derive(Clone, serde::Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of one login attempt.
#[derive(Debug)]
pub enum LoginOutcome {
    Success(User),
    /// Wrong name or password, or a disabled account (indistinguishable on purpose).
    Invalid,
    Locked {
        until: i64,
    },
}

#[derive(Clone, Debug)]
pub struct Backend {
    store: Store,
    policy: ThrottlePolicy,
}

// A valid argon2id hash of a random string, checked when the user does not exist so
// that "no such user" takes as long as "wrong password" and names cannot be probed.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vd0hVKN0S1/3Fcb4hVxNb5bxVf2Ra+2p60u66y4n2CY";

impl Backend {
    pub fn new(store: Store, policy: ThrottlePolicy) -> Backend {
        Backend { store, policy }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The throttle that also counts second-factor codes (`twofa`).
    pub fn policy(&self) -> ThrottlePolicy {
        self.policy
    }

    /// Judges one login attempt from `ip` (None when the address is unknown).
    pub async fn attempt(
        &self,
        creds: &Credentials,
        ip: Option<&str>,
    ) -> Result<LoginOutcome, AuthError> {
        let now = now_ms();
        let username = creds.username.trim();
        // Counted before the check, so concurrent guesses cannot outrun the lock.
        match self.policy.reserve(&self.store, username, ip, now).await? {
            Verdict::Locked { until } => return Ok(LoginOutcome::Locked { until }),
            Verdict::Proceed { delay_ms } if delay_ms > 0 => {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            Verdict::Proceed { .. } => {}
        }
        let user = self.store.user_by_name(username).await?;
        let hash = user
            .as_ref()
            .map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone());
        let ok = verify_password(creds.password.clone(), hash).await;
        match user {
            Some(user) if ok && !user.disabled => {
                self.policy
                    .record_success(&self.store, username, ip)
                    .await?;
                self.store
                    .audit(&user.username, "login", &user.username, ip.unwrap_or(""))
                    .await?;
                Ok(LoginOutcome::Success(user))
            }
            _ => {
                self.store
                    .audit(username, "login_failed", username, ip.unwrap_or(""))
                    .await?;
                Ok(LoginOutcome::Invalid)
            }
        }
    }
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = AuthError;

    /// Plain verification without throttling; the login route uses [`Backend::attempt`].
    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, AuthError> {
        let user = self.store.user_by_name(creds.username.trim()).await?;
        let Some(user) = user else { return Ok(None) };
        let ok = verify_password(creds.password, user.password_hash.clone()).await;
        Ok((ok && !user.disabled).then_some(user))
    }

    /// A disabled user is treated as gone, which ends their sessions at the next request.
    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, AuthError> {
        Ok(self.store.user_by_id(id).await?.filter(|u| !u.disabled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_a_real_argon2id_hash() {
        // If it did not parse, unknown users would be answered faster than wrong passwords.
        let parsed = argon2::PasswordHash::new(DUMMY_HASH).expect("parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = Credentials {
            username: "a".into(),
            password: "hunter2hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
