//! Parsing and normalisation: one raw line (or JSON document) in, one normalised [`Event`] out.
//!
//! Two layers:
//! - *envelopes* carry a header and a message: RFC 3164 and RFC 5424 syslog ([`SyslogHeader`]);
//! - *bodies* are the formats of the message itself: Linux auth (sshd, sudo, su, PAM, user and
//!   group tools), cron, CEF, LEEF, key=value (FortiGate and the like), Cisco ASA/FTD, Palo Alto
//!   CSV, Apache/Nginx access logs, auditd records.
//!
//! A body may also arrive bare (an access log file, an audit.log). [`Normalizer`] detects the
//! format of each line (or takes the one it is told), runs the envelope and body parsers, groups
//! auditd records into one event per `audit(ts:serial)`, and fills the event model: UTC timestamp
//! and its original text, host, Sigma logsource, source type, the raw line verbatim, and fields
//! named after the Elastic Common Schema (with the source's own names kept too). A line no parser
//! understands becomes an event with `event.parse_error` set and is counted, never dropped.

mod access;
mod asa;
mod auditd;
mod auth;
mod cef;
mod keyvalue;
mod leef;
mod paloalto;
mod rfc3164;
mod rfc5424;
mod vendor;

use haidang_event::{Event, Fields, Logsource};
use time::UtcOffset;

pub(crate) use auditd::AuditAssembler;

/// The formats a line can be parsed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Detect per line.
    Auto,
    /// RFC 3164 (BSD) syslog.
    Rfc3164,
    /// RFC 5424 syslog.
    Rfc5424,
    /// ArcSight CEF (bare or inside syslog).
    Cef,
    /// IBM LEEF (bare or inside syslog).
    Leef,
    /// key=value (FortiGate and the like).
    KeyValue,
    /// Cisco ASA / FTD `%ASA-n-nnnnnn`.
    CiscoAsa,
    /// Palo Alto CSV (traffic, threat, system).
    PaloAlto,
    /// Apache/Nginx combined or common access log.
    Access,
    /// auditd `audit.log` records.
    Auditd,
    /// JSON documents (Windows events from the evtx crate, Winlogbeat, NXLog, or our own shape).
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "auto" => Format::Auto,
            "rfc3164" | "syslog" => Format::Rfc3164,
            "rfc5424" => Format::Rfc5424,
            "cef" => Format::Cef,
            "leef" => Format::Leef,
            "kv" | "keyvalue" | "fortigate" => Format::KeyValue,
            "asa" | "cisco-asa" | "ftd" => Format::CiscoAsa,
            "paloalto" | "panos" => Format::PaloAlto,
            "access" | "apache" | "nginx" => Format::Access,
            "auditd" => Format::Auditd,
            "json" => Format::Json,
            other => {
                return Err(format!(
                    "unknown format `{other}` (auto, rfc3164, rfc5424, cef, leef, kv, asa, paloalto, access, auditd, json)"
                ));
            }
        })
    }
}

/// What parsing needs to know about the world.
#[derive(Clone, Debug)]
pub struct ParseContext {
    /// Zone of timestamps that carry none (RFC 3164, access logs without offset, FortiGate
    /// date/time): Asia/Ho_Chi_Minh (+07:00) unless configured.
    pub default_offset: UtcOffset,
    /// When the line was received (ns since the epoch, UTC): fills a missing year (RFC 3164: the
    /// year that puts the timestamp closest to, and not far after, the receive time).
    pub received_nanos: i64,
}

impl Default for ParseContext {
    fn default() -> Self {
        ParseContext {
            default_offset: UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC),
            received_nanos: time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64,
        }
    }
}

/// The field name prefix of RFC 5424 STRUCTURED-DATA parameters in the event
/// (`log.syslog.structured_data.` + `sd-id.param`).
pub(crate) const SD_FIELD_PREFIX: &str = "log.syslog.structured_data.";

