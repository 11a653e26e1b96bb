//! The outgoing HTTP client that delivers webhooks, runs `forward` handlers and echo checks,
//! hardened because the URLs it is given come from outside.
//!
//! - **No redirects.** A `3xx` is returned as the attempt's answer (a failure to the retry
//!   policy); following it would let an endpoint bounce hookhub to an address nobody checked.
//! - **Timeouts.** A connect timeout and a total timeout that also covers reading the body.
//! - **A capped read.** At most `max_response_bytes` of the response body are read and kept;
//!   the rest is never received into memory (the connection is dropped instead).
//! - **An address guard at connect time.** Host names are resolved by our own resolver, which
//!   drops loopback, private, shared (CGNAT), link-local (cloud metadata), unspecified,
//!   multicast, broadcast, documentation and reserved addresses, including their IPv4-mapped,
//!   NAT64 and 6to4 IPv6 forms, unless the configured allow-list admits them. The client then
//!   connects only to the addresses that passed, so a name cannot pass the check and connect
//!   elsewhere (DNS rebinding). URLs with a literal IP never reach a resolver, so they are
//!   checked before sending. Proxies from the environment are ignored: through a proxy the
//!   guard would only see the proxy's address.
//!
//! Error messages are written for the person who configured the subscription: they name what
//! went wrong and never include the URL (which may carry a token in its query) or headers.

mod ranges;
mod urls;

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;

pub use ranges::{AllowList, AllowListError, BlockedRange, blocked_range};
use urls::literal_ip;
pub use urls::{MAX_URL_LEN, UrlError, validate_url};

/// Settings of the outgoing client; [`Default`] gives the documented defaults.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Everything from connecting to the last byte of the response body read (15 s).
    pub timeout: Duration,
    /// Establishing the TCP (and TLS) connection (10 s, and never more than `timeout`).
    pub connect_timeout: Duration,
    /// How much of a response body is read and kept (20 KiB).
    pub max_response_bytes: usize,
    /// Networks the address guard lets through anyway (empty: none).
    pub allow: AllowList,
    /// Sent as `user-agent` (`hookhub/<version>`).
    pub user_agent: String,
    /// How long a connection left unused is kept for the next delivery to the same host (4 s).
    /// Servers close idle connections, Node.js and Apache after 5 s; a delivery sent on one as
    /// it closes fails and waits for its retry, so it is dropped first.
    pub idle: Duration,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 20 * 1024,
            allow: AllowList::default(),
            user_agent: concat!("hookhub/", env!("CARGO_PKG_VERSION")).to_owned(),
            idle: Duration::from_secs(4),
        }
    }
}

/// Why an attempt got no (complete) answer. `Display` is a message fit to show the person who
/// configured the subscription.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptError {
    #[error("invalid URL: {0}")]
    InvalidUrl(UrlError),
    #[error(
        "refused to connect to {host}: its address is {range}, and local and private addresses \
         are blocked. To admit them for local testing, start hookhub with \
         HOOKHUB_OUTBOUND_ALLOW={} (the outbound_allow setting in the README's Configuration)",
        .range.allow_example()
    )]
    Blocked { host: String, range: BlockedRange },
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("the request failed: {0}")]
    Request(String),
    #[error("reading the response body failed: {0}")]
    Body(String),
}

/// What one POST produced. `status` is `None` when no answer arrived; then `error` says why.
/// With a status, `error` may still report that reading the body failed or timed out.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub headers: HeaderMap,
    /// At most `max_response_bytes` of the response body.
    pub body: Vec<u8>,
    /// The body was cut at the cap (or may have been: the cap was reached and the length was
    /// not announced).
    pub body_truncated: bool,
    pub duration: Duration,
    pub error: Option<AttemptError>,
}

impl AttemptResult {
    fn failed(error: AttemptError, started: Instant) -> Self {
        Self {
            status: None,
            headers: HeaderMap::new(),
            body: Vec::new(),
            body_truncated: false,
            duration: started.elapsed(),
            error: Some(error),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("building the outgoing HTTP client failed: {0}")]
    Build(String),
}

/// The hardened client. Cheap to clone; build one and share it.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    config: Arc<OutboundConfig>,
}

