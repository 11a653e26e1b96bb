use super::{check_body_signature, verified};
use crate::receiving::providers::crypto::{Algorithm, Encoding};
use crate::receiving::providers::request::label_header;
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE: &str = "x-hub-signature";

/// Bitbucket (Cloud and Data Center): `sha256=<hex>` HMAC-SHA256 of the raw body. The
/// delivery id is the per-request UUID (Cloud) or request id (Data Center); `X-Hook-UUID`
/// names the webhook itself, is the same on every delivery, and must not be used to dedupe.
pub(in crate::receiving::providers) fn bitbucket(
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    check_body_signature(
        keys,
        req,
        Algorithm::Sha256,
        SIGNATURE,
        "sha256=",
        Encoding::Hex,
    )?;
    Ok(verified(
        label_header(req, "x-event-key")?,
        match label_header(req, "x-request-uuid")? {
            Some(id) => Some(id),
            None => label_header(req, "x-request-id")?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "bitbucket-webhook-secret";
    const BODY: &str = r#"{"push":{"changes":[]},"repository":{"name":"hookhub"}}"#;

    fn signed(secret: &str, body: &str) -> Req {
        let mac = hmac_hex(Algorithm::Sha256, secret.as_bytes(), &[body.as_bytes()]);
        Req::post(body)
            .header("X-Hub-Signature", &format!("sha256={mac}"))
            .header("X-Event-Key", "repo:push")
            .header("X-Hook-UUID", "{d8b8a3d3-0b0b-4d2f-9c3a-5a4e1f0c2b11}")
            .header("X-Request-UUID", "{6b2c8e4f-1a3d-4c5b-8e7f-9a0b1c2d3e4f}")
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&Provider::Bitbucket, &secrets(keys), &req.incoming(), NOW)
    }

    #[test]
    fn accepts_bitbucket_signature_and_reports_event_key_and_request_uuid() {
        let verified = check(&signed(SECRET, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("repo:push"));
        assert_eq!(
            verified.delivery_id(),
            Some("{6b2c8e4f-1a3d-4c5b-8e7f-9a0b1c2d3e4f}")
        );
    }

    #[test]
    fn never_uses_the_hook_uuid_as_delivery_id() {
        let req = signed(SECRET, BODY).without("x-request-uuid");
        assert_eq!(check(&req, &[SECRET]).unwrap().delivery_id(), None);
        let req = signed(SECRET, BODY)
            .without("x-request-uuid")
            .header("X-Request-Id", "0e1b4c6a-data-center");
        assert_eq!(
            check(&req, &[SECRET]).unwrap().delivery_id(),
            Some("0e1b4c6a-data-center")
        );
    }

    #[test]
    fn rejects_bitbucket_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("other", BODY), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_bitbucket_body() {
        let req = signed(SECRET, BODY).body(BODY.replace("hookhub", "other"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("new", BODY), &["old", "new"]).is_ok());
    }

    #[test]
    fn rejects_unsigned_bitbucket_request() {
        assert_eq!(
            check(&Req::post(BODY), &[SECRET]),
            Err(VerifyError::MissingHeader("x-hub-signature".into()))
        );
    }

    #[test]
    fn rejects_malformed_bitbucket_signatures() {
        let malformed = |reason| VerifyError::MalformedHeader {
            header: "x-hub-signature".into(),
            reason,
        };
        let cases: [(&[u8], VerifyError); 5] = [
            (b"sha256=qq", malformed("signature is not valid hex")),
            (
                b"sha1=00",
                malformed("signature does not start with the expected prefix"),
            ),
            (
                b"sha25600",
                malformed("signature does not start with the expected prefix"),
            ),
            (b"", malformed("empty")),
            (b"sha256=\xaa", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = Req::post(BODY).raw_header("X-Hub-Signature", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
