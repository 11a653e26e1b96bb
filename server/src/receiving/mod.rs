//! Receiving webhooks from outside senders. [`providers`] decides whether one incoming request
//! really comes from the configured sender; the HTTP handler and storage build on it.

pub mod providers;
