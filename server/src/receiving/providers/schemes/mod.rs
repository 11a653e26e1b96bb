//! One verifier per named provider. Each reads its headers, checks the MAC against every key,
//! then any timestamp window, and only then reads the event type and delivery id.

mod aspnet;
mod bitbucket;
mod dropbox;
mod github;
mod pusher;
mod secret_in_url;
mod shopify;
mod slack;
mod standard_webhooks;
mod stripe;
mod trello;
mod zendesk;

pub(super) use aspnet::aspnet;
pub(super) use bitbucket::bitbucket;
pub(super) use dropbox::dropbox;
pub(super) use github::github;
pub(super) use pusher::pusher;
pub(super) use secret_in_url::secret_in_url;
pub(super) use shopify::shopify;
pub(super) use slack::slack;
pub(super) use standard_webhooks::{standard_webhooks, standard_webhooks_secret_problem};
pub(super) use stripe::stripe;
pub(super) use trello::trello;
pub(super) use zendesk::zendesk;

use super::crypto::{Algorithm, Encoding, any_key_signed};
use super::request::{required_header, strip_prefix};
use super::{Incoming, Verified, VerifyError};

fn verified(event_type: Option<String>, delivery_id: Option<String>) -> Verified {
    Verified {
        event_type,
        delivery_id,
    }
}

/// The delivery id of a request from a scheme that signs a timestamp but names no delivery:
/// its signature, hashed. The same signed request sent again (a replay inside the timestamp's
/// tolerance, or the sender's own retry of it) is then a duplicate, answered 2xx and stored
/// once; a new request carries a new timestamp, so a new signature.
fn signature_id(signature: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(signature.trim().as_bytes()));
    format!("sig:{}", &digest[..32])
}

/// The common scheme: one header holding `<prefix><encoded MAC>` of the raw body.
fn check_body_signature(
    keys: &[&[u8]],
    req: &Incoming,
    algorithm: Algorithm,
    header: &str,
    prefix: &str,
    encoding: Encoding,
) -> Result<(), VerifyError> {
    let value = required_header(req, header)?;
    let signature = encoding.decode(header, strip_prefix(header, value, prefix)?)?;
    any_key_signed(algorithm, keys, &[req.body], &[signature])
}

/// The name every item of a batch shares, or none when they differ or there are none.
fn shared_label(labels: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let mut labels = labels.into_iter();
    let first = labels.next()??;
    labels
        .all(|label| label.as_deref() == Some(first.as_str()))
        .then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_share_a_label_only_when_all_agree() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(shared_label([some("a"), some("a")]), some("a"));
        assert_eq!(shared_label([some("a"), some("b")]), None);
        assert_eq!(shared_label([some("a"), None]), None);
        assert_eq!(shared_label([]), None);
    }
}
