use super::{signature_id, verified};
use crate::receiving::providers::crypto::{Algorithm, any_key_signed, decode_base64};
use crate::receiving::providers::request::{json_body, json_label, required_header};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE: &str = "x-zendesk-webhook-signature";
const TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";
const EVENT_TYPE_PREFIX: &str = "zen:event-type:";

/// Zendesk: base64 HMAC-SHA256 of the timestamp header's exact text followed by the body.
/// Zendesk documents no tolerance, so the timestamp is signed but its age is not checked.
pub(in crate::receiving::providers) fn zendesk(
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    let signature_text = required_header(req, SIGNATURE)?;
    let signature = decode_base64(SIGNATURE, signature_text)?;
    let timestamp = required_header(req, TIMESTAMP)?;
    let signed: [&[u8]; 2] = [timestamp.as_bytes(), req.body];
    any_key_signed(Algorithm::Sha256, keys, &signed, &[signature])?;

    // Trigger and automation webhooks carry bodies the admin wrote, where `id` may be a
    // ticket id shared by many deliveries; only event subscriptions have a real event id.
    let json = json_body(req.body);
    let event_type = json_label(json.as_ref(), "/type")
        .filter(|event_type| event_type.starts_with(EVENT_TYPE_PREFIX));
    let delivery_id = event_type
        .as_ref()
        .and_then(|_| json_label(json.as_ref(), "/id"))
        .unwrap_or_else(|| signature_id(signature_text));
    Ok(verified(event_type, Some(delivery_id)))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
    const TIMESTAMP: &str = "2021-06-14T20:39:43Z";
    const BODY: &str = r#"{"type":"zen:event-type:ticket.created","id":"cbe4028c-7239-495d-b020-f22348516046","detail":{}}"#;

    fn signed(secret: &str, timestamp: &str, body: &str) -> Req {
        let mac = hmac_base64(
            Algorithm::Sha256,
            secret.as_bytes(),
            &[timestamp.as_bytes(), body.as_bytes()],
        );
        Req::post(body)
            .header("X-Zendesk-Webhook-Signature", &mac)
            .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&Provider::Zendesk, &secrets(keys), &req.incoming(), NOW)
    }

    #[test]
    fn accepts_zendesk_event_subscription_and_reports_its_id() {
        let verified = check(&signed(SECRET, TIMESTAMP, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("zen:event-type:ticket.created"));
        assert_eq!(
            verified.delivery_id(),
            Some("cbe4028c-7239-495d-b020-f22348516046")
        );
    }

    #[test]
    fn reports_nothing_for_an_admin_written_trigger_body() {
        let body = r#"{"id":"4711","type":"ticket"}"#;
        let verified = check(&signed(SECRET, TIMESTAMP, body), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), None);
        // Not the ticket id, which many deliveries share: the signature of this one.
        assert!(verified.delivery_id().unwrap().starts_with("sig:"));
    }

    #[test]
    fn accepts_an_empty_body() {
        assert!(check(&signed(SECRET, TIMESTAMP, ""), &[SECRET]).is_ok());
    }

    #[test]
    fn rejects_a_changed_zendesk_timestamp() {
        let req = signed(SECRET, TIMESTAMP, BODY)
            .without("x-zendesk-webhook-signature-timestamp")
            .header(
                "X-Zendesk-Webhook-Signature-Timestamp",
                "2021-06-14T20:39:44Z",
            );
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_zendesk_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("other", TIMESTAMP, BODY), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_zendesk_body() {
        let req = signed(SECRET, TIMESTAMP, BODY).body(BODY.replace("created", "deleted"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("new", TIMESTAMP, BODY), &["old", "new"]).is_ok());
    }

    #[test]
    fn rejects_zendesk_request_missing_either_header() {
        for name in [
            "x-zendesk-webhook-signature",
            "x-zendesk-webhook-signature-timestamp",
        ] {
            let req = signed(SECRET, TIMESTAMP, BODY).without(name);
            assert_eq!(
                check(&req, &[SECRET]),
                Err(VerifyError::MissingHeader(name.into()))
            );
        }
    }

    #[test]
    fn rejects_malformed_zendesk_signatures() {
        let malformed = |reason| VerifyError::MalformedHeader {
            header: "x-zendesk-webhook-signature".into(),
            reason,
        };
        let cases: [(&[u8], VerifyError); 3] = [
            (b"a=b=c", malformed("signature is not valid base64")),
            (b"", malformed("empty")),
            (b"\xe2\x82\xac", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = signed(SECRET, TIMESTAMP, BODY)
                .without("x-zendesk-webhook-signature")
                .raw_header("X-Zendesk-Webhook-Signature", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
