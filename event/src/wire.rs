//! The agent ↔ collector protocol: messages, their framing, and compressed batches.
//!
//! The full specification, with the conversation and the durability rules, is `docs/protocol.md`.
//! This module is the one implementation of the bytes both sides exchange; it does no I/O. The
//! transport is TLS with mutual authentication; inside it, every message is one frame:
//!
//! ```text
//! u32 big-endian length of what follows | u8 kind | body
//! ```
//!
//! Control messages carry JSON bodies; a [`Batch`] body is binary: the first sequence number, the
//! record count, the uncompressed length, and a zstd frame holding one JSON [`Record`] per line.
//! Any change to these bytes bumps [`PROTOCOL_VERSION`] and adds a fixture to the compatibility
//! tests.

use serde::{Deserialize, Serialize};

use crate::Event;

/// The protocol version spoken by this build. A collector refuses a `Hello` with another version
/// (and says which it speaks).
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest frame either side accepts, in bytes (after the length prefix).
pub const MAX_FRAME_BYTES: usize = 16 << 20;

/// The largest uncompressed batch a collector accepts. Decompression never allocates more.
pub const MAX_BATCH_BYTES: usize = 64 << 20;

/// The first byte of every frame body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Agent → collector, first message of an authenticated session.
    Hello = 1,
    /// Collector → agent, the answer to `Hello`.
    Welcome = 2,
    /// Agent → collector: records.
    Batch = 3,
    /// Collector → agent: everything up to a sequence number is durable.
    Ack = 4,
    /// Agent → collector: host facts and a clock probe.
    Heartbeat = 5,
    /// Collector → agent: the answer to a heartbeat.
    HeartbeatReply = 6,
    /// Agent → collector, first message of an unauthenticated session: asks for a certificate.
    Enroll = 7,
    /// Collector → agent: the certificate.
    Enrolled = 8,
    /// Collector → agent: the session is refused; the connection closes after it.
    Refused = 9,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        Some(match byte {
            1 => Kind::Hello,
            2 => Kind::Welcome,
            3 => Kind::Batch,
            4 => Kind::Ack,
            5 => Kind::Heartbeat,
            6 => Kind::HeartbeatReply,
            7 => Kind::Enroll,
            8 => Kind::Enrolled,
            9 => Kind::Refused,
            _ => return None,
        })
    }
}

/// What an agent says about itself when it connects, and in each heartbeat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    /// The host name.
    pub hostname: String,
    /// The operating system (`/etc/os-release` PRETTY_NAME, or the kernel's name).
    #[serde(default)]
    pub os: String,
    /// The host's addresses.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// The agent's version.
    #[serde(default)]
    pub agent_version: String,
}

/// The first message of an authenticated session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the agent speaks.
    pub protocol: u32,
    /// The host.
    pub facts: HostFacts,
}

/// The collector's answer to [`Hello`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// The protocol version the collector speaks.
    pub protocol: u32,
    /// The agent's id, as the collector knows it from the client certificate.
    pub agent_id: String,
    /// The highest sequence number from this agent that is durable on the collector (0: none).
    /// The agent never needs to send anything at or below it again.
    pub last_sequence: u64,
}

/// A heartbeat: host facts, and the agent's clock when it was sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The host.
    pub facts: HostFacts,
    /// The agent's clock at sending, nanoseconds since the Unix epoch.
    pub sent_nanos: i64,
    /// The clock offset the agent measured at the previous heartbeat (collector minus agent), if any.
    #[serde(default)]
    pub clock_offset_nanos: Option<i64>,
}

/// The answer to a heartbeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// The `sent_nanos` of the heartbeat answered.
    pub sent_nanos: i64,
    /// The collector's clock when it received the heartbeat.
    pub received_nanos: i64,
}

/// An enrollment request, on a session without a client certificate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Enroll {
    /// The enrollment token an administrator created with `haidang agents token create`.
    pub token: String,
    /// The host.
    pub facts: HostFacts,
    /// A PEM certificate signing request for the agent's key.
    pub csr_pem: String,
}

/// The answer to [`Enroll`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The id the collector gave the agent (the certificate's common name).
    pub agent_id: String,
    /// The agent's certificate, PEM.
    pub certificate_pem: String,
    /// The collector's CA certificate, PEM: the agent trusts collectors signed by it.
    pub ca_pem: String,
}

/// Why a session was refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    /// A human-readable reason (`unknown agent`, `agent revoked`, `protocol version 2 not
    /// supported, this collector speaks 1`, `invalid enrollment token`...).
    pub reason: String,
}

/// One record an agent ships.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When the agent read it, nanoseconds since the Unix epoch.
    pub observed_nanos: i64,
    /// Where it came from: `file:/var/log/auth.log`, `journald`, `packet:eth0`...
    pub source: String,
    /// What it holds.
    #[serde(flatten)]
    pub body: Body,
}

