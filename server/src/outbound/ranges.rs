//! Which addresses outgoing requests may reach: the ranges the guard refuses, and the allow-list
//! that lets some of them through.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

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

impl BlockedRange {
    /// An `outbound_allow` value that would admit addresses of this range, for the message
    /// that refuses one.
    pub fn allow_example(self) -> &'static str {
        match self {
            Self::Loopback => "127.0.0.0/8",
            Self::Private => "10.0.0.0/8",
            Self::SharedAddressSpace => "100.64.0.0/10",
            Self::LinkLocal => "169.254.0.0/16",
            Self::Unspecified
            | Self::Multicast
            | Self::Broadcast
            | Self::Documentation
            | Self::Reserved => "192.0.2.0/24",
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
