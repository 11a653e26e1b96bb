//! Configuration in layers: documented defaults, then an optional `hookhub.toml`, then
//! `HOOKHUB_*` environment variables. Every value is validated at startup and a bad one stops
//! it with a message naming the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::auth::ThrottlePolicy;
use crate::outbound::{AllowList, OutboundConfig};
use crate::storage::{Durability, Location};

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_FILE: &str = "hookhub.toml";
const ENV_PREFIX: &str = "HOOKHUB_";

/// Every key: its name, default and what it means. The README's table mirrors this.
pub const KEYS: &[(&str, &str, &str)] = &[
    ("listen", "127.0.0.1:3000", "address and port to listen on"),
    (
        "database",
        "./data/hookhub.db",
        "a SQLite file's path (or sqlite: URL), its directory created; or a postgres:// URL, for several hubs sharing one PostgreSQL database",
    ),
    (
        "site_dir",
        "target/site",
        "the dashboard's compiled files (scripts, styles, icons), as cargo leptos build writes them",
    ),
    (
        "durability",
        "normal",
        "normal: an acknowledged webhook survives the process being killed; full: it survives a power loss too (an fsync per commit)",
    ),
    (
        "node_id",
        "",
        "this hub's name in the leases it holds on deliveries and handler runs and in the leads of the periodic jobs it runs (letters, digits, . _ -); empty: the machine's host name. Hubs sharing one database need distinct ones",
    ),
    (
        "lease_secs",
        "300",
        "how long a delivery or handler run a hub has claimed stays its own; if the hub dies, another takes it up after this (longer than outbound_timeout_secs)",
    ),
    (
        "public_url",
        "",
        "the URL people and providers use to reach this hub, e.g. https://hooks.example.com",
    ),
    (
        "secure_cookies",
        "",
        "mark the session cookie Secure; defaults to true when public_url is https",
    ),
    (
        "max_body_bytes",
        "1048576",
        "largest webhook body accepted; larger ones are answered 413",
    ),
    (
        "header_timeout_secs",
        "10",
        "how long a client may take to send a request's headers before the connection is closed",
    ),
    (
        "body_timeout_secs",
        "30",
        "how long a client may take to send a whole request body, however it trickles in",
    ),
    (
        "max_connections_per_ip",
        "64",
        "connections one client address may hold open at once; 0 for no limit",
    ),
    (
        "metrics_token",
        "",
        "a bearer token that lets a Prometheus scraper read /metrics from anywhere",
    ),
    (
        "metrics_allow",
        "",
        "comma-separated CIDRs that may read /metrics without the token, e.g. 127.0.0.1/32; with neither set, /metrics is refused",
    ),
    (
        "trusted_proxies",
        "",
        "comma-separated CIDRs of reverse proxies whose Forwarded / X-Forwarded-For / X-Forwarded-Proto headers are believed; the client is the right-most address not among them. Empty: those headers are ignored",
    ),
    (
        "session_hours",
        "168",
        "how long a login lasts without activity (at most 87600, ten years)",
    ),
    (
        "session_max_hours",
        "720",
        "how long a login lasts at most, however active (never less than session_hours; at most 87600)",
    ),
    (
        "login_max_failures",
        "5",
        "failed logins per user name or client before throttling",
    ),
    (
        "login_lockout_secs",
        "30",
        "first lockout after too many failures; doubles each further failure, up to 15 minutes",
    ),
    (
        "outbound_allow",
        "",
        "comma-separated CIDRs that outgoing webhooks may reach although they are loopback, private or link-local, e.g. 127.0.0.0/8",
    ),
    (
        "outbound_timeout_secs",
        "15",
        "how long one outgoing request may take, connecting included",
    ),
    (
        "delivery_retry_secs",
        "0,5,300,1800,7200,18000,36000,36000",
        "when each delivery attempt is made, in seconds after the previous one (±20 % jitter); then the delivery is marked failed",
    ),
    (
        "delivery_concurrency",
        "256",
        "deliveries in flight at once",
    ),
    (
        "subscription_concurrency",
        "16",
        "deliveries in flight at once to one subscription, so a slow endpoint cannot starve the others",
    ),
    (
        "disable_after_hours",
        "120",
        "a subscription whose every delivery failed for this long is disabled",
    ),
    (
        "secret_overlap_hours",
        "24",
        "after a subscription's secret is rotated, the old one also signs for this long",
    ),
    (
        "handler_retry_secs",
        "1,10,60,600",
        "delays in seconds before each retry of a failed handler run; then it is marked failed",
    ),
    (
        "retention_days",
        "30",
        "received events and sent messages older than this are deleted, with their attempts; 0 keeps everything",
    ),
    (
        "portal_name",
        "",
        "your product's name, shown at the top of the consumer portal; empty: the portal says Webhooks",
    ),
    (
        "portal_logo_url",
        "",
        "an https:// (or http://) URL of your logo, shown beside that name in the portal",
    ),
    (
        "portal_frame_origin",
        "",
        "the origin allowed to show the portal in an iframe, such as https://app.example.com; empty: no site may frame it",
    ),
    ("log", "info", "log filter, e.g. info or hookhub=debug,info"),
    ("log_format", "plain", "plain or json"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Plain,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: Location,
    pub site_dir: PathBuf,
    pub durability: Durability,
    /// This hub's name in its leases: a hub that starts releases only the leases it holds.
    pub node_id: Arc<str>,
    /// How long a claim lasts: what a hub that died had claimed is taken up by others after it.
    pub lease: Duration,
    pub public_url: Option<String>,
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    /// 0: no limit.
    pub max_connections_per_ip: usize,
    /// Lets a scraper read `/metrics` from anywhere; never logged.
    pub metrics_token: Option<crate::metrics::ScrapeToken>,
    /// Clients that may read `/metrics` without the token.
    pub metrics_allow: AllowList,
    /// Peers whose forwarding headers are believed (`http/proxy.rs`).
    pub trusted_proxies: AllowList,
    /// A session ends after this long without a request...
    pub session_ttl: Duration,
    /// ...or this long after login, whichever comes first.
    pub session_max: Duration,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    pub handler_retries: Vec<Duration>,
    pub delivery_retries: Vec<Duration>,
    pub delivery_concurrency: usize,
    pub subscription_concurrency: usize,
    /// How long events and messages are kept; `None` keeps them for ever.
    pub retention: Option<Duration>,
    pub disable_after: Duration,
    pub secret_overlap: Duration,
    pub outbound_allow: AllowList,
    pub outbound_timeout: Duration,
    pub portal: PortalSettings,
    pub log: String,
    pub log_format: LogFormat,
}

/// How the consumer portal presents itself, and who may frame it.
#[derive(Debug, Clone, Default)]
pub struct PortalSettings {
    pub name: String,
    pub logo_url: Option<String>,
    /// `scheme://host[:port]`, as `frame-ancestors` takes it.
    pub frame_origin: Option<String>,
}

/// An absolute http(s) URL without spaces, quotes or angle brackets, so it can stand in an
/// attribute and a CSP source list as it is.
fn web_url(text: &str) -> Option<&str> {
    let plain = !text.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | ';' | ',')
    });
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))?;
    (plain && !rest.is_empty() && !rest.starts_with('/')).then_some(text)
}

