//! The tantivy schema of a partition, events to documents, and stored documents back to
//! [`EventDoc`]s.
//!
//! | field | kind | for |
//! |-|-|-|
//! | `time` | i64 nanoseconds, fast (+ indexed, see [`TIME_INDEXED`]) | time ranges, sorting, histograms |
//! | `id` | raw string, indexed | `get`, replace on replay |
//! | `seq` | u64 fast: a hash of the id | the tie-break of the sort order and of cursors |
//! | `host` `agency` `system` `source_type` `severity` `rule_id` `product` `category` `service` | raw strings (original case), indexed and fast | filters, the agency scope, terms aggregations |
//! | `grade` | u64, indexed and fast | filters, terms |
//! | `raw` | text (words, lower case), positions | bare words and phrases |
//! | `fields` | JSON, every event field as its exact text (up to [`MAX_EXACT_BYTES`], text with spaces up to [`MAX_EXACT_TEXT_BYTES`]) | `user.name:alice`, wildcards, terms |
//! | `fields_text` | JSON, words with positions, only values with whitespace or longer than [`MAX_EXACT_BYTES`] | `message:failed`, phrases |
//! | `fields_num` | JSON, the numbers among the values (numeric text included) | numeric ranges |
//! | `present` | raw strings: names of fields with a value too long for `fields` | `field:*` |
//! | `stored` | the event for display, JSON, stored only | hits, `get`, export |

use haidang_event::{Fields, Value};
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::document::OwnedValue;
use tantivy::schema::{
    Field, IndexRecordOption, JsonObjectOptions, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};

use super::{EventDoc, IndexError, IndexEvent};

/// Whether `time` is also in the inverted index. Ranges and sorting use the fast field; the
/// postings of nearly unique nanosecond values only cost indexing time and disk.
pub(crate) const TIME_INDEXED: bool = false;

/// The core keyword fields, by query name: (query name, schema field name).
pub(crate) const KEYWORDS: &[(&str, &str)] = &[
    ("host", "host"),
    ("agency", "agency"),
    ("system", "system"),
    ("source_type", "source_type"),
    ("severity", "severity"),
    ("rule_id", "rule_id"),
    ("rule_ids", "rule_id"),
    ("product", "product"),
    ("logsource.product", "product"),
    ("category", "category"),
    ("logsource.category", "category"),
    ("service", "service"),
    ("logsource.service", "service"),
];

/// The handles of the schema's fields.
#[derive(Clone, Debug)]
pub(crate) struct IndexSchema {
    pub(crate) schema: Schema,
    pub(crate) time: Field,
    pub(crate) id: Field,
    pub(crate) seq: Field,
    pub(crate) host: Field,
    pub(crate) agency: Field,
    pub(crate) system: Field,
    pub(crate) source_type: Field,
    pub(crate) severity: Field,
    pub(crate) rule_id: Field,
    pub(crate) product: Field,
    pub(crate) category: Field,
    pub(crate) service: Field,
    pub(crate) grade: Field,
    pub(crate) raw: Field,
    pub(crate) fields: Field,
    pub(crate) fields_text: Field,
    pub(crate) fields_num: Field,
    pub(crate) present: Field,
    pub(crate) stored: Field,
}

