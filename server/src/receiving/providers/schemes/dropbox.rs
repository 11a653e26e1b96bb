use super::{check_body_signature, verified};
use crate::receiving::providers::crypto::{Algorithm, Encoding};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE: &str = "x-dropbox-signature";

/// Dropbox: hex HMAC-SHA256 of the raw body, keyed by the app secret. Notifications only say
/// that something changed, so there is no event type or delivery id to report.
pub(in crate::receiving::providers) fn dropbox(
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    check_body_signature(keys, req, Algorithm::Sha256, SIGNATURE, "", Encoding::Hex)?;
    Ok(verified(None, None))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "dropbox-app-secret";
    const BODY: &str =
        r#"{"list_folder":{"accounts":["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}}"#;

    fn signed(secret: &str, body: &str) -> Req {
        let mac = hmac_hex(Algorithm::Sha256, secret.as_bytes(), &[body.as_bytes()]);
        Req::post(body).header("X-Dropbox-Signature", &mac)
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&Provider::Dropbox, &secrets(keys), &req.incoming(), NOW)
    }

    fn malformed(reason: &'static str) -> VerifyError {
        VerifyError::MalformedHeader {
            header: "x-dropbox-signature".into(),
            reason,
        }
    }

    #[test]
    fn accepts_dropbox_signature() {
        let verified = check(&signed(SECRET, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), None);
        assert_eq!(verified.delivery_id(), None);
    }

    #[test]
    fn rejects_dropbox_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("other", BODY), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_dropbox_body() {
        let req = signed(SECRET, BODY).body(BODY.replace("AAH", "BBH"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("new", BODY), &["old", "new"]).is_ok());
    }

    #[test]
    fn rejects_unsigned_dropbox_request() {
        assert_eq!(
            check(&Req::post(BODY), &[SECRET]),
            Err(VerifyError::MissingHeader("x-dropbox-signature".into()))
        );
    }

    #[test]
    fn rejects_malformed_dropbox_signatures() {
        let cases: [(&[u8], VerifyError); 3] = [
            (b"0g", malformed("signature is not valid hex")),
            (b"", malformed("empty")),
            (b"\xff", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = Req::post(BODY).raw_header("X-Dropbox-Signature", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
