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
        let format = if self.format == Format::Auto {
            detect(line)
        } else {
            self.format
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
                        let mut fields = Fields::new();
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
            body => Some(self.bare(line, body)),
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
    fn syslog(&mut self, line: &str, header: SyslogHeader<'_>, out: &mut Vec<Event>) -> Option<Event> {
        let mut fields = Fields::new();
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
        for (name, value) in &header.structured_data {
            fields.push(format!("log.syslog.structured_data.{name}"), value.as_str());
        }
        fields.push("message", header.message);

        if auditd::looks_like_audit(header.message) {
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

    /// A body without a syslog envelope.
    fn bare(&self, line: &str, format: Format) -> Event {
        let mut fields = Fields::new();
        fields.push("message", line);
        let recognized = match format {
            Format::Cef => cef::parse(line, &mut fields),
            Format::Leef => leef::parse(line, &mut fields),
            Format::KeyValue => keyvalue::parse(line, &self.context, &mut fields),
            Format::CiscoAsa => asa::parse(line, &mut fields),
            Format::PaloAlto => paloalto::parse(line, &self.context, &mut fields),
            Format::Access => access::parse(line, &self.context, &mut fields),
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

/// The body parsers of a syslog message, chosen by program name and content.
fn body(
    context: &ParseContext,
    program: Option<&str>,
    message: &str,
    fields: &mut Fields,
) -> Option<Recognized> {
    if message.starts_with("CEF:") || message.contains("|CEF:") {
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
    }) || ["%ASA-", "%FTD-", "%PIX-"]
        .iter()
        .any(|prefix| message.contains(prefix))
    {
        return asa::parse(message, fields);
    }
    if paloalto::looks_like(message) {
        return paloalto::parse(message, context, fields);
    }
    if let Some(recognized) = vendor::parse(program, message, context, fields) {
        return Some(recognized);
    }
    if keyvalue::looks_like(message) {
        return keyvalue::parse(message, context, fields);
    }
    if access::looks_like(message) {
        return access::parse(message, context, fields);
    }
    None
}

/// Guesses the format of a line.
pub fn detect(line: &str) -> Format {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{') {
        return Format::Json;
    }
    if (trimmed.starts_with("type=") || trimmed.starts_with("node=")) && auditd::looks_like_audit(trimmed) {
        return Format::Auditd;
    }
    if trimmed.starts_with("CEF:") {
        return Format::Cef;
    }
    if trimmed.starts_with("LEEF:") {
        return Format::Leef;
    }
    if rfc5424::looks_like(trimmed) {
        return Format::Rfc5424;
    }
    if rfc3164::looks_like(trimmed) {
        return Format::Rfc3164;
    }
    if ["%ASA-", "%FTD-", "%PIX-"]
        .iter()
        .any(|prefix| trimmed.starts_with(prefix))
    {
        return Format::CiscoAsa;
    }
    if access::looks_like(trimmed) {
        return Format::Access;
    }
    if paloalto::looks_like(trimmed) {
        return Format::PaloAlto;
    }
    if keyvalue::looks_like(trimmed) {
        return Format::KeyValue;
    }
    Format::Rfc3164
}

/// RFC 3339 text of a UTC time in nanoseconds.
pub(crate) fn format_nanos(nanos: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .ok()
        .and_then(|time| time.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
