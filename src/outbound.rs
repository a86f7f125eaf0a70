//! Where the server may send requests on a user's behalf (webhooks): public addresses only, unless the operator allows more.
//!
//! A user chooses a webhook's URL, so without a filter the server would be their way into
//! the operator's network (SSRF): `http://127.0.0.1:6379/`, the cloud's metadata service
//! at `169.254.169.254`, a database on `10.0.0.5`. The filter is applied to the address
//! the connection is actually made to (after DNS), so a name that resolves to an internal
//! address, or changes its answer between the check and the connection (DNS rebinding),
//! is refused too. Everything here is a pure function over addresses: tests check private
//! ranges as values and never connect to them.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an outbound request was refused. The message is meant for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The address is not said: a user must not learn what an internal name resolves to.
    #[error("{host} is an internal address; webhooks go to public addresses only")]
    Internal { host: String, ip: IpAddr },
}

/// What the operator allows besides public addresses: host names (whatever they resolve
/// to) and networks (`127.0.0.1/32`, `10.1.0.0/16`, or a single address).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Reads the operator's list: each entry a network, an address, or a host name.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in entries {
            let entry = entry.as_ref().trim().trim_end_matches('.');
            if entry.is_empty() {
                continue;
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.nets.push(net.trunc());
            } else if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else if is_host_name(entry) {
                policy.hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "{entry:?} is neither a network (10.1.0.0/16), an address nor a host name"
                ));
            }
        }
        Ok(policy)
    }

    /// Whether a request to `host` (as the URL names it) may connect to `ip`.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), Refusal> {
        let host = host.trim_matches(['[', ']']).trim_end_matches('.').to_ascii_lowercase();
        if !is_internal(ip) || self.hosts.contains(&host) || self.nets.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        Err(Refusal::Internal { host, ip })
    }
}

fn is_host_name(entry: &str) -> bool {
    !entry.is_empty()
        && entry.len() <= 253
        && entry
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// Whether `ip` is not a public unicast address: loopback, private, shared (CGNAT),
/// link-local, unique-local, unspecified, multicast, broadcast, reserved or documentation;
/// an IPv6 address that embeds an IPv4 one (mapped, NAT64, 6to4) is judged by that one.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18.0.0/15
        || a >= 240 // reserved, 240.0.0.0/4
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    // NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::a.b.c.d) carry an
    // IPv4 address in their last 32 bits.
    let last_v4 = || Ipv4Addr::from((u32::from(segments[6]) << 16) | u32::from(segments[7]));
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_internal_v4(last_v4());
    }
    // ::/96 is unspecified, loopback, or IPv4-compatible; none is a public host of its own.
    if segments[..6] == [0; 6] {
        return segments[6] == 0 || is_internal_v4(last_v4());
    }
    // Teredo (2001::/32) hides an IPv4 address; no webhook receiver needs it.
    if segments[0] == 0x2001 && segments[1] == 0 {
        return true;
    }
    // 6to4 (2002::/16) carries one in bits 16..48.
    if segments[0] == 0x2002 {
        let v4 = Ipv4Addr::from((u32::from(segments[1]) << 16) | u32::from(segments[2]));
        return is_internal_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation, 2001:db8::/32
        || segments[0] == 0x0100 && segments[1..4] == [0, 0, 0] // discard-only, 100::/64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("valid in the test")
    }

    #[test]
    fn internal_addresses_are_refused_by_default() {
        let policy = OutboundPolicy::default();
        for internal in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.5",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254", // cloud metadata
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
            "::7f00:1",           // IPv4-compatible 127.0.0.1
            "2002:7f00:1::",      // 6to4 of 127.0.0.1
            "2002:c0a8:101::1",   // 6to4 of 192.168.1.1
            "2001:db8::1",
            "2001:0:4136:e378::1", // Teredo
        ] {
            assert!(is_internal(ip(internal)), "{internal} counts as internal");
            assert!(
                policy.check("example.com", ip(internal)).is_err(),
                "{internal} is refused"
            );
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        let policy = OutboundPolicy::default();
        for public in [
            "93.184.215.14",
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "11.0.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!is_internal(ip(public)), "{public} counts as public");
            assert_eq!(policy.check("example.com", ip(public)), Ok(()));
        }
    }

    #[test]
    fn the_operator_allows_named_hosts_and_networks() {
        let policy = OutboundPolicy::parse(&["10.1.0.0/16", "127.0.0.1", "[::1]", "Hooks.Internal."])
            .expect("valid in the test");
        assert_eq!(policy.check("a", ip("10.1.2.3")), Ok(()));
        assert!(policy.check("a", ip("10.2.0.1")).is_err(), "only the named network");
        assert_eq!(policy.check("a", ip("127.0.0.1")), Ok(()));
        assert!(policy.check("a", ip("127.0.0.2")).is_err(), "a single address is a /32");
        assert_eq!(policy.check("a", ip("::1")), Ok(()));
        assert_eq!(
            policy.check("hooks.internal", ip("10.9.9.9")),
            Ok(()),
            "a named host, whatever it resolves to"
        );
        assert_eq!(policy.check("HOOKS.internal.", ip("192.168.0.9")), Ok(()));
        assert!(policy.check("other.internal", ip("10.9.9.9")).is_err());
        assert_eq!(
            policy.check("x", ip("169.254.169.254")),
            Err(Refusal::Internal {
                host: "x".into(),
                ip: ip("169.254.169.254")
            })
        );
        let refused = policy.check("db.internal", ip("10.9.8.7")).expect_err("internal");
        assert!(
            !refused.to_string().contains("10.9.8.7"),
            "what a name resolves to is not told: {refused}"
        );
        assert!(OutboundPolicy::parse(&["10.0.0.0/99"]).is_err());
        assert!(OutboundPolicy::parse(&["not a host!"]).is_err());
        assert_eq!(OutboundPolicy::parse(&["", " "]), Ok(OutboundPolicy::default()));
    }
}
