//! DNS messages (RFC 1035), over UDP or TCP (two-byte length prefix), paired into transactions.
//!
//! A query waits for its response (same transaction ID) in its flow; the pair becomes one
//! [`DnsRecord`] at the query's time. A response without a query and a query without a response
//! (when the flow ends) are records too. Names are decompressed with a bound on pointer jumps and
//! length, and bytes outside printable ASCII are escaped (`\xHH`), so a hostile message can
//! neither loop nor put raw binary into an event.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::app::{AppRecord, Direction, Stream};

/// Most queries of a flow awaiting their response; more are emitted unanswered.
const MAX_PENDING: usize = 64;
/// Most answers kept from one response.
const MAX_ANSWERS: usize = 64;
/// Longest decoded name (the wire limit is 255 bytes; escaping can lengthen it).
const MAX_NAME: usize = 1024;
/// Longest rendering of an answer's data.
const MAX_DATA: usize = 512;

/// A DNS question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Question {
    pub name: String,
    pub record_type: u16,
    pub class: u16,
}

/// A resource record of the answer section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub name: String,
    pub record_type: u16,
    pub ttl: u32,
    /// The data as text: an address, a name, TXT strings, or hex for other types.
    pub data: String,
}

/// What a response says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Response {
    pub response_code: u8,
    /// Header flags set: `AA`, `TC`, `RD`, `RA`.
    pub flags: Vec<&'static str>,
    pub answers: Vec<Answer>,
}

/// One DNS transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DnsRecord {
    /// The query's time, or the response's when no query was seen.
    pub timestamp_nanos: i64,
    pub id: u16,
    pub opcode: u8,
    pub question: Option<Question>,
    /// Whether the query was seen.
    pub query_seen: bool,
    pub response: Option<Response>,
}

struct Message {
    id: u16,
    is_response: bool,
    opcode: u8,
    question: Option<Question>,
    response: Response,
}

/// Pairs queries with responses within one flow.
#[derive(Debug, Default)]
pub(crate) struct DnsTracker {
    pending: Vec<(u16, i64, u8, Option<Question>)>,
}

impl DnsTracker {
    /// Handles one DNS message (a UDP payload or a TCP message without its length prefix).
    pub(crate) fn on_message(
        &mut self,
        _direction: Direction,
        payload: &[u8],
        now: i64,
        out: &mut Vec<AppRecord>,
    ) {
        let Some(message) = parse_message(payload) else {
            return;
        };
        if !message.is_response {
            if self.pending.len() >= MAX_PENDING {
                let (id, time, opcode, question) = self.pending.remove(0);
                out.push(unanswered(id, time, opcode, question));
            }
            self.pending
                .push((message.id, now, message.opcode, message.question));
            return;
        }
        let position = self.pending.iter().position(|(id, _, _, question)| {
            *id == message.id
                && match (question, &message.question) {
                    (Some(asked), Some(answered)) => asked.name.eq_ignore_ascii_case(&answered.name),
                    _ => true,
                }
        });
        let (timestamp, query_seen, question) = match position {
            Some(position) => {
                let (_, time, _, question) = self.pending.remove(position);
                (time, true, question.or(message.question))
            }
            None => (now, false, message.question),
        };
        out.push(AppRecord::Dns(DnsRecord {
            timestamp_nanos: timestamp,
            id: message.id,
            opcode: message.opcode,
            question,
            query_seen,
            response: Some(message.response),
        }));
    }

    /// Parses the length-prefixed messages buffered in a TCP stream.
    pub(crate) fn parse_tcp(
        &mut self,
        direction: Direction,
        stream: &mut Stream,
        now: i64,
        out: &mut Vec<AppRecord>,
    ) {
        loop {
            let data = stream.data();
            if data.len() < 2 {
                return;
            }
            let length = usize::from(u16::from_be_bytes([data[0], data[1]]));
            if data.len() < 2 + length {
                return;
            }
            let message = data[2..2 + length].to_vec();
            stream.consume(2 + length);
            self.on_message(direction, &message, now, out);
        }
    }

