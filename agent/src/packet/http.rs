//! HTTP/1.x requests: the request line, `Host`, `User-Agent` and `Referer` of each request a
//! client sends on a connection (keep-alive and pipelining included).
//!
//! The parser reads the client's in-order stream. A request head must fit in the stream buffer;
//! a body with `Content-Length` is skipped by count; after a chunked body, a gap or anything
//! unexpected, the parser waits for a segment that starts with a method again.

use super::app::{AppRecord, HTTP_METHODS, Stream};

/// Longest value kept from a header or the request target.
const MAX_VALUE: usize = 4096;

/// One HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpRecord {
    pub timestamp_nanos: i64,
    pub method: String,
    /// The request target as sent (origin form `/path?query`, or absolute form for proxies).
    pub target: String,
    /// `1.1`, `1.0`, ...
    pub version: Option<String>,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub referrer: Option<String>,
}

/// The request parser of one connection.
#[derive(Debug, Default)]
pub(crate) struct HttpParser {
    /// Body bytes still to skip.
    skip: u64,
    /// Waiting for a segment that starts a request.
    resync: bool,
}

impl HttpParser {
    /// Parses the requests buffered in the client's stream.
    pub(crate) fn parse(&mut self, stream: &mut Stream, now: i64, out: &mut Vec<AppRecord>) {
        if stream.gap {
            stream.gap = false;
            self.skip = 0;
            self.resync = true;
        }
        if stream.overflowed {
            stream.overflowed = false;
            self.skip = 0;
            self.resync = true;
        }
        loop {
            if self.skip > 0 {
                let skipped = self.skip.min(stream.len() as u64);
                stream.consume(skipped as usize);
                self.skip -= skipped;
                if self.skip > 0 {
                    return;
                }
            }
            let data = stream.data();
            if data.is_empty() {
                return;
            }
            if !starts_with_method(data) {
                // Not a request start (a body we could not skip, or a lost segment): drop the
                // buffered bytes; the next segment may start a request.
                stream.clear();
                self.resync = true;
                return;
            }
            self.resync = false;
            let Some(head_end) = find_head_end(data) else {
                return;
            };
            let head = &data[..head_end];
            let (record, body) = parse_head(head, now);
            out.push(AppRecord::Http(record));
            stream.consume(head_end);
            match body {
                Body::Length(length) => self.skip = length,
                Body::None => {}
                Body::Unknown => {
                    stream.clear();
                    self.resync = true;
                    return;
                }
            }
        }
    }
}

fn starts_with_method(data: &[u8]) -> bool {
    HTTP_METHODS
        .iter()
        .any(|method| data.len() > method.len() && data.starts_with(method) && data[method.len()] == b' ')
}

/// The end of the head (after the blank line), if it is all there.
fn find_head_end(data: &[u8]) -> Option<usize> {
    let mut index = 0;
    while index < data.len() {
        if data[index] == b'\n' {
            let rest = &data[index + 1..];
            if rest.starts_with(b"\r\n") {
                return Some(index + 3);
            }
            if rest.starts_with(b"\n") {
                return Some(index + 2);
            }
        }
        index += 1;
    }
    None
}

enum Body {
    None,
    Length(u64),
    /// Chunked or otherwise unbounded.
    Unknown,
}

fn text(bytes: &[u8]) -> String {
    let trimmed = trim(bytes);
    let cut = &trimmed[..trimmed.len().min(MAX_VALUE)];
    String::from_utf8_lossy(cut).into_owned()
}

fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if first.is_ascii_whitespace() {
            bytes = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = bytes {
        if last.is_ascii_whitespace() {
            bytes = rest;
        } else {
            break;
        }
    }
    bytes
}

fn parse_head(head: &[u8], now: i64) -> (HttpRecord, Body) {
    let mut lines = head.split(|&byte| byte == b'\n');
    let request_line = lines.next().unwrap_or_default();
    let mut parts = trim(request_line)
        .split(|&byte| byte == b' ')
        .filter(|part| !part.is_empty());
    let method = text(parts.next().unwrap_or_default());
    let target = text(parts.next().unwrap_or_default());
    let version = parts
        .next()
        .map(trim)
        .and_then(|protocol| protocol.strip_prefix(b"HTTP/"))
        .map(text);
    let mut record = HttpRecord {
        timestamp_nanos: now,
        method,
        target,
        version,
        host: None,
        user_agent: None,
        referrer: None,
    };
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        let Some(colon) = line.iter().position(|&byte| byte == b':') else {
            continue;
        };
        let name = trim(&line[..colon]);
        let value = &line[colon + 1..];
        if name.eq_ignore_ascii_case(b"host") {
            record.host.get_or_insert_with(|| text(value));
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            record.user_agent.get_or_insert_with(|| text(value));
        } else if name.eq_ignore_ascii_case(b"referer") {
            record.referrer.get_or_insert_with(|| text(value));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            content_length = std::str::from_utf8(trim(value))
                .ok()
                .and_then(|number| number.parse::<u64>().ok());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = true;
        }
    }
    let body = if chunked {
        Body::Unknown
    } else {
        match content_length {
            Some(0) | None => Body::None,
            Some(length) => Body::Length(length),
        }
    };
    (record, body)
}

