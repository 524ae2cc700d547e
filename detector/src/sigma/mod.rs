//! Sigma syntax: YAML documents to typed rules, correlations and filters. Nothing here knows
//! about pattern engines or events.

mod condition;
mod value;

use serde_json::Value as Json;

pub use condition::{Condition, parse_condition, pattern_matches};
pub use value::{
    MAX_WINDASH_VARIANTS, Piece, SigmaString, base64, base64_offsets, expand_placeholders, utf16be, utf16le,
    windash_variants,
};

use crate::error::RuleError;

/// A value as written in a detection.
#[derive(Clone, Debug, PartialEq)]
pub enum SigmaValue {
    /// Text (wildcards not yet interpreted).
    Str(String),
    /// An integer.
    Int(i64),
    /// A non-integer number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
}

impl SigmaValue {
    /// The value as text, as Sigma compares it.
    pub fn as_text(&self) -> Option<String> {
        match self {
            SigmaValue::Str(text) => Some(text.clone()),
            SigmaValue::Int(number) => Some(number.to_string()),
            SigmaValue::Float(number) => Some(number.to_string()),
            SigmaValue::Bool(flag) => Some(flag.to_string()),
            SigmaValue::Null => None,
        }
    }
}

/// A value modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Re,
    ReCaseInsensitive,
    ReMultiLine,
    ReDotAll,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Windash,
    Cidr,
    Lt,
    Lte,
    Gt,
    Gte,
    Exists,
    Expand,
    FieldRef,
    Cased,
    Neq,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Modifier {
    fn parse(name: &str) -> Option<Modifier> {
        Some(match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "re" => Modifier::Re,
            "i" => Modifier::ReCaseInsensitive,
            "m" => Modifier::ReMultiLine,
            "s" => Modifier::ReDotAll,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" | "wide" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "windash" => Modifier::Windash,
            "cidr" => Modifier::Cidr,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "exists" => Modifier::Exists,
            "expand" => Modifier::Expand,
            "fieldref" => Modifier::FieldRef,
            "cased" => Modifier::Cased,
            "neq" => Modifier::Neq,
            "minute" => Modifier::Minute,
            "hour" => Modifier::Hour,
            "day" => Modifier::Day,
            "week" => Modifier::Week,
            "month" => Modifier::Month,
            "year" => Modifier::Year,
            _ => return None,
        })
    }
}

/// `field|modifiers: values` inside a selection. `field` is `None` for keywords.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldItem {
    /// The field, as written in the rule (before field mapping).
    pub field: Option<String>,
    /// Modifiers in the order written.
    pub modifiers: Vec<Modifier>,
    /// The values (OR, or AND with `all`).
    pub values: Vec<SigmaValue>,
    /// The key as written, for error messages.
    pub written: String,
}

/// A search identifier: selections joined by OR, each an AND of field items.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchIdentifier {
    /// The alternatives.
    pub selections: Vec<Vec<FieldItem>>,
}

/// A rule's `logsource`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RuleLogsource {
    /// `product`.
    pub product: Option<String>,
    /// `category`.
    pub category: Option<String>,
    /// `service`.
    pub service: Option<String>,
}

/// A detection rule.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaRule {
    /// `id`.
    pub id: Option<String>,
    /// `name` (used by correlations).
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `status`.
    pub status: Option<String>,
    /// `level`.
    pub level: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `logsource`.
    pub logsource: RuleLogsource,
    /// Search identifiers in written order.
    pub identifiers: Vec<(String, SearchIdentifier)>,
    /// The condition (a list of conditions is their OR).
    pub condition: Condition,
}

/// A correlation type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
    ValuePercentile,
    ValueMedian,
}

/// A comparison in a correlation condition.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Comparison {
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    Eq(f64),
    Neq(f64),
}