/// The content of a [`Record`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// A raw line, parsed on the collector.
    Line {
        /// The text, without its line ending.
        text: String,
        /// The format to parse it as (`auto`, `rfc5424`, `access`...); `None` means detect.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
    /// An event the agent built itself (packet metadata).
    Event(Event),
}

/// A batch of records with consecutive sequence numbers, as it travels (compressed).
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The sequence number of the first record; the others follow one by one.
    pub first_sequence: u64,
    /// How many records.
    pub count: u32,
    /// The length of the records once decompressed.
    pub raw_len: u32,
    /// The zstd frame.
    pub compressed: Vec<u8>,
}

impl Batch {
    /// Compresses records into a batch whose first record gets `first_sequence`.
    pub fn compress(first_sequence: u64, records: &[Record]) -> Result<Batch, WireError> {
        let mut raw = Vec::with_capacity(records.len() * 256);
        for record in records {
            serde_json::to_writer(&mut raw, record).map_err(|error| WireError::Json(error.to_string()))?;
            raw.push(b'\n');
        }
        Batch::compress_raw(first_sequence, records.len(), &raw)
    }

    /// Compresses records already encoded as JSON lines (one per record, each ending in `\n`).
    pub fn compress_raw(first_sequence: u64, count: usize, raw: &[u8]) -> Result<Batch, WireError> {
        if raw.len() > MAX_BATCH_BYTES {
            return Err(WireError::TooLarge(raw.len()));
        }
        let compressed =
            zstd::bulk::compress(raw, 3).map_err(|error| WireError::Compression(error.to_string()))?;
        Ok(Batch {
            first_sequence,
            count: u32::try_from(count).map_err(|_| WireError::TooLarge(count))?,
            raw_len: raw.len() as u32,
            compressed,
        })
    }

    /// The last sequence number in the batch (the first one for an empty batch).
    pub fn last_sequence(&self) -> u64 {
        self.first_sequence + u64::from(self.count.saturating_sub(1))
    }

    /// Decompresses the records' JSON lines, never allocating more than `raw_len`, itself bounded
    /// by [`MAX_BATCH_BYTES`].
    pub fn decompress_raw(&self) -> Result<Vec<u8>, WireError> {
        let limit = self.raw_len as usize;
        if limit > MAX_BATCH_BYTES {
            return Err(WireError::TooLarge(limit));
        }
        let raw = zstd::bulk::decompress(&self.compressed, limit)
            .map_err(|error| WireError::Compression(error.to_string()))?;
        if raw.len() != limit {
            return Err(WireError::Malformed(format!(
                "batch declares {limit} bytes but holds {}",
                raw.len()
            )));
        }
        Ok(raw)
    }

    /// Decompresses and decodes the records. A line that does not decode is an error naming the
    /// sequence number it would have had.
    pub fn records(&self) -> Result<Vec<Record>, WireError> {
        let raw = self.decompress_raw()?;
        let mut records = Vec::with_capacity(self.count as usize);
        for (index, line) in raw
            .split(|&byte| byte == b'\n')
            .filter(|line| !line.is_empty())
            .enumerate()
        {
            let record = serde_json::from_slice(line).map_err(|error| {
                WireError::Malformed(format!("record {}: {error}", self.first_sequence + index as u64))
            })?;
            records.push(record);
        }
        if records.len() != self.count as usize {
            return Err(WireError::Malformed(format!(
                "batch declares {} records but holds {}",
                self.count,
                records.len()
            )));
        }
        Ok(records)
    }

    /// The batch body bytes (without the frame header).
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.first_sequence.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.raw_len.to_be_bytes());
        out.extend_from_slice(&self.compressed);
    }

    /// Reads a batch body.
    pub fn decode_body(body: &[u8]) -> Result<Batch, WireError> {
        if body.len() < 16 {
            return Err(WireError::Malformed("batch header shorter than 16 bytes".into()));
        }
        let (header, compressed) = body.split_at(16);
        Ok(Batch {
            first_sequence: u64::from_be_bytes(header[0..8].try_into().unwrap_or_default()),
            count: u32::from_be_bytes(header[8..12].try_into().unwrap_or_default()),
            raw_len: u32::from_be_bytes(header[12..16].try_into().unwrap_or_default()),
            compressed: compressed.to_vec(),
        })
    }
}

