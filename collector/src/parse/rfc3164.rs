//! RFC 3164 (BSD) syslog: `<PRI>Mmm dd hh:mm:ss host tag[pid]: msg`, PRI optional.
//!
//! RFC 3164 describes practice rather than prescribing it, and senders vary. This parser accepts:
//!
//! - an optional `<PRI>` (1–3 digits, at most 191);
//! - a timestamp: `Mmm dd hh:mm:ss` (day padded with a space or a zero), Cisco's
//!   `Mmm dd yyyy hh:mm:ss`, either with a fraction of a second, or RFC 3339 (rsyslog's
//!   high-precision format), optionally followed by `:` (Cisco); or no timestamp at all after a
//!   PRI (`<166>%ASA-6-...`), in which case no hostname is looked for either;
//! - a hostname, unless the token after the timestamp is already the tag;
//! - a tag: `program[pid]:`, `program:`, sysklogd's `syslogd 1.4.1:`, or Cisco's `%ASA-6-605004:`
//!   (whose message keeps the `%...` text, since the ASA body parser reads it).
//!
//! A line with neither PRI nor timestamp is not syslog.
//!
//! Like the RFC 5424 parser, this one reads bytes: every delimiter is ASCII, so positions next to
//! one are character boundaries. "Spaces" between header fields are spaces and tabs.

use time::{Date, OffsetDateTime, UtcOffset};

use super::rfc5424::{Stamp, TimeOfDay, digits, rfc3339, time_of_day};
use super::{ParseContext, SyslogHeader};

/// One day in nanoseconds: how far after the receive time an inferred year may put a timestamp
/// (clock skew between sender and collector, and zones ahead of ours).
const DAY_NANOS: i64 = 86_400 * 1_000_000_000;

/// Whether the line looks like RFC 3164 syslog: it starts with `<digits>`, with a BSD timestamp,
/// or with an RFC 3339 timestamp followed by a space and a host.
pub(crate) fn looks_like(line: &str) -> bool {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    let bytes = line.as_bytes();
    opening_pri(bytes)
        || bsd_timestamp(bytes, 0).is_some()
        || rfc3339(bytes, 0).is_some_and(|(_, end)| {
            bytes.get(end) == Some(&b' ') && bytes.get(end + 1).is_some_and(|&byte| byte != b' ')
        })
}

/// `<`, one or more digits, `>` at the start.
fn opening_pri(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(b"<") else {
        return false;
    };
    let length = rest.iter().take_while(|byte| byte.is_ascii_digit()).count();
    length > 0 && rest.get(length) == Some(&b'>')
}

/// Parses the header; `None` if the line is not RFC 3164 syslog.
pub(crate) fn parse<'a>(line: &'a str, context: &ParseContext) -> Option<SyslogHeader<'a>> {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    let bytes = line.as_bytes();
    // A line that opens a PRI must close a valid one: `<13` or `<999>` is not syslog.
    let (priority, at) = if bytes.first() == Some(&b'<') {
        let (priority, end) = pri(bytes, 0)?;
        (Some(priority), skip_spaces(bytes, end))
    } else {
        (None, 0)
    };
    let timestamp_start = at;
    let timestamp = timestamp(bytes, at);
    if priority.is_none() && timestamp.is_none() {
        return None;
    }
    // Without a timestamp the rest is all CONTENT (RFC 3164 §4.3.3): no hostname to look for.
    let (hostname, at) = match timestamp {
        Some((_, _, next)) => match hostname(line, next) {
            Some((hostname, after)) => (Some(hostname), after),
            None => (None, next),
        },
        None => (None, at),
    };
    let (app_name, proc_id, message) = tag_and_message(line.get(at..)?);
    let (timestamp_text, timestamp_nanos) = match timestamp {
        Some((end, written, _)) => (Some(line.get(timestamp_start..end)?), written.to_nanos(context)),
        None => (None, None),
    };
    Some(SyslogHeader {
        facility: priority.map(|(facility, _)| facility),
        severity: priority.map(|(_, severity)| severity),
        timestamp_nanos,
        timestamp_text,
        hostname,
        app_name,
        proc_id,
        msg_id: None,
        structured_data: Vec::new(),
        message: message.strip_prefix('\u{feff}').unwrap_or(message),
    })
}