impl IndexSchema {
    pub(crate) fn new() -> IndexSchema {
        let mut builder = Schema::builder();
        let exact = TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false);
        let words = TextFieldIndexing::default()
            .set_tokenizer("default")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions)
            .set_fieldnorms(false);
        let keyword = TextOptions::default()
            .set_indexing_options(exact.clone())
            .set_fast("raw");
        let mut time = NumericOptions::default().set_fast();
        if TIME_INDEXED {
            time = time.set_indexed();
        }
        let time = builder.add_i64_field("time", time);
        let id = builder.add_text_field("id", TextOptions::default().set_indexing_options(exact.clone()));
        let seq = builder.add_u64_field("seq", NumericOptions::default().set_fast());
        let host = builder.add_text_field("host", keyword.clone());
        let agency = builder.add_text_field("agency", keyword.clone());
        let system = builder.add_text_field("system", keyword.clone());
        let source_type = builder.add_text_field("source_type", keyword.clone());
        let severity = builder.add_text_field("severity", keyword.clone());
        let rule_id = builder.add_text_field("rule_id", keyword.clone());
        let product = builder.add_text_field("product", keyword.clone());
        let category = builder.add_text_field("category", keyword.clone());
        let service = builder.add_text_field("service", keyword);
        let grade = builder.add_u64_field("grade", NumericOptions::default().set_indexed().set_fast());
        let raw = builder.add_text_field("raw", TextOptions::default().set_indexing_options(words.clone()));
        let fields = builder.add_json_field(
            "fields",
            JsonObjectOptions::default()
                .set_indexing_options(exact.clone())
                .set_expand_dots_enabled(),
        );
        let fields_text = builder.add_json_field(
            "fields_text",
            JsonObjectOptions::default()
                .set_indexing_options(words)
                .set_expand_dots_enabled(),
        );
        let fields_num = builder.add_json_field(
            "fields_num",
            JsonObjectOptions::default()
                .set_indexing_options(exact.clone())
                .set_expand_dots_enabled(),
        );
        let present = builder.add_text_field("present", TextOptions::default().set_indexing_options(exact));
        let stored = builder.add_text_field("stored", TextOptions::default().set_stored());
        IndexSchema {
            schema: builder.build(),
            time,
            id,
            seq,
            host,
            agency,
            system,
            source_type,
            severity,
            rule_id,
            product,
            category,
            service,
            grade,
            raw,
            fields,
            fields_text,
            fields_num,
            present,
            stored,
        }
    }

    /// The keyword field a query name stands for.
    pub(crate) fn keyword(&self, name: &str) -> Option<(Field, &'static str)> {
        let (_, schema_name) = KEYWORDS.iter().find(|(query_name, _)| *query_name == name)?;
        let field = self.schema.get_field(schema_name).ok()?;
        Some((field, schema_name))
    }

    /// The tantivy document of an event, at `time` (the event's time, or when it was indexed).
    pub(crate) fn document(&self, indexed: &IndexEvent, time: i64) -> Result<TantivyDocument, IndexError> {
        let event = &indexed.event;
        let mut document = TantivyDocument::new();
        document.add_i64(self.time, time);
        document.add_text(self.id, &indexed.id);
        document.add_u64(self.seq, id_hash(&indexed.id));
        let optional = [
            (self.host, &event.host),
            (self.agency, &event.agency),
            (self.system, &event.system),
            (self.source_type, &event.source_type),
            (self.severity, &indexed.severity),
            (self.product, &event.logsource.product),
            (self.category, &event.logsource.category),
            (self.service, &event.logsource.service),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                document.add_text(field, value);
            }
        }
        for rule_id in &indexed.rule_ids {
            document.add_text(self.rule_id, rule_id);
        }
        if let Some(grade) = indexed.grade {
            document.add_u64(self.grade, u64::from(grade));
        }
        if !event.raw.is_empty() {
            document.add_text(self.raw, &event.raw);
        }
        let JsonValues {
            exact,
            words,
            numbers,
            present,
        } = json_values(&event.fields, &event.raw);
        for name in present {
            document.add_text(self.present, name);
        }
        if !exact.is_empty() {
            document.add_field_value(self.fields, &OwnedValue::Object(exact));
        }
        if !words.is_empty() {
            document.add_field_value(self.fields_text, &OwnedValue::Object(words));
        }
        if !numbers.is_empty() {
            document.add_field_value(self.fields_num, &OwnedValue::Object(numbers));
        }
        let stored = StoredRef {
            time,
            id: &indexed.id,
            host: event.host.as_deref(),
            agency: event.agency.as_deref(),
            system: event.system.as_deref(),
            grade: indexed.grade,
            source_type: event.source_type.as_deref(),
            severity: indexed.severity.as_deref(),
            rule_ids: &indexed.rule_ids,
            raw: &event.raw,
            fields: &event.fields,
        };
        let text = serde_json::to_string(&stored)
            .map_err(|error| IndexError::Corrupt(format!("cannot encode event {}: {error}", indexed.id)))?;
        document.add_text(self.stored, text);
        Ok(document)
    }

    /// The event stored in a document.
    pub(crate) fn event_doc(&self, document: &TantivyDocument) -> Result<EventDoc, IndexError> {
        use tantivy::schema::Value as _;
        let text = document
            .get_first(self.stored)
            .and_then(|value| value.as_str())
            .ok_or_else(|| IndexError::Corrupt("a document has no stored event".into()))?;
        let stored: Stored = serde_json::from_str(text)
            .map_err(|error| IndexError::Corrupt(format!("a stored event does not decode: {error}")))?;
        Ok(stored.into_event_doc())
    }
}

