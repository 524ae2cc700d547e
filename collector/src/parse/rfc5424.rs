//! RFC 5424 syslog: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`.
//!
//! The header is six space-separated fields after `<PRI>VERSION`, each of which may be the nil
//! value `-`; then STRUCTURED-DATA (`-` or one or more `[id param="value" ...]` elements); then,
//! after one space, the free-form MSG (a leading UTF-8 BOM removed).
//!
//! This module also holds the RFC 3339 timestamp grammar ([`rfc3339`], [`Stamp`]), which the
//! RFC 3164 parser reuses for rsyslog's high-precision timestamps.
//!
//! The grammar is read byte by byte (this is the collector's hottest path): every delimiter is
//! ASCII, so a position found next to one is always a character boundary, and a multi-byte
//! character never equals an ASCII byte the grammar looks for. Functions take the line and a
//! position and return what they read with the position after it, or `None` for "not this
//! shape" (the caller then tries the next alternative or gives up on the line).

use time::{Date, Month, UtcOffset};

use super::rfc3164::pri;
use super::{ParseContext, SD_FIELD_PREFIX, SyslogHeader, unix_nanos};

/// Whether the line looks like RFC 5424 syslog: `<PRI>1 `, the version being what sets it apart
/// from RFC 3164.
pub(crate) fn looks_like(line: &str) -> bool {
    let bytes = line.as_bytes();
    matches!(pri(bytes, 0), Some((_, end)) if bytes.get(end..end + 2) == Some(b"1 "))
}

/// Parses the header; `None` if the line is not RFC 5424 syslog.
pub(crate) fn parse<'a>(line: &'a str, context: &ParseContext) -> Option<SyslogHeader<'a>> {
    let bytes = line.as_bytes();
    let ((facility, severity), at) = pri(bytes, 0)?;
    let at = space(bytes, version(bytes, at)?)?;
    let (timestamp, at) = if is_nil(bytes, at) {
        (None, at + 1)
    } else {
        let (stamp, end) = rfc3339(bytes, at)?;
        (Some((line.get(at..end)?, stamp)), end)
    };
    let (hostname, at) = nil_or_token(line, space(bytes, at)?)?;
    let (app_name, at) = nil_or_token(line, space(bytes, at)?)?;
    let (proc_id, at) = nil_or_token(line, space(bytes, at)?)?;
    let (msg_id, at) = nil_or_token(line, space(bytes, at)?)?;
    let (structured_data, at) = structured_data(line, space(bytes, at)?)?;
    let message = msg(line, at)?;
    let (timestamp_text, timestamp_nanos) = match timestamp {
        Some((text, stamp)) => (Some(text), stamp.to_nanos(context.default_offset)),
        None => (None, None),
    };
    Some(SyslogHeader {
        facility: Some(facility),
        severity: Some(severity),
        timestamp_nanos,
        timestamp_text,
        hostname,
        app_name,
        proc_id,
        msg_id,
        structured_data,
        message,
    })
}

/// The position after the space at `at`.
fn space(bytes: &[u8], at: usize) -> Option<usize> {
    (bytes.get(at) == Some(&b' ')).then_some(at + 1)
}

/// VERSION: a non-zero digit and up to two more (only `1` is defined today).
fn version(bytes: &[u8], at: usize) -> Option<usize> {
    if !matches!(bytes.get(at), Some(b'1'..=b'9')) {
        return None;
    }
    let mut end = at + 1;
    while end < at + 3 && bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    Some(end)
}

/// Whether the nil value `-` stands at `at`. The dash must stand alone, so a field that merely
/// starts with `-` (a hostname like `-x`, unlikely but legal) is not nil.
fn is_nil(bytes: &[u8], at: usize) -> bool {
    bytes.get(at) == Some(&b'-') && matches!(bytes.get(at + 1), None | Some(b' '))
}

/// A header field: `-` (`None`) or the characters up to the next space (at least one).
fn nil_or_token(line: &str, at: usize) -> Option<(Option<&str>, usize)> {
    let bytes = line.as_bytes();
    if is_nil(bytes, at) {
        return Some((None, at + 1));
    }
    let rest = bytes.get(at..)?;
    let end = at + rest.iter().position(|&byte| byte == b' ').unwrap_or(rest.len());
    if end == at {
        return None;
    }
    Some((Some(line.get(at..end)?), end))
}

