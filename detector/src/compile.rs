//! Sigma syntax to predicates: every field item becomes a boolean expression over predicates.
//! A predicate is either a set of string patterns on one field (for a pattern engine) or a check
//! evaluated directly (numbers, cidr, exists, null, fieldref, empty values).

use std::collections::HashMap;

use ipnet::IpNet;

use crate::engine::PatternSpec;
use crate::error::RuleError;
use crate::sigma::{
    Condition, FieldItem, Modifier, SearchIdentifier, SigmaString, SigmaValue, base64, base64_offsets,
    expand_placeholders, pattern_matches, utf16be, utf16le, windash_variants,
};

/// Which field values a predicate looks at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A named field.
    Field(String),
    /// Every field value (keywords).
    Keywords,
}

/// A numeric comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum NumericOp {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
}

impl NumericOp {
    pub(crate) fn holds(self, left: f64, right: f64) -> bool {
        match self {
            NumericOp::Lt => left < right,
            NumericOp::Lte => left <= right,
            NumericOp::Gt => left > right,
            NumericOp::Gte => left >= right,
            NumericOp::Eq => left == right,
        }
    }
}

/// How a field reference compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RefMode {
    Equals,
    StartsWith,
    EndsWith,
    Contains,
}

/// A part of a date (time modifiers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DatePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A check evaluated without a pattern engine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Direct {
    /// `|exists: true/false`.
    Exists { field: String, expected: bool },
    /// `field: null`: absent, or present with a null value.
    Null { field: String },
    /// `field: ''`: some value is the empty string.
    Empty { field: String },
    /// `field: '*'`: some non-null value.
    AnyValue { field: String },
    /// `|lt` and friends (`value` as f64 bits).
    Compare {
        field: String,
        op: NumericOp,
        value: u64,
    },
    /// `|cidr`.
    Cidr { field: String, networks: Vec<IpNet> },
    /// `|fieldref`.
    FieldRef {
        field: String,
        other: String,
        mode: RefMode,
        cased: bool,
    },
    /// Time modifiers: a part of the field's date compared with a number.
    DatePart {
        field: String,
        part: DatePart,
        op: NumericOp,
        value: i64,
    },
}

/// A predicate, the unit the evaluator caches per event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Predicate {
    /// True when any of the patterns matches any value of the target.
    Patterns {
        target: Target,
        patterns: Vec<PatternSpec>,
    },
    /// A direct check.
    Direct(Direct),
}

/// A boolean expression over predicates of type `P`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Expr<P> {
    Predicate(P),
    Not(Box<Expr<P>>),
    And(Vec<Expr<P>>),
    Or(Vec<Expr<P>>),
    Const(bool),
}

impl<P> Expr<P> {
    pub(crate) fn map<Q>(self, function: &mut impl FnMut(P) -> Q) -> Expr<Q> {
        match self {
            Expr::Predicate(predicate) => Expr::Predicate(function(predicate)),
            Expr::Not(inner) => Expr::Not(Box::new(inner.map(function))),
            Expr::And(terms) => Expr::And(terms.into_iter().map(|term| term.map(function)).collect()),
            Expr::Or(terms) => Expr::Or(terms.into_iter().map(|term| term.map(function)).collect()),
            Expr::Const(value) => Expr::Const(value),
        }
    }

    fn and(mut terms: Vec<Expr<P>>) -> Expr<P> {
        if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        }
    }

    fn or(mut terms: Vec<Expr<P>>) -> Expr<P> {
        if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        }
    }

    /// Three-valued evaluation: `Some(value)` when known, `None` when it depends on unknowns.
    pub(crate) fn evaluate3(&self, leaf: &mut impl FnMut(&P) -> Option<bool>) -> Option<bool> {
        match self {
            Expr::Predicate(predicate) => leaf(predicate),
            Expr::Const(value) => Some(*value),
            Expr::Not(inner) => inner.evaluate3(leaf).map(|value| !value),
            Expr::And(terms) => {
                let mut unknown = false;
                for term in terms {
                    match term.evaluate3(leaf) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown { None } else { Some(true) }
            }
            Expr::Or(terms) => {
                let mut unknown = false;
                for term in terms {
                    match term.evaluate3(leaf) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { None } else { Some(false) }
            }
        }
    }

    /// Two-valued evaluation, short-circuiting.
    pub(crate) fn evaluate(&self, leaf: &mut impl FnMut(&P) -> bool) -> bool {
        match self {
            Expr::Predicate(predicate) => leaf(predicate),
            Expr::Const(value) => *value,
            Expr::Not(inner) => !inner.evaluate(leaf),
            Expr::And(terms) => terms.iter().all(|term| term.evaluate(leaf)),
            Expr::Or(terms) => terms.iter().any(|term| term.evaluate(leaf)),
        }
    }
}

/// What compiling a rule needs besides the rule.
pub(crate) struct CompileContext<'a> {
    /// Rule field name → event field name.
    pub(crate) field_map: &'a HashMap<String, String>,
    /// `|expand` placeholder values.
    pub(crate) placeholders: &'a HashMap<String, Vec<String>>,
}

