//! Web server logs: Apache/Nginx access logs (common, combined, vhost combined, with or without
//! extra trailing fields) and the error logs of Apache (2.2 and 2.4 layouts) and Nginx.
//!
//! An access line is mostly written by the client: the request line, the referrer and the user
//! agent are whatever an attacker sent (Apache escapes `"` and `\` with a backslash and other bytes
//! as `\xhh`, Nginx writes `\xhh`). So the grammar only trusts the structure the server adds
//! (`[time]`, the quotes, status and size), keeps the request target exactly as logged (the rules
//! look for encoded payloads such as `%27%20OR%201%3D1`, so nothing is decoded), and never panics:
//! the parsers work on borrowed slices and give up on a line they do not understand.

use std::borrow::Cow;
use std::net::IpAddr;

use haidang_event::Fields;
use nom::bytes::complete::{take_till, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{opt, rest};
use nom::error::{Error, ErrorKind};
use nom::{IResult, Parser};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use super::rfc5424::digits;
use super::{ParseContext, Recognized, logsource, unix_nanos};

/// Whether the message looks like an access log line or a web server error log line. (The
/// normaliser calls [`split`] instead, keeping the split for [`recognize`].)
#[cfg(test)]
pub(crate) fn looks_like(message: &str) -> bool {
    classify(message).is_some()
}

/// Parses the message into `fields`; `None` if it is not a web server log line.
pub(crate) fn parse(message: &str, context: &ParseContext, fields: &mut Fields) -> Option<Recognized> {
    Some(recognize(split(message)?, context, fields))
}

/// A web server log line split into its parts; `None` if it is not one.
pub(super) fn split(message: &str) -> Option<Split<'_>> {
    classify(message).map(Split)
}

/// A line [`split`] recognised (its layout stays private to this module).
pub(super) struct Split<'a>(Line<'a>);

/// Fills the fields of a line [`split`] recognised.
pub(super) fn recognize(split: Split<'_>, context: &ParseContext, fields: &mut Fields) -> Recognized {
    match split.0 {
        Line::Access(line) => access_fields(&line, context, fields),
        Line::ApacheError(line) => apache_error_fields(&line, context, fields),
        Line::NginxError(line) => nginx_error_fields(&line, context, fields),
    }
}

/// The three layouts, each split into borrowed parts.
enum Line<'a> {
    Access(AccessLine<'a>),
    ApacheError(ApacheError<'a>),
    NginxError(NginxError<'a>),
}

/// Tells which layout a line has. The three are told apart by their first character: an Apache
/// error line starts with `[`, an Nginx error line with a `YYYY/MM/DD` date, an access line with a
/// host or address; each grammar then checks its own timestamp, so syslog lines and JSON are not
/// claimed.
fn classify(message: &str) -> Option<Line<'_>> {
    let message = message.trim();
    if message.starts_with('[') {
        return apache_error(message)
            .ok()
            .map(|(_, line)| Line::ApacheError(line));
    }
    if let Ok((_, line)) = nginx_error(message) {
        return Some(Line::NginxError(line));
    }
    access_line(message).map(Line::Access)
}

// ---------------------------------------------------------------------------------------------
// Access logs
// ---------------------------------------------------------------------------------------------

/// An access log line, split into its parts, still borrowed (and still escaped) from the line.
#[derive(Debug, PartialEq)]
struct AccessLine<'a> {
    /// `%v:%p` of the vhost combined format.
    vhost: Option<&'a str>,
    /// `%h`: the client address (or its name with `HostnameLookups On`).
    client: &'a str,
    /// `%u`: the authenticated user, `-` when none.
    user: &'a str,
    /// `%t` without its brackets.
    time: &'a str,
    /// `%r` without its quotes.
    request: &'a str,
    /// `%>s`.
    status: &'a str,
    /// `%b`, `-` for no body.
    bytes: &'a str,
    /// `%{Referer}i` of the combined format.
    referrer: Option<&'a str>,
    /// `%{User-agent}i` of the combined format.
    user_agent: Option<&'a str>,
}

/// `[vhost] client ident user [time] "request" status bytes ["referrer" "user agent"] [more...]`.
/// Whatever follows the user agent (Nginx `$request_time`, upstream times, forwarded-for...) is
/// ignored: its meaning depends on the server's configuration.
///
/// Read byte by byte (every access line goes through here, usually twice: detection keeps the
/// split): the delimiters are ASCII, so each position found is a character boundary. Words end
/// at ASCII whitespace; the gaps between fields are spaces and tabs.
fn access_line(line: &str) -> Option<AccessLine<'_>> {
    let bytes = line.as_bytes();
    let word = |at: usize| -> Option<(&str, usize)> {
        let rest = bytes.get(at..)?;
        let length = rest
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(rest.len());
        if length == 0 {
            return None;
        }
        Some((line.get(at..at + length)?, at + length))
    };
    let gap = |at: usize| -> Option<usize> {
        let length = bytes
            .get(at..)?
            .iter()
            .take_while(|&&byte| byte == b' ' || byte == b'\t')
            .count();
        (length > 0).then_some(at + length)
    };
    let (first, at) = word(0)?;
    let (second, at) = word(gap(at)?)?;
    let (third, at) = word(gap(at)?)?;
    let at = gap(at)?;
    // Three words before the time: `client ident user`; four: a virtual host first, unless the
    // first word is an address and the second is not (then the fourth is an extra field, as in
    // `10.1.2.3 - - - [...]`).
    let fourth = word(at)
        .filter(|(word, _)| !word.starts_with('['))
        .and_then(|(word, end)| Some((word, gap(end)?)));
    let is_address = |word: &str| word.parse::<IpAddr>().is_ok();
    let (vhost, client, user, at) = match fourth {
        Some((_, next)) if is_address(first) && !is_address(second) => (None, first, third, next),
        Some((fourth, next)) => (Some(first), second, fourth, next),
        None => (None, first, third, at),
    };
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let close = at + 1 + bytes.get(at + 1..)?.iter().position(|&byte| byte == b']')?;
    let time = line.get(at + 1..close)?;
    access_time(time, UtcOffset::UTC)?;
    let (request, at) = quoted(line, gap(close + 1)?)?;
    // `%>s` (three digits, or `-` when the server logged none), then `%b` (`-` for no body).
    let (status, at) = digits_or_dash(line, gap(at)?)?;
    let (bytes_sent, at) = digits_or_dash(line, gap(at)?)?;
    // The combined format adds two quoted fields; the common format ends here.
    let spaced_quoted = |at: usize| gap(at).and_then(|start| quoted(line, start));
    let (referrer, at) = match spaced_quoted(at) {
        Some((text, end)) => (Some(text), end),
        None => (None, at),
    };
    let (user_agent, at) = match referrer.and_then(|_| spaced_quoted(at)) {
        Some((text, end)) => (Some(text), end),
        None => (None, at),
    };
    // A space or the end of the line must follow, so `200 2326abc` is not taken for a size.
    let rest = line.get(at..)?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    Some(AccessLine {
        vhost,
        client,
        user,
        time,
        request,
        status,
        bytes: bytes_sent,
        referrer,
        user_agent,
    })
}