impl Comparison {
    /// Whether `value` satisfies it.
    pub fn holds(&self, value: f64) -> bool {
        match *self {
            Comparison::Gt(limit) => value > limit,
            Comparison::Gte(limit) => value >= limit,
            Comparison::Lt(limit) => value < limit,
            Comparison::Lte(limit) => value <= limit,
            Comparison::Eq(limit) => value == limit,
            Comparison::Neq(limit) => value != limit,
        }
    }
}

/// A correlation rule.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaCorrelation {
    /// `id`.
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `level`.
    pub level: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// The type.
    pub kind: CorrelationType,
    /// Referenced rules, by id or name.
    pub rules: Vec<String>,
    /// `group-by` fields (alias names resolved later).
    pub group_by: Vec<String>,
    /// Window length in seconds.
    pub timespan_seconds: u64,
    /// Conditions on the aggregate (all must hold).
    pub condition: Vec<Comparison>,
    /// The aggregated field (value_* types).
    pub field: Option<String>,
    /// The percentile (value_percentile).
    pub percentile: Option<f64>,
    /// `aliases`: alias → (rule name → field).
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    /// Whether referenced rules also produce their own matches.
    pub generate: bool,
}

/// A filter (`filter:` document).
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaFilter {
    /// `id`.
    pub id: Option<String>,
    /// `title`.
    pub title: String,
    /// Rules it applies to, by id or name.
    pub rules: Vec<String>,
    /// Its search identifiers.
    pub identifiers: Vec<(String, SearchIdentifier)>,
    /// Its condition.
    pub condition: Condition,
}

/// One YAML document of a rule file.
#[derive(Clone, Debug, PartialEq)]
pub enum SigmaDocument {
    /// A detection rule.
    Rule(SigmaRule),
    /// A correlation rule.
    Correlation(SigmaCorrelation),
    /// A filter.
    Filter(SigmaFilter),
}

impl SigmaDocument {
    /// The id, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            SigmaDocument::Rule(rule) => rule.id.as_deref(),
            SigmaDocument::Correlation(correlation) => correlation.id.as_deref(),
            SigmaDocument::Filter(filter) => filter.id.as_deref(),
        }
    }

    /// The title.
    pub fn title(&self) -> &str {
        match self {
            SigmaDocument::Rule(rule) => &rule.title,
            SigmaDocument::Correlation(correlation) => &correlation.title,
            SigmaDocument::Filter(filter) => &filter.title,
        }
    }
}

/// Parses every YAML document of a rule file. One result per document, so a broken document does
/// not hide its neighbours; a file that is not YAML at all gives one error.
pub fn parse_rule_file(text: &str) -> Vec<Result<SigmaDocument, RuleError>> {
    let documents: Vec<Json> = match serde_saphyr::from_multiple(text) {
        Ok(documents) => documents,
        Err(error) => return vec![Err(RuleError::Yaml(first_line(&error.to_string())))],
    };
    // An action document (`action: global` etc., Sigma 1 collections) is not supported.
    documents
        .into_iter()
        .filter(|document| !document.is_null())
        .map(|document| parse_document(&document))
        .collect()
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_owned()
}

fn attribute_error(attribute: &str, problem: impl Into<String>) -> RuleError {
    RuleError::Attribute {
        attribute: attribute.to_owned(),
        problem: problem.into(),
    }
}

fn optional_string(document: &Json, key: &str) -> Result<Option<String>, RuleError> {
    match document.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => Ok(Some(text.clone())),
        Some(Json::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(attribute_error(key, "must be a string")),
    }
}

fn string_list(document: &Json, key: &str) -> Result<Vec<String>, RuleError> {
    match document.get(key) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::String(text)) => Ok(vec![text.clone()]),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| match item {
                Json::String(text) => Ok(text.clone()),
                Json::Number(number) => Ok(number.to_string()),
                _ => Err(attribute_error(key, "must be a list of strings")),
            })
            .collect(),
        Some(_) => Err(attribute_error(key, "must be a list of strings")),
    }
}