/// Compiles a detection (identifiers and condition) into an expression.
pub(crate) fn compile_detection(
    identifiers: &[(String, SearchIdentifier)],
    condition: &Condition,
    context: &CompileContext<'_>,
) -> Result<Expr<Predicate>, RuleError> {
    let mut compiled = HashMap::new();
    for (name, identifier) in identifiers {
        compiled.insert(name.as_str(), compile_identifier(identifier, context)?);
    }
    Ok(compile_condition(condition, identifiers, &compiled))
}

fn compile_condition(
    condition: &Condition,
    identifiers: &[(String, SearchIdentifier)],
    compiled: &HashMap<&str, Expr<Predicate>>,
) -> Expr<Predicate> {
    match condition {
        Condition::Identifier(name) => compiled.get(name.as_str()).cloned().unwrap_or(Expr::Const(false)),
        Condition::And(terms) => Expr::and(
            terms
                .iter()
                .map(|term| compile_condition(term, identifiers, compiled))
                .collect(),
        ),
        Condition::Or(terms) => Expr::or(
            terms
                .iter()
                .map(|term| compile_condition(term, identifiers, compiled))
                .collect(),
        ),
        Condition::Not(inner) => Expr::Not(Box::new(compile_condition(inner, identifiers, compiled))),
        Condition::Of { count, pattern } => {
            let members: Vec<Expr<Predicate>> = identifiers
                .iter()
                .filter(|(name, _)| {
                    if pattern == "them" {
                        !name.starts_with('_')
                    } else {
                        pattern_matches(pattern, name)
                    }
                })
                .filter_map(|(name, _)| compiled.get(name.as_str()).cloned())
                .collect();
            match count {
                None => Expr::and(members),
                Some(1) => Expr::or(members),
                Some(count) => at_least(*count, members),
            }
        }
    }
}

/// `n of` for n > 1: the OR of every n-combination's AND (rules use small n).
fn at_least(count: usize, members: Vec<Expr<Predicate>>) -> Expr<Predicate> {
    if count > members.len() {
        return Expr::Const(false);
    }
    if count == 0 {
        return Expr::Const(true);
    }
    let mut alternatives = Vec::new();
    let mut chosen = Vec::new();
    fn choose(
        start: usize,
        count: usize,
        members: &[Expr<Predicate>],
        chosen: &mut Vec<Expr<Predicate>>,
        out: &mut Vec<Expr<Predicate>>,
    ) {
        if chosen.len() == count {
            out.push(Expr::And(chosen.clone()));
            return;
        }
        for index in start..members.len() {
            chosen.push(members[index].clone());
            choose(index + 1, count, members, chosen, out);
            chosen.pop();
        }
    }
    choose(0, count, &members, &mut chosen, &mut alternatives);
    Expr::or(alternatives)
}

fn compile_identifier(
    identifier: &SearchIdentifier,
    context: &CompileContext<'_>,
) -> Result<Expr<Predicate>, RuleError> {
    let mut alternatives = Vec::new();
    for selection in &identifier.selections {
        let items = selection
            .iter()
            .map(|item| compile_item(item, context))
            .collect::<Result<Vec<_>, _>>()?;
        alternatives.push(Expr::and(items));
    }
    Ok(Expr::or(alternatives))
}

fn modifier_error(item: &FieldItem, problem: impl Into<String>) -> RuleError {
    RuleError::Modifier {
        field: if item.written.is_empty() {
            "(keywords)".to_owned()
        } else {
            item.written.clone()
        },
        problem: problem.into(),
    }
}