/// One protocol message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// See [`Hello`].
    Hello(Hello),
    /// See [`Welcome`].
    Welcome(Welcome),
    /// See [`Batch`].
    Batch(Batch),
    /// Everything up to and including this sequence number is durable on the collector.
    Ack(u64),
    /// See [`Heartbeat`].
    Heartbeat(Heartbeat),
    /// See [`HeartbeatReply`].
    HeartbeatReply(HeartbeatReply),
    /// See [`Enroll`].
    Enroll(Enroll),
    /// See [`Enrolled`].
    Enrolled(Enrolled),
    /// See [`Refused`].
    Refused(Refused),
}

impl Message {
    /// The message's kind byte.
    pub fn kind(&self) -> Kind {
        match self {
            Message::Hello(_) => Kind::Hello,
            Message::Welcome(_) => Kind::Welcome,
            Message::Batch(_) => Kind::Batch,
            Message::Ack(_) => Kind::Ack,
            Message::Heartbeat(_) => Kind::Heartbeat,
            Message::HeartbeatReply(_) => Kind::HeartbeatReply,
            Message::Enroll(_) => Kind::Enroll,
            Message::Enrolled(_) => Kind::Enrolled,
            Message::Refused(_) => Kind::Refused,
        }
    }

    /// Encodes the whole frame: length prefix, kind, body.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut frame = vec![0, 0, 0, 0, self.kind() as u8];
        let json = |frame: &mut Vec<u8>, value: &dyn erased::Json| value.write(frame);
        match self {
            Message::Hello(body) => json(&mut frame, body)?,
            Message::Welcome(body) => json(&mut frame, body)?,
            Message::Batch(batch) => batch.encode_body(&mut frame),
            Message::Ack(sequence) => frame.extend_from_slice(&sequence.to_be_bytes()),
            Message::Heartbeat(body) => json(&mut frame, body)?,
            Message::HeartbeatReply(body) => json(&mut frame, body)?,
            Message::Enroll(body) => json(&mut frame, body)?,
            Message::Enrolled(body) => json(&mut frame, body)?,
            Message::Refused(body) => json(&mut frame, body)?,
        }
        let length = frame.len() - 4;
        if length > MAX_FRAME_BYTES {
            return Err(WireError::TooLarge(length));
        }
        frame[..4].copy_from_slice(&(length as u32).to_be_bytes());
        Ok(frame)
    }

    /// Decodes one frame's content (kind byte and body, without the length prefix).
    pub fn decode(content: &[u8]) -> Result<Message, WireError> {
        let (&kind, body) = content
            .split_first()
            .ok_or_else(|| WireError::Malformed("empty frame".into()))?;
        let kind = Kind::from_byte(kind).ok_or(WireError::UnknownKind(kind))?;
        fn json<T: serde::de::DeserializeOwned>(kind: Kind, body: &[u8]) -> Result<T, WireError> {
            serde_json::from_slice(body).map_err(|error| WireError::Malformed(format!("{kind:?}: {error}")))
        }
        Ok(match kind {
            Kind::Hello => Message::Hello(json(kind, body)?),
            Kind::Welcome => Message::Welcome(json(kind, body)?),
            Kind::Batch => Message::Batch(Batch::decode_body(body)?),
            Kind::Ack => Message::Ack(u64::from_be_bytes(
                body.try_into()
                    .map_err(|_| WireError::Malformed("Ack: body is not 8 bytes".into()))?,
            )),
            Kind::Heartbeat => Message::Heartbeat(json(kind, body)?),
            Kind::HeartbeatReply => Message::HeartbeatReply(json(kind, body)?),
            Kind::Enroll => Message::Enroll(json(kind, body)?),
            Kind::Enrolled => Message::Enrolled(json(kind, body)?),
            Kind::Refused => Message::Refused(json(kind, body)?),
        })
    }
}

/// Reads a frame's length prefix and checks it against [`MAX_FRAME_BYTES`].
pub fn frame_length(prefix: [u8; 4]) -> Result<usize, WireError> {
    let length = u32::from_be_bytes(prefix) as usize;
    if length > MAX_FRAME_BYTES {
        return Err(WireError::TooLarge(length));
    }
    if length == 0 {
        return Err(WireError::Malformed("empty frame".into()));
    }
    Ok(length)
}

mod erased {
    use super::WireError;

    /// Object-safe JSON writing, so `Message::encode` has one arm shape.
    pub(super) trait Json {
        fn write(&self, out: &mut Vec<u8>) -> Result<(), WireError>;
    }

    impl<T: serde::Serialize> Json for T {
        fn write(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
            serde_json::to_writer(out, self).map_err(|error| WireError::Json(error.to_string()))
        }
    }
}

