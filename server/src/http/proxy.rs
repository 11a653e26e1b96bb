//! Who sent a request, when hookhub stands behind reverse proxies.
//!
//! Only a peer in `trusted_proxies` is believed when it says, in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For` / `X-Forwarded-Proto`, for whom it forwards and over which scheme. The
//! client is the right-most address in that chain that is not itself a trusted proxy: the
//! left part is whatever the client wrote, which anyone can forge. Without the setting, every
//! such header is ignored and the client is the TCP peer.
//!
//! [`believe_proxies`] runs before everything else and puts the client's address where every
//! later reader looks for it (`ConnectInfo<SocketAddr>`): the login throttle, the events'
//! remote address and the refused-request log all see the client, not the proxy.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::outbound::AllowList;

/// The client as the request's peer, and the proxies it trusts, tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub addr: IpAddr,
    /// Whether the client reached the (first trusted) proxy over HTTPS.
    pub https: bool,
}

impl Client {
    /// The client of a request from `peer` with `headers`, believing only `trusted` peers.
    pub fn of(peer: IpAddr, headers: &HeaderMap, trusted: &AllowList) -> Self {
        let direct = Self {
            addr: peer,
            https: false,
        };
        if trusted.is_empty() || !trusted.contains(peer) {
            return direct;
        }
        let hops = forwarded_hops(headers);
        let mut client = peer;
        // Right to left: each hop was written by the one after it, which is trusted so far.
        for hop in hops.iter().rev() {
            match hop {
                // `unknown`, an obfuscated name, or garbage: nothing further left is believable.
                None => break,
                Some(addr) => {
                    client = *addr;
                    if !trusted.contains(*addr) {
                        break;
                    }
                }
            }
        }
        Self {
            addr: client,
            https: forwarded_https(headers),
        }
    }
}

/// The chain of addresses a request passed through, left (the client, by its own word) to right
/// (the proxy nearest hookhub); `None` for an entry that is not an address. `Forwarded` when it
/// is present, else `X-Forwarded-For`. Several header lines read as one list, in order.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = values(headers, header::FORWARDED.as_str()).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| parameter(element, "for").and_then(|node| parse_node(&node)))
            .collect();
    }
    values(headers, "x-forwarded-for")
        .flat_map(|value| value.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// The scheme the nearest proxy says the request came in on: `proto` of the right-most
/// `Forwarded` element, or the right-most `X-Forwarded-Proto` value.
fn forwarded_https(headers: &HeaderMap) -> bool {
    let proto = values(headers, header::FORWARDED.as_str())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|element| parameter(element, "proto"))
        .or_else(|| {
            values(headers, "x-forwarded-proto")
                .flat_map(|value| value.split(','))
                .next_back()
                .map(|proto| proto.trim().to_owned())
        });
    proto.is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

fn values<'h>(headers: &'h HeaderMap, name: &str) -> impl DoubleEndedIterator<Item = &'h str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
}

/// A parameter of one `Forwarded` element (`for=192.0.2.60;proto=https`), unquoted.
fn parameter(element: &str, name: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// An address as proxies write it: `192.0.2.60`, `192.0.2.60:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            let inner = node.strip_prefix('[')?.split(']').next()?;
            inner.parse::<IpAddr>().ok()
        })
}

/// Replaces the request's `ConnectInfo` with the client's address (port 0 when it came from a
/// proxy), keeps the [`Client`] in the request's extensions, and marks the session cookie
/// `Secure` when the client came over HTTPS.
pub async fn believe_proxies(
    State(trusted): State<Arc<AllowList>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    else {
        return next.run(request).await;
    };
    let client = Client::of(peer.ip(), request.headers(), &trusted);
    if client.addr != peer.ip() {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(client.addr, 0)));
    }
    request.extensions_mut().insert(client);
    let mut response = next.run(request).await;
    if client.https {
        secure_cookies(response.headers_mut());
    }
    response
}

/// Adds `Secure` to every cookie the response sets without it.
fn secure_cookies(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let secure = cookie.to_str().ok().filter(|c| {
            !c.split(';')
                .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"))
        });
        let cookie = secure
            .and_then(|c| HeaderValue::from_str(&format!("{c}; Secure")).ok())
            .unwrap_or(cookie);
        headers.append(header::SET_COOKIE, cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, trusted: &str, headers: &[(&str, &str)]) -> Client {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Client::of(
            peer.parse().unwrap(),
            &map,
            &AllowList::parse(trusted).unwrap(),
        )
    }

    fn addr(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_every_header_is_ignored() {
        let c = client(
            "10.0.0.2",
            "",
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "https"),
                ("forwarded", "for=203.0.113.9;proto=https"),
            ],
        );
        assert_eq!(
            c,
            Client {
                addr: addr("10.0.0.2"),
                https: false
            }
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let c = client(
            "198.51.100.7",
            "10.0.0.0/8",
            &[("x-forwarded-for", "203.0.113.9")],
        );
        assert_eq!(c.addr, addr("198.51.100.7"));
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        // The client forged the first entry; the proxy appended the address it saw.
        let c = client(
            "10.0.0.2",
            "10.0.0.0/8",
            &[
                ("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.5"),
                ("x-forwarded-proto", "https"),
            ],
        );
        assert_eq!(
            c,
            Client {
                addr: addr("203.0.113.9"),
                https: true
            }
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_reads_ports_and_brackets() {
        let c = client(
            "::1",
            "::1/128",
            &[
                ("x-forwarded-for", "198.51.100.1"),
                (
                    "forwarded",
                    r#"for=192.0.2.43:47011, for="[2001:db8:cafe::17]:4711";proto=https"#,
                ),
            ],
        );
        assert_eq!(
            c,
            Client {
                addr: addr("2001:db8:cafe::17"),
                https: true
            }
        );
    }

    #[test]
    fn an_unknown_hop_stops_the_walk_at_the_proxy_that_wrote_it() {
        let c = client("10.0.0.2", "10.0.0.0/8", &[("forwarded", "for=unknown")]);
        assert_eq!(c.addr, addr("10.0.0.2"));
        let c = client(
            "10.0.0.2",
            "10.0.0.0/8",
            &[("x-forwarded-for", "203.0.113.9, _hidden")],
        );
        assert_eq!(c.addr, addr("10.0.0.2"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_ends_at_the_left_most() {
        let c = client(
            "10.0.0.2",
            "10.0.0.0/8",
            &[("x-forwarded-for", "10.1.1.1, 10.0.0.3")],
        );
        assert_eq!(c.addr, addr("10.1.1.1"));
    }

    #[test]
    fn several_header_lines_read_as_one_list() {
        let c = client(
            "10.0.0.2",
            "10.0.0.0/8",
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-for", "10.0.0.7"),
            ],
        );
        assert_eq!(c.addr, addr("203.0.113.9"));
    }

    #[test]
    fn cookies_become_secure_once() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("a=1; HttpOnly"),
        );
        headers.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Secure"));
        secure_cookies(&mut headers);
        let cookies: Vec<_> = headers.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1; HttpOnly; Secure", "b=2; Secure"]);
    }
}
