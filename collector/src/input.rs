//! Reading events: EVTX files, JSON lines, and concatenated JSON documents (the `evtx` crate's
//! JSON output). A record that cannot be read is counted and reported; the stream goes on.

use std::io::{BufRead, BufReader, Read};

use haidang_detector::Mappings;
use haidang_event::{Event, Fields, Logsource, Value, flatten_json};
use serde_json::Value as Json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What reading one input found.
#[derive(Debug, Default, Clone)]
pub struct InputStats {
    /// Events delivered.
    pub events: u64,
    /// Records that could not be read.
    pub errors: u64,
    /// The first few errors, each naming the input and place.
    pub error_samples: Vec<String>,
}

impl InputStats {
    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.error_samples.len() < 20 {
            self.error_samples.push(message);
        }
    }
}

/// Largest JSON document accepted (bytes); a longer one is reported and skipped.
const MAX_DOCUMENT: usize = 16 << 20;

/// Fields that commonly carry an event's time, in the order they are tried.
const TIME_FIELDS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "Event.System.TimeCreated_SystemTime",
    "TimeCreated_SystemTime",
    "UtcTime",
    "EventTime",
    "TimeCreated",
];

/// Parses RFC 3339, or `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC, to nanoseconds since the epoch.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(time.unix_timestamp_nanos()).ok();
    }
    let normalised = if text.len() >= 19 && text.as_bytes()[10] == b' ' {
        let mut owned = text.to_owned();
        owned.replace_range(10..11, "T");
        if !owned.ends_with('Z') {
            owned.push('Z');
        }
        owned
    } else if text.len() >= 19 && !text.ends_with('Z') && !text[19..].contains(['+', '-']) {
        format!("{text}Z")
    } else {
        return None;
    };
    OffsetDateTime::parse(&normalised, &Rfc3339)
        .ok()
        .and_then(|time| i64::try_from(time.unix_timestamp_nanos()).ok())
}

fn logsource_of(value: Option<&Json>) -> Logsource {
    let text = |key: &str| {
        value
            .and_then(|value| value.get(key))
            .and_then(Json::as_str)
            .map(str::to_lowercase)
    };
    Logsource {
        product: text("product"),
        category: text("category"),
        service: text("service"),
    }
}

/// Turns one JSON document into an event. A document with a `fields` object is a Hải Đăng event
/// (`timestamp`, `host`, `logsource`, `fields`, `raw`); anything else is a foreign document
/// (evtx JSON, Winlogbeat, NXLog) and is flattened.
pub fn event_from_json(document: &Json, mappings: &Mappings) -> Event {
    let mut event = Event::default();
    if let Some(Json::Object(fields)) = document.get("fields") {
        let mut flat = Fields::new();
        for (name, value) in fields {
            match value {
                Json::Array(items) => {
                    for item in items {
                        flat.push(name.clone(), json_scalar(item));
                    }
                }
                other => flat.push(name.clone(), json_scalar(other)),
            }
        }
        event.fields = flat;
        event.logsource = logsource_of(document.get("logsource"));
        event.host = document.get("host").and_then(Json::as_str).map(str::to_owned);
        event.raw = document
            .get("raw")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned();
        event.timestamp_nanos = document
            .get("timestamp")
            .and_then(Json::as_str)
            .and_then(parse_time);
        return event;
    }
    event.fields = flatten_json(document, &mappings.strip_prefixes);
    for (path, name) in &mappings.aliases {
        if !event.fields.contains(name) {
            let values: Vec<Value> = event.fields.get_all(path).cloned().collect();
            for value in values {
                event.fields.push(name.clone(), value);
            }
        }
    }
    event.timestamp_nanos = TIME_FIELDS.iter().find_map(|name| {
        event
            .fields
            .get(name)
            .and_then(|value| value.as_text())
            .and_then(|text| parse_time(&text))
    });
    event
}

fn json_scalar(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(*flag),
        Json::Number(number) => number
            .as_i64()
            .map(Value::Int)
            .unwrap_or_else(|| Value::Float(number.as_f64().unwrap_or(f64::NAN))),
        Json::String(text) => Value::Str(text.clone()),
        other => Value::Str(other.to_string()),
    }
}

/// Reads one input (`-` for standard input), calling `on_event` with each event and its
/// source document. EVTX files are recognised by their signature.
pub fn read_events(input: &str, mappings: &Mappings, on_event: &mut dyn FnMut(Event, &Json)) -> InputStats {
    let mut stats = InputStats::default();
    if input == "-" {
        read_json_stream(input, std::io::stdin().lock(), mappings, on_event, &mut stats);
        return stats;
    }
    let mut file = match std::fs::File::open(input) {
        Ok(file) => file,
        Err(error) => {
            stats.error(format!("{input}: cannot open: {error}"));
            return stats;
        }
    };
    let mut signature = [0u8; 8];
    let is_evtx = file.read_exact(&mut signature).is_ok() && &signature == b"ElfFile\0";
    drop(file);
    if is_evtx {
        read_evtx(input, mappings, on_event, &mut stats);
    } else {
        match std::fs::File::open(input) {
            Ok(file) => read_json_stream(
                input,
                BufReader::with_capacity(1 << 20, file),
                mappings,
                on_event,
                &mut stats,
            ),
            Err(error) => stats.error(format!("{input}: cannot open: {error}")),
        }
    }
    stats
}

