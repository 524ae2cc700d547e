//! From a captured frame to what a flow needs: addresses, IP protocol, the length the IP header
//! claims, ports, TCP flags and the transport payload.
//!
//! The link layers are peeled here (Ethernet with VLAN/QinQ, MPLS, PPPoE, VN-Tag and LLC/SNAP;
//! Linux cooked v1 and v2; raw IP; BSD loopback/null; PPP; NFLOG; unprotected 802.11 data frames,
//! bare or behind radiotap); IPv4/IPv6 and their extension
//! headers are sliced with `etherparse`'s lax parser, which never reads past the captured bytes.
//! Nothing here panics on hostile input: every short or inconsistent header is a [`DecodeError`],
//! which the caller counts.

use std::net::IpAddr;

use etherparse::{LaxIpSlice, TcpHeaderSlice};

/// A link-layer header type, from the capture's libpcap DLT/LINKTYPE value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II (`DLT_EN10MB`).
    Ethernet,
    /// BSD loopback, address family in host byte order (`DLT_NULL`).
    Null,
    /// OpenBSD loopback, address family in network byte order (`DLT_LOOP`).
    Loop,
    /// Raw IPv4 or IPv6 (`DLT_RAW`, `LINKTYPE_RAW`, `LINKTYPE_IPV4`, `LINKTYPE_IPV6`).
    Raw,
    /// Linux cooked capture v1 (`DLT_LINUX_SLL`).
    LinuxSll,
    /// Linux cooked capture v2 (`DLT_LINUX_SLL2`).
    LinuxSll2,
    /// PPP, with or without the HDLC address and control bytes (`DLT_PPP`).
    Ppp,
    /// Linux netfilter log messages (`DLT_NFLOG`).
    Nflog,
    /// IEEE 802.11 frames (`DLT_IEEE802_11`): data frames with LLC/SNAP are decoded.
    Ieee80211,
    /// IEEE 802.11 with a radiotap header (`DLT_IEEE802_11_RADIO`), as monitor mode gives them.
    Radiotap,
}

impl LinkType {
    /// The link type of a libpcap DLT value; `None` when we do not decode it.
    pub fn from_dlt(value: i32) -> Option<LinkType> {
        Some(match value {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            9 => LinkType::Ppp,
            // DLT_RAW is 12 on most systems, 14 on OpenBSD; 101 is LINKTYPE_RAW as stored in files.
            12 | 14 | 101 | 228 | 229 => LinkType::Raw,
            105 => LinkType::Ieee80211,
            108 => LinkType::Loop,
            127 => LinkType::Radiotap,
            113 => LinkType::LinuxSll,
            239 => LinkType::Nflog,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }
}

/// Why a frame gave no packet. Each kind is counted separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// The link-layer header is cut short.
    TruncatedLink,
    /// The frame carries something other than IP (ARP, LLDP, STP, ...): skipped, not an error.
    NotIp,
    /// The IP header is cut short or malformed (bad version, header length below minimum).
    BadIpHeader,
    /// The IP length field is impossible: shorter than the header, or longer than the frame on the
    /// wire.
    BadIpLength,
    /// The TCP, UDP or ICMP header is cut short or malformed.
    BadTransportHeader,
}

impl DecodeError {
    /// A short name for counters.
    pub fn name(self) -> &'static str {
        match self {
            DecodeError::TruncatedLink => "truncated_link",
            DecodeError::NotIp => "not_ip",
            DecodeError::BadIpHeader => "bad_ip_header",
            DecodeError::BadIpLength => "bad_ip_length",
            DecodeError::BadTransportHeader => "bad_transport_header",
        }
    }
}

/// TCP flag bits, as in the header's flags byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TcpFlags(pub u8);

impl TcpFlags {
    pub(crate) const FIN: u8 = 0x01;
    pub(crate) const SYN: u8 = 0x02;
    pub(crate) const RST: u8 = 0x04;
    pub(crate) const PSH: u8 = 0x08;
    pub(crate) const ACK: u8 = 0x10;
    pub(crate) const URG: u8 = 0x20;
    pub(crate) const ECE: u8 = 0x40;
    pub(crate) const CWR: u8 = 0x80;

