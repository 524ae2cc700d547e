//! Application-layer metadata of a flow: which protocol it speaks and the records its parsers
//! produce (DNS transactions, HTTP requests, TLS ClientHellos, SSH version strings).
//!
//! UDP datagrams are parsed one by one (DNS on ports 53, 5353 and 5355). TCP payload goes
//! through a [`Stream`] per direction: in-order bytes only, at most `max_stream_buffer` of them
//! waiting for a parser. The protocol is recognised from the first bytes (`SSH-`, a TLS
//! handshake record, an HTTP method) or the port (DNS on 53); a flow speaking anything else stops
//! buffering at once, and a TLS or SSH flow stops once its handshake is read, so the cost stays
//! in the first few packets of each flow.

use super::decode::{TcpFlags, Transport};
use super::dns::{DnsRecord, DnsTracker};
use super::http::{HttpParser, HttpRecord};
use super::ssh::{SshRecord, SshTracker};
use super::tls::{TlsRecord, TlsTracker};

/// Which side sent a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    FromOriginator,
    FromResponder,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::FromOriginator => 0,
            Direction::FromResponder => 1,
        }
    }
}

/// One application-layer record, timestamped in nanoseconds since the epoch.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AppRecord {
    Dns(DnsRecord),
    Http(HttpRecord),
    Tls(TlsRecord),
    Ssh(SshRecord),
}

/// The ports DNS is parsed on: DNS, multicast DNS, LLMNR.
fn is_dns_port(port: u16) -> bool {
    matches!(port, 53 | 5353 | 5355)
}

/// The application-layer state of one flow.
#[derive(Debug)]
pub(crate) struct Session {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Nothing to parse (ICMP, other protocols, UDP not on a DNS port, a TCP flow done with).
    Nothing,
    UdpDns(DnsTracker),
    Tcp(Box<TcpSession>),
}

#[derive(Debug)]
struct TcpSession {
    streams: [Stream; 2],
    protocol: TcpProtocol,
    dns_port: bool,
}

#[derive(Debug)]
enum TcpProtocol {
    Unknown,
    Http(HttpParser),
    Tls(TlsTracker),
    Ssh(SshTracker),
    Dns(DnsTracker),
    /// Recognised as nothing we parse, or finished: stop buffering.
    Done,
}

impl Session {
    /// The session of a new flow.
    pub(crate) fn new(protocol: u8, originator_port: u16, responder_port: u16) -> Session {
        let dns_port = is_dns_port(originator_port) || is_dns_port(responder_port);
        let kind = match protocol {
            17 if dns_port => Kind::UdpDns(DnsTracker::default()),
            6 => Kind::Tcp(Box::new(TcpSession {
                streams: [Stream::default(), Stream::default()],
                protocol: TcpProtocol::Unknown,
                dns_port,
            })),
            _ => Kind::Nothing,
        };
        Session { kind }
    }

    /// The flow's originator and responder swapped.
    pub(crate) fn flip(&mut self) {
        if let Kind::Tcp(session) = &mut self.kind {
            session.streams.swap(0, 1);
        }
    }

    /// Parses one packet's payload.
    pub(crate) fn on_packet(
        &mut self,
        direction: Direction,
        transport: &Transport<'_>,
        now: i64,
        max_buffer: usize,
        out: &mut Vec<AppRecord>,
    ) {
        match (&mut self.kind, transport) {
            (Kind::UdpDns(tracker), Transport::Udp { payload, .. }) => {
                tracker.on_message(direction, payload, now, out);
            }
            (
                Kind::Tcp(session),
                Transport::Tcp {
                    flags,
                    sequence,
                    payload,
                    payload_length,
                    ..
                },
            ) => {
                session.on_segment(
                    direction,
                    *flags,
                    *sequence,
                    payload,
                    *payload_length,
                    now,
                    max_buffer,
                    out,
                );
                if matches!(session.protocol, TcpProtocol::Done) {
                    self.kind = Kind::Nothing;
                }
            }
            _ => {}
        }
    }

    /// The flow ended: emits what is still pending (an unanswered DNS query, a ClientHello
    /// without a ServerHello, a lone SSH version).
    pub(crate) fn finish(&mut self, out: &mut Vec<AppRecord>) {
        match &mut self.kind {
            Kind::UdpDns(tracker) => tracker.finish(out),
            Kind::Tcp(session) => match &mut session.protocol {
                TcpProtocol::Dns(tracker) => tracker.finish(out),
                TcpProtocol::Tls(tracker) => tracker.finish(out),
                TcpProtocol::Ssh(tracker) => tracker.finish(out),
                TcpProtocol::Http(_) | TcpProtocol::Unknown | TcpProtocol::Done => {}
            },
            Kind::Nothing => {}
        }
        self.kind = Kind::Nothing;
    }
}

