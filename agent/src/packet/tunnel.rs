//! Tunnels: the inner frame of an encapsulated packet, so that the flows inside a tunnel are
//! seen as well as the tunnel itself.
//!
//! UDP tunnels (VXLAN 4789, Geneve 6081, Teredo 3544 and relays on any port, AYIYA 5072, GTP-U
//! 2152, GRE-in-UDP 4754)
//! keep their outer flow; IP tunnels (GRE, including ERSPAN and PPTP's enhanced GRE, and IP in
//! IP) replace it, as in Zeek's conn.log. Each header is checked before anything inside it is
//! trusted, and the caller bounds the nesting depth.

use super::decode::{Packet, Transport};

/// What an encapsulated payload starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inner<'a> {
    Ethernet(&'a [u8]),
    Ip(&'a [u8]),
}

/// Whether the outer packet stays a flow of its own once its inner frame is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outer {
    /// A UDP tunnel: the outer datagram is a flow too.
    Kept,
    /// An IP tunnel (GRE, IP in IP): only the inner flow counts.
    Replaced,
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

/// The inner frame of a tunnelled packet, if it is one and its headers hold together.
pub(crate) fn inner<'a>(packet: &Packet<'a>) -> Option<(Inner<'a>, Outer)> {
    match packet.transport {
        Transport::Udp {
            source_port,
            destination_port,
            payload,
        } => {
            let either = |port: u16| source_port == port || destination_port == port;
            let found = if destination_port == 4789 {
                vxlan(payload)
            } else if destination_port == 6081 {
                geneve(payload)
            } else if either(3544) {
                teredo(payload)
            } else if either(5072) {
                ayiya(payload)
            } else if either(2152) {
                gtp(payload)
            } else if destination_port == 4754 {
                gre(payload)
            } else if !is_dns(source_port, destination_port) {
                // Teredo relays use any port: the strict check of the IPv6 packet decides.
                teredo(payload)
            } else {
                None
            };
            found.map(|inner| (inner, Outer::Kept))
        }
        Transport::Other { payload } => {
            let found = match packet.protocol {
                4 | 41 => ip_start(payload),
                47 => gre(payload),
                _ => None,
            };
            found.map(|inner| (inner, Outer::Replaced))
        }
        _ => None,
    }
}

fn is_dns(source_port: u16, destination_port: u16) -> bool {
    [source_port, destination_port]
        .iter()
        .any(|port| matches!(port, 53 | 137 | 5353 | 5355))
}

/// IP in IP: the payload must start with an IP version nibble.
fn ip_start(payload: &[u8]) -> Option<Inner<'_>> {
    match payload.first()? >> 4 {
        4 | 6 => Some(Inner::Ip(payload)),
        _ => None,
    }
}

fn vxlan(payload: &[u8]) -> Option<Inner<'_>> {
    // Flags with the VNI-valid bit, reserved, VNI, reserved; then an Ethernet frame.
    if payload.first()? & 0x08 == 0 {
        return None;
    }
    Some(Inner::Ethernet(payload.get(8..)?))
}

fn geneve(payload: &[u8]) -> Option<Inner<'_>> {
    let first = *payload.first()?;
    if first >> 6 != 0 {
        return None;
    }
    let options = usize::from(first & 0x3f) * 4;
    let protocol = be16(payload, 2)?;
    let inner = payload.get(8 + options..)?;
    by_ether_type(protocol, inner)
}

fn by_ether_type(protocol: u16, inner: &[u8]) -> Option<Inner<'_>> {
    match protocol {
        0x6558 => Some(Inner::Ethernet(inner)),
        0x0800 | 0x86dd => ip_start(inner),
        _ => None,
    }
}

fn teredo(payload: &[u8]) -> Option<Inner<'_>> {
    let mut offset = 0;
    // An authentication indicator, then an origin indication, may come before the IPv6 packet.
    if be16(payload, 0)? == 0x0001 {
        let identifier = usize::from(*payload.get(2)?);
        let authentication = usize::from(*payload.get(3)?);
        offset = 4 + identifier + authentication + 8 + 1;
    }
    if be16(payload, offset)? == 0x0000 {
        offset += 8;
    }
    let inner = payload.get(offset..)?;
    // Only a whole IPv6 packet is accepted: Teredo has no header of its own to check. A bubble
    // (no next header, no payload) only keeps the NAT mapping open: nothing inside.
    let payload_length = be16(inner, 4)?;
    if inner.first()? >> 4 != 6 || usize::from(payload_length) + 40 != inner.len() {
        return None;
    }
    if payload_length == 0 && *inner.get(6)? == 59 {
        return None;
    }
    Some(Inner::Ip(inner))
}

fn ayiya(payload: &[u8]) -> Option<Inner<'_>> {
    let identity = 1usize << (payload.first()? >> 4);
    let signature = usize::from(payload.get(1)? >> 4) * 4;
    let operation = payload.get(2)? & 0x0f;
    let next_header = *payload.get(3)?;
    // Operation 1 forwards a packet; 4 and 41 are IPv4 and IPv6.
    if operation != 1 || !matches!(next_header, 4 | 41) {
        return None;
    }
    ip_start(payload.get(8 + identity + signature..)?)
}

