//! RFC 5424 syslog: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`.
//!
//! The header is six space-separated fields after `<PRI>VERSION`, each of which may be the nil
//! value `-`; then STRUCTURED-DATA (`-` or one or more `[id param="value" ...]` elements); then,
//! after one space, the free-form MSG (a leading UTF-8 BOM removed).
//!
//! This module also holds the RFC 3339 timestamp grammar ([`rfc3339`], [`Stamp`]), which the
//! RFC 3164 parser reuses for rsyslog's high-precision timestamps.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_till1, take_while_m_n, take_while1},
    character::complete::{char, digit1, one_of},
    combinator::{consumed, eof, map, map_opt, opt, peek, recognize, rest, value},
    multi::{many0, many1},
    sequence::{delimited, preceded},
};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use super::rfc3164::pri;
use super::{ParseContext, SyslogHeader};

/// Parser results; the error carries nothing because a failure only ever means "not this format".
type Res<'a, O> = IResult<&'a str, O, ()>;

/// Whether the line looks like RFC 5424 syslog: `<PRI>1 `, the version being what sets it apart
/// from RFC 3164.
pub(crate) fn looks_like(line: &str) -> bool {
    (pri, tag("1 ")).parse(line).is_ok()
}

/// Parses the header; `None` if the line is not RFC 5424 syslog.
pub(crate) fn parse<'a>(line: &'a str, context: &ParseContext) -> Option<SyslogHeader<'a>> {
    let (
        (facility, severity),
        _,
        _,
        timestamp,
        _,
        hostname,
        _,
        app_name,
        _,
        proc_id,
        _,
        msg_id,
        _,
        sd,
        message,
    ) = (
        pri,
        version,
        char(' '),
        nil_or(consumed(rfc3339)),
        char(' '),
        nil_or(token),
        char(' '),
        nil_or(token),
        char(' '),
        nil_or(token),
        char(' '),
        nil_or(token),
        char(' '),
        structured_data,
        msg,
    )
        .parse(line)
        .ok()?
        .1;
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
        structured_data: sd,
        message,
    })
}

/// VERSION: a non-zero digit and up to two more (only `1` is defined today).
fn version(input: &str) -> Res<'_, &str> {
    recognize((
        one_of("123456789"),
        take_while_m_n(0, 2, |c: char| c.is_ascii_digit()),
    ))
    .parse(input)
}

/// A header field: printable characters up to the next space.
fn token(input: &str) -> Res<'_, &str> {
    take_till1(|c: char| c == ' ')(input)
}

/// `-` (the nil value, giving `None`) or what `parser` reads. The nil dash must stand alone, so
/// a field that merely starts with `-` (a hostname like `-x`, unlikely but legal) is not nil.
fn nil_or<'a, O, P>(parser: P) -> impl Parser<&'a str, Output = Option<O>, Error = ()>
where
    P: Parser<&'a str, Output = O, Error = ()>,
{
    alt((
        map((char('-'), peek(alt((tag(" "), eof)))), |_| None),
        map(parser, Some),
    ))
}

/// STRUCTURED-DATA: nil, or one or more elements, flattened to (`id.param`, value) pairs.
fn structured_data(input: &str) -> Res<'_, Vec<(String, String)>> {
    alt((
        value(Vec::new(), char('-')),
        map(many1(sd_element), |elements| {
            elements.into_iter().flatten().collect()
        }),
    ))
    .parse(input)
}

/// One `[id param="value" ...]` element. The id may carry an enterprise number (`id@32473`).
fn sd_element(input: &str) -> Res<'_, Vec<(String, String)>> {
    map(
        delimited(
            char('['),
            (sd_name, many0(preceded(char(' '), sd_param))),
            char(']'),
        ),
        |(id, params)| {
            params
                .into_iter()
                .map(|(name, value)| (format!("{id}.{name}"), value))
                .collect()
        },
    )
    .parse(input)
}

/// SD-NAME: printable ASCII except `=`, space, `]` and `"`.
fn sd_name(input: &str) -> Res<'_, &str> {
    take_while1(|c: char| c.is_ascii_graphic() && !matches!(c, '=' | ']' | '"'))(input)
}

/// `name="value"`.
fn sd_param(input: &str) -> Res<'_, (&str, String)> {
    (sd_name, preceded(char('='), param_value)).parse(input)
}

