//! Login throttling: after `max_failures` failed logins for one user name or one client, further
//! tries are refused for a lockout that doubles with each further failure, up to `max_lockout`.
//! A success clears the counts. Kept in memory: it is a rate limit, not data.

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

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    failures: u32,
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

    /// `Err(seconds)` while any of `keys` is locked out.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(wait) => Err(wait.as_secs_f64().ceil() as u64),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SWEEP_AT {
            let policy = self.policy;
            entries.retain(|_, e| {
                e.locked_until.is_some_and(|u| u > now) || e.failures >= policy.max_failures
            });
        }
        for key in keys {
            let entry = entries.entry(key.clone()).or_default();
            entry.failures = entry.failures.saturating_add(1);
            entry.locked_until = self.policy.lockout(entry.failures).map(|d| now + d);
        }
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
        for _ in 0..2 {
            throttle.record_failure(&keys, start);
        }
        assert_eq!(throttle.check(&keys, start), Ok(()));
        throttle.record_failure(&keys, start);
        assert_eq!(throttle.check(&keys, start), Err(30));
        assert_eq!(
            throttle.check(&keys, start + Duration::from_secs(31)),
            Ok(())
        );
        throttle.record_success(&keys);
        throttle.record_failure(&keys, start);
        assert_eq!(throttle.check(&keys, start), Ok(()));
    }
}