impl Outbound {
    pub fn new(config: OutboundConfig) -> Result<Self, OutboundError> {
        let config = Arc::new(config);
        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout.min(config.timeout))
            .pool_idle_timeout(config.idle)
            .user_agent(config.user_agent.as_str())
            .dns_resolver(GuardedResolver {
                config: config.clone(),
            })
            .build()
            .map_err(|e| OutboundError::Build(innermost_message(&e)))?;
        Ok(Self { client, config })
    }

    pub fn config(&self) -> &OutboundConfig {
        &self.config
    }

    /// POSTs `body` with `headers` to `url` and reports what happened. Never fails as such:
    /// every problem is described in the [`AttemptResult`].
    pub async fn post(&self, url: &str, headers: HeaderMap, body: Bytes) -> AttemptResult {
        self.send(reqwest::Method::POST, url, headers, body).await
    }

    /// A GET, as [`Outbound::post`] (used for echo verification).
    pub async fn get(&self, url: &str) -> AttemptResult {
        self.send(reqwest::Method::GET, url, HeaderMap::new(), Bytes::new())
            .await
    }

    /// Checks, before anything is stored, that `url` is acceptable and that its host resolves
    /// only to addresses the guard lets through.
    pub async fn check_destination(&self, url: &str) -> Result<(), AttemptError> {
        let url = validate_url(url).map_err(AttemptError::InvalidUrl)?;
        let addresses: Vec<IpAddr> = match literal_ip(&url) {
            Some(ip) => vec![ip],
            None => {
                let host = url.host_str().unwrap_or_default().to_owned();
                let port = url.port_or_known_default().unwrap_or(443);
                tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|_| AttemptError::Connect(format!("cannot resolve {host}")))?
                    .map(|addr| addr.ip())
                    .collect()
            }
        };
        for ip in addresses {
            if let Some(range) = self.config.allow.refusal(ip) {
                let host = url.host_str().unwrap_or_default().to_owned();
                return Err(AttemptError::Blocked { host, range });
            }
        }
        Ok(())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> AttemptResult {
        let started = Instant::now();
        let url = match validate_url(url) {
            Ok(url) => url,
            Err(e) => return AttemptResult::failed(AttemptError::InvalidUrl(e), started),
        };
        if let Some(ip) = literal_ip(&url)
            && let Some(range) = self.config.allow.refusal(ip)
        {
            let host = ip.to_string();
            return AttemptResult::failed(AttemptError::Blocked { host, range }, started);
        }

        let timeout = self.config.timeout;
        let now = tokio::time::Instant::now();
        // A configured timeout too large to add is as good as none: wait a year at most.
        let deadline = now
            .checked_add(timeout)
            .unwrap_or(now + Duration::from_secs(365 * 24 * 3600));
        let sent = self
            .client
            .request(method, url)
            .headers(headers)
            .body(body)
            .send();
        let mut response = match tokio::time::timeout_at(deadline, sent).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return AttemptResult::failed(classify(&e, timeout), started),
            Err(_) => return AttemptResult::failed(AttemptError::Timeout(timeout), started),
        };

        let announced = response.content_length();
        let cap = self.config.max_response_bytes;
        let mut result = AttemptResult {
            status: Some(response.status().as_u16()),
            headers: std::mem::take(response.headers_mut()),
            body: Vec::with_capacity(announced.map_or(cap, |n| cap.min(n as usize))),
            body_truncated: false,
            duration: Duration::ZERO,
            error: None,
        };
        while result.body.len() < cap {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let room = cap - result.body.len();
                    result
                        .body
                        .extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() > room {
                        result.body_truncated = true;
                    }
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    result.error = Some(if e.is_timeout() {
                        AttemptError::Timeout(timeout)
                    } else {
                        AttemptError::Body(innermost_message(&e))
                    });
                    break;
                }
                Err(_) => {
                    result.error = Some(AttemptError::Timeout(timeout));
                    break;
                }
            }
        }
        if result.body.len() >= cap && announced != Some(result.body.len() as u64) {
            result.body_truncated = true;
        }
        // Dropping `response` here closes the connection if the body was not read to the end.
        result.duration = started.elapsed();
        result
    }
}