    /// The flow ended: unanswered queries become records.
    pub(crate) fn finish(&mut self, out: &mut Vec<AppRecord>) {
        for (id, time, opcode, question) in self.pending.drain(..) {
            out.push(unanswered(id, time, opcode, question));
        }
    }
}

fn unanswered(id: u16, time: i64, opcode: u8, question: Option<Question>) -> AppRecord {
    AppRecord::Dns(DnsRecord {
        timestamp_nanos: time,
        id,
        opcode,
        question,
        query_seen: true,
        response: None,
    })
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn parse_message(message: &[u8]) -> Option<Message> {
    let id = be16(message, 0)?;
    let flags = be16(message, 2)?;
    let question_count = be16(message, 4)?;
    let answer_count = be16(message, 6)?;
    let is_response = flags & 0x8000 != 0;
    let opcode = ((flags >> 11) & 0x0f) as u8;
    let mut offset = 12;
    let mut question = None;
    for index in 0..question_count {
        let (name, after) = read_name(message, offset)?;
        let record_type = be16(message, after)?;
        let class = be16(message, after + 2)?;
        offset = after + 4;
        if index == 0 {
            question = Some(Question {
                name,
                record_type,
                class,
            });
        }
    }
    let mut flag_names = Vec::new();
    for (bit, name) in [(0x0400, "AA"), (0x0200, "TC"), (0x0100, "RD"), (0x0080, "RA")] {
        if flags & bit != 0 {
            flag_names.push(name);
        }
    }
    let mut answers = Vec::new();
    if is_response {
        for _ in 0..answer_count {
            // A response cut short keeps the answers read so far.
            let Some((answer, after)) = read_answer(message, offset) else {
                break;
            };
            offset = after;
            if answers.len() < MAX_ANSWERS {
                answers.push(answer);
            }
        }
    }
    Some(Message {
        id,
        is_response,
        opcode,
        question,
        response: Response {
            response_code: (flags & 0x0f) as u8,
            flags: flag_names,
            answers,
        },
    })
}

fn read_answer(message: &[u8], offset: usize) -> Option<(Answer, usize)> {
    let (name, after) = read_name(message, offset)?;
    let record_type = be16(message, after)?;
    let ttl = be32(message, after + 4)?;
    let length = usize::from(be16(message, after + 8)?);
    let start = after + 10;
    let data = message.get(start..start + length)?;
    let rendered = match (record_type, data.len()) {
        (1, 4) => Ipv4Addr::from([data[0], data[1], data[2], data[3]]).to_string(),
        (28, 16) => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(data);
            Ipv6Addr::from(octets).to_string()
        }
        // NS, CNAME, PTR, DNAME: a name.
        (2 | 5 | 12 | 39, _) => read_name(message, start)?.0,
        // MX: preference, exchange.
        (15, _) => read_name(message, start + 2)?.0,
        // SRV: priority, weight, port, target.
        (33, _) => read_name(message, start + 6)?.0,
        // SOA: the primary name server.
        (6, _) => read_name(message, start)?.0,
        (16 | 99, _) => character_strings(data),
        _ => hex_preview(data),
    };
    Some((
        Answer {
            name,
            record_type,
            ttl,
            data: rendered,
        },
        start + length,
    ))
}

/// TXT data: the character strings, joined by spaces.
fn character_strings(data: &[u8]) -> String {
    let mut text = String::new();
    let mut offset = 0;
    while let Some(&length) = data.get(offset) {
        let end = (offset + 1 + usize::from(length)).min(data.len());
        if !text.is_empty() {
            text.push(' ');
        }
        escape_into(&data[offset + 1..end], &mut text);
        if text.len() >= MAX_DATA {
            break;
        }
        offset = end;
    }
    truncate(text, MAX_DATA)
}