/// A syslog header (RFC 3164 or 5424) and the message after it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SyslogHeader<'a> {
    /// Facility, when a `<PRI>` was present.
    pub facility: Option<u8>,
    /// Severity, when a `<PRI>` was present.
    pub severity: Option<u8>,
    /// The timestamp in UTC nanoseconds, when it parsed.
    pub timestamp_nanos: Option<i64>,
    /// The timestamp as written.
    pub timestamp_text: Option<&'a str>,
    /// HOSTNAME.
    pub hostname: Option<&'a str>,
    /// APP-NAME / TAG (the program), without the `[pid]`.
    pub app_name: Option<&'a str>,
    /// PROCID / the `[pid]` of the tag.
    pub proc_id: Option<&'a str>,
    /// MSGID (RFC 5424).
    pub msg_id: Option<&'a str>,
    /// STRUCTURED-DATA (RFC 5424) as (`sd-id.param`, value) pairs, values unescaped.
    pub structured_data: Vec<(String, String)>,
    /// The MSG part (a UTF-8 BOM removed).
    pub message: &'a str,
}

/// What a body parser recognised.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Recognized {
    /// The Sigma logsource of the event.
    pub logsource: Logsource,
    /// A short name of the source type (`sshd`, `fortigate`, `cisco-asa`, `apache-access`...).
    pub source_type: &'static str,
    /// The event's own time when the body carries one (FortiGate `date`/`time`, access log
    /// `[10/Oct/2000:13:55:36 -0700]`, auditd `audit(ts:...)`), UTC nanoseconds.
    pub timestamp_nanos: Option<i64>,
    /// The host named by the body, when it names one (FortiGate `devname`, CEF `dvchost`).
    pub host: Option<String>,
}

