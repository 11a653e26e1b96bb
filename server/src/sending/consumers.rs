//! Consumers as publishers and their portal use them: who a message is addressed to, checked
//! and stored; the portal's sign-in links and sessions; and [`Scope`], which keeps every portal
//! operation to the signed-in consumer's own subscriptions and deliveries.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::auth::hash_token;
use crate::error::{Error, invalid};
use crate::storage::consumers::{self, Consumer, NewConsumer, TokenKind};
use crate::storage::deliveries::{self, Delivery};
use crate::storage::subscriptions::{self, Subscription};
use crate::storage::{Db, now_millis};

/// How long a portal link may wait to be used.
pub const LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a portal session lasts from sign-in, however active.
pub const SESSION_TTL: Duration = Duration::from_secs(4 * 3600);
const MAX_ID_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 200;
const MAX_METADATA_KEYS: usize = 50;

/// A consumer as asked for.
#[derive(Debug, Default)]
pub struct ConsumerInput {
    pub id: String,
    pub name: String,
    pub metadata: Map<String, Value>,
}

/// An id the publisher chooses, used in URLs and messages: letters, digits, `.`, `_`, `-`.
fn checked_id(id: &str) -> Result<String, Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if id.is_empty() || id.len() > MAX_ID_CHARS || !id.chars().all(allowed) {
        return Err(invalid(
            "id",
            format!("1 to {MAX_ID_CHARS} letters, digits, `.`, `_` or `-`, such as `acme`"),
        ));
    }
    Ok(id.to_owned())
}

fn checked_name(name: &str, id: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(if name.is_empty() { id } else { name }.to_owned())
}

fn checked_metadata(metadata: Map<String, Value>) -> Result<Map<String, Value>, Error> {
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(invalid(
            "metadata",
            format!("at most {MAX_METADATA_KEYS} keys"),
        ));
    }
    Ok(metadata)
}

pub async fn create(db: &Db, input: ConsumerInput) -> Result<Consumer, Error> {
    let id = checked_id(&input.id)?;
    let new = NewConsumer {
        name: checked_name(&input.name, &id)?,
        metadata: checked_metadata(input.metadata)?,
        portal_key: crate::ids::random_id("", 32),
        id: id.clone(),
    };
    if !consumers::create(db, new).await? {
        return Err(Error::Conflict {
            field: "id",
            message: format!("there is already a consumer `{id}`"),
        });
    }
    tracing::info!(consumer = %id, "consumer created");
    find(db, &id).await
}

pub async fn find(db: &Db, id: &str) -> Result<Consumer, Error> {
    consumers::find(db, id)
        .await?
        .ok_or(Error::NotFound("consumer"))
}

/// Renames the consumer and replaces its metadata (its id stays).
pub async fn update(
    db: &Db,
    id: &str,
    name: &str,
    metadata: Map<String, Value>,
) -> Result<Consumer, Error> {
    let name = checked_name(name, id)?;
    let metadata = checked_metadata(metadata)?;
    consumers::update(db, id.to_owned(), name, metadata)
        .await?
        .ok_or(Error::NotFound("consumer"))
}

/// Deletes the consumer with its subscriptions, their deliveries, and its portal sessions.
pub async fn delete(db: &Db, id: &str) -> Result<(), Error> {
    if !consumers::delete(db, id.to_owned()).await? {
        return Err(Error::NotFound("consumer"));
    }
    tracing::info!(consumer = %id, "consumer deleted");
    Ok(())
}

/// A new portal key: every link and portal session of the consumer ends now.
pub async fn rotate_portal_key(db: &Db, id: &str) -> Result<(), Error> {
    let key = crate::ids::random_id("", 32);
    if !consumers::set_portal_key(db, id.to_owned(), key).await? {
        return Err(Error::NotFound("consumer"));
    }
    tracing::info!(consumer = %id, "portal key rotated: links and sessions ended");
    Ok(())
}

