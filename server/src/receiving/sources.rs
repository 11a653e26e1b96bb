//! Creating and changing sources: validate what a person or script asked for, then generate
//! what they left out (the id, and a secret when none was given).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use serde_json::{Map, Value};

use super::ingest::{self, Answer};
use super::providers::{self, Provider};
use crate::Hub;
use crate::error::{Error, invalid};
use crate::ids::SourceId;
use crate::storage::Db;
use crate::storage::sources::{self, NewSource, Source, SourceChange};

const MAX_NAME_CHARS: usize = 100;
const MAX_SECRET_BYTES: usize = 512;

pub struct SourceRequest {
    pub name: String,
    pub provider: String,
    pub secret: Option<String>,
    /// The provider's settings, such as Pusher's `key` or a generic scheme.
    pub settings: Map<String, Value>,
}

/// The provider a request describes, with its settings checked.
pub fn provider_from(name: &str, settings: &Map<String, Value>) -> Result<Provider, Error> {
    if !Provider::NAMES.contains(&name) {
        return Err(invalid(
            "provider",
            format!(
                "unknown provider `{name}`; one of {}",
                Provider::NAMES.join(", ")
            ),
        ));
    }
    let mut tagged = settings.clone();
    tagged.insert("provider".into(), Value::String(name.to_owned()));
    serde_json::from_value(Value::Object(tagged))
        .map_err(|e| invalid("settings", format!("{name} settings: {e}")))
}

pub async fn create(db: &Db, req: SourceRequest) -> Result<Source, Error> {
    let name = checked_name(&req.name)?;
    let provider = provider_from(&req.provider, &req.settings)?;
    let secret = checked_secret(req.secret, &provider)?;
    let source = sources::create(
        db,
        NewSource {
            id: SourceId::generate(),
            name,
            provider: provider.name().to_owned(),
            settings: settings_json(&provider)?,
            secret,
        },
    )
    .await?;
    tracing::info!(source = %source.id, provider = %source.provider, "source created");
    Ok(source)
}

/// An edit: each field left `None` stays as it is. The provider itself cannot change; its
/// settings can, and replace the old ones whole.
#[derive(Debug, Default)]
pub struct SourceUpdate {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub settings: Option<Map<String, Value>>,
}

/// Applies an edit.
pub async fn update(db: &Db, id: &str, update: SourceUpdate) -> Result<Source, Error> {
    let source = find(db, id).await?;
    let name = update.name.as_deref().map(checked_name).transpose()?;
    let settings = match update.settings {
        Some(settings) => Some(settings_json(&provider_from(&source.provider, &settings)?)?),
        None => None,
    };
    let change = SourceChange {
        name,
        enabled: update.enabled,
        settings,
    };
    let updated = sources::update(db, source.id, change)
        .await?
        .ok_or(Error::NotFound("source"))?;
    tracing::info!(source = %id, enabled = updated.enabled, "source updated");
    Ok(updated)
}

/// Starts a rotation: the new secret (generated when `None`) becomes current, and the current one
/// stays accepted until [`sources::drop_previous_secret`].
pub async fn rotate_secret(db: &Db, id: &str, secret: Option<String>) -> Result<Source, Error> {
    let source = find(db, id).await?;
    let provider = stored_provider(&source)?;
    let secret = checked_secret(secret, &provider)?;
    let rotated = sources::rotate_secret(db, source.id, secret)
        .await?
        .ok_or(Error::NotFound("source"))?;
    tracing::info!(source = %id, "source secret rotated");
    Ok(rotated)
}

/// Ends a rotation: only the current secret is accepted from now on.
/// What became of a test request to a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tested {
    pub accepted: bool,
    /// What happened, as a sentence.
    pub outcome: String,
    /// The event it was stored as.
    pub event_id: Option<i64>,
}

