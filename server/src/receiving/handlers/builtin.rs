//! The handler kinds every hub has: `respond`, `forward` and `publish`.

use std::sync::Arc;

use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use super::{Handler, HandlerKind, Received, Reply, SettingError, Step};
use crate::outbound::{Outbound, validate_url};
use crate::sending::filter::validate_name;
use crate::sending::subscriptions::publish;
use crate::sending::worker::DeliveryWorker;
use crate::storage::events::Event;
use crate::storage::messages::Published;
use crate::storage::{Db, catalog};

/// The built-in kinds, for [`super::HandlerKinds::new`].
pub fn kinds(db: Db, outbound: Outbound, deliveries: DeliveryWorker) -> Vec<Arc<dyn HandlerKind>> {
    vec![
        Arc::new(RespondKind),
        Arc::new(ForwardKind(outbound)),
        Arc::new(PublishKind { db, deliveries }),
    ]
}

/// `respond`: answers the sender with a fixed status, content type and body, and ends the chain
/// (a fixed Slack reply, `410 Gone` for a retired endpoint, …).
struct RespondKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RespondConfig {
    status: u16,
    #[serde(default = "default_content_type")]
    content_type: String,
    #[serde(default)]
    body: String,
}

fn default_content_type() -> String {
    "text/plain; charset=utf-8".to_owned()
}

struct Respond(Reply);

impl HandlerKind for RespondKind {
    fn name(&self) -> &'static str {
        "respond"
    }

    fn build(&self, config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        let config = RespondConfig::deserialize(config).map_err(SettingError::unreadable)?;
        let status = StatusCode::from_u16(config.status)
            .ok()
            .filter(|s| (200..600).contains(&s.as_u16()))
            .ok_or_else(|| SettingError::new("status", "between 200 and 599"))?;
        let content_type = HeaderValue::from_str(config.content_type.trim())
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                SettingError::new("content_type", "a header value such as application/json")
            })?;
        if let Some(active) = active_content(&content_type) {
            return Err(SettingError::new(
                "content_type",
                format!(
                    "{active} is refused: a browser would run it as a page of this hub; \
                     use text/plain or application/json"
                ),
            ));
        }
        Ok(Arc::new(Respond(Reply {
            status,
            content_type,
            body: config.body.into_bytes(),
        })))
    }

    fn describe(&self, config: &Value) -> String {
        match RespondConfig::deserialize(config) {
            Ok(c) => format!(
                "answers {} ({}), {} bytes",
                c.status,
                c.content_type,
                c.body.len()
            ),
            Err(_) => "answers the sender".to_owned(),
        }
    }
}

/// The first media type in `content_type` that a browser renders as a document or runs as
/// script (HTML, XML and its `+xml` kin such as SVG, script, XSLT), if any. A reply is served
/// from the hub's own origin, so such a body could act as the signed-in person looking at it.
/// Browsers read a comma-separated value by its last valid type, so every part is checked.
fn active_content(content_type: &HeaderValue) -> Option<String> {
    const ACTIVE: &[&str] = &[
        "text/html",
        "text/xml",
        "text/xsl",
        "application/xml",
        "application/pdf",
        "text/javascript",
        "text/ecmascript",
        "text/jscript",
        "text/vbscript",
        "text/livescript",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/x-ecmascript",
        "multipart/x-mixed-replace",
    ];
    let text = String::from_utf8_lossy(content_type.as_bytes()).to_ascii_lowercase();
    text.split(',')
        .map(|part| part.split(';').next().unwrap_or_default().trim())
        .find(|essence| {
            ACTIVE.contains(essence) || essence.ends_with("+xml") || essence.ends_with("script")
        })
        .map(str::to_owned)
}

impl Handler for Respond {
    fn decide(&self, _event: &Received<'_>) -> Step {
        Step::Answer(self.0.clone())
    }

    fn run<'a>(&'a self, _event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async { Ok("answered the sender".to_owned()) })
    }
}

/// `forward`: relays the event to another URL, exactly: the same body bytes and the sender's
/// headers (so the receiver can check the provider's own signature), plus `x-hookhub-event-id`
/// and `x-hookhub-source`. Any 2xx is success; anything else is tried again.
struct ForwardKind(Outbound);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardConfig {
    url: String,
}

struct Forward {
    outbound: Outbound,
    url: String,
}

/// Headers that describe one hop, not the message: never relayed (by `forward`, or by
/// `hookhub listen`).
pub const HOP_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "expect",
];

impl HandlerKind for ForwardKind {
    fn name(&self) -> &'static str {
        "forward"
    }

    fn build(&self, config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        let config = ForwardConfig::deserialize(config).map_err(SettingError::unreadable)?;
        let url =
            validate_url(config.url.trim()).map_err(|e| SettingError::new("url", e.to_string()))?;
        Ok(Arc::new(Forward {
            outbound: self.0.clone(),
            url: url.to_string(),
        }))
    }

    /// As for a subscription: every address the URL's host resolves to must be allowed. The
    /// check is repeated at connect time, as DNS can change.
    fn check_on_save<'a>(&'a self, config: &'a Value) -> BoxFuture<'a, Result<(), SettingError>> {
        Box::pin(async move {
            let config = ForwardConfig::deserialize(config).map_err(SettingError::unreadable)?;
            self.0
                .check_destination(config.url.trim())
                .await
                .map_err(|e| SettingError::new("url", e.to_string()))
        })
    }

    fn describe(&self, config: &Value) -> String {
        match ForwardConfig::deserialize(config) {
            Ok(c) => format!("forwards to {}", c.url),
            Err(_) => "forwards the event".to_owned(),
        }
    }
}

