use super::{signature_id, verified};
use crate::receiving::providers::crypto::{Algorithm, any_key_signed};
use crate::receiving::providers::request::{
    check_timestamp, json_body, json_label, parse_unix_secs, required_header, split_pair,
};
use crate::receiving::providers::{Incoming, Verified, VerifyError};

const HEADER: &str = "stripe-signature";
const TOLERANCE_SECS: i64 = 300;

/// Stripe: `t=<unix>,v1=<hex>[,v1=…]` over `"{t}.{body}"`, keyed by the whole `whsec_…` text.
/// Like Stripe's own libraries, it refuses timestamps older than 300 s but not future ones,
/// and ignores other schemes such as `v0`.
pub(in crate::receiving::providers) fn stripe(
    keys: &[&[u8]],
    req: &Incoming,
    now: i64,
) -> Result<Verified, VerifyError> {
    let value = required_header(req, HEADER)?;
    let malformed = |reason| VerifyError::MalformedHeader {
        header: HEADER.to_owned(),
        reason,
    };

    let mut timestamp = None;
    let mut v1_count = 0;
    let mut signatures = Vec::new();
    for item in value.split(',') {
        match split_pair(HEADER, item.trim())? {
            ("t", _) if timestamp.is_some() => return Err(malformed("t= given twice")),
            ("t", text) => timestamp = Some(text),
            ("v1", text) => {
                v1_count += 1;
                if let Ok(signature) = hex::decode(text) {
                    signatures.push(signature);
                }
            }
            _ => {}
        }
    }
    let timestamp_text = timestamp.ok_or_else(|| malformed("no t= timestamp"))?;
    let timestamp = parse_unix_secs(HEADER, timestamp_text)?;
    if v1_count == 0 {
        return Err(malformed("no v1= signature"));
    }
    if signatures.is_empty() {
        return Err(malformed("signature is not valid hex"));
    }

    let signed: [&[u8]; 3] = [timestamp_text.as_bytes(), b".", req.body];
    any_key_signed(Algorithm::Sha256, keys, &signed, &signatures)?;
    check_timestamp(timestamp, now, TOLERANCE_SECS, None)?;

    let json = json_body(req.body);
    Ok(verified(
        json_label(json.as_ref(), "/type"),
        json_label(json.as_ref(), "/id").or_else(|| Some(signature_id(value))),
    ))
}

#[cfg(test)]
mod tests {
    use crate::receiving::providers::testing::*;
    use crate::receiving::providers::*;

    const SECRET: &str = "whsec_test_secret_of_some_length";
    const BODY: &str =
        r#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","type":"invoice.paid","object":"event"}"#;

    fn v1(secret: &str, t: i64, body: &str) -> String {
        let signed = format!("{t}.{body}");
        hmac_hex(Algorithm::Sha256, secret.as_bytes(), &[signed.as_bytes()])
    }

    fn signed(secret: &str, t: i64, body: &str) -> Req {
        let header = format!("t={t},v1={}", v1(secret, t, body));
        Req::post(body).header("Stripe-Signature", &header)
    }

    fn check(req: &Req, keys: &[&str]) -> Result<Verified, VerifyError> {
        verify(&Provider::Stripe, &secrets(keys), &req.incoming(), NOW)
    }

    fn malformed(reason: &'static str) -> VerifyError {
        VerifyError::MalformedHeader {
            header: "stripe-signature".into(),
            reason,
        }
    }

    #[test]
    fn accepts_stripe_signature_and_reads_event_from_body() {
        let verified = check(&signed(SECRET, NOW, BODY), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), Some("invoice.paid"));
        assert_eq!(verified.delivery_id(), Some("evt_1NG8Du2eZvKYlo2CUI79vXWy"));
    }

    #[test]
    fn tolerates_a_non_json_body() {
        let verified = check(&signed(SECRET, NOW, "not json"), &[SECRET]).unwrap();
        assert_eq!(verified.event_type(), None);
        // No event id: the signature stands in for one, the same for the same request.
        let id = verified.delivery_id().unwrap();
        assert!(id.starts_with("sig:"), "{id}");
        let again = check(&signed(SECRET, NOW, "not json"), &[SECRET]).unwrap();
        assert_eq!(again.delivery_id(), Some(id));
        let later = check(&signed(SECRET, NOW + 1, "not json"), &[SECRET]).unwrap();
        assert_ne!(later.delivery_id(), Some(id));
    }

    #[test]
    fn keys_with_the_whole_whsec_text_not_its_base64() {
        let stripped = SECRET.trim_start_matches("whsec_");
        let req = signed(stripped, NOW, BODY);
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_stripe_signature_made_with_another_secret() {
        let req = signed("whsec_other", NOW, BODY);
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_tampered_stripe_body() {
        let req = signed(SECRET, NOW, BODY).body(BODY.replace("paid", "voided"));
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_a_timestamp_changed_after_signing() {
        let header = format!("t={},v1={}", NOW + 1, v1(SECRET, NOW, BODY));
        let req = Req::post(BODY).header("Stripe-Signature", &header);
        assert_eq!(check(&req, &[SECRET]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn rejects_stale_stripe_signature() {
        let req = signed(SECRET, NOW - 301, BODY);
        assert_eq!(
            check(&req, &[SECRET]),
            Err(VerifyError::TimestampTooOld {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert!(check(&signed(SECRET, NOW - 300, BODY), &[SECRET]).is_ok());
    }

    #[test]
    fn accepts_future_stripe_timestamp_as_stripe_libraries_do() {
        assert!(check(&signed(SECRET, NOW + 3600, BODY), &[SECRET]).is_ok());
    }

    #[test]
    fn accepts_any_v1_among_several_and_skips_v0() {
        let good = v1(SECRET, NOW, BODY);
        let header = format!("t={NOW},v1={},v0=deadbeef,v1={good}", "0".repeat(64));
        let req = Req::post(BODY).header("Stripe-Signature", &header);
        assert!(check(&req, &[SECRET]).is_ok());
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        let req = signed("whsec_new", NOW, BODY);
        assert!(check(&req, &["whsec_old", "whsec_new"]).is_ok());
    }

    #[test]
    fn rejects_unsigned_stripe_request() {
        assert_eq!(
            check(&Req::post(BODY), &[SECRET]),
            Err(VerifyError::MissingHeader("stripe-signature".into()))
        );
    }

    #[test]
    fn rejects_malformed_stripe_headers() {
        let good = v1(SECRET, NOW, BODY);
        let cases: [(Vec<u8>, VerifyError); 8] = [
            (format!("v1={good}").into(), malformed("no t= timestamp")),
            (format!("t={NOW}").into(), malformed("no v1= signature")),
            (
                format!("t={NOW},v0={good}").into(),
                malformed("no v1= signature"),
            ),
            (
                format!("t=yesterday,v1={good}").into(),
                malformed("timestamp is not whole Unix seconds"),
            ),
            (
                format!("t={NOW},v1=xyz").into(),
                malformed("signature is not valid hex"),
            ),
            (
                format!("t={NOW},v1{good}").into(),
                malformed("expected name=value"),
            ),
            (
                format!("t={NOW},t={NOW},v1={good}").into(),
                malformed("t= given twice"),
            ),
            (
                b"t=1,v1=\xc3\xa9".to_vec(),
                malformed("not printable ASCII"),
            ),
        ];
        for (value, expected) in cases {
            let req = Req::post(BODY).raw_header("Stripe-Signature", &value);
            assert_eq!(check(&req, &[SECRET]), Err(expected), "{value:?}");
        }
    }
}