/// PARAM-VALUE between double quotes. Inside, only `\"`, `\\` and `\]` are escapes (RFC 5424
/// §6.3.3); a backslash before anything else is an ordinary character and is kept.
fn param_value(input: &str) -> Res<'_, String> {
    let (input, _) = char('"')(input)?;
    let mut text = String::new();
    let mut chars = input.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Ok((&input[index + 1..], text)),
            '\\' => match chars.clone().next() {
                Some((_, escaped @ ('"' | '\\' | ']'))) => {
                    text.push(escaped);
                    chars.next();
                }
                _ => text.push('\\'),
            },
            _ => text.push(c),
        }
    }
    // No closing quote: a truncated line.
    Err(nom::Err::Error(()))
}

/// What follows STRUCTURED-DATA: nothing, or one space and the MSG (UTF-8 BOM removed).
fn msg(input: &str) -> Res<'_, &str> {
    alt((
        map(eof, |_| ""),
        map(preceded(char(' '), rest), |text: &str| {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        }),
    ))
    .parse(input)
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
    pub(super) fn to_nanos(self, default_offset: UtcOffset) -> Option<i64> {
        let date = Date::from_calendar_date(self.year, Month::try_from(self.month).ok()?, self.day).ok()?;
        // A leap second (`:60`) has no place in `time`; it is the last instant of the minute.
        let (second, nanos) = if self.time.second == 60 {
            (59, 999_999_999)
        } else {
            (self.time.second, self.time.nanos)
        };
        let time = Time::from_hms_nano(self.time.hour, self.time.minute, second, nanos).ok()?;
        let nanos = PrimitiveDateTime::new(date, time)
            .assume_offset(self.offset.unwrap_or(default_offset))
            .unix_timestamp_nanos();
        i64::try_from(nanos).ok()
    }
}

/// RFC 3339 / ISO 8601 date-time: `yyyy-mm-ddThh:mm:ss[.fraction][Z|±hh:mm|±hhmm]`. The zone is
/// optional because rsyslog and some appliances write local time without one.
pub(super) fn rfc3339(input: &str) -> Res<'_, Stamp> {
    map(
        (
            number(4),
            preceded(char('-'), number(2)),
            preceded(char('-'), number(2)),
            preceded(one_of("Tt"), time_of_day),
            opt(utc_offset),
        ),
        |(year, month, day, time, offset)| Stamp {
            year: year as i32,
            month: month as u8,
            day: day as u8,
            time,
            offset,
        },
    )
    .parse(input)
}

/// `hh:mm:ss` with an optional fraction (`.` or `,`) of any length; digits past nanoseconds are
/// dropped. Values are range-checked loosely here (hour < 24, minute < 60, second ≤ 60) so that
/// looks-like checks reject obvious non-times; the calendar check happens in [`Stamp::to_nanos`].
pub(super) fn time_of_day(input: &str) -> Res<'_, TimeOfDay> {
    map_opt(
        (
            number(2),
            preceded(char(':'), number(2)),
            preceded(char(':'), number(2)),
            opt(preceded(one_of(".,"), digit1)),
        ),
        |(hour, minute, second, fraction)| {
            (hour < 24 && minute < 60 && second <= 60).then(|| TimeOfDay {
                hour: hour as u8,
                minute: minute as u8,
                second: second as u8,
                nanos: fraction.map_or(0, fraction_nanos),
            })
        },
    )
    .parse(input)
}

/// The nanoseconds of a decimal fraction written with any number of digits.
fn fraction_nanos(digits: &str) -> u32 {
    digits
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0, |nanos, digit| nanos * 10 + u32::from(digit - b'0'))
}

/// `Z`, or `±hh:mm` / `±hhmm`.
fn utc_offset(input: &str) -> Res<'_, UtcOffset> {
    alt((
        value(UtcOffset::UTC, one_of("Zz")),
        map_opt(
            (one_of("+-"), number(2), opt(char(':')), number(2)),
            |(sign, hours, _, minutes)| {
                let sign = if sign == '-' { -1 } else { 1 };
                UtcOffset::from_hms(sign * hours as i8, sign * minutes as i8, 0).ok()
            },
        ),
    ))
    .parse(input)
}

/// Exactly `width` ASCII digits as a number (widths are at most 4, so no overflow).
pub(super) fn number<'a>(width: usize) -> impl Parser<&'a str, Output = u32, Error = ()> {
    map(
        take_while_m_n(width, width, |c: char| c.is_ascii_digit()),
        |digits: &str| {
            digits
                .bytes()
                .fold(0, |number, digit| number * 10 + u32::from(digit - b'0'))
        },
    )
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