/// STRUCTURED-DATA: nil, or one or more elements, flattened to (`id.param`, value) pairs.
fn structured_data(line: &str, at: usize) -> Option<(Vec<(String, String)>, usize)> {
    if line.as_bytes().get(at) == Some(&b'-') {
        return Some((Vec::new(), at + 1));
    }
    let mut pairs = Vec::new();
    let mut at = sd_element(line, at, &mut pairs)?;
    while let Some(next) = sd_element(line, at, &mut pairs) {
        at = next;
    }
    Some((pairs, at))
}

/// One `[id param="value" ...]` element, its pairs appended to `pairs` (nothing appended when
/// the element is malformed). The id may carry an enterprise number (`id@32473`).
fn sd_element(line: &str, at: usize, pairs: &mut Vec<(String, String)>) -> Option<usize> {
    let bytes = line.as_bytes();
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let id_end = sd_name(bytes, at + 1)?;
    let id = line.get(at + 1..id_end)?;
    let before = pairs.len();
    let mut at = id_end;
    while bytes.get(at) == Some(&b' ') {
        let Some((name, value, next)) = sd_param(line, at + 1) else {
            break;
        };
        // Room for the event's field prefix too, so the normaliser adds it without reallocating.
        let mut full = String::with_capacity(SD_FIELD_PREFIX.len() + id.len() + 1 + name.len());
        full.push_str(id);
        full.push('.');
        full.push_str(name);
        pairs.push((full, value));
        at = next;
    }
    if bytes.get(at) == Some(&b']') {
        Some(at + 1)
    } else {
        pairs.truncate(before);
        None
    }
}

/// SD-NAME: printable ASCII except `=`, space, `]` and `"`; the position after it.
fn sd_name(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = bytes.get(at..)?;
    let length = rest
        .iter()
        .position(|&byte| !byte.is_ascii_graphic() || matches!(byte, b'=' | b']' | b'"'))
        .unwrap_or(rest.len());
    (length > 0).then_some(at + length)
}

/// `name="value"`.
fn sd_param(line: &str, at: usize) -> Option<(&str, String, usize)> {
    let name_end = sd_name(line.as_bytes(), at)?;
    if line.as_bytes().get(name_end) != Some(&b'=') {
        return None;
    }
    let (value, end) = param_value(line, name_end + 1)?;
    Some((line.get(at..name_end)?, value, end))
}

/// PARAM-VALUE between double quotes. Inside, only `\"`, `\\` and `\]` are escapes (RFC 5424
/// §6.3.3); a backslash before anything else is an ordinary character and is kept. `None` when
/// the closing quote is missing (a truncated line).
fn param_value(line: &str, at: usize) -> Option<(String, usize)> {
    let bytes = line.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let start = at + 1;
    let rest = bytes.get(start..)?;
    // Most values hold no backslash: one scan, one exact allocation.
    let stop = start + rest.iter().position(|&byte| byte == b'"' || byte == b'\\')?;
    if bytes.get(stop) == Some(&b'"') {
        return Some((line.get(start..stop)?.to_owned(), stop + 1));
    }
    let mut text = String::new();
    let mut run = start;
    let mut index = stop;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'"' => {
                text.push_str(line.get(run..index)?);
                return Some((text, index + 1));
            }
            b'\\' => match bytes.get(index + 1) {
                Some(&escaped @ (b'"' | b'\\' | b']')) => {
                    text.push_str(line.get(run..index)?);
                    text.push(char::from(escaped));
                    index += 2;
                    run = index;
                }
                _ => index += 1,
            },
            _ => index += 1,
        }
    }
    None
}

/// What follows STRUCTURED-DATA: nothing, or one space and the MSG (UTF-8 BOM removed).
fn msg(line: &str, at: usize) -> Option<&str> {
    match line.as_bytes().get(at) {
        None => Some(""),
        Some(b' ') => {
            let text = line.get(at + 1..)?;
            Some(text.strip_prefix('\u{feff}').unwrap_or(text))
        }
        Some(_) => None,
    }
}

/// A time of day as written: `hh:mm:ss[.fraction]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TimeOfDay {
    pub(super) hour: u8,
    pub(super) minute: u8,
    pub(super) second: u8,
    pub(super) nanos: u32,
}

