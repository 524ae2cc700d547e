use std::fmt;

use serde::{Deserialize, Serialize};

/// A typed field value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// JSON `null`: the field is present but empty of value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str(String),
}

impl Value {
    /// The value as text, the way Sigma compares values: numbers in decimal, booleans as
    /// `true`/`false`; `None` for null.
    pub fn as_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self {
            Value::Null => None,
            Value::Bool(value) => Some(Cow::Borrowed(if *value { "true" } else { "false" })),
            Value::Int(value) => Some(Cow::Owned(value.to_string())),
            Value::Float(value) => Some(Cow::Owned(value.to_string())),
            Value::Str(value) => Some(Cow::Borrowed(value)),
        }
    }

    /// The value as a number, parsing text when it holds one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(value) => Some(*value as f64),
            Value::Float(value) => Some(*value),
            Value::Str(text) => text.trim().parse().ok(),
            Value::Null | Value::Bool(_) => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_text() {
            Some(text) => formatter.write_str(&text),
            None => formatter.write_str("null"),
        }
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Str(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Str(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

/// The flat fields of an event, in arrival order. A name may repeat: a JSON list becomes one entry
/// per element, and a match on any of them is a match on the field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(Vec<(String, Value)>);

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Fields(Vec::new())
    }

    /// Adds a field (a repeated name adds another value).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value)
    }

    /// Every value of a field.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.0
            .iter()
            .filter(move |(field, _)| field == name)
            .map(|(_, value)| value)
    }

    /// Whether the field is present (with any value, null included).
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(field, _)| field == name)
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// Number of field values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, Value)> for Fields {
    fn from_iter<T: IntoIterator<Item = (String, Value)>>(iter: T) -> Self {
        Fields(iter.into_iter().collect())
    }
}

/// The Sigma logsource an event belongs to, when its source declares one (a parser that knows it
/// read an sshd line says `product: linux, service: auth`). Windows events usually leave it empty
/// and are routed by their `Channel` and `EventID`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Logsource {
    /// Sigma `product`, e.g. `windows`, `linux`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Sigma `category`, e.g. `process_creation`, `webserver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Sigma `service`, e.g. `auth`, `security`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl Logsource {
    /// Whether nothing is declared.
    pub fn is_empty(&self) -> bool {
        self.product.is_none() && self.category.is_none() && self.service.is_none()
    }
}

/// One normalised event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When the event happened, in nanoseconds since the Unix epoch (UTC); `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_nanos: Option<i64>,
    /// The host that produced the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The agency the host belongs to (from the inventory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The information system the host belongs to (from the inventory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// What kind of source produced it: `evtx`, `syslog`, `json`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// The declared Sigma logsource.
    #[serde(default, skip_serializing_if = "Logsource::is_empty")]
    pub logsource: Logsource,
    /// The raw record, verbatim.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub raw: String,
    /// The typed fields.
    #[serde(default)]
    pub fields: Fields,
}
