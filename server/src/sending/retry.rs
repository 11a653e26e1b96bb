//! What to do after an attempt: the retry policy as pure functions.
//!
//! A delivery is tried immediately, then again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
//! 10 h (eight attempts in about 28 hours), each wait spread by ±20 % so endpoints that failed
//! together are not retried in lockstep. A `2xx` is success; `410 Gone` means the endpoint is
//! gone for good and its subscription is disabled; anything else (other statuses, `3xx` since
//! redirects are not followed, no response at all) is retried until the schedule runs out.
//! Time and randomness are passed in, so every branch tests exactly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::RETRY_AFTER;

use crate::outbound::AttemptResult;

/// When attempts happen. `delays[0]` is the wait before the first attempt, `delays[n]` the wait
/// after attempt `n` failed; the schedule allows `delays.len()` attempts in all.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    pub delays: Vec<Duration>,
    /// Each wait is multiplied by a factor in `[1 - jitter, 1 + jitter)`; kept within `[0, 1]`.
    pub jitter: f64,
    /// The longest wait a `Retry-After` header can impose; see [`decide`].
    pub max_retry_after: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 60 * MIN;
        Self::new(
            [
                0,
                5,
                5 * MIN,
                30 * MIN,
                2 * HOUR,
                5 * HOUR,
                10 * HOUR,
                10 * HOUR,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
        )
    }
}

impl RetrySchedule {
    pub const DEFAULT_JITTER: f64 = 0.2;
    /// The default cap on `Retry-After`: as long as the longest step of the default schedule,
    /// so an endpoint cannot park a delivery for longer than hookhub itself would wait.
    pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(10 * 60 * 60);

    /// A schedule with these waits, the default jitter and the default `Retry-After` cap.
    pub fn new(delays: Vec<Duration>) -> Self {
        Self {
            delays,
            jitter: Self::DEFAULT_JITTER,
            max_retry_after: Self::DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// How many attempts a delivery gets before hookhub gives up.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX)
    }

    /// The wait before attempt number `attempt` (counted from 1), with jitter applied from
    /// `sample`, a uniform random number in `[0, 1)` (`rand::random::<f64>()` in production,
    /// a fixed value in tests; 0.5 means no jitter). `None` once the schedule is exhausted.
    pub fn delay_before(&self, attempt: u32, sample: f64) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        let base = *self.delays.get(index)?;
        Some(jittered(base, self.jitter, sample))
    }
}

fn jittered(base: Duration, jitter: f64, sample: f64) -> Duration {
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let sample = if sample.is_finite() {
        sample.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let factor = 1.0 + jitter * (2.0 * sample - 1.0);
    // Float-to-integer `as` saturates, so a huge base cannot overflow here.
    let millis = (base.as_millis() as f64 * factor).round() as u64;
    Duration::from_millis(millis)
}

/// What came back from one attempt, as far as the retry policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered with this status (and maybe a parsed `Retry-After`).
    Responded {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer: DNS failure, connection refused or reset, TLS failure, timeout, or the
    /// address was refused by the outbound guard (the name may resolve elsewhere later).
    NoResponse,
}

impl AttemptOutcome {
    /// An attempt's result as the retry policy sees it. An answer counts by its status even if
    /// reading its body then failed: the endpoint has already said what it did with the message.
    pub fn of(result: &AttemptResult, now_millis: i64) -> Self {
        match result.status {
            Some(status) => Self::Responded {
                status,
                retry_after: result
                    .headers
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| parse_retry_after(value, now_millis)),
            },
            None => Self::NoResponse,
        }
    }
}

/// The next step for a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The endpoint accepted the message; the delivery is done.
    Delivered,
    /// Try again at this time, in Unix milliseconds.
    RetryAt(i64),
    /// The schedule is exhausted; the delivery failed for good (a person may redeliver).
    GiveUp,
    /// Stop sending to this subscription at all; `reason` is fit to show on the dashboard.
    Disable { reason: String },
}