    /// Whether every bit of `mask` is set.
    pub(crate) fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }

    /// The flags as letters in a fixed order (`S`, `A`, `F`, `R`, `P`, `U`, `E`, `C`), the way
    /// flow records show the flags seen.
    pub(crate) fn letters(self) -> String {
        let mut text = String::new();
        for (bit, letter) in [
            (Self::SYN, 'S'),
            (Self::ACK, 'A'),
            (Self::FIN, 'F'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'C'),
        ] {
            if self.0 & bit != 0 {
                text.push(letter);
            }
        }
        text
    }
}

/// The transport layer of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport<'a> {
    /// A TCP segment.
    Tcp {
        source_port: u16,
        destination_port: u16,
        flags: TcpFlags,
        sequence: u32,
        /// The payload as captured (shorter than `payload_length` when the capture cut it).
        payload: &'a [u8],
        /// The payload length the IP and TCP headers claim.
        payload_length: u32,
    },
    /// A UDP datagram.
    Udp {
        source_port: u16,
        destination_port: u16,
        payload: &'a [u8],
    },
    /// ICMP (IPv4) or ICMPv6.
    Icmp { icmp_type: u8, code: u8 },
    /// SCTP: only the ports are read.
    Sctp { source_port: u16, destination_port: u16 },
    /// A fragment after the first: it has no transport header of its own; its payload belongs to
    /// the datagram the first fragment opened.
    LaterFragment {
        identification: u32,
        payload_length: u32,
    },
    /// Another IP protocol: the flow is keyed by addresses and protocol only. The payload is
    /// kept for tunnels (GRE, IP in IP).
    Other { payload: &'a [u8] },
}

/// What a flow needs from one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Packet<'a> {
    pub source: IpAddr,
    pub destination: IpAddr,
    /// The IP protocol number of the transport (after IPv6 extension headers).
    pub protocol: u8,
    /// The IP datagram's length as its header gives it (header and payload), whatever the capture
    /// kept of it.
    pub ip_length: u32,
    pub transport: Transport<'a>,
    /// The IP datagram as captured (from its header on), for tunnels inside it.
    pub(crate) ip: &'a [u8],
    /// For a fragment, the datagram's identification.
    pub fragment_id: Option<u32>,
}

/// Decodes a frame of the given link type. `wire_length` is the frame's length on the wire (the
/// pcap record's `len`), which may exceed `frame.len()` when the capture was cut by the snaplen.
pub(crate) fn decode(link: LinkType, frame: &[u8], wire_length: usize) -> Result<Packet<'_>, DecodeError> {
    let (network, offset) = link_payload(link, frame)?;
    let ip = frame.get(offset..).ok_or(DecodeError::TruncatedLink)?;
    let wire_remaining = wire_length.max(frame.len()).saturating_sub(offset);
    match network {
        Network::Ip => decode_ip(ip, wire_remaining),
        Network::Other => Err(DecodeError::NotIp),
    }
}

enum Network {
    Ip,
    Other,
}

/// Ethernet types that carry IP or another header we peel.
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_QINQ_OLD2: u16 = 0x9200;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_VNTAG: u16 = 0x8926;
const ETHERTYPE_FABRICPATH: u16 = 0x8903;

/// How many nested link headers we peel before giving up (a hostile frame can stack tags).
const MAX_LINK_LAYERS: usize = 16;

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
        *data.get(at + 2)?,
        *data.get(at + 3)?,
    ]))
}