fn gtp(payload: &[u8]) -> Option<Inner<'_>> {
    let flags = *payload.first()?;
    // Version 1, protocol type GTP, a T-PDU message (user data).
    if flags >> 5 != 1 || flags & 0x10 == 0 || *payload.get(1)? != 0xff {
        return None;
    }
    let mut offset = 8;
    if flags & 0x07 != 0 {
        let mut next = *payload.get(offset + 3)?;
        offset += 4;
        for _ in 0..8 {
            if next == 0 {
                break;
            }
            let length = usize::from(*payload.get(offset)?) * 4;
            if length == 0 {
                return None;
            }
            next = *payload.get(offset + length - 1)?;
            offset += length;
        }
    }
    ip_start(payload.get(offset..)?)
}

fn gre(payload: &[u8]) -> Option<Inner<'_>> {
    let flags = be16(payload, 0)?;
    let protocol = be16(payload, 2)?;
    let version = flags & 0x0007;
    let mut offset = 4;
    match version {
        0 => {
            for bit in [0x8000, 0x2000, 0x1000] {
                if flags & bit != 0 {
                    offset += 4;
                }
            }
        }
        1 => {
            // Enhanced GRE (PPTP): key always, sequence and acknowledgement optional; PPP inside.
            if protocol != 0x880b {
                return None;
            }
            offset += 4;
            for bit in [0x1000, 0x0080] {
                if flags & bit != 0 {
                    offset += 4;
                }
            }
            let mut ppp = payload.get(offset..)?;
            if ppp.starts_with(&[0xff, 0x03]) {
                ppp = &ppp[2..];
            }
            let (ppp_protocol, rest) = match ppp {
                [0x00, low, rest @ ..] => (u16::from(*low), rest),
                [low, rest @ ..] if low & 1 == 1 => (u16::from(*low), rest),
                _ => return None,
            };
            return match ppp_protocol {
                0x21 | 0x57 => ip_start(rest),
                _ => None,
            };
        }
        _ => return None,
    }
    let inner = payload.get(offset..)?;
    match protocol {
        // ERSPAN type II (with a sequence number) has an 8-byte header; type I has none.
        0x88be => {
            let skip = if flags & 0x1000 != 0 { 8 } else { 0 };
            Some(Inner::Ethernet(inner.get(skip..)?))
        }
        // ERSPAN type III: 12 bytes, and an 8-byte platform subheader when the O bit is set.
        0x22eb => {
            let optional = inner.get(11)? & 0x01 != 0;
            let skip = if optional { 20 } else { 12 };
            Some(Inner::Ethernet(inner.get(skip..)?))
        }
        other => by_ether_type(other, inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::decode::{LinkType, decode};
    use crate::packet::testing::{ethernet_icmp, ethernet_udp};

    #[test]
    fn vxlan_carries_an_ethernet_frame() {
        let inner = ethernet_icmp([10, 0, 0, 1], [10, 0, 0, 2], 8, 0);
        let mut payload = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
        payload.extend_from_slice(&inner);
        let outer = ethernet_udp([192, 0, 2, 1], [192, 0, 2, 2], 50000, 4789, &payload);
        let packet = decode(LinkType::Ethernet, &outer, outer.len()).unwrap();
        let (found, outer_kind) = inner_of(&packet);
        assert_eq!(outer_kind, Outer::Kept);
        assert_eq!(found, Inner::Ethernet(&inner[..]));
    }

    fn inner_of<'a>(packet: &Packet<'a>) -> (Inner<'a>, Outer) {
        inner(packet).unwrap()
    }

    #[test]
    fn gre_and_gtp_headers_are_checked() {
        let ip = &ethernet_icmp([10, 0, 0, 1], [10, 0, 0, 2], 8, 0)[14..];
        // GRE with a key, carrying IPv4.
        let mut gre_payload = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7];
        gre_payload.extend_from_slice(ip);
        assert_eq!(gre(&gre_payload), Some(Inner::Ip(ip)));
        assert_eq!(gre(&gre_payload[..6]), None);
        // GTP-U with a sequence number and no extension headers.
        let mut gtp_payload = vec![0x32, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0];
        gtp_payload.extend_from_slice(ip);
        assert_eq!(gtp(&gtp_payload), Some(Inner::Ip(ip)));
        // Not a T-PDU: no inner packet.
        gtp_payload[1] = 1;
        assert_eq!(gtp(&gtp_payload), None);
        // Teredo needs a whole IPv6 packet.
        assert_eq!(teredo(ip), None);
        for cut in 0..gre_payload.len() {
            let _ = (gre(&gre_payload[..cut]), gtp(&gre_payload[..cut]));
            let _ = (ayiya(&gre_payload[..cut]), geneve(&gre_payload[..cut]));
            let _ = teredo(&gre_payload[..cut]);
        }
    }
}
