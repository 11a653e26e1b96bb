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

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Url, redirect};

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

/// Networks that outgoing requests may reach even though the guard would refuse them, for
/// example `127.0.0.0/8,::1/128` to deliver to a service on the same host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{entry:?} in the outbound allow-list is not an IP network; write networks in CIDR form \
     separated by commas, such as 10.0.0.0/8,::1/128"
)]
pub struct AllowListError {
    pub entry: String,
}

impl AllowList {
    /// Reads a comma-separated list of CIDR networks (`10.0.0.0/8`) or single addresses
    /// (`::1`). Blanks around entries and empty entries are ignored, so `""` is the empty list.
    pub fn parse(list: &str) -> Result<Self, AllowListError> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| AllowListError {
                        entry: entry.to_owned(),
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` (or the IPv4 address inside an IPv4-mapped IPv6 one) is in a listed network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.0
            .iter()
            .any(|net| net.contains(&ip) || mapped.is_some_and(|v4| net.contains(&v4)))
    }

    /// Why the guard refuses `ip`, or `None` if requests may go there: allowed networks first,
    /// then [`blocked_range`].
    pub fn refusal(&self, ip: IpAddr) -> Option<BlockedRange> {
        if self.contains(ip) {
            None
        } else {
            blocked_range(ip)
        }
    }
}

impl FromStr for AllowList {
    type Err = AllowListError;
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Self::parse(list)
    }
}

/// The kinds of address that outgoing webhooks may not reach by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedRange {
    Unspecified,
    Loopback,
    /// RFC 1918 IPv4, IPv6 unique-local (and the deprecated site-local), local-use NAT64.
    Private,
    /// 100.64.0.0/10, carrier-grade NAT.
    SharedAddressSpace,
    /// 169.254.0.0/16 (where cloud metadata services live) and fe80::/10.
    LinkLocal,
    Multicast,
    Broadcast,
    Documentation,
    /// Benchmarking, protocol-assignment, future-use and tunnelling ranges.
    Reserved,
}

impl fmt::Display for BlockedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "an unspecified address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private network address",
            Self::SharedAddressSpace => "a carrier-grade NAT address",
            Self::LinkLocal => "a link-local address (such as a cloud metadata service)",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::Documentation => "a documentation address",
            Self::Reserved => "a reserved address",
        })
    }
}

/// The range `ip` belongs to if it is one outgoing webhooks must not reach by default, or
/// `None` for an ordinary public address. IPv6 forms that embed an IPv4 address (mapped,
/// NAT64, 6to4) are judged by that IPv4 address.
pub fn blocked_range(ip: IpAddr) -> Option<BlockedRange> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<BlockedRange> {
    use BlockedRange::*;
    let [a, b, c, _] = ip.octets();
    let range = if a == 0 {
        Unspecified // 0.0.0.0/8, "this network"
    } else if ip.is_loopback() {
        Loopback
    } else if ip.is_private() {
        Private
    } else if a == 100 && b & 0xc0 == 64 {
        SharedAddressSpace
    } else if ip.is_link_local() {
        LinkLocal
    } else if ip.is_documentation() {
        Documentation
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && b & 0xfe == 18) {
        Reserved // IETF protocol assignments, benchmarking
    } else if ip.is_broadcast() {
        Broadcast
    } else if ip.is_multicast() {
        Multicast
    } else if a >= 240 {
        Reserved
    } else {
        return None;
    };
    Some(range)
}

fn blocked_v6(ip: Ipv6Addr) -> Option<BlockedRange> {
    use BlockedRange::*;
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    let range = if ip.is_unspecified() {
        Unspecified
    } else if ip.is_loopback() {
        Loopback
    } else if s[..6] == [0; 6] {
        Reserved // deprecated IPv4-compatible ::a.b.c.d
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return blocked_v4(embedded_v4(s[6], s[7])); // NAT64 well-known prefix
    } else if s[0] == 0x2002 {
        return blocked_v4(embedded_v4(s[1], s[2])); // 6to4
    } else if s[..3] == [0x64, 0xff9b, 1] || s[0] & 0xfe00 == 0xfc00 || s[0] & 0xffc0 == 0xfec0 {
        Private // local-use NAT64, unique-local, deprecated site-local
    } else if s[0] & 0xffc0 == 0xfe80 {
        LinkLocal
    } else if s[0] & 0xff00 == 0xff00 {
        Multicast
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || s[0] & 0xfff0 == 0x3ff0 {
        Documentation // 2001:db8::/32, 3fff::/20
    } else if s[..4] == [0x100, 0, 0, 0] || (s[0] == 0x2001 && s[1] == 0) {
        Reserved // discard-only, Teredo
    } else {
        return None;
    };
    Some(range)
}

/// Why a URL cannot be used for a subscription. The messages never repeat the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("this is not a valid URL ({0})")]
    Invalid(String),
    #[error("only http:// and https:// URLs can receive webhooks")]
    Scheme,
    #[error("the URL has no host name")]
    NoHost,
    #[error(
        "the URL must not contain a user name or password; put credentials in a header instead"
    )]
    Credentials,
}

pub const MAX_URL_LEN: usize = 2048;

/// Checks a subscription URL as typed into a form or an API call: at most [`MAX_URL_LEN`]
/// characters, `http` or `https`, a host, and no `user:password@` part (credentials in URLs
/// end up in logs and on screens). Whether the host's addresses are allowed is decided at
/// send time, when it is resolved.
pub fn validate_url(text: &str) -> Result<Url, UrlError> {
    let text = text.trim();
    if text.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    let url = Url::parse(text).map_err(|e| UrlError::Invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    Ok(url)
}

/// The IP address a URL names literally (`http://10.0.0.1/`, `http://[::1]/`), if it does.
fn literal_ip(url: &Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}

/// Why an attempt got no (complete) answer. `Display` is a message fit to show the person who
/// configured the subscription.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptError {
    #[error("invalid URL: {0}")]
    InvalidUrl(UrlError),
    #[error(
        "refused to connect to {host}: its address is {range}, which webhooks may not be sent \
         to unless the outbound allow-list admits it"
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
    use axum::http::{HeaderMap, HeaderValue, StatusCode};
    use axum::response::Redirect;
    use axum::routing::any;
    use futures::StreamExt;
    use tokio::net::TcpListener;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn classifies_ipv4_ranges() {
        use BlockedRange::*;
        let cases = [
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("100.64.0.1", Some(SharedAddressSpace)),
            ("100.127.255.255", Some(SharedAddressSpace)),
            ("169.254.169.254", Some(LinkLocal)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("192.0.2.1", Some(Documentation)),
            ("198.51.100.7", Some(Documentation)),
            ("203.0.113.9", Some(Documentation)),
            ("198.18.0.1", Some(Reserved)),
            ("192.0.0.8", Some(Reserved)),
            ("240.0.0.1", Some(Reserved)),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("192.169.0.1", None),
            ("93.184.216.34", None),
        ];
        for (text, expected) in cases {
            assert_eq!(blocked_range(ip(text)), expected, "{text}");
        }
    }

    #[test]
    fn classifies_ipv6_ranges_and_embedded_ipv4() {
        use BlockedRange::*;
        let cases = [
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::127.0.0.1", Some(Reserved)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("64:ff9b::808:808", None),
            ("64:ff9b:1::1", Some(Private)),
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:0808:0808::1", None),
            ("fc00::1", Some(Private)),
            ("fd12:3456::1", Some(Private)),
            ("fec0::1", Some(Private)),
            ("fe80::1", Some(LinkLocal)),
            ("ff02::1", Some(Multicast)),
            ("2001:db8::1", Some(Documentation)),
            ("3fff::1", Some(Documentation)),
            ("100::1", Some(Reserved)),
            ("2001:0:4136:e378::1", Some(Reserved)),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001:81c::200e", None),
            ("::ffff:8.8.8.8", None),
        ];
        for (text, expected) in cases {
            assert_eq!(blocked_range(ip(text)), expected, "{text}");
        }
    }

    #[test]
    fn allow_list_parses_cidrs_and_single_addresses() {
        let allow = AllowList::parse(" 127.0.0.0/8, ::1/128,10.1.2.3 ,fd00::/8,").unwrap();
        assert!(allow.contains(ip("127.8.9.10")));
        assert!(allow.contains(ip("::1")));
        assert!(allow.contains(ip("10.1.2.3")));
        assert!(!allow.contains(ip("10.1.2.4")));
        assert!(allow.contains(ip("fd12::1")));
        assert!(
            allow.contains(ip("::ffff:127.0.0.1")),
            "mapped form of an allowed v4"
        );
        assert!(!allow.contains(ip("8.8.8.8")));
        assert_eq!(allow.refusal(ip("127.0.0.1")), None);
        assert_eq!(
            allow.refusal(ip("192.168.0.1")),
            Some(BlockedRange::Private)
        );
    }

    #[test]
    fn allow_list_host_bits_do_not_narrow_the_network() {
        let allow = AllowList::parse("10.1.2.3/8").unwrap();
        assert!(allow.contains(ip("10.200.0.1")));
    }

    #[test]
    fn empty_allow_list_allows_nothing_extra() {
        let allow = AllowList::parse("").unwrap();
        assert!(allow.is_empty());
        assert_eq!(allow.refusal(ip("127.0.0.1")), Some(BlockedRange::Loopback));
        assert_eq!(allow.refusal(ip("8.8.8.8")), None);
    }

    #[test]
    fn allow_list_names_the_bad_entry() {
        for (list, bad) in [
            ("127.0.0.0/8,localhost", "localhost"),
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("::1/129", "::1/129"),
            ("10.0.0.0/8/8", "10.0.0.0/8/8"),
        ] {
            let error = AllowList::parse(list).unwrap_err();
            assert_eq!(error.entry, bad);
            assert!(error.to_string().contains("CIDR"));
        }
    }

    #[test]
    fn validate_url_accepts_http_and_https() {
        for url in [
            "https://example.com/hooks",
            "http://example.com:8080/a?b=c",
            " https://[2606:4700::1]/x ",
        ] {
            assert!(validate_url(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn validate_url_refuses_with_clear_reasons() {
        assert!(matches!(
            validate_url("example.com/hooks"),
            Err(UrlError::Invalid(_))
        ));
        assert_eq!(validate_url("ftp://example.com/"), Err(UrlError::Scheme));
        assert_eq!(validate_url("file:///etc/passwd"), Err(UrlError::Scheme));
        assert_eq!(validate_url("javascript:alert(1)"), Err(UrlError::Scheme));
        assert_eq!(
            validate_url("https://user:pw@example.com/"),
            Err(UrlError::Credentials)
        );
        assert_eq!(
            validate_url("https://user@example.com/"),
            Err(UrlError::Credentials)
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(validate_url(&long), Err(UrlError::TooLong));
        assert!(
            !UrlError::Credentials.to_string().contains("pw"),
            "messages never echo the URL"
        );
    }

    #[test]
    fn literal_ips_are_recognised_in_every_spelling() {
        let host = |url: &str| literal_ip(&validate_url(url).unwrap());
        assert_eq!(host("http://127.0.0.1/"), Some(ip("127.0.0.1")));
        assert_eq!(host("http://[::1]:8080/"), Some(ip("::1")));
        assert_eq!(host("http://2130706433/"), Some(ip("127.0.0.1")));
        assert_eq!(host("http://0x7f.1/"), Some(ip("127.0.0.1")));
        assert_eq!(
            host("http://[::ffff:7f00:1]/"),
            Some(ip("::ffff:127.0.0.1"))
        );
        assert_eq!(host("http://example.com/"), None);
    }

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
            "refused to connect to localhost: its address is a loopback address, which webhooks \
             may not be sent to unless the outbound allow-list admits it"
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
