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

impl Verdict {
    /// Both keys' verdicts together: locked if either is, else the longer delay.
    fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Locked { until: a }, Verdict::Locked { until: b }) => {
                Verdict::Locked { until: a.max(b) }
            }
            (l @ Verdict::Locked { .. }, _) | (_, l @ Verdict::Locked { .. }) => l,
            (Verdict::Proceed { delay_ms: a }, Verdict::Proceed { delay_ms: b }) => {
                Verdict::Proceed { delay_ms: a.max(b) }
            }
        }
    }
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

    /// Counts this attempt against both keys *before* its password is checked, and says
    /// whether it may be checked at all.
    ///
    /// Why before: counting after the check let a burst of N concurrent guesses all pass
    /// the lock test before any of them was recorded, so one burst tested N passwords.
    /// Counting first is one atomic statement per key, so of N concurrent attempts exactly
    /// those numbered up to the limit are checked and the rest are refused unchecked. The
    /// attempt that reaches the limit locks the key; a success then lifts the account's
    /// lock and failures ([`ThrottlePolicy::record_success`]).
    pub async fn reserve(
        &self,
        store: &Store,
        username: &str,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Verdict, StoreError> {
        if let Verdict::Locked { until } = self.check(store, username, ip, now).await? {
            return Ok(Verdict::Locked { until });
        }
        let mut keys = vec![(user_key(username), self.lock_after_user)];
        keys.extend(ip.map(|ip| (ip_key(ip), self.lock_after_ip)));
        let mut verdict = Verdict::Proceed { delay_ms: 0 };
        for (key, limit) in keys {
            let failures = store
                .throttle_record_failure(&key, now, self.window_ms)
                .await?;
            verdict = verdict.and(self.judge(failures, limit, now));
            if failures >= limit {
                store.throttle_lock(&key, now + self.lock_ms).await?;
            }
        }
        Ok(verdict)
    }

    /// The verdict for the attempt that made `failures` (this one included) on a key
    /// that locks after `limit`.
    pub fn judge(&self, failures: i64, limit: i64, now: i64) -> Verdict {
        if failures > limit {
            Verdict::Locked {
                until: now + self.lock_ms,
            }
        } else {
            Verdict::Proceed {
                delay_ms: self.delay_ms(failures - 1),
            }
        }
    }

    /// A successful login forgives the account's failures (not the address's: one good
    /// password must not reset a guessing run against other accounts).
    /// The address gets back the attempt [`ThrottlePolicy::reserve`] counted.
    pub async fn record_success(
        &self,
        store: &Store,
        username: &str,
        ip: Option<&str>,
    ) -> Result<(), StoreError> {
        store.throttle_clear(&user_key(username)).await?;
        if let Some(ip) = ip {
            store.throttle_forgive(&ip_key(ip)).await?;
        }
        Ok(())
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
    fn attempts_past_the_limit_are_refused_unchecked() {
        let p = ThrottlePolicy::default();
        assert_eq!(p.judge(1, 10, 0), Verdict::Proceed { delay_ms: 0 });
        assert_eq!(p.judge(10, 10, 0), Verdict::Proceed { delay_ms: 4000 });
        assert_eq!(
            p.judge(11, 10, 5),
            Verdict::Locked {
                until: 5 + p.lock_ms
            }
        );
        let both = Verdict::Proceed { delay_ms: 9 }.and(Verdict::Locked { until: 3 });
        assert_eq!(both, Verdict::Locked { until: 3 });
    }

    #[test]
    fn keys_fold_username_case() {
        assert_eq!(user_key(" Admin "), "user:admin");
        assert_eq!(ip_key("127.0.0.1"), "ip:127.0.0.1");
    }
}
