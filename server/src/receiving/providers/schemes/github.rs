use super::{check_body_signature, verified};
use crate::receiving::providers::crypto::{Algorithm, Encoding};
use crate::receiving::providers::request::{header, label_header};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const SIGNATURE_256: &str = "x-hub-signature-256";
const SIGNATURE_SHA1: &str = "x-hub-signature";

/// GitHub signs the raw body with HMAC-SHA256; the legacy SHA-1 header counts only when the
/// SHA-256 one is absent, so a sender cannot be downgraded by adding it.
pub(in crate::receiving::providers) fn github(
    keys: &[&[u8]],
    req: &Incoming,
) -> Result<Verified, VerifyError> {
    if header(req, SIGNATURE_256)?.is_some() || header(req, SIGNATURE_SHA1)?.is_none() {
        check_body_signature(
            keys,
            req,
            Algorithm::Sha256,
            SIGNATURE_256,
            "sha256=",
            Encoding::Hex,
        )?;
    } else {
        check_body_signature(
            keys,
            req,
            Algorithm::Sha1,
            SIGNATURE_SHA1,
            "sha1=",
            Encoding::Hex,
        )?;
    }
    Ok(verified(
        label_header(req, "x-github-event")?,
        label_header(req, "x-github-delivery")?,
    ))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "It's a Secret to Everybody";

    fn signed(secret: &str, body: &str) -> Req {
        let mac = hmac_hex(Algorithm::Sha256, secret.as_bytes(), &[body.as_bytes()]);
        Req::post(body)
            .header("X-Hub-Signature-256", &format!("sha256={mac}"))
            .header("X-GitHub-Event", "push")
            .header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&Provider::GitHub, &secrets(keys), &req.incoming(), NOW)
    }

    fn malformed(reason: &'static str) -> VerifyError {
        VerifyError::MalformedHeader {
            header: "x-hub-signature-256".into(),
            reason,
        }
    }

    /// Signed over one shape of JSON, received in another: the refusal says the body was
    /// rewritten on the way, and in which shape the signature would have matched.
    #[test]
    fn says_when_a_proxy_rewrote_the_json_body() {
        let sent = r#"{"action": "opened", "numbers": [1, 2], "pr": {"draft": false}}"#;
        let compact = r#"{"action":"opened","numbers":[1,2],"pr":{"draft":false}}"#;
        let indented = "{\n  \"action\": \"opened\"\n}";
        let cases = [
            (compact, sent, "JSON spaced as Python writes it"),
            (sent, compact, "compact JSON"),
            (r#"{"action":"opened"}"#, indented, "indented JSON"),
            (
                indented,
                r#"{"action": "opened"}"#,
                "JSON spaced as Python writes it",
            ),
        ];
        for (received, signed_over, shape) in cases {
            let req = signed(SECRET, signed_over).body(received);
            let what = format!("{received} signed as {signed_over}");
            assert_eq!(
                check(&req, &[SECRET]),
                Err(VerifyError::BodyRewritten(shape)),
                "{what}"
            );
        }
        // A wrong secret, or a body that is not JSON, is a plain mismatch.
        let req = signed("another secret", compact).body(sent);
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
        let req = signed(SECRET, "a=1").body("a=2");
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn matches_githubs_published_test_vector() {
        let req = Req::post("Hello, World!").header(
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        );
        assert!(check(&req, &[SECRET]).is_ok());
    }

    #[test]
    fn reports_event_and_delivery_id() {
        let verified = check(&signed(SECRET, r#"{"zen":"hi"}"#), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("push"));
        assert_eq!(
            verified.delivery_id(),
            Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
        );
    }

    #[test]
    fn reports_ping_like_any_other_event() {
        let req = signed(SECRET, r#"{"zen":"hi","hook_id":1}"#)
            .without("x-github-event")
            .header("X-GitHub-Event", "ping");
        assert_eq!(check(&req, &[SECRET]).unwrap().event_type(), Some("ping"));
    }

    #[test]
    fn rejects_github_signature_made_with_another_secret() {
        let req = signed("another secret", "{}");
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_tampered_github_body() {
        let req = signed(SECRET, r#"{"amount":1}"#).body(r#"{"amount":1000}"#);
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        let req = signed("new secret", "{}");
        assert!(check(&req, &["old secret", "new secret"]).is_ok());
    }

    #[test]
    fn accepts_legacy_sha1_when_sha256_header_is_absent() {
        let mac = hmac_hex(Algorithm::Sha1, SECRET.as_bytes(), &[b"{}"]);
        let req = Req::post("{}").header("X-Hub-Signature", &format!("sha1={mac}"));
        assert!(check(&req, &[SECRET]).is_ok());
    }

    #[test]
    fn ignores_sha1_when_a_wrong_sha256_signature_is_present() {
        let sha1 = hmac_hex(Algorithm::Sha1, SECRET.as_bytes(), &[b"{}"]);
        let req = signed("another secret", "{}").header("X-Hub-Signature", &format!("sha1={sha1}"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_unsigned_github_request() {
        let req = Req::post("{}");
        assert_eq!(
            check(&req, &[SECRET]),
            Err(VerifyError::MissingHeader("x-hub-signature-256".into()))
        );
    }

    #[test]
    fn rejects_malformed_github_signatures() {
        let cases: [(&[u8], VerifyError); 5] = [
            (b"sha256=xyz", malformed("signature is not valid hex")),
            (b"sha256=abc", malformed("signature is not valid hex")),
            (
                b"sha256757107ea0eb2509fc2",
                malformed("signature does not start with the expected prefix"),
            ),
            (b"", malformed("empty")),
            (b"sha256=\xff\xfe", malformed("not printable ASCII")),
        ];
        for (value, expected) in cases {
            let req = Req::post("{}").raw_header("X-Hub-Signature-256", value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }

    #[test]
    fn accepts_uppercase_hex() {
        let mac = hmac_hex(Algorithm::Sha256, SECRET.as_bytes(), &[b"{}"]).to_uppercase();
        let req = Req::post("{}").header("X-Hub-Signature-256", &format!("sha256={mac}"));
        assert!(check(&req, &[SECRET]).is_ok());
    }
}