/// The HTTP methods we recognise at the start of a request.
pub(crate) const HTTP_METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"QUERY",
    b"SEARCH",
    b"REPORT",
];

/// What the first bytes of a stream say about its protocol.
enum Guess {
    Yes,
    No,
    /// Too few bytes to tell.
    NeedMore,
}

fn looks_like_http(data: &[u8]) -> Guess {
    let mut need_more = false;
    for method in HTTP_METHODS {
        let with_space = method.len() + 1;
        if data.len() >= with_space {
            if data.starts_with(method) && data[method.len()] == b' ' {
                return Guess::Yes;
            }
        } else if method.starts_with(data) {
            need_more = true;
        }
    }
    if need_more { Guess::NeedMore } else { Guess::No }
}

fn looks_like_tls(data: &[u8]) -> Guess {
    match data {
        [] | [0x16] => Guess::NeedMore,
        [0x16, 0x03] => Guess::NeedMore,
        [0x16, 0x03, minor, ..] if *minor <= 0x04 => Guess::Yes,
        _ => Guess::No,
    }
}

fn looks_like_ssh(data: &[u8]) -> Guess {
    if data.len() >= 4 {
        if data.starts_with(b"SSH-") {
            Guess::Yes
        } else {
            Guess::No
        }
    } else if b"SSH-".starts_with(data) {
        Guess::NeedMore
    } else {
        Guess::No
    }
}

impl TcpSession {
    #[allow(clippy::too_many_arguments)]
    fn on_segment(
        &mut self,
        direction: Direction,
        flags: TcpFlags,
        sequence: u32,
        payload: &[u8],
        payload_length: u32,
        now: i64,
        max_buffer: usize,
        out: &mut Vec<AppRecord>,
    ) {
        let stream = &mut self.streams[direction.index()];
        stream.accept(flags, sequence, payload, payload_length, max_buffer);
        if !stream.has_data() {
            return;
        }
        if matches!(self.protocol, TcpProtocol::Unknown) {
            self.protocol = self.recognise();
        }
        let [originator, responder] = &mut self.streams;
        match &mut self.protocol {
            TcpProtocol::Unknown | TcpProtocol::Done => {}
            TcpProtocol::Http(parser) => {
                // Only requests are parsed: drop what the server sends.
                responder.clear();
                parser.parse(originator, now, out);
            }
            TcpProtocol::Tls(tracker) => {
                if tracker.parse(originator, responder, now, out) {
                    self.protocol = TcpProtocol::Done;
                }
            }
            TcpProtocol::Ssh(tracker) => {
                if tracker.parse(originator, responder, now, out) {
                    self.protocol = TcpProtocol::Done;
                }
            }
            TcpProtocol::Dns(tracker) => {
                tracker.parse_tcp(Direction::FromOriginator, originator, now, out);
                tracker.parse_tcp(Direction::FromResponder, responder, now, out);
            }
        }
    }

    /// Decides the protocol from the first buffered bytes of either side.
    fn recognise(&mut self) -> TcpProtocol {
        let originator = self.streams[0].data();
        let responder = self.streams[1].data();
        let either_ssh = [originator, responder]
            .iter()
            .any(|data| matches!(looks_like_ssh(data), Guess::Yes));
        if either_ssh {
            return TcpProtocol::Ssh(SshTracker::default());
        }
        if self.dns_port {
            return TcpProtocol::Dns(DnsTracker::default());
        }
        let guesses = [
            looks_like_tls(originator),
            looks_like_http(originator),
            looks_like_ssh(originator),
        ];
        if matches!(guesses[0], Guess::Yes) {
            return TcpProtocol::Tls(TlsTracker::default());
        }
        if matches!(guesses[1], Guess::Yes) {
            return TcpProtocol::Http(HttpParser::default());
        }
        let undecided = guesses.iter().any(|guess| matches!(guess, Guess::NeedMore));
        // A server that speaks first with something else (SMTP, FTP banners) decides nothing
        // until the client talks, unless it is an SSH server (handled above).
        if originator.is_empty() || (undecided && self.streams[0].len() < 8) {
            if !responder.is_empty() && !matches!(looks_like_ssh(responder), Guess::NeedMore) {
                // Keep the server's bytes small while waiting for the client.
                self.streams[1].clear();
            }
            return TcpProtocol::Unknown;
        }
        TcpProtocol::Done
    }
}

/// One direction of a TCP connection: the in-order bytes not yet consumed by a parser.
///
/// Only contiguous data is kept. A retransmission is trimmed to its new bytes; a gap (lost
/// segment, or a capture that cut the payload) drops what was buffered and restarts at the new
/// segment, with [`Stream::gap`] set so that parsers resynchronise on a message boundary.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    next: Option<u32>,
    buffer: Vec<u8>,
    /// Data was lost before the buffer's start.
    pub gap: bool,
    /// The buffer hit its limit and was cut: the data in it is not contiguous with what follows.
    pub overflowed: bool,
}

