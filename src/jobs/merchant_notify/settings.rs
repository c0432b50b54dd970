//! The worker's settings: the retry schedule (with its jitter), timeouts, lease and batch
//! sizes.

use std::time::Duration;

/// The waits before the 2nd, 3rd, … attempt: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m,
/// 60m, 3h, 3h, 3h, 6h, 6h — about 24 hours and 16 attempts in all.
pub fn default_schedule() -> Vec<Duration> {
    let s = Duration::from_secs;
    let m = |n: u64| s(60 * n);
    vec![
        s(15),
        s(15),
        s(30),
        m(3),
        m(10),
        m(20),
        m(30),
        m(30),
        m(30),
        m(60),
        m(180),
        m(180),
        m(180),
        m(360),
        m(360),
    ]
}

#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// The waits between attempts; when they run out the notification is marked failed.
    pub schedule: Vec<Duration>,
    /// Each wait is lengthened by a random 0..=`jitter_percent` % of itself, so that
    /// notifications that failed together do not all come back at the same instant.
    pub jitter_percent: u32,
    pub connect_timeout: Duration,
    /// Per attempt: connecting, sending and reading the answer.
    pub timeout: Duration,
    /// How long a claimed notification is reserved for the worker that claimed it: another
    /// worker may send it once this runs out. Must outlast a whole round — a claimed
    /// notification may wait for a free send slot first — so it is raised to at least
    /// `timeout` × ⌈`batch` / `concurrency`⌉ + 10 s.
    pub lease: Duration,
    /// Notifications claimed per round.
    pub batch: usize,
    /// Sends in flight at once, per round.
    pub concurrency: usize,
    /// How often [`MerchantNotifier::run`](super::MerchantNotifier::run) looks for due notifications.
    pub poll_interval: Duration,
    /// Deliver to loopback addresses (`127.0.0.1`, `localhost`): development and tests
    /// only. Link-local and reserved addresses are never allowed (see `address_guard`).
    pub allow_loopback: bool,
}

impl Default for NotifierSettings {
    fn default() -> Self {
        NotifierSettings {
            schedule: default_schedule(),
            jitter_percent: 10,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            lease: Duration::from_secs(120),
            batch: 32,
            concurrency: 16,
            poll_interval: Duration::from_secs(1),
            allow_loopback: false,
        }
    }
}

pub(super) fn jittered(wait: Duration, percent: u32) -> Duration {
    use rand::Rng;
    let max_extra = wait.as_millis().saturating_mul(u128::from(percent)) / 100;
    let max_extra = u64::try_from(max_extra).unwrap_or(u64::MAX);
    if max_extra == 0 {
        return wait;
    }
    wait.saturating_add(Duration::from_millis(
        rand::thread_rng().gen_range(0..=max_extra),
    ))
}

pub(super) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_lasts_about_a_day() {
        let total: Duration = default_schedule().iter().sum();
        let hours = total.as_secs_f64() / 3600.0;
        assert!((20.0..=26.0).contains(&hours), "{hours} h");
        let w = Duration::from_secs(100);
        for _ in 0..100 {
            let j = jittered(w, 10);
            assert!(j >= w && j <= Duration::from_secs(110), "{j:?}");
        }
        assert_eq!(
            jittered(Duration::from_millis(5), 10),
            Duration::from_millis(5)
        );
    }
}
