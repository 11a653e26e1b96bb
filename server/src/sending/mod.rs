//! Sending webhooks to subscribers: the pure policies and the outgoing HTTP client that the
//! delivery worker is built from.
//!
//! - [`credentials`]: which subscriber headers and URL parameters are credentials, shown
//!   redacted and kept when an edit sends `[redacted]` back.
//! - [`filter`]: event-type names and the `*` / `prefix.*` patterns subscriptions select with.
//! - [`signing`]: signing secrets, Standard Webhooks signatures and headers, and the ASP.NET
//!   WebHooks-compatible body and `ms-signature`.
//! - [`retry`]: the retry schedule with jitter, `Retry-After`, and what an attempt's outcome
//!   means for the delivery (delivered, retry at, give up, disable the subscription).
//! - [`outbound`]: the hardened HTTP client: no redirects, timeouts, a capped response read and
//!   a guard against requests to loopback, private and metadata addresses.
//!
//! Nothing here touches storage; the worker owns persistence and calls these in order: sign,
//! post, decide.

pub mod credentials;
pub mod filter;
pub mod outbound;
pub mod retry;
pub mod signing;
pub mod subscriptions;
pub mod worker;
