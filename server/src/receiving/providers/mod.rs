//! Signature verification for incoming webhooks, one scheme per sender.
//!
//! Everything here is a pure function of the request (method, headers, raw query, exact body
//! bytes), the source's secrets and `now`: no I/O, so tolerance windows test exactly. A
//! [`Verified`] can only be made by [`verify`]. Several secrets may be configured at once so a
//! sender's key can be rotated without refusing deliveries signed with the old one.

mod crypto;
mod generic;
mod handshake;
mod request;
mod sample;
mod schemes;
#[cfg(test)]
mod testing;

use http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};

pub use crypto::{Algorithm, Encoding};
pub use generic::{GenericScheme, GenericSchemeSpec};
pub use handshake::{Handshake, handshake, post_verify_reply};
pub use sample::{Sample, sample};

/// One incoming request as the endpoint received it.
#[derive(Clone, Copy, Debug)]
pub struct Incoming<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    /// The raw query string, without the `?`.
    pub query: Option<&'a str>,
    /// The body exactly as received; signatures cover these bytes, not a re-serialisation.
    pub body: &'a [u8],
    /// The public URL of this endpoint as registered with the sender (Trello signs it).
    pub callback_url: Option<&'a str>,
}

/// How a source's sender signs its requests, with the settings that scheme needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider")]
pub enum Provider {
    #[serde(rename = "github")]
    GitHub,
    #[serde(rename = "stripe")]
    Stripe,
    #[serde(rename = "slack")]
    Slack,
    #[serde(rename = "standard-webhooks")]
    StandardWebhooks,
    #[serde(rename = "shopify")]
    Shopify,
    #[serde(rename = "dropbox")]
    Dropbox,
    /// Trello signs the callback URL it was given; `callback_url` overrides the one this hub
    /// would work out (from `public_url` or the request's Host), for a hub behind a proxy.
    #[serde(rename = "trello")]
    Trello {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        callback_url: Option<String>,
    },
    /// `key` is the Pusher app key; requests naming another app are refused.
    #[serde(rename = "pusher")]
    Pusher { key: String },
    #[serde(rename = "zendesk")]
    Zendesk,
    #[serde(rename = "bitbucket")]
    Bitbucket,
    #[serde(rename = "aspnet")]
    AspNet,
    /// The secret travels as `?code=` in the URL (MailChimp, WordPress, Salesforce, Azure, Kudu).
    #[serde(rename = "secret-in-url")]
    SecretInUrl,
    #[serde(rename = "generic")]
    Generic(GenericScheme),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("unknown provider {0:?}")]
    Unknown(String),
    #[error("the {0} provider needs settings, not just its name")]
    NeedsSettings(&'static str),
    #[error("generic scheme: {0}")]
    InvalidScheme(&'static str),
}

impl Provider {
    /// Every provider name, in the order a form should list them.
    pub const NAMES: [&'static str; 13] = [
        "github",
        "stripe",
        "slack",
        "standard-webhooks",
        "shopify",
        "dropbox",
        "trello",
        "pusher",
        "zendesk",
        "bitbucket",
        "aspnet",
        "secret-in-url",
        "generic",
    ];

    /// The provider for `name`; `pusher` and `generic` need settings and are built directly.
    pub fn parse(name: &str) -> Result<Self, ProviderError> {
        Ok(match name {
            "github" => Self::GitHub,
            "stripe" => Self::Stripe,
            "slack" => Self::Slack,
            "standard-webhooks" => Self::StandardWebhooks,
            "shopify" => Self::Shopify,
            "dropbox" => Self::Dropbox,
            "trello" => Self::Trello { callback_url: None },
            "zendesk" => Self::Zendesk,
            "bitbucket" => Self::Bitbucket,
            "aspnet" => Self::AspNet,
            "secret-in-url" => Self::SecretInUrl,
            "pusher" => return Err(ProviderError::NeedsSettings("pusher")),
            "generic" => return Err(ProviderError::NeedsSettings("generic")),
            other => return Err(ProviderError::Unknown(other.to_owned())),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::GitHub => "github",
            Self::Stripe => "stripe",
            Self::Slack => "slack",
            Self::StandardWebhooks => "standard-webhooks",
            Self::Shopify => "shopify",
            Self::Dropbox => "dropbox",
            Self::Trello { .. } => "trello",
            Self::Pusher { .. } => "pusher",
            Self::Zendesk => "zendesk",
            Self::Bitbucket => "bitbucket",
            Self::AspNet => "aspnet",
            Self::SecretInUrl => "secret-in-url",
            Self::Generic(_) => "generic",
        }
    }
}

/// A shared signing secret, as the sender shows it (for example `whsec_…`).
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Proof that a request carried a valid signature, with what the sender said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    event_type: Option<String>,
    delivery_id: Option<String>,
}

impl Verified {
    /// The sender's name for what happened (`push`, `invoice.paid`, …).
    pub fn event_type(&self) -> Option<&str> {
        self.event_type.as_deref()
    }

    /// The sender's id for this delivery, stable across its retries, for deduplication.
    pub fn delivery_id(&self) -> Option<&str> {
        self.delivery_id.as_deref()
    }
}

/// Why a request was refused. `Display` is a short reason fit to show the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(String),
    #[error("malformed header {header}: {reason}")]
    MalformedHeader {
        header: String,
        reason: &'static str,
    },
    #[error("signature does not match")]
    SignatureMismatch,
    /// The signature matches the body only once re-serialised: the bytes were changed on the way.
    #[error(
        "signature matches the body only as {0}: something between the sender and hookhub \
         (a proxy, a framework) rewrote the body; pass the raw bytes through"
    )]
    BodyRewritten(&'static str),
    #[error(
        "timestamp is {age_secs} s old, more than the {tolerance_secs} s allowed: the \
         request was replayed, or the sender's clock is about {age_secs} s behind this hub's"
    )]
    TimestampTooOld { age_secs: i64, tolerance_secs: i64 },
    #[error(
        "timestamp is {ahead_secs} s in the future, more than the {tolerance_secs} s allowed: \
         the sender's clock is about {ahead_secs} s ahead of this hub's"
    )]
    TimestampInFuture {
        ahead_secs: i64,
        tolerance_secs: i64,
    },
    /// The signature matches the secret a rotation retired (`retired_at`, RFC 3339).
    #[error(
        "signed with a secret this source no longer accepts (retired at {retired_at}): the \
         sender still has the old secret; give it the current one"
    )]
    RetiredSecret { retired_at: String },
    #[error("missing ?code= in the URL")]
    MissingCode,
    #[error("wrong ?code= in the URL")]
    WrongCode,
    #[error("unknown app key")]
    UnknownAppKey,
    /// The source is set up wrongly; nothing the sender can fix.
    #[error("source misconfigured: {0}")]
    Misconfigured(&'static str),
}

