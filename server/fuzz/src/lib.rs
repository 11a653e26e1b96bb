//! What the fuzz targets share: a reader that turns the fuzzer's bytes into fields.
//!
//! Lengths travel inline, one byte before the bytes they count (`0xff` then two little-endian
//! bytes for longer fields), so a seed can be written by hand (see `seeds.py`) and a mutation
//! changes one field rather than shifting all of them. Reading past the end gives zeros and
//! empty fields, so every input decodes to something.

use std::borrow::Cow;

pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    pub fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// One of `items`, chosen by the next byte.
    pub fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[usize::from(self.byte()) % items.len()]
    }

    fn fixed<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let n = N.min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        out
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.fixed())
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.fixed())
    }

    pub fn i64(&mut self) -> i64 {
        i64::from_le_bytes(self.fixed())
    }

    pub fn f64(&mut self) -> f64 {
        f64::from_le_bytes(self.fixed())
    }

    pub fn bytes(&mut self) -> &'a [u8] {
        let len = match self.byte() {
            0xff => usize::from(self.u16()),
            short => usize::from(short),
        };
        let (field, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        field
    }

    /// A field as text; invalid UTF-8 becomes U+FFFD, so the fuzzer still reaches text parsers.
    pub fn text(&mut self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.bytes())
    }

    /// `Some(field)` when the next byte is odd.
    pub fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> T) -> Option<T> {
        self.flag().then(|| read(self))
    }

    /// Everything not read yet; later reads give zeros and empty fields.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Every header some verifier reads, so the fuzzer reaches the parsers behind them without
/// having to guess their names; `x-signature`, `x-timestamp`, `x-id` and `x-event` are for the
/// generic scheme.
pub const HEADER_NAMES: &[&str] = &[
    "x-hub-signature-256",
    "x-hub-signature",
    "x-github-event",
    "x-github-delivery",
    "stripe-signature",
    "x-slack-signature",
    "x-slack-request-timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "x-shopify-hmac-sha256",
    "x-shopify-topic",
    "x-shopify-webhook-id",
    "x-dropbox-signature",
    "x-trello-webhook",
    "x-pusher-key",
    "x-pusher-signature",
    "x-zendesk-webhook-signature",
    "x-zendesk-webhook-signature-timestamp",
    "x-event-key",
    "x-request-uuid",
    "x-request-id",
    "ms-signature",
    "x-signature",
    "x-timestamp",
    "x-id",
    "x-event",
];

/// A known header name for a selector byte below 0xc0 (three times in four), otherwise a name
/// read from the input.
pub fn header_name<'a>(reader: &mut Reader<'a>) -> Cow<'a, str> {
    match reader.byte() {
        choice @ 0..0xc0 => Cow::Borrowed(HEADER_NAMES[usize::from(choice) % HEADER_NAMES.len()]),
        _ => reader.text(),
    }
}
