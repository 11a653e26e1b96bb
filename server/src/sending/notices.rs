//! Notices before things break: a subscription whose deliveries have failed for a quarter, a
//! half and three quarters of `disable_after`, and one that was disabled for it. Each is
//! recorded (shown on the overview and the subscription's page) and published as a message of a
//! built-in event type, so an operator can point their alerting at it, never to the subscription
//! it is about (an alerting endpoint that fails must not be told about itself, for ever).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use super::credentials::redact_url;
use super::subscriptions::wanting;
use crate::ids::{MessageId, SubscriptionId};
use crate::storage::deliveries::Failing;
use crate::storage::messages::{NewMessage, Recipients};
use crate::storage::notices::{self, NewNotice};
use crate::storage::{Db, now_millis};

pub const FAILING: &str = "hookhub.subscription.failing";
pub const DISABLED: &str = "hookhub.subscription.disabled";

/// The catalog entries of the types hookhub publishes: name, description, example payload.
pub const EVENT_TYPES: [(&str, &str, &str); 2] = [
    (
        FAILING,
        "Sent by hookhub when a subscription's deliveries have failed for a quarter, a half, then \
         three quarters of the time after which it is disabled. Never sent to that subscription.",
        r#"{"subscription":{"id":"sub_1a2b3c4d5e6f7g8h9i0j","url":"https://example.com/hook","description":""},"stage":"half","failing_since":"2026-12-06T08:00:00.000Z","failing_for_seconds":43200,"disable_after_seconds":86400,"last_error":"HTTP 503"}"#,
    ),
    (
        DISABLED,
        "Sent by hookhub when a subscription is disabled after failing for too long. Never sent \
         to that subscription.",
        r#"{"subscription":{"id":"sub_1a2b3c4d5e6f7g8h9i0j","url":"https://example.com/hook","description":""},"stage":"disabled","failing_since":"2026-12-06T08:00:00.000Z","failing_for_seconds":86400,"disable_after_seconds":86400,"last_error":"HTTP 503"}"#,
    ),
];

/// How far into the time before disabling a streak of failures has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Quarter = 1,
    Half = 2,
    ThreeQuarters = 3,
    Disabled = 4,
}

impl Stage {
    /// The stage a streak `failing_for` long has reached; none before a quarter.
    pub fn of(failing_for: Duration, disable_after: Duration) -> Option<Self> {
        let quarters = failing_for.as_millis() * 4 / disable_after.as_millis().max(1);
        match quarters {
            0 => None,
            1 => Some(Self::Quarter),
            2 => Some(Self::Half),
            // Disabling is the batch's own verdict, not a fraction.
            _ => Some(Self::ThreeQuarters),
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Self::Quarter => "quarter",
            Self::Half => "half",
            Self::ThreeQuarters => "three_quarters",
            Self::Disabled => "disabled",
        }
    }

    fn share(self) -> &'static str {
        match self {
            Self::Quarter => "a quarter",
            Self::Half => "half",
            Self::ThreeQuarters => "three quarters",
            Self::Disabled => "all",
        }
    }
}

/// The notices one delivery worker raised, so that a streak costs a write per stage, not one
/// per batch of attempts. Another hub (or this one after a restart) may raise the same notice:
/// the storage keeps one.
#[derive(Default)]
pub struct Raised(HashMap<SubscriptionId, (i64, Stage)>);

impl Raised {
    /// Records and publishes the notices `failing` calls for; whether any message was published.
    pub async fn raise(&mut self, db: &Db, failing: Vec<Failing>, disable_after: Duration) -> bool {
        let now = now_millis();
        let mut published = false;
        for failing in failing {
            // A streak this batch began counts only when it ends at once (410 Gone).
            let Some(since) = failing.since.or(failing.disabled.is_some().then_some(now)) else {
                continue;
            };
            let failing_for = Duration::from_millis(now.saturating_sub(since).max(0) as u64);
            let stage = if failing.disabled.is_some() {
                Some(Stage::Disabled)
            } else {
                Stage::of(failing_for, disable_after)
            };
            let Some(stage) = stage else { continue };
            let id = failing.subscription.id.clone();
            if self
                .0
                .get(&id)
                .is_some_and(|&(s, raised)| s == since && raised >= stage)
            {
                continue;
            }
            match notify(db, &failing, since, failing_for, disable_after, stage).await {
                Ok(new) => {
                    published |= new;
                    self.0.insert(id, (since, stage));
                }
                // The next failure tries again.
                Err(err) => tracing::error!(error = %err, "recording a notice failed"),
            }
        }
        published
    }
}

async fn notify(
    db: &Db,
    failing: &Failing,
    since: i64,
    failing_for: Duration,
    disable_after: Duration,
    stage: Stage,
) -> Result<bool, sea_orm::DbErr> {
    let subscription = &failing.subscription;
    let url = redact_url(&subscription.url);
    let last_error = failing.last_error.as_deref().unwrap_or("no answer");
    let message = if let Some(reason) = &failing.disabled {
        format!("Disabled: {reason} Last error: {last_error}.")
    } else {
        format!(
            "Failing for {}, {} of the {} after which it is disabled. Last error: {last_error}.",
            span(failing_for),
            stage.share(),
            span(disable_after),
        )
    };
    let payload = json!({
        "subscription": {
            "id": subscription.id,
            "url": url,
            "description": subscription.description,
        },
        "stage": stage.word(),
        "failing_since": crate::storage::rfc3339(since),
        "failing_for_seconds": failing_for.as_secs(),
        "disable_after_seconds": disable_after.as_secs(),
        "last_error": failing.last_error,
    });
    let event_type = if stage == Stage::Disabled {
        DISABLED
    } else {
        FAILING
    };
    tracing::warn!(subscription = %subscription.id, stage = stage.word(), "{message}");
    notices::record(
        db,
        NewNotice {
            subscription_id: subscription.id.clone(),
            stage: stage.word(),
            failing_since: since,
            message,
        },
        NewMessage {
            id: MessageId::generate(),
            event_type: event_type.to_owned(),
            payload: payload.to_string(),
            idempotency_key: None,
            schema_errors: None,
            consumer_id: None,
        },
        Recipients::MatchingExcept(wanting(event_type, payload), subscription.id.clone()),
    )
    .await
}

/// A length of time as people say it: "45 s", "12 min", "6 h", "3 d".
fn span(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..120 => format!("{secs} s"),
        120..7_200 => format!("{} min", secs / 60),
        7_200..172_800 => format!("{} h", secs / 3_600),
        _ => format!("{} d", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streak_reaches_each_quarter_in_turn() {
        let day = Duration::from_secs(86_400);
        let hours = |h: u64| Duration::from_secs(h * 3_600);
        assert_eq!(Stage::of(hours(5), day), None);
        assert_eq!(Stage::of(hours(6), day), Some(Stage::Quarter));
        assert_eq!(Stage::of(hours(12), day), Some(Stage::Half));
        assert_eq!(Stage::of(hours(18), day), Some(Stage::ThreeQuarters));
        assert_eq!(Stage::of(hours(30), day), Some(Stage::ThreeQuarters));
        assert_eq!(
            Stage::of(hours(1), Duration::ZERO),
            Some(Stage::ThreeQuarters)
        );
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(Duration::from_secs(45)), "45 s");
        assert_eq!(span(Duration::from_secs(720)), "12 min");
        assert_eq!(span(Duration::from_secs(6 * 3_600)), "6 h");
        assert_eq!(span(Duration::from_secs(5 * 86_400)), "5 d");
    }
}