/// `<PRI>` at `at`: 1 to 3 digits, at most 191 (facility 23, severity 7), as (facility,
/// severity), and the position after the `>`. Shared with RFC 5424, whose PRI is the same.
pub(super) fn pri(bytes: &[u8], at: usize) -> Option<((u8, u8), usize)> {
    if bytes.get(at) != Some(&b'<') {
        return None;
    }
    let mut value: u32 = 0;
    let mut end = at + 1;
    while end < at + 4
        && let Some(&digit) = bytes.get(end)
        && digit.is_ascii_digit()
    {
        value = value * 10 + u32::from(digit - b'0');
        end += 1;
    }
    if end == at + 1 || bytes.get(end) != Some(&b'>') || value > 191 {
        return None;
    }
    let value = value as u8;
    Some(((value / 8, value % 8), end + 1))
}

/// The position after the spaces and tabs at `at`.
fn skip_spaces(bytes: &[u8], at: usize) -> usize {
    let mut end = at;
    while matches!(bytes.get(end), Some(b' ' | b'\t')) {
        end += 1;
    }
    end
}

/// A timestamp as written in an RFC 3164 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    /// `Mmm dd [yyyy] hh:mm:ss[.fff]`, in the sender's (unknown, so default) zone.
    Bsd {
        month: u8,
        day: u8,
        year: Option<i32>,
        time: TimeOfDay,
    },
    /// RFC 3339, zone optional.
    Iso(Stamp),
}

impl Written {
    /// UTC nanoseconds, the year inferred from the receive time when missing.
    fn to_nanos(self, context: &ParseContext) -> Option<i64> {
        match self {
            Written::Iso(stamp) => stamp.to_nanos(context.default_offset),
            Written::Bsd {
                month,
                day,
                year: Some(year),
                time,
            } => Stamp {
                year,
                month,
                day,
                time,
                offset: None,
            }
            .to_nanos(context.default_offset),
            Written::Bsd {
                month,
                day,
                year: None,
                time,
            } => infer_year(month, day, time, context),
        }
    }
}

/// The timestamp of a BSD line without a year: the latest year that does not put it more than a
/// day after the line was received, which is also the nearest (candidates are a year apart). A
/// `Dec 31` line received on Jan 1 thus lands in the previous year, a `Jan 1` line received a few
/// hours early on Dec 31 (skewed clock) in the next. Looking back eight years finds a `Feb 29`.
fn infer_year(month: u8, day: u8, time: TimeOfDay, context: &ParseContext) -> Option<i64> {
    let received_year = local_year(context.received_nanos, context.default_offset)?;
    let limit = context.received_nanos.saturating_add(DAY_NANOS);
    (received_year - 8..=received_year + 1)
        .rev()
        .filter_map(|year| {
            Stamp {
                year,
                month,
                day,
                time,
                offset: None,
            }
            .to_nanos(context.default_offset)
        })
        .find(|&nanos| nanos <= limit)
}

/// The calendar year at `offset` of a UTC time in nanoseconds: what
/// `OffsetDateTime::from_unix_timestamp_nanos(nanos)?.to_offset(offset).year()` gives, from the
/// day number alone (this runs for every line without a year).
fn local_year(nanos: i64, offset: UtcOffset) -> Option<i32> {
    let local_seconds = nanos.div_euclid(1_000_000_000) + i64::from(offset.whole_seconds());
    let julian_day = local_seconds.div_euclid(86_400) + i64::from(OffsetDateTime::UNIX_EPOCH.to_julian_day());
    Some(
        Date::from_julian_day(i32::try_from(julian_day).ok()?)
            .ok()?
            .year(),
    )
}

/// A timestamp at `at`, then an optional `:` (Cisco) and the spaces before the next field (or
/// the end of the line): (where the timestamp ends, what it says, where the next field starts).
fn timestamp(bytes: &[u8], at: usize) -> Option<(usize, Written, usize)> {
    let (written, end) = bsd_timestamp(bytes, at)
        .or_else(|| rfc3339(bytes, at).map(|(stamp, end)| (Written::Iso(stamp), end)))?;
    let after_colon = if bytes.get(end) == Some(&b':') {
        end + 1
    } else {
        end
    };
    let next = skip_spaces(bytes, after_colon);
    (next > after_colon || after_colon == bytes.len()).then_some((end, written, next))
}