/// The origin of a web URL: scheme, host and port, as a CSP source.
pub fn origin_of(url: &str) -> Option<String> {
    let url = web_url(url)?;
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// Where people and providers reach the hub: the configured public URL, otherwise the host the
/// asking request was sent to, over plain HTTP (as the hub itself speaks).
pub fn base_url(public_url: Option<&str>, host: Option<&str>) -> String {
    match public_url {
        Some(base) => base.to_owned(),
        None => format!("http://{}", host.unwrap_or("127.0.0.1")),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("unknown key `{key}` in {path} (known keys: {known})")]
    UnknownKey {
        key: String,
        path: PathBuf,
        known: String,
    },
    #[error("invalid value for `{key}` ({source_name}): {message}")]
    Invalid {
        key: &'static str,
        source_name: String,
        message: String,
    },
}

impl Config {
    /// Loads the layers. `file` is `--config`; without it `hookhub.toml` is read if present.
    /// `env` is passed in (not read here) so tests can give their own.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut raw: BTreeMap<&'static str, (String, String)> = BTreeMap::new();
        for (key, default, _) in KEYS {
            raw.insert(key, (default.to_string(), "default".to_owned()));
        }
        let file = match file {
            Some(path) => Some(path.to_path_buf()),
            None => Path::new(DEFAULT_FILE)
                .exists()
                .then(|| PathBuf::from(DEFAULT_FILE)),
        };
        if let Some(path) = file {
            for (key, value) in read_file(&path)? {
                raw.insert(key, (value, path.display().to_string()));
            }
        }
        for (name, value) in env {
            if let Some(key) = name
                .strip_prefix(ENV_PREFIX)
                .and_then(|k| known_key(&k.to_ascii_lowercase()))
            {
                raw.insert(key, (value, name));
            }
        }
        Self::from_raw(&raw)
    }

    fn from_raw(raw: &BTreeMap<&'static str, (String, String)>) -> Result<Self, ConfigError> {
        let get = |key: &'static str| {
            let (value, source) = &raw[key];
            (value.trim(), source.as_str())
        };
        let invalid = |key: &'static str, message: String| ConfigError::Invalid {
            key,
            source_name: raw[key].1.clone(),
            message,
        };
        let parse_u64 = |key: &'static str| {
            let (value, _) = get(key);
            value
                .parse::<u64>()
                .map_err(|_| invalid(key, format!("expected a whole number, got `{value}`")))
        };

        let (listen, _) = get("listen");
        let listen = listen.parse().map_err(|_| {
            invalid(
                "listen",
                format!("expected an address such as 127.0.0.1:3000, got `{listen}`"),
            )
        })?;

        let database = Location::parse(get("database").0).map_err(|e| invalid("database", e))?;

        let (site_dir, _) = get("site_dir");
        if site_dir.is_empty() {
            return Err(invalid("site_dir", "must not be empty".into()));
        }

        let durability = match get("durability").0 {
            "normal" => Durability::Normal,
            "full" => Durability::Full,
            other => {
                return Err(invalid(
                    "durability",
                    format!("expected normal or full, got `{other}`"),
                ));
            }
        };

        let node_id = match get("node_id").0 {
            "" => host_name(),
            id => checked_node_id(id).map_err(|message| invalid("node_id", message))?,
        };

        let (public_url, _) = get("public_url");
        let public_url = match public_url.trim_end_matches('/') {
            "" => None,
            url if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.to_owned())
            }
            url => {
                return Err(invalid(
                    "public_url",
                    format!("expected an http:// or https:// URL, got `{url}`"),
                ));
            }
        };

        let secure_cookies = match get("secure_cookies").0 {
            "" => public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            "true" => true,
            "false" => false,
            other => {
                return Err(invalid(
                    "secure_cookies",
                    format!("expected true or false, got `{other}`"),
                ));
            }
        };

        let max_body_bytes = usize::try_from(parse_u64("max_body_bytes")?)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid("max_body_bytes", "must be at least 1".into()))?;
        let header_timeout_secs = parse_u64("header_timeout_secs")?;
        if !(1..=300).contains(&header_timeout_secs) {
            return Err(invalid(
                "header_timeout_secs",
                "must be between 1 and 300".into(),
            ));
        }
        let body_timeout_secs = parse_u64("body_timeout_secs")?;
        if !(1..=3600).contains(&body_timeout_secs) {
            return Err(invalid(
                "body_timeout_secs",
                "must be between 1 and 3600".into(),
            ));
        }
        let max_connections_per_ip = usize::try_from(parse_u64("max_connections_per_ip")?)
            .ok()
            .filter(|n| *n <= 1_000_000)
            .ok_or_else(|| {
                invalid(
                    "max_connections_per_ip",
                    "must be between 0 (no limit) and 1000000".into(),
                )
            })?;
        // Ten years at most: a session's expiry is a date, and dates end.
        const MAX_SESSION_HOURS: u64 = 10 * 365 * 24;
        let session_hours = parse_u64("session_hours")?;
        if !(1..=MAX_SESSION_HOURS).contains(&session_hours) {
            return Err(invalid(
                "session_hours",
                format!("must be between 1 and {MAX_SESSION_HOURS}"),
            ));
        }
        let session_max_hours = parse_u64("session_max_hours")?;
        if session_max_hours > MAX_SESSION_HOURS {
            return Err(invalid(
                "session_max_hours",
                format!("must be at most {MAX_SESSION_HOURS}"),
            ));
        }
        // Never shorter than the idle timeout, so a longer session_hours alone still works.
        let session_max_hours = session_max_hours.max(session_hours);
        let login_max_failures = parse_u64("login_max_failures")?;
        let login_max_failures = u32::try_from(login_max_failures)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                invalid(
                    "login_max_failures",
                    "must be between 1 and 4294967295".into(),
                )
            })?;
        let login_lockout_secs = parse_u64("login_lockout_secs")?;
        let handler_retries = parse_delays(get("handler_retry_secs").0)
            .map_err(|message| invalid("handler_retry_secs", message))?;
        let delivery_retries = parse_delays(get("delivery_retry_secs").0)
            .ok()
            .filter(|delays| !delays.is_empty())
            .ok_or_else(|| {
                invalid(
                    "delivery_retry_secs",
                    "expected at least one delay in seconds, such as 0,5,300".into(),
                )
            })?;
        let count = |key: &'static str| -> Result<usize, ConfigError> {
            usize::try_from(parse_u64(key)?)
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| invalid(key, "must be between 1 and 10000".into()))
        };
        let delivery_concurrency = count("delivery_concurrency")?;
        let subscription_concurrency = count("subscription_concurrency")?;
        let hours = |key: &'static str| -> Result<Duration, ConfigError> {
            let (value, _) = get(key);
            value
                .parse::<f64>()
                .ok()
                .filter(|h| (0.0..=24.0 * 365.0).contains(h))
                .map(|h| Duration::from_secs_f64(h * 3600.0))
                .ok_or_else(|| {
                    invalid(
                        key,
                        format!("expected hours between 0 and 8760, got `{value}`"),
                    )
                })
        };
        let retention_days = parse_u64("retention_days")?;
        if retention_days > 36_500 {
            return Err(invalid(
                "retention_days",
                "must be between 0 (keep everything) and 36500".into(),
            ));
        }
        let retention =
            (retention_days > 0).then(|| Duration::from_secs(retention_days * 24 * 3600));
        let disable_after = hours("disable_after_hours")?;
        let secret_overlap = hours("secret_overlap_hours")?;
        let outbound_allow = AllowList::parse(get("outbound_allow").0)
            .map_err(|e| invalid("outbound_allow", e.to_string()))?;
        let networks = |key: &'static str| {
            AllowList::parse(get(key).0).map_err(|e| {
                invalid(
                    key,
                    format!(
                        "{:?} is not an IP network; write networks in CIDR form separated by \
                         commas, such as 10.0.0.0/8,::1/128",
                        e.entry
                    ),
                )
            })
        };
        let trusted_proxies = networks("trusted_proxies")?;
        let metrics_token = match get("metrics_token").0 {
            "" => None,
            token if token.len() < 16 => {
                return Err(invalid(
                    "metrics_token",
                    "must be at least 16 characters; a random one: openssl rand -hex 32".into(),
                ));
            }
            token => Some(crate::metrics::ScrapeToken::new(token)),
        };
        let metrics_allow = networks("metrics_allow")?;
        let outbound_timeout_secs = parse_u64("outbound_timeout_secs")?;
        if !(1..=300).contains(&outbound_timeout_secs) {
            return Err(invalid(
                "outbound_timeout_secs",
                "must be between 1 and 300".into(),
            ));
        }
        let lease_secs = parse_u64("lease_secs")?;
        if lease_secs <= outbound_timeout_secs || lease_secs > 86_400 {
            return Err(invalid(
                "lease_secs",
                format!(
                    "must be longer than outbound_timeout_secs ({outbound_timeout_secs}) and at most 86400"
                ),
            ));
        }

        let portal_logo_url = match get("portal_logo_url").0 {
            "" => None,
            url => Some(web_url(url).map(str::to_owned).ok_or_else(|| {
                invalid(
                    "portal_logo_url",
                    format!("expected an https:// or http:// URL, got `{url}`"),
                )
            })?),
        };
        let portal_frame_origin = match get("portal_frame_origin").0.trim_end_matches('/') {
            "" => None,
            origin => Some(
                origin_of(origin)
                    .filter(|o| o == origin)
                    .ok_or_else(|| {
                        invalid(
                            "portal_frame_origin",
                            format!(
                                "expected an origin such as https://app.example.com (no path), got `{origin}`"
                            ),
                        )
                    })?,
            ),
        };
        let portal_name = get("portal_name").0;
        if portal_name.chars().count() > 100 {
            return Err(invalid("portal_name", "at most 100 characters".into()));
        }

        let log_format = match get("log_format").0 {
            "plain" => LogFormat::Plain,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log_format",
                    format!("expected plain or json, got `{other}`"),
                ));
            }
        };

        Ok(Self {
            listen,
            database,
            site_dir: PathBuf::from(site_dir),
            durability,
            node_id,
            lease: Duration::from_secs(lease_secs),
            public_url,
            secure_cookies,
            max_body_bytes,
            header_timeout: Duration::from_secs(header_timeout_secs),
            body_timeout: Duration::from_secs(body_timeout_secs),
            max_connections_per_ip,
            metrics_token,
            metrics_allow,
            trusted_proxies,
            session_ttl: Duration::from_secs(session_hours * 3600),
            session_max: Duration::from_secs(session_max_hours * 3600),
            login_max_failures,
            login_lockout: Duration::from_secs(login_lockout_secs),
            handler_retries,
            delivery_retries,
            delivery_concurrency,
            subscription_concurrency,
            retention,
            disable_after,
            secret_overlap,
            outbound_allow,
            outbound_timeout: Duration::from_secs(outbound_timeout_secs),
            portal: PortalSettings {
                name: portal_name.to_owned(),
                logo_url: portal_logo_url,
                frame_origin: portal_frame_origin,
            },
            log: get("log").0.to_owned(),
            log_format,
        })
    }

    pub fn outbound(&self) -> OutboundConfig {
        OutboundConfig {
            timeout: self.outbound_timeout,
            connect_timeout: self.outbound_timeout.min(Duration::from_secs(10)),
            allow: self.outbound_allow.clone(),
            ..OutboundConfig::default()
        }
    }

    pub fn login_throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.login_max_failures,
            first_lockout: self.login_lockout,
            max_lockout: Duration::from_secs(15 * 60),
        }
    }
}