/// A link that signs the consumer in to their portal, once, within [`LINK_TTL`].
#[derive(Debug)]
pub struct PortalLink {
    /// `{base}/portal/sign-in?token=…`
    pub url: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// Issues a portal link under `base` (the hub as its users reach it).
pub async fn portal_link(db: &Db, id: &str, base: &str) -> Result<PortalLink, Error> {
    let token = crate::ids::random_id("hpl_", 40);
    let expires_at = now_millis() + LINK_TTL.as_millis() as i64;
    let issued = consumers::issue_token(
        db,
        id.to_owned(),
        hash_token(&token),
        TokenKind::Link,
        expires_at,
    )
    .await?;
    if !issued {
        return Err(Error::NotFound("consumer"));
    }
    tracing::info!(consumer = %id, "portal link issued");
    Ok(PortalLink {
        url: format!("{base}/portal/sign-in?token={token}"),
        expires_at,
    })
}

/// A portal session's token (the cookie's value) and when it ends.
#[derive(Debug)]
pub struct PortalSession {
    pub token: String,
    pub expires_at: i64,
    pub consumer: Consumer,
}

/// Uses a portal link: a session for its consumer, or `None` when the link is unknown, used,
/// expired or issued under a key since rotated (the answer does not say which).
pub async fn sign_in(db: &Db, link_token: &str) -> Result<Option<PortalSession>, Error> {
    let Some(consumer) = consumers::redeem_link(db, hash_token(link_token)).await? else {
        return Ok(None);
    };
    let token = crate::ids::random_id("hps_", 40);
    let expires_at = now_millis() + SESSION_TTL.as_millis() as i64;
    let issued = consumers::issue_token(
        db,
        consumer.id.clone(),
        hash_token(&token),
        TokenKind::Session,
        expires_at,
    )
    .await?;
    if !issued {
        return Ok(None);
    }
    tracing::info!(consumer = %consumer.id, "portal sign-in");
    Ok(Some(PortalSession {
        token,
        expires_at,
        consumer,
    }))
}

/// The consumer a portal session's token speaks for, while it lasts.
pub async fn session(db: &Db, token: &str) -> Result<Option<Consumer>, Error> {
    Ok(consumers::session_consumer(db, &hash_token(token)).await?)
}

pub async fn sign_out(db: &Db, token: &str) -> Result<(), Error> {
    Ok(consumers::end_session(db, hash_token(token)).await?)
}

/// What a portal session may reach: one consumer's own subscriptions and their deliveries.
/// Anything else is "not found", so another consumer's ids reveal nothing, not even that
/// they exist.
#[derive(Debug, Clone)]
pub struct Scope {
    pub consumer_id: String,
}

impl Scope {
    pub fn new(consumer_id: impl Into<String>) -> Self {
        Self {
            consumer_id: consumer_id.into(),
        }
    }

    pub async fn subscription(&self, db: &Db, id: &str) -> Result<Subscription, Error> {
        subscriptions::find(db, id)
            .await?
            .filter(|s| s.consumer_id.as_deref() == Some(self.consumer_id.as_str()))
            .ok_or(Error::NotFound("subscription"))
    }

    pub async fn delivery(&self, db: &Db, id: i64) -> Result<Delivery, Error> {
        let delivery = deliveries::find(db, id)
            .await?
            .ok_or(Error::NotFound("delivery"))?;
        self.subscription(db, &delivery.subscription_id)
            .await
            .map_err(|_| Error::NotFound("delivery"))?;
        Ok(delivery)
    }

    pub async fn subscriptions(&self, db: &Db) -> Result<Vec<Subscription>, Error> {
        Ok(subscriptions::of_consumer(db, &self.consumer_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_plain() {
        assert_eq!(checked_id("acme-1.eu_2").unwrap(), "acme-1.eu_2");
        for bad in ["", " acme", "a b", "acme/x", "ümlaut", &"a".repeat(65)] {
            assert!(checked_id(bad).is_err(), "{bad}");
        }
        assert_eq!(checked_name("  ", "acme").unwrap(), "acme");
    }
}