/// Compiles one `field|modifiers: values` item.
pub(crate) fn compile_item(
    item: &FieldItem,
    context: &CompileContext<'_>,
) -> Result<Expr<Predicate>, RuleError> {
    let has = |modifier: Modifier| item.modifiers.contains(&modifier);
    let target = match &item.field {
        Some(field) => Target::Field(
            context
                .field_map
                .get(field)
                .cloned()
                .unwrap_or_else(|| field.clone()),
        ),
        None => Target::Keywords,
    };
    for flag in [
        Modifier::ReCaseInsensitive,
        Modifier::ReMultiLine,
        Modifier::ReDotAll,
    ] {
        if has(flag) && !has(Modifier::Re) {
            return Err(modifier_error(
                item,
                "the regular expression flags i, m and s need `re`",
            ));
        }
    }
    let field_name = match &target {
        Target::Field(name) => Some(name.clone()),
        Target::Keywords => None,
    };
    let needs_field = |what: &str| {
        field_name
            .clone()
            .ok_or_else(|| modifier_error(item, format!("`{what}` needs a field")))
    };

    if has(Modifier::Exists) {
        let field = needs_field("exists")?;
        let [SigmaValue::Bool(expected)] = item.values.as_slice() else {
            return Err(modifier_error(
                item,
                "`exists` takes exactly one value, true or false",
            ));
        };
        return Ok(Expr::Predicate(Predicate::Direct(Direct::Exists {
            field,
            expected: *expected,
        })));
    }

    let mut per_value = Vec::with_capacity(item.values.len());
    for value in &item.values {
        per_value.push(compile_value(item, &target, value, context)?);
    }
    let combined = if has(Modifier::All) {
        Expr::and(per_value)
    } else {
        Expr::or(per_value)
    };
    Ok(if has(Modifier::Neq) {
        Expr::Not(Box::new(combined))
    } else {
        combined
    })
}