pub(crate) fn logsource(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> Logsource {
    Logsource {
        product: product.map(str::to_owned),
        category: category.map(str::to_owned),
        service: service.map(str::to_owned),
    }
}

/// Turns lines into events. Holds the state multi-line formats need (auditd records are grouped
/// by serial), so give it every line of one source in order and call [`Normalizer::finish`] at
/// the end.
pub struct Normalizer {
    format: Format,
    context: ParseContext,
    audit: AuditAssembler,
    /// Lines no parser understood.
    pub unparsed: u64,
}

impl Normalizer {
    /// A normaliser for one source.
    pub fn new(format: Format, context: ParseContext) -> Normalizer {
        Normalizer {
            format,
            context,
            audit: AuditAssembler::default(),
            unparsed: 0,
        }
    }

    /// Parses one line, appending the events it completes (none while an auditd event is still
    /// being assembled; possibly an earlier audit event and this line's event).
    pub fn push(&mut self, line: &str, out: &mut Vec<Event>) {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return;
        }
        let event = self.parse(line, out);
        if let Some(event) = event {
            if event.fields.contains("event.parse_error") {
                self.unparsed += 1;
            }
            out.push(event);
        }
    }

    /// Emits what is still being assembled.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.audit.flush(out);
    }

    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Option<Event> {
        let (format, web) = if self.format == Format::Auto {
            detect_line(line)
        } else {
            (self.format, None)
        };
        match format {
            Format::Json => Some(self.json(line)),
            Format::Auditd => {
                if self.audit.push(line, None, &self.context, out) {
                    None
                } else {
                    Some(self.unparsed_event(line, "not an auditd record"))
                }
            }
            Format::Rfc3164 | Format::Rfc5424 => {
                let header = if format == Format::Rfc5424 {
                    rfc5424::parse(line, &self.context)
                } else {
                    rfc3164::parse(line, &self.context)
                };
                match header {
                    Some(header) => self.syslog(line, header, out),
                    None => {
                        let mut fields = event_fields();
                        fields.push("message", line);
                        match vendor::parse(None, line, &self.context, &mut fields) {
                            Some(recognized) => {
                                let timestamp = recognized.timestamp_nanos;
                                Some(self.finish_event(line, fields, recognized, timestamp, None))
                            }
                            None => Some(self.unparsed_event(line, "not a syslog line")),
                        }
                    }
                }
            }
            body => Some(self.bare(line, body, web)),
        }
    }

    fn json(&self, line: &str) -> Event {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(document) if document.is_object() => {
                let mut event =
                    crate::input::event_from_json_owned(document, crate::rules::embedded_mappings());
                event.raw = line.to_owned();
                event.source_type.get_or_insert_with(|| "json".to_owned());
                event
            }
            _ => self.unparsed_event(line, "invalid JSON"),
        }
    }

    /// A syslog line: header fields, then the body parsers chosen by program and content.
    fn syslog(&mut self, line: &str, mut header: SyslogHeader<'_>, out: &mut Vec<Event>) -> Option<Event> {
        let mut fields = event_fields();
        if let Some(text) = header.timestamp_text {
            fields.push("event.original_timestamp", text);
        }
        if let Some(host) = header.hostname {
            fields.push("host.name", host);
        }
        if let Some(program) = header.app_name {
            // Rules name the program, not its variants: `sshd(pam_unix)` (old PAM tags) and
            // `sshd-session` (OpenSSH 9.8+) are sshd. The tag as written stays available.
            let base = program.split('(').next().unwrap_or(program);
            let base = if base.starts_with("sshd-") { "sshd" } else { base };
            fields.push("process.name", base);
            if base != program {
                fields.push("log.syslog.appname", program);
            }
        }
        if let Some(pid) = header.proc_id {
            match pid.parse::<i64>() {
                Ok(number) => fields.push("process.pid", number),
                Err(_) => fields.push("process.pid", pid),
            }
        }
        if let Some(facility) = header.facility {
            fields.push("log.syslog.facility.code", i64::from(facility));
        }
        if let Some(severity) = header.severity {
            fields.push("log.syslog.severity.code", i64::from(severity));
        }
        if let Some(msg_id) = header.msg_id {
            fields.push("log.syslog.msgid", msg_id);
        }
        // The RFC 5424 parser leaves room for the prefix in each name: no new allocation here.
        for (mut name, value) in std::mem::take(&mut header.structured_data) {
            name.insert_str(0, SD_FIELD_PREFIX);
            fields.push(name, value);
        }
        fields.push("message", header.message);

        // An audit record names its `type=`.
        if header.message.contains("type=") && auditd::looks_like_audit(header.message) {
            let mut prefix = fields.clone();
            prefix.push("log.original", line);
            if self.audit.push(header.message, Some(prefix), &self.context, out) {
                return None;
            }
        }
        let recognized =
            body(&self.context, header.app_name, header.message, &mut fields).unwrap_or_else(|| Recognized {
                logsource: logsource(Some("linux"), None, Some("syslog")),
                source_type: "syslog",
                ..Recognized::default()
            });
        let timestamp = recognized.timestamp_nanos.or(header.timestamp_nanos);
        Some(self.finish_event(line, fields, recognized, timestamp, header.hostname))
    }

    /// A body without a syslog envelope; `web` is the split of an access or error log line that
    /// detection already made.
    fn bare(&self, line: &str, format: Format, web: Option<access::Split<'_>>) -> Event {
        let mut fields = event_fields();
        fields.push("message", line);
        let recognized = match format {
            Format::Cef => cef::parse(line, &mut fields),
            Format::Leef => leef::parse(line, &mut fields),
            Format::KeyValue => keyvalue::parse(line, &self.context, &mut fields),
            Format::CiscoAsa => asa::parse(line, &mut fields),
            Format::PaloAlto => paloalto::parse(line, &self.context, &mut fields),
            Format::Access => match web {
                Some(web) => Some(access::recognize(web, &self.context, &mut fields)),
                None => access::parse(line, &self.context, &mut fields),
            },
            _ => None,
        };
        match recognized {
            Some(recognized) => {
                let timestamp = recognized.timestamp_nanos;
                self.finish_event(line, fields, recognized, timestamp, None)
            }
            None => self.unparsed_event(line, "no parser recognised the line"),
        }
    }

    fn finish_event(
        &self,
        line: &str,
        mut fields: Fields,
        recognized: Recognized,
        timestamp: Option<i64>,
        header_host: Option<&str>,
    ) -> Event {
        let host = recognized.host.clone().or_else(|| header_host.map(str::to_owned));
        if let Some(nanos) = timestamp {
            fields.push("@timestamp", format_nanos(nanos));
        }
        Event {
            timestamp_nanos: timestamp,
            host,
            source_type: Some(recognized.source_type.to_owned()),
            logsource: recognized.logsource,
            raw: line.to_owned(),
            fields,
            ..Event::default()
        }
    }

    fn unparsed_event(&self, line: &str, reason: &str) -> Event {
        let mut fields = Fields::new();
        fields.push("message", line);
        fields.push("event.parse_error", reason);
        Event {
            timestamp_nanos: Some(self.context.received_nanos),
            source_type: Some("unparsed".to_owned()),
            raw: line.to_owned(),
            fields,
            ..Event::default()
        }
    }
}

