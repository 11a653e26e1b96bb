//! Signing outgoing webhooks.
//!
//! The default is Standard Webhooks: `webhook-id`, `webhook-timestamp` and a
//! `webhook-signature` list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed
//! with the base64-decoded part of a `whsec_…` secret. A subscription may hold several secrets
//! while its key is being rotated; every one of them signs, so receivers holding either the old
//! or the new key keep verifying during the overlap.
//!
//! The ASP.NET WebHooks mode reproduces what `Microsoft.AspNet.WebHooks` senders emit, for
//! receivers written against that library: a `{Id, Attempt, Properties, Notifications}` body and
//! `ms-signature: sha256=<hex HMAC-SHA256 of the body>`, keyed with the secret's text.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, header};
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
pub const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
pub const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");
pub const MS_SIGNATURE: HeaderName = HeaderName::from_static("ms-signature");

/// Whether `name` is one of the signature headers hookhub sends: not a secret (an HMAC of one
/// body proves nothing about the key), and what a subscriber debugging its check needs to see.
pub fn is_signature(name: &HeaderName) -> bool {
    *name == WEBHOOK_SIGNATURE || *name == MS_SIGNATURE
}

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Reading a pasted secret: the standard alphabet, with or without its trailing `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A Standard Webhooks signing secret: `whsec_` followed by the base64 of 24 to 64 key bytes.
///
/// It prints as `[redacted]` and cannot be serialised by accident; [`SigningSecret::expose`] is
/// the one way to the text, for storing it and for showing it when a person asks.
#[derive(Clone)]
pub struct SigningSecret {
    /// Canonical form: `whsec_` + padded standard base64 of `key`.
    text: String,
    key: Vec<u8>,
}

impl SigningSecret {
    pub const PREFIX: &'static str = "whsec_";
    pub const MIN_KEY_BYTES: usize = 24;
    pub const MAX_KEY_BYTES: usize = 64;
    pub const DEFAULT_KEY_BYTES: usize = 32;

    /// A fresh secret of [`Self::DEFAULT_KEY_BYTES`] random bytes from the operating system's
    /// seeded CSPRNG.
    pub fn generate() -> Self {
        let mut key = vec![0u8; Self::DEFAULT_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        Self::from_key(key)
    }

    /// Reads a secret a person supplied. Surrounding whitespace is ignored and missing base64
    /// padding is accepted; the stored form is always canonical (padded), so every Standard
    /// Webhooks library can decode it.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(Self::PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        let key = LENIENT_BASE64
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if !(Self::MIN_KEY_BYTES..=Self::MAX_KEY_BYTES).contains(&key.len()) {
            return Err(SecretError::WrongLength { bytes: key.len() });
        }
        Ok(Self::from_key(key))
    }

    fn from_key(key: Vec<u8>) -> Self {
        let text = format!("{}{}", Self::PREFIX, STANDARD.encode(&key));
        Self { text, key }
    }

    /// The secret's text (`whsec_…`), to store it or to show it to a person who asked.
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Two secrets are equal when their keys are; compared in constant time.
impl PartialEq for SigningSecret {
    fn eq(&self, other: &Self) -> bool {
        self.key.ct_eq(&other.key).into()
    }
}

impl Eq for SigningSecret {}

impl FromStr for SigningSecret {
    type Err = SecretError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Why a supplied secret was refused. The messages never repeat the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a signing secret starts with whsec_")]
    MissingPrefix,
    #[error("the signing secret has nothing after whsec_")]
    Empty,
    #[error("the part of the signing secret after whsec_ is not valid base64")]
    NotBase64,
    #[error(
        "the signing secret decodes to {bytes} bytes; it must be between {} and {} bytes",
        SigningSecret::MIN_KEY_BYTES,
        SigningSecret::MAX_KEY_BYTES
    )]
    WrongLength { bytes: usize },
}

/// Why headers could not be built for an attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the subscription has no signing secret")]
    NoSecret,
    #[error("the message id cannot be sent in an HTTP header")]
    InvalidMessageId,
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail; were it to, the empty MAC would
    // match nothing and receivers would refuse the request rather than accept a bad one.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The `webhook-signature` value: one `v1,<base64>` per secret, space-separated, in the order
/// given. Each signature covers `"{msg_id}.{timestamp_secs}.{body}"`. With no secrets the value
/// is empty (which no receiver accepts); [`standard_headers`] refuses that case.
pub fn sign(msg_id: &str, timestamp_secs: i64, body: &[u8], secrets: &[SigningSecret]) -> String {
    let prefix = format!("{msg_id}.{timestamp_secs}.");
    secrets
        .iter()
        .map(|secret| {
            let mac = hmac_sha256(&secret.key, &[prefix.as_bytes(), body]);
            format!("v1,{}", STANDARD.encode(mac))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The full Standard Webhooks header set for one attempt. `msg_id` is the message's id and
/// stays the same across retries; `timestamp_secs` is the attempt's own time, so each attempt is
/// signed afresh.
pub fn standard_headers(
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
    secrets: &[SigningSecret],
) -> Result<HeaderMap, SignError> {
    if secrets.is_empty() {
        return Err(SignError::NoSecret);
    }
    let id = HeaderValue::from_str(msg_id).map_err(|_| SignError::InvalidMessageId)?;
    let signature = sign(msg_id, timestamp_secs, body, secrets);
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(WEBHOOK_ID, id);
    headers.insert(WEBHOOK_TIMESTAMP, HeaderValue::from(timestamp_secs));
    // Base64, `v1,` and spaces only: always a valid header value.
    if let Ok(signature) = HeaderValue::from_str(&signature) {
        headers.insert(WEBHOOK_SIGNATURE, signature);
    }
    headers.insert(header::CONTENT_TYPE, APPLICATION_JSON);
    Ok(headers)
}

/// The ASP.NET WebHooks `ms-signature` value: `sha256=<lower-case hex HMAC-SHA256 of body>`,
/// keyed with the UTF-8 bytes of the secret's whole text (`whsec_…` included), as
/// `WebHookSender.SignWebHookRequest` keys with `Encoding.UTF8.GetBytes(secret)`.
pub fn aspnet_signature(body: &[u8], secret: &SigningSecret) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.expose().as_bytes(), &[body]))
    )
}

/// Headers for an ASP.NET WebHooks attempt: `ms-signature` and `content-type`.
///
/// The header holds one signature, so only one secret can sign: pass the current one. Rotation
/// with an overlap is not possible in this mode; receivers must switch keys at once.
pub fn aspnet_headers(body: &[u8], secret: &SigningSecret) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(2);
    // `sha256=` and hex digits only: always a valid header value.
    if let Ok(signature) = HeaderValue::from_str(&aspnet_signature(body, secret)) {
        headers.insert(MS_SIGNATURE, signature);
    }
    headers.insert(header::CONTENT_TYPE, APPLICATION_JSON);
    headers
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AspNetBody<'a> {
    id: &'a str,
    attempt: u32,
    properties: &'a Map<String, Value>,
    notifications: [Map<String, Value>; 1],
}

/// The body ASP.NET WebHooks receivers expect, for one message and one attempt:
///
/// `{"Id": msg_id, "Attempt": attempt, "Properties": {...}, "Notifications": [{"Action":
/// event_type, ...}]}`
///
/// This follows `WebHookSender.CreateWebHookRequestBody` and `NotificationDictionary(action,
/// data)`: `Attempt` counts from 1, `Properties` carries the subscription's extra properties
/// (always present, `{}` when there are none, as a registered WebHook's property bag always
/// exists), and a notification is a flat dictionary holding `Action` plus the payload's fields.
/// Two choices of ours: a payload that is not a JSON object (an array, a string, …) has no fields
/// to merge and goes whole under `"Payload"`; and `Action` is always the event type, even if the
/// payload has an `Action` field of its own (ASP.NET would let the data overwrite it, but
/// receivers route on `Action`). One message makes one notification; hookhub does not batch.
pub fn aspnet_body(
    msg_id: &str,
    attempt: u32,
    event_type: &str,
    payload: &Value,
    properties: &Map<String, Value>,
) -> Vec<u8> {
    let mut notification = match payload {
        Value::Object(fields) => fields.clone(),
        other => {
            let mut wrapped = Map::new();
            wrapped.insert("Payload".to_owned(), other.clone());
            wrapped
        }
    };
    notification.insert("Action".to_owned(), Value::String(event_type.to_owned()));
    let body = AspNetBody {
        id: msg_id,
        attempt,
        properties,
        notifications: [notification],
    };
    // Serialising string-keyed maps of JSON values cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receiving::providers::{Incoming, Provider, Secret, verify};
    use http::Method;
    use serde_json::json;

    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;

    fn secret(text: &str) -> SigningSecret {
        SigningSecret::parse(text).expect("test secret is valid")
    }

    fn now_secs() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn signs_the_standard_webhooks_spec_vector() {
        assert_eq!(
            sign(SPEC_ID, SPEC_TS, SPEC_BODY, &[secret(SPEC_SECRET)]),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn several_secrets_give_space_separated_signatures_in_order() {
        let old = secret(SPEC_SECRET);
        let new = SigningSecret::generate();
        let both = sign(SPEC_ID, SPEC_TS, SPEC_BODY, &[old.clone(), new.clone()]);
        let expected = format!(
            "{} {}",
            sign(SPEC_ID, SPEC_TS, SPEC_BODY, &[old]),
            sign(SPEC_ID, SPEC_TS, SPEC_BODY, &[new])
        );
        assert_eq!(both, expected);
    }

    #[test]
    fn standard_webhooks_crate_accepts_our_headers() {
        let secret = SigningSecret::generate();
        let body = br#"{"type":"invoice.paid","data":{"amount":5}}"#;
        let headers =
            standard_headers("msg_1", now_secs(), body, std::slice::from_ref(&secret)).unwrap();

        let verifier = standardwebhooks::Webhook::new(secret.expose()).unwrap();
        verifier.verify(body, &headers).unwrap();
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[WEBHOOK_ID], "msg_1");
    }

    #[test]
    fn during_rotation_each_secret_alone_verifies() {
        let old = SigningSecret::generate();
        let new = SigningSecret::generate();
        let body = b"{}";
        let headers =
            standard_headers("msg_2", now_secs(), body, &[old.clone(), new.clone()]).unwrap();

        for secret in [&old, &new] {
            let verifier = standardwebhooks::Webhook::new(secret.expose()).unwrap();
            verifier.verify(body, &headers).unwrap();
        }
        let stranger = standardwebhooks::Webhook::new(SigningSecret::generate().expose()).unwrap();
        assert!(stranger.verify(body, &headers).is_err());
    }

    #[test]
    fn tampering_with_body_id_or_timestamp_fails_verification() {
        let secret = SigningSecret::generate();
        let verifier = standardwebhooks::Webhook::new(secret.expose()).unwrap();
        let now = now_secs();
        let headers = standard_headers("msg_3", now, b"{\"a\":1}", &[secret]).unwrap();

        assert!(verifier.verify(b"{\"a\":2}", &headers).is_err());

        let mut other_id = headers.clone();
        other_id.insert(WEBHOOK_ID, HeaderValue::from_static("msg_4"));
        assert!(verifier.verify(b"{\"a\":1}", &other_id).is_err());

        let mut other_ts = headers.clone();
        other_ts.insert(WEBHOOK_TIMESTAMP, HeaderValue::from(now - 1));
        assert!(verifier.verify(b"{\"a\":1}", &other_ts).is_err());
    }

    #[test]
    fn headers_need_a_secret_and_a_header_safe_id() {
        let secret = SigningSecret::generate();
        assert_eq!(
            standard_headers("msg_1", 1, b"{}", &[]),
            Err(SignError::NoSecret)
        );
        assert_eq!(
            standard_headers("msg\n1", 1, b"{}", &[secret]),
            Err(SignError::InvalidMessageId)
        );
    }

    #[test]
    fn generated_secrets_are_32_random_bytes_and_parse_back() {
        let a = SigningSecret::generate();
        let b = SigningSecret::generate();
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(a.key.len(), 32);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(SigningSecret::parse(a.expose()).unwrap().key, a.key);
    }

    #[test]
    fn parses_valid_secrets_and_canonicalises_padding() {
        let padded = format!("whsec_{}", STANDARD.encode([7u8; 25]));
        assert!(padded.ends_with('='));
        let unpadded = padded.trim_end_matches('=');
        let parsed = SigningSecret::parse(&format!("  {unpadded}\n")).unwrap();
        assert_eq!(parsed.expose(), padded);
        assert_eq!(secret(SPEC_SECRET).expose(), SPEC_SECRET);
        assert!(SigningSecret::parse(&format!("whsec_{}", STANDARD.encode([1u8; 64]))).is_ok());
    }

    #[test]
    fn refuses_malformed_secrets_with_clear_reasons() {
        assert_eq!(
            SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::MissingPrefix)
        );
        assert_eq!(SigningSecret::parse("whsec_"), Err(SecretError::Empty));
        assert_eq!(
            SigningSecret::parse("whsec_not*base64!"),
            Err(SecretError::NotBase64)
        );
        let short = format!("whsec_{}", STANDARD.encode([1u8; 23]));
        assert_eq!(
            SigningSecret::parse(&short),
            Err(SecretError::WrongLength { bytes: 23 })
        );
        let long = format!("whsec_{}", STANDARD.encode([1u8; 65]));
        assert_eq!(
            SigningSecret::parse(&long),
            Err(SecretError::WrongLength { bytes: 65 })
        );
        assert_eq!(
            SecretError::WrongLength { bytes: 23 }.to_string(),
            "the signing secret decodes to 23 bytes; it must be between 24 and 64 bytes"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = secret(SPEC_SECRET);
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", [secret]), "[[redacted]]");
    }

    #[test]
    fn aspnet_body_has_the_webhookmanager_shape() {
        let mut properties = Map::new();
        properties.insert("tenant".to_owned(), json!("acme"));
        let body = aspnet_body(
            "msg_9",
            2,
            "invoice.paid",
            &json!({"amount": 5, "Action": "ignored"}),
            &properties,
        );
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({
                "Id": "msg_9",
                "Attempt": 2,
                "Properties": {"tenant": "acme"},
                "Notifications": [{"Action": "invoice.paid", "amount": 5}],
            })
        );
    }

    #[test]
    fn aspnet_body_wraps_a_payload_that_is_not_an_object() {
        let body = aspnet_body("msg_9", 1, "ping", &json!([1, 2]), &Map::new());
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["Properties"], json!({}));
        assert_eq!(
            body["Notifications"],
            json!([{"Action": "ping", "Payload": [1, 2]}])
        );
    }

    #[test]
    fn aspnet_signature_is_hex_hmac_of_body_keyed_with_secret_text() {
        let secret = secret(SPEC_SECRET);
        let body = br#"{"Id":"1"}"#;
        let expected = hmac_sha256(SPEC_SECRET.as_bytes(), &[body]);
        assert_eq!(
            aspnet_signature(body, &secret),
            format!("sha256={}", hex::encode(expected))
        );
    }

    #[test]
    fn our_aspnet_receiver_verifies_what_we_send() {
        let secret = SigningSecret::generate();
        let body = aspnet_body(
            "msg_7",
            1,
            "order.created",
            &json!({"Total": 5}),
            &Map::new(),
        );
        let headers = aspnet_headers(&body, &secret);
        let incoming = Incoming {
            method: &Method::POST,
            headers: &headers,
            query: None,
            body: &body,
            callback_url: None,
        };
        let keys = [Secret::new(secret.expose().as_bytes())];

        let verified = verify(&Provider::AspNet, &keys, &incoming, now_secs()).unwrap();
        assert_eq!(verified.event_type(), Some("order.created"));
        assert_eq!(verified.delivery_id(), Some("msg_7"));
    }
}
