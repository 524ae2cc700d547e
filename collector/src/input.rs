//! Reading events: EVTX files, JSON lines, and concatenated JSON documents (the `evtx` crate's
//! JSON output). A record that cannot be read is counted and reported; the stream goes on.

use std::io::{BufRead, BufReader, Read};

use haidang_detector::Mappings;
use haidang_event::{Event, Fields, Logsource, Value, flatten_json, flatten_json_owned};
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
    } else if text.len() >= 19
        && !text.ends_with('Z')
        && text.get(19..).is_some_and(|rest| !rest.contains(['+', '-']))
    {
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
        event.agency = document.get("agency").and_then(Json::as_str).map(str::to_owned);
        event.system = document.get("system").and_then(Json::as_str).map(str::to_owned);
        event.source_type = document
            .get("source_type")
            .and_then(Json::as_str)
            .map(str::to_owned);
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
    foreign_event(flatten_json(document, &mappings.strip_prefixes), mappings)
}

/// [`event_from_json`] taking the document by value (no copies of its keys and strings).
pub fn event_from_json_owned(document: Json, mappings: &Mappings) -> Event {
    if document.get("fields").is_some_and(Json::is_object) {
        return event_from_json(&document, mappings);
    }
    foreign_event(flatten_json_owned(document, &mappings.strip_prefixes), mappings)
}

fn foreign_event(fields: Fields, mappings: &Mappings) -> Event {
    let mut event = Event {
        fields,
        ..Event::default()
    };
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
    event.host = HOST_FIELDS.iter().find_map(|name| {
        event
            .fields
            .get(name)
            .and_then(|value| value.as_text())
            .filter(|text| !text.is_empty())
            .map(|text| text.into_owned())
    });
    event
}

/// Fields that name the host of a foreign document (Winlogbeat, the evtx crate, NXLog), in the
/// order they are tried: the short name an agent reports first, then the Windows computer name.
const HOST_FIELDS: &[&str] = &[
    "host.name",
    "Computer",
    "winlog.computer_name",
    "Event.System.Computer",
    "System.Computer",
    "Hostname",
    "hostname",
];

/// The JSON form of an event, the same shape [`event_from_json`] reads back: `timestamp`
/// (RFC 3339), `host`, `agency`, `system`, `source_type`, `logsource`, `raw` and `fields` (an
/// object; a repeated field becomes a list).
pub fn event_to_json(event: &Event) -> Json {
    let mut object = serde_json::Map::new();
    if let Some(nanos) = event.timestamp_nanos {
        object.insert("timestamp".into(), crate::parse::format_nanos(nanos).into());
    }
    for (key, value) in [
        ("host", &event.host),
        ("agency", &event.agency),
        ("system", &event.system),
        ("source_type", &event.source_type),
    ] {
        if let Some(value) = value {
            object.insert(key.into(), value.clone().into());
        }
    }
    if !event.logsource.is_empty() {
        object.insert(
            "logsource".into(),
            serde_json::to_value(&event.logsource).unwrap_or(Json::Null),
        );
    }
    let mut fields = serde_json::Map::new();
    for (name, value) in event.fields.iter() {
        let value = match value {
            Value::Null => Json::Null,
            Value::Bool(flag) => Json::Bool(*flag),
            Value::Int(number) => Json::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number).map_or(Json::Null, Json::Number),
            Value::Str(text) => Json::String(text.clone()),
        };
        match fields.get_mut(name) {
            Some(Json::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Json::Array(vec![first, value]);
            }
            None => {
                fields.insert(name.to_owned(), value);
            }
        }
    }
    object.insert("fields".into(), Json::Object(fields));
    object.insert("raw".into(), event.raw.clone().into());
    Json::Object(object)
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

/// One record of an input, not yet parsed: the unit that is handed to matching threads.
#[derive(Debug)]
pub enum Record {
    /// The text of one JSON document, with the line it starts on.
    Text {
        /// The document.
        text: String,
        /// Its first line (1-based).
        line: u64,
    },
    /// An already-parsed document (EVTX records arrive so).
    Json(Json),
}

/// A source document, kept for output: the text as read (re-parsed only when it is shown), or the
/// JSON an EVTX record was decoded into.
#[derive(Debug, Clone)]
pub enum Document {
    /// JSON text, valid (it parsed).
    Text(String),
    /// A decoded document.
    Json(Json),
}

