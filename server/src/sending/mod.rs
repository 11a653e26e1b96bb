//! Sending webhooks to subscribers: the pure policies, the subscription and publishing use
//! cases, and the delivery worker. Requests go out through [`crate::outbound`].
//!
//! - [`catalog`]: the event types subscriptions choose from, as people and scripts change them.
//! - [`consumers`]: who messages are addressed to, their portal's links and sessions, and the
//!   scope that keeps the portal to one consumer's own subscriptions and deliveries.
//! - [`credentials`]: which subscriber headers and URL parameters are credentials, shown
//!   redacted and kept when an edit sends `[redacted]` back.
//! - [`deliveries`]: redelivery by hand and the test event.
//! - [`filter`]: event-type names and the `*` / `prefix.*` patterns subscriptions select with.
//! - [`payload_filter`]: the small expression language a subscription filters payloads with.
//! - [`notices`]: a subscription failing for a quarter, half, three quarters of the time before
//!   it is disabled, and disabled: recorded, and published as built-in event types.
//! - [`schemas`]: event types' JSON Schemas, compiled once, enforced or warned on at publish.
//! - [`signing`]: signing secrets, Standard Webhooks signatures and headers, and the ASP.NET
//!   WebHooks-compatible body and `ms-signature`.
//! - [`retry`]: the retry schedule with jitter, `Retry-After`, and what an attempt's outcome
//!   means for the delivery (delivered, retry at, give up, disable the subscription).
//! - [`subscriptions`]: subscriptions checked and stored, the catalog rules, publishing.
//! - [`worker`]: claims due deliveries and runs each in order: sign, post, decide, record.

mod by_text;
pub mod catalog;
pub mod consumers;
pub mod credentials;
pub mod deliveries;
pub mod filter;
pub mod notices;
pub mod payload_filter;
pub mod retry;
pub mod schemas;
pub mod signing;
pub mod subscriptions;
pub mod worker;