/// Bits of [`marks`]: which of the bytes the body parsers key on a message holds.
mod mark {
    pub(super) const EQUALS: u8 = 1;
    pub(super) const PERCENT: u8 = 2;
    pub(super) const COLON: u8 = 4;
    pub(super) const QUOTE: u8 = 8;
    pub(super) const BRACE: u8 = 16;
    pub(super) const COMMA: u8 = 32;
    pub(super) const BRACKET: u8 = 64;
    pub(super) const PIPE: u8 = 128;
}

/// The [`mark`] bit of each byte value.
static MARK_OF_BYTE: [u8; 256] = {
    let mut table = [0; 256];
    table[b'=' as usize] = mark::EQUALS;
    table[b'%' as usize] = mark::PERCENT;
    table[b':' as usize] = mark::COLON;
    table[b'"' as usize] = mark::QUOTE;
    table[b'{' as usize] = mark::BRACE;
    table[b',' as usize] = mark::COMMA;
    table[b'[' as usize] = mark::BRACKET;
    table[b'|' as usize] = mark::PIPE;
    table
};

/// The [`mark`] bits of the bytes a message holds. One pass over the message tells which body
/// parsers cannot claim it, so that they are not run: every one of them needs one of these bytes
/// (a key=value pair its `=`, CEF inside a message its `|CEF:`, an access or error log line its
/// `[`, Palo Alto CSV its commas, Cisco its `%`...), as noted where they are skipped.
fn marks(message: &str) -> u8 {
    message
        .bytes()
        .fold(0, |marks, byte| marks | MARK_OF_BYTE[usize::from(byte)])
}

/// Empty fields with room for those of a typical event (envelope, body, `@timestamp`: a dozen or
/// so), so that filling them does not regrow the vector three times over. `Fields` has no
/// `with_capacity`; collecting an untouched `Vec` keeps its allocation.
fn event_fields() -> Fields {
    Vec::with_capacity(16).into_iter().collect()
}

