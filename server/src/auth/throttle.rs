//! Login throttling: after `max_failures` failed logins for one user name or one client, further
//! tries are refused for a lockout that doubles with each further failure, up to `max_lockout`.
//! Each attempt is counted as it starts, under one lock with the check, so parallel attempts
//! cannot all slip past; a success clears the counts, and counts idle for `max_lockout` lapse.
//! Kept in memory: it is a rate limit, not data.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub first_lockout: Duration,
    pub max_lockout: Duration,
}

impl ThrottlePolicy {
    /// The lockout after the `failures`-th consecutive failure, if any.
    pub fn lockout(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.max_failures)?;
        let factor = 1u32.checked_shl(over.min(20)).unwrap_or(u32::MAX);
        Some(
            self.first_lockout
                .saturating_mul(factor)
                .min(self.max_lockout),
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_attempt: Instant,
    locked_until: Option<Instant>,
}

/// Entries kept before stale ones are swept, so a flood of names cannot grow memory forever.
const SWEEP_AT: usize = 10_000;

pub struct LoginThrottle {
    policy: ThrottlePolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a login attempt: `Err(seconds)` while any of `keys` is locked out, otherwise the
    /// attempt is counted as a failure until [`record_success`](Self::record_success) says not.
    pub fn begin_attempt(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let idle = self.policy.max_lockout;
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        if let Some(wait) = wait {
            return Err(wait.as_secs_f64().ceil() as u64);
        }
        if entries.len() >= SWEEP_AT {
            entries.retain(|_, e| now.saturating_duration_since(e.last_attempt) < idle);
        }
        for key in keys {
            let entry = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last_attempt: now,
                locked_until: None,
            });
            if now.saturating_duration_since(entry.last_attempt) >= idle {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_attempt = now;
            entry.locked_until = self.policy.lockout(entry.failures).map(|d| now + d);
        }
        Ok(())
    }

    pub fn record_success(&self, keys: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        max_failures: 3,
        first_lockout: Duration::from_secs(30),
        max_lockout: Duration::from_secs(900),
    };

    #[test]
    fn lockout_doubles_up_to_the_cap() {
        assert_eq!(POLICY.lockout(2), None);
        assert_eq!(POLICY.lockout(3), Some(Duration::from_secs(30)));
        assert_eq!(POLICY.lockout(4), Some(Duration::from_secs(60)));
        assert_eq!(POLICY.lockout(8), Some(Duration::from_secs(900)));
        assert_eq!(POLICY.lockout(u32::MAX), Some(Duration::from_secs(900)));
    }

    #[test]
    fn locks_after_max_failures_and_clears_on_success() {
        let throttle = LoginThrottle::new(POLICY);
        let keys = vec!["user:alice".to_owned()];
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.begin_attempt(&keys, start), Ok(()));
        }
        assert_eq!(throttle.begin_attempt(&keys, start), Err(30));
        let later = start + Duration::from_secs(31);
        assert_eq!(throttle.begin_attempt(&keys, later), Ok(()));
        throttle.record_success(&keys);
        assert_eq!(throttle.begin_attempt(&keys, later), Ok(()));
        assert_eq!(throttle.begin_attempt(&keys, later), Ok(()));
    }

    #[test]
    fn failures_lapse_after_a_quiet_spell() {
        let throttle = LoginThrottle::new(POLICY);
        let keys = vec!["client:10.0.0.1".to_owned()];
        let start = Instant::now();
        throttle.begin_attempt(&keys, start).unwrap();
        throttle.begin_attempt(&keys, start).unwrap();
        let quiet = start + POLICY.max_lockout;
        for _ in 0..3 {
            assert_eq!(throttle.begin_attempt(&keys, quiet), Ok(()));
        }
        assert!(throttle.begin_attempt(&keys, quiet).is_err());
    }
}