/// `[...]`: the text between the brackets.
fn bracketed(input: &str) -> IResult<&str, &str> {
    let (input, _) = char('[')(input)?;
    let (input, text) = take_till(|c| c == ']')(input)?;
    let (input, _) = char(']')(input)?;
    Ok((input, text))
}

/// A double-quoted field at `at` as Apache and Nginx write it, where `\"` and `\\` are escapes: the
/// text between the quotes, escapes kept, and the position after the closing quote. An
/// unescaped quote always ends the field.
fn quoted(line: &str, at: usize) -> Option<(&str, usize)> {
    let bytes = line.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut index = at + 1;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'\\' => index += 2,
            b'"' => return Some((line.get(at + 1..index)?, index + 1)),
            _ => index += 1,
        }
    }
    None
}

/// ASCII digits (at least one) or a single `-` at `at`, and the position after them.
fn digits_or_dash(line: &str, at: usize) -> Option<(&str, usize)> {
    let rest = line.as_bytes().get(at..)?;
    let length = match rest.iter().take_while(|byte| byte.is_ascii_digit()).count() {
        0 if rest.first() == Some(&b'-') => 1,
        0 => return None,
        digits => digits,
    };
    Some((line.get(at..at + length)?, at + length))
}

/// Undoes the backslash escapes of `"` and `\` that Apache adds inside quoted fields, so the
/// value is what the client sent; `\xhh` escapes of other bytes stay as logged.
fn unescape(text: &str) -> Cow<'_, str> {
    // One byte scan settles the usual case, a field without any backslash.
    if !text.as_bytes().contains(&b'\\') || (!text.contains("\\\"") && !text.contains("\\\\")) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.clone().next() {
                Some(next @ ('"' | '\\')) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The parts of a request line `METHOD target HTTP/x.y`.
#[derive(Debug, PartialEq)]
struct Request<'a> {
    method: &'a str,
    target: &'a str,
    version: Option<&'a str>,
}

/// Splits a request line. The target runs from the method to the protocol, spaces included (a
/// malformed request may carry them); HTTP/0.9-style requests have no protocol. `None` for `-`
/// and for lines that do not start with a method token (TLS handshakes and other bytes sent to a
/// plain HTTP port, logged as `\x16\x03\x01...`).
fn request_line(text: &str) -> Option<Request<'_>> {
    let parsed: IResult<&str, (&str, &str)> = (take_while1(is_method_char), space1)
        .map(|(method, _)| method)
        .and(rest)
        .parse(text);
    let (_, (method, remainder)) = parsed.ok()?;
    let remainder = remainder.trim_end();
    let (target, version) = match remainder.rsplit_once(' ') {
        Some((target, protocol)) if protocol.starts_with("HTTP/") => {
            (target.trim_end(), protocol.get("HTTP/".len()..))
        }
        _ => (remainder, None),
    };
    if target.is_empty() {
        return None;
    }
    Some(Request {
        method,
        target,
        version,
    })
}

/// The characters of an HTTP method (an RFC 9110 token).
fn is_method_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Fills the fields of an access line.
fn access_fields(line: &AccessLine<'_>, context: &ParseContext, fields: &mut Fields) -> Recognized {
    push_client(fields, line.client);
    if line.user != "-" {
        fields.push("user.name", line.user);
    }
    if let Some(request) = request_line(line.request) {
        fields.push("http.request.method", request.method);
        let target = unescape(request.target);
        push_url(fields, &target);
        if let Some(version) = request.version.filter(|version| !version.is_empty()) {
            fields.push("http.version", version);
        }
    }
    if let Ok(status) = line.status.parse::<i64>() {
        fields.push("http.response.status_code", status);
        if status > 0 {
            fields.push("event.outcome", if status < 400 { "success" } else { "failure" });
        }
    }
    if let Ok(bytes) = line.bytes.parse::<i64>() {
        fields.push("http.response.body.bytes", bytes);
    }
    if let Some(referrer) = line.referrer.filter(|text| *text != "-") {
        fields.push("http.request.referrer", unescape(referrer).into_owned());
    }
    if let Some(agent) = line.user_agent.filter(|text| *text != "-") {
        fields.push("user_agent.original", unescape(agent).into_owned());
    }
    if let Some(vhost) = line.vhost {
        let (domain, port) = split_port(vhost);
        fields.push("url.domain", domain);
        if let Some(port) = port {
            fields.push("url.port", port);
        }
    }
    push_original_time(fields, line.time);
    Recognized {
        logsource: logsource(None, Some("webserver"), None),
        source_type: "web-access",
        timestamp_nanos: access_time(line.time, context.default_offset),
        host: None,
    }
}

/// `url.original` as sent, and its path, query and fragment. An absolute-form target
/// (`http://host/path`, sent to proxies) has its path after the authority.
fn push_url(fields: &mut Fields, target: &str) {
    fields.push("url.original", target);
    let after_scheme = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .map(
            |authority_and_path| match authority_and_path.find(['/', '?', '#']) {
                Some(start) => authority_and_path.get(start..).unwrap_or(""),
                None => "",
            },
        );
    let relative = after_scheme.unwrap_or(target);
    let (before_fragment, fragment) = match relative.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (relative, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    if !path.is_empty() {
        fields.push("url.path", path);
    }
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        fields.push("url.query", query);
    }
    if let Some(fragment) = fragment.filter(|fragment| !fragment.is_empty()) {
        fields.push("url.fragment", fragment);
    }
}