fn parse_document(document: &Json) -> Result<SigmaDocument, RuleError> {
    if !document.is_object() {
        return Err(attribute_error("(document)", "must be a mapping"));
    }
    let title = optional_string(document, "title")?.ok_or_else(|| attribute_error("title", "is required"))?;
    if document.get("correlation").is_some() {
        return parse_correlation(document, title).map(SigmaDocument::Correlation);
    }
    if let Some(filter) = document.get("filter") {
        return parse_filter(document, filter, title).map(SigmaDocument::Filter);
    }
    let detection = document
        .get("detection")
        .ok_or_else(|| attribute_error("detection", "is required"))?;
    let (identifiers, condition) = parse_detection(detection, "detection")?;
    let logsource = match document.get("logsource") {
        Some(Json::Object(_)) => {
            let logsource = document.get("logsource").unwrap_or(&Json::Null);
            RuleLogsource {
                product: optional_string(logsource, "product")?.map(|text| text.to_lowercase()),
                category: optional_string(logsource, "category")?.map(|text| text.to_lowercase()),
                service: optional_string(logsource, "service")?.map(|text| text.to_lowercase()),
            }
        }
        None => return Err(attribute_error("logsource", "is required")),
        Some(_) => return Err(attribute_error("logsource", "must be a mapping")),
    };
    Ok(SigmaDocument::Rule(SigmaRule {
        id: optional_string(document, "id")?,
        name: optional_string(document, "name")?,
        title,
        status: optional_string(document, "status")?,
        level: optional_string(document, "level")?,
        tags: string_list(document, "tags")?,
        logsource,
        identifiers,
        condition,
    }))
}

type Identifiers = Vec<(String, SearchIdentifier)>;

fn parse_detection(detection: &Json, path: &str) -> Result<(Identifiers, Condition), RuleError> {
    let map = detection
        .as_object()
        .ok_or_else(|| attribute_error(path, "must be a mapping"))?;
    let mut identifiers = Vec::new();
    let mut conditions = Vec::new();
    for (key, value) in map {
        if key == "condition" {
            match value {
                Json::String(text) => conditions.push(parse_condition(text)?),
                Json::Array(items) => {
                    for item in items {
                        let text = item
                            .as_str()
                            .ok_or_else(|| attribute_error(&format!("{path}.condition"), "must be text"))?;
                        conditions.push(parse_condition(text)?);
                    }
                }
                _ => return Err(attribute_error(&format!("{path}.condition"), "must be text")),
            }
        } else if key == "timeframe" {
            return Err(attribute_error(
                &format!("{path}.timeframe"),
                "is Sigma 1 aggregation syntax; use a correlation rule",
            ));
        } else {
            let identifier = parse_search_identifier(value, &format!("{path}.{key}"))?;
            identifiers.push((key.clone(), identifier));
        }
    }
    let condition = match conditions.len() {
        0 => return Err(attribute_error(&format!("{path}.condition"), "is required")),
        1 => conditions.remove(0),
        _ => Condition::Or(conditions),
    };
    check_identifiers_exist(&condition, &identifiers)?;
    Ok((identifiers, condition))
}

fn check_identifiers_exist(condition: &Condition, identifiers: &Identifiers) -> Result<(), RuleError> {
    match condition {
        Condition::Identifier(name) => {
            if identifiers.iter().any(|(known, _)| known == name) {
                Ok(())
            } else {
                Err(RuleError::Condition {
                    condition: name.clone(),
                    problem: "names a search identifier that is not defined".into(),
                })
            }
        }
        Condition::And(terms) | Condition::Or(terms) => terms
            .iter()
            .try_for_each(|term| check_identifiers_exist(term, identifiers)),
        Condition::Not(inner) => check_identifiers_exist(inner, identifiers),
        Condition::Of { pattern, .. } => {
            let found = if pattern == "them" {
                identifiers.iter().any(|(name, _)| !name.starts_with('_'))
            } else {
                identifiers.iter().any(|(name, _)| pattern_matches(pattern, name))
            };
            if found {
                Ok(())
            } else {
                Err(RuleError::Condition {
                    condition: pattern.clone(),
                    problem: "no search identifier matches this pattern".into(),
                })
            }
        }
    }
}