/// Sends the source a correctly signed sample request through the same receive flow as a
/// provider's (verified, stored, handlers run, counted), and says what became of it: a source
/// whose settings are wrong refuses it, saying why. `endpoint` is its URL as the provider has it.
pub async fn test(hub: &Hub, id: &str, endpoint: String) -> Result<Tested, Error> {
    let source = find(&hub.db, id).await?;
    let provider = stored_provider(&source)?;
    let sample = providers::sample(
        &provider,
        &source.secret,
        &endpoint,
        crate::storage::now_millis() / 1000,
    )
    .ok_or_else(|| {
        invalid(
            "provider",
            "a generic scheme's requests can only be signed by its sender",
        )
    })?;
    let mut headers = http::HeaderMap::new();
    for (name, value) in &sample.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value.as_str()),
        ) {
            headers.append(name, value);
        }
    }
    let request = ingest::Request {
        source_id: source.id.to_string(),
        method: http::Method::POST,
        query: sample.query,
        headers,
        body: sample.body.into(),
        remote_addr: None,
        callback_url: endpoint,
    };
    let refused = |outcome: String| Tested {
        accepted: false,
        outcome,
        event_id: None,
    };
    Ok(match ingest::receive(hub, request).await {
        Answer::Stored {
            event_id,
            duplicate,
            ..
        } => Tested {
            accepted: true,
            outcome: if duplicate {
                format!("Accepted: the same request was stored a moment ago as event {event_id}.")
            } else {
                format!("Accepted and stored as event {event_id}.")
            },
            event_id: Some(event_id),
        },
        Answer::Handshake(_) => Tested {
            accepted: true,
            outcome: "Answered as the provider's handshake.".to_owned(),
            event_id: None,
        },
        Answer::Refused(reason) => refused(format!("Refused: {reason}.")),
        Answer::Disabled => refused("Refused: the source is disabled.".to_owned()),
        Answer::UnknownSource => return Err(Error::NotFound("source")),
        Answer::MethodNotAllowed => refused("Refused: the method is not allowed.".to_owned()),
        Answer::Unavailable => {
            refused("Not stored: the hub cannot store anything right now.".to_owned())
        }
        Answer::Failed => refused("Not stored: the hub failed; see its log.".to_owned()),
    })
}

/// The provider a stored source names, with its settings.
fn stored_provider(source: &Source) -> Result<Provider, Error> {
    serde_json::from_str(&source.settings)
        .map_err(|e| invalid("settings", format!("stored settings do not parse: {e}")))
}

pub async fn drop_previous_secret(db: &Db, id: &str) -> Result<(), Error> {
    sources::drop_previous_secret(db, id.into())
        .await?
        .ok_or(Error::NotFound("source"))?;
    tracing::info!(source = %id, "previous source secret removed");
    Ok(())
}

/// Deletes the source with every event it received; its handler chain is forgotten at once.
pub async fn delete(hub: &Hub, id: &str) -> Result<(), Error> {
    if !sources::delete(&hub.db, id).await? {
        return Err(Error::NotFound("source"));
    }
    hub.handlers.forget_chains();
    tracing::info!(source = %id, "source deleted");
    Ok(())
}

async fn find(db: &Db, id: &str) -> Result<Source, Error> {
    sources::find(db, id)
        .await?
        .ok_or(Error::NotFound("source"))
}

fn checked_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            "give the source a name of 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

fn checked_secret(secret: Option<String>, provider: &Provider) -> Result<String, Error> {
    match secret.map(|s| s.trim().to_owned()) {
        Some(secret) if secret.is_empty() => Err(invalid(
            "secret",
            "must not be blank; leave it out to have one generated",
        )),
        Some(secret) if secret.len() > MAX_SECRET_BYTES => {
            Err(invalid("secret", "at most 512 bytes"))
        }
        Some(secret) => match providers::secret_problem(provider, &secret) {
            Some(problem) => Err(invalid("secret", problem)),
            None => Ok(secret),
        },
        None => Ok(generate_secret(provider)),
    }
}

fn settings_json(provider: &Provider) -> Result<String, Error> {
    serde_json::to_string(provider).map_err(|e| invalid("settings", e.to_string()))
}

/// The URL a provider is given for a source: under the configured public URL, otherwise under
/// the host the asking request was sent to.
pub fn endpoint_url(public_url: Option<&str>, host: Option<&str>, source_id: &str) -> String {
    format!(
        "{}/hooks/{source_id}",
        crate::config::base_url(public_url, host)
    )
}

/// Standard Webhooks secrets are `whsec_` + base64 of random bytes; every other scheme takes
/// any string, so 32 random bytes in hex.
fn generate_secret(provider: &Provider) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    match provider {
        Provider::StandardWebhooks => format!("whsec_{}", STANDARD.encode(bytes)),
        _ => hex::encode(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_settings_are_checked() {
        let none = Map::new();
        assert_eq!(provider_from("github", &none).unwrap(), Provider::GitHub);
        assert!(matches!(
            provider_from("gitlab", &none),
            Err(Error::Invalid {
                field: "provider",
                ..
            })
        ));
        assert!(matches!(
            provider_from("pusher", &none),
            Err(Error::Invalid {
                field: "settings",
                ..
            })
        ));
        let mut key = Map::new();
        key.insert("key".into(), Value::String("app-key".into()));
        assert_eq!(
            provider_from("pusher", &key).unwrap(),
            Provider::Pusher {
                key: "app-key".into()
            }
        );
    }

    #[test]
    fn generated_secrets_fit_their_use() {
        let secret = generate_secret(&Provider::StandardWebhooks);
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(generate_secret(&Provider::GitHub).len(), 64);
    }
}