impl Handler for Forward {
    fn run<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let mut headers = HeaderMap::new();
            for (name, value) in &event.headers.0 {
                if HOP_HEADERS.contains(&name.as_str()) {
                    continue;
                }
                if let (Ok(name), Ok(value)) = (
                    HeaderName::try_from(name.as_str()),
                    HeaderValue::try_from(value.as_str()),
                ) {
                    headers.append(name, value);
                }
            }
            headers.insert("x-hookhub-event-id", HeaderValue::from(event.id));
            if let Ok(source) = HeaderValue::try_from(event.source_id.as_str()) {
                headers.insert("x-hookhub-source", source);
            }
            let result = self
                .outbound
                .post(&self.url, headers, event.body.clone().into())
                .await;
            let took = result.duration.as_millis();
            match (result.status, result.error) {
                (Some(status), _) if (200..300).contains(&status) => {
                    Ok(format!("HTTP {status} in {took} ms"))
                }
                (Some(status), _) => Err(format!("HTTP {status} in {took} ms")),
                (None, Some(error)) => Err(error.to_string()),
                (None, None) => Err("no answer".to_owned()),
            }
        })
    }
}

/// `publish`: the hub's routing. Publishes the verified event as an outgoing message of a
/// catalog type (GitHub `push` → `github.push`): its JSON body becomes the payload (a body that
/// is not JSON travels as `{"body": text}`), and every matching subscription gets a signed
/// delivery. Runs again after a crash publish nothing twice: the message's idempotency key is
/// the event and type.
struct PublishKind {
    db: Db,
    deliveries: DeliveryWorker,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishConfig {
    event_type: String,
}

struct Publish {
    db: Db,
    deliveries: DeliveryWorker,
    event_type: String,
}

impl HandlerKind for PublishKind {
    fn name(&self) -> &'static str {
        "publish"
    }

    fn build(&self, config: &Value) -> Result<Arc<dyn Handler>, SettingError> {
        let config = PublishConfig::deserialize(config).map_err(SettingError::unreadable)?;
        let event_type = config.event_type.trim().to_owned();
        validate_name(&event_type).map_err(|e| SettingError::new("publish_as", e.to_string()))?;
        Ok(Arc::new(Publish {
            db: self.db.clone(),
            deliveries: self.deliveries.clone(),
            event_type,
        }))
    }

    /// The type must be in the catalog, as for a subscription's names: else every run fails.
    fn check_on_save<'a>(&'a self, config: &'a Value) -> BoxFuture<'a, Result<(), SettingError>> {
        Box::pin(async move {
            let config = PublishConfig::deserialize(config).map_err(SettingError::unreadable)?;
            let name = config.event_type.trim();
            match catalog::find(&self.db, name).await {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(SettingError::new(
                    "publish_as",
                    format!(
                        "the event type {name} is not in the catalog: add it under Event types first"
                    ),
                )),
                Err(err) => {
                    tracing::error!(error = %err, "reading the catalog to check a handler failed");
                    Err(SettingError::new(
                        "publish_as",
                        "the catalog could not be read; try again",
                    ))
                }
            }
        })
    }

    fn describe(&self, config: &Value) -> String {
        match PublishConfig::deserialize(config) {
            Ok(c) => format!("publishes as {}", c.event_type),
            Err(_) => "publishes the event".to_owned(),
        }
    }
}

impl Handler for Publish {
    fn run<'a>(&'a self, event: &'a Event) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let payload = serde_json::from_slice(&event.body).unwrap_or_else(
                |_| serde_json::json!({ "body": String::from_utf8_lossy(&event.body) }),
            );
            let key = format!("event-{}-{}", event.id, self.event_type);
            let published = publish(
                &self.db,
                &self.deliveries,
                &self.event_type,
                &payload,
                Some(key),
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(match published.published {
                Published::New {
                    message_id,
                    deliveries,
                } => format!("published {message_id} to {deliveries} subscriptions"),
                Published::Existing { message_id } => format!("published {message_id} before"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn respond_settings_are_checked() {
        let setting = |config: Value| RespondKind.build(&config).err().map(|e| e.setting);
        assert_eq!(setting(json!({"status": 410})), None);
        assert_eq!(setting(json!({"status": 99})), Some("status"));
        assert_eq!(setting(json!({"status": "x"})), Some("settings"));
        assert_eq!(
            setting(json!({"status": 200, "content_type": "a\nb"})),
            Some("content_type")
        );
        assert_eq!(
            setting(json!({"status": 200, "other": 1})),
            Some("settings")
        );
    }

    #[test]
    fn respond_refuses_content_a_browser_would_run() {
        let content_type = |ct: &str| {
            RespondKind
                .build(&json!({"status": 200, "content_type": ct}))
                .err()
                .map(|e| e.setting)
        };
        for active in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            " application/xhtml+xml",
            "image/svg+xml",
            "text/javascript",
            "application/javascript",
            "text/xml",
            "application/xml",
            "text/plain, text/html",
        ] {
            assert_eq!(content_type(active), Some("content_type"), "{active}");
        }
        for inert in [
            "text/plain",
            "application/json; charset=utf-8",
            "application/x-www-form-urlencoded",
            "image/png",
        ] {
            assert_eq!(content_type(inert), None, "{inert}");
        }
    }
}
