//! The event-type catalog as people and scripts change it: names checked, descriptions trimmed
//! and bounded, every change logged. The dashboard and the REST API both come here.

use super::filter;
use crate::error::{Error, Result, invalid};
use crate::storage::Db;
use crate::storage::catalog::{self, EventType, EventTypeChange};

const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_EXAMPLE_BYTES: usize = 64 * 1024;

pub async fn create(
    db: &Db,
    name: &str,
    description: &str,
    example: Option<&str>,
) -> Result<EventType> {
    let name = name.trim();
    filter::validate_name(name).map_err(|e| invalid("name", e.to_string()))?;
    let description = checked_description(description)?;
    let example = example.map(checked_example).transpose()?.flatten();
    let created = catalog::create(db, name.to_owned(), description, example)
        .await?
        .ok_or_else(|| Error::Conflict {
            field: "name",
            message: "that event type already exists".into(),
        })?;
    tracing::info!(event_type = %created.name, "event type created");
    Ok(created)
}

/// What a person or script changes of an event type; `None` leaves a field as it is, and a
/// blank example removes it.
#[derive(Debug, Default)]
pub struct Change<'a> {
    pub description: Option<&'a str>,
    pub deprecated: Option<bool>,
    pub example: Option<&'a str>,
}

pub async fn update(db: &Db, name: &str, change: Change<'_>) -> Result<EventType> {
    let change = EventTypeChange {
        description: change.description.map(checked_description).transpose()?,
        deprecated: change.deprecated,
        example: change.example.map(checked_example).transpose()?,
    };
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
