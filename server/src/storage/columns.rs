//! How values without a column type of their own are written to text columns.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// Headers as stored: a JSON array of `[name, value]` pairs, in the order received.
pub fn header_pairs(headers: &HeaderMap) -> String {
    header_pairs_shown(headers, |_, value| {
        String::from_utf8_lossy(value.as_bytes()).into_owned()
    })
}

/// The same, with each value as `show` gives it (to keep a secret out of a log).
pub fn header_pairs_shown(
    headers: &HeaderMap,
    show: impl Fn(&HeaderName, &HeaderValue) -> String,
) -> String {
    let pairs: Vec<(&str, String)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), show(name, value)))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".to_owned())
}
