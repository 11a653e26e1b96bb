//! Receiving webhooks from outside senders. [`providers`] decides whether one incoming request
//! really comes from the configured sender; [`ingest`] runs the receive flow around it (find the
//! source, verify, decide the handlers, commit, answer); [`handlers`] are the steps run on each
//! event and [`worker`] runs their queued part ([`runs`] runs failed ones again by hand);
//! [`sources`] creates the endpoints; [`relay`] streams a source's events to `hookhub listen`.

pub mod handlers;
pub mod history;
pub mod ingest;
pub mod providers;
pub mod relay;
pub mod runs;
pub mod sources;
pub mod worker;