/// The retry policy. `attempt` is the number of the attempt just made (1 for the first),
/// `now_millis` the Unix time in milliseconds, `sample` a uniform random number in `[0, 1)`.
///
/// - `2xx` → [`Decision::Delivered`].
/// - `410 Gone` → [`Decision::Disable`], whatever the attempt, as the Standard Webhooks spec
///   recommends: the receiver has said the endpoint no longer exists.
/// - anything else → [`Decision::RetryAt`] the next step of the schedule, or
///   [`Decision::GiveUp`] when there is none.
///
/// `Retry-After` bounds: it can postpone the next attempt but never bring it forward (a value
/// shorter than the scheduled wait is ignored, so an endpoint cannot make hookhub burn through
/// its attempts), and it can postpone by at most `schedule.max_retry_after`. It never grants
/// extra attempts.
pub fn decide(
    schedule: &RetrySchedule,
    attempt: u32,
    outcome: AttemptOutcome,
    now_millis: i64,
    sample: f64,
) -> Decision {
    let retry_after = match outcome {
        AttemptOutcome::Responded { status, .. } if (200..300).contains(&status) => {
            return Decision::Delivered;
        }
        AttemptOutcome::Responded { status: 410, .. } => {
            return Decision::Disable {
                reason: "the endpoint answered 410 Gone, meaning it no longer accepts webhooks"
                    .to_owned(),
            };
        }
        AttemptOutcome::Responded { retry_after, .. } => retry_after,
        AttemptOutcome::NoResponse => None,
    };
    let Some(scheduled) = schedule.delay_before(attempt.saturating_add(1), sample) else {
        return Decision::GiveUp;
    };
    let requested = retry_after
        .unwrap_or(Duration::ZERO)
        .min(schedule.max_retry_after);
    let wait = scheduled.max(requested);
    let wait_millis = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
    Decision::RetryAt(now_millis.saturating_add(wait_millis))
}

/// Reads a `Retry-After` value: delta-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015
/// 07:28:00 GMT`, or the obsolete RFC 850 and asctime forms). A date in the past means no
/// wait. Unreadable values give `None`, as if the header were absent. The result is not yet
/// bounded; [`decide`] applies the bounds.
pub fn parse_retry_after(value: &str, now_millis: i64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to fit is still a (very long) wait; `decide` caps it.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let date_millis = match date.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(_) => return Some(Duration::ZERO),
    };
    let ahead = date_millis.saturating_sub(now_millis);
    Some(Duration::from_millis(u64::try_from(ahead).unwrap_or(0)))
}