impl Document {
    /// The document as JSON text.
    pub fn json_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Document::Text(text) => std::borrow::Cow::Borrowed(text),
            Document::Json(document) => std::borrow::Cow::Owned(document.to_string()),
        }
    }

    /// The document as a JSON value.
    pub fn to_json(&self) -> Json {
        match self {
            Document::Text(text) => serde_json::from_str(text).unwrap_or(Json::Null),
            Document::Json(document) => document.clone(),
        }
    }
}

/// Parses a record into events and their documents (a line may hold several documents); each
/// error names the input and the place.
pub fn parse_record(
    input: &str,
    record: Record,
    mappings: &Mappings,
) -> Vec<Result<(Event, Document), String>> {
    let mut results = Vec::new();
    match record {
        Record::Json(document) => {
            let mut event = event_from_json(&document, mappings);
            event.source_type = Some("evtx".to_owned());
            results.push(Ok((event, Document::Json(document))));
        }
        Record::Text { text, line } => {
            let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<Json>();
            let mut parsed = Vec::new();
            let mut start = 0;
            loop {
                match stream.next() {
                    None => break,
                    Some(Ok(document)) if document.is_object() => {
                        let end = stream.byte_offset();
                        parsed.push((document, start, end));
                        start = end;
                    }
                    Some(Ok(_)) => {
                        start = stream.byte_offset();
                        results.push(Err(format!(
                            "{input}: line {line}: a JSON value that is not an object"
                        )))
                    }
                    Some(Err(error)) => {
                        results.push(Err(format!(
                            "{input}: line {}: invalid JSON: {error}",
                            line + error.line().saturating_sub(1) as u64
                        )));
                        break;
                    }
                }
            }
            let whole = parsed.len() == 1 && results.is_empty();
            let mut text = Some(text);
            let mut events = Vec::with_capacity(parsed.len());
            for (document, start, end) in parsed {
                let source = if whole {
                    Document::Text(text.take().unwrap_or_default())
                } else {
                    Document::Text(
                        text.as_deref()
                            .map(|text| text[start..end].trim().to_owned())
                            .unwrap_or_default(),
                    )
                };
                events.push(Ok((event_from_json_owned(document, mappings), source)));
            }
            events.extend(results);
            results = events;
        }
    }
    results
}

/// Reads one input (`-` for standard input), calling `on_record` with each record, unparsed.
/// EVTX files are recognised by their signature. Errors of reading itself (a file that cannot be
/// opened, an EVTX record that cannot be decoded) are counted in the returned statistics.
pub fn read_records(input: &str, on_record: &mut dyn FnMut(Record)) -> InputStats {
    let mut stats = InputStats::default();
    if input == "-" {
        split_json_stream(input, std::io::stdin().lock(), on_record, &mut stats);
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
        read_evtx(input, on_record, &mut stats);
    } else {
        match std::fs::File::open(input) {
            Ok(file) => split_json_stream(
                input,
                BufReader::with_capacity(1 << 20, file),
                on_record,
                &mut stats,
            ),
            Err(error) => stats.error(format!("{input}: cannot open: {error}")),
        }
    }
    stats
}

/// Reads one input and parses every record, calling `on_event` with each event and its
/// document. Records that do not parse are counted and reported; the stream goes on.
pub fn read_events(input: &str, mappings: &Mappings, on_event: &mut dyn FnMut(Event, &Json)) -> InputStats {
    let mut parse_errors = InputStats::default();
    let mut stats = read_records(input, &mut |record| {
        for result in parse_record(input, record, mappings) {
            match result {
                Ok((event, document)) => {
                    parse_errors.events += 1;
                    on_event(event, &document.to_json());
                }
                Err(message) => parse_errors.error(message),
            }
        }
    });
    stats.events += parse_errors.events;
    stats.errors += parse_errors.errors;
    stats.error_samples.extend(parse_errors.error_samples);
    stats.error_samples.truncate(20);
    stats
}

fn read_evtx(input: &str, on_record: &mut dyn FnMut(Record), stats: &mut InputStats) {
    let mut parser = match evtx::EvtxParser::from_path(input) {
        Ok(parser) => parser,
        Err(error) => {
            stats.error(format!("{input}: not a readable EVTX file: {error}"));
            return;
        }
    };
    for (index, record) in parser.records_json_value().enumerate() {
        match record {
            Ok(record) => on_record(Record::Json(record.data)),
            Err(error) => stats.error(format!("{input}: record {}: {error}", index + 1)),
        }
    }
}

