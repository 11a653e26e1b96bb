//! Event-type names and the patterns subscriptions filter them with.
//!
//! A name is a dot-separated path such as `invoice.paid`: ASCII letters, digits, `_` and `-`
//! in non-empty segments, at most [`MAX_NAME_LEN`] bytes. Names compare case-sensitively. A
//! pattern is `*` (every event), `prefix.*` (every name below `prefix`), or an exact name.
//!
//! Received events carry whatever type their provider names (`push`, `orders/create`,
//! `updateCard`), so the patterns handlers select them with take any printable name, up to
//! [`MAX_RECEIVED_NAME_LEN`] characters, in the same three forms and matched the same way.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const MAX_NAME_LEN: usize = 128;
/// As long as the event-type label ingest keeps from a request.
pub const MAX_RECEIVED_NAME_LEN: usize = 256;

/// Why a name or pattern was refused; each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("an event type cannot be empty")]
    Empty,
    #[error("an event type is at most {max} characters long, this one is {len}")]
    TooLong { max: usize, len: usize },
    #[error(
        "an event type may only hold letters, digits, '.', '_' and '-' (found {0:?}); \
         wildcards go in filters, as '*' or 'prefix.*'"
    )]
    InvalidChar(char),
    #[error("an event type cannot start or end with '.' or have two dots in a row")]
    EmptySegment,
    #[error("an event type cannot hold control characters or start or end with a space")]
    Unprintable,
    #[error("a '*' in a filter must stand alone ('*') or be the whole last segment ('invoice.*')")]
    MisplacedWildcard,
}

/// Checks that `name` is an acceptable event-type name.
pub fn validate_name(name: &str) -> Result<(), FilterError> {
    if name.is_empty() {
        return Err(FilterError::Empty);
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(FilterError::InvalidChar(bad));
    }
    // Only ASCII is left, so bytes and characters count the same.
    if name.len() > MAX_NAME_LEN {
        return Err(FilterError::TooLong {
            max: MAX_NAME_LEN,
            len: name.len(),
        });
    }
    if name.split('.').any(str::is_empty) {
        return Err(FilterError::EmptySegment);
    }
    Ok(())
}

/// Checks that `name` could be a received event's type: printable, trimmed, and no longer
/// than ingest keeps.
fn validate_received_name(name: &str) -> Result<(), FilterError> {
    if name.is_empty() {
        return Err(FilterError::Empty);
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(FilterError::Unprintable);
    }
    let len = name.chars().count();
    if len > MAX_RECEIVED_NAME_LEN {
        return Err(FilterError::TooLong {
            max: MAX_RECEIVED_NAME_LEN,
            len,
        });
    }
    Ok(())
}

/// Checks that `pattern` is `*`, `prefix.*` with a valid name as prefix, or a valid name.
pub fn validate_pattern(pattern: &str) -> Result<(), FilterError> {
    check_pattern(pattern, validate_name)
}

/// Checks a pattern for received event types: the same forms, with any printable name.
pub fn validate_received_pattern(pattern: &str) -> Result<(), FilterError> {
    check_pattern(pattern, validate_received_name)
}

fn check_pattern(
    pattern: &str,
    validate_name: fn(&str) -> Result<(), FilterError>,
) -> Result<(), FilterError> {
    if pattern == "*" {
        return Ok(());
    }
    let exact = pattern.strip_suffix(".*").unwrap_or(pattern);
    if exact.contains('*') {
        return Err(FilterError::MisplacedWildcard);
    }
    validate_name(exact)
}

/// Whether the event type `name` is selected by `pattern`. `*` selects everything;
/// `invoice.*` selects `invoice.paid` and `invoice.payment.failed` but not `invoice` itself;
/// anything else must equal the name exactly.
pub fn matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        // `prefix` keeps its trailing dot, so `invoice.*` never selects `invoices.paid`.
        Some(prefix) if prefix.ends_with('.') => {
            name.len() > prefix.len() && name.starts_with(prefix)
        }
        _ => pattern == name,
    }
}

/// A validated event-type name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventType(String);

impl EventType {
    pub fn parse(name: impl Into<String>) -> Result<Self, FilterError> {
        let name = name.into();
        validate_name(&name)?;
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventType {
    type Error = FilterError;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::parse(name)
    }
}

impl From<EventType> for String {
    fn from(name: EventType) -> Self {
        name.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated filter pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventPattern(String);

impl EventPattern {
    pub fn parse(pattern: impl Into<String>) -> Result<Self, FilterError> {
        let pattern = pattern.into();
        validate_pattern(&pattern)?;
        Ok(Self(pattern))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, name: &EventType) -> bool {
        matches(&self.0, &name.0)
    }
}

impl TryFrom<String> for EventPattern {
    type Error = FilterError;
    fn try_from(pattern: String) -> Result<Self, Self::Error> {
        Self::parse(pattern)
    }
}

impl From<EventPattern> for String {
    fn from(pattern: EventPattern) -> Self {
        pattern.0
    }
}

impl fmt::Display for EventPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["invoice.paid", "push", "user_created", "a-b.c_d.E9", "x"] {
            assert_eq!(validate_name(name), Ok(()), "{name}");
        }
        assert_eq!(validate_name(&"a".repeat(MAX_NAME_LEN)), Ok(()));
    }

