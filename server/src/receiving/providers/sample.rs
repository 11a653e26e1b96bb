//! A request signed the way each provider signs, for a source to be tried before its provider is
//! connected: the overview's getting started shows it as a `curl` command, ready to run.
//! Each sample passes its provider's own verifier (tested below), so a refusal it meets says
//! something about the hub, not about the sample.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::Provider;
use super::crypto::{Algorithm, decode_base64_key, hmac};

/// One signed request: extra query, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Appended to the endpoint's URL as `?…` (the secret-in-URL scheme), when any.
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A test request for a source of `provider` with `secret`, signed at `now` (Unix seconds);
/// `endpoint` is the URL it is sent to (Trello signs it). `None` for a generic scheme, whose
/// signing is whatever its settings say.
pub fn sample(provider: &Provider, secret: &str, endpoint: &str, now: i64) -> Option<Sample> {
    let key = secret.as_bytes();
    let hex = |algorithm, parts: &[&[u8]]| hex::encode(hmac(algorithm, key, parts));
    let base64 = |algorithm, parts: &[&[u8]]| STANDARD.encode(hmac(algorithm, key, parts));
    let header = |name: &str, value: String| (name.to_owned(), value);
    let json = |text: &str| {
        (
            "content-type".to_owned(),
            if text.starts_with('{') {
                "application/json".to_owned()
            } else {
                "application/x-www-form-urlencoded".to_owned()
            },
        )
    };
    let (body, mut headers, query) = match provider {
        Provider::GitHub => {
            let body = r#"{"zen":"Sent by hookhub to try this source."}"#;
            let signature = hex(Algorithm::Sha256, &[body.as_bytes()]);
            let headers = vec![
                header("x-github-event", "ping".into()),
                header("x-github-delivery", format!("hookhub-test-{now}")),
                header("x-hub-signature-256", format!("sha256={signature}")),
            ];
            (body, headers, None)
        }
        Provider::Stripe => {
            let body = r#"{"id":"evt_hookhub_test","type":"hookhub.test","data":{"object":{}}}"#;
            let t = now.to_string();
            let signature = hex(Algorithm::Sha256, &[t.as_bytes(), b".", body.as_bytes()]);
            let headers = vec![header("stripe-signature", format!("t={t},v1={signature}"))];
            (body, headers, None)
        }
        Provider::Slack => {
            let body = r#"{"type":"event_callback","event_id":"EvHookhubTest","event":{"type":"hookhub_test"}}"#;
            let t = now.to_string();
            let signature = hex(
                Algorithm::Sha256,
                &[b"v0:", t.as_bytes(), b":", body.as_bytes()],
            );
            let headers = vec![
                header("x-slack-request-timestamp", t),
                header("x-slack-signature", format!("v0={signature}")),
            ];
            (body, headers, None)
        }
        Provider::StandardWebhooks => {
            let body = r#"{"type":"hookhub.test","data":{}}"#;
            let key = decode_base64_key(secret.strip_prefix("whsec_").unwrap_or(secret))?;
            let (id, t) = (format!("msg_hookhub_test_{now}"), now.to_string());
            let signed: [&[u8]; 5] = [id.as_bytes(), b".", t.as_bytes(), b".", body.as_bytes()];
            let signature = STANDARD.encode(hmac(Algorithm::Sha256, &key, &signed));
            let headers = vec![
                header("webhook-id", id),
                header("webhook-timestamp", t),
                header("webhook-signature", format!("v1,{signature}")),
            ];
            (body, headers, None)
        }
        Provider::Shopify => {
            let body = r#"{"id":1,"note":"Sent by hookhub to try this source."}"#;
            let headers = vec![
                header("x-shopify-topic", "hookhub/test".into()),
                header("x-shopify-webhook-id", format!("hookhub-test-{now}")),
                header(
                    "x-shopify-hmac-sha256",
                    base64(Algorithm::Sha256, &[body.as_bytes()]),
                ),
            ];
            (body, headers, None)
        }
        Provider::Dropbox => {
            let body = r#"{"list_folder":{"accounts":[]},"delta":{"users":[]}}"#;
            let headers = vec![header(
                "x-dropbox-signature",
                hex(Algorithm::Sha256, &[body.as_bytes()]),
            )];
            (body, headers, None)
        }
        Provider::Trello { callback_url } => {
            let body = r#"{"action":{"type":"hookhubTest"},"model":{}}"#;
            let url = callback_url.as_deref().unwrap_or(endpoint);
            let headers = vec![header(
                "x-trello-webhook",
                base64(Algorithm::Sha1, &[body.as_bytes(), url.as_bytes()]),
            )];
            (body, headers, None)
        }
        Provider::Pusher { key: app_key } => {
            let body = r#"{"time_ms":0,"events":[{"name":"hookhub_test"}]}"#;
            let headers = vec![
                header("x-pusher-key", app_key.clone()),
                header(
                    "x-pusher-signature",
                    hex(Algorithm::Sha256, &[body.as_bytes()]),
                ),
            ];
            (body, headers, None)
        }
        Provider::Zendesk => {
            let body = r#"{"type":"zen:event-type:hookhub.test","id":"hookhub-test","detail":{}}"#;
            let t = chrono::DateTime::from_timestamp(now, 0)?
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let signature = base64(Algorithm::Sha256, &[t.as_bytes(), body.as_bytes()]);
            let headers = vec![
                header("x-zendesk-webhook-signature-timestamp", t),
                header("x-zendesk-webhook-signature", signature),
            ];
            (body, headers, None)
        }
        Provider::Bitbucket => {
            let body = r#"{"push":{"changes":[]},"repository":{"name":"hookhub-test"}}"#;
            let signature = hex(Algorithm::Sha256, &[body.as_bytes()]);
            let headers = vec![
                header("x-event-key", "repo:push".into()),
                header("x-hub-signature", format!("sha256={signature}")),
            ];
            (body, headers, None)
        }
        Provider::AspNet => {
            let body = r#"{"Id":"hookhub-test","Attempt":1,"Properties":{},"Notifications":[{"Action":"hookhub.test"}]}"#;
            let signature = hex(Algorithm::Sha256, &[body.as_bytes()]);
            let headers = vec![header("ms-signature", format!("sha256={signature}"))];
            (body, headers, None)
        }
        Provider::SecretInUrl => {
            let body = r#"{"type":"hookhub.test"}"#;
            let code: String = form_urlencoded::byte_serialize(key).collect();
            (body, Vec::new(), Some(format!("code={code}")))
        }
        Provider::Generic(_) => return None,
    };
    headers.insert(0, json(body));
    Some(Sample {
        query,
        headers,
        body: body.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderName, HeaderValue, Method};

    use super::*;
    use crate::receiving::providers::{Incoming, Secret, verify};

    const NOW: i64 = 1_764_000_000;
    const ENDPOINT: &str = "https://hooks.example.com/hooks/src_1";

    fn verifies(provider: Provider, secret: &str) {
        let sample = sample(&provider, secret, ENDPOINT, NOW).expect("a sample");
        let mut headers = HeaderMap::new();
        for (name, value) in &sample.headers {
            headers.append(
                HeaderName::try_from(name.as_str()).unwrap(),
                HeaderValue::try_from(value.as_str()).unwrap(),
            );
        }
        let incoming = Incoming {
            method: &Method::POST,
            headers: &headers,
            query: sample.query.as_deref(),
            body: sample.body.as_bytes(),
            callback_url: Some(ENDPOINT),
        };
        let verified = verify(&provider, &[Secret::new(secret)], &incoming, NOW);
        assert!(verified.is_ok(), "{}: {verified:?}", provider.name());
        // And with another secret it is refused: the sample is signed, not merely shaped.
        let refused = verify(&provider, &[Secret::new("another secret")], &incoming, NOW);
        assert!(
            refused.is_err(),
            "{} accepted a wrong secret",
            provider.name()
        );
    }

    #[test]
    fn every_providers_sample_passes_its_verifier() {
        for provider in [
            Provider::GitHub,
            Provider::Stripe,
            Provider::Slack,
            Provider::Shopify,
            Provider::Dropbox,
            Provider::Trello { callback_url: None },
            Provider::Pusher {
                key: "app-key".into(),
            },
            Provider::Zendesk,
            Provider::Bitbucket,
            Provider::AspNet,
            Provider::SecretInUrl,
        ] {
            verifies(provider, "a secret with spaces & symbols");
        }
        verifies(
            Provider::StandardWebhooks,
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        );
    }
}
