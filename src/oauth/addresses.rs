//! Which addresses a client metadata document may be fetched from (SSRF, draft-ietf-oauth-
//! client-id-metadata-document-00 §6.5): only globally routable unicast ones. `host.js`
//! reports what a name resolves to and then connects to exactly the address chosen here.
//!
//! Built on std's `Ipv4Addr` / `Ipv6Addr` predicates. The ranges std has no stable predicate
//! for (shared 100.64/10, benchmarking 198.18/15, reserved 240/4, "this network" 0/8, the
//! IETF block 192.0.0/24, and IPv6 forms that embed an IPv4 address) are written out below
//! from the IANA special-purpose registries; no crate in the tree classifies them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` must not be fetched from, or `None` for a public address.
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private (RFC 1918) address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified (\"this network\") address")
    } else if ip.is_multicast() || ip.is_broadcast() {
        Some("a multicast or broadcast address")
    } else if ip.is_documentation()
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
    {
        Some("a reserved address")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    // IPv4 inside IPv6 reaches the IPv4 address: judge that one. Mapped ::ffff:a.b.c.d and
    // compatible ::a.b.c.d (to_ipv4), NAT64 64:ff9b::/96 and 6to4 2002::/16.
    if let Some(v4) = ip.to_ipv4() {
        if !ip.is_loopback() && !ip.is_unspecified() {
            return refused_v4(v4);
        }
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return refused_v4(embedded_v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return refused_v4(embedded_v4(s[1], s[2]));
    }
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_unique_local() {
        Some("a unique local (fc00::/7) address")
    } else if ip.is_unicast_link_local() || (s[0] & 0xffc0) == 0xfec0 {
        Some("a link-local or site-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] == 0) {
        Some("a documentation or Teredo address")
    } else {
        None
    }
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_in_every_form() {
        for bad in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.5",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.2.1",
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
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:0101::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(refused(ip).is_some(), "{bad} must be refused");
        }
        for good in [
            "93.184.215.14",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "::ffff:93.184.215.14",
            "64:ff9b::5db8:d70e",
            "2002:5db8:d70e::1",
        ] {
            let ip: IpAddr = good.parse().unwrap();
            assert_eq!(refused(ip), None, "{good} is public");
        }
    }

    #[test]
    fn the_reason_names_the_kind_of_address() {
        assert_eq!(
            refused("::ffff:127.0.0.1".parse().unwrap()),
            Some("a loopback address")
        );
        assert_eq!(
            refused("100.100.1.1".parse().unwrap()),
            Some("a shared (carrier-grade NAT) address")
        );
    }
}