fn compile_value(
    item: &FieldItem,
    target: &Target,
    value: &SigmaValue,
    context: &CompileContext<'_>,
) -> Result<Expr<Predicate>, RuleError> {
    let has = |modifier: Modifier| item.modifiers.contains(&modifier);
    let field = match target {
        Target::Field(name) => Some(name.clone()),
        Target::Keywords => None,
    };
    let needs_field = |what: &str| {
        field
            .clone()
            .ok_or_else(|| modifier_error(item, format!("`{what}` needs a field")))
    };
    let direct = |check: Direct| Ok(Expr::Predicate(Predicate::Direct(check)));

    if *value == SigmaValue::Null {
        let field = needs_field("null")?;
        if item
            .modifiers
            .iter()
            .any(|modifier| !matches!(modifier, Modifier::All | Modifier::Neq))
        {
            return Err(modifier_error(item, "`null` takes no value modifiers"));
        }
        return direct(Direct::Null { field });
    }

    if has(Modifier::FieldRef) {
        let field = needs_field("fieldref")?;
        let other = value
            .as_text()
            .ok_or_else(|| modifier_error(item, "`fieldref` needs a field name"))?;
        let other = context.field_map.get(&other).cloned().unwrap_or(other);
        let mode = if has(Modifier::Contains) {
            RefMode::Contains
        } else if has(Modifier::StartsWith) {
            RefMode::StartsWith
        } else if has(Modifier::EndsWith) {
            RefMode::EndsWith
        } else {
            RefMode::Equals
        };
        return direct(Direct::FieldRef {
            field,
            other,
            mode,
            cased: has(Modifier::Cased),
        });
    }

    let date_part = [
        (Modifier::Minute, DatePart::Minute),
        (Modifier::Hour, DatePart::Hour),
        (Modifier::Day, DatePart::Day),
        (Modifier::Week, DatePart::Week),
        (Modifier::Month, DatePart::Month),
        (Modifier::Year, DatePart::Year),
    ]
    .into_iter()
    .find(|(modifier, _)| has(*modifier));
    let numeric_op = [
        (Modifier::Lt, NumericOp::Lt),
        (Modifier::Lte, NumericOp::Lte),
        (Modifier::Gt, NumericOp::Gt),
        (Modifier::Gte, NumericOp::Gte),
    ]
    .into_iter()
    .find(|(modifier, _)| has(*modifier))
    .map(|(_, op)| op);

    if let Some((_, part)) = date_part {
        let field = needs_field("a time modifier")?;
        let SigmaValue::Int(number) = value else {
            return Err(modifier_error(item, "time modifiers compare with an integer"));
        };
        return direct(Direct::DatePart {
            field,
            part,
            op: numeric_op.unwrap_or(NumericOp::Eq),
            value: *number,
        });
    }

    if let Some(op) = numeric_op {
        let field = needs_field("a numeric comparison")?;
        let number = match value {
            SigmaValue::Int(number) => *number as f64,
            SigmaValue::Float(number) => *number,
            SigmaValue::Str(text) => text
                .trim()
                .parse()
                .map_err(|_| modifier_error(item, format!("`{text}` is not a number")))?,
            _ => return Err(modifier_error(item, "numeric comparisons need a number")),
        };
        return direct(Direct::Compare {
            field,
            op,
            value: number.to_bits(),
        });
    }

    if has(Modifier::Cidr) {
        let field = needs_field("cidr")?;
        let text = value
            .as_text()
            .ok_or_else(|| modifier_error(item, "`cidr` needs a network"))?;
        let network: IpNet = text
            .trim()
            .parse()
            .or_else(|_| text.trim().parse::<std::net::IpAddr>().map(IpNet::from))
            .map_err(|_| modifier_error(item, format!("`{text}` is not an IPv4 or IPv6 network")))?;
        return direct(Direct::Cidr {
            field,
            networks: vec![network],
        });
    }

    let text = match value {
        SigmaValue::Bool(_) if item.field.is_some() => value.as_text().unwrap_or_default(),
        other => other
            .as_text()
            .ok_or_else(|| modifier_error(item, "needs a value"))?,
    };

    if has(Modifier::Re) {
        for modifier in &item.modifiers {
            if !matches!(
                modifier,
                Modifier::Re
                    | Modifier::ReCaseInsensitive
                    | Modifier::ReMultiLine
                    | Modifier::ReDotAll
                    | Modifier::All
                    | Modifier::Neq
                    | Modifier::Cased
            ) {
                return Err(modifier_error(
                    item,
                    format!("`re` cannot be combined with `{modifier:?}`"),
                ));
            }
        }
        let pattern = PatternSpec {
            expression: text.clone(),
            caseless: has(Modifier::ReCaseInsensitive),
            multi_line: has(Modifier::ReMultiLine),
            dot_all: has(Modifier::ReDotAll),
            utf8: !text.is_ascii(),
        };
        pattern.compile_regex().map_err(|problem| RuleError::Regex {
            field: item.written.clone(),
            pattern: text.clone(),
            problem,
        })?;
        return Ok(Expr::Predicate(Predicate::Patterns {
            target: target.clone(),
            patterns: vec![pattern],
        }));
    }

    let variants = string_variants(item, &text, context)?;
    let caseless = !has(Modifier::Cased);
    let mut patterns = Vec::new();
    let mut directs = Vec::new();
    for variant in variants {
        if variant.is_empty() {
            let field = needs_field("an empty value")?;
            directs.push(Expr::Predicate(Predicate::Direct(Direct::Empty { field })));
        } else if variant.matches_anything() {
            let field = needs_field("a value of only `*`")?;
            directs.push(Expr::Predicate(Predicate::Direct(Direct::AnyValue { field })));
        } else {
            patterns.push(PatternSpec {
                expression: wildcard_regex(&variant),
                caseless,
                multi_line: false,
                dot_all: true,
                utf8: false,
            });
        }
    }
    patterns.sort();
    patterns.dedup();
    if !patterns.is_empty() {
        directs.push(Expr::Predicate(Predicate::Patterns {
            target: target.clone(),
            patterns,
        }));
    }
    Ok(Expr::or(directs))
}

