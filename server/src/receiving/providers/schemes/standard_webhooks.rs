use super::verified;
use crate::receiving::providers::crypto::{Algorithm, any_key_signed, decode_base64_key};
use crate::receiving::providers::request::{
    check_timestamp, json_body, json_label, label, parse_unix_secs, required_header,
};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const TOLERANCE_SECS: i64 = 300;
const SECRET_PREFIX: &str = "whsec_";

struct Names {
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
}

const STANDARD: Names = Names {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

/// Svix, where the standard began, still sends its own header names.
const SVIX: Names = Names {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

/// Standard Webhooks: space-separated `v1,<base64>` entries over `"{id}.{ts}.{body}"`, keyed
/// by the base64 after `whsec_`, with the timestamp within ±300 s. Other versions (such as the
/// asymmetric `v1a`) are skipped.
pub(in crate::receiving::providers) fn standard_webhooks(
    keys: &[&[u8]],
    req: &Incoming,
    now: i64,
) -> Result<Verified, VerifyError> {
    let names = if [STANDARD.id, STANDARD.timestamp, STANDARD.signature]
        .iter()
        .all(|name| !req.headers.contains_key(*name))
        && req.headers.contains_key(SVIX.signature)
    {
        SVIX
    } else {
        STANDARD
    };
    let id = required_header(req, names.id)?;
    let timestamp_text = required_header(req, names.timestamp)?;
    let timestamp = parse_unix_secs(names.timestamp, timestamp_text)?;
    let signatures = v1_signatures(names.signature, required_header(req, names.signature)?)?;

    let keys: Vec<Vec<u8>> = keys.iter().filter_map(|key| decode_secret(key)).collect();
    if keys.is_empty() {
        return Err(VerifyError::Misconfigured(
            "a Standard Webhooks secret is whsec_ followed by base64",
        ));
    }
    let signed: [&[u8]; 5] = [
        id.as_bytes(),
        b".",
        timestamp_text.as_bytes(),
        b".",
        req.body,
    ];
    any_key_signed(Algorithm::Sha256, &keys, &signed, &signatures)?;
    check_timestamp(timestamp, now, TOLERANCE_SECS, Some(TOLERANCE_SECS))?;

    let json = json_body(req.body);
    let event_type =
        json_label(json.as_ref(), "/type").or_else(|| json_label(json.as_ref(), "/eventType"));
    Ok(verified(event_type, label(id)))
}

/// Why `secret` cannot key this scheme, if it cannot: said when the secret is saved, so a
/// source is never left answering every delivery "misconfigured".
pub(in crate::receiving::providers) fn standard_webhooks_secret_problem(
    secret: &str,
) -> Option<&'static str> {
    decode_secret(secret.as_bytes()).is_none().then_some(
        "A Standard Webhooks secret is whsec_ followed by base64, as the sender shows it \
         (such as whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw). Copy it whole from the sender, or \
         leave this empty to have one generated.",
    )
}

fn decode_secret(secret: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(secret).ok()?;
    let key = decode_base64_key(text.strip_prefix(SECRET_PREFIX).unwrap_or(text))?;
    (!key.is_empty()).then_some(key)
}

fn v1_signatures(header: &str, value: &str) -> Result<Vec<Vec<u8>>, VerifyError> {
    let malformed = |reason| VerifyError::MalformedHeader {
        header: header.to_owned(),
        reason,
    };
    let v1: Vec<&str> = value
        .split_ascii_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .map(|(_, signature)| signature)
        .collect();
    if v1.is_empty() {
        return Err(malformed("no v1,<signature> entry"));
    }
    let decoded: Vec<Vec<u8>> = v1.into_iter().filter_map(decode_base64_key).collect();
    if decoded.is_empty() {
        return Err(malformed("signature is not valid base64"));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const BODY: &str = r#"{"type":"invoice.paid","data":{"amount":1}}"#;

    fn key(secret: &str) -> Vec<u8> {
        STANDARD
            .decode(secret.trim_start_matches("whsec_"))
            .unwrap()
    }

    fn signature(secret: &str, id: &str, ts: i64, body: &str) -> String {
        let signed = format!("{id}.{ts}.{body}");
        format!(
            "v1,{}",
            hmac_base64(Algorithm::Sha256, &key(secret), &[signed.as_bytes()])
        )
    }

    fn signed(secret: &str, ts: i64, body: &str) -> Req {
        Req::post(body)
            .header("webhook-id", ID)
            .header("webhook-timestamp", &ts.to_string())
            .header("webhook-signature", &signature(secret, ID, ts, body))
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(
            &Provider::StandardWebhooks,
            &secrets(keys),
            &req.incoming(),
            NOW,
        )
    }

    fn malformed(reason: &'static str) -> VerifyError {
        VerifyError::MalformedHeader {
            header: "webhook-signature".into(),
            reason,
        }
    }

    #[test]
    fn matches_the_specifications_test_vector() {
        let req = Req::post(r#"{"test": 2432232314}"#)
            .header("webhook-id", ID)
            .header("webhook-timestamp", "1614265330")
            .header(
                "webhook-signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            );
        let verified = check(&req, &[SECRET]).unwrap();
        assert_eq!(verified.delivery_id(), Some(ID));
        assert_eq!(verified.event_type(), None);
    }

    #[test]
    fn verifies_what_the_standardwebhooks_crate_signs() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let theirs = standardwebhooks::Webhook::new(SECRET).unwrap();
        let signature = theirs.sign(ID, now, BODY.as_bytes()).unwrap();
        let req = Req::post(BODY)
            .header("webhook-id", ID)
            .header("webhook-timestamp", &now.to_string())
            .header("webhook-signature", &signature);
        let verified = verify(
            &Provider::StandardWebhooks,
            &secrets(&[SECRET]),
            &req.incoming(),
            now,
        )
        .unwrap();
        assert_eq!(verified.event_type(), Some("invoice.paid"));

        let ours = signed(SECRET, now, BODY);
        let theirs_verdict = theirs.verify(BODY.as_bytes(), ours.incoming().headers);
        assert!(theirs_verdict.is_ok(), "{theirs_verdict:?}");
    }

    #[test]
    fn accepts_svix_header_names() {
        let sig = signature(SECRET, ID, NOW, BODY);
        let req = Req::post(BODY)
            .header("svix-id", ID)
            .header("svix-timestamp", &NOW.to_string())
            .header("svix-signature", &sig);
        assert_eq!(check(&req, &[SECRET]).unwrap().delivery_id(), Some(ID));
    }

    #[test]
    fn reads_event_type_or_event_type_camel_case() {
        let body = r#"{"eventType":"user.created"}"#;
        let verified = check(&signed(SECRET, NOW, body), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("user.created"));
    }

    #[test]
    fn a_secret_is_checked_when_saved_as_it_is_decoded_when_used() {
        assert_eq!(secret_problem(&Provider::StandardWebhooks, SECRET), None);
        assert_eq!(
            secret_problem(&Provider::StandardWebhooks, &SECRET[6..]),
            None
        );
        for bad in ["hunter2hunter2!", "whsec_not base64!", "whsec_"] {
            let problem = secret_problem(&Provider::StandardWebhooks, bad).unwrap();
            assert!(
                problem.contains("whsec_ followed by base64"),
                "{bad}: {problem}"
            );
        }
        assert_eq!(secret_problem(&Provider::GitHub, "hunter2hunter2!"), None);
    }

    #[test]
    fn accepts_a_secret_given_without_the_whsec_prefix() {
        let bare = SECRET.trim_start_matches("whsec_");
        assert!(check(&signed(SECRET, NOW, BODY), &[bare]).is_ok());
    }

    #[test]
    fn refuses_a_secret_that_is_not_base64() {
        assert_eq!(
            check(&signed(SECRET, NOW, BODY), &["whsec_not base64!"]),
            Err(VerifyError::Misconfigured(
                "a Standard Webhooks secret is whsec_ followed by base64"
            ))
        );
    }

    #[test]
    fn rejects_standard_webhook_signed_with_another_secret() {
        let req = signed("whsec_dGhlIG90aGVyIHNlY3JldA==", NOW, BODY);
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_tampered_standard_webhook_body() {
        let req = signed(SECRET, NOW, BODY).body(BODY.replace('1', "9"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_a_changed_message_id() {
        let req = signed(SECRET, NOW, BODY)
            .without("webhook-id")
            .header("webhook-id", "msg_other");
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_stale_standard_webhook() {
        assert_eq!(
            check(&signed(SECRET, NOW - 301, BODY), &[SECRET]),
            Err(VerifyError::TimestampTooOld {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn rejects_future_standard_webhook() {
        assert_eq!(
            check(&signed(SECRET, NOW + 301, BODY), &[SECRET]),
            Err(VerifyError::TimestampInFuture {
                ahead_secs: 301,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn accepts_the_matching_entry_among_several_and_skips_unknown_versions() {
        let good = signature(SECRET, ID, NOW, BODY);
        let header = format!("v1a,c29tZXRoaW5n v2,abc v1,AAAA {good}");
        let req = signed(SECRET, NOW, BODY)
            .without("webhook-signature")
            .header("webhook-signature", &header);
        assert!(check(&req, &[SECRET]).is_ok());
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        let new = "whsec_bmV3IHNlY3JldCBieXRlcyBoZXJl";
        assert!(check(&signed(new, NOW, BODY), &[SECRET, new]).is_ok());
    }

    #[test]
    fn rejects_standard_webhook_missing_headers() {
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let req = signed(SECRET, NOW, BODY).without(name);
            assert_eq!(
                check(&req, &[SECRET]),
                Err(VerifyError::MissingHeader(name.into()))
            );
        }
    }

    #[test]
    fn rejects_malformed_standard_webhook_signatures() {
        let cases: [(&[u8], VerifyError); 5] = [
            (b"v1,!!!!", malformed("signature is not valid base64")),
            (b"v1", malformed("no v1,<signature> entry")),
            (b"v2,AAAA", malformed("no v1,<signature> entry")),
            (b"", malformed("empty")),
            (b"v1,\xff", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = signed(SECRET, NOW, BODY)
                .without("webhook-signature")
                .raw_header("webhook-signature", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
        let req = signed(SECRET, NOW, BODY)
            .without("webhook-timestamp")
            .header("webhook-timestamp", "1614265330.5");
        assert_eq!(
            check(&req, &[SECRET]),
            Err(VerifyError::MalformedHeader {
                header: "webhook-timestamp".into(),
                reason: "timestamp is not whole Unix seconds"
            })
        );
    }
}