impl VerifyError {
    /// The kind of refusal, for counting: the variant's name in snake case.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "missing_header",
            Self::MalformedHeader { .. } => "malformed_header",
            Self::SignatureMismatch => "signature_mismatch",
            Self::BodyRewritten(_) => "body_rewritten",
            Self::RetiredSecret { .. } => "retired_secret",
            Self::TimestampTooOld { .. } => "timestamp_too_old",
            Self::TimestampInFuture { .. } => "timestamp_in_future",
            Self::MissingCode => "missing_code",
            Self::WrongCode => "wrong_code",
            Self::UnknownAppKey => "unknown_app_key",
            Self::Misconfigured(_) => "misconfigured",
        }
    }

    /// The HTTP status to answer with: 400 for a request we cannot read, 401 for one whose
    /// credentials are wrong, stale or absent, 500 when the fault is our configuration.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingHeader(_) | Self::MalformedHeader { .. } => 400,
            Self::SignatureMismatch
            | Self::BodyRewritten(_)
            | Self::RetiredSecret { .. }
            | Self::TimestampTooOld { .. }
            | Self::TimestampInFuture { .. }
            | Self::MissingCode
            | Self::WrongCode
            | Self::UnknownAppKey => 401,
            Self::Misconfigured(_) => 500,
        }
    }
}

/// Why `secret` cannot sign for `provider`, if it cannot. Most schemes key their MAC with the
/// secret's bytes, whatever they are; Standard Webhooks decodes it first.
pub fn secret_problem(provider: &Provider, secret: &str) -> Option<&'static str> {
    match provider {
        Provider::StandardWebhooks => schemes::standard_webhooks_secret_problem(secret),
        _ => None,
    }
}

/// Checks `req` against `provider`'s scheme; any one of `secrets` may have signed it. A JSON
/// body whose signature matches only once re-serialised is refused saying so.
pub fn verify(
    provider: &Provider,
    secrets: &[Secret],
    req: &Incoming,
    now_unix_secs: i64,
) -> Result<Verified, VerifyError> {
    let checked = check(provider, secrets, req, now_unix_secs);
    if checked != Err(VerifyError::SignatureMismatch) || req.body.len() > REWRITE_CHECK_BYTES {
        return checked;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(req.body) else {
        return checked;
    };
    let shapes = [
        (serde_json::to_vec(&json), "compact JSON"),
        (spaced_json(&json), "JSON spaced as Python writes it"),
        (serde_json::to_vec_pretty(&json), "indented JSON"),
    ];
    for (body, shape) in shapes {
        let Ok(body) = body else { continue };
        let rewritten = Incoming {
            body: &body,
            ..*req
        };
        if body != req.body
            && check(provider, secrets, &rewritten, now_unix_secs)
                != Err(VerifyError::SignatureMismatch)
        {
            return Err(VerifyError::BodyRewritten(shape));
        }
    }
    checked
}

/// JSON with a space after each `,` and `:`, as Python's `json.dumps` writes it by default.
fn spaced_json(json: &serde_json::Value) -> serde_json::Result<Vec<u8>> {
    use serde::Serialize;
    use serde_json::ser::{CompactFormatter, Formatter};
    use std::io::{Result, Write};

    struct Spaced;
    impl Formatter for Spaced {
        fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> Result<()> {
            CompactFormatter.begin_array_value(w, first)?;
            if first { Ok(()) } else { w.write_all(b" ") }
        }
        fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> Result<()> {
            CompactFormatter.begin_object_key(w, first)?;
            if first { Ok(()) } else { w.write_all(b" ") }
        }
        fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    json.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out, Spaced,
    ))?;
    Ok(out)
}

