//! SSH identification strings (RFC 4253 §4.2): `SSH-protoversion-softwareversion [comments]`,
//! sent by each side before the key exchange. A server may send other lines first; they are
//! skipped.

use super::app::{AppRecord, Stream};

/// Longest identification line read (the RFC allows 255 bytes with CR LF).
const MAX_LINE: usize = 255;
/// Most bytes read from a side while looking for its identification line.
const MAX_PREAMBLE: usize = 4096;

/// The identification strings of one connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SshRecord {
    /// When the first identification string was seen.
    pub timestamp_nanos: i64,
    /// The client's identification string, without CR LF.
    pub client: Option<String>,
    pub server: Option<String>,
}

impl SshRecord {
    /// The protocol version both sides announce (`2.0`, `1.99`), from the client's line, else
    /// the server's.
    pub(crate) fn protocol_version(&self) -> Option<String> {
        let line = self.client.as_ref().or(self.server.as_ref())?;
        let rest = line.strip_prefix("SSH-")?;
        rest.split_once('-').map(|(version, _)| version.to_owned())
    }
}

/// Reads both sides' identification lines.
#[derive(Debug, Default)]
pub(crate) struct SshTracker {
    record: SshRecord,
    started: bool,
    client_done: bool,
    server_done: bool,
    emitted: bool,
    server_skipped: usize,
}

enum Line {
    Found(String),
    NeedMore,
    Failed,
}

impl SshTracker {
    /// Parses what is buffered; returns true when both lines are read (or cannot be).
    pub(crate) fn parse(
        &mut self,
        originator: &mut Stream,
        responder: &mut Stream,
        now: i64,
        out: &mut Vec<AppRecord>,
    ) -> bool {
        if !self.client_done {
            match identification(originator, &mut 0) {
                Line::Found(line) => {
                    self.client_done = true;
                    self.record.client = Some(line);
                }
                Line::NeedMore => {}
                Line::Failed => self.client_done = true,
            }
        }
        if !self.server_done {
            match identification(responder, &mut self.server_skipped) {
                Line::Found(line) => {
                    self.server_done = true;
                    self.record.server = Some(line);
                }
                Line::NeedMore => {}
                Line::Failed => self.server_done = true,
            }
        }
        if !self.started && (self.record.client.is_some() || self.record.server.is_some()) {
            self.started = true;
            self.record.timestamp_nanos = now;
        }
        if self.client_done && self.server_done {
            self.emit(out);
            return true;
        }
        false
    }

    fn emit(&mut self, out: &mut Vec<AppRecord>) {
        if self.emitted || (self.record.client.is_none() && self.record.server.is_none()) {
            return;
        }
        self.emitted = true;
        out.push(AppRecord::Ssh(std::mem::take(&mut self.record)));
    }

    /// The connection ended: one side's line alone is still a record.
    pub(crate) fn finish(&mut self, out: &mut Vec<AppRecord>) {
        self.emit(out);
    }
}

/// Finds the `SSH-` line at the start of the stream, skipping (and counting into `skipped`)
/// other lines before it.
fn identification(stream: &mut Stream, skipped: &mut usize) -> Line {
    loop {
        let data = stream.data();
        if data.is_empty() {
            return Line::NeedMore;
        }
        let Some(end) = data.iter().take(MAX_LINE).position(|&byte| byte == b'\n') else {
            return if data.len() >= MAX_LINE {
                Line::Failed
            } else {
                Line::NeedMore
            };
        };
        let line = &data[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"SSH-") {
            let text = line
                .iter()
                .map(|&byte| {
                    if (0x20..0x7f).contains(&byte) {
                        char::from(byte)
                    } else {
                        '?'
                    }
                })
                .collect();
            stream.consume(end + 1);
            return Line::Found(text);
        }
        *skipped += end + 1;
        stream.consume(end + 1);
        if *skipped > MAX_PREAMBLE {
            return Line::Failed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::app::tests_support::fill;

    #[test]
    fn ssh_reads_both_identification_strings() {
        let mut client = Stream::default();
        let mut server = Stream::default();
        let mut tracker = SshTracker::default();
        let mut out = Vec::new();
        fill(
            &mut server,
            b"Welcome\r\nSSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n\x00\x00",
        );
        assert!(!tracker.parse(&mut client, &mut server, 1, &mut out));
        fill(&mut client, b"SSH-2.0-PuTTY_Release_0.80\r\n");
        assert!(tracker.parse(&mut client, &mut server, 2, &mut out));
        let AppRecord::Ssh(record) = &out[0] else {
            panic!("not ssh");
        };
        assert_eq!(record.timestamp_nanos, 1);
        assert_eq!(record.client.as_deref(), Some("SSH-2.0-PuTTY_Release_0.80"));
        assert_eq!(
            record.server.as_deref(),
            Some("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13")
        );
        assert_eq!(record.protocol_version().as_deref(), Some("2.0"));
    }

    #[test]
    fn ssh_gives_up_on_endless_lines() {
        let mut client = Stream::default();
        let mut server = Stream::default();
        let mut tracker = SshTracker::default();
        let mut out = Vec::new();
        fill(&mut client, &[b'A'; 300]);
        fill(&mut server, b"SSH-1.99-Cisco-1.25\n");
        assert!(tracker.parse(&mut client, &mut server, 1, &mut out));
        let AppRecord::Ssh(record) = &out[0] else {
            panic!("not ssh");
        };
        assert_eq!(record.client, None);
        assert_eq!(record.protocol_version().as_deref(), Some("1.99"));
    }
}