fn read_evtx(
    input: &str,
    mappings: &Mappings,
    on_event: &mut dyn FnMut(Event, &Json),
    stats: &mut InputStats,
) {
    let mut parser = match evtx::EvtxParser::from_path(input) {
        Ok(parser) => parser,
        Err(error) => {
            stats.error(format!("{input}: not a readable EVTX file: {error}"));
            return;
        }
    };
    for (index, record) in parser.records_json_value().enumerate() {
        match record {
            Ok(record) => {
                let mut event = event_from_json(&record.data, mappings);
                event.source_type = Some("evtx".to_owned());
                stats.events += 1;
                on_event(event, &record.data);
            }
            Err(error) => stats.error(format!("{input}: record {}: {error}", index + 1)),
        }
    }
}

fn read_json_stream(
    input: &str,
    mut reader: impl BufRead,
    mappings: &Mappings,
    on_event: &mut dyn FnMut(Event, &Json),
    stats: &mut InputStats,
) {
    let mut pending = String::new();
    let mut pending_start_line = 1u64;
    let mut line_number = 0u64;
    let mut line = String::new();
    loop {
        line.clear();
        let read = match reader.read_line(&mut line) {
            Ok(read) => read,
            Err(error) => {
                stats.error(format!("{input}: line {}: cannot read: {error}", line_number + 1));
                break;
            }
        };
        if read == 0 {
            break;
        }
        line_number += 1;
        if pending.trim().is_empty() {
            pending.clear();
            pending_start_line = line_number;
        }
        pending.push_str(&line);
        if pending.len() > MAX_DOCUMENT {
            stats.error(format!(
                "{input}: line {pending_start_line}: document longer than {MAX_DOCUMENT} bytes"
            ));
            pending.clear();
            continue;
        }
        let mut stream = serde_json::Deserializer::from_str(&pending).into_iter::<Json>();
        let mut consumed = 0;
        loop {
            match stream.next() {
                Some(Ok(document)) => {
                    consumed = stream.byte_offset();
                    if document.is_object() {
                        let event = event_from_json(&document, mappings);
                        stats.events += 1;
                        on_event(event, &document);
                    } else {
                        stats.error(format!(
                            "{input}: line {pending_start_line}: a JSON value that is not an object"
                        ));
                    }
                }
                Some(Err(error)) if error.is_eof() => break,
                Some(Err(error)) => {
                    stats.error(format!(
                        "{input}: line {}: invalid JSON: {error}",
                        pending_start_line + error.line() as u64 - 1
                    ));
                    consumed = pending.len();
                    break;
                }
                None => {
                    consumed = pending.len();
                    break;
                }
            }
        }
        pending.drain(..consumed);
        if pending.trim().is_empty() {
            pending.clear();
        } else if consumed > 0 {
            pending_start_line = line_number;
        }
    }
    if !pending.trim().is_empty() {
        stats.error(format!(
            "{input}: line {pending_start_line}: incomplete JSON document at end of input"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Event>, InputStats) {
        let mut events = Vec::new();
        let mut stats = InputStats::default();
        read_json_stream(
            "test",
            text.as_bytes(),
            &Mappings::default(),
            &mut |event, _| events.push(event),
            &mut stats,
        );
        (events, stats)
    }

    #[test]
    fn json_lines_and_pretty_documents() {
        let (events, stats) = read("{\"a\": 1}\n{\n  \"b\": 2\n}\n{\"c\": 3}{\"d\": 4}\n");
        assert_eq!(events.len(), 4);
        assert_eq!(stats.errors, 0);
    }

    #[test]
    fn a_broken_line_is_counted_and_the_stream_goes_on() {
        let (events, stats) = read("{\"a\": 1}\n{\"a\": oops}\n{\"a\": 3}\n");
        assert_eq!(events.len(), 2);
        assert_eq!(stats.errors, 1);
        assert!(
            stats.error_samples[0].contains("line 2"),
            "{:?}",
            stats.error_samples
        );
    }

    #[test]
    fn haidang_shaped_events_keep_logsource_and_time() {
        let document: Json = serde_json::json!({
            "timestamp": "2026-11-20T08:15:00Z",
            "logsource": {"product": "linux", "service": "auth"},
            "fields": {"user.name": "root", "tags": ["a", "b"]}
        });
        let event = event_from_json(&document, &Mappings::default());
        assert_eq!(event.logsource.service.as_deref(), Some("auth"));
        assert_eq!(event.timestamp_nanos, Some(1_795_162_500_000_000_000));
        assert_eq!(event.fields.get_all("tags").count(), 2);
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time("2020-06-10 02:50:54.631"),
            parse_time("2020-06-10T02:50:54.631Z")
        );
        assert!(parse_time("2020-06-10T02:50:56.537Z").is_some());
        assert_eq!(parse_time("yesterday"), None);
    }
}