/// Bodies up to this size are tried re-serialised when their signature does not match.
const REWRITE_CHECK_BYTES: usize = 1 << 20;

fn check(
    provider: &Provider,
    secrets: &[Secret],
    req: &Incoming,
    now_unix_secs: i64,
) -> Result<Verified, VerifyError> {
    let keys: Vec<&[u8]> = secrets
        .iter()
        .map(Secret::expose)
        .filter(|key| !key.is_empty())
        .collect();
    if keys.is_empty() {
        return Err(VerifyError::Misconfigured("no secret is configured"));
    }
    let now = now_unix_secs;
    match provider {
        Provider::GitHub => schemes::github(&keys, req),
        Provider::Stripe => schemes::stripe(&keys, req, now),
        Provider::Slack => schemes::slack(&keys, req, now),
        Provider::StandardWebhooks => schemes::standard_webhooks(&keys, req, now),
        Provider::Shopify => schemes::shopify(&keys, req),
        Provider::Dropbox => schemes::dropbox(&keys, req),
        Provider::Trello { callback_url } => {
            let mut req = *req;
            if let Some(url) = callback_url {
                req.callback_url = Some(url);
            }
            schemes::trello(&keys, &req)
        }
        Provider::Pusher { key } => schemes::pusher(key, &keys, req),
        Provider::Zendesk => schemes::zendesk(&keys, req),
        Provider::Bitbucket => schemes::bitbucket(&keys, req),
        Provider::AspNet => schemes::aspnet(&keys, req),
        Provider::SecretInUrl => schemes::secret_in_url(&keys, req),
        Provider::Generic(scheme) => scheme.verify(&keys, req, now),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn parses_every_listed_name_back_to_itself() {
        for name in Provider::NAMES {
            match Provider::parse(name) {
                Ok(provider) => assert_eq!(provider.name(), name),
                Err(ProviderError::NeedsSettings(needs)) => assert_eq!(needs, name),
                Err(other) => panic!("{name}: {other}"),
            }
        }
        assert_eq!(
            Provider::parse("gitlab"),
            Err(ProviderError::Unknown("gitlab".into()))
        );
    }

    #[test]
    fn providers_round_trip_through_json_settings() {
        let pusher = Provider::Pusher {
            key: "app-key".into(),
        };
        let json = serde_json::to_string(&pusher).unwrap();
        assert_eq!(json, r#"{"provider":"pusher","key":"app-key"}"#);
        assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), pusher);

        let github: Provider = serde_json::from_str(r#"{"provider":"github"}"#).unwrap();
        assert_eq!(github, Provider::GitHub);
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert!(!format!("{:?}", [secret]).contains("hunter2"));
    }

    #[test]
    fn refuses_to_verify_without_a_usable_secret() {
        let req = Req::post("{}");
        for secrets in [vec![], vec![Secret::new("")]] {
            let err = verify(&Provider::GitHub, &secrets, &req.incoming(), NOW).unwrap_err();
            assert_eq!(err, VerifyError::Misconfigured("no secret is configured"));
            assert_eq!(err.status(), 500);
        }
    }

    #[test]
    fn maps_refusals_to_statuses() {
        assert_eq!(VerifyError::MissingHeader("x".into()).status(), 400);
        let malformed = VerifyError::MalformedHeader {
            header: "x".into(),
            reason: "bad hex",
        };
        assert_eq!(malformed.status(), 400);
        assert_eq!(VerifyError::SignatureMismatch.status(), 401);
        assert_eq!(VerifyError::MissingCode.status(), 401);
        let stale = VerifyError::TimestampTooOld {
            age_secs: 301,
            tolerance_secs: 300,
        };
        assert_eq!(stale.status(), 401);
        assert_eq!(
            stale.to_string(),
            "timestamp is 301 s old, more than the 300 s allowed: the request was replayed, \
             or the sender's clock is about 301 s behind this hub's"
        );
    }
}
