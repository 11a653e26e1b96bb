//! A configurable HMAC scheme for senders without a named provider.

use http::HeaderName;
use serde::{Deserialize, Serialize};

use super::crypto::{Algorithm, Encoding, any_key_signed};
use super::request::{
    check_timestamp, label_header, parse_unix_secs, required_header, strip_prefix,
};
use super::{Incoming, ProviderError, Verified, VerifyError};

const MAX_PREFIX_CHARS: usize = 64;
const MAX_TEMPLATE_CHARS: usize = 256;

/// What an operator writes to describe a sender's scheme. Turn it into a [`GenericScheme`]
/// with [`GenericScheme::new`], which checks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericSchemeSpec {
    pub signature_header: String,
    pub algorithm: Algorithm,
    pub encoding: Encoding,
    /// Text before the encoded MAC, such as `sha256=`; compared ignoring ASCII case.
    #[serde(default)]
    pub prefix: String,
    /// What is signed, built from literal text and `{body}`, `{timestamp}` and `{id}`, which
    /// stand for the body and the exact text of the timestamp and id headers.
    #[serde(default = "body_only")]
    pub signed_template: String,
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// When set, the timestamp header must hold Unix seconds within this many of now.
    #[serde(default)]
    pub tolerance_secs: Option<u32>,
    #[serde(default)]
    pub id_header: Option<String>,
    #[serde(default)]
    pub event_type_header: Option<String>,
}

fn body_only() -> String {
    "{body}".to_owned()
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Body,
    Timestamp,
    Id,
}

/// A checked [`GenericSchemeSpec`]: header names are valid and lower-case, the template
/// parses, and every placeholder it uses has a header to come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "GenericSchemeSpec", into = "GenericSchemeSpec")]
pub struct GenericScheme {
    spec: GenericSchemeSpec,
    template: Vec<Piece>,
}

impl GenericScheme {
    pub fn new(mut spec: GenericSchemeSpec) -> Result<Self, ProviderError> {
        let invalid = ProviderError::InvalidScheme;
        spec.signature_header = header_name(&spec.signature_header)
            .ok_or(invalid("signature_header is not a valid header name"))?;
        for (field, reason) in [
            (
                &mut spec.timestamp_header,
                "timestamp_header is not a valid header name",
            ),
            (&mut spec.id_header, "id_header is not a valid header name"),
            (
                &mut spec.event_type_header,
                "event_type_header is not a valid header name",
            ),
        ] {
            if let Some(name) = field.as_deref() {
                *field = Some(header_name(name).ok_or(invalid(reason))?);
            }
        }
        if spec.prefix.chars().count() > MAX_PREFIX_CHARS
            || !spec.prefix.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(invalid(
                "prefix must be at most 64 printable ASCII characters",
            ));
        }
        let template = parse_template(&spec.signed_template)?;
        let uses = |piece: &Piece| template.contains(piece);
        if uses(&Piece::Timestamp) && spec.timestamp_header.is_none() {
            return Err(invalid(
                "the template uses {timestamp} but no timestamp_header is set",
            ));
        }
        if uses(&Piece::Id) && spec.id_header.is_none() {
            return Err(invalid("the template uses {id} but no id_header is set"));
        }
        match spec.tolerance_secs {
            Some(0) => return Err(invalid("tolerance_secs must be positive")),
            Some(_) if !uses(&Piece::Timestamp) => {
                return Err(invalid(
                    "tolerance_secs needs {timestamp} in the template, or the timestamp is unsigned",
                ));
            }
            None if spec.timestamp_header.is_some() && !uses(&Piece::Timestamp) => {
                return Err(invalid(
                    "timestamp_header is set but neither signed nor checked",
                ));
            }
            _ => {}
        }
        Ok(Self { spec, template })
    }

    pub fn spec(&self) -> &GenericSchemeSpec {
        &self.spec
    }

    pub(super) fn verify(
        &self,
        keys: &[&[u8]],
        req: &Incoming,
        now: i64,
    ) -> Result<Verified, VerifyError> {
        let spec = &self.spec;
        let header = spec.signature_header.as_str();
        let value = required_header(req, header)?;
        let signature = spec
            .encoding
            .decode(header, strip_prefix(header, value, &spec.prefix)?)?;

        let timestamp = match spec.timestamp_header.as_deref() {
            Some(name) => Some((name, required_header(req, name)?)),
            None => None,
        };
        let window = match (timestamp, spec.tolerance_secs) {
            (Some((name, text)), Some(tolerance)) => {
                Some((parse_unix_secs(name, text)?, i64::from(tolerance)))
            }
            _ => None,
        };
        let id = match &spec.id_header {
            Some(name) if self.template.contains(&Piece::Id) => Some(required_header(req, name)?),
            _ => None,
        };

        let mut signed: Vec<&[u8]> = Vec::with_capacity(self.template.len());
        for piece in &self.template {
            signed.push(match piece {
                Piece::Text(text) => text.as_bytes(),
                Piece::Body => req.body,
                Piece::Timestamp => timestamp.map_or(&[][..], |(_, text)| text.as_bytes()),
                Piece::Id => id.map_or(&[][..], str::as_bytes),
            });
        }
        any_key_signed(spec.algorithm, keys, &signed, &[signature])?;
        if let Some((timestamp, tolerance)) = window {
            check_timestamp(timestamp, now, tolerance, Some(tolerance))?;
        }

        let label = |name: &Option<String>| match name {
            Some(name) => label_header(req, name),
            None => Ok(None),
        };
        Ok(Verified {
            event_type: label(&spec.event_type_header)?,
            delivery_id: label(&spec.id_header)?,
        })
    }
}