fn parse_value(value: &Json, path: &str) -> Result<SigmaValue, RuleError> {
    Ok(match value {
        Json::String(text) => SigmaValue::Str(text.clone()),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => SigmaValue::Int(integer),
            None => SigmaValue::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Json::Bool(flag) => SigmaValue::Bool(*flag),
        Json::Null => SigmaValue::Null,
        _ => {
            return Err(attribute_error(
                path,
                "values must be strings, numbers, booleans or null",
            ));
        }
    })
}

fn parse_values(value: &Json, path: &str) -> Result<Vec<SigmaValue>, RuleError> {
    match value {
        Json::Array(items) => {
            if items.is_empty() {
                return Err(attribute_error(path, "an empty list of values matches nothing"));
            }
            items.iter().map(|item| parse_value(item, path)).collect()
        }
        other => Ok(vec![parse_value(other, path)?]),
    }
}

fn parse_field_item(key: &str, value: &Json, path: &str) -> Result<FieldItem, RuleError> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mut modifiers = Vec::new();
    for name in parts {
        let modifier = Modifier::parse(name).ok_or_else(|| RuleError::Modifier {
            field: key.to_owned(),
            problem: format!("unknown modifier `{name}`"),
        })?;
        modifiers.push(modifier);
    }
    Ok(FieldItem {
        field: (!field.is_empty()).then(|| field.to_owned()),
        modifiers,
        values: parse_values(value, &format!("{path}.{key}"))?,
        written: key.to_owned(),
    })
}

fn parse_selection(map: &serde_json::Map<String, Json>, path: &str) -> Result<Vec<FieldItem>, RuleError> {
    if map.is_empty() {
        return Err(attribute_error(path, "an empty selection"));
    }
    map.iter()
        .map(|(key, value)| parse_field_item(key, value, path))
        .collect()
}

fn parse_search_identifier(value: &Json, path: &str) -> Result<SearchIdentifier, RuleError> {
    match value {
        Json::Object(map) => Ok(SearchIdentifier {
            selections: vec![parse_selection(map, path)?],
        }),
        Json::Array(items) if items.iter().all(|item| item.is_object()) && !items.is_empty() => {
            let selections = items
                .iter()
                .filter_map(Json::as_object)
                .map(|map| parse_selection(map, path))
                .collect::<Result<_, _>>()?;
            Ok(SearchIdentifier { selections })
        }
        Json::Array(items) if items.iter().any(Json::is_object) => Err(attribute_error(
            path,
            "a list must hold either keywords or selections, not both",
        )),
        Json::Array(_) | Json::String(_) | Json::Number(_) => Ok(SearchIdentifier {
            selections: vec![vec![FieldItem {
                field: None,
                modifiers: Vec::new(),
                values: parse_values(value, path)?,
                written: String::new(),
            }]],
        }),
        _ => Err(attribute_error(path, "must be a mapping, a list or a keyword")),
    }
}

fn parse_timespan(text: &str) -> Option<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        "M" => 2_592_000,
        "y" => 31_536_000,
        _ => return None,
    };
    number.checked_mul(seconds)
}