    #[test]
    fn refuses_bad_names_with_the_reason() {
        assert_eq!(validate_name(""), Err(FilterError::Empty));
        assert_eq!(
            validate_name(&"a".repeat(MAX_NAME_LEN + 1)),
            Err(FilterError::TooLong {
                max: MAX_NAME_LEN,
                len: MAX_NAME_LEN + 1
            })
        );
        assert_eq!(
            validate_name("invoice paid"),
            Err(FilterError::InvalidChar(' '))
        );
        assert_eq!(
            validate_name("invoice.*"),
            Err(FilterError::InvalidChar('*'))
        );
        assert_eq!(
            validate_name("caf\u{e9}"),
            Err(FilterError::InvalidChar('\u{e9}'))
        );
        for name in [".paid", "invoice.", "invoice..paid", "."] {
            assert_eq!(
                validate_name(name),
                Err(FilterError::EmptySegment),
                "{name}"
            );
        }
    }

    #[test]
    fn accepts_the_three_pattern_forms() {
        for pattern in ["*", "invoice.*", "invoice.payment.*", "invoice.paid"] {
            assert_eq!(validate_pattern(pattern), Ok(()), "{pattern}");
        }
    }

    #[test]
    fn refuses_misplaced_wildcards_and_bad_prefixes() {
        for pattern in [
            "invoice*",
            "*.paid",
            "in*.paid",
            "**",
            "invoice.**",
            "a.*.*",
        ] {
            assert_eq!(
                validate_pattern(pattern),
                Err(FilterError::MisplacedWildcard),
                "{pattern}"
            );
        }
        assert_eq!(validate_pattern(".*"), Err(FilterError::Empty));
        assert_eq!(validate_pattern(""), Err(FilterError::Empty));
        assert_eq!(validate_pattern("a..*"), Err(FilterError::EmptySegment));
    }

    #[test]
    fn received_patterns_take_provider_names_in_the_same_forms() {
        for pattern in ["*", "orders/create", "updateCard", "repo:push", "invoice.*"] {
            assert_eq!(validate_received_pattern(pattern), Ok(()), "{pattern}");
        }
        assert_eq!(
            validate_received_pattern("orders/*"),
            Err(FilterError::MisplacedWildcard)
        );
        assert_eq!(
            validate_received_pattern("a\nb"),
            Err(FilterError::Unprintable)
        );
        assert_eq!(
            validate_received_pattern(" push"),
            Err(FilterError::Unprintable)
        );
        assert_eq!(
            validate_received_pattern(&"e".repeat(MAX_RECEIVED_NAME_LEN + 1)),
            Err(FilterError::TooLong {
                max: MAX_RECEIVED_NAME_LEN,
                len: MAX_RECEIVED_NAME_LEN + 1
            })
        );
        assert!(matches("orders/create", "orders/create"));
        assert!(!matches("orders/create", "orders/created"));
    }

    #[test]
    fn star_matches_everything() {
        assert!(matches("*", "invoice.paid"));
        assert!(matches("*", "push"));
    }

    #[test]
    fn prefix_pattern_matches_names_below_the_prefix_only() {
        assert!(matches("invoice.*", "invoice.paid"));
        assert!(matches("invoice.*", "invoice.payment.failed"));
        assert!(!matches("invoice.*", "invoice"));
        assert!(!matches("invoice.*", "invoices.paid"));
        assert!(!matches("invoice.*", "user.invoice.paid"));
    }

    #[test]
    fn exact_pattern_matches_only_that_name_case_sensitively() {
        assert!(matches("invoice.paid", "invoice.paid"));
        assert!(!matches("invoice.paid", "invoice.paid.late"));
        assert!(!matches("invoice.paid", "Invoice.Paid"));
    }

    #[test]
    fn newtypes_validate_on_parse_and_deserialise() {
        let pattern = EventPattern::parse("invoice.*").unwrap();
        let name = EventType::parse("invoice.paid").unwrap();
        assert!(pattern.matches(&name));
        assert!(EventType::parse("bad name").is_err());
        assert!(serde_json::from_str::<EventType>("\"a..b\"").is_err());
        let round: EventPattern = serde_json::from_str("\"*\"").unwrap();
        assert_eq!(serde_json::to_string(&round).unwrap(), "\"*\"");
    }
}