/// The body parsers of a syslog message, chosen by program name and content.
fn body(
    context: &ParseContext,
    program: Option<&str>,
    message: &str,
    fields: &mut Fields,
) -> Option<Recognized> {
    let marks = marks(message);
    let has = |bits: u8| marks & bits != 0;
    if message.starts_with("CEF:") || (has(mark::PIPE) && message.contains("|CEF:")) {
        return cef::parse(message, fields);
    }
    if message.starts_with("LEEF:") {
        return leef::parse(message, fields);
    }
    if let Some(recognized) = auth::parse(program, message, fields) {
        return Some(recognized);
    }
    if program.is_some_and(|program| {
        ["%ASA", "%FTD", "%PIX"]
            .iter()
            .any(|prefix| program.starts_with(prefix))
    }) || (has(mark::PERCENT)
        && ["%ASA-", "%FTD-", "%PIX-"]
            .iter()
            .any(|prefix| message.contains(prefix)))
    {
        return asa::parse(message, fields);
    }
    // Palo Alto CSV: at least four columns.
    if has(mark::COMMA) && paloalto::looks_like(message) {
        return paloalto::parse(message, context, fields);
    }
    // Cisco IOS `%FAC-n-MNEMONIC: `, F5 `01010251:0: `, Check Point `... [key:"value"]`, or the
    // Arbor program.
    if (has(mark::PERCENT | mark::COLON | mark::BRACKET)
        || program.is_some_and(|program| program.starts_with("arbor")))
        && let Some(recognized) = vendor::parse(program, message, context, fields)
    {
        return Some(recognized);
    }
    // key=value pairs, Check Point's `[key:"value"` or a JSON object.
    if has(mark::EQUALS | mark::QUOTE | mark::BRACE) && keyvalue::looks_like(message) {
        return keyvalue::parse(message, context, fields);
    }
    // Every access or error log line has a `[time]`, `[level]` or `[client ...]`; `parse` is
    // `None` exactly when `looks_like` is false, and then leaves the fields alone.
    if has(mark::BRACKET) {
        return access::parse(message, context, fields);
    }
    None
}

/// Guesses the format of a line.
pub fn detect(line: &str) -> Format {
    detect_line(line).0
}

/// [`detect`], with the split of the access or error log line it recognised, so that the line
/// is not read a second time.
fn detect_line(line: &str) -> (Format, Option<access::Split<'_>>) {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        return (Format::Json, None);
    }
    if (trimmed.starts_with("type=") || trimmed.starts_with("node=")) && auditd::looks_like_audit(trimmed) {
        return (Format::Auditd, None);
    }
    if trimmed.starts_with("CEF:") {
        return (Format::Cef, None);
    }
    if trimmed.starts_with("LEEF:") {
        return (Format::Leef, None);
    }
    if rfc5424::looks_like(trimmed) {
        return (Format::Rfc5424, None);
    }
    if rfc3164::looks_like(trimmed) {
        return (Format::Rfc3164, None);
    }
    if ["%ASA-", "%FTD-", "%PIX-"]
        .iter()
        .any(|prefix| trimmed.starts_with(prefix))
    {
        return (Format::CiscoAsa, None);
    }
    if let Some(web) = access::split(trimmed) {
        return (Format::Access, Some(web));
    }
    if paloalto::looks_like(trimmed) {
        return (Format::PaloAlto, None);
    }
    if keyvalue::looks_like(trimmed) {
        return (Format::KeyValue, None);
    }
    (Format::Rfc3164, None)
}

/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = time::OffsetDateTime::UNIX_EPOCH.to_julian_day() as i64;

/// UTC nanoseconds of a local date and time of day at `offset`; `None` for an impossible time of
/// day or one outside the `i64` range. The same arithmetic as
/// `PrimitiveDateTime::new(date, time).assume_offset(offset).unix_timestamp_nanos()`, without
/// building the intermediate values (this runs for every line).
pub(crate) fn unix_nanos(
    date: time::Date,
    (hour, minute, second, nanos): (u8, u8, u8, u32),
    offset: UtcOffset,
) -> Option<i64> {
    if hour > 23 || minute > 59 || second > 59 || nanos > 999_999_999 {
        return None;
    }
    let seconds = (i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY) * 86_400
        + i64::from(hour) * 3_600
        + i64::from(minute) * 60
        + i64::from(second)
        - i64::from(offset.whole_seconds());
    i64::try_from(i128::from(seconds) * 1_000_000_000 + i128::from(nanos)).ok()
}

