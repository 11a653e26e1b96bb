use super::{check_body_signature, shared_label, verified};
use crate::receiving::providers::crypto::{Algorithm, Encoding};
use crate::receiving::providers::request::{json_body, json_label, required_header};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const KEY: &str = "x-pusher-key";
const SIGNATURE: &str = "x-pusher-signature";

/// Pusher: the app key header names the app, whose secret signs the raw body as hex
/// HMAC-SHA256. Requests for any other app are refused before any MAC is computed.
pub(in crate::receiving::providers) fn pusher(
    app_key: &str,
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    if required_header(req, KEY)? != app_key {
        return Err(VerifyError::UnknownAppKey);
    }
    check_body_signature(keys, req, Algorithm::Sha256, SIGNATURE, "", Encoding::Hex)?;

    let json = json_body(req.body);
    let events = json
        .as_ref()
        .and_then(|json| json.get("events"))
        .and_then(|events| events.as_array());
    let event_type = events.and_then(|events| {
        shared_label(events.iter().map(|event| json_label(Some(event), "/name")))
    });
    Ok(verified(event_type, None))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const APP_KEY: &str = "278d425bdf160c739803";
    const SECRET: &str = "7ad3773142a6692b25b8";
    const BODY: &str =
        r#"{"time_ms":1327078148132,"events":[{"name":"channel_occupied","channel":"test"}]}"#;

    fn provider() -> Provider {
        Provider::Pusher {
            key: APP_KEY.into(),
        }
    }

    fn signed(secret: &str, body: &str) -> Req {
        let mac = hmac_hex(Algorithm::Sha256, secret.as_bytes(), &[body.as_bytes()]);
        Req::post(body)
            .header("X-Pusher-Key", APP_KEY)
            .header("X-Pusher-Signature", &mac)
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&provider(), &secrets(keys), &req.incoming(), NOW)
    }

    #[test]
    fn accepts_pusher_signature_and_reports_the_event_name() {
        let verified = check(&signed(SECRET, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("channel_occupied"));
    }

    #[test]
    fn reports_no_event_type_for_a_mixed_batch() {
        let body = r#"{"events":[{"name":"channel_occupied"},{"name":"channel_vacated"}]}"#;
        let verified = check(&signed(SECRET, body), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), None);
    }

    #[test]
    fn refuses_an_unknown_pusher_app_key() {
        let req = signed(SECRET, BODY)
            .without("x-pusher-key")
            .header("X-Pusher-Key", "some-other-app");
        let err = check(&req, &[SECRET]).unwrap_err();
        assert_eq!(err, VerifyError::UnknownAppKey);
        assert_eq!(err.status(), 401);
    }

    #[test]
    fn rejects_pusher_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("other", BODY), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_pusher_body() {
        let req = signed(SECRET, BODY).body(BODY.replace("occupied", "vacated"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("new", BODY), &["old", "new"]).is_ok());
    }

    #[test]
    fn rejects_pusher_request_missing_key_or_signature() {
        assert_eq!(
            check(&signed(SECRET, BODY).without("x-pusher-key"), &[SECRET]),
            Err(VerifyError::MissingHeader("x-pusher-key".into()))
        );
        assert_eq!(
            check(
                &signed(SECRET, BODY).without("x-pusher-signature"),
                &[SECRET]
            ),
            Err(VerifyError::MissingHeader("x-pusher-signature".into()))
        );
    }

    #[test]
    fn rejects_malformed_pusher_signatures() {
        let malformed = |reason| VerifyError::MalformedHeader {
            header: "x-pusher-signature".into(),
            reason,
        };
        let cases: [(&[u8], VerifyError); 3] = [
            (b"abc", malformed("signature is not valid hex")),
            (b"", malformed("empty")),
            (b"\x80\x81", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = signed(SECRET, BODY)
                .without("x-pusher-signature")
                .raw_header("X-Pusher-Signature", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
