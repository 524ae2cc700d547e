//! Community ID v1 (the Corelight specification, `community-id-spec`): a flow hash that Zeek,
//! Suricata and Elastic compute the same way, so a flow can be looked up across tools.
//!
//! `"1:" + base64(sha1(seed . saddr . daddr . proto . 0 . sport . dport))`, with the endpoints
//! ordered so that the smaller (address, port) comes first, all in network byte order. ICMP and
//! ICMPv6 use the type as the source port and the "counter-type" (echo request ↔ reply and the
//! like) or the code as the destination port; types without a counterpart are one-way and keep
//! their order. Protocols without ports hash the addresses and protocol only.

use std::net::IpAddr;

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// IP protocol numbers the flow code names.
pub(crate) const TCP: u8 = 6;
pub(crate) const UDP: u8 = 17;
pub(crate) const ICMP: u8 = 1;
pub(crate) const ICMPV6: u8 = 58;
pub(crate) const SCTP: u8 = 132;

/// Whether the Community ID (and our flow key) includes ports for this protocol.
pub(crate) fn has_ports(protocol: u8) -> bool {
    matches!(protocol, TCP | UDP | SCTP | ICMP | ICMPV6)
}

/// The (source port, destination port) an ICMP message stands for, and whether it is one-way
/// (no counterpart type, so the endpoints are never reordered).
pub(crate) fn icmp_ports(icmp_type: u8, code: u8, version6: bool) -> (u16, u16, bool) {
    let counterpart = if version6 {
        match icmp_type {
            128 => Some(129), // echo request ↔ reply
            129 => Some(128),
            130 => Some(131), // multicast listener query ↔ report
            131 => Some(130),
            133 => Some(134), // router solicitation ↔ advertisement
            134 => Some(133),
            135 => Some(136), // neighbour solicitation ↔ advertisement
            136 => Some(135),
            139 => Some(140), // node information query ↔ response
            140 => Some(139),
            144 => Some(145), // home agent address discovery request ↔ reply
            145 => Some(144),
            _ => None,
        }
    } else {
        match icmp_type {
            8 => Some(0), // echo ↔ echo reply
            0 => Some(8),
            13 => Some(14), // timestamp ↔ reply
            14 => Some(13),
            15 => Some(16), // information request ↔ reply
            16 => Some(15),
            10 => Some(9), // router solicitation ↔ advertisement
            9 => Some(10),
            17 => Some(18), // address mask request ↔ reply
            18 => Some(17),
            _ => None,
        }
    };
    match counterpart {
        Some(other) => (u16::from(icmp_type), other, false),
        None => (u16::from(icmp_type), u16::from(code), true),
    }
}

/// Whether (first address, first port) sorts before or equal to the second, the order the
/// Community ID puts endpoints in (addresses compared as network-order bytes, then ports).
pub(crate) fn in_order(first: (IpAddr, u16), second: (IpAddr, u16)) -> bool {
    (address_bytes(first.0), first.1) <= (address_bytes(second.0), second.1)
}