/// RFC 3339 text of a UTC time in nanoseconds, as `time`'s `Rfc3339` format writes it
/// (`2026-11-20T01:15:00.25Z`: the fraction only when not zero, without trailing zeros), written
/// by hand because it runs for every event.
pub(crate) fn format_nanos(nanos: i64) -> String {
    /// Two decimal digits of `value` (below 100) into `out`.
    fn two(out: &mut [u8], value: u32) {
        out[0] = b'0' + (value / 10) as u8;
        out[1] = b'0' + (value % 10) as u8;
    }
    let seconds = nanos.div_euclid(1_000_000_000);
    let fraction = nanos.rem_euclid(1_000_000_000) as u32;
    let second_of_day = seconds.rem_euclid(86_400) as u32;
    let date = i32::try_from(seconds.div_euclid(86_400) + UNIX_EPOCH_JULIAN_DAY)
        .ok()
        .and_then(|day| time::Date::from_julian_day(day).ok());
    let Some(date) = date.filter(|date| (0..10_000).contains(&date.year())) else {
        return String::new();
    };
    let mut text = *b"0000-00-00T00:00:00.000000000Z";
    let year = date.year() as u32;
    two(&mut text[0..2], year / 100);
    two(&mut text[2..4], year % 100);
    two(&mut text[5..7], u32::from(u8::from(date.month())));
    two(&mut text[8..10], u32::from(date.day()));
    two(&mut text[11..13], second_of_day / 3_600);
    two(&mut text[14..16], second_of_day / 60 % 60);
    two(&mut text[17..19], second_of_day % 60);
    let mut end = 19;
    if fraction != 0 {
        let mut rest = fraction;
        for digit in text[20..29].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        end = 29;
        while text[end - 1] == b'0' {
            end -= 1;
        }
    }
    text[end] = b'Z';
    std::str::from_utf8(&text[..=end])
        .map(str::to_owned)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written RFC 3339 text is `time`'s, over the whole `i64` range.
    #[test]
    fn format_nanos_writes_what_time_writes() {
        let expected = |nanos: i64| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
                .ok()
                .and_then(|time| time.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default()
        };
        let mut cases = vec![
            i64::MIN,
            i64::MAX,
            0,
            -1,
            1,
            999_999_999,
            -999_999_999,
            1_000_000_000,
            -1_000_000_000,
            1_795_176_000_000_000_000,
            1_795_176_000_120_000_000,
            1_795_176_000_000_000_001,
            951_782_400_000_000_000,
            -2_208_988_800_000_000_000,
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..25_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            cases.push(state as i64);
            // Whole seconds, milliseconds and microseconds, the usual precisions.
            cases.push((state as i64 / 1_000_000_000) * 1_000_000_000);
            cases.push((state as i64 / 1_000_000) * 1_000_000);
            cases.push((state as i64 / 1_000) * 1_000);
        }
        for nanos in cases {
            assert_eq!(format_nanos(nanos), expected(nanos), "{nanos}");
        }
    }

    /// The hand-written arithmetic is `time`'s.
    #[test]
    fn unix_nanos_computes_what_time_computes() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |modulus: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % modulus
        };
        for _ in 0..25_000 {
            let year = next(20_000) as i32 - 10_000;
            let Ok(date) = time::Date::from_ordinal_date(year.clamp(-9_999, 9_999), 1 + next(365) as u16)
            else {
                continue;
            };
            let clock = (
                next(24) as u8,
                next(60) as u8,
                next(60) as u8,
                next(1_000_000_000) as u32,
            );
            let Ok(offset) = UtcOffset::from_whole_seconds(next(2 * 93_599) as i32 - 93_599) else {
                continue;
            };
            let expected = time::Time::from_hms_nano(clock.0, clock.1, clock.2, clock.3)
                .ok()
                .and_then(|time| {
                    i64::try_from(
                        time::PrimitiveDateTime::new(date, time)
                            .assume_offset(offset)
                            .unix_timestamp_nanos(),
                    )
                    .ok()
                });
            assert_eq!(
                unix_nanos(date, clock, offset),
                expected,
                "{date} {clock:?} {offset}"
            );
        }
    }
}
