//! Reading an [`Incoming`] defensively: headers, query parameters, JSON fields and timestamps.

use std::borrow::Cow;

use serde_json::Value;

use super::{Incoming, VerifyError};

/// Longest signature-bearing header we read; real ones are well under 1 KiB.
const MAX_HEADER_BYTES: usize = 4096;
/// Longest event type or delivery id we keep from a signed body.
const MAX_LABEL_CHARS: usize = 256;
/// Longest event type or delivery id we accept from an unsigned header.
const MAX_HEADER_LABEL_BYTES: usize = 128;

fn malformed(header: &str, reason: &'static str) -> VerifyError {
    VerifyError::MalformedHeader {
        header: header.to_owned(),
        reason,
    }
}

/// A header that takes part in verification: present at most once, printable ASCII, not
/// absurdly long and not blank.
pub(super) fn header<'r>(req: &Incoming<'r>, name: &str) -> Result<Option<&'r str>, VerifyError> {
    let mut values = req.headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed(name, "sent more than once"));
    }
    if value.len() > MAX_HEADER_BYTES {
        return Err(malformed(name, "too long"));
    }
    let text = value
        .to_str()
        .map_err(|_| malformed(name, "not printable ASCII"))?
        .trim();
    if text.is_empty() {
        return Err(malformed(name, "empty"));
    }
    Ok(Some(text))
}

pub(super) fn required_header<'r>(req: &Incoming<'r>, name: &str) -> Result<&'r str, VerifyError> {
    header(req, name)?.ok_or_else(|| VerifyError::MissingHeader(name.to_owned()))
}

