//! The event-type catalog as people and scripts change it: names checked, descriptions trimmed
//! and bounded, every change logged. The dashboard and the REST API both come here.

use super::filter;
use crate::error::{Error, Result, invalid};
use crate::storage::Db;
use crate::storage::catalog::{self, EventType};

const MAX_DESCRIPTION_CHARS: usize = 500;

pub async fn create(db: &Db, name: &str, description: &str) -> Result<EventType> {
    let name = name.trim();
    filter::validate_name(name).map_err(|e| invalid("name", e.to_string()))?;
    let description = checked_description(description)?;
    let created = catalog::create(db, name.to_owned(), description)
        .await?
        .ok_or_else(|| Error::Conflict {
            field: "name",
            message: "that event type already exists".into(),
        })?;
    tracing::info!(event_type = %created.name, "event type created");
    Ok(created)
}

/// Changes the description and deprecation; `None` leaves a field as it is.
pub async fn update(
    db: &Db,
    name: &str,
    description: Option<&str>,
    deprecated: Option<bool>,
) -> Result<EventType> {
    let description = description.map(checked_description).transpose()?;
    let updated = catalog::update(db, name.to_owned(), description, deprecated)
        .await?
        .ok_or(Error::NotFound("event type"))?;
    tracing::info!(
        event_type = %updated.name,
        deprecated = updated.deprecated,
        "event type changed"
    );
    Ok(updated)
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
