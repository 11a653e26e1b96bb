use super::{check_body_signature, verified};
use crate::receiving::providers::crypto::{Algorithm, Encoding};
use crate::receiving::providers::request::label_header;
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE: &str = "x-shopify-hmac-sha256";

/// Shopify: base64 HMAC-SHA256 of the raw body, keyed by the app's client secret. The webhook
/// id stays the same across retries of one delivery, so it is the deduplication key.
pub(in crate::receiving::providers) fn shopify(
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    check_body_signature(
        keys,
        req,
        Algorithm::Sha256,
        SIGNATURE,
        "",
        Encoding::Base64,
    )?;
    Ok(verified(
        label_header(req, "x-shopify-topic")?,
        label_header(req, "x-shopify-webhook-id")?,
    ))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "shpss_0123456789abcdef";
    const BODY: &str = r#"{"id":820982911946154508,"email":"jon@example.com"}"#;

    fn signed(secret: &str, body: &str) -> Req {
        let mac = hmac_base64(Algorithm::Sha256, secret.as_bytes(), &[body.as_bytes()]);
        Req::post(body)
            .header("X-Shopify-Hmac-Sha256", &mac)
            .header("X-Shopify-Topic", "orders/create")
            .header(
                "X-Shopify-Webhook-Id",
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            )
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&Provider::Shopify, &secrets(keys), &req.incoming(), NOW)
    }

    fn malformed(reason: &'static str) -> VerifyError {
        VerifyError::MalformedHeader {
            header: "x-shopify-hmac-sha256".into(),
            reason,
        }
    }

    #[test]
    fn accepts_shopify_signature_and_reports_topic_and_webhook_id() {
        let verified = check(&signed(SECRET, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("orders/create"));
        assert_eq!(
            verified.delivery_id(),
            Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        );
    }

    #[test]
    fn rejects_shopify_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("shpss_other", BODY), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_shopify_body() {
        let req = signed(SECRET, BODY).body(BODY.replace("jon", "eve"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("shpss_new", BODY), &["shpss_old", "shpss_new"]).is_ok());
    }

    #[test]
    fn rejects_unsigned_shopify_request() {
        assert_eq!(
            check(&Req::post(BODY), &[SECRET]),
            Err(VerifyError::MissingHeader("x-shopify-hmac-sha256".into()))
        );
    }

    #[test]
    fn rejects_malformed_shopify_signatures() {
        let cases: [(&[u8], VerifyError); 3] = [
            (b"not*base64", malformed("signature is not valid base64")),
            (b"", malformed("empty")),
            (b"\xc3\xa9", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = Req::post(BODY).raw_header("X-Shopify-Hmac-Sha256", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