/// The offset of the network layer and whether it is IP.
fn link_payload(link: LinkType, frame: &[u8]) -> Result<(Network, usize), DecodeError> {
    let truncated = DecodeError::TruncatedLink;
    match link {
        LinkType::Ethernet => {
            let ether_type = be16(frame, 12).ok_or(truncated)?;
            ether_payload(frame, ether_type, 14)
        }
        LinkType::Raw => Ok((Network::Ip, 0)),
        LinkType::Null | LinkType::Loop => {
            let family = frame.get(..4).ok_or(truncated)?;
            let little = u32::from_le_bytes([family[0], family[1], family[2], family[3]]);
            let big = u32::from_be_bytes([family[0], family[1], family[2], family[3]]);
            // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28
            // (FreeBSD), 30 (macOS). The byte order depends on the capturing host, so try both.
            let is_ip = |value: u32| matches!(value, 2 | 10 | 24 | 28 | 30);
            if is_ip(little) || is_ip(big) {
                Ok((Network::Ip, 4))
            } else {
                Ok((Network::Other, 4))
            }
        }
        LinkType::LinuxSll => {
            // Packet type, ARPHRD type, address length, 8 address bytes, protocol.
            let protocol = be16(frame, 14).ok_or(truncated)?;
            ether_payload(frame, protocol, 16)
        }
        LinkType::LinuxSll2 => {
            // Protocol, reserved, interface index, ARPHRD type, packet type, address length,
            // 8 address bytes.
            let protocol = be16(frame, 0).ok_or(truncated)?;
            if frame.len() < 20 {
                return Err(truncated);
            }
            ether_payload(frame, protocol, 20)
        }
        LinkType::Ppp => {
            let mut offset = 0;
            if frame.get(..2) == Some(&[0xff, 0x03]) {
                offset = 2;
            }
            let protocol = be16(frame, offset).ok_or(truncated)?;
            Ok((ppp_network(protocol), offset + 2))
        }
        LinkType::Nflog => nflog_payload(frame),
        LinkType::Ieee80211 => wifi_payload(frame, 0),
        LinkType::Radiotap => {
            // Version, padding, then the header length (little-endian) covering all fields.
            let length = frame
                .get(2..4)
                .map(|bytes| usize::from(u16::from_le_bytes([bytes[0], bytes[1]])))
                .ok_or(truncated)?;
            wifi_payload(frame, length)
        }
    }
}

/// An 802.11 frame at `offset`: only unprotected data frames carry IP (behind LLC/SNAP).
fn wifi_payload(frame: &[u8], offset: usize) -> Result<(Network, usize), DecodeError> {
    let truncated = DecodeError::TruncatedLink;
    let control = *frame.get(offset).ok_or(truncated)?;
    let flags = *frame.get(offset + 1).ok_or(truncated)?;
    let frame_type = (control >> 2) & 0x03;
    let subtype = control >> 4;
    let protected = flags & 0x40 != 0;
    if frame_type != 2 || protected || subtype & 0x04 != 0 {
        // Management, control, encrypted, or a data frame without data ("null").
        return Ok((Network::Other, offset));
    }
    let mut header = 24;
    if flags & 0x03 == 0x03 {
        header += 6; // a fourth address when both to-DS and from-DS are set
    }
    if subtype & 0x08 != 0 {
        header += 2; // QoS control
        if flags & 0x80 != 0 {
            header += 4; // HT control
        }
    }
    let llc = offset + header;
    if frame.get(llc..llc + 3).ok_or(truncated)? != [0xaa, 0xaa, 0x03] {
        return Ok((Network::Other, llc));
    }
    let ether_type = be16(frame, llc + 6).ok_or(truncated)?;
    ether_payload(frame, ether_type, llc + 8)
}

fn ppp_network(protocol: u16) -> Network {
    match protocol {
        0x0021 | 0x0057 => Network::Ip,
        _ => Network::Other,
    }
}