/// The client as `source.ip` when it is an address, else as `source.domain` (`HostnameLookups`).
fn push_client(fields: &mut Fields, client: &str) {
    if client.parse::<IpAddr>().is_ok() {
        fields.push("source.ip", client);
    } else if client != "-" && !client.is_empty() {
        fields.push("source.domain", client);
    }
}

/// `host:port` split at the last colon when what follows is a port number.
fn split_port(text: &str) -> (&str, Option<i64>) {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.ends_with(':') => match port.parse::<u16>() {
            Ok(port) => (host, Some(i64::from(port))),
            Err(_) => (text, None),
        },
        _ => (text, None),
    }
}

/// Keeps the event's own time as written, unless an envelope already gave one.
fn push_original_time(fields: &mut Fields, text: &str) {
    if !fields.contains("event.original_timestamp") {
        fields.push("event.original_timestamp", text);
    }
}

/// `10/Oct/2000:13:55:36 -0700` (optionally with a fraction after the seconds) to UTC
/// nanoseconds; the offset given when the time carries none.
fn access_time(text: &str, default_offset: UtcOffset) -> Option<i64> {
    if let Some(nanos) = canonical_access_time(text) {
        return nanos;
    }
    let (clock, offset) = match text.split_once(' ') {
        Some((clock, offset)) => (clock, parse_offset(offset.trim())?),
        None => (text, default_offset),
    };
    let mut parts = clock.splitn(3, '/');
    let day = parts.next()?;
    let month = month(parts.next()?)?;
    let (year, time_of_day) = parts.next()?.split_once(':')?;
    let date = Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    to_nanos(date, time_of_day, offset)
}

