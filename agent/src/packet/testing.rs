//! Test helpers: packets built with `etherparse` and classic pcap files written from them.

use std::path::Path;

use etherparse::PacketBuilder;

const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

/// An Ethernet/IPv4/TCP frame; `flags` uses the `TcpFlags` bits.
pub(crate) fn ethernet_tcp(
    source: [u8; 4],
    destination: [u8; 4],
    source_port: u16,
    destination_port: u16,
    flags: u8,
    sequence: u32,
    payload: &[u8],
) -> Vec<u8> {
    use crate::packet::decode::TcpFlags;
    let mut builder = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
        .ipv4(source, destination, 64)
        .tcp(source_port, destination_port, sequence, 65535);
    if flags & TcpFlags::SYN != 0 {
        builder = builder.syn();
    }
    if flags & TcpFlags::ACK != 0 {
        builder = builder.ack(1);
    }
    if flags & TcpFlags::FIN != 0 {
        builder = builder.fin();
    }
    if flags & TcpFlags::RST != 0 {
        builder = builder.rst();
    }
    if flags & TcpFlags::PSH != 0 {
        builder = builder.psh();
    }
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, payload).unwrap();
    frame
}

/// An Ethernet/IPv4/UDP frame.
pub(crate) fn ethernet_udp(
    source: [u8; 4],
    destination: [u8; 4],
    source_port: u16,
    destination_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
        .ipv4(source, destination, 64)
        .udp(source_port, destination_port);
    let mut frame = Vec::with_capacity(builder.size(payload.len()));
    builder.write(&mut frame, payload).unwrap();
    frame
}

/// An Ethernet/IPv4/ICMP frame with an 8-byte ICMP header and no data.
pub(crate) fn ethernet_icmp(source: [u8; 4], destination: [u8; 4], icmp_type: u8, code: u8) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC).ipv4(source, destination, 64);
    let icmp = [icmp_type, code, 0, 0, 0, 1, 0, 1];
    let mut frame = Vec::new();
    builder
        .write(&mut frame, etherparse::IpNumber::ICMP, &icmp)
        .unwrap();
    frame
}

/// A raw IPv6/UDP packet between two documentation addresses.
pub(crate) fn ipv6_udp(source_port: u16, destination_port: u16, payload: &[u8]) -> Vec<u8> {
    let source = "2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().octets();
    let destination = "2001:db8::2".parse::<std::net::Ipv6Addr>().unwrap().octets();
    let builder = PacketBuilder::ipv6(source, destination, 64).udp(source_port, destination_port);
    let mut packet = Vec::new();
    builder.write(&mut packet, payload).unwrap();
    packet
}

/// Writes a classic little-endian pcap file (microsecond timestamps) of `(nanoseconds, frame)`.
pub(crate) fn write_pcap(path: &Path, link_type: u32, frames: &[(i64, Vec<u8>)]) {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&4u16.to_le_bytes());
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&65535u32.to_le_bytes());
    bytes.extend_from_slice(&link_type.to_le_bytes());
    for (nanos, frame) in frames {
        let seconds = (nanos / 1_000_000_000) as u32;
        let micros = ((nanos % 1_000_000_000) / 1000) as u32;
        bytes.extend_from_slice(&seconds.to_le_bytes());
        bytes.extend_from_slice(&micros.to_le_bytes());
        bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        bytes.extend_from_slice(frame);
    }
    std::fs::write(path, bytes).unwrap();
}