/// Follows Ethernet types through tags and shims to the network layer.
fn ether_payload(
    frame: &[u8],
    mut ether_type: u16,
    mut offset: usize,
) -> Result<(Network, usize), DecodeError> {
    let truncated = DecodeError::TruncatedLink;
    for _ in 0..MAX_LINK_LAYERS {
        match ether_type {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => return Ok((Network::Ip, offset)),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
                ether_type = be16(frame, offset + 2).ok_or(truncated)?;
                offset += 4;
            }
            ETHERTYPE_VNTAG => {
                ether_type = be16(frame, offset + 4).ok_or(truncated)?;
                offset += 6;
            }
            ETHERTYPE_FABRICPATH => {
                // The FabricPath header (switch addresses, then an FTag/TTL word) is followed
                // by the original Ethernet frame: skip the FTag and the inner addresses.
                ether_type = be16(frame, offset + 2 + 12).ok_or(truncated)?;
                offset += 2 + 14;
            }
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => {
                for _ in 0..MAX_LINK_LAYERS {
                    let label = be32(frame, offset).ok_or(truncated)?;
                    offset += 4;
                    if label & 0x100 != 0 {
                        // Bottom of stack: the payload's first nibble tells IPv4 from IPv6.
                        let version = frame.get(offset).ok_or(truncated)? >> 4;
                        return Ok(match version {
                            4 | 6 => (Network::Ip, offset),
                            _ => (Network::Other, offset),
                        });
                    }
                }
                return Err(truncated);
            }
            ETHERTYPE_PPPOE_SESSION => {
                let protocol = be16(frame, offset + 6).ok_or(truncated)?;
                return Ok((ppp_network(protocol), offset + 8));
            }
            length if length < 0x0600 => {
                // IEEE 802.3 with LLC: only SNAP carries an Ethernet type.
                let llc = frame.get(offset..offset + 3).ok_or(truncated)?;
                if llc != [0xaa, 0xaa, 0x03] {
                    return Ok((Network::Other, offset));
                }
                ether_type = be16(frame, offset + 6).ok_or(truncated)?;
                offset += 8;
            }
            _ => return Ok((Network::Other, offset)),
        }
    }
    Err(truncated)
}

/// NFLOG: a 4-byte header, then type-length-value attributes (lengths in host byte order,
/// padded to 4 bytes); attribute 9 is the packet.
fn nflog_payload(frame: &[u8]) -> Result<(Network, usize), DecodeError> {
    let truncated = DecodeError::TruncatedLink;
    let family = *frame.first().ok_or(truncated)?;
    let mut offset = 4;
    while offset + 4 <= frame.len() {
        let length = usize::from(u16::from_le_bytes([frame[offset], frame[offset + 1]]));
        let kind = u16::from_le_bytes([frame[offset + 2], frame[offset + 3]]);
        if length < 4 {
            return Err(truncated);
        }
        if kind == 9 {
            let network = if family == 2 || family == 10 {
                Network::Ip
            } else {
                Network::Other
            };
            return Ok((network, offset + 4));
        }
        offset += length.div_ceil(4) * 4;
    }
    Err(truncated)
}

/// Decodes an IP datagram. `wire_remaining` is how many bytes of it were on the wire.
pub(crate) fn decode_ip(data: &[u8], wire_remaining: usize) -> Result<Packet<'_>, DecodeError> {
    let version = data.first().ok_or(DecodeError::BadIpHeader)? >> 4;
    let wire = u32::try_from(wire_remaining).unwrap_or(u32::MAX);
    let ip_length = match version {
        4 => {
            let total = be16(data, 2).ok_or(DecodeError::BadIpHeader)?;
            let header = usize::from(data[0] & 0x0f) * 4;
            if total == 0 {
                // TCP segmentation offload: the sender's capture shows the large segment before
                // the NIC cut it, with the length unset. The frame says how long it is.
                wire
            } else if usize::from(total) < header {
                return Err(DecodeError::BadIpLength);
            } else {
                u32::from(total)
            }
        }
        // A payload length of zero means a jumbogram only with a Jumbo option, which no capture
        // we know of has; like Zeek, count the header alone.
        6 => 40 + u32::from(be16(data, 4).ok_or(DecodeError::BadIpHeader)?),
        _ => return Err(DecodeError::BadIpHeader),
    };
    if usize::try_from(ip_length).unwrap_or(usize::MAX) > wire_remaining {
        return Err(DecodeError::BadIpLength);
    }
    let (ip, _extension_error) = LaxIpSlice::from_slice(data).map_err(|_| DecodeError::BadIpHeader)?;
    let source = ip.source_addr();
    let destination = ip.destination_addr();
    let payload = ip.payload();
    let protocol = payload.ip_number.0;
    // The header length (with IPv6 extension headers) is where the payload starts.
    let header_length = (payload.payload.as_ptr() as usize).saturating_sub(data.as_ptr() as usize);
    let claimed_payload = (ip_length as usize).saturating_sub(header_length);
    let mut fragment_id = None;
    if payload.fragmented {
        let (offset, identification) = match &ip {
            LaxIpSlice::Ipv4(v4) => {
                let header = v4.header();
                (
                    header.fragments_offset().value(),
                    u32::from(header.identification()),
                )
            }
            LaxIpSlice::Ipv6(v6) => ipv6_fragment(v6).unwrap_or((0, 0)),
        };
        if offset != 0 {
            return Ok(Packet {
                source,
                destination,
                protocol,
                ip_length,
                transport: Transport::LaterFragment {
                    identification,
                    payload_length: u32::try_from(claimed_payload).unwrap_or(u32::MAX),
                },
                fragment_id: Some(identification),
                ip: data,
            });
        }
        fragment_id = Some(identification);
    }
    let transport = decode_transport(protocol, payload.payload, claimed_payload)?;
    Ok(Packet {
        source,
        destination,
        protocol,
        ip_length,
        transport,
        fragment_id,
        ip: data,
    })
}