fn address_bytes(address: IpAddr) -> [u8; 16] {
    match address {
        IpAddr::V4(v4) => {
            let mut bytes = [0; 16];
            bytes[..4].copy_from_slice(&v4.octets());
            bytes
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The Community ID v1 of a flow. `source` and `destination` carry the ports to hash (for ICMP,
/// those of `icmp_ports`); `one_way` keeps their order.
pub fn community_id(
    seed: u16,
    protocol: u8,
    source: (IpAddr, u16),
    destination: (IpAddr, u16),
    one_way: bool,
) -> String {
    let (first, second) = if one_way || in_order(source, destination) {
        (source, destination)
    } else {
        (destination, source)
    };
    let mut hasher = Sha1::new();
    hasher.update(seed.to_be_bytes());
    for address in [first.0, second.0] {
        match address {
            IpAddr::V4(v4) => hasher.update(v4.octets()),
            IpAddr::V6(v6) => hasher.update(v6.octets()),
        }
    }
    hasher.update([protocol, 0]);
    if has_ports(protocol) {
        hasher.update(first.1.to_be_bytes());
        hasher.update(second.1.to_be_bytes());
    }
    let digest = hasher.finalize();
    format!("1:{}", base64::engine::general_purpose::STANDARD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(protocol: u8, source: &str, sport: u16, destination: &str, dport: u16) -> String {
        let source: IpAddr = source.parse().unwrap();
        let destination: IpAddr = destination.parse().unwrap();
        let one_way = if matches!(protocol, ICMP | ICMPV6) {
            // The spec's table gives the ports after mapping; recompute one-wayness from the type.
            let (_, _, one_way) = icmp_ports(sport as u8, dport as u8, protocol == ICMPV6);
            one_way
        } else {
            false
        };
        community_id(0, protocol, (source, sport), (destination, dport), one_way)
    }

    /// The specification's baseline (`baseline/baseline_deflt.json`, seed 0).
    #[test]
    fn community_id_matches_the_published_baseline() {
        let cases: &[(u8, &str, u16, &str, u16, &str)] = &[
            (
                6,
                "128.232.110.120",
                34855,
                "66.35.250.204",
                80,
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                6,
                "66.35.250.204",
                80,
                "128.232.110.120",
                34855,
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                17,
                "192.168.1.52",
                54585,
                "8.8.8.8",
                53,
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                17,
                "8.8.8.8",
                53,
                "192.168.1.52",
                54585,
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                6,
                "2001:470:e5bf:dead:4957:2174:e82c:4887",
                63943,
                "2607:f8b0:400c:c03::1a",
                25,
                "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            ),
            (
                132,
                "192.168.170.8",
                7,
                "192.168.170.56",
                7,
                "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            ),
            (
                132,
                "192.168.170.56",
                7,
                "192.168.170.8",
                7,
                "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            ),
            (
                1,
                "192.168.0.89",
                8,
                "192.168.0.1",
                0,
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            (
                1,
                "192.168.0.1",
                0,
                "192.168.0.89",
                8,
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            (1, "10.0.0.1", 11, "10.0.0.2", 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="),
            (
                58,
                "fe80::200:86ff:fe05:80da",
                135,
                "fe80::260:97ff:fe07:69ea",
                136,
                "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            ),
            (
                58,
                "fe80::260:97ff:fe07:69ea",
                136,
                "fe80::200:86ff:fe05:80da",
                135,
                "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            ),
            (
                58,
                "3ffe:507:0:1:200:86ff:fe05:80da",
                128,
                "3ffe:501:0:1001::2",
                129,
                "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            ),
            (
                58,
                "fe80::200:86ff:fe05:80da",
                133,
                "ff02::2",
                134,
                "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
            ),
            (
                58,
                "3ffe:501:1800:2345::2",
                3,
                "3ffe:507:0:1:200:86ff:fe05:80da",
                0,
                "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
            ),
        ];
        for &(protocol, source, sport, destination, dport, expected) in cases {
            assert_eq!(
                id(protocol, source, sport, destination, dport),
                expected,
                "{protocol} {source}:{sport} -> {destination}:{dport}"
            );
        }
        // A protocol without ports (RSVP, 46) hashes addresses and protocol only.
        let rsvp = community_id(
            0,
            46,
            ("10.1.12.1".parse().unwrap(), 0),
            ("10.1.12.2".parse().unwrap(), 0),
            false,
        );
        assert_eq!(rsvp, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
    }

    #[test]
    fn icmp_counterparts_pair_requests_with_replies() {
        assert_eq!(icmp_ports(8, 0, false), (8, 0, false));
        assert_eq!(icmp_ports(0, 0, false), (0, 8, false));
        assert_eq!(icmp_ports(3, 1, false), (3, 1, true));
        assert_eq!(icmp_ports(136, 0, true), (136, 135, false));
    }
}