fn classify(error: &reqwest::Error, timeout: Duration) -> AttemptError {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(blocked) = e.downcast_ref::<BlockedError>() {
            return AttemptError::Blocked {
                host: blocked.host.clone(),
                range: blocked.range,
            };
        }
        source = e.source();
    }
    if error.is_timeout() {
        AttemptError::Timeout(timeout)
    } else if error.is_connect() {
        AttemptError::Connect(innermost_message(error))
    } else {
        AttemptError::Request(innermost_message(error))
    }
}

/// The most specific description in an error chain (for example "Connection refused (os error
/// 111)"). reqwest's own outer message names the URL; the causes below it do not.
fn innermost_message(error: &reqwest::Error) -> String {
    let mut innermost: Option<&dyn StdError> = None;
    let mut next = error.source();
    while let Some(cause) = next {
        innermost = Some(cause);
        next = cause.source();
    }
    match innermost {
        Some(cause) => cause.to_string(),
        // No cause to show: describe the kind of failure without the URL.
        None => error_kind(error).to_owned(),
    }
}

fn error_kind(error: &reqwest::Error) -> &'static str {
    if error.is_builder() {
        "the request could not be built"
    } else if error.is_body() {
        "sending the body failed"
    } else if error.is_decode() {
        "the response could not be decoded"
    } else {
        "unknown error"
    }
}

/// The guard's refusal, carried through reqwest's error chain from the resolver to [`classify`].
#[derive(Debug)]
struct BlockedError {
    host: String,
    range: BlockedRange,
}

impl fmt::Display for BlockedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} resolves to {}", self.host, self.range)
    }
}

impl StdError for BlockedError {}