/// The longest value indexed whole in `fields`; longer values (rendered messages, scripts,
/// encoded blobs) are indexed by their words only. Each byte of a distinct term costs a node of
/// the term dictionary's automaton, built at every flush and merge: whole long values, nearly
/// all distinct, made that the largest cost of indexing Windows events (measured: 42% of the
/// time with no bound).
pub(crate) const MAX_EXACT_BYTES: usize = 256;

/// The longest value with whitespace (text rather than a label) indexed whole; longer text
/// (messages, user agents) is found by its words. Labels such as `Process Creation` or
/// `NT AUTHORITY\SYSTEM` stay whole, for exact matches and terms aggregations.
pub(crate) const MAX_EXACT_TEXT_BYTES: usize = 64;

/// Event fields not indexed (they stay stored): `@timestamp` repeats the event time, which the
/// query language searches as `time` (and `@timestamp`), and its values are nearly all distinct.
const UNINDEXED_FIELDS: &[&str] = &["@timestamp"];

/// Event fields that hold (part of) the raw line: when their value is in the raw line, its
/// words are not indexed again, and a word query on the field also searches the raw line.
pub(crate) const MESSAGE_FIELDS: &[&str] = &["message"];

/// A JSON object as tantivy takes it: (key, value) pairs, keys may repeat.
type JsonObject = Vec<(String, OwnedValue)>;

/// How an event's fields are indexed.
struct JsonValues<'a> {
    /// The exact text of every value not too long.
    exact: JsonObject,
    /// The words of text values and long values (unless they are in the raw line).
    words: JsonObject,
    /// The numbers, numeric text included.
    numbers: JsonObject,
    /// Names of fields with a value missing from `exact`: so `field:*` finds them.
    present: Vec<&'a str>,
}

/// The JSON objects (and names) an event's fields are indexed as.
fn json_values<'a>(fields: &'a Fields, raw: &str) -> JsonValues<'a> {
    let mut exact = Vec::with_capacity(fields.len());
    let mut words = Vec::new();
    let mut numbers = Vec::new();
    let mut present = Vec::new();
    for (name, value) in fields.iter() {
        if UNINDEXED_FIELDS.contains(&name) {
            continue;
        }
        match value {
            Value::Null => {}
            Value::Bool(value) => exact.push((name.to_owned(), OwnedValue::Str(value.to_string()))),
            Value::Int(number) => {
                exact.push((name.to_owned(), OwnedValue::Str(number.to_string())));
                numbers.push((name.to_owned(), OwnedValue::I64(*number)));
            }
            Value::Float(number) => {
                exact.push((name.to_owned(), OwnedValue::Str(number.to_string())));
                if number.is_finite() {
                    numbers.push((name.to_owned(), OwnedValue::F64(*number)));
                }
            }
            Value::Str(text) => {
                if let Some(number) = numeric_text(text) {
                    numbers.push((name.to_owned(), number));
                }
                let is_text = has_several_words(text);
                let words_in_raw = MESSAGE_FIELDS.contains(&name) && raw.contains(text.as_str());
                if (is_text || text.len() > MAX_EXACT_BYTES) && !words_in_raw {
                    words.push((name.to_owned(), OwnedValue::Str(text.clone())));
                }
                let limit = if is_text {
                    MAX_EXACT_TEXT_BYTES
                } else {
                    MAX_EXACT_BYTES
                };
                if text.len() <= limit {
                    exact.push((name.to_owned(), OwnedValue::Str(text.clone())));
                } else if !present.contains(&name) {
                    present.push(name);
                }
            }
        }
    }
    JsonValues {
        exact,
        words,
        numbers,
        present,
    }
}