impl Stream {
    fn accept(
        &mut self,
        flags: TcpFlags,
        sequence: u32,
        payload: &[u8],
        payload_length: u32,
        max_buffer: usize,
    ) {
        let mut sequence = sequence;
        if flags.has(TcpFlags::SYN) {
            // The SYN takes one sequence number; a payload on it (TCP Fast Open) follows.
            sequence = sequence.wrapping_add(1);
            self.next = Some(sequence);
        }
        if payload_length == 0 {
            return;
        }
        let next = *self.next.get_or_insert(sequence);
        // Offset of the segment relative to the next expected byte, in sequence space.
        let offset = sequence.wrapping_sub(next) as i32;
        let data: &[u8] = if offset < 0 {
            let already = offset.unsigned_abs() as usize;
            if already >= payload.len() {
                return;
            }
            &payload[already..]
        } else if offset > 0 {
            self.buffer.clear();
            self.gap = true;
            payload
        } else {
            payload
        };
        let advance = data.len() as u32;
        if self.buffer.len() + data.len() > max_buffer {
            self.buffer.clear();
            self.overflowed = true;
        } else {
            self.buffer.extend_from_slice(data);
        }
        let start = if offset > 0 { sequence } else { next };
        self.next = Some(start.wrapping_add(advance));
        let captured_short = (payload.len() as u32) < payload_length;
        if captured_short {
            // The capture cut this segment: what follows is not contiguous with the buffer.
            self.next = Some(sequence.wrapping_add(payload_length));
            self.gap = true;
        }
    }

    /// The buffered bytes.
    pub(crate) fn data(&self) -> &[u8] {
        &self.buffer
    }

    fn has_data(&self) -> bool {
        !self.buffer.is_empty()
    }

    /// Buffered byte count.
    pub(crate) fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether nothing is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Drops the first `count` buffered bytes (consumed by a parser).
    pub(crate) fn consume(&mut self, count: usize) {
        let count = count.min(self.buffer.len());
        self.buffer.drain(..count);
    }

    /// Drops everything buffered.
    pub(crate) fn clear(&mut self) {
        self.buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_with(segments: &[(u8, u32, &[u8])]) -> Stream {
        let mut stream = Stream::default();
        for &(flags, sequence, payload) in segments {
            stream.accept(TcpFlags(flags), sequence, payload, payload.len() as u32, 64);
        }
        stream
    }

    #[test]
    fn stream_keeps_in_order_bytes_and_trims_retransmissions() {
        let stream = stream_with(&[
            (TcpFlags::SYN, 99, b""),
            (TcpFlags::ACK, 100, b"hel"),
            (TcpFlags::ACK, 100, b"hel"),
            (TcpFlags::ACK, 102, b"llo"),
        ]);
        assert_eq!(stream.data(), b"hello");
        assert!(!stream.gap);
    }

    #[test]
    fn stream_restarts_after_a_gap_and_bounds_its_buffer() {
        let stream = stream_with(&[(TcpFlags::ACK, 0, b"abc"), (TcpFlags::ACK, 10, b"xyz")]);
        assert_eq!(stream.data(), b"xyz");
        assert!(stream.gap);
        let big = [b'a'; 40];
        let stream = stream_with(&[(TcpFlags::ACK, 0, &big), (TcpFlags::ACK, 40, &big)]);
        assert!(stream.is_empty());
        assert!(stream.overflowed);
    }

    #[test]
    fn sessions_recognise_protocols_from_first_bytes() {
        let mut session = TcpSession {
            streams: [Stream::default(), Stream::default()],
            protocol: TcpProtocol::Unknown,
            dns_port: false,
        };
        session.streams[0].buffer = b"GE".to_vec();
        assert!(matches!(session.recognise(), TcpProtocol::Unknown));
        session.streams[0].buffer = b"GET / HTTP/1.1\r\n".to_vec();
        assert!(matches!(session.recognise(), TcpProtocol::Http(_)));
        session.streams[0].buffer = vec![0x16, 0x03, 0x01, 0x00, 0x10];
        assert!(matches!(session.recognise(), TcpProtocol::Tls(_)));
        session.streams[0].buffer = b"EHLO mail.example\r\n".to_vec();
        assert!(matches!(session.recognise(), TcpProtocol::Done));
        session.streams[0].buffer.clear();
        session.streams[1].buffer = b"SSH-2.0-OpenSSH_9.6\r\n".to_vec();
        assert!(matches!(session.recognise(), TcpProtocol::Ssh(_)));
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::Stream;

    /// Appends bytes to a stream as if they had arrived in order.
    pub(crate) fn fill(stream: &mut Stream, data: &[u8]) {
        stream.buffer.extend_from_slice(data);
    }
}