/// A header that names the request (event type, delivery id) without being signed: anyone
/// can set it to anything, and it is stored, deduplicated on and shown in the dashboard.
/// Present means well-formed: once, at most [`MAX_HEADER_LABEL_BYTES`], visible ASCII
/// without markup or quote characters; anything else is refused rather than dropped, so the
/// sender learns why and a spoofed value is never kept beside a verified body.
pub(super) fn label_header(req: &Incoming, name: &str) -> Result<Option<String>, VerifyError> {
    let Some(text) = header(req, name)? else {
        return Ok(None);
    };
    if text.len() > MAX_HEADER_LABEL_BYTES {
        return Err(malformed(name, "longer than 128 bytes"));
    }
    let unsafe_char = |c: char| !c.is_ascii_graphic() || matches!(c, '<' | '>' | '"' | '\'' | '`');
    if text.chars().any(unsafe_char) {
        return Err(malformed(
            name,
            "only visible ASCII without spaces, quotes or angle brackets is allowed",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// Keeps a sender-supplied label only if it is short, non-blank and free of control characters.
pub(super) fn label(text: &str) -> Option<String> {
    let text = text.trim();
    let usable = !text.is_empty()
        && text.chars().count() <= MAX_LABEL_CHARS
        && !text.chars().any(char::is_control);
    usable.then(|| text.to_owned())
}

/// `value` split at the first `=`, as in `sha256=<hex>` or `t=<unix>`.
pub(super) fn split_pair<'v>(
    header: &str,
    value: &'v str,
) -> Result<(&'v str, &'v str), VerifyError> {
    value
        .split_once('=')
        .ok_or_else(|| malformed(header, "expected name=value"))
}

/// `value` after `prefix` (compared ignoring ASCII case, so `SHA256=` passes as `sha256=`).
pub(super) fn strip_prefix<'v>(
    header: &str,
    value: &'v str,
    prefix: &str,
) -> Result<&'v str, VerifyError> {
    match value.split_at_checked(prefix.len()) {
        Some((head, rest)) if head.eq_ignore_ascii_case(prefix) => Ok(rest),
        _ => Err(VerifyError::MalformedHeader {
            header: header.to_owned(),
            reason: "signature does not start with the expected prefix",
        }),
    }
}

pub(super) fn parse_unix_secs(header: &str, text: &str) -> Result<i64, VerifyError> {
    text.parse()
        .map_err(|_| malformed(header, "timestamp is not whole Unix seconds"))
}

/// Replay window: a signed timestamp may lag `now` by at most `max_age` seconds and, when
/// `max_ahead` is given, lead it by at most that much.
pub(super) fn check_timestamp(
    timestamp: i64,
    now: i64,
    max_age: i64,
    max_ahead: Option<i64>,
) -> Result<(), VerifyError> {
    let age = now.saturating_sub(timestamp);
    if age > max_age {
        return Err(VerifyError::TimestampTooOld {
            age_secs: age,
            tolerance_secs: max_age,
        });
    }
    if let Some(max_ahead) = max_ahead {
        let ahead = timestamp.saturating_sub(now);
        if ahead > max_ahead {
            return Err(VerifyError::TimestampInFuture {
                ahead_secs: ahead,
                tolerance_secs: max_ahead,
            });
        }
    }
    Ok(())
}

/// The first value of query parameter `name`, percent-decoded.
pub(super) fn query_param<'q>(query: Option<&'q str>, name: &str) -> Option<Cow<'q, str>> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// The body as JSON, if it is a JSON object; anything else is simply not JSON to us.
pub(super) fn json_body(body: &[u8]) -> Option<Value> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body.get(start) != Some(&b'{') {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// A short string field at a JSON pointer such as `/event/type`.
pub(super) fn json_label(json: Option<&Value>, pointer: &str) -> Option<String> {
    label(json?.pointer(pointer)?.as_str()?)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn rejects_a_signature_header_sent_twice() {
        let req = Req::post("x").header("x-sig", "a").header("x-sig", "b");
        let err = header(&req.incoming(), "x-sig").unwrap_err();
        assert!(err.to_string().contains("more than once"), "{err}");
    }

    #[test]
    fn rejects_blank_huge_and_non_ascii_headers() {
        let blank = Req::post("x").header("x-sig", "  ");
        assert!(header(&blank.incoming(), "x-sig").is_err());
        let huge = Req::post("x").header("x-sig", &"a".repeat(5000));
        assert!(header(&huge.incoming(), "x-sig").is_err());
        let latin1 = Req::post("x").raw_header("x-sig", b"sha256=\xe9\xe9");
        assert_eq!(
            header(&latin1.incoming(), "x-sig"),
            Err(VerifyError::MalformedHeader {
                header: "x-sig".into(),
                reason: "not printable ASCII"
            })
        );
    }

    #[test]
    fn reads_headers_case_insensitively() {
        let req = Req::post("x").header("X-Hub-Signature-256", "sha256=00");
        assert_eq!(
            header(&req.incoming(), "x-hub-signature-256"),
            Ok(Some("sha256=00"))
        );
    }

    #[test]
    fn keeps_only_short_printable_labels() {
        assert_eq!(label(" push "), Some("push".into()));
        assert_eq!(label(""), None);
        assert_eq!(label("a\nb"), None);
        assert_eq!(label(&"e".repeat(300)), None);
    }

    #[test]
    fn refuses_unsigned_labels_that_are_not_plain_tokens() {
        let read = |value: &str| {
            label_header(
                &Req::post("x").header("x-event", value).incoming(),
                "x-event",
            )
        };
        assert_eq!(read("repo:push"), Ok(Some("repo:push".into())));
        assert_eq!(read(" orders/create "), Ok(Some("orders/create".into())));
        assert_eq!(
            label_header(&Req::post("x").incoming(), "x-event"),
            Ok(None)
        );
        for bad in [
            "</title><script>x</script>",
            "a b",
            "it's",
            "\"q\"",
            "  ",
            &"e".repeat(129),
        ] {
            let err = read(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}: {err}");
            assert!(err.to_string().contains("x-event"), "{err}");
        }
        let twice = Req::post("x").header("x-event", "a").header("x-event", "b");
        assert!(label_header(&twice.incoming(), "x-event").is_err());
    }

    #[test]
    fn timestamp_window_is_inclusive_and_overflow_safe() {
        assert!(check_timestamp(1000, 1300, 300, Some(300)).is_ok());
        assert!(check_timestamp(1600, 1300, 300, Some(300)).is_ok());
        assert!(check_timestamp(999, 1300, 300, Some(300)).is_err());
        assert!(check_timestamp(1601, 1300, 300, Some(300)).is_err());
        assert!(check_timestamp(i64::MIN, 1300, 300, Some(300)).is_err());
        assert!(check_timestamp(i64::MAX, 1300, 300, Some(300)).is_err());
        assert!(check_timestamp(i64::MAX, 1300, 300, None).is_ok());
    }

    #[test]
    fn decodes_query_parameters() {
        assert_eq!(
            query_param(Some("a=1&code=x%2By+z"), "code").as_deref(),
            Some("x+y z")
        );
        assert_eq!(query_param(Some("a=1"), "code"), None);
        assert_eq!(query_param(None, "code"), None);
    }

    #[test]
    fn reads_json_fields_leniently() {
        let json = json_body(br#" {"event":{"type":"app_mention"},"n":1}"#);
        assert_eq!(
            json_label(json.as_ref(), "/event/type"),
            Some("app_mention".into())
        );
        assert_eq!(json_label(json.as_ref(), "/n"), None);
        assert_eq!(json_body(b"[1]"), None);
        assert_eq!(json_body(b"{not json"), None);
        assert_eq!(json_body(b""), None);
    }
}
