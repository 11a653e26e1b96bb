use super::{signature_id, verified};
use crate::receiving::providers::crypto::{Algorithm, any_key_signed, decode_hex};
use crate::receiving::providers::request::{
    check_timestamp, json_body, json_label, label, parse_unix_secs, required_header, strip_prefix,
};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE: &str = "x-slack-signature";
const TIMESTAMP: &str = "x-slack-request-timestamp";
const TOLERANCE_SECS: i64 = 300;

/// Slack: `v0=<hex>` over `"v0:{ts}:{body}"`, with the timestamp within ±300 s of now.
pub(in crate::receiving::providers) fn slack(
    keys: &[&[u8]],
    req: &Incoming,
    now: i64,
) -> Result<Verified, VerifyError> {
    let signature_text = required_header(req, SIGNATURE)?;
    let signature = decode_hex(SIGNATURE, strip_prefix(SIGNATURE, signature_text, "v0=")?)?;
    let timestamp_text = required_header(req, TIMESTAMP)?;
    let timestamp = parse_unix_secs(TIMESTAMP, timestamp_text)?;

    let signed: [&[u8]; 4] = [b"v0:", timestamp_text.as_bytes(), b":", req.body];
    any_key_signed(Algorithm::Sha256, keys, &signed, &[signature])?;
    check_timestamp(timestamp, now, TOLERANCE_SECS, Some(TOLERANCE_SECS))?;

    let (event_type, delivery_id) = match json_body(req.body) {
        Some(json) => (
            json_label(Some(&json), "/event/type").or_else(|| json_label(Some(&json), "/type")),
            json_label(Some(&json), "/event_id"),
        ),
        None => (form_event_type(req.body), None),
    };
    let delivery_id = delivery_id.unwrap_or_else(|| signature_id(signature_text));
    Ok(verified(event_type, Some(delivery_id)))
}

/// Slash commands post a form naming the `command`; interactive components post a form whose
/// `payload` field is JSON with a `type`.
fn form_event_type(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body).find_map(|(name, value)| match name.as_ref() {
        "command" => label(&value),
        "payload" => json_label(json_body(value.as_bytes()).as_ref(), "/type"),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TIMESTAMP: i64 = 1_531_420_618;
    const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const EVENT: &str = r#"{"type":"event_callback","event_id":"Ev0PV52K21","event":{"type":"app_mention","text":"hi"}}"#;

    fn signed(secret: &str, ts: i64, body: &str) -> Req {
        let signed = format!("v0:{ts}:{body}");
        let mac = hmac_hex(Algorithm::Sha256, secret.as_bytes(), &[signed.as_bytes()]);
        Req::post(body)
            .header("X-Slack-Signature", &format!("v0={mac}"))
            .header("X-Slack-Request-Timestamp", &ts.to_string())
    }

    fn check_at(req: &Req, keys: &[&str], now: i64) -> Result<Verified, VerifyError> {
        verify(&Provider::Slack, &secrets(keys), &req.incoming(), now)
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        check_at(req, keys, NOW)
    }

    #[test]
    fn matches_slacks_published_test_vector() {
        let req = Req::post(DOC_BODY)
            .header(
                "X-Slack-Signature",
                "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            )
            .header("X-Slack-Request-Timestamp", "1531420618");
        let verified = check_at(&req, &[SECRET], DOC_TIMESTAMP + 10).unwrap();
        assert_eq!(verified.event_type(), Some("/webhook-collect"));
    }

    #[test]
    fn reads_event_type_and_id_from_events_api_json() {
        let verified = check(&signed(SECRET, NOW, EVENT), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("app_mention"));
        assert_eq!(verified.delivery_id(), Some("Ev0PV52K21"));
    }

    #[test]
    fn reads_event_type_from_interactive_payload() {
        let body = "payload=%7B%22type%22%3A%22block_actions%22%7D";
        let verified = check(&signed(SECRET, NOW, body), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("block_actions"));
    }

    #[test]
    fn ignores_retry_headers() {
        let req = signed(SECRET, NOW, EVENT)
            .header("X-Slack-Retry-Num", "1")
            .header("X-Slack-Retry-Reason", "http_timeout");
        assert!(check(&req, &[SECRET]).is_ok());
    }

    #[test]
    fn rejects_slack_signature_made_with_another_secret() {
        let req = signed("another secret", NOW, EVENT);
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_tampered_slack_body() {
        let req = signed(SECRET, NOW, EVENT).body(EVENT.replace("hi", "bye"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_stale_slack_signature() {
        assert_eq!(
            check(&signed(SECRET, NOW - 301, EVENT), &[SECRET]),
            Err(VerifyError::TimestampTooOld {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert!(check(&signed(SECRET, NOW - 300, EVENT), &[SECRET]).is_ok());
    }

    #[test]
    fn rejects_future_slack_signature() {
        assert_eq!(
            check(&signed(SECRET, NOW + 301, EVENT), &[SECRET]),
            Err(VerifyError::TimestampInFuture {
                ahead_secs: 301,
                tolerance_secs: 300
            })
        );
        assert!(check(&signed(SECRET, NOW + 300, EVENT), &[SECRET]).is_ok());
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        let req = signed("new secret", NOW, EVENT);
        assert!(check(&req, &["old secret", "new secret"]).is_ok());
    }

    #[test]
    fn rejects_slack_request_missing_either_header() {
        let req = signed(SECRET, NOW, EVENT);
        assert_eq!(
            check(&req.without("x-slack-request-timestamp"), &[SECRET]),
            Err(VerifyError::MissingHeader(
                "x-slack-request-timestamp".into()
            ))
        );
        let req = signed(SECRET, NOW, EVENT);
        assert_eq!(
            check(&req.without("x-slack-signature"), &[SECRET]),
            Err(VerifyError::MissingHeader("x-slack-signature".into()))
        );
    }

    #[test]
    fn rejects_malformed_slack_headers() {
        let malformed = |header: &str, reason| VerifyError::MalformedHeader {
            header: header.into(),
            reason,
        };
        let cases: [(&str, &[u8], VerifyError); 5] = [
            (
                "X-Slack-Signature",
                b"v0=nothex",
                malformed("x-slack-signature", "signature is not valid hex"),
            ),
            (
                "X-Slack-Signature",
                b"v1=00",
                malformed(
                    "x-slack-signature",
                    "signature does not start with the expected prefix",
                ),
            ),
            (
                "X-Slack-Signature",
                b"",
                malformed("x-slack-signature", "empty"),
            ),
            (
                "X-Slack-Request-Timestamp",
                b"12:00",
                malformed(
                    "x-slack-request-timestamp",
                    "timestamp is not whole Unix seconds",
                ),
            ),
            (
                "X-Slack-Request-Timestamp",
                b"\x80",
                malformed("x-slack-request-timestamp", "not printable ASCII"),
            ),
        ];
        for (name, value, expected) in cases {
            let req = signed(SECRET, NOW, EVENT)
                .without(name)
                .raw_header(name, value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{name}: {value:?}");
        }
    }
}
