//! Failed-login throttling: per account and per client address.
//!
//! A few failures are free (typos). After that every further attempt on the key is
//! slowed down, doubling each time; after `lock_after` failures within the window the key
//! is locked for `lock_ms` and attempts are refused without checking the password, so a
//! locked account cannot be brute-forced at all.

use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures counted within this window; an older window starts over.
    pub window_ms: i64,
    /// Failures before responses start being slowed down.
    pub free_failures: i64,
    /// First delay; doubles with each further failure, capped at `max_delay_ms`.
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// Failures (per account) that lock the account.
    pub lock_after_user: i64,
    /// Failures (per address) that lock the address: higher, since offices share one.
    pub lock_after_ip: i64,
    pub lock_ms: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window_ms: 15 * 60_000,
            free_failures: 3,
            base_delay_ms: 250,
            max_delay_ms: 4_000,
            lock_after_user: 10,
            lock_after_ip: 30,
            lock_ms: 15 * 60_000,
        }
    }
}

/// What to do with a login attempt before the password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead, after waiting this long (0 when nothing suspicious happened).
    Proceed { delay_ms: u64 },
    /// Refuse; the lock lifts at this time (ms since epoch).
    Locked { until: i64 },
}

pub(crate) fn user_key(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

pub(crate) fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

impl ThrottlePolicy {
    /// Delay owed after `failures` failures.
    pub fn delay_ms(&self, failures: i64) -> u64 {
        if failures < self.free_failures {
            return 0;
        }
        let doublings = (failures - self.free_failures).clamp(0, 16) as u32;
        self.base_delay_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_delay_ms)
    }

    /// Looks at the account and address keys before an attempt.
    pub async fn check(
        &self,
        store: &Store,
        username: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Verdict, StoreError> {
        let mut keys = vec![user_key(username)];
        keys.extend(ip.map(ip_key));
        let mut delay = 0;
        for key in keys {
            let s = store.throttle_state(&key).await?;
            if s.locked_until > now {
                return Ok(Verdict::Locked {
                    until: s.locked_until,
                });
            }
            if s.window_start > now - self.window_ms {
                delay = delay.max(self.delay_ms(s.failures));
            }
        }
        Ok(Verdict::Proceed { delay_ms: delay })
    }

    /// Counts a failed attempt on both keys and locks whichever passed its limit.
    pub async fn record_failure(
        &self,
        store: &Store,
        username: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let key = user_key(username);
        if store
            .throttle_record_failure(&key, now, self.window_ms)
            .await?
            >= self.lock_after_user
        {
            store.throttle_lock(&key, now + self.lock_ms).await?;
        }
        if let Some(ip) = ip {
            let key = ip_key(ip);
            if store
                .throttle_record_failure(&key, now, self.window_ms)
                .await?
                >= self.lock_after_ip
            {
                store.throttle_lock(&key, now + self.lock_ms).await?;
            }
        }
        Ok(())
    }

    /// A successful login forgives the account's failures (not the address's: one good
    /// password must not reset a guessing run against other accounts).
    pub async fn record_success(&self, store: &Store, username: &str) -> Result<(), StoreError> {
        store.throttle_clear(&user_key(username)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_after_free_failures_and_is_capped() {
        let p = ThrottlePolicy::default();
        assert_eq!((0..3).map(|n| p.delay_ms(n)).collect::<Vec<_>>(), [0, 0, 0]);
        assert_eq!(p.delay_ms(3), 250);
        assert_eq!(p.delay_ms(4), 500);
        assert_eq!(p.delay_ms(6), 2000);
        assert_eq!(p.delay_ms(9), 4000);
        assert_eq!(p.delay_ms(1000), 4000);
    }

    #[test]
    fn keys_fold_username_case() {
        assert_eq!(user_key(" Admin "), "user:admin");
        assert_eq!(ip_key("127.0.0.1"), "ip:127.0.0.1");
    }
}