/// The fragment offset and identification of an IPv6 fragment header, if there is one.
fn ipv6_fragment(ip: &etherparse::LaxIpv6Slice<'_>) -> Option<(u16, u32)> {
    for extension in ip.extensions().clone().into_iter() {
        if let etherparse::Ipv6ExtensionSlice::Fragment(fragment) = extension {
            return Some((fragment.fragment_offset().value(), fragment.identification()));
        }
    }
    None
}

fn decode_transport(
    protocol: u8,
    payload: &[u8],
    claimed_payload: usize,
) -> Result<Transport<'_>, DecodeError> {
    let bad = DecodeError::BadTransportHeader;
    Ok(match protocol {
        6 => {
            let header = TcpHeaderSlice::from_slice(payload).map_err(|_| bad)?;
            let header_length = header.slice().len();
            let flags = payload.get(13).copied().unwrap_or_default();
            Transport::Tcp {
                source_port: header.source_port(),
                destination_port: header.destination_port(),
                flags: TcpFlags(flags),
                sequence: header.sequence_number(),
                payload: &payload[header_length..],
                payload_length: u32::try_from(claimed_payload.saturating_sub(header_length))
                    .unwrap_or(u32::MAX),
            }
        }
        17 => {
            let source_port = be16(payload, 0).ok_or(bad)?;
            let destination_port = be16(payload, 2).ok_or(bad)?;
            let length = usize::from(be16(payload, 4).ok_or(bad)?);
            if payload.len() < 8 {
                return Err(bad);
            }
            // The UDP length bounds the payload (it may be shorter than the IP payload); a
            // length below the header size is ignored in favour of what was captured.
            let end = if length >= 8 {
                length.min(payload.len())
            } else {
                payload.len()
            };
            Transport::Udp {
                source_port,
                destination_port,
                payload: &payload[8..end],
            }
        }
        132 => Transport::Sctp {
            source_port: be16(payload, 0).ok_or(bad)?,
            destination_port: be16(payload, 2).ok_or(bad)?,
        },
        1 | 58 => {
            let icmp_type = *payload.first().ok_or(bad)?;
            let code = *payload.get(1).ok_or(bad)?;
            Transport::Icmp { icmp_type, code }
        }
        _ => Transport::Other { payload },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::testing::{ethernet_tcp, ethernet_udp, ipv6_udp};

    #[test]
    fn decode_reads_ethernet_ipv4_tcp() {
        let frame = ethernet_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80, TcpFlags::SYN, 7, b"");
        let packet = decode(LinkType::Ethernet, &frame, frame.len()).unwrap();
        assert_eq!(packet.source, IpAddr::from([10, 0, 0, 1]));
        assert_eq!(packet.protocol, 6);
        assert_eq!(packet.ip_length, 40);
        match packet.transport {
            Transport::Tcp {
                source_port,
                destination_port,
                flags,
                sequence,
                ..
            } => {
                assert_eq!((source_port, destination_port, sequence), (40000, 80, 7));
                assert!(flags.has(TcpFlags::SYN));
            }
            other => panic!("not tcp: {other:?}"),
        }
    }

    #[test]
    fn decode_peels_vlan_tags_and_ignores_padding() {
        let inner = ethernet_udp([10, 0, 0, 1], [10, 0, 0, 2], 5000, 53, b"x");
        // Insert two VLAN tags (QinQ) after the MAC addresses and pad the frame.
        let mut frame = inner[..12].to_vec();
        frame.extend_from_slice(&[0x88, 0xa8, 0x00, 0x05, 0x81, 0x00, 0x00, 0x07]);
        frame.extend_from_slice(&inner[12..]);
        frame.extend_from_slice(&[0; 10]);
        let packet = decode(LinkType::Ethernet, &frame, frame.len()).unwrap();
        assert_eq!(packet.ip_length, 29);
        assert!(matches!(packet.transport, Transport::Udp { payload: b"x", .. }));
    }

    #[test]
    fn decode_reads_cooked_null_and_raw_links() {
        let ethernet = ethernet_udp([10, 0, 0, 1], [10, 0, 0, 2], 5000, 53, b"abc");
        let ip = &ethernet[14..];
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(ip);
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        sll2.extend_from_slice(ip);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(ip);
        let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
        ppp.extend_from_slice(ip);
        for (link, frame) in [
            (LinkType::LinuxSll, &sll[..]),
            (LinkType::LinuxSll2, &sll2[..]),
            (LinkType::Null, &null[..]),
            (LinkType::Raw, ip),
            (LinkType::Ppp, &ppp[..]),
        ] {
            let packet = decode(link, frame, frame.len()).unwrap();
            assert_eq!(packet.destination, IpAddr::from([10, 0, 0, 2]), "{link:?}");
        }
        // 802.11 QoS data frame (to the AP) inside radiotap, with LLC/SNAP.
        let mut wifi = vec![0x88, 0x01];
        wifi.extend_from_slice(&[0; 22]);
        wifi.extend_from_slice(&[0, 0]);
        wifi.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        wifi.extend_from_slice(ip);
        let mut radiotap = vec![0, 0, 8, 0, 0, 0, 0, 0];
        radiotap.extend_from_slice(&wifi);
        for (link, frame) in [
            (LinkType::Ieee80211, &wifi[..]),
            (LinkType::Radiotap, &radiotap[..]),
        ] {
            let packet = decode(link, frame, frame.len()).unwrap();
            assert_eq!(packet.source, IpAddr::from([10, 0, 0, 1]), "{link:?}");
        }
        let v6 = ipv6_udp(5353, 5353, b"");
        let packet = decode(LinkType::Raw, &v6, v6.len()).unwrap();
        assert!(packet.source.is_ipv6());
        assert_eq!(packet.ip_length, 48);
    }

    #[test]
    fn decode_rejects_bogus_lengths_and_truncation() {
        let frame = ethernet_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, TcpFlags::ACK, 0, b"data");
        // IP total length larger than the frame on the wire.
        let mut long = frame.clone();
        long[16] = 0x40;
        assert_eq!(
            decode(LinkType::Ethernet, &long, long.len()),
            Err(DecodeError::BadIpLength)
        );
        // Every prefix of the frame decodes to a value or an error, never a panic.
        for cut in 0..frame.len() {
            let _ = decode(LinkType::Ethernet, &frame[..cut], frame.len());
            let _ = decode(LinkType::Ethernet, &frame[..cut], cut);
        }
        // A snaplen cut keeps the header-claimed length.
        let packet = decode(LinkType::Ethernet, &frame[..54], frame.len()).unwrap();
        assert_eq!(packet.ip_length, 44);
        assert_eq!(
            decode(LinkType::Ethernet, &frame[..20], frame.len()),
            Err(DecodeError::BadIpHeader)
        );
        let arp = [0u8; 12]
            .iter()
            .copied()
            .chain([0x08, 0x06])
            .chain([0; 28])
            .collect::<Vec<u8>>();
        assert_eq!(
            decode(LinkType::Ethernet, &arp, arp.len()),
            Err(DecodeError::NotIp)
        );
    }
}
