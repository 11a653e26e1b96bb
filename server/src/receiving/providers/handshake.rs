//! Answers senders expect before, or instead of, storing a delivery: ownership challenges.

use http::Method;

use super::request::{json_body, query_param};
use super::{Incoming, Provider, Verified};

/// Longest challenge we echo; real ones are a few dozen characters.
const MAX_CHALLENGE_BYTES: usize = 1024;

/// A complete reply for the endpoint to send instead of its usual answer. Echoed challenges
/// are sender-chosen text, so the endpoint should add `X-Content-Type-Options: nosniff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Handshake {
    fn echo(challenge: &str) -> Self {
        if challenge.len() > MAX_CHALLENGE_BYTES {
            return Self {
                status: 400,
                content_type: "text/plain; charset=utf-8",
                body: b"challenge too long".to_vec(),
            };
        }
        Self {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: challenge.as_bytes().to_vec(),
        }
    }
}

/// Unsigned probes that prove the endpoint exists: Dropbox `GET ?challenge=x` and ASP.NET
/// `GET ?echo=x` must get `x` back, Trello's `HEAD` must get 200. `None` means the request is
/// not a handshake and goes on to [`verify`](super::verify).
pub fn handshake(provider: &Provider, req: &Incoming) -> Option<Handshake> {
    let param = match (provider, req.method) {
        (Provider::Dropbox, &Method::GET) => "challenge",
        (Provider::AspNet, &Method::GET) => "echo",
        (Provider::Trello { .. }, &Method::HEAD) => {
            return Some(Handshake {
                status: 200,
                content_type: "text/plain; charset=utf-8",
                body: Vec::new(),
            });
        }
        _ => return None,
    };
    Some(Handshake::echo(&query_param(req.query, param)?))
}

/// Replies owed to a verified request: Slack's Events API checks a new URL with a signed
/// `url_verification` whose `challenge` must come back. Everything else, GitHub's `ping`
/// included, is an ordinary delivery and gets `None`.
pub fn post_verify_reply(
    provider: &Provider,
    req: &Incoming,
    verified: &Verified,
) -> Option<Handshake> {
    if *provider != Provider::Slack || verified.event_type() != Some("url_verification") {
        return None;
    }
    let json = json_body(req.body)?;
    Some(Handshake::echo(json.get("challenge")?.as_str()?))
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::super::testing::*;
    use super::super::*;

    fn text(body: &str) -> Option<Handshake> {
        Some(Handshake {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn echoes_dropbox_challenge() {
        let req = Req::post("")
            .method(Method::GET)
            .query("challenge=abc%20123");
        assert_eq!(
            handshake(&Provider::Dropbox, &req.incoming()),
            text("abc 123")
        );
    }

    #[test]
    fn echoes_aspnet_echo_parameter() {
        let req = Req::post("").method(Method::GET).query("code=x&echo=6a1b");
        assert_eq!(handshake(&Provider::AspNet, &req.incoming()), text("6a1b"));
    }

    #[test]
    fn answers_trellos_head_probe() {
        let req = Req::post("").method(Method::HEAD);
        assert_eq!(
            handshake(&Provider::Trello { callback_url: None }, &req.incoming()),
            text("")
        );
    }

    #[test]
    fn refuses_to_echo_a_huge_challenge() {
        let query = format!("challenge={}", "a".repeat(2000));
        let req = Req::post("").method(Method::GET).query(&query);
        let reply = handshake(&Provider::Dropbox, &req.incoming()).unwrap();
        assert_eq!(reply.status, 400);
    }

    #[test]
    fn leaves_other_requests_to_verification() {
        let get = Req::post("").method(Method::GET).query("challenge=abc");
        let post = Req::post("").query("challenge=abc");
        let bare_get = Req::post("").method(Method::GET);
        assert_eq!(handshake(&Provider::Dropbox, &post.incoming()), None);
        assert_eq!(handshake(&Provider::Dropbox, &bare_get.incoming()), None);
        assert_eq!(handshake(&Provider::GitHub, &get.incoming()), None);
        assert_eq!(
            handshake(
                &Provider::Trello { callback_url: None },
                &Req::post("").incoming()
            ),
            None
        );
    }

    fn slack_signed(body: &str) -> Req {
        let signed = format!("v0:{NOW}:{body}");
        let mac = hmac_hex(Algorithm::Sha256, b"slack-secret", &[signed.as_bytes()]);
        Req::post(body)
            .header("X-Slack-Signature", &format!("v0={mac}"))
            .header("X-Slack-Request-Timestamp", &NOW.to_string())
    }

    #[test]
    fn answers_slack_url_verification_after_verifying_it() {
        let body = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        let req = slack_signed(body);
        let verified = verify(
            &Provider::Slack,
            &secrets(&["slack-secret"]),
            &req.incoming(),
            NOW,
        )
        .unwrap();
        assert_eq!(
            post_verify_reply(&Provider::Slack, &req.incoming(), &verified),
            text("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        );
    }

    #[test]
    fn treats_ordinary_slack_events_and_github_ping_as_deliveries() {
        let req = slack_signed(r#"{"type":"event_callback","event":{"type":"message"}}"#);
        let secrets = secrets(&["slack-secret"]);
        let verified = verify(&Provider::Slack, &secrets, &req.incoming(), NOW).unwrap();
        assert_eq!(
            post_verify_reply(&Provider::Slack, &req.incoming(), &verified),
            None
        );

        let mac = hmac_hex(Algorithm::Sha256, b"gh", &[b"{}"]);
        let ping = Req::post("{}")
            .header("X-Hub-Signature-256", &format!("sha256={mac}"))
            .header("X-GitHub-Event", "ping");
        let github = verify(&Provider::GitHub, &secrets_of("gh"), &ping.incoming(), NOW).unwrap();
        assert_eq!(github.event_type(), Some("ping"));
        assert_eq!(
            post_verify_reply(&Provider::GitHub, &ping.incoming(), &github),
            None
        );
    }

    fn secrets_of(secret: &str) -> Vec<Secret> {
        vec![Secret::new(secret)]
    }
}
