//! TLS handshakes: the ClientHello (server name, offered versions, JA3 and JA4 fingerprints) and
//! the ServerHello (negotiated version and ALPN), written from RFC 8446 / RFC 5246, the JA3
//! description (Salesforce) and the JA4 technical details (FoxIO).
//!
//! Handshake messages are reassembled across TLS records and TCP segments as far as the stream
//! buffer allows. Anything that is not a handshake where one is expected ends the parsing of that
//! side; the record is emitted with what was read.

use md5::Md5;
use sha2::{Digest as _, Sha256};

use super::app::{AppRecord, Stream};

/// What a ClientHello offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClientHello {
    pub legacy_version: u16,
    pub cipher_suites: Vec<u16>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    pub supported_versions: Vec<u16>,
    pub server_name: Option<String>,
    /// ALPN protocol names, raw.
    pub alpn: Vec<Vec<u8>>,
}

/// One TLS handshake as seen on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TlsRecord {
    /// The ClientHello's time.
    pub timestamp_nanos: i64,
    pub client: ClientHello,
    /// The version the server chose (from its ServerHello), if it was seen.
    pub negotiated_version: Option<u16>,
    /// The ALPN protocol the server chose.
    pub negotiated_alpn: Option<String>,
}

impl TlsRecord {
    /// The version to report: the negotiated one, else the highest the client offered.
    pub(crate) fn version(&self) -> u16 {
        self.negotiated_version
            .unwrap_or_else(|| self.client.highest_version())
    }
}

/// GREASE values (RFC 8701): 0x?a?a with both bytes equal.
pub(crate) fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

impl ClientHello {
    /// The highest version offered: from `supported_versions` if present, else the legacy
    /// version field.
    pub(crate) fn highest_version(&self) -> u16 {
        self.supported_versions
            .iter()
            .copied()
            .filter(|version| !is_grease(*version))
            .max()
            .unwrap_or(self.legacy_version)
    }

    /// The JA3 string: version, ciphers, extensions, groups, point formats (GREASE removed).
    pub(crate) fn ja3_string(&self) -> String {
        fn join<T: ToString>(values: impl Iterator<Item = T>) -> String {
            values
                .map(|value| value.to_string())
                .collect::<Vec<_>>()
                .join("-")
        }
        let no_grease = |values: &[u16]| -> Vec<u16> {
            values
                .iter()
                .copied()
                .filter(|value| !is_grease(*value))
                .collect()
        };
        format!(
            "{},{},{},{},{}",
            self.legacy_version,
            join(no_grease(&self.cipher_suites).into_iter()),
            join(no_grease(&self.extensions).into_iter()),
            join(no_grease(&self.supported_groups).into_iter()),
            join(self.point_formats.iter()),
        )
    }

    /// The JA3 fingerprint: MD5 of [`ClientHello::ja3_string`], lowercase hex.
    pub(crate) fn ja3(&self) -> String {
        hex(&Md5::digest(self.ja3_string().as_bytes()))
    }

    /// The JA4 fingerprint of a ClientHello carried over TCP.
    pub(crate) fn ja4(&self) -> String {
        let version = match self.highest_version() {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            0x0200 => "s2",
            0x0100 => "s1",
            0xfeff => "d1",
            0xfefd => "d2",
            0xfefc => "d3",
            _ => "00",
        };
        let ciphers: Vec<u16> = self
            .cipher_suites
            .iter()
            .copied()
            .filter(|value| !is_grease(*value))
            .collect();
        let extensions: Vec<u16> = self
            .extensions
            .iter()
            .copied()
            .filter(|value| !is_grease(*value))
            .collect();
        let sni = if self.extensions.contains(&0) { 'd' } else { 'i' };
        let alpn = alpn_characters(self.alpn.first().map(Vec::as_slice));
        let prefix = format!(
            "t{version}{sni}{:02}{:02}{alpn}",
            ciphers.len().min(99),
            extensions.len().min(99)
        );
        let mut sorted_ciphers = ciphers.clone();
        sorted_ciphers.sort_unstable();
        let cipher_hash = ja4_hash(&hex_list(&sorted_ciphers));
        let mut sorted_extensions: Vec<u16> = extensions
            .into_iter()
            .filter(|value| *value != 0x0000 && *value != 0x0010)
            .collect();
        sorted_extensions.sort_unstable();
        let signatures: Vec<u16> = self
            .signature_algorithms
            .iter()
            .copied()
            .filter(|value| !is_grease(*value))
            .collect();
        let extension_hash = if sorted_extensions.is_empty() {
            ja4_hash("")
        } else if signatures.is_empty() {
            ja4_hash(&hex_list(&sorted_extensions))
        } else {
            ja4_hash(&format!(
                "{}_{}",
                hex_list(&sorted_extensions),
                hex_list(&signatures)
            ))
        };
        format!("{prefix}_{cipher_hash}_{extension_hash}")
    }
}