fn parse_correlation(document: &Json, title: String) -> Result<SigmaCorrelation, RuleError> {
    let section = document.get("correlation").unwrap_or(&Json::Null);
    if !section.is_object() {
        return Err(attribute_error("correlation", "must be a mapping"));
    }
    let kind = match optional_string(section, "type")?.as_deref() {
        Some("event_count") => CorrelationType::EventCount,
        Some("value_count") => CorrelationType::ValueCount,
        Some("temporal") => CorrelationType::Temporal,
        Some("temporal_ordered") => CorrelationType::TemporalOrdered,
        Some("value_sum") => CorrelationType::ValueSum,
        Some("value_avg") => CorrelationType::ValueAvg,
        Some("value_percentile") => CorrelationType::ValuePercentile,
        Some("value_median") => CorrelationType::ValueMedian,
        Some(other) => {
            return Err(attribute_error(
                "correlation.type",
                format!("unknown type `{other}`"),
            ));
        }
        None => return Err(attribute_error("correlation.type", "is required")),
    };
    let rules = string_list(section, "rules")?;
    if rules.is_empty() {
        return Err(attribute_error("correlation.rules", "is required"));
    }
    let group_by = string_list(section, "group-by")?;
    let timespan_text = optional_string(section, "timespan")?
        .or(optional_string(section, "timeframe")?)
        .ok_or_else(|| attribute_error("correlation.timespan", "is required"))?;
    let timespan_seconds = parse_timespan(&timespan_text).ok_or_else(|| {
        attribute_error(
            "correlation.timespan",
            format!("`{timespan_text}` is not a number followed by s, m, h or d"),
        )
    })?;
    let mut condition = Vec::new();
    let mut field = None;
    let mut percentile = None;
    match section.get("condition") {
        Some(Json::Object(map)) => {
            for (key, value) in map {
                let number = || {
                    value.as_f64().ok_or_else(|| {
                        attribute_error(&format!("correlation.condition.{key}"), "must be a number")
                    })
                };
                match key.as_str() {
                    "gt" => condition.push(Comparison::Gt(number()?)),
                    "gte" => condition.push(Comparison::Gte(number()?)),
                    "lt" => condition.push(Comparison::Lt(number()?)),
                    "lte" => condition.push(Comparison::Lte(number()?)),
                    "eq" => condition.push(Comparison::Eq(number()?)),
                    "neq" => condition.push(Comparison::Neq(number()?)),
                    "field" => {
                        field = Some(match value {
                            Json::String(text) => text.clone(),
                            Json::Array(items) => items
                                .iter()
                                .filter_map(Json::as_str)
                                .collect::<Vec<_>>()
                                .join(","),
                            _ => {
                                return Err(attribute_error("correlation.condition.field", "must be text"));
                            }
                        })
                    }
                    "percentile" => percentile = Some(number()?),
                    other => {
                        return Err(attribute_error(
                            "correlation.condition",
                            format!("unknown comparison `{other}`"),
                        ));
                    }
                }
            }
        }
        None | Some(Json::Null) => {}
        Some(_) => return Err(attribute_error("correlation.condition", "must be a mapping")),
    }
    let needs_condition = !matches!(kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered);
    if needs_condition && condition.is_empty() {
        return Err(attribute_error(
            "correlation.condition",
            "needs a comparison (gt, gte, lt, lte, eq, neq)",
        ));
    }
    let needs_field = matches!(
        kind,
        CorrelationType::ValueCount
            | CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile
            | CorrelationType::ValueMedian
    );
    if needs_field && field.is_none() {
        return Err(attribute_error(
            "correlation.condition.field",
            "is required for this type",
        ));
    }
    let mut aliases = Vec::new();
    if let Some(Json::Object(map)) = section.get("aliases") {
        for (alias, per_rule) in map {
            let per_rule = per_rule.as_object().ok_or_else(|| {
                attribute_error(&format!("correlation.aliases.{alias}"), "must be a mapping")
            })?;
            let fields = per_rule
                .iter()
                .map(|(rule, field)| {
                    field
                        .as_str()
                        .map(|field| (rule.clone(), field.to_owned()))
                        .ok_or_else(|| {
                            attribute_error(&format!("correlation.aliases.{alias}.{rule}"), "must be text")
                        })
                })
                .collect::<Result<_, _>>()?;
            aliases.push((alias.clone(), fields));
        }
    }
    let generate = match section.get("generate").or(document.get("generate")) {
        Some(Json::Bool(flag)) => *flag,
        None | Some(Json::Null) => false,
        Some(_) => return Err(attribute_error("correlation.generate", "must be true or false")),
    };
    Ok(SigmaCorrelation {
        id: optional_string(document, "id")?,
        name: optional_string(document, "name")?,
        title,
        level: optional_string(document, "level")?,
        tags: string_list(document, "tags")?,
        kind,
        rules,
        group_by,
        timespan_seconds,
        condition,
        field,
        percentile,
        aliases,
        generate,
    })
}

