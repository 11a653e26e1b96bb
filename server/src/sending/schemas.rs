//! Enforced schemas: an event type may carry a JSON Schema (draft 2020-12) that every payload
//! published as that type must match. In `enforce` mode a payload that does not is refused
//! with where and why; in `warn` mode it is published and the message carries the mismatches.
//!
//! Schemas are compiled once and kept by their text, so a change made on any hub is seen at
//! the next publish without telling anyone. `$ref` resolves inside the schema only: nothing is
//! fetched from the network or read from files.

use std::sync::Arc;

use jsonschema::Validator;
use serde::Serialize;
use serde_json::Value;

use super::by_text::ByText;
use crate::error::{Detail, Error, invalid};

pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// Most mismatches reported for one payload.
const MAX_MISMATCHES: usize = 20;
/// Longest message of one mismatch, in characters: they quote the offending value.
const MAX_MESSAGE_CHARS: usize = 300;

/// What a schema does with a payload that does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Refused with a 422.
    Enforce,
    /// Published, with the mismatches on the message.
    Warn,
}

impl Mode {
    pub fn parse(word: &str) -> Result<Self, Error> {
        match word.trim() {
            "" | "enforce" => Ok(Self::Enforce),
            "warn" => Ok(Self::Warn),
            _ => Err(invalid("schema_mode", "enforce or warn")),
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Warn => "warn",
        }
    }
}

/// A schema as written, checked: JSON, an object or a boolean, at most 64 KiB, and a valid
/// draft 2020-12 schema. Blank is none.
pub fn checked(text: &str) -> Result<Option<String>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_SCHEMA_BYTES {
        return Err(invalid("schema", "at most 64 KiB"));
    }
    compiled(text)?;
    Ok(Some(text.to_owned()))
}

/// Where and why `payload` does not match `schema` (a stored, checked schema); empty when it
/// matches.
pub fn mismatches(schema: &str, payload: &Value) -> Result<Vec<Detail>, Error> {
    let validator = compiled(schema)?;
    Ok(validator
        .iter_errors(payload)
        .take(MAX_MISMATCHES)
        .map(|error| {
            let mut message = error.to_string();
            if message.chars().count() > MAX_MESSAGE_CHARS {
                message = message.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
            }
            Detail {
                path: error.instance_path().to_string(),
                message,
            }
        })
        .collect())
}

/// The mismatches in one line: "/amount: …; (the payload): …".
pub fn listed(found: &[Detail]) -> String {
    found.iter().map(line).collect::<Vec<_>>().join("; ")
}

/// One mismatch as "/amount: why", or "(the payload): why" for the whole payload.
pub fn line(found: &Detail) -> String {
    let path = if found.path.is_empty() {
        "(the payload)"
    } else {
        &found.path
    };
    format!("{path}: {}", found.message)
}

fn compiled(text: &str) -> Result<Arc<Validator>, Error> {
    static COMPILED: ByText<Validator> = ByText::new();
    COMPILED.get(text, |text| {
        let schema: Value = serde_json::from_str(text)
            .map_err(|e| invalid("schema", format!("the schema is not JSON: {e}")))?;
        if !(schema.is_object() || schema.is_boolean()) {
            return Err(invalid(
                "schema",
                "a schema is a JSON object (or true or false)",
            ));
        }
        jsonschema::draft202012::options()
            .offline()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| {
                invalid(
                    "schema",
                    format!("not a valid JSON Schema (draft 2020-12): {e}"),
                )
            })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const INVOICE: &str = r##"{
        "type": "object",
        "required": ["id", "amount"],
        "properties": {
            "id": {"type": "string", "pattern": "^in_"},
            "amount": {"type": "integer", "minimum": 0},
            "email": {"type": "string", "format": "email"},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}
        },
        "$defs": {"line": {"type": "object", "required": ["sku"]}}
    }"##;

    #[test]
    fn a_payload_that_matches_has_no_mismatch() {
        let payload = json!({"id": "in_1", "amount": 5, "lines": [{"sku": "A"}]});
        assert_eq!(mismatches(INVOICE, &payload).unwrap(), []);
    }

    #[test]
    fn each_mismatch_says_where_and_why() {
        let payload = json!({"id": "x_1", "amount": -1, "email": "nobody", "lines": [{}]});
        let found = mismatches(INVOICE, &payload).unwrap();
        let paths: Vec<&str> = found.iter().map(|m| m.path.as_str()).collect();
        for path in ["/id", "/amount", "/email", "/lines/0"] {
            assert!(paths.contains(&path), "{path} in {found:?}");
        }
        let amount = found.iter().find(|m| m.path == "/amount").unwrap();
        assert!(amount.message.contains("minimum of 0"), "{amount:?}");
        let missing = mismatches(INVOICE, &json!({"id": "in_1"})).unwrap();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].path, "");
        assert_eq!(
            listed(&missing),
            "(the payload): \"amount\" is a required property"
        );
    }

    #[test]
    fn schemas_that_cannot_work_are_refused() {
        let refused = |text: &str| match checked(text) {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "schema");
                message
            }
            other => panic!("{text}: {other:?}"),
        };
        assert!(refused("{").contains("not JSON"));
        assert!(refused("[1]").contains("a JSON object"));
        assert!(refused(r#"{"type": "integr"}"#).contains("not a valid JSON Schema"));
        // Nothing is fetched: a remote reference cannot be resolved.
        assert!(
            refused(r#"{"$ref": "https://example.com/s.json"}"#)
                .contains("not a valid JSON Schema")
        );
        assert_eq!(checked("  ").unwrap(), None);
        assert_eq!(checked(" true ").unwrap().as_deref(), Some("true"));
    }

    #[test]
    fn long_messages_are_cut() {
        let payload = json!({"id": "x".repeat(1000), "amount": 1});
        let found = mismatches(INVOICE, &payload).unwrap();
        assert!(found[0].message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
