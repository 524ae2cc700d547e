//! The harness the collector's fuzz targets share: it cuts the input into lines, gives them to a
//! [`Normalizer`] the way the collector does, and checks what a user relies on besides "no panic":
//!
//! - every non-blank line yields exactly one event, in order, whose `raw` is the line verbatim
//!   (only the trailing `\r` that `Normalizer::push` strips is gone), and a blank line none;
//! - where auditd records can be grouped (audit.log, or records carried by syslog), no record is
//!   lost or duplicated: after `Normalizer::finish`, the events' `raw` texts, cut at their `\n`
//!   joints, are exactly the lines given, except end-of-event (`EOE`) records whose event was
//!   already emitted (they carry nothing, and the assembler drops them by design);
//! - timestamps are sane: a line no parser understood carries the receive time; an event with a
//!   time has an `@timestamp` field that is that time in RFC 3339; a BSD syslog time without a
//!   year is never put more than a day after the receive time (nor more than nine years before);
//!   the auth target's events carry the time of the fixed header they were sent with;
//! - the ECS fields the parsers derive are typed: `source.ip`, `destination.ip`... hold an IP
//!   address, `source.port`, `destination.port`... a number (unless the line itself used that name
//!   as a key, which is kept as written);
//! - a host, when one is named, is not empty; every event has a source type.
//!
//! Every check panics with the line and the event, so a broken invariant is a crash libFuzzer
//! saves like any other.

use std::net::IpAddr;
use std::sync::OnceLock;

use haidang_collector::parse::{Format, Normalizer, ParseContext};
use haidang_detector::Mappings;
use haidang_event::{Event, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// When every line is received: 2025-11-27T01:00:00Z, 08:00 in the default zone (+07:00).
pub const RECEIVED_NANOS: i64 = 1_764_205_200 * 1_000_000_000;

/// One day in nanoseconds.
const DAY_NANOS: i64 = 86_400 * 1_000_000_000;

/// An RFC 3164 header in the default zone at the receive time (`<PRI>` 134: local0.info), put
/// before lines of formats that usually arrive through syslog.
pub const SYSLOG_HEADER: &str = "<134>Nov 27 08:00:00 fuzzhost ";

/// The same header for the auth target (`<PRI>` 86: authpriv.info).
pub const AUTH_HEADER: &str = "<86>Nov 27 08:00:00 fuzzhost ";

/// The time both headers give, in UTC nanoseconds (= [`RECEIVED_NANOS`]).
pub const HEADER_NANOS: i64 = RECEIVED_NANOS;

/// The source types of the auth parser: their events take the syslog header's time.
const AUTH_SOURCE_TYPES: &[&str] = &[
    "sshd",
    "sudo",
    "su",
    "useradd",
    "groupadd",
    "usermod",
    "userdel",
    "groupdel",
    "groupmod",
    "passwd",
    "chpasswd",
    "gpasswd",
    "chage",
    "login",
    "systemd-logind",
    "cron",
    "pam",
];

/// The ECS address fields the parsers derive (a source's own keys, such as a structured-data
/// parameter `x.ip`, are kept as written and not checked).
const ECS_IP_FIELDS: &[&str] = &[
    "source.ip",
    "destination.ip",
    "client.ip",
    "server.ip",
    "host.ip",
    "observer.ip",
    "related.ip",
    "source.nat.ip",
    "destination.nat.ip",
];

/// The ECS port fields the parsers derive.
const ECS_PORT_FIELDS: &[&str] = &[
    "source.port",
    "destination.port",
    "client.port",
    "server.port",
    "source.nat.port",
    "destination.nat.port",
];

/// The parse context of every target: default zone +07:00, a fixed receive time (so runs are
/// reproducible).
pub fn context() -> ParseContext {
    ParseContext {
        default_offset: UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC),
        received_nanos: RECEIVED_NANOS,
    }
}

/// The built-in mappings (the ones the collector names JSON fields with).
pub fn mappings() -> &'static Mappings {
    static MAPPINGS: OnceLock<Mappings> = OnceLock::new();
    MAPPINGS.get_or_init(|| haidang_collector::load_mappings(None).expect("the built-in mappings load"))
}

/// One way of feeding the input's lines to a normaliser.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    /// The format the normaliser is told.
    pub format: Format,
    /// Text put before every line (a syslog header), or empty.
    pub prefix: &'static str,
    /// Whether auditd records can reach the assembler in this pass (then records of one event
    /// may come out as one event, later than their line).
    pub groups: bool,
    /// Whether every auth event must carry [`HEADER_NANOS`].
    pub auth_header: bool,
}

impl Pass {
    /// A bare body format: one line, one event, never grouped.
    pub const fn bare(format: Format) -> Pass {
        Pass {
            format,
            prefix: "",
            groups: false,
            auth_header: false,
        }
    }

    /// A format that may carry auditd records, fed as it is.
    pub const fn grouping(format: Format) -> Pass {
        Pass {
            format,
            prefix: "",
            groups: true,
            auth_header: false,
        }
    }

    /// Lines sent as the message of an RFC 3164 syslog line with a fixed header.
    pub const fn through_syslog(prefix: &'static str) -> Pass {
        Pass {
            format: Format::Rfc3164,
            prefix,
            groups: true,
            auth_header: false,
        }
    }
}

