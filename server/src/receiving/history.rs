//! What people ask of the history: the events and deliveries filters as they arrive from the
//! dashboard or the REST API, checked and turned into one storage filter, so both accept the
//! same values and refuse the same mistakes.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use sea_orm::{ActiveEnum, Iterable};

use crate::storage::deliveries::DeliveryFilter;
use crate::storage::events::EventFilter;
use crate::storage::paging::Cursor;
use crate::storage::states::{self, DeliveryStatus, Handling};

/// The filters as typed; empty strings mean "not set".
#[derive(Debug, Default)]
pub struct EventParams {
    pub source: Option<String>,
    pub event_type: Option<String>,
    pub handling: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub q: Option<String>,
    pub before: Option<i64>,
    /// The page just newer than this event (`before` wins when both are given).
    pub after: Option<i64>,
    pub limit: u64,
}

/// Which filter was wrong and why.
#[derive(Debug, PartialEq, Eq)]
pub struct ParamError {
    pub field: &'static str,
    pub message: String,
}

/// Longer searches are refused rather than run.
const MAX_SEARCH_CHARS: usize = 200;

pub fn filter(params: EventParams) -> Result<EventFilter, ParamError> {
    let handling = state::<Handling>("handling", params.handling)?;
    let from = instant("from", params.from)?;
    let to = instant("to", params.to)?;
    let text = set(params.q);
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_SEARCH_CHARS)
    {
        return Err(ParamError {
            field: "q",
            message: format!("search for at most {MAX_SEARCH_CHARS} characters"),
        });
    }
    Ok(EventFilter {
        source_id: set(params.source),
        event_type: set(params.event_type),
        handling,
        from,
        to,
        text,
        cursor: Cursor::of(params.before, params.after),
        limit: params.limit,
    })
}

/// The deliveries console's and API's filters, checked the same way.
#[derive(Debug, Default)]
pub struct DeliveryParams {
    pub subscription: Option<String>,
    pub consumer: Option<String>,
    pub message: Option<String>,
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i64>,
    /// The page just newer than this delivery (`before` wins when both are given).
    pub after: Option<i64>,
    pub limit: u64,
}

pub fn delivery_filter(params: DeliveryParams) -> Result<DeliveryFilter, ParamError> {
    Ok(DeliveryFilter {
        subscription_id: set(params.subscription),
        consumer_id: set(params.consumer),
        message_id: set(params.message),
        status: state::<DeliveryStatus>("status", params.status)?,
        event_type: set(params.event_type),
        from: instant("from", params.from)?,
        to: instant("to", params.to)?,
        cursor: Cursor::of(params.before, params.after),
        limit: params.limit,
    })
}

/// A filter as typed: trimmed, and `None` when blank.
fn set(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// One of a stored state's words, or `None` when blank.
fn state<T: ActiveEnum<Value = String> + Iterable>(
    field: &'static str,
    value: Option<String>,
) -> Result<Option<T>, ParamError> {
    let Some(value) = set(value) else {
        return Ok(None);
    };
    states::parse(&value).map(Some).ok_or_else(|| ParamError {
        field,
        message: format!(
            "expected one of {}",
            T::iter().map(states::word).collect::<Vec<_>>().join(", ")
        ),
    })
}

fn instant(field: &'static str, value: Option<String>) -> Result<Option<i64>, ParamError> {
    set(value)
        .map(|v| parse_instant(&v).map_err(|message| ParamError { field, message }))
        .transpose()
}

/// Milliseconds since the epoch from an RFC 3339 time (`2026-11-23T17:30:00Z`) or a
/// browser's `datetime-local` value (`2026-11-23T17:30`), which is read as UTC like every time
/// the dashboard shows.
pub fn parse_instant(value: &str) -> Result<i64, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.timestamp_millis());
    }
    let date_only = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0));
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
    .or(date_only)
    .map(|time| time.and_utc().timestamp_millis())
    .ok_or_else(|| {
        format!(
            "expected a time such as 2026-11-23 17:30 (UTC), 2026-11-23 or 2026-11-23T17:30:00Z, \
             got `{value}`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_either_format() {
        assert_eq!(parse_instant("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(parse_instant("1970-01-01T00:01"), Ok(60_000));
        assert_eq!(parse_instant("1970-01-01 00:01:02"), Ok(62_000));
        assert_eq!(parse_instant("1970-01-02"), Ok(86_400_000));
        assert!(
            parse_instant("yesterday")
                .unwrap_err()
                .contains("yesterday")
        );
    }

    #[test]
    fn empty_values_are_unset_and_bad_ones_name_their_field() {
        let filter = filter(EventParams {
            source: Some(" ".into()),
            q: Some("".into()),
            limit: 5,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(filter.source_id, None);
        assert_eq!(filter.text, None);
        let err = super::filter(EventParams {
            handling: Some("maybe".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.field, "handling");
        let err = super::filter(EventParams {
            to: Some("soon".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.field, "to");
        let err = super::filter(EventParams {
            q: Some("x".repeat(201)),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.field, "q");
    }
}