fn parse_filter(document: &Json, filter: &Json, title: String) -> Result<SigmaFilter, RuleError> {
    if !filter.is_object() {
        return Err(attribute_error("filter", "must be a mapping"));
    }
    let rules = string_list(filter, "rules")?;
    let mut detection = filter.clone();
    if let Some(map) = detection.as_object_mut() {
        map.remove("rules");
    }
    let (identifiers, condition) = parse_detection(&detection, "filter")?;
    Ok(SigmaFilter {
        id: optional_string(document, "id")?,
        title,
        rules,
        identifiers,
        condition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Result<SigmaDocument, RuleError> {
        parse_rule_file(text).remove(0)
    }

    #[test]
    fn parses_a_rule_with_selections_and_keywords() {
        let document = parse_one(
            r"
title: t
id: 1
logsource: {product: Windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\cmd.exe'
    CommandLine|contains|all: [a, b]
  keywords: [evil, bad]
  condition: selection or keywords
level: high
tags: [attack.t1059]
",
        )
        .unwrap();
        let SigmaDocument::Rule(rule) = document else {
            panic!("not a rule")
        };
        assert_eq!(rule.logsource.product.as_deref(), Some("windows"));
        assert_eq!(rule.identifiers.len(), 2);
        let (_, selection) = rule
            .identifiers
            .iter()
            .find(|(name, _)| name == "selection")
            .unwrap();
        let command_line = selection.selections[0]
            .iter()
            .find(|item| item.field.as_deref() == Some("CommandLine"))
            .unwrap();
        assert_eq!(command_line.modifiers, vec![Modifier::Contains, Modifier::All]);
        let (_, keywords) = rule
            .identifiers
            .iter()
            .find(|(name, _)| name == "keywords")
            .unwrap();
        assert_eq!(keywords.selections[0][0].field, None);
    }

    #[test]
    fn reports_unknown_modifier_with_the_field() {
        let error =
            parse_one("title: t\nlogsource: {product: x}\ndetection: {sel: {'A|bogus': 1}, condition: sel}")
                .unwrap_err();
        assert_eq!(error.to_string(), "field `A|bogus`: unknown modifier `bogus`");
    }

    #[test]
    fn reports_undefined_identifier() {
        let error = parse_one(
            "title: t\nlogsource: {product: x}\ndetection: {sel: {A: 1}, condition: sel and other}",
        )
        .unwrap_err();
        assert!(error.to_string().contains("other"), "{error}");
    }

    #[test]
    fn one_broken_document_does_not_hide_the_others() {
        let results = parse_rule_file(
            "title: a\nlogsource: {product: x}\ndetection: {s: {A: 1}, condition: s}\n---\ntitle: b\n",
        );
        assert_eq!(results.len(), 2);
        assert!(results[0].is_ok());
        assert!(results[1].is_err());
    }

    #[test]
    fn parses_correlations() {
        let document = parse_one(
            "title: c\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [Host]\n  timespan: 1h\n  condition: {field: User, gte: 3}\n",
        )
        .unwrap();
        let SigmaDocument::Correlation(correlation) = document else {
            panic!()
        };
        assert_eq!(correlation.timespan_seconds, 3600);
        assert_eq!(correlation.condition, vec![Comparison::Gte(3.0)]);
        assert_eq!(correlation.field.as_deref(), Some("User"));
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("90m"), Some(5400));
        assert_eq!(parse_timespan("2d"), Some(172_800));
        assert_eq!(parse_timespan("5x"), None);
        assert_eq!(parse_timespan(""), None);
    }
}