/// A node id as set: 1 to 64 letters, digits, `.`, `_` or `-`.
fn checked_node_id(id: &str) -> Result<Arc<str>, String> {
    let fits = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if fits {
        Ok(id.into())
    } else {
        Err(format!(
            "expected 1 to 64 letters, digits, `.`, `_` or `-`, got `{id}`"
        ))
    }
}

/// The machine's host name as a node id: stable across restarts and, behind a load balancer,
/// distinct from machine to machine. `hookhub` where there is none that fits.
fn host_name() -> Arc<str> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .and_then(|name| checked_node_id(name.trim()).ok())
        .unwrap_or_else(|| "hookhub".into())
}

/// A comma-separated list of delays in seconds, fractions allowed (`0.05` in tests); may be empty.
fn parse_delays(list: &str) -> Result<Vec<Duration>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<f64>()
                .ok()
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                .filter(|d| *d <= Duration::from_secs(7 * 24 * 3600))
                .ok_or_else(|| {
                    format!(
                        "expected seconds between 0 and 604800 separated by commas, got `{part}`"
                    )
                })
        })
        .collect()
}

fn known_key(key: &str) -> Option<&'static str> {
    KEYS.iter().map(|(k, _, _)| *k).find(|k| *k == key)
}

fn read_file(path: &Path) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.message().to_owned(),
        })?;
    table
        .into_iter()
        .map(|(key, value)| {
            let known = known_key(&key).ok_or_else(|| ConfigError::UnknownKey {
                key: key.clone(),
                path: path.to_path_buf(),
                known: KEYS
                    .iter()
                    .map(|(k, _, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            let value = match value {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            Ok((known, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn portal_settings_are_checked() {
        let set = Config::load(
            None,
            env(&[
                ("HOOKHUB_PORTAL_NAME", "Acme Cloud"),
                (
                    "HOOKHUB_PORTAL_LOGO_URL",
                    "https://cdn.example.com/logo.svg",
                ),
                ("HOOKHUB_PORTAL_FRAME_ORIGIN", "https://app.example.com/"),
            ]),
        )
        .unwrap();
        assert_eq!(set.portal.name, "Acme Cloud");
        assert_eq!(
            set.portal.frame_origin.as_deref(),
            Some("https://app.example.com")
        );
        for (key, bad) in [
            ("HOOKHUB_PORTAL_LOGO_URL", "javascript:alert(1)"),
            ("HOOKHUB_PORTAL_LOGO_URL", "https://x.example/a b"),
            (
                "HOOKHUB_PORTAL_FRAME_ORIGIN",
                "https://app.example.com/embed",
            ),
            ("HOOKHUB_PORTAL_FRAME_ORIGIN", "*"),
            (
                "HOOKHUB_PORTAL_FRAME_ORIGIN",
                "https://a.example; script-src *",
            ),
        ] {
            assert!(Config::load(None, env(&[(key, bad)])).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_are_documented_values() {
        let config = Config::load(None, env(&[])).unwrap();
        assert_eq!(config.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(
            config.database,
            Location::Sqlite("./data/hookhub.db".into())
        );
        assert!(!config.secure_cookies);
        assert_eq!(config.log_format, LogFormat::Plain);
    }

    #[test]
    fn a_node_id_is_set_or_the_host_name() {
        let set = Config::load(None, env(&[("HOOKHUB_NODE_ID", "hub-2.eu")])).unwrap();
        assert_eq!(&*set.node_id, "hub-2.eu");
        let default = Config::load(None, env(&[])).unwrap();
        assert!(
            checked_node_id(&default.node_id).is_ok(),
            "{}",
            default.node_id
        );
        for bad in ["", "two words", "hub/1", &"x".repeat(65)] {
            let result = Config::load(None, env(&[("HOOKHUB_NODE_ID", bad)]));
            if bad.is_empty() {
                assert!(result.is_ok());
            } else {
                let err = result.unwrap_err().to_string();
                assert!(err.contains("node_id"), "{bad}: {err}");
            }
        }
    }

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hookhub.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:8080\"\nsession_hours = 2\n").unwrap();
        let config = Config::load(
            Some(&file),
            env(&[("HOOKHUB_LISTEN", "127.0.0.1:9999"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:9999".parse().unwrap());
        assert_eq!(config.session_ttl, Duration::from_secs(7200));
    }

    #[test]
    fn session_lengths_are_bounded() {
        let set = Config::load(
            None,
            env(&[
                ("HOOKHUB_SESSION_HOURS", "87600"),
                ("HOOKHUB_SESSION_MAX_HOURS", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(set.session_max, Duration::from_secs(87_600 * 3600));
        // Found by fuzzing: hours beyond u64::MAX / 3600 overflowed when turned into seconds.
        for (key, bad) in [
            ("HOOKHUB_SESSION_HOURS", "0"),
            ("HOOKHUB_SESSION_HOURS", "87601"),
            ("HOOKHUB_SESSION_HOURS", "18446744073709551615"),
            ("HOOKHUB_SESSION_MAX_HOURS", "5124095576030432"),
        ] {
            let err = Config::load(None, env(&[(key, bad)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&key["HOOKHUB_".len()..].to_ascii_lowercase()),
                "{err}"
            );
        }
    }

    #[test]
    fn invalid_value_names_the_key_and_its_source() {
        let err = Config::load(None, env(&[("HOOKHUB_LISTEN", "nowhere")])).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("`listen`"), "{message}");
        assert!(message.contains("HOOKHUB_LISTEN"), "{message}");
    }

    #[test]
    fn unknown_file_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hookhub.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let err = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(err.to_string().contains("unknown key `lisen`"), "{err}");
    }

    #[test]
    fn retry_delays_are_a_list_of_seconds() {
        let config = Config::load(None, env(&[("HOOKHUB_HANDLER_RETRY_SECS", "0.5, 2")])).unwrap();
        assert_eq!(
            config.handler_retries,
            [Duration::from_millis(500), Duration::from_secs(2)]
        );
        for bad in ["x", "-1", "1,,NaN", "1e12"] {
            let err = Config::load(None, env(&[("HOOKHUB_HANDLER_RETRY_SECS", bad)])).unwrap_err();
            assert!(
                err.to_string().contains("`handler_retry_secs`"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn retention_is_in_days_and_zero_keeps_everything() {
        let default = Config::load(None, env(&[])).unwrap();
        assert_eq!(default.retention, Some(Duration::from_secs(30 * 24 * 3600)));
        let keep = Config::load(None, env(&[("HOOKHUB_RETENTION_DAYS", "0")])).unwrap();
        assert_eq!(keep.retention, None);
        for bad in ["-1", "1.5", "36501"] {
            let err = Config::load(None, env(&[("HOOKHUB_RETENTION_DAYS", bad)])).unwrap_err();
            assert!(err.to_string().contains("`retention_days`"), "{bad}: {err}");
        }
    }

    #[test]
    fn outbound_allow_list_is_checked_at_start() {
        let config =
            Config::load(None, env(&[("HOOKHUB_OUTBOUND_ALLOW", "127.0.0.0/8, ::1")])).unwrap();
        assert!(config.outbound_allow.contains("127.0.0.1".parse().unwrap()));
        let err =
            Config::load(None, env(&[("HOOKHUB_OUTBOUND_ALLOW", "10.0.0.0/99")])).unwrap_err();
        assert!(err.to_string().contains("`outbound_allow`"), "{err}");
    }

    #[test]
    fn https_public_url_turns_on_secure_cookies() {
        let config = Config::load(
            None,
            env(&[("HOOKHUB_PUBLIC_URL", "https://hooks.example.com/")]),
        )
        .unwrap();
        assert!(config.secure_cookies);
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://hooks.example.com")
        );
        let err = Config::load(None, env(&[("HOOKHUB_PUBLIC_URL", "ftp://x")])).unwrap_err();
        assert!(err.to_string().contains("`public_url`"));
    }
}
