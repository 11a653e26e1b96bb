//! Deterministic, realistic-looking webhook bodies and headers, and GitHub's signature.

use hmac::{KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

/// Commit-message words; every generated body draws from these.
const WORDS: &[&str] = &[
    "fix",
    "add",
    "remove",
    "update",
    "refactor",
    "bump",
    "merge",
    "branch",
    "main",
    "release",
    "deploy",
    "build",
    "test",
    "tests",
    "flaky",
    "retry",
    "timeout",
    "cache",
    "config",
    "docs",
    "readme",
    "typo",
    "lint",
    "format",
    "schema",
    "migration",
    "index",
    "query",
    "slow",
    "fast",
    "handler",
    "webhook",
    "signature",
    "verify",
    "secret",
    "rotate",
    "token",
    "session",
    "login",
    "logout",
    "user",
    "users",
    "admin",
    "page",
    "pages",
    "table",
    "column",
    "event",
    "events",
    "source",
    "sources",
    "payload",
    "header",
    "headers",
    "body",
    "json",
    "parse",
    "error",
    "errors",
    "panic",
    "unwrap",
    "result",
    "option",
    "async",
    "await",
    "tokio",
    "axum",
    "leptos",
    "router",
    "route",
    "server",
    "client",
    "request",
    "response",
    "status",
    "retry",
    "backoff",
    "queue",
    "worker",
    "writer",
    "reader",
    "pool",
    "connection",
    "database",
    "sqlite",
    "commit",
    "rollback",
    "transaction",
    "savepoint",
    "invoice",
    "payment",
    "customer",
    "charge",
    "refund",
    "subscription",
    "order",
    "product",
    "checkout",
    "cart",
    "shipping",
    "address",
    "email",
    "notify",
    "alert",
    "metrics",
    "trace",
    "span",
    "log",
    "logs",
    "dashboard",
    "filter",
    "search",
    "sort",
    "paging",
    "cursor",
    "limit",
    "offset",
    "window",
    "button",
    "form",
    "input",
    "style",
    "theme",
    "dark",
    "mode",
    "mobile",
    "layout",
    "footer",
    "navbar",
    "icon",
    "image",
    "upload",
    "download",
    "export",
    "import",
    "csv",
    "report",
    "chart",
    "graph",
    "weekly",
    "daily",
    "nightly",
    "ci",
    "pipeline",
    "docker",
    "compose",
    "kubernetes",
    "helm",
    "terraform",
    "aws",
    "staging",
    "production",
    "rollout",
    "canary",
    "hotfix",
    "security",
    "audit",
    "dependency",
];

/// A word found in about one body in [`RARE_EVERY`], and nowhere else.
pub const RARE_WORD: &str = "quokka";
pub const RARE_EVERY: u64 = 5_000;
/// A word most bodies contain.
pub const COMMON_WORD: &str = "release";
/// A word no body contains.
pub const ABSENT_WORD: &str = "zyzzyvaabsent";

/// splitmix64: a tiny, good-enough generator for reproducible data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    pub fn hex(&mut self, chars: usize) -> String {
        let mut out = String::with_capacity(chars + 16);
        while out.len() < chars {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(chars);
        out
    }

    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// Words separated by spaces, exactly `len` bytes long (all ASCII, nothing JSON escapes).
fn words(rng: &mut Rng, len: usize, rare: bool) -> String {
    let mut text = String::with_capacity(len + 16);
    if rare {
        text.push_str(RARE_WORD);
    }
    while text.len() < len {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(rng.pick(WORDS));
    }
    text.truncate(len);
    // A cut word is harmless, but a trailing space would look odd.
    if text.ends_with(' ') {
        text.pop();
        text.push('.');
    }
    text
}

/// Builds the JSON `template(message)` with its message padded so the whole is `size` bytes.
fn sized(size: usize, rng: &mut Rng, rare: bool, template: impl Fn(&str) -> String) -> String {
    let overhead = template("").len();
    let body = template(&words(rng, size.saturating_sub(overhead), rare));
    debug_assert!(rare || !body.contains(RARE_WORD));
    body
}

/// A GitHub `push` payload of exactly `size` bytes.
pub fn github_push(seed: u64, size: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let after = rng.hex(40);
    let before = rng.hex(40);
    sized(size, &mut rng, false, |message| {
        json!({
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "repository": {"id": 1296269, "full_name": "acme/web", "private": true},
            "pusher": {"name": "octocat", "email": "octocat@example.com"},
            "head_commit": {"id": after, "message": message, "author": {"username": "octocat"}},
        })
        .to_string()
    })
    .into_bytes()
}

pub fn github_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("any key size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One of the stored events `browse` fills the database with.
pub struct StoredEvent {
    pub event_type: &'static str,
    pub delivery_id: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The provider kinds `browse` makes sources of, with the event types each sends.
pub const BROWSE_SOURCES: &[(&str, &str, &[&str])] = &[
    (
        "GitHub — acme/web",
        "github",
        &["push", "pull_request", "issues", "workflow_run"],
    ),
    (
        "GitHub — acme/api",
        "github",
        &["push", "pull_request", "release"],
    ),
    (
        "Stripe — billing",
        "stripe",
        &[
            "invoice.paid",
            "charge.succeeded",
            "customer.subscription.updated",
        ],
    ),
    (
        "Shopify — shop",
        "shopify",
        &["orders/create", "orders/paid", "products/update"],
    ),
];

/// Event number `n` of source number `source`: about 1 KiB of JSON, with [`RARE_WORD`] in
/// about one in [`RARE_EVERY`].
pub fn browse_event(n: u64, source: usize) -> StoredEvent {
    let mut rng = Rng::new(n.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0xB0B);
    let (_, provider, types) = BROWSE_SOURCES[source];
    let event_type = types[rng.below(types.len() as u64) as usize];
    let rare = rng.below(RARE_EVERY) == 0;
    let size = 900 + rng.below(250) as usize;
    let delivery_id = rng.uuid();
    let id = rng.hex(24);
    let body = sized(size, &mut rng, rare, |message| match provider {
        "github" => json!({
            "action": "completed",
            "repository": {"full_name": "acme/web", "default_branch": "main"},
            "sender": {"login": "octocat", "type": "User"},
            "head_commit": {"id": id, "message": message},
        })
        .to_string(),
        "stripe" => json!({
            "id": format!("evt_{id}"),
            "object": "event",
            "type": event_type,
            "livemode": false,
            "data": {"object": {"id": format!("in_{id}"), "amount_due": 4200, "currency": "eur",
                "description": message}},
        })
        .to_string(),
        _ => json!({
            "id": n,
            "admin_graphql_api_id": format!("gid://shopify/Order/{n}"),
            "currency": "EUR",
            "total_price": "42.00",
            "note": message,
        })
        .to_string(),
    });
    let headers = match provider {
        "github" => vec![
            ("host", "hooks.example.com".to_owned()),
            ("user-agent", format!("GitHub-Hookshot/{}", rng.hex(7))),
            ("content-type", "application/json".to_owned()),
            ("x-github-event", event_type.to_owned()),
            ("x-github-delivery", delivery_id.clone()),
            ("x-hub-signature-256", format!("sha256={}", rng.hex(64))),
        ],
        "stripe" => vec![
            ("host", "hooks.example.com".to_owned()),
            (
                "user-agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)".to_owned(),
            ),
            ("content-type", "application/json; charset=utf-8".to_owned()),
            (
                "stripe-signature",
                format!("t=1700000000,v1={}", rng.hex(64)),
            ),
        ],
        _ => vec![
            ("host", "hooks.example.com".to_owned()),
            ("content-type", "application/json".to_owned()),
            ("x-shopify-topic", event_type.to_owned()),
            ("x-shopify-webhook-id", delivery_id.clone()),
            ("x-shopify-hmac-sha256", rng.hex(44)),
        ],
    };
    StoredEvent {
        event_type,
        delivery_id,
        headers: headers
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
        body: body.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_bodies_have_the_asked_size_and_the_documented_signature() {
        for seed in 0..20 {
            let body = github_push(seed, 1024);
            assert_eq!(body.len(), 1024);
            serde_json::from_slice::<serde_json::Value>(&body).unwrap();
        }
        assert_eq!(
            github_signature(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn rare_words_are_rare_and_bodies_are_json() {
        let mut rare = 0;
        for n in 0..50_000 {
            let event = browse_event(n, (n % 4) as usize);
            let body = std::str::from_utf8(&event.body).unwrap();
            serde_json::from_str::<serde_json::Value>(body).unwrap();
            assert!(!body.contains(ABSENT_WORD));
            if body.contains(RARE_WORD) {
                rare += 1;
            }
        }
        assert!((3..=25).contains(&rare), "{rare}");
    }
}
