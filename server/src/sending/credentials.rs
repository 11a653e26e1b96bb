//! Subscriber credentials: the extra headers (`Authorization`, `X-Api-Key`) and URL query
//! parameters (`?token=`) a subscriber authenticates the hub with. Lists, the REST API and
//! attempt logs show them as [`REDACTED`]; an edit that sends `[redacted]` back keeps the stored
//! value, so a form filled from a redacted view round-trips without losing anything.

use std::collections::BTreeMap;

use crate::error::{Error, invalid};

/// What a hidden value is shown as, and what an edit sends to keep it.
pub const REDACTED: &str = "[redacted]";

/// Words that mark a header or query parameter name as carrying a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "auth",
    "cookie",
    "token",
    "secret",
    "key",
    "pass",
    "session",
    "sig",
    "credential",
    "code",
];

/// Whether a header or query parameter of this name carries a credential (or a signature).
pub fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_WORDS.iter().any(|word| name.contains(word))
}

/// A header as it may be shown: a credential's value replaced by [`REDACTED`].
pub fn redact_header((name, value): (String, String)) -> (String, String) {
    if is_credential(&name) {
        (name, REDACTED.to_owned())
    } else {
        (name, value)
    }
}

/// The URL with the value of every credential query parameter replaced by [`REDACTED`].
pub fn redact_url(url: &str) -> String {
    map_query_credentials(url, |_, _| Ok::<_, std::convert::Infallible>(REDACTED))
        .unwrap_or_else(|never| match never {})
}

/// The submitted headers with each `[redacted]` value replaced by the stored one of that name.
pub fn restore_headers(
    submitted: Vec<(String, String)>,
    stored: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, Error> {
    submitted
        .into_iter()
        .map(|(name, value)| {
            if value.trim() != REDACTED {
                return Ok((name, value));
            }
            match stored.get(&name.trim().to_ascii_lowercase()) {
                Some(kept) => Ok((name, kept.clone())),
                None => Err(invalid(
                    "headers",
                    format!("`{name}` has no stored value for {REDACTED} to keep: type the value"),
                )),
            }
        })
        .collect()
}

/// The submitted URL with each `[redacted]` query value replaced by the stored URL's value of
/// the same parameter.
pub fn restore_url(submitted: &str, stored: Option<&str>) -> Result<String, Error> {
    let mut kept: Vec<(String, &str)> = Vec::new();
    if let Some(stored) = stored {
        map_query_credentials(stored, |name, value| {
            kept.push((name.to_owned(), value));
            Ok::<_, std::convert::Infallible>(value)
        })
        .unwrap_or_else(|never| match never {});
    }
    map_query_credentials(submitted, |name, value| {
        if value != REDACTED {
            return Ok(value);
        }
        kept.iter()
            .find(|(kept_name, _)| kept_name == name)
            .map(|(_, kept_value)| *kept_value)
            .ok_or_else(|| {
                invalid(
                    "url",
                    format!("`{name}` has no stored value for {REDACTED} to keep: type the value"),
                )
            })
    })
}

/// Rebuilds `url` with each credential query parameter's value replaced by what `replace`
/// answers for its name and value. Everything else, the fragment included, is kept as written.
fn map_query_credentials<'a, E>(
    url: &'a str,
    mut replace: impl FnMut(&str, &'a str) -> Result<&'a str, E>,
) -> Result<String, E> {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let Some((base, query)) = before_fragment.split_once('?') else {
        return Ok(url.to_owned());
    };
    let mut rebuilt = String::with_capacity(url.len());
    rebuilt.push_str(base);
    rebuilt.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            rebuilt.push('&');
        }
        match pair.split_once('=') {
            Some((name, value)) if is_credential(name) => {
                rebuilt.push_str(name);
                rebuilt.push('=');
                rebuilt.push_str(replace(name, value)?);
            }
            _ => rebuilt.push_str(pair),
        }
    }
    if let Some(fragment) = fragment {
        rebuilt.push('#');
        rebuilt.push_str(fragment);
    }
    Ok(rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_query_values_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_url("https://h.example/in?token=abc&team=7&api_key=k#top"),
            "https://h.example/in?token=[redacted]&team=7&api_key=[redacted]#top"
        );
        assert_eq!(redact_url("https://h.example/in"), "https://h.example/in");
        assert_eq!(
            redact_url("https://h.example/?flag&Sig=x"),
            "https://h.example/?flag&Sig=[redacted]"
        );
    }

    #[test]
    fn credential_headers_are_redacted() {
        let headers = vec![
            ("authorization".to_owned(), "Bearer t".to_owned()),
            ("x-api-key".to_owned(), "k".to_owned()),
            ("x-team".to_owned(), "blue".to_owned()),
        ];
        assert_eq!(
            headers.into_iter().map(redact_header).collect::<Vec<_>>(),
            vec![
                ("authorization".to_owned(), REDACTED.to_owned()),
                ("x-api-key".to_owned(), REDACTED.to_owned()),
                ("x-team".to_owned(), "blue".to_owned()),
            ]
        );
    }

    #[test]
    fn a_redacted_url_restores_the_stored_values_even_after_other_edits() {
        let stored = "https://h.example/in?token=abc&team=7";
        let edited = redact_url(stored).replace("/in", "/v2/in");
        assert_eq!(
            restore_url(&edited, Some(stored)).unwrap(),
            "https://h.example/v2/in?token=abc&team=7"
        );
        let retyped = "https://h.example/in?token=new&team=7";
        assert_eq!(restore_url(retyped, Some(stored)).unwrap(), retyped);
    }

    #[test]
    fn redacted_without_a_stored_value_is_refused() {
        assert!(restore_url("https://h.example/?secret=[redacted]", None).is_err());
        assert!(
            restore_url(
                "https://h.example/?secret=[redacted]",
                Some("https://h.example/?token=abc")
            )
            .is_err()
        );
        let stored = BTreeMap::from([("x-api-key".to_owned(), "k".to_owned())]);
        let submitted = vec![("Authorization".to_owned(), REDACTED.to_owned())];
        assert!(restore_headers(submitted, &stored).is_err());
    }

    #[test]
    fn redacted_headers_restore_by_name_in_any_case() {
        let stored = BTreeMap::from([("x-api-key".to_owned(), "k".to_owned())]);
        let submitted = vec![
            ("X-Api-Key".to_owned(), REDACTED.to_owned()),
            ("x-team".to_owned(), "blue".to_owned()),
        ];
        assert_eq!(
            restore_headers(submitted, &stored).unwrap(),
            vec![
                ("X-Api-Key".to_owned(), "k".to_owned()),
                ("x-team".to_owned(), "blue".to_owned()),
            ]
        );
    }
}
