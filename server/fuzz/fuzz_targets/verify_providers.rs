//! Every receiving scheme against requests built from fuzz bytes: `handshake`, `verify` and
//! `post_verify_reply` must answer, never panic or hang, whatever the headers, query and body.
//!
//! Input: provider, flags, method, [now], timestamp skew, secrets, the provider's settings (or
//! its JSON with `FROM_JSON`), callback URL, query, headers (a selector byte picks a header
//! some scheme reads, or the name follows), then the body: the rest. With `SIGN` the target
//! signs the request with the first secret as the real sender would, so the fuzzer also
//! reaches what runs only after a signature matches (JSON labels, Slack's challenge): it could
//! never guess an HMAC.

#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use hookhub_fuzz::{Reader, header_name};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use server::receiving::providers::{
    Algorithm, Encoding, GenericScheme, GenericSchemeSpec, Incoming, Provider, Secret, handshake,
    post_verify_reply, verify,
};

const NOW: i64 = 1_750_000_000;
const SIGN: u8 = 1;
const CALLBACK_OVERRIDE: u8 = 2;
const FROM_JSON: u8 = 4;
const FUZZED_NOW: u8 = 8;
/// The longest reply a handshake may echo (`MAX_CHALLENGE_BYTES` in the server).
const MAX_REPLY_BYTES: usize = 1024;

fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let mut input = Reader::new(data);
    let index = usize::from(input.byte()) % Provider::NAMES.len();
    let flags = input.byte();
    let method = input
        .pick(&[Method::POST, Method::GET, Method::HEAD, Method::PUT])
        .clone();
    let now = if flags & FUZZED_NOW != 0 {
        input.i64()
    } else {
        NOW
    };
    let skew = i64::from(input.u16() as i16);
    let mut secrets: Vec<Vec<u8>> = (0..input.byte() % 4)
        .map(|_| input.bytes().to_vec())
        .collect();
    let provider = if flags & FROM_JSON != 0 {
        serde_json::from_slice::<Provider>(input.bytes()).ok()
    } else {
        provider(index, flags, &mut input)
    };
    let Some(provider) = provider else {
        return;
    };
    let callback_url = input.option(|input| input.text().into_owned());
    let mut query = input.option(|input| input.text().into_owned());
    let mut headers = HeaderMap::new();
    for _ in 0..input.byte() % 12 {
        let name = header_name(&mut input);
        let value = input.bytes();
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    let body = input.rest();

    if flags & SIGN != 0 {
        let request = Unsigned {
            timestamp: now.saturating_add(skew).to_string(),
            callback_url: callback_url.as_deref(),
            body,
        };
        request.sign(&provider, &mut secrets, &mut query, &mut headers);
    }
    let secrets: Vec<Secret> = secrets.into_iter().map(Secret::new).collect();
    let req = Incoming {
        method: &method,
        headers: &headers,
        query: query.as_deref(),
        body,
        callback_url: callback_url.as_deref(),
    };

    if let Some(reply) = handshake(&provider, &req) {
        assert!(
            reply.body.len() <= MAX_REPLY_BYTES,
            "handshake echoed too much"
        );
    }
    let result = verify(&provider, &secrets, &req, now);
    if verbose() {
        eprintln!("{} -> {result:?}", provider.name());
    }
    match result {
        Ok(verified) => {
            let _ = (verified.event_type(), verified.delivery_id());
            if let Some(reply) = post_verify_reply(&provider, &req, &verified) {
                assert!(reply.body.len() <= MAX_REPLY_BYTES, "reply echoed too much");
            }
        }
        Err(err) => {
            assert!(matches!(err.status(), 400 | 401 | 500));
            let _ = err.to_string();
        }
    }
}

/// `FUZZ_VERBOSE=1` prints each outcome, to check what seeds reach: run the target binary on a
/// corpus directory with `-runs=0`.
fn verbose() -> bool {
    static VERBOSE: OnceLock<bool> = OnceLock::new();
    *VERBOSE.get_or_init(|| std::env::var_os("FUZZ_VERBOSE").is_some())
}

fn provider(index: usize, flags: u8, input: &mut Reader) -> Option<Provider> {
    Some(match Provider::NAMES[index] {
        "pusher" => Provider::Pusher {
            key: input.text().into_owned(),
        },
        "generic" => Provider::Generic(GenericScheme::new(generic_spec(input)).ok()?),
        "trello" => Provider::Trello {
            callback_url: (flags & CALLBACK_OVERRIDE != 0).then(|| input.text().into_owned()),
        },
        name => Provider::parse(name).expect("every listed name without settings parses"),
    })
}

/// A generic scheme; the template is usually assembled from its tokens so that many specs
/// pass `GenericScheme::new` and reach `verify`.
fn generic_spec(input: &mut Reader) -> GenericSchemeSpec {
    let signature_header = header_name(input).into_owned();
    let algorithm = *input.pick(&[Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512]);
    let encoding = *input.pick(&[Encoding::Hex, Encoding::Base64]);
    let prefix = input.text().into_owned();
    let signed_template = if input.flag() {
        input.text().into_owned()
    } else {
        (0..input.byte() % 6)
            .map(|_| match input.byte() % 4 {
                0 => "{body}".to_owned(),
                1 => "{timestamp}".to_owned(),
                2 => "{id}".to_owned(),
                _ => input.text().into_owned(),
            })
            .collect()
    };
    GenericSchemeSpec {
        signature_header,
        algorithm,
        encoding,
        prefix,
        signed_template,
        timestamp_header: input.option(|input| header_name(input).into_owned()),
        tolerance_secs: input.option(Reader::u32),
        id_header: input.option(|input| header_name(input).into_owned()),
        event_type_header: input.option(|input| header_name(input).into_owned()),
    }
}