/// A calendar timestamp as written, before it is placed on the time line: the zone is `None`
/// when the text carries none (the caller then assumes its default zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stamp {
    pub(super) year: i32,
    pub(super) month: u8,
    pub(super) day: u8,
    pub(super) time: TimeOfDay,
    pub(super) offset: Option<UtcOffset>,
}

impl Stamp {
    /// UTC nanoseconds since the epoch; `None` for an impossible date or time (`Feb 30`,
    /// `25:00:00`) or one outside the `i64` range.
    ///
    pub(super) fn to_nanos(self, default_offset: UtcOffset) -> Option<i64> {
        let date = Date::from_calendar_date(self.year, Month::try_from(self.month).ok()?, self.day).ok()?;
        // A leap second (`:60`) has no place in `time`; it is the last instant of the minute.
        let (second, nanos) = if self.time.second == 60 {
            (59, 999_999_999)
        } else {
            (self.time.second, self.time.nanos)
        };
        let clock = (self.time.hour, self.time.minute, second, nanos);
        unix_nanos(date, clock, self.offset.unwrap_or(default_offset))
    }
}

/// RFC 3339 / ISO 8601 date-time at `at`: `yyyy-mm-ddThh:mm:ss[.fraction][Z|±hh:mm|±hhmm]`, and
/// the position after it. The zone is optional because rsyslog and some appliances write local
/// time without one (a zone that does not parse is left unread).
pub(super) fn rfc3339(bytes: &[u8], at: usize) -> Option<(Stamp, usize)> {
    let year = digits(bytes, at, 4)?;
    let month = preceded_digits(bytes, at + 4, b'-')?;
    let day = preceded_digits(bytes, at + 7, b'-')?;
    if !matches!(bytes.get(at + 10), Some(b'T' | b't')) {
        return None;
    }
    let (time, end) = time_of_day(bytes, at + 11)?;
    let (offset, end) = utc_offset(bytes, end);
    let stamp = Stamp {
        year: year as i32,
        month: month as u8,
        day: day as u8,
        time,
        offset,
    };
    Some((stamp, end))
}

/// `hh:mm:ss` at `at` with an optional fraction (`.` or `,`) of any length, and the position
/// after it; digits past nanoseconds are dropped. Values are range-checked loosely here
/// (hour < 24, minute < 60, second ≤ 60) so that looks-like checks reject obvious non-times; the
/// calendar check happens in [`Stamp::to_nanos`].
pub(super) fn time_of_day(bytes: &[u8], at: usize) -> Option<(TimeOfDay, usize)> {
    let hour = digits(bytes, at, 2)?;
    let minute = preceded_digits(bytes, at + 2, b':')?;
    let second = preceded_digits(bytes, at + 5, b':')?;
    let mut end = at + 8;
    let mut nanos = 0;
    if matches!(bytes.get(end), Some(b'.' | b',')) && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        let start = end + 1;
        end = start;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        nanos = fraction_nanos(bytes.get(start..end)?);
    }
    if hour >= 24 || minute >= 60 || second > 60 {
        return None;
    }
    let time = TimeOfDay {
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        nanos,
    };
    Some((time, end))
}

/// The nanoseconds of a decimal fraction written with any number of digits.
fn fraction_nanos(digits: &[u8]) -> u32 {
    digits
        .iter()
        .copied()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0, |nanos, digit| nanos * 10 + u32::from(digit - b'0'))
}

/// `Z`, or `±hh:mm` / `±hhmm` at `at`, and the position after it; `None` (nothing read) when
/// there is no valid zone there.
fn utc_offset(bytes: &[u8], at: usize) -> (Option<UtcOffset>, usize) {
    let signed = |sign: i8| {
        let hours = digits(bytes, at + 1, 2)?;
        let minutes_at = if bytes.get(at + 3) == Some(&b':') {
            at + 4
        } else {
            at + 3
        };
        let minutes = digits(bytes, minutes_at, 2)?;
        let offset = UtcOffset::from_hms(sign * hours as i8, sign * minutes as i8, 0).ok()?;
        Some((offset, minutes_at + 2))
    };
    let parsed = match bytes.get(at) {
        Some(b'Z' | b'z') => Some((UtcOffset::UTC, at + 1)),
        Some(b'+') => signed(1),
        Some(b'-') => signed(-1),
        _ => None,
    };
    match parsed {
        Some((offset, end)) => (Some(offset), end),
        None => (None, at),
    }
}

