use super::{check_body_signature, shared_label, verified};
use crate::receiving::providers::crypto::{Algorithm, Encoding};
use crate::receiving::providers::request::{json_body, json_label};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE: &str = "ms-signature";

/// ASP.NET WebHooks custom senders: `sha256=<hex>` HMAC-SHA256 of the raw body. The body is
/// `{Id, Attempt, Properties, Notifications: [{Action, …}]}`; `Id` stays the same across
/// attempts, so it is the delivery id.
pub(in crate::receiving::providers) fn aspnet(
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
    let json = json_body(req.body);
    let actions = json
        .as_ref()
        .and_then(|json| json.get("Notifications"))
        .and_then(|notifications| notifications.as_array());
    let event_type = actions.and_then(|notifications| {
        shared_label(
            notifications
                .iter()
                .map(|notification| json_label(Some(notification), "/Action")),
        )
    });
    Ok(verified(event_type, json_label(json.as_ref(), "/Id")))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "12345678901234567890123456789012";
    const BODY: &str = r#"{"Id":"9e2fbf1e5e5b4d2b9d5c1e0b2a3c4d5e","Attempt":1,"Properties":{},"Notifications":[{"Action":"order.created","Total":5}]}"#;

    fn signed(secret: &str, body: &str) -> Req {
        let mac = hmac_hex(Algorithm::Sha256, secret.as_bytes(), &[body.as_bytes()]);
        Req::post(body).header("ms-signature", &format!("sha256={mac}"))
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&Provider::AspNet, &secrets(keys), &req.incoming(), NOW)
    }

    #[test]
    fn accepts_aspnet_signature_and_reads_id_and_action() {
        let verified = check(&signed(SECRET, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("order.created"));
        assert_eq!(
            verified.delivery_id(),
            Some("9e2fbf1e5e5b4d2b9d5c1e0b2a3c4d5e")
        );
    }

    #[test]
    fn rejects_aspnet_signature_made_with_another_secret() {
        assert_eq!(
            check(&signed("other", BODY), &[SECRET]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_tampered_aspnet_body() {
        let req = signed(SECRET, BODY).body(BODY.replace("\"Total\":5", "\"Total\":500"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        assert!(check(&signed("new", BODY), &["old", "new"]).is_ok());
    }

    #[test]
    fn rejects_unsigned_aspnet_request() {
        assert_eq!(
            check(&Req::post(BODY), &[SECRET]),
            Err(VerifyError::MissingHeader("ms-signature".into()))
        );
    }

    #[test]
    fn rejects_malformed_aspnet_signatures() {
        let malformed = |reason| VerifyError::MalformedHeader {
            header: "ms-signature".into(),
            reason,
        };
        let cases: [(&[u8], VerifyError); 4] = [
            (b"sha256=0x00", malformed("signature is not valid hex")),
            (
                b"00ff",
                malformed("signature does not start with the expected prefix"),
            ),
            (b"", malformed("empty")),
            (b"sha256=\xff", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = Req::post(BODY).raw_header("ms-signature", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
