//! Receiving webhooks from outside senders. [`providers`] decides whether one incoming request
//! really comes from the configured sender; [`ingest`] runs the receive flow around it (find the
//! source, verify, commit, answer); [`sources`] creates the endpoints.

pub mod ingest;
pub mod providers;
pub mod sources;