/// What can go wrong encoding or decoding protocol bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// A frame or batch is larger than the protocol allows (the size is given).
    TooLarge(usize),
    /// The kind byte is not one this version knows.
    UnknownKind(u8),
    /// The bytes do not follow the protocol (what was wrong is given).
    Malformed(String),
    /// A value could not be written as JSON.
    Json(String),
    /// zstd failed (corrupt data, or a batch larger than it declares).
    Compression(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::TooLarge(size) => write!(formatter, "{size} bytes is more than the protocol allows"),
            WireError::UnknownKind(kind) => write!(formatter, "unknown message kind {kind}"),
            WireError::Malformed(what) => write!(formatter, "malformed message: {what}"),
            WireError::Json(what) => write!(formatter, "cannot encode JSON: {what}"),
            WireError::Compression(what) => write!(formatter, "compression: {what}"),
        }
    }
}

impl std::error::Error for WireError {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn line(text: &str) -> Record {
        Record {
            observed_nanos: 1_700_000_000_000_000_000,
            source: "file:/var/log/auth.log".into(),
            body: Body::Line {
                text: text.into(),
                format: None,
            },
        }
    }

    fn round_trip(message: &Message) -> Message {
        let frame = message.encode().unwrap();
        let length = frame_length(frame[..4].try_into().unwrap()).unwrap();
        assert_eq!(length, frame.len() - 4);
        Message::decode(&frame[4..]).unwrap()
    }

    #[test]
    fn batches_round_trip_with_their_sequence_numbers() {
        let records = vec![line("first"), line("second ✓"), line("")];
        let batch = Batch::compress(41, &records).unwrap();
        assert_eq!(batch.last_sequence(), 43);
        let Message::Batch(back) = round_trip(&Message::Batch(batch.clone())) else {
            panic!("not a batch")
        };
        assert_eq!(back, batch);
        assert_eq!(back.records().unwrap(), records);
    }

    #[test]
    fn control_messages_round_trip() {
        let facts = HostFacts {
            hostname: "web01".into(),
            os: "Debian GNU/Linux 12".into(),
            addresses: vec!["10.0.0.5".into()],
            agent_version: "0.1.0".into(),
        };
        for message in [
            Message::Hello(Hello {
                protocol: PROTOCOL_VERSION,
                facts: facts.clone(),
            }),
            Message::Welcome(Welcome {
                protocol: 1,
                agent_id: "agent-1".into(),
                last_sequence: 7,
            }),
            Message::Ack(u64::MAX),
            Message::Heartbeat(Heartbeat {
                facts,
                sent_nanos: 5,
                clock_offset_nanos: Some(-3),
            }),
            Message::Refused(Refused {
                reason: "agent revoked".into(),
            }),
        ] {
            assert_eq!(round_trip(&message), message);
        }
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        assert_eq!(
            Message::decode(&[]),
            Err(WireError::Malformed("empty frame".into()))
        );
        assert_eq!(Message::decode(&[200]), Err(WireError::UnknownKind(200)));
        assert!(Message::decode(&[Kind::Ack as u8, 1, 2]).is_err());
        assert!(Message::decode(&[Kind::Hello as u8, b'{']).is_err());
        assert!(matches!(
            frame_length([0xff, 0, 0, 0]),
            Err(WireError::TooLarge(_))
        ));
        // A batch claiming more than it holds, or holding garbage, fails on decompression.
        let mut batch = Batch::compress(1, &[line("x")]).unwrap();
        batch.raw_len += 10;
        assert!(batch.records().is_err());
        let garbage = Batch {
            first_sequence: 1,
            count: 1,
            raw_len: 100,
            compressed: vec![1, 2, 3, 4],
        };
        assert!(garbage.records().is_err());
        // A batch declaring a huge size is refused before any allocation.
        let huge = Batch {
            raw_len: u32::MAX,
            ..garbage
        };
        assert!(matches!(huge.decompress_raw(), Err(WireError::TooLarge(_))));
    }

    /// The compatibility fixture: the exact bytes of a version-1 `Hello` and `Ack`. If this test
    /// fails, the wire changed: bump `PROTOCOL_VERSION` and keep a fixture for the old version.
    #[test]
    fn version_1_bytes_are_stable() {
        let hello = Message::Hello(Hello {
            protocol: 1,
            facts: HostFacts {
                hostname: "h".into(),
                ..HostFacts::default()
            },
        });
        let expected: &[u8] = b"\x00\x00\x00\x52\x01{\"protocol\":1,\"facts\":{\"hostname\":\"h\",\"os\":\"\",\"addresses\":[],\"agent_version\":\"\"}}";
        assert_eq!(hello.encode().unwrap(), expected);
        assert_eq!(
            Message::Ack(258).encode().unwrap(),
            b"\x00\x00\x00\x09\x04\x00\x00\x00\x00\x00\x00\x01\x02"
        );
        let record = line("a");
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"observed_nanos":1700000000000000000,"source":"file:/var/log/auth.log","line":{"text":"a"}}"#
        );
    }
}