/// Whether the text is words (has whitespace), so a word of it may be searched for. Values with
/// punctuation only (paths, addresses, GUIDs, SIDs) are not split: that doubled the terms of
/// Windows events, and their parts are found by wildcards on the whole value and in the raw line.
fn has_several_words(text: &str) -> bool {
    text.chars().any(char::is_whitespace)
}

/// The number a text spells, when it is one (`4625`, `-3`, `0.5`; not `inf`, `0x10`, ` 7`).
pub(crate) fn numeric_text(text: &str) -> Option<OwnedValue> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.starts_with(|character: char| character.is_ascii_digit()) || text.len() > 32 {
        return None;
    }
    if let Ok(number) = text.parse::<i64>() {
        return Some(OwnedValue::I64(number));
    }
    text.parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
        .map(OwnedValue::F64)
}

/// A stable 64-bit hash of an event id (FNV-1a with a final avalanche): the tie-break between
/// events of the same time, stable across segment merges (unlike document addresses).
pub(crate) fn id_hash(id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// What is stored per event (written from borrowed parts).
#[derive(Serialize)]
struct StoredRef<'a> {
    time: i64,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grade: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    rule_ids: &'a [String],
    raw: &'a str,
    fields: &'a Fields,
}

/// What is stored per event (read back).
#[derive(Deserialize)]
struct Stored {
    time: i64,
    id: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    grade: Option<u8>,
    #[serde(default)]
    source_type: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    rule_ids: Vec<String>,
    #[serde(default)]
    raw: String,
    #[serde(default)]
    fields: Fields,
}

impl Stored {
    fn into_event_doc(self) -> EventDoc {
        let mut fields = serde_json::Map::new();
        for (name, value) in self.fields.iter() {
            let value = match value {
                Value::Null => serde_json::Value::Null,
                Value::Bool(value) => serde_json::Value::Bool(*value),
                Value::Int(value) => serde_json::Value::from(*value),
                Value::Float(value) => serde_json::Number::from_f64(*value)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null),
                Value::Str(value) => serde_json::Value::String(value.clone()),
            };
            // A repeated name (a list in the source) becomes a list again.
            match fields.get_mut(name) {
                None => {
                    fields.insert(name.to_owned(), value);
                }
                // Field values are scalars, so an array here is one this loop made.
                Some(serde_json::Value::Array(items)) => items.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = serde_json::Value::Array(vec![first, value]);
                }
            }
        }
        EventDoc {
            id: self.id,
            timestamp_nanos: self.time,
            host: self.host,
            agency: self.agency,
            system: self.system,
            grade: self.grade,
            source_type: self.source_type,
            severity: self.severity,
            rule_ids: self.rule_ids,
            raw: self.raw,
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn numeric_text_takes_numbers_only() {
        assert_eq!(numeric_text("4625"), Some(OwnedValue::I64(4625)));
        assert_eq!(numeric_text("-3"), Some(OwnedValue::I64(-3)));
        assert_eq!(numeric_text("0.5"), Some(OwnedValue::F64(0.5)));
        for text in ["inf", "NaN", "0x10", " 7", "", "abc", "1.2.3", "-"] {
            assert_eq!(numeric_text(text), None, "{text}");
        }
    }

    #[test]
    fn id_hash_is_stable() {
        // Changing the hash changes the order of events of equal time, and breaks cursors.
        assert_eq!(id_hash(""), id_hash(""));
        assert_ne!(id_hash("a"), id_hash("b"));
        assert_eq!(id_hash("abc-1"), 0xee52_b6e8_7210_21f6);
    }
}