/// [`access_time`] of a time written the way servers write it, `10/Oct/2000:13:55:36 -0700` with
/// every field at its full width, read without splitting and parsing each part; `None` for any
/// other shape (which the general reading handles). On this shape both readings agree: each
/// field is a run of digits of fixed width, which `str::parse` reads the same way.
fn canonical_access_time(text: &str) -> Option<Option<i64>> {
    let bytes = text.as_bytes();
    if bytes.len() != 26
        || bytes[2] != b'/'
        || bytes[6] != b'/'
        || bytes[11] != b':'
        || bytes[14] != b':'
        || bytes[17] != b':'
        || bytes[20] != b' '
    {
        return None;
    }
    let sign: i8 = match bytes[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let number = |at: usize, width: usize| digits(bytes, at, width);
    let (day, month, year) = (number(0, 2)?, month(text.get(3..6)?)?, number(7, 4)?);
    let clock = (
        number(12, 2)? as u8,
        number(15, 2)? as u8,
        number(18, 2)? as u8,
        0,
    );
    let (hours, minutes) = (number(22, 2)? as i8, number(24, 2)? as i8);
    let Ok(offset) = UtcOffset::from_hms(sign * hours, sign * minutes, 0) else {
        return Some(None);
    };
    let Ok(date) = Date::from_calendar_date(year as i32, month, day as u8) else {
        return Some(None);
    };
    Some(unix_nanos(date, clock, offset))
}

/// `+0700` / `-0700` / `+07:00` / `Z`.
fn parse_offset(text: &str) -> Option<UtcOffset> {
    if text == "Z" {
        return Some(UtcOffset::UTC);
    }
    let (sign, digits) = match text.split_at_checked(1)? {
        ("+", digits) => (1, digits),
        ("-", digits) => (-1, digits),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i8 = digits.get(..2)?.parse().ok()?;
    let minutes: i8 = digits.get(2..)?.parse().ok()?;
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

/// `13:55:36` or `13:55:36.123456` on `date` at `offset`, in UTC nanoseconds.
fn to_nanos(date: Date, time_of_day: &str, offset: UtcOffset) -> Option<i64> {
    let (clock, fraction) = match time_of_day.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (time_of_day, None),
    };
    let mut parts = clock.split(':');
    let hour = parts.next()?.parse().ok()?;
    let minute = parts.next()?.parse().ok()?;
    let second = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let nanos = match fraction {
        Some(fraction) if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) => {
            let digits: String = fraction.chars().chain(std::iter::repeat('0')).take(9).collect();
            digits.parse().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let stamp = PrimitiveDateTime::new(date, time).assume_offset(offset);
    i64::try_from(stamp.unix_timestamp_nanos()).ok()
}

/// An English month abbreviation.
fn month(name: &str) -> Option<Month> {
    Some(match name {
        "Jan" => Month::January,
        "Feb" => Month::February,
        "Mar" => Month::March,
        "Apr" => Month::April,
        "May" => Month::May,
        "Jun" => Month::June,
        "Jul" => Month::July,
        "Aug" => Month::August,
        "Sep" => Month::September,
        "Oct" => Month::October,
        "Nov" => Month::November,
        "Dec" => Month::December,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Apache error log
// ---------------------------------------------------------------------------------------------

/// An Apache error log line:
/// 2.2 `[Sun Dec 04 04:51:18 2005] [error] [client 1.2.3.4] text`,
/// 2.4 `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416]
/// [client 1.2.3.4:56234] AH00128: text`.
#[derive(Debug, Default, PartialEq)]
struct ApacheError<'a> {
    /// `None` for lines sent to syslog, which carry no time of their own.
    time: Option<&'a str>,
    module: Option<&'a str>,
    level: &'a str,
    pid: Option<&'a str>,
    tid: Option<&'a str>,
    client: Option<&'a str>,
    message: &'a str,
}

/// The severities of both servers (`trace1`..`trace8` are Apache 2.4's).
fn is_level(text: &str) -> bool {
    matches!(
        text,
        "emerg" | "alert" | "crit" | "error" | "warn" | "notice" | "info" | "debug"
    ) || text
        .strip_prefix("trace")
        .is_some_and(|n| n.len() == 1 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The grammar: the time and the level are required; `[pid ...]` and `[client ...]` follow in
/// that order when present; the message is the rest. Bracket groups after the message starts
/// (ModSecurity's `[file "..."]`) belong to the message.
fn apache_error(input: &str) -> IResult<&str, ApacheError<'_>> {
    let (after_first, first) = bracketed(input)?;
    // With `ErrorLog syslog` the line arrives without its time (the syslog header has it).
    let (input, time, severity) = if apache_time(first, UtcOffset::UTC).is_some() {
        let (input, (_, severity)) = (space0, bracketed).parse(after_first)?;
        (input, Some(first), severity)
    } else {
        (after_first, None, first)
    };
    let (module, level) = match severity.split_once(':') {
        Some((module, level)) => (Some(module).filter(|module| !module.is_empty()), level),
        None => (None, severity),
    };
    let invalid = || nom::Err::Error(Error::new(input, ErrorKind::Verify));
    if !is_level(level) {
        return Err(invalid());
    }
    // Without the time, `[error] text` could be any program's; take it only in the shapes only
    // Apache writes: `[module:level]` (2.4) or the level followed by `[pid ...]` / `[client ...]`.
    if time.is_none() && !severity.contains(':') {
        let next = (space0, bracketed)
            .parse(input)
            .map(|(_, (_, next))| next)
            .unwrap_or("");
        if !(next.starts_with("pid ") || next.starts_with("client ")) {
            return Err(invalid());
        }
    }
    let mut line = ApacheError {
        time,
        module,
        level,
        ..ApacheError::default()
    };
    let mut input = input;
    if let Ok((after, (_, process))) = (space0, bracketed).parse(input)
        && let Some(process) = process.strip_prefix("pid ")
    {
        let (pid, tid) = match process.split_once(":tid ") {
            Some((pid, tid)) => (pid, Some(tid)),
            None => (process, None),
        };
        line.pid = Some(pid.trim());
        line.tid = tid.map(str::trim);
        input = after;
    }
    if let Ok((after, (_, client))) = (space0, bracketed).parse(input)
        && let Some(client) = client
            .strip_prefix("client ")
            .or_else(|| client.strip_prefix("remote "))
    {
        line.client = Some(client.trim());
        input = after;
    }
    line.message = input.trim();
    Ok(("", line))
}

/// `Sun Dec 04 04:47:44 2005` or `Wed Oct 11 14:32:52.123456 2000`, in the given zone (the error
/// log writes local time without an offset).
fn apache_time(text: &str, offset: UtcOffset) -> Option<i64> {
    let mut words = text.split_whitespace();
    let _weekday = words.next()?;
    let month = month(words.next()?)?;
    let day = words.next()?.parse().ok()?;
    let time_of_day = words.next()?;
    let year = words.next()?.parse().ok()?;
    if words.next().is_some() {
        return None;
    }
    to_nanos(
        Date::from_calendar_date(year, month, day).ok()?,
        time_of_day,
        offset,
    )
}

/// Fills the fields of an Apache error line.
fn apache_error_fields(line: &ApacheError<'_>, context: &ParseContext, fields: &mut Fields) -> Recognized {
    fields.push("log.level", line.level);
    if let Some(module) = line.module {
        fields.push("apache.module", module);
    }
    if let Some(pid) = line.pid {
        push_number(fields, "process.pid", pid);
    }
    if let Some(tid) = line.tid {
        push_number(fields, "process.thread.id", tid);
    }
    if let Some(client) = line.client {
        push_client_port(fields, client);
    }
    let mut message = line.message;
    // `AH00128: ...`: Apache 2.4 numbers its messages.
    if let Some((code, _)) = message.split_once(':')
        && code.len() == 7
        && code.starts_with("AH")
        && code.bytes().skip(2).all(|b| b.is_ascii_digit())
    {
        fields.push("error.code", code);
    }
    // Apache appends the referrer of the request it was serving.
    if let Some((text, referrer)) = message.rsplit_once(", referer: ") {
        fields.push("http.request.referrer", referrer.trim());
        message = text;
    }
    if !message.is_empty() {
        fields.push("error.message", message);
    }
    if let Some(time) = line.time {
        push_original_time(fields, time);
    }
    Recognized {
        logsource: logsource(None, None, Some("apache")),
        source_type: "apache-error",
        timestamp_nanos: line
            .time
            .and_then(|time| apache_time(time, context.default_offset)),
        host: None,
    }
}

/// `1.2.3.4`, `1.2.3.4:56234`, `::1`, `::1:56234` or `[::1]:56234`: `source.ip` and `source.port`.
fn push_client_port(fields: &mut Fields, client: &str) {
    let bare = client.trim_start_matches('[');
    if let Some((address, port)) = bare.split_once("]:") {
        push_client(fields, address);
        push_number(fields, "source.port", port);
        return;
    }
    let bare = bare.trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        fields.push("source.ip", bare);
        return;
    }
    match bare.rsplit_once(':') {
        Some((address, port)) if address.parse::<IpAddr>().is_ok() && port.parse::<u16>().is_ok() => {
            fields.push("source.ip", address);
            push_number(fields, "source.port", port);
        }
        _ => push_client(fields, bare),
    }
}

/// A number as `Int` when it is one, else as written.
fn push_number(fields: &mut Fields, name: &str, text: &str) {
    match text.parse::<i64>() {
        Ok(number) => fields.push(name, number),
        Err(_) => fields.push(name, text),
    }
}

// ---------------------------------------------------------------------------------------------
// Nginx error log
// ---------------------------------------------------------------------------------------------

/// An Nginx error line: `2026/11/20 08:15:00 [error] 1234#1234: *5 text, client: 1.2.3.4,
/// server: localhost, request: "GET /x HTTP/1.1", host: "example.org"`.
#[derive(Debug, PartialEq)]
struct NginxError<'a> {
    date: &'a str,
    time: &'a str,
    level: &'a str,
    pid: Option<&'a str>,
    tid: Option<&'a str>,
    connection: Option<&'a str>,
    /// The text and the `, client: ...` context after it.
    message: &'a str,
}

fn nginx_error(input: &str) -> IResult<&str, NginxError<'_>> {
    let date_char = |c: char| c.is_ascii_digit() || c == '/';
    let time_char = |c: char| c.is_ascii_digit() || c == ':';
    let (input, (date, _, time, _, level, _)) = (
        take_while1(date_char),
        space1,
        take_while1(time_char),
        space1,
        bracketed,
        space0,
    )
        .parse(input)?;
    // `PID#TID: ` is always there in Nginx's own lines; tolerate its absence.
    let (input, process) = opt(|input| {
        (digit1, char('#'), digit1, char(':'))
            .map(|(pid, _, tid, _)| (pid, tid))
            .parse(input)
    })
    .parse(input)?;
    if !is_level(level) || nginx_time(date, time, UtcOffset::UTC).is_none() {
        return Err(nom::Err::Error(Error::new(input, ErrorKind::Verify)));
    }
    let (input, _) = space0(input)?;
    let (input, connection) =
        opt(|input| (char('*'), digit1, space0).map(|(_, id, _)| id).parse(input)).parse(input)?;
    let line = NginxError {
        date,
        time,
        level,
        pid: process.map(|(pid, _)| pid),
        tid: process.map(|(_, tid)| tid),
        connection,
        message: input.trim(),
    };
    Ok(("", line))
}

/// `2026/11/20` and `08:15:00` in the given zone.
fn nginx_time(date: &str, time_of_day: &str, offset: UtcOffset) -> Option<i64> {
    let mut parts = date.split('/');
    let year = parts.next()?.parse().ok()?;
    let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    to_nanos(
        Date::from_calendar_date(year, month, day).ok()?,
        time_of_day,
        offset,
    )
}

/// The names Nginx gives the request context it appends to an error message.
const NGINX_CONTEXT: [&str; 7] = [
    "client",
    "server",
    "request",
    "subrequest",
    "upstream",
    "host",
    "referrer",
];

/// Splits `text, client: 1.2.3.4, server: x, request: "GET / HTTP/1.1", host: "h"` into the text
/// and the context pairs. The context starts at the first `, client: ` followed by an address and
/// `, server: ` (the text before it may hold attacker-chosen paths). A quoted value ends at the
/// quote followed by `, <known name>: ` or the end of the line, so quotes inside a request line
/// do not cut it short.
fn nginx_context(message: &str) -> (&str, Vec<(&str, &str)>) {
    let mut search = 0;
    while let Some(found) = message.get(search..).and_then(|text| text.find(", client: ")) {
        let start = search + found;
        let after = message.get(start + ", client: ".len()..).unwrap_or("");
        let address = after.split(',').next().unwrap_or("");
        if address.parse::<IpAddr>().is_ok()
            && after
                .get(address.len()..)
                .is_some_and(|t| t.starts_with(", server: "))
        {
            let pairs = nginx_pairs(message.get(start + 2..).unwrap_or(""));
            return (message.get(..start).unwrap_or(message), pairs);
        }
        search = start + 1;
    }
    (message, Vec::new())
}

/// `name: value, name: "value", ...` of the known context names.
fn nginx_pairs(mut text: &str) -> Vec<(&str, &str)> {
    let mut pairs = Vec::new();
    while let Some((name, after)) = text.split_once(": ") {
        if !NGINX_CONTEXT.contains(&name) {
            break;
        }
        let (value, next) = if let Some(inner) = after.strip_prefix('"') {
            // The closing quote is the one followed by the next known name or the end.
            let mut end = None;
            for (index, _) in inner.match_indices('"') {
                let tail = inner.get(index + 1..).unwrap_or("");
                let at_end = tail.trim().is_empty();
                let next_name = tail
                    .strip_prefix(", ")
                    .and_then(|t| t.split_once(": "))
                    .is_some_and(|(n, _)| NGINX_CONTEXT.contains(&n));
                if at_end || next_name {
                    end = Some(index);
                    break;
                }
            }
            match end {
                Some(end) => (inner.get(..end).unwrap_or(""), inner.get(end + 1..).unwrap_or("")),
                None => (inner, ""),
            }
        } else {
            match after.find(", ") {
                Some(end) => (after.get(..end).unwrap_or(""), after.get(end..).unwrap_or("")),
                None => (after, ""),
            }
        };
        pairs.push((name, value));
        match next.strip_prefix(", ") {
            Some(more) => text = more,
            None => break,
        }
    }
    pairs
}

/// Fills the fields of an Nginx error line.
fn nginx_error_fields(line: &NginxError<'_>, context: &ParseContext, fields: &mut Fields) -> Recognized {
    fields.push("log.level", line.level);
    if let Some(pid) = line.pid {
        push_number(fields, "process.pid", pid);
    }
    if let Some(tid) = line.tid {
        push_number(fields, "process.thread.id", tid);
    }
    if let Some(connection) = line.connection {
        push_number(fields, "nginx.connection_id", connection);
    }
    let (text, pairs) = nginx_context(line.message);
    if !text.is_empty() {
        fields.push("error.message", text);
    }
    for (name, value) in pairs {
        match name {
            "client" => push_client(fields, value),
            "server" => fields.push("server.domain", value),
            "request" => {
                if let Some(request) = request_line(value) {
                    fields.push("http.request.method", request.method);
                    push_url(fields, request.target);
                    if let Some(version) = request.version.filter(|version| !version.is_empty()) {
                        fields.push("http.version", version);
                    }
                }
            }
            "host" => fields.push("url.domain", value),
            "referrer" => fields.push("http.request.referrer", value),
            "upstream" => fields.push("nginx.upstream", value),
            _ => {}
        }
    }
    if !fields.contains("event.original_timestamp") {
        fields.push("event.original_timestamp", format!("{} {}", line.date, line.time));
    }
    Recognized {
        logsource: logsource(None, None, Some("nginx")),
        source_type: "nginx-error",
        timestamp_nanos: nginx_time(line.date, line.time, context.default_offset),
        host: None,
    }
}

#[cfg(test)]
mod tests {
    use haidang_event::Value;

    use super::*;

    fn context() -> ParseContext {
        ParseContext {
            received_nanos: 0,
            ..ParseContext::default()
        }
    }

    /// Parses a line and returns the fields and what was recognised (panics on failure: tests).
    fn parsed(line: &str) -> (Fields, Recognized) {
        let mut fields = Fields::new();
        let recognized = parse(line, &context(), &mut fields).expect("the line parses");
        (fields, recognized)
    }

    fn text<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
        match fields.get(name) {
            Some(Value::Str(text)) => Some(text.as_str()),
            _ => None,
        }
    }

    fn int(fields: &Fields, name: &str) -> Option<i64> {
        match fields.get(name) {
            Some(Value::Int(number)) => Some(*number),
            _ => None,
        }
    }

    /// UTC nanoseconds of an RFC 3339 time.
    fn nanos(rfc3339: &str) -> i64 {
        let time =
            time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).unwrap();
        time.unix_timestamp_nanos() as i64
    }

    #[test]
    fn combined_line_gives_every_field() {
        let line = r#"203.0.113.8 - alice [10/Oct/2000:13:55:36 -0700] "GET /a/b.php?x=1&y=%27 HTTP/1.1" 200 2326 "http://ref.example/" "Mozilla/5.0 (X11)""#;
        assert!(looks_like(line));
        let (fields, recognized) = parsed(line);
        assert_eq!(text(&fields, "source.ip"), Some("203.0.113.8"));
        assert_eq!(text(&fields, "user.name"), Some("alice"));
        assert_eq!(text(&fields, "http.request.method"), Some("GET"));
        assert_eq!(text(&fields, "url.original"), Some("/a/b.php?x=1&y=%27"));
        assert_eq!(text(&fields, "url.path"), Some("/a/b.php"));
        assert_eq!(text(&fields, "url.query"), Some("x=1&y=%27"));
        assert_eq!(text(&fields, "http.version"), Some("1.1"));
        assert_eq!(int(&fields, "http.response.status_code"), Some(200));
        assert_eq!(int(&fields, "http.response.body.bytes"), Some(2326));
        assert_eq!(
            text(&fields, "http.request.referrer"),
            Some("http://ref.example/")
        );
        assert_eq!(text(&fields, "user_agent.original"), Some("Mozilla/5.0 (X11)"));
        assert_eq!(text(&fields, "event.outcome"), Some("success"));
        assert_eq!(
            text(&fields, "event.original_timestamp"),
            Some("10/Oct/2000:13:55:36 -0700")
        );
        assert_eq!(recognized.timestamp_nanos, Some(nanos("2000-10-10T20:55:36Z")));
        assert_eq!(recognized.logsource, logsource(None, Some("webserver"), None));
        assert_eq!(recognized.source_type, "web-access");
        assert!(!fields.contains("url.domain"));
    }

    #[test]
    fn common_line_with_dashes_omits_absent_values() {
        let (fields, _) =
            parsed(r#"10.0.0.5 - - [20/Nov/2026:08:15:00 +0700] "POST /dang-nhap HTTP/1.0" 401 -"#);
        assert_eq!(text(&fields, "http.request.method"), Some("POST"));
        assert_eq!(text(&fields, "url.path"), Some("/dang-nhap"));
        assert!(!fields.contains("url.query"));
        assert_eq!(int(&fields, "http.response.status_code"), Some(401));
        assert_eq!(text(&fields, "event.outcome"), Some("failure"));
        for absent in [
            "user.name",
            "http.response.body.bytes",
            "http.request.referrer",
            "user_agent.original",
        ] {
            assert!(!fields.contains(absent), "{absent}");
        }
    }

    #[test]
    fn combined_dash_referrer_and_agent_are_omitted() {
        let (fields, _) =
            parsed(r#"10.0.0.5 - - [20/Nov/2026:08:15:00 +0700] "GET / HTTP/1.1" 304 0 "-" "-""#);
        assert!(!fields.contains("http.request.referrer"));
        assert!(!fields.contains("user_agent.original"));
        assert_eq!(int(&fields, "http.response.body.bytes"), Some(0));
    }

    #[test]
    fn vhost_combined_sets_url_domain_and_port() {
        let (fields, _) = parsed(
            r#"www.example.gov.vn:443 198.51.100.20 - - [20/Nov/2026:08:15:00 +0700] "GET /.env HTTP/1.1" 404 196 "-" "curl/8.5.0""#,
        );
        assert_eq!(text(&fields, "url.domain"), Some("www.example.gov.vn"));
        assert_eq!(int(&fields, "url.port"), Some(443));
        assert_eq!(text(&fields, "source.ip"), Some("198.51.100.20"));
        assert_eq!(text(&fields, "url.path"), Some("/.env"));
    }

    #[test]
    fn ipv6_client_is_the_source_ip() {
        let (fields, _) = parsed(
            r#"2001:db8::7 - - [20/Nov/2026:08:15:00 +0000] "GET /index.html HTTP/2.0" 200 512 "-" "x""#,
        );
        assert_eq!(text(&fields, "source.ip"), Some("2001:db8::7"));
        assert_eq!(text(&fields, "http.version"), Some("2.0"));
    }

    #[test]
    fn hostname_client_is_the_source_domain() {
        let (fields, _) =
            parsed(r#"crawler.example.org - - [20/Nov/2026:08:15:00 +0000] "GET / HTTP/1.1" 200 5"#);
        assert_eq!(text(&fields, "source.domain"), Some("crawler.example.org"));
        assert!(!fields.contains("source.ip"));
    }

    #[test]
    fn dash_request_has_no_request_fields() {
        let (fields, _) = parsed(r#"203.0.113.9 - - [20/Nov/2026:08:15:00 +0700] "-" 408 -"#);
        assert!(!fields.contains("http.request.method"));
        assert!(!fields.contains("url.original"));
        assert_eq!(int(&fields, "http.response.status_code"), Some(408));
    }

    #[test]
    fn binary_request_is_kept_out_of_the_url() {
        let line = r#"203.0.113.9 - - [20/Nov/2026:08:15:00 +0700] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 226 "-" "-""#;
        let (fields, _) = parsed(line);
        assert!(!fields.contains("http.request.method"));
        assert!(!fields.contains("url.original"));
        assert_eq!(int(&fields, "http.response.status_code"), Some(400));
    }

    #[test]
    fn request_without_protocol_and_with_spaces() {
        let (fields, _) = parsed(r#"203.0.113.9 - - [20/Nov/2026:08:15:00 +0700] "GET /" 200 10"#);
        assert_eq!(text(&fields, "url.original"), Some("/"));
        assert!(!fields.contains("http.version"));
        let (fields, _) =
            parsed(r#"203.0.113.9 - - [20/Nov/2026:08:15:00 +0700] "GET /a b?q=1 2 HTTP/1.1" 400 10"#);
        assert_eq!(text(&fields, "url.original"), Some("/a b?q=1 2"));
        assert_eq!(text(&fields, "url.path"), Some("/a b"));
        assert_eq!(text(&fields, "url.query"), Some("q=1 2"));
        assert_eq!(text(&fields, "http.version"), Some("1.1"));
    }

    #[test]
    fn escaped_quotes_stay_inside_their_field() {
        let line = r#"203.0.113.9 - - [20/Nov/2026:08:15:00 +0700] "GET /?q=\"><script> HTTP/1.1" 200 1 "-" "Mozilla \"${jndi:ldap://x}\" \\ end""#;
        let (fields, _) = parsed(line);
        assert_eq!(text(&fields, "url.original"), Some(r#"/?q="><script>"#));
        assert_eq!(
            text(&fields, "user_agent.original"),
            Some(r#"Mozilla "${jndi:ldap://x}" \ end"#)
        );
    }

    #[test]
    fn extra_trailing_fields_are_ignored() {
        let line = r#"10.0.0.7 - - [20/Nov/2026:08:15:00 +0700] "GET /api HTTP/1.1" 502 157 "-" "Go-http-client/1.1" "203.0.113.4" 0.003 upstream=10.0.0.9:8080"#;
        let (fields, _) = parsed(line);
        assert_eq!(text(&fields, "user_agent.original"), Some("Go-http-client/1.1"));
        assert_eq!(int(&fields, "http.response.status_code"), Some(502));
    }

    #[test]
    fn absolute_form_target_has_its_path() {
        let (fields, _) = parsed(
            r#"203.0.113.9 - - [20/Nov/2026:08:15:00 +0700] "GET http://example.org/p?a=1 HTTP/1.1" 200 1"#,
        );
        assert_eq!(text(&fields, "url.original"), Some("http://example.org/p?a=1"));
        assert_eq!(text(&fields, "url.path"), Some("/p"));
        assert_eq!(text(&fields, "url.query"), Some("a=1"));
    }

    #[test]
    fn access_line_without_offset_uses_the_default_zone() {
        let (_, recognized) = parsed(r#"10.0.0.5 - - [20/Nov/2026:08:15:00] "GET / HTTP/1.1" 200 1"#);
        assert_eq!(recognized.timestamp_nanos, Some(nanos("2026-11-20T01:15:00Z")));
    }

    #[test]
    fn apache_22_error_lines() {
        let (fields, recognized) = parsed(
            "[Tue Nov 17 09:12:05 2026] [notice] Apache/2.2.34 configured -- resuming normal operations",
        );
        assert_eq!(text(&fields, "log.level"), Some("notice"));
        assert_eq!(
            text(&fields, "error.message"),
            Some("Apache/2.2.34 configured -- resuming normal operations")
        );
        assert_eq!(recognized.timestamp_nanos, Some(nanos("2026-11-17T02:12:05Z")));
        assert_eq!(recognized.logsource, logsource(None, None, Some("apache")));
        assert_eq!(recognized.source_type, "apache-error");

        let (fields, _) = parsed(
            "[Tue Nov 17 09:13:40 2026] [error] [client 198.51.100.3] File does not exist: /var/www/html/x",
        );
        assert_eq!(text(&fields, "log.level"), Some("error"));
        assert_eq!(text(&fields, "source.ip"), Some("198.51.100.3"));
        assert_eq!(
            text(&fields, "error.message"),
            Some("File does not exist: /var/www/html/x")
        );
    }

    #[test]
    fn apache_24_error_line() {
        let line = "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:56234] AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico, referer: http://example.org/";
        assert!(looks_like(line));
        let (fields, recognized) = parsed(line);
        assert_eq!(text(&fields, "apache.module"), Some("core"));
        assert_eq!(text(&fields, "log.level"), Some("error"));
        assert_eq!(int(&fields, "process.pid"), Some(35708));
        assert_eq!(int(&fields, "process.thread.id"), Some(4328636416));
        assert_eq!(text(&fields, "source.ip"), Some("72.15.99.187"));
        assert_eq!(int(&fields, "source.port"), Some(56234));
        assert_eq!(text(&fields, "error.code"), Some("AH00128"));
        assert_eq!(
            text(&fields, "error.message"),
            Some("AH00128: File does not exist: /usr/local/apache2/htdocs/favicon.ico")
        );
        assert_eq!(
            text(&fields, "http.request.referrer"),
            Some("http://example.org/")
        );
        assert_eq!(
            recognized.timestamp_nanos,
            Some(nanos("2000-10-11T07:32:52.123456Z"))
        );
    }

    #[test]
    fn apache_24_ipv6_client_and_pid_only() {
        let (fields, _) =
            parsed("[Wed Oct 11 14:32:52 2000] [mpm_event:notice] [pid 1] [client ::1:40218] AH00489: ok");
        assert_eq!(int(&fields, "process.pid"), Some(1));
        assert!(!fields.contains("process.thread.id"));
        assert_eq!(text(&fields, "source.ip"), Some("::1"));
        assert_eq!(int(&fields, "source.port"), Some(40218));
    }

    #[test]
    fn apache_error_from_syslog_has_no_time_of_its_own() {
        let (fields, recognized) =
            parsed("[error] [client 198.51.100.3] File does not exist: /srv/portal/wp-login.php");
        assert_eq!(text(&fields, "log.level"), Some("error"));
        assert_eq!(text(&fields, "source.ip"), Some("198.51.100.3"));
        assert_eq!(
            text(&fields, "error.message"),
            Some("File does not exist: /srv/portal/wp-login.php")
        );
        assert_eq!(recognized.timestamp_nanos, None);
        assert!(!fields.contains("event.original_timestamp"));
        let (fields, _) = parsed("[:error] [pid 2207] [client 203.0.113.50:40112] PHP Warning: x");
        assert!(!fields.contains("apache.module"));
        assert_eq!(int(&fields, "process.pid"), Some(2207));
        assert_eq!(int(&fields, "source.port"), Some(40112));
        assert_eq!(text(&fields, "error.message"), Some("PHP Warning: x"));
    }

    #[test]
    fn four_words_starting_with_an_address_and_a_dash_are_not_a_vhost() {
        let (fields, _) = parsed(r#"10.20.30.40 - - - [17/Nov/2026:09:20:00 +0700] "GET / HTTP/1.1" 404 1"#);
        assert_eq!(text(&fields, "source.ip"), Some("10.20.30.40"));
        assert!(!fields.contains("url.domain"));
    }

    #[test]
    fn nginx_error_without_pid() {
        let (fields, recognized) =
            parsed("2026/11/17 09:25:00 [crit] 12:3 cache rebuild failed (2: No such file)");
        assert_eq!(text(&fields, "log.level"), Some("crit"));
        assert!(!fields.contains("process.pid"));
        assert_eq!(
            text(&fields, "error.message"),
            Some("12:3 cache rebuild failed (2: No such file)")
        );
        assert!(recognized.timestamp_nanos.is_some());
    }

    #[test]
    fn nginx_error_line() {
        let line = r#"2026/11/20 08:15:00 [error] 1234#1234: *5 open() "/usr/share/nginx/html/x" failed (2: No such file or directory), client: 203.0.113.4, server: localhost, request: "GET /x?a="b" HTTP/1.1", host: "example.org""#;
        assert!(looks_like(line));
        let (fields, recognized) = parsed(line);
        assert_eq!(text(&fields, "log.level"), Some("error"));
        assert_eq!(int(&fields, "process.pid"), Some(1234));
        assert_eq!(int(&fields, "process.thread.id"), Some(1234));
        assert_eq!(int(&fields, "nginx.connection_id"), Some(5));
        assert_eq!(
            text(&fields, "error.message"),
            Some(r#"open() "/usr/share/nginx/html/x" failed (2: No such file or directory)"#)
        );
        assert_eq!(text(&fields, "source.ip"), Some("203.0.113.4"));
        assert_eq!(text(&fields, "server.domain"), Some("localhost"));
        assert_eq!(text(&fields, "http.request.method"), Some("GET"));
        assert_eq!(text(&fields, "url.original"), Some(r#"/x?a="b""#));
        assert_eq!(text(&fields, "url.domain"), Some("example.org"));
        assert_eq!(recognized.timestamp_nanos, Some(nanos("2026-11-20T01:15:00Z")));
        assert_eq!(recognized.logsource, logsource(None, None, Some("nginx")));
        assert_eq!(recognized.source_type, "nginx-error");
    }

    #[test]
    fn nginx_error_without_context() {
        let (fields, _) = parsed("2026/11/20 08:15:00 [notice] 1#1: signal process started");
        assert_eq!(text(&fields, "error.message"), Some("signal process started"));
        assert!(!fields.contains("source.ip"));
    }

    #[test]
    fn nginx_fake_context_inside_the_path_is_not_the_client() {
        let line = r#"2026/11/20 08:15:00 [error] 7#7: *1 open() "/x, client: evil" failed, client: 203.0.113.4, server: s"#;
        let (fields, _) = parsed(line);
        assert_eq!(text(&fields, "source.ip"), Some("203.0.113.4"));
        assert_eq!(
            text(&fields, "error.message"),
            Some(r#"open() "/x, client: evil" failed"#)
        );
    }

    #[test]
    fn other_formats_are_not_claimed() {
        for line in [
            "Nov 20 08:15:00 web01 sshd[123]: Failed password for root from 203.0.113.7 port 22 ssh2",
            "<34>1 2026-11-20T08:15:00Z web01 sshd 123 - - Failed password",
            r#"{"message": "10.0.0.5 - - [20/Nov/2026:08:15:00 +0700] \"GET / HTTP/1.1\" 200 1"}"#,
            "Nov 20 08:15:00 web01 nginx: 10.0.0.5 - - [20/Nov/2026:08:15:00 +0700] \"GET / HTTP/1.1\" 200 1",
            "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2",
            "[Sun Dec 04 04:47:44 2005] [chatty] not a level",
            "[20/Nov/2026:08:15:00 +0700] something",
            "2026/11/20 08:15:00 [verbose] 1#1: not a level",
            "2026-11-20 08:15:00 [error] 1#1: dashes",
            "[error] some program's own message",
            "[notice] Apache configured",
            "date=2026-11-20 time=08:15:00 devname=FGT",
            "",
        ] {
            assert!(!looks_like(line), "{line}");
            assert!(parse(line, &context(), &mut Fields::new()).is_none(), "{line}");
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long = "A".repeat(1 << 20);
        let inputs = [
            String::new(),
            "\"".to_owned(),
            "[".to_owned(),
            "a b c [".to_owned(),
            "a b c [10/Oct/2000:13:55:36 -0700] \"".to_owned(),
            "a b c [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\\".to_owned(),
            "a b c [99/Xyz/2000:99:99:99 +9999] \"GET\" 200 1".to_owned(),
            "a b c [10/Oct/2000:13:55:36 -0700] \"\u{1F600} é\" 200 -".to_owned(),
            format!(
                "a - - [10/Oct/2000:13:55:36 -0700] \"GET /{long} HTTP/1.1\" 200 1 \"{long}\" \"{long}\""
            ),
            format!("[{long}] [error] x"),
            format!("2026/11/20 08:15:00 [error] 1#1: {long}, client: "),
            "2026/11/20 08:15:00 [error] 1#1: x, client: 1.2.3.4, server: a, request: \"".to_owned(),
            "[Wed Oct 11 14:32:52.1234567890123 2000] [core:error] [pid :tid ] [client ]".to_owned(),
            "[Wed Oct 11 14:32:52 2000] [error] [client [::1]:x]".to_owned(),
        ];
        for input in &inputs {
            let _ = looks_like(input);
            let _ = parse(input, &context(), &mut Fields::new());
        }
    }
}