/// The parts of a request target and `Host` header that URL fields need.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct UrlParts {
    pub domain: Option<String>,
    pub port: Option<u16>,
    pub path: Option<String>,
    pub query: Option<String>,
    pub extension: Option<String>,
}

/// Splits a request's target and host into URL parts.
pub(crate) fn url_parts(target: &str, host: Option<&str>) -> UrlParts {
    let mut parts = UrlParts::default();
    let mut authority = host.map(str::to_owned);
    let mut path_and_query = target;
    if let Some(scheme_end) = target.find("://") {
        let rest = &target[scheme_end + 3..];
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        authority = Some(rest[..end].to_owned());
        path_and_query = &rest[end..];
    }
    if let Some(authority) = authority {
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let (domain, port) = split_host_port(authority);
        if !domain.is_empty() {
            parts.domain = Some(domain.to_owned());
        }
        parts.port = port;
    }
    if path_and_query.starts_with('/') {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        parts.path = Some(path.to_owned());
        parts.query = query.map(str::to_owned);
        let last = path.rsplit('/').next().unwrap_or_default();
        if let Some((stem, extension)) = last.rsplit_once('.')
            && !stem.is_empty()
            && !extension.is_empty()
        {
            parts.extension = Some(extension.to_owned());
        }
    }
    parts
}

fn split_host_port(authority: &str) -> (&str, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        // An IPv6 literal: [addr]:port.
        return match rest.split_once(']') {
            Some((address, tail)) => (address, tail.strip_prefix(':').and_then(|port| port.parse().ok())),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (authority, None),
        },
        _ => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::app::tests_support::fill;

    fn requests(out: &[AppRecord]) -> Vec<&HttpRecord> {
        out.iter()
            .filter_map(|record| match record {
                AppRecord::Http(http) => Some(http),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn http_reads_keep_alive_requests_and_skips_bodies() {
        let mut parser = HttpParser::default();
        let mut stream = Stream::default();
        let mut out = Vec::new();
        fill(
            &mut stream,
            b"POST /login?next=%2F HTTP/1.1\r\nHost: portal.example:8080\r\nUser-Agent: curl/8.5\r\nContent-Length: 9\r\n\r\nuser=abcd",
        );
        fill(
            &mut stream,
            b"GET /favicon.ico HTTP/1.1\r\nhost: portal.example\r\n",
        );
        parser.parse(&mut stream, 1, &mut out);
        assert_eq!(requests(&out).len(), 1);
        fill(&mut stream, b"Referer: http://portal.example/\r\n\r\n");
        parser.parse(&mut stream, 2, &mut out);
        let records = requests(&out);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].method, "POST");
        assert_eq!(records[0].target, "/login?next=%2F");
        assert_eq!(records[0].version.as_deref(), Some("1.1"));
        assert_eq!(records[0].user_agent.as_deref(), Some("curl/8.5"));
        assert_eq!(records[1].host.as_deref(), Some("portal.example"));
        assert_eq!(records[1].referrer.as_deref(), Some("http://portal.example/"));
        let parts = url_parts(&records[0].target, records[0].host.as_deref());
        assert_eq!(parts.domain.as_deref(), Some("portal.example"));
        assert_eq!(parts.port, Some(8080));
        assert_eq!(parts.path.as_deref(), Some("/login"));
        assert_eq!(parts.query.as_deref(), Some("next=%2F"));
        let parts = url_parts(&records[1].target, None);
        assert_eq!(parts.extension.as_deref(), Some("ico"));
    }

    #[test]
    fn http_resynchronises_after_garbage() {
        let mut parser = HttpParser::default();
        let mut stream = Stream::default();
        let mut out = Vec::new();
        fill(&mut stream, b"\x00\x01garbage");
        parser.parse(&mut stream, 1, &mut out);
        assert!(out.is_empty());
        assert!(stream.is_empty());
        fill(&mut stream, b"GET http://proxy.test/a.php HTTP/1.0\r\n\r\n");
        parser.parse(&mut stream, 2, &mut out);
        let records = requests(&out);
        assert_eq!(records.len(), 1);
        let parts = url_parts(&records[0].target, None);
        assert_eq!(parts.domain.as_deref(), Some("proxy.test"));
        assert_eq!(parts.path.as_deref(), Some("/a.php"));
        assert_eq!(
            url_parts("/", Some("[2001:db8::1]:443")).domain.as_deref(),
            Some("2001:db8::1")
        );
    }
}
