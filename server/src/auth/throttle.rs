//! Login throttling: after `max_failures` failed logins for one user name or one client, further
//! tries are refused for a lockout that doubles with each further failure, up to `max_lockout`.
//! Each attempt is counted as it starts, in one write with the check, so parallel attempts
//! cannot all slip past; a success clears the counts, and counts idle for `max_lockout` lapse.
//! The counts are in the database, so failures through every hub sharing it add up.

use std::time::Duration;

use sea_orm::DbErr;

use crate::storage::{Db, login_failures};

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

/// The throttle: its policy over the counts in the database, which every hub sharing it
/// reads and writes.
pub struct LoginThrottle {
    policy: ThrottlePolicy,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self { policy }
    }

    /// Starts a login attempt at `now` (Unix milliseconds): `Ok(Err(seconds))` while any of
    /// `keys` is locked out, otherwise the attempt is counted as a failure until
    /// [`record_success`](Self::record_success) says not.
    pub async fn begin_attempt(
        &self,
        db: &Db,
        keys: &[String],
        now: i64,
    ) -> Result<Result<(), u64>, DbErr> {
        let policy = self.policy;
        let counted = login_failures::count_attempt(
            db,
            keys.to_vec(),
            now,
            millis(policy.max_lockout),
            move |failures| policy.lockout(failures).map(millis),
        )
        .await?;
        Ok(counted.map_err(|wait_ms| (wait_ms as u64).div_ceil(1000)))
    }

    pub async fn record_success(&self, db: &Db, keys: &[String]) -> Result<(), DbErr> {
        login_failures::clear(db, keys.to_vec()).await
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
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

    #[tokio::test]
    async fn locks_after_max_failures_and_clears_on_success() {
        let (_dir, db) = Db::open_temp().await;
        let throttle = LoginThrottle::new(POLICY);
        let keys = vec!["user:alice".to_owned()];
        let attempt = |now| throttle.begin_attempt(&db, &keys, now);
        let start = 1_000_000;
        for _ in 0..3 {
            assert_eq!(attempt(start).await.unwrap(), Ok(()));
        }
        assert_eq!(attempt(start).await.unwrap(), Err(30));
        let later = start + 31_000;
        assert_eq!(attempt(later).await.unwrap(), Ok(()));
        throttle.record_success(&db, &keys).await.unwrap();
        assert_eq!(attempt(later).await.unwrap(), Ok(()));
        assert_eq!(attempt(later).await.unwrap(), Ok(()));
    }

    #[tokio::test]
    async fn attempts_at_once_are_all_counted() {
        let (_dir, db) = Db::open_temp().await;
        let throttle = LoginThrottle::new(POLICY);
        let keys = vec!["user:alice".to_owned(), "client:10.0.0.1".to_owned()];
        let attempts = (0..8).map(|_| throttle.begin_attempt(&db, &keys, 5_000));
        let allowed = futures::future::join_all(attempts)
            .await
            .into_iter()
            .filter(|answer| matches!(answer, Ok(Ok(()))))
            .count();
        assert_eq!(allowed, POLICY.max_failures as usize);
    }

    #[tokio::test]
    async fn failures_lapse_after_a_quiet_spell() {
        let (_dir, db) = Db::open_temp().await;
        let throttle = LoginThrottle::new(POLICY);
        let keys = vec!["client:10.0.0.1".to_owned()];
        let attempt = |now| throttle.begin_attempt(&db, &keys, now);
        let start = 1_000_000;
        attempt(start).await.unwrap().unwrap();
        attempt(start).await.unwrap().unwrap();
        let quiet = start + POLICY.max_lockout.as_millis() as i64;
        for _ in 0..3 {
            assert_eq!(attempt(quiet).await.unwrap(), Ok(()));
        }
        assert!(attempt(quiet).await.unwrap().is_err());
    }
}