/// What a sender signs besides the body's own bytes.
struct Unsigned<'a> {
    timestamp: String,
    callback_url: Option<&'a str>,
    body: &'a [u8],
}

const DELIVERY_ID: &str = "dlv_fuzz";

impl Unsigned<'_> {
    /// Adds the headers (or `?code=`) `provider`'s sender would, signed with the first
    /// non-empty secret; Standard Webhooks' secret is replaced by its `whsec_` form.
    fn sign(
        &self,
        provider: &Provider,
        secrets: &mut [Vec<u8>],
        query: &mut Option<String>,
        headers: &mut HeaderMap,
    ) {
        let Some(slot) = secrets.iter().position(|secret| !secret.is_empty()) else {
            return;
        };
        let key = secrets[slot].clone();
        let (ts, body) = (self.timestamp.as_str(), self.body);
        let sha256 = |parts: &[&[u8]]| mac(Algorithm::Sha256, &key, parts);
        let mut set = |name: &str, value: String| {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        };
        match provider {
            Provider::GitHub => set(
                "x-hub-signature-256",
                format!("sha256={}", hex::encode(sha256(&[body]))),
            ),
            Provider::Stripe => set(
                "stripe-signature",
                format!(
                    "t={ts},v1={}",
                    hex::encode(sha256(&[ts.as_bytes(), b".", body]))
                ),
            ),
            Provider::Slack => {
                set("x-slack-request-timestamp", ts.to_owned());
                let mac = sha256(&[b"v0:", ts.as_bytes(), b":", body]);
                set("x-slack-signature", format!("v0={}", hex::encode(mac)));
            }
            Provider::StandardWebhooks => {
                secrets[slot] = format!("whsec_{}", BASE64.encode(&key)).into_bytes();
                let mac = sha256(&[DELIVERY_ID.as_bytes(), b".", ts.as_bytes(), b".", body]);
                set("webhook-id", DELIVERY_ID.to_owned());
                set("webhook-timestamp", ts.to_owned());
                set("webhook-signature", format!("v1,{}", BASE64.encode(mac)));
            }
            Provider::Shopify => set("x-shopify-hmac-sha256", BASE64.encode(sha256(&[body]))),
            Provider::Dropbox => set("x-dropbox-signature", hex::encode(sha256(&[body]))),
            Provider::Trello { callback_url } => {
                if let Some(url) = callback_url.as_deref().or(self.callback_url) {
                    let mac = mac(Algorithm::Sha1, &key, &[body, url.as_bytes()]);
                    set("x-trello-webhook", BASE64.encode(mac));
                }
            }
            Provider::Pusher { key: app_key } => {
                set("x-pusher-key", app_key.clone());
                set("x-pusher-signature", hex::encode(sha256(&[body])));
            }
            Provider::Zendesk => {
                set("x-zendesk-webhook-signature-timestamp", ts.to_owned());
                let mac = sha256(&[ts.as_bytes(), body]);
                set("x-zendesk-webhook-signature", BASE64.encode(mac));
            }
            Provider::Bitbucket => set(
                "x-hub-signature",
                format!("sha256={}", hex::encode(sha256(&[body]))),
            ),
            Provider::AspNet => set(
                "ms-signature",
                format!("sha256={}", hex::encode(sha256(&[body]))),
            ),
            Provider::SecretInUrl => {
                let code: String = key.iter().map(|byte| format!("%{byte:02X}")).collect();
                let rest = query.take().unwrap_or_default();
                *query = Some(format!("code={code}&{rest}"));
            }
            Provider::Generic(scheme) => {
                let spec = scheme.spec();
                if let Some(name) = &spec.timestamp_header {
                    set(name, ts.to_owned());
                }
                if let Some(name) = &spec.id_header {
                    set(name, DELIVERY_ID.to_owned());
                }
                let parts = template_parts(&spec.signed_template, ts, body);
                let mac = mac(spec.algorithm, &key, &parts);
                let encoded = match spec.encoding {
                    Encoding::Hex => hex::encode(mac),
                    Encoding::Base64 => BASE64.encode(mac),
                };
                set(&spec.signature_header, format!("{}{encoded}", spec.prefix));
            }
        }
    }
}

/// The bytes a checked template stands for; it holds no braces but its three tokens.
fn template_parts<'a>(template: &'a str, ts: &'a str, body: &'a [u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        parts.push(rest[..open].as_bytes());
        let close = rest[open..].find('}').map_or(rest.len(), |i| open + i + 1);
        parts.push(match &rest[open..close] {
            "{body}" => body,
            "{timestamp}" => ts.as_bytes(),
            "{id}" => DELIVERY_ID.as_bytes(),
            _ => &[],
        });
        rest = &rest[close..];
    }
    parts.push(rest.as_bytes());
    parts
}

fn mac(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn with<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        Algorithm::Sha1 => with::<Hmac<sha1::Sha1>>(key, parts),
        Algorithm::Sha256 => with::<Hmac<sha2::Sha256>>(key, parts),
        Algorithm::Sha512 => with::<Hmac<sha2::Sha512>>(key, parts),
    }
}