/// Exactly `width` ASCII digits at `at` as a number (widths are at most 4, so no overflow).
pub(super) fn digits(bytes: &[u8], at: usize, width: usize) -> Option<u32> {
    let digits = bytes.get(at..at + width)?;
    let mut number = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        number = number * 10 + u32::from(digit - b'0');
    }
    Some(number)
}

/// `separator` at `at`, then two digits.
fn preceded_digits(bytes: &[u8], at: usize, separator: u8) -> Option<u32> {
    if bytes.get(at) != Some(&separator) {
        return None;
    }
    digits(bytes, at + 1, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ParseContext {
        ParseContext {
            default_offset: UtcOffset::from_hms(7, 0, 0).expect("valid offset"),
            // 2026-11-20T12:00:00Z
            received_nanos: 1_795_176_000_000_000_000,
        }
    }

    fn nanos(text: &str) -> i64 {
        let time = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .expect("valid RFC 3339 in test");
        i64::try_from(time.unix_timestamp_nanos()).expect("in range")
    }

    #[test]
    fn parses_full_header_with_structured_data_and_bom() {
        let line = "<165>1 2026-11-20T08:15:00.123456+07:00 web01.hp.gov.vn portal 4321 ID47 \
                    [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \u{feff}An application event";
        let header = parse(line, &context()).expect("parses");
        assert_eq!(header.facility, Some(20));
        assert_eq!(header.severity, Some(5));
        assert_eq!(header.timestamp_text, Some("2026-11-20T08:15:00.123456+07:00"));
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-20T01:15:00.123456Z")));
        assert_eq!(header.hostname, Some("web01.hp.gov.vn"));
        assert_eq!(header.app_name, Some("portal"));
        assert_eq!(header.proc_id, Some("4321"));
        assert_eq!(header.msg_id, Some("ID47"));
        assert_eq!(
            header.structured_data,
            vec![
                ("exampleSDID@32473.iut".to_owned(), "3".to_owned()),
                (
                    "exampleSDID@32473.eventSource".to_owned(),
                    "Application".to_owned()
                ),
                ("exampleSDID@32473.eventID".to_owned(), "1011".to_owned()),
            ]
        );
        assert_eq!(header.message, "An application event");
    }

    #[test]
    fn nil_values_become_none() {
        let header = parse("<34>1 - - - - - -", &context()).expect("parses");
        assert_eq!(header.facility, Some(4));
        assert_eq!(header.severity, Some(2));
        assert_eq!(header.timestamp_text, None);
        assert_eq!(header.timestamp_nanos, None);
        assert_eq!(header.hostname, None);
        assert_eq!(header.app_name, None);
        assert_eq!(header.proc_id, None);
        assert_eq!(header.msg_id, None);
        assert!(header.structured_data.is_empty());
        assert_eq!(header.message, "");
    }

    #[test]
    fn nil_structured_data_then_message() {
        let header = parse(
            "<13>1 2026-11-20T01:15:00Z host app - - - hello world",
            &context(),
        )
        .expect("parses");
        assert_eq!(header.timestamp_nanos, Some(nanos("2026-11-20T01:15:00Z")));
        assert_eq!(header.hostname, Some("host"));
        assert_eq!(header.app_name, Some("app"));
        assert_eq!(header.proc_id, None);
        assert_eq!(header.msg_id, None);
        assert!(header.structured_data.is_empty());
        assert_eq!(header.message, "hello world");
    }

    #[test]
    fn unescapes_structured_data_values() {
        let line =
            r#"<13>1 2026-11-20T01:15:00Z h a - - [x@1 q="say \"hi\"" b="a\\b" c="[x\]" d="C:\temp"] m"#;
        let header = parse(line, &context()).expect("parses");
        assert_eq!(
            header.structured_data,
            vec![
                ("x@1.q".to_owned(), "say \"hi\"".to_owned()),
                ("x@1.b".to_owned(), "a\\b".to_owned()),
                ("x@1.c".to_owned(), "[x]".to_owned()),
                ("x@1.d".to_owned(), "C:\\temp".to_owned()),
            ]
        );
        assert_eq!(header.message, "m");
    }

    #[test]
    fn several_structured_data_elements_and_empty_element() {
        let line =
            r#"<13>1 2026-11-20T01:15:00Z h a 1 - [timeQuality tzKnown="1"][origin ip="10.0.0.5"][meta]"#;
        let header = parse(line, &context()).expect("parses");
        assert_eq!(
            header.structured_data,
            vec![
                ("timeQuality.tzKnown".to_owned(), "1".to_owned()),
                ("origin.ip".to_owned(), "10.0.0.5".to_owned()),
            ]
        );
        assert_eq!(header.proc_id, Some("1"));
        assert_eq!(header.message, "");
    }

    #[test]
    fn non_ascii_message_and_values() {
        let line = "<14>1 2026-11-20T01:15:00Z h a - - [u@1 ten=\"Nguyễn Văn A\"] Đăng nhập thành công";
        let header = parse(line, &context()).expect("parses");
        assert_eq!(
            header.structured_data,
            vec![("u@1.ten".to_owned(), "Nguyễn Văn A".to_owned())]
        );
        assert_eq!(header.message, "Đăng nhập thành công");
    }

    #[test]
    fn timestamp_offsets_and_fractions() {
        let cases = [
            ("2026-11-20T08:15:00+07:00", "2026-11-20T01:15:00Z"),
            ("2026-11-20T08:15:00.5-02:30", "2026-11-20T10:45:00.5Z"),
            (
                "2026-11-20t01:15:00.1234567891z",
                "2026-11-20T01:15:00.123456789Z",
            ),
            ("2026-11-20T08:15:00+0700", "2026-11-20T01:15:00Z"),
            // No zone: the context's default (+07:00).
            ("2026-11-20T08:15:00", "2026-11-20T01:15:00Z"),
            // Leap second: the last instant of the minute.
            ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999999Z"),
        ];
        for (written, expected) in cases {
            let line = format!("<13>1 {written} h a - - - m");
            let header = parse(&line, &context()).expect("parses");
            assert_eq!(header.timestamp_text, Some(written), "{written}");
            assert_eq!(header.timestamp_nanos, Some(nanos(expected)), "{written}");
        }
    }

    #[test]
    fn impossible_date_keeps_text_without_nanos() {
        let header = parse("<13>1 2026-02-30T08:15:00Z h a - - - m", &context()).expect("parses");
        assert_eq!(header.timestamp_text, Some("2026-02-30T08:15:00Z"));
        assert_eq!(header.timestamp_nanos, None);
    }

    #[test]
    fn looks_like_needs_version_one() {
        assert!(looks_like("<13>1 - - - - - -"));
        assert!(looks_like("<0>1 2026-11-20T01:15:00Z h a - - - m"));
        assert!(!looks_like("<13>Nov 20 08:15:00 host sshd[1]: x"));
        assert!(!looks_like("<13>12 x"));
        assert!(!looks_like("13>1 x"));
        assert!(!looks_like(""));
    }

    #[test]
    fn malformed_lines_are_none() {
        let long = format!(
            "<13>1 2026-11-20T01:15:00Z h a - - [x@1 a=\"{}",
            "v".repeat(100_000)
        );
        let cases = [
            "",
            "<13",
            "<13>1",
            "<999>1 - - - - - -",
            "<192>1 - - - - - -",
            "<13>0 - - - - - -",
            "<13>1 - - - - -",
            "<13>1  - - - - -",
            "<13>1 - - - - - [unterminated a=\"1\"",
            "<13>1 - - - - - [x a=\"1\"]trailing",
            "<13>1 - - - - - [x a=1]",
            "<13>1 - - - - - [] m",
            "<13>1 - - - - - -message-without-space",
            "<13>1 20261120 h a - - - m",
            "garbage",
            "Đăng nhập <13>1 - - - - - -",
            long.as_str(),
        ];
        for line in cases {
            assert_eq!(parse(line, &context()), None, "{line:.60}");
        }
    }

    #[test]
    fn very_long_message_parses() {
        let line = format!("<13>1 - h a - - - {}", "x".repeat(200_000));
        let header = parse(&line, &context()).expect("parses");
        assert_eq!(header.message.len(), 200_000);
    }
}
