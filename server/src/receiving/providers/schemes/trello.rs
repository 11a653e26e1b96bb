use super::verified;
use crate::receiving::providers::crypto::{Algorithm, any_key_signed, decode_base64};
use crate::receiving::providers::request::{json_body, json_label, required_header};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE: &str = "x-trello-webhook";

/// Trello: base64 HMAC-SHA1 of the body followed by the callback URL exactly as registered,
/// keyed by the application's OAuth secret. The action id is the same on every retry.
pub(in crate::receiving::providers) fn trello(
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    let callback_url = req.callback_url.ok_or(VerifyError::Misconfigured(
        "Trello signs the callback URL, but this endpoint's public URL is not configured",
    ))?;
    let signature = decode_base64(SIGNATURE, required_header(req, SIGNATURE)?)?;
    let signed: [&[u8]; 2] = [req.body, callback_url.as_bytes()];
    any_key_signed(Algorithm::Sha1, keys, &signed, &[signature])?;

    let json = json_body(req.body);
    Ok(verified(
        json_label(json.as_ref(), "/action/type"),
        json_label(json.as_ref(), "/action/id"),
    ))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "trello-oauth-secret";
    const URL: &str = "https://hooks.example.com/in/src_1?board=7";
    const BODY: &str =
        r#"{"action":{"id":"51f9424bcd6e040f3c002412","type":"updateCard"},"model":{}}"#;

    fn signed(secret: &str, body: &str, url: &str) -> Req {
        let mac = hmac_base64(
            Algorithm::Sha1,
            secret.as_bytes(),
            &[body.as_bytes(), url.as_bytes()],
        );
        Req::post(body)
            .header("X-Trello-Webhook", &mac)
            .callback_url(URL)
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(
            &Provider::Trello { callback_url: None },
            &secrets(keys),
            &req.incoming(),
            NOW,
        )
    }

    fn malformed(reason: &'static str) -> VerifyError {
        VerifyError::MalformedHeader {
            header: "x-trello-webhook".into(),
            reason,
        }
    }

    #[test]
    fn accepts_trello_signature_over_body_and_callback_url() {
        let verified = check(&signed(SECRET, BODY, URL), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("updateCard"));
        assert_eq!(verified.delivery_id(), Some("51f9424bcd6e040f3c002412"));
    }

    #[test]
    fn rejects_trello_signature_for_another_callback_url() {
        let req = signed(SECRET, BODY, "https://hooks.example.com/in/src_1");
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn needs_the_public_callback_url_configured() {
        let mac = hmac_base64(Algorithm::Sha1, SECRET.as_bytes(), &[BODY.as_bytes()]);
        let req = Req::post(BODY).header("X-Trello-Webhook", &mac);
        let err = check(&req, &[SECRET]).unwrap_err();
        assert!(matches!(err, VerifyError::Misconfigured(_)), "{err}");
        assert_eq!(err.status(), 500);
    }

    #[test]
    fn rejects_trello_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("other", BODY, URL), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_trello_body() {
        let req = signed(SECRET, BODY, URL).body(BODY.replace("updateCard", "deleteCard"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("new", BODY, URL), &["old", "new"]).is_ok());
    }

    #[test]
    fn rejects_unsigned_trello_request() {
        assert_eq!(
            check(&Req::post(BODY).callback_url(URL), &[SECRET]),
            Err(VerifyError::MissingHeader("x-trello-webhook".into()))
        );
    }

    #[test]
    fn rejects_malformed_trello_signatures() {
        let cases: [(&[u8], VerifyError); 3] = [
            (b"%%%", malformed("signature is not valid base64")),
            (b"", malformed("empty")),
            (b"\xfe", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = Req::post(BODY)
                .callback_url(URL)
                .raw_header("X-Trello-Webhook", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