/// Resolves names with the system resolver and keeps only addresses the guard allows. If none
/// is left, resolution fails with the reason for the first refused address.
struct GuardedResolver {
    config: Arc<OutboundConfig>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let config = self.config.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let mut allowed: Vec<SocketAddr> = Vec::new();
            let mut refused = None;
            for addr in resolved {
                match config.allow.refusal(addr.ip()) {
                    None => allowed.push(addr),
                    Some(range) => {
                        refused.get_or_insert(range);
                    }
                }
            }
            match (allowed.is_empty(), refused) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(range)) => Err(Box::new(BlockedError { host, range }) as _),
                (true, None) => Err(format!("{host} has no addresses").into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::body::Body;
    use axum::extract::{ConnectInfo, State};
    use axum::response::Redirect;
    use axum::routing::any;
    use futures::StreamExt;
    use http::{HeaderMap, HeaderValue, StatusCode};
    use tokio::net::TcpListener;

    // --- against a real server on 127.0.0.1 ---

    #[derive(Clone, Default)]
    struct Seen {
        hits: Arc<AtomicUsize>,
        last: Arc<std::sync::Mutex<Option<(HeaderMap, Bytes)>>>,
    }

    async fn record(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> &'static str {
        seen.hits.fetch_add(1, Ordering::SeqCst);
        *seen.last.lock().unwrap() = Some((headers, body));
        "ok"
    }

    async fn serve(router: Router) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        addr
    }

    fn client(allow: &str, timeout: Duration) -> Outbound {
        Outbound::new(OutboundConfig {
            timeout,
            allow: AllowList::parse(allow).unwrap(),
            ..OutboundConfig::default()
        })
        .unwrap()
    }

    fn loopback_ok() -> Outbound {
        client("127.0.0.0/8,::1/128", Duration::from_secs(5))
    }

    #[tokio::test]
    async fn loopback_is_refused_without_an_allow_list() {
        let seen = Seen::default();
        let addr = serve(
            Router::new()
                .route("/", any(record))
                .with_state(seen.clone()),
        )
        .await;

        let result = client("", Duration::from_secs(5))
            .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
            .await;

        assert_eq!(result.status, None);
        assert!(
            matches!(
                result.error,
                Some(AttemptError::Blocked {
                    range: BlockedRange::Loopback,
                    ..
                })
            ),
            "{:?}",
            result.error
        );
        assert_eq!(seen.hits.load(Ordering::SeqCst), 0);
        assert_eq!(result.status, None);
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let seen = Seen::default();
        let addr = serve(
            Router::new()
                .route("/", any(record))
                .with_state(seen.clone()),
        )
        .await;

        let result = client("", Duration::from_secs(5))
            .post(
                &format!("http://localhost:{}/", addr.port()),
                HeaderMap::new(),
                Bytes::new(),
            )
            .await;

        let Some(AttemptError::Blocked { host, range }) = &result.error else {
            panic!("expected the guard to refuse, got {:?}", result.error);
        };
        assert_eq!(host, "localhost");
        assert_eq!(*range, BlockedRange::Loopback);
        assert_eq!(seen.hits.load(Ordering::SeqCst), 0);
        assert_eq!(
            result.error.unwrap().to_string(),
            "refused to connect to localhost: its address is a loopback address, and local and \
             private addresses are blocked. To admit them for local testing, start hookhub with \
             HOOKHUB_OUTBOUND_ALLOW=127.0.0.0/8 (the outbound_allow setting in the README's \
             Configuration)"
        );
    }

    #[tokio::test]
    async fn allowed_loopback_receives_the_post_with_our_headers() {
        let seen = Seen::default();
        let addr = serve(
            Router::new()
                .route("/in", any(record))
                .with_state(seen.clone()),
        )
        .await;
        let mut headers = HeaderMap::new();
        headers.insert("webhook-id", HeaderValue::from_static("msg_1"));

        let result = loopback_ok()
            .post(
                &format!("http://{addr}/in"),
                headers,
                Bytes::from_static(b"{\"a\":1}"),
            )
            .await;

        assert_eq!(result.error, None);
        assert_eq!(result.status, Some(200));
        assert_eq!(result.body, b"ok");
        assert!(!result.body_truncated);
        let (got_headers, got_body) = seen.last.lock().unwrap().clone().unwrap();
        assert_eq!(got_body, Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(got_headers["webhook-id"], "msg_1");
        assert_eq!(
            got_headers["user-agent"],
            concat!("hookhub/", env!("CARGO_PKG_VERSION"))
        );
    }

    #[tokio::test]
    async fn allowed_name_connects_through_the_guard() {
        let seen = Seen::default();
        let addr = serve(
            Router::new()
                .route("/", any(record))
                .with_state(seen.clone()),
        )
        .await;

        let result = loopback_ok()
            .post(
                &format!("http://localhost:{}/", addr.port()),
                HeaderMap::new(),
                Bytes::new(),
            )
            .await;

        assert_eq!(result.status, Some(200), "{:?}", result.error);
        assert_eq!(seen.hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn redirects_are_returned_not_followed() {
        let seen = Seen::default();
        let router = Router::new()
            .route("/", any(|| async { Redirect::temporary("/elsewhere") }))
            .route("/elsewhere", any(record))
            .with_state(seen.clone());
        let addr = serve(router).await;

        let result = loopback_ok()
            .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
            .await;

        assert_eq!(result.status, Some(307));
        assert_eq!(result.headers["location"], "/elsewhere");
        assert_eq!(seen.hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_huge_response_is_read_only_up_to_the_cap() {
        const CHUNK: usize = 64 * 1024;
        const CHUNKS: usize = 16 * 1024; // 1 GiB if anyone read it all
        let produced = Arc::new(AtomicUsize::new(0));
        let counter = produced.clone();
        let router = Router::new().route(
            "/",
            any(move || {
                let counter = counter.clone();
                async move {
                    let stream = futures::stream::iter(0..CHUNKS).map(move |_| {
                        counter.fetch_add(CHUNK, Ordering::SeqCst);
                        Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; CHUNK]))
                    });
                    Body::from_stream(stream)
                }
            }),
        );
        let addr = serve(router).await;

        let result = loopback_ok()
            .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
            .await;

        assert_eq!(result.status, Some(200));
        assert_eq!(result.body.len(), 20 * 1024);
        assert!(result.body_truncated);
        assert_eq!(result.error, None);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = produced.load(Ordering::SeqCst);
        assert!(
            sent < CHUNK * CHUNKS / 16,
            "the server produced {sent} bytes: the connection was not dropped at the cap"
        );
    }

    #[tokio::test]
    async fn a_body_exactly_at_the_cap_is_not_truncated() {
        let router = Router::new().route("/", any(|| async { vec![b'y'; 20 * 1024] }));
        let addr = serve(router).await;

        let result = loopback_ok()
            .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
            .await;

        assert_eq!(result.body.len(), 20 * 1024);
        assert!(!result.body_truncated);
    }

    #[tokio::test]
    async fn a_connection_is_reused_only_until_it_has_been_idle_too_long() {
        let ports = Arc::new(std::sync::Mutex::new(Vec::new()));
        let router = Router::new().route(
            "/",
            any(
                |State(ports): State<Arc<std::sync::Mutex<Vec<u16>>>>,
                 ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                    ports.lock().unwrap().push(peer.port());
                },
            ),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router
            .with_state(ports.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let outbound = Outbound::new(OutboundConfig {
            allow: AllowList::parse("127.0.0.0/8").unwrap(),
            idle: Duration::from_millis(300),
            ..OutboundConfig::default()
        })
        .unwrap();
        let url = format!("http://{addr}/");

        for pause in [
            Duration::ZERO,
            Duration::from_millis(50),
            Duration::from_millis(600),
        ] {
            tokio::time::sleep(pause).await;
            let result = outbound.post(&url, HeaderMap::new(), Bytes::new()).await;
            assert_eq!(result.status, Some(200), "{:?}", result.error);
        }

        let ports = ports.lock().unwrap().clone();
        assert_eq!(ports[0], ports[1], "kept for the next delivery");
        assert_ne!(ports[1], ports[2], "dropped after 300 ms unused");
    }

    #[tokio::test]
    async fn a_hanging_server_hits_the_timeout() {
        let router = Router::new().route(
            "/",
            any(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
        let addr = serve(router).await;

        let result = client("127.0.0.0/8", Duration::from_millis(300))
            .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
            .await;

        assert_eq!(result.status, None);
        assert_eq!(
            result.error,
            Some(AttemptError::Timeout(Duration::from_millis(300)))
        );
        assert!(
            result.duration < Duration::from_secs(2),
            "{:?}",
            result.duration
        );
        assert_eq!(result.status, None);
    }

    #[tokio::test]
    async fn a_body_that_stalls_keeps_the_status_and_reports_the_timeout() {
        let router = Router::new().route(
            "/",
            any(|| async {
                let first = futures::stream::once(async {
                    Ok::<_, std::io::Error>(Bytes::from_static(b"partial"))
                });
                Body::from_stream(first.chain(futures::stream::pending()))
            }),
        );
        let addr = serve(router).await;

        let result = client("127.0.0.0/8", Duration::from_millis(300))
            .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
            .await;

        assert_eq!(result.status, Some(200));
        assert_eq!(result.body, b"partial");
        assert_eq!(
            result.error,
            Some(AttemptError::Timeout(Duration::from_millis(300)))
        );
    }

    #[tokio::test]
    async fn the_response_headers_reach_the_result() {
        let router = Router::new().route(
            "/",
            any(|| async { (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "120")]) }),
        );
        let addr = serve(router).await;

        let result = loopback_ok()
            .post(&format!("http://{addr}/"), HeaderMap::new(), Bytes::new())
            .await;

        assert_eq!(result.status, Some(503));
        assert_eq!(result.headers["retry-after"], "120");
    }

    #[tokio::test]
    async fn connection_refused_is_a_connect_error_without_the_url() {
        // Bind then drop, so nothing listens on the port.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);

        let result = loopback_ok()
            .post(
                &format!("http://{addr}/?token=s3cret"),
                HeaderMap::new(),
                Bytes::new(),
            )
            .await;

        let error = result.error.unwrap();
        assert!(matches!(error, AttemptError::Connect(_)), "{error:?}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[tokio::test]
    async fn invalid_urls_and_literal_ips_fail_before_sending() {
        let outbound = client("", Duration::from_secs(1));
        let result = outbound
            .post("ftp://example.com/", HeaderMap::new(), Bytes::new())
            .await;
        assert_eq!(
            result.error,
            Some(AttemptError::InvalidUrl(UrlError::Scheme))
        );

        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fd00::1]/",
            "http://0x7f.1/",
        ] {
            let result = outbound.post(url, HeaderMap::new(), Bytes::new()).await;
            assert!(
                matches!(result.error, Some(AttemptError::Blocked { .. })),
                "{url}: {:?}",
                result.error
            );
        }
    }
}
