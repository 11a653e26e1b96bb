//! The URLs webhooks may be sent to, checked as they are typed.

use std::net::IpAddr;

use reqwest::Url;

/// Why a URL cannot be used for a subscription. The messages never repeat the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("this is not a valid URL: {0}")]
    Invalid(String),
    #[error("only http:// and https:// URLs can receive webhooks")]
    Scheme,
    #[error("the URL has no host name")]
    NoHost,
    #[error(
        "the URL must not contain a user name or password; put credentials in a header instead"
    )]
    Credentials,
}

pub const MAX_URL_LEN: usize = 2048;

/// What is wrong with a URL that does not parse, said so that a person can fix it (the
/// parser's own words, such as "relative URL without a base", are for programmers).
fn explain(error: url::ParseError) -> &'static str {
    use url::ParseError::*;
    match error {
        RelativeUrlWithoutBase | RelativeUrlWithCannotBeABaseBase | SetHostOnCannotBeABaseUrl => {
            "it does not start with http:// or https://"
        }
        EmptyHost => "it has no host name after the scheme",
        IdnaError | InvalidDomainCharacter => {
            "its host name has a character host names cannot have"
        }
        InvalidPort => "its port is not a number from 1 to 65535",
        InvalidIpv4Address | InvalidIpv6Address => "its IP address is not a valid one",
        Overflow => "it is too long",
        _ => "check it for typing mistakes",
    }
}

/// Checks a subscription URL as typed into a form or an API call: at most [`MAX_URL_LEN`]
/// characters, `http` or `https`, a host, and no `user:password@` part (credentials in URLs
/// end up in logs and on screens). Whether the host's addresses are allowed is decided at
/// send time, when it is resolved.
pub fn validate_url(text: &str) -> Result<Url, UrlError> {
    let text = text.trim();
    if text.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    let url = Url::parse(text).map_err(|e| UrlError::Invalid(explain(e).to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    Ok(url)
}

/// The IP address a URL names literally (`http://10.0.0.1/`, `http://[::1]/`), if it does.
pub(super) fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn validate_url_accepts_http_and_https() {
        for url in [
            "https://example.com/hooks",
            "http://example.com:8080/a?b=c",
            " https://[2606:4700::1]/x ",
        ] {
            assert!(validate_url(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn validate_url_refuses_with_clear_reasons() {
        // Said for a person: what to change, not the parser's words.
        assert_eq!(
            validate_url("example.com/hooks").unwrap_err().to_string(),
            "this is not a valid URL: it does not start with http:// or https://"
        );
        assert_eq!(
            validate_url("https://example.com:99999/")
                .unwrap_err()
                .to_string(),
            "this is not a valid URL: its port is not a number from 1 to 65535"
        );
        assert_eq!(validate_url("ftp://example.com/"), Err(UrlError::Scheme));
        assert_eq!(validate_url("file:///etc/passwd"), Err(UrlError::Scheme));
        assert_eq!(validate_url("javascript:alert(1)"), Err(UrlError::Scheme));
        assert_eq!(
            validate_url("https://user:pw@example.com/"),
            Err(UrlError::Credentials)
        );
        assert_eq!(
            validate_url("https://user@example.com/"),
            Err(UrlError::Credentials)
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(validate_url(&long), Err(UrlError::TooLong));
        assert!(
            !UrlError::Credentials.to_string().contains("pw"),
            "messages never echo the URL"
        );
    }

    #[test]
    fn literal_ips_are_recognised_in_every_spelling() {
        let host = |url: &str| literal_ip(&validate_url(url).unwrap());
        assert_eq!(host("http://127.0.0.1/"), Some(ip("127.0.0.1")));
        assert_eq!(host("http://[::1]:8080/"), Some(ip("::1")));
        assert_eq!(host("http://2130706433/"), Some(ip("127.0.0.1")));
        assert_eq!(host("http://0x7f.1/"), Some(ip("127.0.0.1")));
        assert_eq!(
            host("http://[::ffff:7f00:1]/"),
            Some(ip("::ffff:127.0.0.1"))
        );
        assert_eq!(host("http://example.com/"), None);
    }
}
