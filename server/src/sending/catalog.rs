//! The event-type catalog as people and scripts change it: names checked, descriptions trimmed
//! and bounded, examples and schemas checked (an example must match its schema), every change
//! logged. The dashboard and the REST API both come here.

use serde_json::Value;

use super::filter;
use super::schemas::{self, Mode};
use crate::error::{Detail, Error, Result, invalid};
use crate::storage::Db;
use crate::storage::catalog::{self, EventType, EventTypeChange};

const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_EXAMPLE_BYTES: usize = 64 * 1024;

/// A new event type as asked for.
#[derive(Debug, Default)]
pub struct NewType<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub example: Option<&'a str>,
    /// A JSON Schema its payloads must match; blank for none.
    pub schema: Option<&'a str>,
    /// `enforce` (the default) or `warn`.
    pub schema_mode: &'a str,
}

pub async fn create(db: &Db, new: NewType<'_>) -> Result<EventType> {
    let name = new.name.trim();
    filter::validate_name(name).map_err(|e| invalid("name", e.to_string()))?;
    let description = checked_description(new.description)?;
    let example = new.example.map(checked_example).transpose()?.flatten();
    let schema = new.schema.map(schemas::checked).transpose()?.flatten();
    let schema_mode = Mode::parse(new.schema_mode)?;
    example_matches(example.as_deref(), schema.as_deref())?;
    let created = catalog::create(
        db,
        EventType {
            name: name.to_owned(),
            description,
            deprecated: false,
            created_at: 0,
            example,
            schema,
            schema_mode: schema_mode.word().to_owned(),
        },
    )
    .await?
    .ok_or_else(|| Error::Conflict {
        field: "name",
        message: "that event type already exists".into(),
    })?;
    tracing::info!(event_type = %created.name, "event type created");
    Ok(created)
}

/// What a person or script changes of an event type; `None` leaves a field as it is, and a
/// blank example or schema removes it.
#[derive(Debug, Default)]
pub struct Change<'a> {
    pub description: Option<&'a str>,
    pub deprecated: Option<bool>,
    pub example: Option<&'a str>,
    pub schema: Option<&'a str>,
    pub schema_mode: Option<&'a str>,
}

pub async fn update(db: &Db, name: &str, change: Change<'_>) -> Result<EventType> {
    let current = catalog::find(db, name)
        .await?
        .ok_or(Error::NotFound("event type"))?;
    let change = EventTypeChange {
        description: change.description.map(checked_description).transpose()?,
        deprecated: change.deprecated,
        example: change.example.map(checked_example).transpose()?,
        schema: change.schema.map(schemas::checked).transpose()?,
        schema_mode: change
            .schema_mode
            .map(|mode| Mode::parse(mode).map(|m| m.word().to_owned()))
            .transpose()?,
    };
    if change.example.is_some() || change.schema.is_some() {
        example_matches(
            change
                .example
                .as_ref()
                .unwrap_or(&current.example)
                .as_deref(),
            change.schema.as_ref().unwrap_or(&current.schema).as_deref(),
        )?;
    }
    let updated = catalog::update(db, name.to_owned(), change)
        .await?
        .ok_or(Error::NotFound("event type"))?;
    tracing::info!(
        event_type = %updated.name,
        deprecated = updated.deprecated,
        "event type changed"
    );
    Ok(updated)
}

/// Where and why `payload` does not match the schema of the type `name` (none when the type
/// has no schema), without publishing anything.
pub async fn validate(db: &Db, name: &str, payload: &Value) -> Result<(bool, Vec<Detail>)> {
    let event_type = catalog::find(db, name.trim())
        .await?
        .ok_or(Error::NotFound("event type"))?;
    match &event_type.schema {
        Some(schema) => Ok((true, schemas::mismatches(schema, payload)?)),
        None => Ok((false, Vec::new())),
    }
}

/// An example is what a subscriber is told to expect: it must match the schema it sits beside.
fn example_matches(example: Option<&str>, schema: Option<&str>) -> Result<()> {
    let (Some(example), Some(schema)) = (example, schema) else {
        return Ok(());
    };
    let example: Value =
        serde_json::from_str(example).map_err(|e| invalid("example", e.to_string()))?;
    let found = schemas::mismatches(schema, &example)?;
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::Mismatched {
        field: "example",
        message: format!(
            "the example does not match the schema: {}",
            schemas::listed(&found)
        ),
        details: found,
    })
}

/// An example payload: JSON, kept as it was written (blank for none), at most 64 KiB.
fn checked_example(text: &str) -> Result<Option<String>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_EXAMPLE_BYTES {
        return Err(invalid("example", "at most 64 KiB"));
    }
    serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| invalid("example", format!("the example is not JSON: {e}")))?;
    Ok(Some(text.to_owned()))
}

fn checked_description(text: &str) -> Result<String> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(invalid(
            "description",
            format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}