/// The current Unix time in milliseconds, for callers of [`decide`] and [`parse_retry_after`].
pub fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: Option<u16>, headers: &[(&'static str, &'static str)]) -> AttemptResult {
        AttemptResult {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (http::HeaderName::from_static(name), value.parse().unwrap()))
                .collect(),
            body: Vec::new(),
            body_truncated: false,
            duration: Duration::ZERO,
            error: None,
        }
    }

    #[test]
    fn an_answer_counts_by_its_status_and_retry_after() {
        assert_eq!(
            AttemptOutcome::of(&answered(Some(503), &[("retry-after", "120")]), NOW),
            AttemptOutcome::Responded {
                status: 503,
                retry_after: Some(secs(120)),
            }
        );
        assert_eq!(
            AttemptOutcome::of(&answered(Some(200), &[("retry-after", "soon")]), NOW),
            AttemptOutcome::Responded {
                status: 200,
                retry_after: None,
            }
        );
        assert_eq!(
            AttemptOutcome::of(&answered(None, &[]), NOW),
            AttemptOutcome::NoResponse
        );
    }

    const NOW: i64 = 1_700_000_000_000;
    const NO_JITTER: f64 = 0.5;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn status(status: u16) -> AttemptOutcome {
        AttemptOutcome::Responded {
            status,
            retry_after: None,
        }
    }

    fn fast() -> RetrySchedule {
        RetrySchedule::new(vec![
            Duration::ZERO,
            Duration::from_millis(10),
            Duration::from_millis(20),
        ])
    }

    #[test]
    fn default_schedule_is_the_documented_one() {
        let schedule = RetrySchedule::default();
        let waits: Vec<u64> = (1..=8)
            .map(|n| schedule.delay_before(n, NO_JITTER).unwrap().as_secs())
            .collect();
        assert_eq!(
            waits,
            [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000],
            "immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h"
        );
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(schedule.delay_before(9, NO_JITTER), None);
        assert_eq!(schedule.delay_before(0, NO_JITTER), None);
    }

    #[test]
    fn jitter_spreads_waits_by_twenty_percent_either_way() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.delay_before(2, 0.0), Some(secs(4)));
        assert_eq!(schedule.delay_before(2, 0.75), Some(secs(5) + secs(1) / 2));
        assert_eq!(schedule.delay_before(3, 0.999_999), Some(secs(360)));
        assert_eq!(schedule.delay_before(1, 0.0), Some(Duration::ZERO));
    }

    #[test]
    fn nonsense_jitter_inputs_stay_within_bounds() {
        let mut schedule = RetrySchedule::default();
        assert_eq!(schedule.delay_before(2, f64::NAN), Some(secs(5)));
        assert_eq!(schedule.delay_before(2, 7.0), Some(secs(6)));
        schedule.jitter = -3.0;
        assert_eq!(schedule.delay_before(2, 0.0), Some(secs(5)));
        schedule.jitter = f64::INFINITY;
        assert_eq!(schedule.delay_before(2, 0.0), Some(secs(5)));
    }

    #[test]
    fn success_statuses_are_delivered() {
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(
                decide(&fast(), 1, status(code), NOW, NO_JITTER),
                Decision::Delivered
            );
        }
    }

    #[test]
    fn success_on_the_last_attempt_is_still_delivered() {
        assert_eq!(
            decide(&fast(), 3, status(200), NOW, NO_JITTER),
            Decision::Delivered
        );
    }

    #[test]
    fn gone_disables_the_subscription_with_a_reason() {
        let Decision::Disable { reason } = decide(&fast(), 1, status(410), NOW, NO_JITTER) else {
            panic!("410 must disable");
        };
        assert!(reason.contains("410 Gone"));
    }

    #[test]
    fn failures_retry_on_schedule_then_give_up() {
        let schedule = fast();
        for outcome in [
            status(500),
            status(404),
            status(429),
            status(301),
            status(199),
            AttemptOutcome::NoResponse,
        ] {
            assert_eq!(
                decide(&schedule, 1, outcome, NOW, NO_JITTER),
                Decision::RetryAt(NOW + 10),
                "{outcome:?}"
            );
            assert_eq!(
                decide(&schedule, 2, outcome, NOW, NO_JITTER),
                Decision::RetryAt(NOW + 20)
            );
            assert_eq!(
                decide(&schedule, 3, outcome, NOW, NO_JITTER),
                Decision::GiveUp
            );
        }
    }

    #[test]
    fn retry_after_postpones_but_never_hastens() {
        let schedule = RetrySchedule::default();
        let asks = |wait| AttemptOutcome::Responded {
            status: 503,
            retry_after: Some(wait),
        };
        assert_eq!(
            decide(&schedule, 1, asks(secs(60)), NOW, NO_JITTER),
            Decision::RetryAt(NOW + 60_000)
        );
        assert_eq!(
            decide(&schedule, 2, asks(secs(1)), NOW, NO_JITTER),
            Decision::RetryAt(NOW + 300_000)
        );
    }

    #[test]
    fn retry_after_is_capped_and_grants_no_extra_attempts() {
        let mut schedule = fast();
        schedule.max_retry_after = secs(30);
        let asks_a_week = AttemptOutcome::Responded {
            status: 429,
            retry_after: Some(secs(7 * 24 * 3600)),
        };
        assert_eq!(
            decide(&schedule, 1, asks_a_week, NOW, NO_JITTER),
            Decision::RetryAt(NOW + 30_000)
        );
        assert_eq!(
            decide(&schedule, 3, asks_a_week, NOW, NO_JITTER),
            Decision::GiveUp
        );
    }

    #[test]
    fn parses_delta_seconds() {
        assert_eq!(parse_retry_after("120", NOW), Some(secs(120)));
        assert_eq!(parse_retry_after(" 0 ", NOW), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", NOW),
            Some(secs(u64::MAX))
        );
    }

    #[test]
    fn parses_http_dates_relative_to_now() {
        // 1994-11-06 08:49:37 UTC
        let now = 784_111_777_000;
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now),
            Some(secs(120))
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now),
            Some(secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:47 1994", now),
            Some(secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means no wait"
        );
    }

    #[test]
    fn unreadable_retry_after_is_ignored() {
        for value in [
            "",
            "soon",
            "-5",
            "1.5",
            "Sun, 99 Nov 1994 08:49:37 GMT",
            "12 s",
        ] {
            assert_eq!(parse_retry_after(value, NOW), None, "{value:?}");
        }
    }

    #[test]
    fn unix_millis_counts_from_the_epoch() {
        assert_eq!(unix_millis(UNIX_EPOCH + Duration::from_millis(1234)), 1234);
        assert_eq!(unix_millis(UNIX_EPOCH - secs(1)), 0);
    }
}