/// Cuts a stream of JSON documents (one per line, pretty-printed over several lines, or several on
/// a line) into document texts without parsing them, by tracking braces outside strings. A line
/// that starts with `{` while a document is still open means that document was truncated: it is
/// handed on as it is (and will fail to parse) so it cannot swallow the lines after it. Text
/// outside any document is handed on line by line, to be reported.
fn split_json_stream(
    input: &str,
    mut reader: impl BufRead,
    on_record: &mut dyn FnMut(Record),
    stats: &mut InputStats,
) {
    let mut pending = String::new();
    let mut pending_line = 0u64;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut line_number = 0u64;
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                stats.error(format!("{input}: line {}: cannot read: {error}", line_number + 1));
                break;
            }
        }
        line_number += 1;
        // Fast path, JSON lines: a whole line that looks like one document goes on unscanned (the
        // parser finds several documents on it, or a broken one, just as well).
        if depth == 0 && pending.is_empty() {
            let trimmed = line.trim();
            if trimmed.len() >= 2 && trimmed.starts_with('{') && trimmed.ends_with('}') {
                on_record(Record::Text {
                    text: trimmed.to_owned(),
                    line: line_number,
                });
                continue;
            }
        }
        if depth > 0 && line.starts_with('{') {
            on_record(Record::Text {
                text: std::mem::take(&mut pending),
                line: pending_line,
            });
            depth = 0;
            in_string = false;
            escaped = false;
        }
        let mut segment_start = 0;
        for (index, byte) in line.bytes().enumerate() {
            if depth == 0 {
                if byte == b'{' {
                    depth = 1;
                    in_string = false;
                    escaped = false;
                    if pending.trim().is_empty() {
                        pending.clear();
                        pending_line = line_number;
                    }
                    segment_start = index;
                } else if !byte.is_ascii_whitespace() && pending.is_empty() {
                    // Stray text outside a document: hand the rest of the line on as one record.
                    on_record(Record::Text {
                        text: line[index..].trim_end().to_owned(),
                        line: line_number,
                    });
                    segment_start = line.len();
                    break;
                }
                continue;
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' {
                    escaped = true;
                } else if byte == b'"' {
                    in_string = false;
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        pending.push_str(&line[segment_start..=index]);
                        on_record(Record::Text {
                            text: std::mem::take(&mut pending),
                            line: pending_line,
                        });
                        segment_start = index + 1;
                    }
                }
                _ => {}
            }
        }
        if depth > 0 && segment_start < line.len() {
            pending.push_str(&line[segment_start..]);
            if pending.len() > MAX_DOCUMENT {
                stats.error(format!(
                    "{input}: line {pending_line}: document longer than {MAX_DOCUMENT} bytes"
                ));
                pending.clear();
                depth = 0;
            }
        }
    }
    if depth > 0 && !pending.trim().is_empty() {
        stats.error(format!(
            "{input}: line {pending_line}: incomplete JSON document at end of input"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Event>, InputStats) {
        let mut events = Vec::new();
        let mut stats = InputStats::default();
        let mappings = Mappings::default();
        split_json_stream(
            "test",
            text.as_bytes(),
            &mut |record| {
                for result in parse_record("test", record, &mappings) {
                    match result {
                        Ok((event, _)) => events.push(event),
                        Err(message) => stats.error(message),
                    }
                }
            },
            &mut InputStats::default(),
        );
        (events, stats)
    }

    #[test]
    fn a_truncated_line_does_not_swallow_the_next() {
        let (events, stats) = read("{\"a\": 1\n{\"b\": 2}\nnot json\n{\"c\": \"}{\"}\n");
        assert_eq!(events.len(), 2);
        assert_eq!(stats.errors, 2, "{:?}", stats.error_samples);
        assert!(
            stats.error_samples[1].contains("line 3"),
            "{:?}",
            stats.error_samples
        );
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

    #[test]
    fn time_with_a_multibyte_character_at_byte_19_is_refused() {
        // Found by fuzzing (collector/fuzz, `json`): slicing at byte 19 panicked when it fell
        // inside a character, so one JSON document with such a time field stopped the stream.
        assert_eq!(
            parse_time("20\u{ffff}\u{ffff}\u{ffff}\u{ffff}\u{ffff}\u{ffff}x"),
            None
        );
        assert_eq!(parse_time("2020-06-10T02:50:5\u{e9}"), None);
        let event = event_from_json(
            &serde_json::json!({ "EventTime": "2020-06-10T02:50:\u{ffff}\u{ffff}" }),
            &Mappings::default(),
        );
        assert_eq!(event.timestamp_nanos, None);
    }
}
