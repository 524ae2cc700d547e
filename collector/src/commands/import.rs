//! `haidang import`: sends files to a running collector, for backfill and incident response.
//!
//! EVTX files are decoded here (with the `evtx` crate) and sent as JSON documents to `/ingest`;
//! JSON-lines files go to `/ingest` as they are; any other file is plain log lines and goes to
//! `/ingest/lines` with the format and host given. The collector parses, normalises and detects
//! them like live input. Each request is answered once its records are queued, so the import
//! runs at the speed the collector takes them (the same backpressure as any sender).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::input::{Record, read_records};

/// Largest request body sent.
const REQUEST_BYTES: usize = 4 << 20;

/// What to import and where.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The collector's HTTP ingest, `host:port`.
    pub collector: String,
    /// Files.
    pub files: Vec<String>,
    /// Forced parse format for plain files (`None`: detected per line).
    pub format: Option<String>,
    /// Host for lines that name none (default: the file's name is not a host, so none).
    pub host: Option<String>,
}

/// What one file gave.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileSummary {
    /// The file.
    pub file: String,
    /// `evtx`, `json` or `lines`.
    pub kind: &'static str,
    /// Records the collector accepted.
    pub accepted: u64,
    /// Records it could not take (malformed JSON), or that could not be read here.
    pub errors: u64,
    /// The first few errors.
    pub error_samples: Vec<String>,
}

/// Imports every file; returns a summary per file.
pub fn import(options: &ImportOptions) -> anyhow::Result<Vec<FileSummary>> {
    let mut client = Client::connect(&options.collector)?;
    let mut summaries = Vec::new();
    for file in &options.files {
        let kind = kind_of(file).with_context(|| format!("cannot read {file}"))?;
        let mut summary = FileSummary {
            file: file.clone(),
            kind,
            ..FileSummary::default()
        };
        let path = match kind {
            "lines" => {
                let mut query = Vec::new();
                if let Some(format) = &options.format {
                    query.push(format!("format={}", encode(format)));
                }
                if let Some(host) = &options.host {
                    query.push(format!("host={}", encode(host)));
                }
                if query.is_empty() {
                    "/ingest/lines".to_owned()
                } else {
                    format!("/ingest/lines?{}", query.join("&"))
                }
            }
            _ => "/ingest".to_owned(),
        };
        let mut body = Vec::with_capacity(REQUEST_BYTES);
        let mut send = |body: &mut Vec<u8>, summary: &mut FileSummary| -> anyhow::Result<()> {
            if body.is_empty() {
                return Ok(());
            }
            let answer = client.post(&path, body)?;
            summary.accepted += answer["accepted"].as_u64().unwrap_or(0);
            for error in answer["errors"].as_array().into_iter().flatten() {
                summary.errors += 1;
                if summary.error_samples.len() < 10 {
                    summary
                        .error_samples
                        .push(format!("{file}: {}", error.as_str().unwrap_or_default()));
                }
            }
            body.clear();
            Ok(())
        };
        if kind == "lines" {
            let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
            for line in reader.split(b'\n') {
                let line = line.with_context(|| format!("reading {file}"))?;
                body.extend_from_slice(&line);
                body.push(b'\n');
                if body.len() >= REQUEST_BYTES {
                    send(&mut body, &mut summary)?;
                }
            }
        } else {
            let mut failure = None;
            let stats = read_records(file, &mut |record| {
                if failure.is_some() {
                    return;
                }
                match record {
                    Record::Text { text, .. } => body.extend_from_slice(text.as_bytes()),
                    Record::Json(document) => body.extend_from_slice(document.to_string().as_bytes()),
                }
                body.push(b'\n');
                if body.len() >= REQUEST_BYTES
                    && let Err(error) = send(&mut body, &mut summary)
                {
                    failure = Some(error);
                }
            });
            if let Some(error) = failure {
                return Err(error);
            }
            summary.errors += stats.errors;
            summary
                .error_samples
                .extend(stats.error_samples.into_iter().take(10));
        }
        send(&mut body, &mut summary)?;
        summaries.push(summary);
    }
    Ok(summaries)
}

/// `evtx` by signature, `json` when the first non-blank byte opens an object, else `lines`.
fn kind_of(file: &str) -> std::io::Result<&'static str> {
    let mut head = vec![0u8; 4096];
    let mut handle = std::fs::File::open(file)?;
    let read = handle.read(&mut head)?;
    head.truncate(read);
    Ok(if head.starts_with(b"ElfFile\0") {
        "evtx"
    } else if head.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{') {
        "json"
    } else {
        "lines"
    })
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~:+".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// A minimal HTTP/1.1 client for the collector's own ingest (one keep-alive connection).
struct Client {
    address: String,
    stream: BufReader<TcpStream>,
}

impl Client {
    fn connect(address: &str) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(address).with_context(|| {
            format!("cannot reach the collector's HTTP ingest at {address} (is `haidang serve` running?)")
        })?;
        stream.set_read_timeout(Some(Duration::from_secs(300)))?;
        Ok(Client {
            address: address.to_owned(),
            stream: BufReader::new(stream),
        })
    }

    fn post(&mut self, path: &str, body: &[u8]) -> anyhow::Result<serde_json::Value> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
            self.address,
            body.len()
        );
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        let mut status = String::new();
        self.stream.read_line(&mut status)?;
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if self.stream.read_line(&mut header)? == 0 {
                bail!("the collector closed the connection");
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut answer = vec![0u8; length];
        self.stream.read_exact(&mut answer)?;
        if !(200..300).contains(&code) {
            bail!(
                "the collector answered {code} to {path}: {}",
                String::from_utf8_lossy(&answer)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        Ok(serde_json::from_slice(&answer).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn files_are_told_apart_by_content() {
        let directory = tempfile::tempdir().unwrap();
        let write = |name: &str, content: &[u8]| {
            let path = directory.path().join(name);
            std::fs::write(&path, content).unwrap();
            path.display().to_string()
        };
        assert_eq!(kind_of(&write("a.evtx", b"ElfFile\0rest")).unwrap(), "evtx");
        assert_eq!(
            kind_of(&write("b.log", b"\n  {\"EventID\": 1}\n")).unwrap(),
            "json"
        );
        assert_eq!(
            kind_of(&write("c.log", b"Nov 20 08:15:00 web01 sshd[1]: hello\n")).unwrap(),
            "lines"
        );
        assert_eq!(encode("web 01/ä"), "web%2001%2F%C3%A4");
    }
}