/// Runs one pass over the input (invalid UTF-8 replaced, as the collector's inputs do).
pub fn run(pass: Pass, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut normalizer = Normalizer::new(pass.format, context());
    let mut out: Vec<Event> = Vec::new();
    // Lines handed to the auditd assembler whose event has not come out yet.
    let mut pending: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in text.split('\n') {
        line.clear();
        line.push_str(pass.prefix);
        line.push_str(piece);
        let before = out.len();
        normalizer.push(&line, &mut out);
        let expected = line.trim_end_matches(['\r', '\n']);
        let new = &out[before..];
        for event in new {
            check_event(pass, event);
        }
        if expected.trim().is_empty() {
            assert!(new.is_empty(), "a blank line gave events: {line:?} -> {new:#?}");
            continue;
        }
        if !pass.groups || !expected.contains("audit(") {
            // Not an auditd record: exactly one event, now, with the line as it came.
            assert_eq!(
                new.len(),
                1,
                "line {expected:?} gave {} events: {new:#?}",
                new.len()
            );
            assert_eq!(new[0].raw, expected, "raw text not kept verbatim");
        } else {
            pending.push(expected.to_owned());
            for event in new {
                account(&mut pending, event);
            }
        }
    }
    let before = out.len();
    normalizer.finish(&mut out);
    for event in &out[before..] {
        check_event(pass, event);
        account(&mut pending, event);
    }
    pending.retain(|line| !is_end_of_event(line));
    assert!(pending.is_empty(), "records lost: {pending:#?}");
    if !pass.groups {
        assert_eq!(
            before,
            out.len(),
            "finish emitted events in a pass that cannot group"
        );
    }
}

/// Takes the lines an event was made of out of `pending`; each must be there (a line not given,
/// or given once and emitted twice, is a bug).
fn account(pending: &mut Vec<String>, event: &Event) {
    for part in event.raw.split('\n') {
        match pending.iter().position(|line| line == part) {
            Some(index) => {
                pending.swap_remove(index);
            }
            None => panic!("event text {part:?} is not a pending line: {event:#?}\npending: {pending:#?}"),
        }
    }
}

/// An auditd end-of-event record (`type=EOE` or its number 1320).
fn is_end_of_event(line: &str) -> bool {
    line.contains("type=EOE ") || line.contains("type=1320 ")
}

/// The checks of one event (see the crate documentation).
fn check_event(pass: Pass, event: &Event) {
    let source_type = event.source_type.as_deref();
    assert!(
        source_type.is_some_and(|kind| !kind.is_empty()),
        "no source type: {event:#?}"
    );
    if let Some(host) = &event.host {
        assert!(!host.is_empty(), "empty host: {event:#?}");
    }
    // A JSON document names its own fields and times: only the raw text and the above apply.
    if pass.format == Format::Json || (pass.format == Format::Auto && event.raw.trim_start().starts_with('{'))
    {
        return;
    }
    if event.fields.contains("event.parse_error") && source_type == Some("unparsed") {
        assert_eq!(
            event.timestamp_nanos,
            Some(RECEIVED_NANOS),
            "an unparsed line must carry the receive time: {event:#?}"
        );
        return;
    }
    if let Some(nanos) = event.timestamp_nanos {
        let text = OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .ok()
            .and_then(|time| time.format(&Rfc3339).ok())
            .unwrap_or_else(|| panic!("timestamp {nanos} has no RFC 3339 form: {event:#?}"));
        let written = event.fields.get_all("@timestamp").last().and_then(Value::as_text);
        assert_eq!(
            written.as_deref(),
            Some(text.as_str()),
            "@timestamp is not the event time: {event:#?}"
        );
    }
    let takes_header_time =
        source_type.is_some_and(|kind| kind == "syslog" || AUTH_SOURCE_TYPES.contains(&kind));
    if takes_header_time {
        if let Some(nanos) = event.timestamp_nanos
            && let Some(original) = event
                .fields
                .get("event.original_timestamp")
                .and_then(Value::as_text)
            && is_bsd_without_year(&original)
        {
            assert!(
                nanos <= RECEIVED_NANOS + DAY_NANOS && nanos > RECEIVED_NANOS - 9 * 366 * DAY_NANOS,
                "inferred year out of range ({original:?}): {event:#?}"
            );
        }
        if pass.auth_header && source_type != Some("syslog") {
            assert_eq!(
                event.timestamp_nanos,
                Some(HEADER_NANOS),
                "auth event not at its header's time: {event:#?}"
            );
        }
    }
    for (name, value) in event.fields.iter() {
        // A name the line itself used as a key is kept as written, whatever its value.
        if event.raw.contains(name) {
            continue;
        }
        if ECS_IP_FIELDS.contains(&name) {
            let text = value.as_text();
            assert!(
                text.as_deref().is_some_and(|text| text.parse::<IpAddr>().is_ok()),
                "{name} is not an IP address: {value:?} in {event:#?}"
            );
        } else if ECS_PORT_FIELDS.contains(&name) {
            assert!(
                matches!(value, Value::Int(_)),
                "{name} is not a number: {value:?} in {event:#?}"
            );
        }
    }
}

/// `Nov 27 08:00:00[.fff]`: a BSD timestamp whose year the parser infers (not Cisco's
/// `Nov 27 2025 08:00:00`, not RFC 3339).
fn is_bsd_without_year(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && !text
            .split_whitespace()
            .any(|word| word.len() == 4 && word.bytes().all(|byte| byte.is_ascii_digit()))
}