fn hex_preview(data: &[u8]) -> String {
    let mut text = String::new();
    for byte in data.iter().take(MAX_DATA / 2) {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

fn truncate(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

fn escape_into(bytes: &[u8], text: &mut String) {
    for &byte in bytes {
        if (0x21..0x7f).contains(&byte) && byte != b'\\' {
            text.push(char::from(byte));
        } else if byte == b' ' {
            text.push(' ');
        } else {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
}

/// Reads a (possibly compressed) name at `offset`; returns it and the offset after it in the
/// message (after the first pointer, if any).
fn read_name(message: &[u8], offset: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut position = offset;
    let mut end = None;
    let mut jumps = 0;
    loop {
        let length = *message.get(position)?;
        match length & 0xc0 {
            0x00 => {
                if length == 0 {
                    let after = end.unwrap_or(position + 1);
                    return Some((name, after));
                }
                let label = message.get(position + 1..position + 1 + usize::from(length))?;
                if !name.is_empty() {
                    name.push('.');
                }
                escape_into(label, &mut name);
                if name.len() > MAX_NAME {
                    return None;
                }
                position += 1 + usize::from(length);
            }
            0xc0 => {
                let pointer = usize::from(be16(message, position)? & 0x3fff);
                if end.is_none() {
                    end = Some(position + 2);
                }
                jumps += 1;
                if jumps > 64 {
                    return None;
                }
                position = pointer;
            }
            // Extended label types (0x40, 0x80) are obsolete: refuse the name.
            _ => return None,
        }
    }
}

/// The text name of a record type (`A`, `AAAA`, ...), or `TYPE<n>`.
pub(crate) fn type_name(record_type: u16) -> String {
    let name = match record_type {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        24 => "SIG",
        25 => "KEY",
        28 => "AAAA",
        29 => "LOC",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        44 => "SSHFP",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return format!("TYPE{record_type}"),
    };
    name.to_owned()
}

/// The text name of a class (`IN`, ...), or `CLASS<n>`.
pub(crate) fn class_name(class: u16) -> String {
    match class & 0x7fff {
        1 => "IN".to_owned(),
        3 => "CH".to_owned(),
        4 => "HS".to_owned(),
        255 => "ANY".to_owned(),
        other => format!("CLASS{other}"),
    }
}

/// The text name of a response code (`NOERROR`, `NXDOMAIN`, ...), or `RCODE<n>`.
pub(crate) fn response_code_name(code: u8) -> String {
    let name = match code {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => return format!("RCODE{code}"),
    };
    name.to_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A DNS message: header, one question, and answers given as (type, rdata).
    pub(crate) fn message(id: u16, flags: u16, name: &str, answers: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&id.to_be_bytes());
        bytes.extend_from_slice(&flags.to_be_bytes());
        bytes.extend_from_slice(&1u16.to_be_bytes());
        bytes.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        for label in name.split('.') {
            bytes.push(label.len() as u8);
            bytes.extend_from_slice(label.as_bytes());
        }
        bytes.push(0);
        let record_type = answers.first().map_or(1, |(record_type, _)| *record_type);
        bytes.extend_from_slice(&record_type.to_be_bytes());
        bytes.extend_from_slice(&1u16.to_be_bytes());
        for (record_type, data) in answers {
            // A pointer to the question's name.
            bytes.extend_from_slice(&[0xc0, 12]);
            bytes.extend_from_slice(&record_type.to_be_bytes());
            bytes.extend_from_slice(&1u16.to_be_bytes());
            bytes.extend_from_slice(&300u32.to_be_bytes());
            bytes.extend_from_slice(&(data.len() as u16).to_be_bytes());
            bytes.extend_from_slice(data);
        }
        bytes
    }

    fn dns_records(out: &[AppRecord]) -> Vec<&DnsRecord> {
        out.iter()
            .filter_map(|record| match record {
                AppRecord::Dns(dns) => Some(dns),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn dns_pairs_query_and_response() {
        let mut tracker = DnsTracker::default();
        let mut out = Vec::new();
        let query = message(7, 0x0100, "www.example.com", &[]);
        let cname = {
            let mut data = vec![3];
            data.extend_from_slice(b"cdn");
            data.extend_from_slice(&[0xc0, 12]);
            data
        };
        let response = message(
            7,
            0x8180,
            "www.example.com",
            &[(5, cname), (1, vec![93, 184, 216, 34])],
        );
        tracker.on_message(Direction::FromOriginator, &query, 10, &mut out);
        assert!(out.is_empty());
        tracker.on_message(Direction::FromResponder, &response, 20, &mut out);
        let records = dns_records(&out);
        assert_eq!(records.len(), 1);
        let record = records[0];
        assert_eq!(record.timestamp_nanos, 10);
        assert!(record.query_seen);
        assert_eq!(record.question.as_ref().unwrap().name, "www.example.com");
        let response = record.response.as_ref().unwrap();
        assert_eq!(response.response_code, 0);
        assert_eq!(response.flags, vec!["RD", "RA"]);
        let data: Vec<&str> = response
            .answers
            .iter()
            .map(|answer| answer.data.as_str())
            .collect();
        assert_eq!(data, vec!["cdn.www.example.com", "93.184.216.34"]);
        assert_eq!(type_name(response.answers[0].record_type), "CNAME");
    }

    #[test]
    fn dns_reports_unanswered_queries_and_nxdomain() {
        let mut tracker = DnsTracker::default();
        let mut out = Vec::new();
        tracker.on_message(
            Direction::FromOriginator,
            &message(1, 0x0100, "a.test", &[]),
            1,
            &mut out,
        );
        tracker.on_message(
            Direction::FromResponder,
            &message(2, 0x8183, "b.test", &[]),
            2,
            &mut out,
        );
        tracker.finish(&mut out);
        let records = dns_records(&out);
        assert_eq!(records.len(), 2);
        assert!(!records[0].query_seen);
        assert_eq!(
            response_code_name(records[0].response.as_ref().unwrap().response_code),
            "NXDOMAIN"
        );
        assert!(records[1].response.is_none());
        assert_eq!(records[1].question.as_ref().unwrap().name, "a.test");
    }

    #[test]
    fn dns_survives_hostile_messages() {
        // A compression pointer to itself, and every truncation of a valid response.
        let mut looping = message(3, 0x8180, "x.test", &[]);
        looping.truncate(12);
        looping.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(parse_message(&looping).is_none());
        let response = message(
            4,
            0x8180,
            "www.example.com",
            &[(16, b"\x05hello\x03\xffhi".to_vec())],
        );
        for cut in 0..response.len() {
            let _ = parse_message(&response[..cut]);
        }
        let parsed = parse_message(&response).unwrap();
        assert_eq!(parsed.response.answers[0].data, "hello \\xffhi");
    }

    #[test]
    fn dns_over_tcp_reads_length_prefixed_messages() {
        let mut tracker = DnsTracker::default();
        let mut out = Vec::new();
        let query = message(9, 0x0100, "tcp.test", &[]);
        let response = message(9, 0x8180, "tcp.test", &[(1, vec![192, 0, 2, 1])]);
        let mut stream = Stream::default();
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&query);
        crate::packet::app::tests_support::fill(&mut stream, &framed);
        tracker.parse_tcp(Direction::FromOriginator, &mut stream, 5, &mut out);
        let mut framed = (response.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&response);
        crate::packet::app::tests_support::fill(&mut stream, &framed);
        tracker.parse_tcp(Direction::FromResponder, &mut stream, 6, &mut out);
        assert_eq!(dns_records(&out).len(), 1);
        assert!(stream.is_empty());
    }
}