/// `Mmm dd hh:mm:ss` or `Mmm dd yyyy hh:mm:ss` at `at`; `Jan  5` and `Jan 05` alike.
fn bsd_timestamp(bytes: &[u8], at: usize) -> Option<(Written, usize)> {
    let month = month(bytes.get(at..at + 3)?)?;
    let day_at = skip_spaces(bytes, at + 3);
    if day_at == at + 3 {
        return None;
    }
    let mut day_end = day_at;
    while day_end < day_at + 2 && bytes.get(day_end).is_some_and(u8::is_ascii_digit) {
        day_end += 1;
    }
    if day_end == day_at {
        return None;
    }
    let day = digits(bytes, day_at, day_end - day_at)? as u8;
    let mut time_at = skip_spaces(bytes, day_end);
    if time_at == day_end {
        return None;
    }
    let mut year = None;
    if let Some(number) = digits(bytes, time_at, 4) {
        let after = skip_spaces(bytes, time_at + 4);
        if after > time_at + 4 {
            year = Some(number as i32);
            time_at = after;
        }
    }
    let (time, end) = time_of_day(bytes, time_at)?;
    let written = Written::Bsd {
        month,
        day,
        year,
        time,
    };
    Some((written, end))
}

/// An English month abbreviation, as its number.
fn month(name: &[u8]) -> Option<u8> {
    Some(match name {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// The HOSTNAME token at `at` and the position after the spaces that follow it. A token that is
/// really the tag (`sshd[42]:`, `kernel:`, `%ASA-6-605004:`) means the sender left the hostname
/// out, and gives `None` so that the tag parser sees it.
fn hostname(line: &str, at: usize) -> Option<(&str, usize)> {
    let rest = line.as_bytes().get(at..)?;
    let length = rest.iter().position(|&byte| byte == b' ').unwrap_or(rest.len());
    let token = rest.get(..length)?;
    if length == 0 || token.ends_with(b":") || token.contains(&b'[') || token.starts_with(b"%") {
        return None;
    }
    Some((
        line.get(at..at + length)?,
        skip_spaces(line.as_bytes(), at + length),
    ))
}

/// Splits what follows the hostname into (program, pid, message). Without a recognisable tag the
/// whole text is the message.
fn tag_and_message(input: &str) -> (Option<&str>, Option<&str>, &str) {
    cisco_tag(input)
        .or_else(|| program_tag(input))
        .or_else(|| versioned_tag(input))
        .unwrap_or((None, None, input))
}

/// Cisco `%ASA-6-605004: text`, possibly after ASA's ` : ` separator when it sends its hostname.
/// The program is the tag without its colon; the message is the whole text from `%` on, because
/// the ASA body parser reads the severity and message id from it.
fn cisco_tag(input: &str) -> Option<(Option<&str>, Option<&str>, &str)> {
    let input = input.strip_prefix(": ").unwrap_or(input);
    let bytes = input.as_bytes();
    if bytes.first() != Some(&b'%') {
        return None;
    }
    let end = 1 + bytes
        .get(1..)?
        .iter()
        .position(|&byte| byte == b':' || byte == b' ')?;
    if end == 1 || bytes.get(end) != Some(&b':') {
        return None;
    }
    Some((Some(input.get(..end)?), None, input))
}

/// `program[pid]: text` or `program: text`. The program runs up to `[`, `:` or a space, so
/// loghub's `sshd(pam_unix)[19939]:` keeps `sshd(pam_unix)`. One space after the colon belongs to
/// the tag.
fn program_tag(input: &str) -> Option<(Option<&str>, Option<&str>, &str)> {
    let bytes = input.as_bytes();
    let (program, mut at) = program_name(input)?;
    let mut pid = None;
    if bytes.get(at) == Some(&b'[') {
        let inner = bytes.get(at + 1..)?;
        if let Some(length) = inner.iter().position(|&byte| byte == b']' || byte == b' ')
            && length > 0
            && inner.get(length) == Some(&b']')
        {
            pid = Some(input.get(at + 1..at + 1 + length)?);
            at += length + 2;
        }
    }
    if bytes.get(at) != Some(&b':') {
        return None;
    }
    Some((Some(program), pid, after_tag_colon(input, at + 1)?))
}

/// The program token at the start of a tag: up to `[`, `:` or a space, and plausible.
fn program_name(input: &str) -> Option<(&str, usize)> {
    let length = input
        .as_bytes()
        .iter()
        .position(|&byte| matches!(byte, b' ' | b'[' | b':'))
        .unwrap_or(input.len());
    let program = input.get(..length)?;
    (length > 0 && plausible_program(program)).then_some((program, length))
}

/// The message after a tag's colon at `at - 1`: one space belongs to the tag.
fn after_tag_colon(input: &str, at: usize) -> Option<&str> {
    let at = if input.as_bytes().get(at) == Some(&b' ') {
        at + 1
    } else {
        at
    };
    input.get(at..)
}

/// Whether a token can be a program name. `CEF`/`LEEF` start a message body, and CSV or
/// key=value text (`1,2026/11/20`, Palo Alto's tag-less lines) is not a program either.
fn plausible_program(token: &str) -> bool {
    token.len() <= 64 && !matches!(token, "CEF" | "LEEF") && !token.contains([',', '|', '=', '"', '\''])
}

/// sysklogd's own `syslogd 1.4.1: restart.`: the program, a space, a version, a colon.
fn versioned_tag(input: &str) -> Option<(Option<&str>, Option<&str>, &str)> {
    let bytes = input.as_bytes();
    let (program, at) = program_name(input)?;
    if bytes.get(at) != Some(&b' ') {
        return None;
    }
    let version = bytes
        .get(at + 1..)?
        .iter()
        .take_while(|&&byte| byte.is_ascii_digit() || byte == b'.')
        .count();
    let colon = at + 1 + version;
    if version == 0 || bytes.get(colon) != Some(&b':') {
        return None;
    }
    Some((Some(program), None, after_tag_colon(input, colon + 1)?))
}

#[cfg(test)]
mod tests {
    use time::UtcOffset;

    use super::*;

    /// 2026-11-20T12:00:00Z, the default zone +07:00.
    fn context() -> ParseContext {
        context_at("2026-11-20T12:00:00Z")
    }

    fn context_at(received: &str) -> ParseContext {
        ParseContext {
            default_offset: UtcOffset::from_hms(7, 0, 0).expect("valid offset"),
            received_nanos: nanos(received),
        }
    }

    fn nanos(text: &str) -> i64 {
        let time = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .expect("valid RFC 3339 in test");
        i64::try_from(time.unix_timestamp_nanos()).expect("in range")
    }

    #[test]
    fn parses_classic_line_with_pri_and_pid() {
        let header = parse(
            "<38>Nov 20 08:15:00 web01 sshd[1234]: Accepted publickey for root",
            &context(),
        )
        .expect("parses");
        assert_eq!(header.facility, Some(4));
        assert_eq!(header.severity, Some(6));
        assert_eq!(header.timestamp_text, Some("Nov 20 08:15:00"));
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-20T01:15:00Z")));
        assert_eq!(header.hostname, Some("web01"));
        assert_eq!(header.app_name, Some("sshd"));
        assert_eq!(header.proc_id, Some("1234"));
        assert_eq!(header.msg_id, None);
        assert!(header.structured_data.is_empty());
        assert_eq!(header.message, "Accepted publickey for root");
    }

    #[test]
    fn parses_line_without_pri_and_space_padded_day() {
        let header = parse("Nov  5 08:15:00 web01 CRON[77]: (root) CMD (true)", &context()).expect("parses");
        assert_eq!(header.facility, None);
        assert_eq!(header.severity, None);
        assert_eq!(header.timestamp_text, Some("Nov  5 08:15:00"));
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-05T01:15:00Z")));
        assert_eq!(header.hostname, Some("web01"));
        assert_eq!(header.app_name, Some("CRON"));
        assert_eq!(header.proc_id, Some("77"));
        assert_eq!(header.message, "(root) CMD (true)");
    }

    #[test]
    fn parses_zero_padded_day_and_fraction() {
        let header = parse("Nov 05 08:15:00.250 db01 kernel: [ 12.5] eth0 up", &context()).expect("parses");
        assert_eq!(header.timestamp_text, Some("Nov 05 08:15:00.250"));
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-05T01:15:00.25Z")));
        assert_eq!(header.hostname, Some("db01"));
        assert_eq!(header.app_name, Some("kernel"));
        assert_eq!(header.proc_id, None);
        assert_eq!(header.message, "[ 12.5] eth0 up");
    }

    #[test]
    fn cef_and_csv_bodies_are_not_tags() {
        let context = ParseContext::default();
        let header = parse(
            "<14>Nov 20 08:15:00 fw01 CEF:0|Fortinet|FortiGate|7.0|1|x|5|src=1.2.3.4",
            &context,
        )
        .unwrap();
        assert_eq!(header.app_name, None);
        assert!(header.message.starts_with("CEF:0|"));
        let header = parse(
            "<14>Nov 20 08:15:00 pa01 1,2026/11/20 08:15:00,0011,TRAFFIC,end",
            &context,
        )
        .unwrap();
        assert_eq!(header.app_name, None);
        assert!(header.message.starts_with("1,2026/11/20 08:15:00"));
    }

    #[test]
    fn parses_loghub_pam_unix_tag() {
        let header = parse(
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=192.0.2.4 ",
            &context(),
        )
        .expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-06-14T08:16:01Z")));
        assert_eq!(header.hostname, Some("combo"));
        assert_eq!(header.app_name, Some("sshd(pam_unix)"));
        assert_eq!(header.proc_id, Some("19939"));
        assert_eq!(
            header.message,
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=192.0.2.4 "
        );
    }

    #[test]
    fn parses_sysklogd_versioned_tag() {
        let header = parse("Jun 19 04:09:11 combo syslogd 1.4.1: restart.", &context()).expect("parses");
        assert_eq!(header.hostname, Some("combo"));
        assert_eq!(header.app_name, Some("syslogd"));
        assert_eq!(header.proc_id, None);
        assert_eq!(header.message, "restart.");
    }

    #[test]
    fn parses_cisco_timestamp_with_year_and_trailing_colon() {
        let header = parse(
            "<166>Jan 05 2026 10:00:00: %ASA-6-605004: Login denied from 203.0.113.5/51000 to outside:10.0.0.1/ssh for user \"admin\"",
            &context(),
        )
        .expect("parses");
        assert_eq!(header.facility, Some(20));
        assert_eq!(header.severity, Some(6));
        assert_eq!(header.timestamp_text, Some("Jan 05 2026 10:00:00"));
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-01-05T03:00:00Z")));
        assert_eq!(header.hostname, None);
        assert_eq!(header.app_name, Some("%ASA-6-605004"));
        assert_eq!(header.proc_id, None);
        assert_eq!(
            header.message,
            "%ASA-6-605004: Login denied from 203.0.113.5/51000 to outside:10.0.0.1/ssh for user \"admin\""
        );
    }

    #[test]
    fn parses_cisco_with_hostname_and_colon_separator() {
        let header = parse(
            "<166>Jan 05 2026 10:00:00 fw01 : %ASA-6-302013: Built outbound TCP",
            &context(),
        )
        .expect("parses");
        assert_eq!(header.hostname, Some("fw01"));
        assert_eq!(header.app_name, Some("%ASA-6-302013"));
        assert_eq!(header.message, "%ASA-6-302013: Built outbound TCP");
    }

    #[test]
    fn parses_pri_without_timestamp() {
        let header = parse("<166>%ASA-6-605004: Login denied", &context()).expect("parses");
        assert_eq!(header.facility, Some(20));
        assert_eq!(header.severity, Some(6));
        assert_eq!(header.timestamp_text, None);
        assert_eq!(header.timestamp_nanos, None);
        assert_eq!(header.hostname, None);
        assert_eq!(header.app_name, Some("%ASA-6-605004"));
        assert_eq!(header.message, "%ASA-6-605004: Login denied");
    }

    #[test]
    fn parses_rsyslog_high_precision_timestamp() {
        let header = parse(
            "2026-11-20T08:15:00.123456+07:00 web01 sudo:   alice : TTY=pts/0 ; COMMAND=/bin/ls",
            &context(),
        )
        .expect("parses");
        assert_eq!(header.timestamp_text, Some("2026-11-20T08:15:00.123456+07:00"));
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-20T01:15:00.123456Z")));
        assert_eq!(header.hostname, Some("web01"));
        assert_eq!(header.app_name, Some("sudo"));
        assert_eq!(header.proc_id, None);
        // One space after the colon belongs to the tag; sudo's own indentation stays.
        assert_eq!(header.message, "  alice : TTY=pts/0 ; COMMAND=/bin/ls");
    }

    #[test]
    fn iso_timestamp_without_zone_uses_default_offset() {
        let header = parse("<13>2026-11-20T08:15:00 h app: m", &context()).expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-20T01:15:00Z")));
        let utc = ParseContext {
            default_offset: UtcOffset::UTC,
            ..context()
        };
        let header = parse("<13>2026-11-20T08:15:00 h app: m", &utc).expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-20T08:15:00Z")));
    }

    #[test]
    fn missing_hostname_when_tag_follows_timestamp() {
        let header = parse("<13>Nov 20 08:15:00 sshd[42]: hello", &context()).expect("parses");
        assert_eq!(header.hostname, None);
        assert_eq!(header.app_name, Some("sshd"));
        assert_eq!(header.proc_id, Some("42"));
        assert_eq!(header.message, "hello");
        let header = parse("Nov 20 08:15:00 kernel: hello", &context()).expect("parses");
        assert_eq!(header.hostname, None);
        assert_eq!(header.app_name, Some("kernel"));
        assert_eq!(header.message, "hello");
    }

    #[test]
    fn no_recognisable_tag_keeps_whole_rest_as_message() {
        let header = parse(
            "Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2",
            &context(),
        )
        .expect("parses");
        assert_eq!(header.hostname, Some("combo"));
        assert_eq!(header.app_name, None);
        assert_eq!(header.proc_id, None);
        assert_eq!(header.message, "-- root[2421]: ROOT LOGIN ON tty2");
        let header = parse("<13>just some text", &context()).expect("parses");
        assert_eq!(header.hostname, None);
        assert_eq!(header.app_name, None);
        assert_eq!(header.message, "just some text");
    }

    #[test]
    fn strips_byte_order_mark_from_message() {
        let header = parse("<13>Nov 20 08:15:00 h app[1]: \u{feff}xin chào", &context()).expect("parses");
        assert_eq!(header.message, "xin chào");
        let header = parse("\u{feff}<13>Nov 20 08:15:00 h app: m", &context()).expect("parses");
        assert_eq!(header.severity, Some(5));
        assert_eq!(header.message, "m");
    }

    #[test]
    fn empty_message_after_tag() {
        let header = parse("Nov 20 08:15:00 h app:", &context()).expect("parses");
        assert_eq!(header.app_name, Some("app"));
        assert_eq!(header.message, "");
        let header = parse("Nov 20 08:15:00 h", &context()).expect("parses");
        assert_eq!(header.hostname, Some("h"));
        assert_eq!(header.app_name, None);
        assert_eq!(header.message, "");
    }

    #[test]
    fn missing_year_rolls_back_across_new_year() {
        // A `Dec 31` line received just after midnight on Jan 1 (local) belongs to the old year.
        let context = context_at("2026-12-31T17:05:00Z"); // 2027-01-01 00:05 at +07:00
        let header = parse("Dec 31 23:59:58 h app: m", &context).expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-12-31T16:59:58Z")));
    }

    #[test]
    fn missing_year_allows_a_sender_clock_slightly_ahead() {
        // Received at 23:50 on Dec 31 (local); the sender already writes Jan 1.
        let context = context_at("2026-12-31T16:50:00Z");
        let header = parse("Jan  1 00:10:00 h app: m", &context).expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-12-31T17:10:00Z")));
    }

    #[test]
    fn missing_year_never_more_than_a_day_in_the_future() {
        // Nov 25 is five days after the receive time: it must be last year's.
        let header = parse("Nov 25 08:00:00 h app: m", &context()).expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2025-11-25T01:00:00Z")));
        // Nov 21 is within a day: this year.
        let header = parse("Nov 21 08:00:00 h app: m", &context()).expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-21T01:00:00Z")));
    }

    #[test]
    fn missing_year_finds_last_leap_day() {
        let header = parse("Feb 29 08:00:00 h app: m", &context()).expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2024-02-29T01:00:00Z")));
    }

    #[test]
    fn impossible_date_keeps_text_without_nanos() {
        let header = parse("<13>Nov 31 08:00:00 h app: m", &context()).expect("parses");
        assert_eq!(header.timestamp_text, Some("Nov 31 08:00:00"));
        assert_eq!(header.timestamp_nanos, None);
        assert_eq!(header.hostname, Some("h"));
    }

    #[test]
    fn pri_bounds() {
        let header = parse("<0>Nov 20 08:15:00 h a: m", &context()).expect("parses");
        assert_eq!((header.facility, header.severity), (Some(0), Some(0)));
        let header = parse("<191>Nov 20 08:15:00 h a: m", &context()).expect("parses");
        assert_eq!((header.facility, header.severity), (Some(23), Some(7)));
        assert_eq!(parse("<192>Nov 20 08:15:00 h a: m", &context()), None);
    }

    #[test]
    fn looks_like_recognises_the_three_openings() {
        assert!(looks_like("<13>anything"));
        assert!(looks_like("Nov 20 08:15:00 h a: m"));
        assert!(looks_like("Jan  5 2026 10:00:00: %ASA-6-1: m"));
        assert!(looks_like("2026-11-20T08:15:00.123+07:00 host app: m"));
        assert!(!looks_like("2026-11-20T08:15:00Z"));
        assert!(!looks_like(
            "203.0.113.5 - - [20/Nov/2026:08:15:00 +0700] \"GET / HTTP/1.1\" 200 1"
        ));
        assert!(!looks_like("November 20"));
        assert!(!looks_like(""));
        assert!(!looks_like("<13"));
    }

    #[test]
    fn malformed_lines_are_none() {
        let long = "x".repeat(100_000);
        let long_pri = format!("<{}>", "1".repeat(10_000));
        let cases = [
            "",
            "<",
            "<13",
            "<13 Nov 20 08:15:00 h a: m",
            "<999>Nov 20 08:15:00 h a: m",
            "<1234>m",
            "<>m",
            "<a>m",
            "garbage",
            "Nov 20 8:15 h a: m",
            "Nov 20 08:15:00h a: m",
            "Novembre 20 08:15:00 h a: m",
            "2026-11-20 08:15:00 h a: m",
            "Đăng nhập thất bại từ 203.0.113.5",
            "日本語のログ",
            long.as_str(),
            long_pri.as_str(),
        ];
        for line in cases {
            assert_eq!(parse(line, &context()), None, "{line:.60}");
        }
    }

    #[test]
    fn very_long_and_non_ascii_lines_do_not_panic() {
        let line = format!("<13>Nov 20 08:15:00 h app[1]: {}", "é".repeat(100_000));
        let header = parse(&line, &context()).expect("parses");
        assert_eq!(header.message.chars().count(), 100_000);
        let header = parse("Nov 20 08:15:00 máy-chủ ứng_dụng[1]: Đăng nhập", &context()).expect("parses");
        assert_eq!(header.hostname, Some("máy-chủ"));
        assert_eq!(header.app_name, Some("ứng_dụng"));
        assert_eq!(header.message, "Đăng nhập");
        // A multi-byte character right where a digit is expected must not split a char.
        assert_eq!(parse("<1é>x", &context()), None);
        assert!(parse("Nov 2é 08:15:00 h a: m", &context()).is_none());
    }

    #[test]
    fn local_year_is_the_year_time_gives() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for step in 0..50_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Whole range, and instants near a new year in some zone.
            let nanos = if step % 2 == 0 {
                state as i64
            } else {
                nanos("2026-12-31T12:00:00Z") + (state % (48 * 3_600)) as i64 * 1_000_000_000
            };
            let offset = UtcOffset::from_whole_seconds((state >> 40) as i32 % (2 * 93_599) - 93_599)
                .expect("in range");
            let expected = OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
                .ok()
                .map(|time| time.to_offset(offset).year());
            assert_eq!(local_year(nanos, offset), expected, "{nanos} {offset}");
        }
    }
}