impl TryFrom<GenericSchemeSpec> for GenericScheme {
    type Error = ProviderError;

    fn try_from(spec: GenericSchemeSpec) -> Result<Self, Self::Error> {
        Self::new(spec)
    }
}

impl From<GenericScheme> for GenericSchemeSpec {
    fn from(scheme: GenericScheme) -> Self {
        scheme.spec
    }
}

fn header_name(name: &str) -> Option<String> {
    HeaderName::from_bytes(name.trim().as_bytes())
        .ok()
        .map(|name| name.as_str().to_owned())
}

/// Splits a template into literal text and exactly one `{body}` plus any `{timestamp}` and
/// `{id}`; any other brace is an error, so a typo cannot silently sign the wrong thing.
fn parse_template(template: &str) -> Result<Vec<Piece>, ProviderError> {
    let invalid = ProviderError::InvalidScheme;
    if template.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(invalid("signed_template is longer than 256 characters"));
    }
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        let (text, from_brace) = rest.split_at(open);
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_owned()));
        }
        let (piece, after) = [
            ("{body}", Piece::Body),
            ("{timestamp}", Piece::Timestamp),
            ("{id}", Piece::Id),
        ]
        .into_iter()
        .find_map(|(token, piece)| from_brace.strip_prefix(token).map(|after| (piece, after)))
        .ok_or(invalid(
            "signed_template may only use {body}, {timestamp} and {id}",
        ))?;
        pieces.push(piece);
        rest = after;
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    if pieces.iter().filter(|piece| **piece == Piece::Body).count() != 1 {
        return Err(invalid("signed_template must contain {body} exactly once"));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::*;

    const SECRET: &str = "generic-secret";
    const BODY: &str = r#"{"event":"thing.happened"}"#;

    fn spec() -> GenericSchemeSpec {
        GenericSchemeSpec {
            signature_header: "X-Signature".into(),
            algorithm: Algorithm::Sha512,
            encoding: Encoding::Base64,
            prefix: "v1=".into(),
            signed_template: "{timestamp}:{id}:{body}".into(),
            timestamp_header: Some("X-Timestamp".into()),
            tolerance_secs: Some(60),
            id_header: Some("X-Delivery".into()),
            event_type_header: Some("X-Event".into()),
        }
    }

    fn signed(secret: &str, ts: i64, body: &str) -> Req {
        let signed = format!("{ts}:dlv_1:{body}");
        let mac = hmac_base64(Algorithm::Sha512, secret.as_bytes(), &[signed.as_bytes()]);
        Req::post(body)
            .header("X-Signature", &format!("v1={mac}"))
            .header("X-Timestamp", &ts.to_string())
            .header("X-Delivery", "dlv_1")
            .header("X-Event", "thing.happened")
    }

    fn check_with(
        spec: GenericSchemeSpec,
        req: &Req,
        keys: &[&str],
    ) -> Result<Verified, VerifyError> {
        let provider = Provider::Generic(GenericScheme::new(spec).unwrap());
        verify(&provider, &secrets(keys), &req.incoming(), NOW)
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        check_with(spec(), req, keys)
    }

    fn rejected(change: impl FnOnce(&mut GenericSchemeSpec)) -> ProviderError {
        let mut spec = spec();
        change(&mut spec);
        GenericScheme::new(spec).unwrap_err()
    }

    #[test]
    fn accepts_a_generic_signature_and_reports_configured_headers() {
        let verified = check(&signed(SECRET, NOW, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("thing.happened"));
        assert_eq!(verified.delivery_id(), Some("dlv_1"));
    }

    #[test]
    fn supports_a_plain_hex_sha1_body_signature() {
        let spec = GenericSchemeSpec {
            signature_header: "X-Sig".into(),
            algorithm: Algorithm::Sha1,
            encoding: Encoding::Hex,
            prefix: String::new(),
            signed_template: "{body}".into(),
            timestamp_header: None,
            tolerance_secs: None,
            id_header: None,
            event_type_header: None,
        };
        let mac = hmac_hex(Algorithm::Sha1, SECRET.as_bytes(), &[BODY.as_bytes()]);
        let req = Req::post(BODY).header("X-Sig", &mac);
        let verified = check_with(spec, &req, &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), None);
    }

    #[test]
    fn rejects_generic_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("other", NOW, BODY), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_generic_body_and_id() {
        let req = signed(SECRET, NOW, BODY).body("{}");
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
        let req = signed(SECRET, NOW, BODY)
            .without("x-delivery")
            .header("X-Delivery", "dlv_2");
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_stale_and_future_generic_timestamps() {
        assert_eq!(
            check(&signed(SECRET, NOW - 61, BODY), &[SECRET]),
            Err(VerifyError::TimestampTooOld {
                age_secs: 61,
                tolerance_secs: 60
            })
        );
        assert_eq!(
            check(&signed(SECRET, NOW + 61, BODY), &[SECRET]),
            Err(VerifyError::TimestampInFuture {
                ahead_secs: 61,
                tolerance_secs: 60
            })
        );
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("new", NOW, BODY), &["old", "new"]).is_ok());
    }

    #[test]
    fn rejects_generic_request_missing_a_signed_header() {
        for name in ["x-signature", "x-timestamp", "x-delivery"] {
            let req = signed(SECRET, NOW, BODY).without(name);
            assert_eq!(
                check(&req, &[SECRET]),
                Err(VerifyError::MissingHeader(name.into()))
            );
        }
    }

    #[test]
    fn rejects_malformed_generic_headers() {
        let malformed = |header: &str, reason| VerifyError::MalformedHeader {
            header: header.into(),
            reason,
        };
        let cases: [(&str, &[u8], VerifyError); 5] = [
            (
                "x-signature",
                b"v1=***",
                malformed("x-signature", "signature is not valid base64"),
            ),
            (
                "x-signature",
                b"v2=AAAA",
                malformed(
                    "x-signature",
                    "signature does not start with the expected prefix",
                ),
            ),
            ("x-signature", b"", malformed("x-signature", "empty")),
            (
                "x-signature",
                b"v1=\xff",
                malformed("x-signature", "not printable ASCII"),
            ),
            (
                "x-timestamp",
                b"soon",
                malformed("x-timestamp", "timestamp is not whole Unix seconds"),
            ),
        ];
        for (name, value, expected) in cases {
            let req = signed(SECRET, NOW, BODY)
                .without(name)
                .raw_header(name, value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{name}: {value:?}");
        }
    }

    #[test]
    fn validates_the_scheme() {
        let invalid = ProviderError::InvalidScheme;
        assert_eq!(
            rejected(|s| s.signature_header = "bad header".into()),
            invalid("signature_header is not a valid header name")
        );
        assert_eq!(
            rejected(|s| s.id_header = Some("".into())),
            invalid("id_header is not a valid header name")
        );
        assert_eq!(
            rejected(|s| s.signed_template = "{timestamp}.{payload}".into()),
            invalid("signed_template may only use {body}, {timestamp} and {id}")
        );
        assert_eq!(
            rejected(|s| s.signed_template = "{body}{body}".into()),
            invalid("signed_template must contain {body} exactly once")
        );
        assert_eq!(
            rejected(|s| s.signed_template = "{timestamp}".into()),
            invalid("signed_template must contain {body} exactly once")
        );
        assert_eq!(
            rejected(|s| s.signed_template = "{body".into()),
            invalid("signed_template may only use {body}, {timestamp} and {id}")
        );
        assert_eq!(
            rejected(|s| s.timestamp_header = None),
            invalid("the template uses {timestamp} but no timestamp_header is set")
        );
        assert_eq!(
            rejected(|s| s.id_header = None),
            invalid("the template uses {id} but no id_header is set")
        );
        assert_eq!(
            rejected(|s| s.tolerance_secs = Some(0)),
            invalid("tolerance_secs must be positive")
        );
        assert_eq!(
            rejected(|s| s.signed_template = "{id}.{body}".into()),
            invalid(
                "tolerance_secs needs {timestamp} in the template, or the timestamp is unsigned"
            )
        );
        assert_eq!(
            rejected(|s| {
                s.signed_template = "{id}.{body}".into();
                s.tolerance_secs = None;
            }),
            invalid("timestamp_header is set but neither signed nor checked")
        );
        assert_eq!(
            rejected(|s| s.prefix = "sha 256=".into()),
            invalid("prefix must be at most 64 printable ASCII characters")
        );
    }

    #[test]
    fn normalises_header_names_and_round_trips_through_json() {
        let scheme = GenericScheme::new(spec()).unwrap();
        assert_eq!(scheme.spec().signature_header, "x-signature");
        let provider = Provider::Generic(scheme);
        let json = serde_json::to_string(&provider).unwrap();
        assert!(json.starts_with(r#"{"provider":"generic","signature_header":"x-signature""#));
        assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), provider);

        let minimal = r#"{"provider":"generic","signature_header":"X-Sig","algorithm":"sha256","encoding":"hex"}"#;
        let Provider::Generic(minimal) = serde_json::from_str(minimal).unwrap() else {
            panic!("not generic");
        };
        assert_eq!(minimal.spec().signed_template, "{body}");

        let invalid = r#"{"provider":"generic","signature_header":"X-Sig","algorithm":"sha256","encoding":"hex","signed_template":"{payload}"}"#;
        assert!(serde_json::from_str::<Provider>(invalid).is_err());
    }
}