/// The variants one written string stands for after `expand`, `windash`, the encodings and
/// `contains`/`startswith`/`endswith`.
fn string_variants(
    item: &FieldItem,
    text: &str,
    context: &CompileContext<'_>,
) -> Result<Vec<SigmaString>, RuleError> {
    let has = |modifier: Modifier| item.modifiers.contains(&modifier);
    let mut texts = if has(Modifier::Expand) {
        expand_placeholders(text, context.placeholders).map_err(RuleError::Placeholder)?
    } else {
        vec![text.to_owned()]
    };
    if has(Modifier::Windash) {
        let mut expanded = Vec::new();
        for text in &texts {
            expanded.extend(windash_variants(text).ok_or_else(|| {
                modifier_error(
                    item,
                    format!(
                        "`windash` would make more than {} variants",
                        crate::sigma::MAX_WINDASH_VARIANTS
                    ),
                )
            })?);
        }
        texts = expanded;
    }
    let mut strings: Vec<SigmaString> = texts.iter().map(|text| SigmaString::parse(text)).collect();
    for modifier in &item.modifiers {
        strings = match modifier {
            Modifier::Utf16Le => strings
                .iter()
                .map(|string| string.map_literals(utf16le))
                .collect(),
            Modifier::Utf16Be => strings
                .iter()
                .map(|string| string.map_literals(utf16be))
                .collect(),
            Modifier::Utf16 => strings
                .iter()
                .map(|string| {
                    let mut encoded = string.map_literals(utf16le);
                    encoded
                        .pieces
                        .insert(0, crate::sigma::Piece::Literal(vec![0xff, 0xfe]));
                    encoded
                })
                .collect(),
            Modifier::Base64 => strings
                .iter()
                .map(|string| {
                    string
                        .as_literal()
                        .map(|bytes| SigmaString {
                            pieces: vec![crate::sigma::Piece::Literal(base64(&bytes))],
                        })
                        .ok_or_else(|| modifier_error(item, "`base64` cannot encode wildcards"))
                })
                .collect::<Result<_, _>>()?,
            Modifier::Base64Offset => {
                let mut out = Vec::new();
                for string in &strings {
                    let bytes = string
                        .as_literal()
                        .ok_or_else(|| modifier_error(item, "`base64offset` cannot encode wildcards"))?;
                    for variant in base64_offsets(&bytes) {
                        out.push(SigmaString {
                            pieces: vec![crate::sigma::Piece::Literal(variant)],
                        });
                    }
                }
                out
            }
            _ => strings,
        };
    }
    // Keywords search the whole event: a keyword is found anywhere in a value.
    let keyword = item.field.is_none() && !has(Modifier::StartsWith) && !has(Modifier::EndsWith);
    for string in &mut strings {
        if keyword
            || has(Modifier::Contains)
            || has(Modifier::Base64Offset) && !has(Modifier::StartsWith) && !has(Modifier::EndsWith)
        {
            string.prepend_any();
            string.append_any();
        } else if has(Modifier::StartsWith) {
            string.append_any();
        } else if has(Modifier::EndsWith) {
            string.prepend_any();
        }
    }
    Ok(strings)
}

/// The anchored regular expression of a wildcard string. Letters, digits and `_` stay as they
/// are (so case folding applies); every other byte is written `\xNN`.
pub(crate) fn wildcard_regex(string: &SigmaString) -> String {
    use crate::sigma::Piece;
    let pieces = &string.pieces;
    let starts_any = pieces.first() == Some(&Piece::AnyRun);
    let ends_any = pieces.last() == Some(&Piece::AnyRun);
    let inner = &pieces[usize::from(starts_any)
        ..pieces.len() - usize::from(ends_any && pieces.len() > usize::from(starts_any))];
    let mut out = String::new();
    if !starts_any {
        out.push_str("\\A");
    }
    for piece in inner {
        match piece {
            Piece::Literal(bytes) => {
                for &byte in bytes {
                    if byte.is_ascii_alphanumeric() || byte == b'_' {
                        out.push(byte as char);
                    } else {
                        out.push_str(&format!("\\x{byte:02x}"));
                    }
                }
            }
            Piece::AnyRun => out.push_str(".*"),
            Piece::AnyOne => out.push('.'),
        }
    }
    if !ends_any {
        out.push_str("\\z");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_regexes_anchor_only_where_needed() {
        assert_eq!(wildcard_regex(&SigmaString::parse("*cmd.exe")), "cmd\\x2eexe\\z");
        assert_eq!(wildcard_regex(&SigmaString::parse("cmd*")), "\\Acmd");
        assert_eq!(wildcard_regex(&SigmaString::parse("*a?b*")), "a.b");
        assert_eq!(wildcard_regex(&SigmaString::parse("x")), "\\Ax\\z");
    }
}