/// JA4's ALPN part: the first and last characters of the first ALPN value, or of its hex form
/// when either is not alphanumeric; `00` without ALPN.
fn alpn_characters(value: Option<&[u8]>) -> String {
    match value {
        Some([first, .., last]) | Some([first @ last]) => {
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                format!("{}{}", char::from(*first), char::from(*last))
            } else {
                let first_hex = format!("{first:02x}");
                let last_hex = format!("{last:02x}");
                format!("{}{}", &first_hex[..1], &last_hex[1..])
            }
        }
        _ => "00".to_owned(),
    }
}

fn hex_list(values: &[u16]) -> String {
    values
        .iter()
        .map(|value| format!("{value:04x}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The first 12 hex digits of the SHA-256 of `text`; twelve zeros for an empty list.
fn ja4_hash(text: &str) -> String {
    if text.is_empty() {
        return "000000000000".to_owned();
    }
    hex(&Sha256::digest(text.as_bytes()))[..12].to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Reads the handshake of both sides of a connection.
#[derive(Debug, Default)]
pub(crate) struct TlsTracker {
    client: Option<(i64, ClientHello)>,
    client_failed: bool,
    server: Option<(Option<u16>, Option<String>)>,
    server_failed: bool,
    emitted: bool,
}

enum Read<T> {
    Done(T),
    NeedMore,
    Failed,
}

impl TlsTracker {
    /// Parses what is buffered; returns true when nothing more is wanted from this connection.
    pub(crate) fn parse(
        &mut self,
        originator: &mut Stream,
        responder: &mut Stream,
        now: i64,
        out: &mut Vec<AppRecord>,
    ) -> bool {
        if self.client.is_none() && !self.client_failed {
            match read_handshake(originator, 1) {
                Read::Done(body) => match parse_client_hello(&body) {
                    Some(hello) => self.client = Some((now, hello)),
                    None => self.client_failed = true,
                },
                Read::NeedMore => {}
                Read::Failed => self.client_failed = true,
            }
        }
        if self.server.is_none() && !self.server_failed && !responder.is_empty() {
            match read_handshake(responder, 2) {
                Read::Done(body) => self.server = Some(parse_server_hello(&body)),
                Read::NeedMore => {}
                Read::Failed => self.server_failed = true,
            }
        }
        if self.client_failed {
            return true;
        }
        let server_done = self.server.is_some() || self.server_failed;
        if self.client.is_some() && server_done {
            self.emit(out);
            return true;
        }
        false
    }

    fn emit(&mut self, out: &mut Vec<AppRecord>) {
        if self.emitted {
            return;
        }
        if let Some((timestamp, client)) = self.client.take() {
            self.emitted = true;
            let (negotiated_version, negotiated_alpn) = self.server.take().unwrap_or_default();
            out.push(AppRecord::Tls(TlsRecord {
                timestamp_nanos: timestamp,
                client,
                negotiated_version,
                negotiated_alpn,
            }));
        }
    }

    /// The connection ended: a ClientHello without a ServerHello is still a record.
    pub(crate) fn finish(&mut self, out: &mut Vec<AppRecord>) {
        self.emit(out);
    }
}

/// Collects the first handshake message from the TLS records at the start of `stream`; it must
/// be of `wanted` type.
fn read_handshake(stream: &Stream, wanted: u8) -> Read<Vec<u8>> {
    if stream.overflowed {
        return Read::Failed;
    }
    let data = stream.data();
    let mut handshake = Vec::new();
    let mut offset = 0;
    loop {
        let Some(header) = data.get(offset..offset + 5) else {
            return Read::NeedMore;
        };
        if header[0] != 22 || header[1] != 3 {
            return Read::Failed;
        }
        let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if length == 0 || length > 18432 {
            return Read::Failed;
        }
        let Some(fragment) = data.get(offset + 5..offset + 5 + length) else {
            return Read::NeedMore;
        };
        handshake.extend_from_slice(fragment);
        offset += 5 + length;
        if handshake.len() >= 4 {
            if handshake[0] != wanted {
                return Read::Failed;
            }
            let body_length = (usize::from(handshake[1]) << 16)
                | (usize::from(handshake[2]) << 8)
                | usize::from(handshake[3]);
            if handshake.len() >= 4 + body_length {
                handshake.truncate(4 + body_length);
                handshake.drain(..4);
                return Read::Done(handshake);
            }
        }
    }
}

/// A cursor over big-endian fields.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(first)
    }

    fn u16(&mut self) -> Option<u16> {
        let bytes = self.bytes(2)?;
        Some(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn bytes(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.data.len() < count {
            return None;
        }
        let (head, rest) = self.data.split_at(count);
        self.data = rest;
        Some(head)
    }

    /// A vector with a one-byte length.
    fn vector8(&mut self) -> Option<&'a [u8]> {
        let length = usize::from(self.u8()?);
        self.bytes(length)
    }

    /// A vector with a two-byte length.
    fn vector16(&mut self) -> Option<&'a [u8]> {
        let length = usize::from(self.u16()?);
        self.bytes(length)
    }
}

fn u16_list(data: &[u8]) -> Vec<u16> {
    data.chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect()
}

/// Parses a ClientHello body (after the handshake header).
pub(crate) fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    let mut reader = Reader { data: body };
    let mut hello = ClientHello {
        legacy_version: reader.u16()?,
        ..ClientHello::default()
    };
    reader.bytes(32)?;
    reader.vector8()?;
    hello.cipher_suites = u16_list(reader.vector16()?);
    reader.vector8()?;
    if reader.data.is_empty() {
        return Some(hello);
    }
    let mut extensions = Reader {
        data: reader.vector16()?,
    };
    while !extensions.data.is_empty() {
        let kind = extensions.u16()?;
        let data = extensions.vector16()?;
        hello.extensions.push(kind);
        let mut field = Reader { data };
        match kind {
            0 => {
                let mut names = Reader {
                    data: field.vector16().unwrap_or_default(),
                };
                while let (Some(name_type), Some(name)) = (names.u8(), names.vector16()) {
                    if name_type == 0 && hello.server_name.is_none() {
                        hello.server_name = Some(printable(name));
                    }
                }
            }
            10 => hello.supported_groups = u16_list(field.vector16().unwrap_or_default()),
            11 => hello.point_formats = field.vector8().unwrap_or_default().to_vec(),
            13 => hello.signature_algorithms = u16_list(field.vector16().unwrap_or_default()),
            16 => {
                let mut names = Reader {
                    data: field.vector16().unwrap_or_default(),
                };
                while let Some(name) = names.vector8() {
                    hello.alpn.push(name.to_vec());
                }
            }
            43 => hello.supported_versions = u16_list(field.vector8().unwrap_or_default()),
            _ => {}
        }
    }
    Some(hello)
}

/// The negotiated version and ALPN of a ServerHello body.
fn parse_server_hello(body: &[u8]) -> (Option<u16>, Option<String>) {
    let mut reader = Reader { data: body };
    let Some(legacy_version) = reader.u16() else {
        return (None, None);
    };
    let mut version = legacy_version;
    let mut alpn = None;
    let parsed = (|| {
        reader.bytes(32)?;
        reader.vector8()?;
        reader.u16()?;
        reader.u8()?;
        let mut extensions = Reader {
            data: reader.vector16()?,
        };
        while !extensions.data.is_empty() {
            let kind = extensions.u16()?;
            let mut field = Reader {
                data: extensions.vector16()?,
            };
            match kind {
                43 => version = field.u16()?,
                16 => {
                    let mut names = Reader {
                        data: field.vector16()?,
                    };
                    alpn = names.vector8().map(printable);
                }
                _ => {}
            }
        }
        Some(())
    })();
    let _ = parsed;
    (Some(version), alpn)
}

/// Text from attacker bytes: printable ASCII kept, the rest escaped, at most 255 bytes read.
fn printable(bytes: &[u8]) -> String {
    let mut text = String::new();
    for &byte in bytes.iter().take(255) {
        if (0x20..0x7f).contains(&byte) && byte != b'\\' {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// The ECS `tls.version` and `tls.version_protocol` of a version number.
pub(crate) fn version_name(version: u16) -> (String, &'static str) {
    match version {
        0x0002 | 0x0200 => ("2.0".to_owned(), "ssl"),
        0x0300 => ("3.0".to_owned(), "ssl"),
        0x0301 => ("1.0".to_owned(), "tls"),
        0x0302 => ("1.1".to_owned(), "tls"),
        0x0303 => ("1.2".to_owned(), "tls"),
        0x0304 => ("1.3".to_owned(), "tls"),
        // Drafts of TLS 1.3.
        0x7f00..=0x7fff => ("1.3".to_owned(), "tls"),
        0xfeff => ("1.0".to_owned(), "dtls"),
        0xfefd => ("1.2".to_owned(), "dtls"),
        0xfefc => ("1.3".to_owned(), "dtls"),
        other => (format!("{other:04x}"), "tls"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::packet::app::tests_support::fill;

    /// A ClientHello record (TLS record header, handshake header, body) from its parts.
    pub(crate) fn client_hello_record(hello: &ClientHello) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&hello.legacy_version.to_be_bytes());
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&((hello.cipher_suites.len() * 2) as u16).to_be_bytes());
        for suite in &hello.cipher_suites {
            body.extend_from_slice(&suite.to_be_bytes());
        }
        body.extend_from_slice(&[1, 0]);
        let mut extensions = Vec::new();
        for &kind in &hello.extensions {
            let mut data = Vec::new();
            let list16 = |values: &[u16]| {
                let mut bytes = ((values.len() * 2) as u16).to_be_bytes().to_vec();
                for value in values {
                    bytes.extend_from_slice(&value.to_be_bytes());
                }
                bytes
            };
            match kind {
                0 => {
                    let name = hello.server_name.clone().unwrap_or_default();
                    data.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
                    data.push(0);
                    data.extend_from_slice(&(name.len() as u16).to_be_bytes());
                    data.extend_from_slice(name.as_bytes());
                }
                10 => data = list16(&hello.supported_groups),
                11 => {
                    data.push(hello.point_formats.len() as u8);
                    data.extend_from_slice(&hello.point_formats);
                }
                13 => data = list16(&hello.signature_algorithms),
                16 => {
                    let mut names = Vec::new();
                    for name in &hello.alpn {
                        names.push(name.len() as u8);
                        names.extend_from_slice(name);
                    }
                    data.extend_from_slice(&(names.len() as u16).to_be_bytes());
                    data.extend_from_slice(&names);
                }
                43 => {
                    data.push((hello.supported_versions.len() * 2) as u8);
                    for version in &hello.supported_versions {
                        data.extend_from_slice(&version.to_be_bytes());
                    }
                }
                _ => {}
            }
            extensions.extend_from_slice(&kind.to_be_bytes());
            extensions.extend_from_slice(&(data.len() as u16).to_be_bytes());
            extensions.extend_from_slice(&data);
        }
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(&extensions);
        let mut record = vec![22, 3, 1];
        record.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        record.push(1);
        record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        record.extend_from_slice(&body);
        record
    }

    /// A Chrome ClientHello whose JA3 and JA4 were published with it (browserleaks), with GREASE
    /// values added where Chrome puts them.
    pub(crate) fn chrome_hello() -> ClientHello {
        ClientHello {
            legacy_version: 0x0303,
            cipher_suites: vec![
                0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
                0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            extensions: vec![
                0x2a2a, 0x002d, 0x0033, 0x0010, 0xfe0d, 0x0017, 0x44cd, 0x0000, 0x000b, 0x000a, 0x002b,
                0xff01, 0x0023, 0x0012, 0x0005, 0x000d, 0x001b, 0x4a4a,
            ],
            supported_groups: vec![0x6a6a, 4588, 29, 23, 24],
            point_formats: vec![0],
            signature_algorithms: vec![0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
            supported_versions: vec![0x7a7a, 0x0304, 0x0303],
            server_name: Some("tls.browserleaks.com".to_owned()),
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        }
    }

    #[test]
    fn ja3_and_ja4_match_published_values() {
        let record = client_hello_record(&chrome_hello());
        let hello = parse_client_hello(&record[9..]).unwrap();
        assert_eq!(hello, chrome_hello());
        assert_eq!(
            hello.ja3_string(),
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
             45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0"
        );
        assert_eq!(hello.ja3(), "98487aa16281980e7d1120d399efb6a4");
        assert_eq!(hello.ja4(), "t13d1516h2_8daaf6152771_d8a2da3f94cd");
    }

    #[test]
    fn ja4_hashes_match_the_specification_examples() {
        assert_eq!(
            ja4_hash("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"),
            "8daaf6152771"
        );
        let extensions = "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01";
        assert_eq!(
            ja4_hash(&format!("{extensions}_0403,0804,0401,0503,0805,0501,0806,0601")),
            "e5627efa2ab1"
        );
        assert_eq!(ja4_hash(extensions), "6d807ffa2a79");
        assert_eq!(alpn_characters(Some(b"http/1.1")), "h1");
        assert_eq!(alpn_characters(Some(&[0xab, 0x20])), "a0");
        assert_eq!(alpn_characters(None), "00");
        assert!(is_grease(0xfafa) && !is_grease(0x0a1a));
    }

    #[test]
    fn tls_tracker_reassembles_and_reads_the_server_hello() {
        let record = client_hello_record(&chrome_hello());
        let mut client = Stream::default();
        let mut server = Stream::default();
        let mut tracker = TlsTracker::default();
        let mut out = Vec::new();
        // The ClientHello arrives in two segments.
        fill(&mut client, &record[..100]);
        assert!(!tracker.parse(&mut client, &mut server, 5, &mut out));
        fill(&mut client, &record[100..]);
        assert!(!tracker.parse(&mut client, &mut server, 6, &mut out));
        // ServerHello: TLS 1.2 legacy version, supported_versions says 1.3, ALPN h2.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[1; 32]);
        body.push(0);
        body.extend_from_slice(&[0x13, 0x01, 0]);
        let extensions = [0, 43, 0, 2, 3, 4, 0, 16, 0, 5, 0, 3, 2, b'h', b'2'];
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(&extensions);
        let mut hello = vec![22, 3, 3];
        hello.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        hello.extend_from_slice(&[2, 0]);
        hello.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hello.extend_from_slice(&body);
        fill(&mut server, &hello);
        assert!(tracker.parse(&mut client, &mut server, 7, &mut out));
        let AppRecord::Tls(tls) = &out[0] else {
            panic!("not tls");
        };
        assert_eq!(tls.timestamp_nanos, 6);
        assert_eq!(tls.negotiated_version, Some(0x0304));
        assert_eq!(tls.negotiated_alpn.as_deref(), Some("h2"));
        assert_eq!(version_name(tls.version()), ("1.3".to_owned(), "tls"));
        assert_eq!(tls.client.server_name.as_deref(), Some("tls.browserleaks.com"));
    }

    #[test]
    fn client_hello_parser_survives_truncation() {
        let record = client_hello_record(&chrome_hello());
        for cut in 0..record.len() {
            let _ = parse_client_hello(&record[9..cut.max(9)]);
            let _ = parse_server_hello(&record[9..cut.max(9)]);
        }
    }
}
