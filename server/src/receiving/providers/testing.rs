//! Test helpers: an owned request to borrow an [`Incoming`] from, and signing shortcuts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::crypto::{Algorithm, hmac};
use super::{Incoming, Secret};

/// A fixed "now" for tests: 2021-02-21, near the Standard Webhooks vector's timestamp.
pub const NOW: i64 = 1_614_265_330;

pub struct Req {
    method: Method,
    headers: HeaderMap,
    query: Option<String>,
    body: Vec<u8>,
    callback_url: Option<String>,
}

impl Req {
    pub fn post(body: impl Into<Vec<u8>>) -> Self {
        Self {
            method: Method::POST,
            headers: HeaderMap::new(),
            query: None,
            body: body.into(),
            callback_url: None,
        }
    }

    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Appends a header, so calling it twice with one name sends it twice.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.raw_header(name, value.as_bytes())
    }

    pub fn raw_header(mut self, name: &str, value: &[u8]) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("test header name");
        let value = HeaderValue::from_bytes(value).expect("test header value");
        self.headers.append(name, value);
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.headers.remove(name);
        self
    }

    pub fn query(mut self, query: &str) -> Self {
        self.query = Some(query.to_owned());
        self
    }

    pub fn callback_url(mut self, url: &str) -> Self {
        self.callback_url = Some(url.to_owned());
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            headers: &self.headers,
            query: self.query.as_deref(),
            body: &self.body,
            callback_url: self.callback_url.as_deref(),
        }
    }
}

pub fn secrets(texts: &[&str]) -> Vec<Secret> {
    texts.iter().map(|text| Secret::new(*text)).collect()
}

pub fn hmac_hex(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(hmac(algorithm, key, parts))
}

pub fn hmac_base64(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> String {
    STANDARD.encode(hmac(algorithm, key, parts))
}
