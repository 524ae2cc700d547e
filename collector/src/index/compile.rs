//! Query trees ([`Node`]) to tantivy queries over the [`IndexSchema`].
//!
//! Field names resolve to a [`Target`]: `raw` (and bare values), `time` (`timestamp`,
//! `@timestamp`), `id`, `grade`, the core keywords (`host`, `agency`, ..., see
//! [`super::schema::KEYWORDS`]), and every other name to the event field of that name (`fields.`
//! may prefix it to reach an event field a core name hides, e.g. `fields.host`).
//!
//! Matching is case-insensitive except for `id`, ranges over text, and the agency scope:
//!
//! | target | `value` | `a*b?` | `"a phrase"` | `[a TO b]` | `*` |
//! |-|-|-|-|-|-|
//! | raw | its words, in order | per word; words split at punctuation must follow each other | words in order | error | a word |
//! | keyword | the exact value | the whole value | the exact value | text order | has one |
//! | event field | the exact value, or its words in a longer value, or the same number | the whole value, or the words of a long value | exact value or words in order | numbers when both ends are, else text order | has one |
//!
//! Long values (over [`super::schema::MAX_EXACT_BYTES`], or text with spaces over
//! [`super::schema::MAX_EXACT_TEXT_BYTES`]) are indexed by their words only: they match word
//! queries and single-word wildcards, not whole-value ones. Queries on `message` also search the
//! raw line, where its words are indexed ([`super::schema::MESSAGE_FIELDS`]).
//! | time | RFC 3339 instant or a whole day `2026-11-20` or nanoseconds | error | same | the instants | every event |

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, ExistsQuery, InvertedIndexRangeQuery, Occur, PhraseQuery, Query,
    RangeQuery, RegexPhraseQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};

use super::query::{Node, Part, Pattern, Text};
use super::schema::{IndexSchema, MESSAGE_FIELDS, numeric_text};
use super::{IndexError, Scope};

/// Nanoseconds per day.
pub(crate) const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// What a field name refers to.
enum Target<'a> {
    Raw,
    Time,
    Id,
    Grade,
    Keyword(Field, &'static str),
    Json(&'a str),
}

/// Compiles a query tree.
pub(crate) fn compile(schema: &IndexSchema, node: &Node) -> Result<Box<dyn Query>, IndexError> {
    let words = TokenizerManager::default()
        .get("default")
        .ok_or_else(|| IndexError::Corrupt("tantivy has no `default` tokenizer".into()))?;
    Compiler { schema, words }.node(node)
}

/// The filter of a viewer's scope, if any: only events whose agency is one of theirs.
pub(crate) fn scope_filter(schema: &IndexSchema, scope: &Scope) -> Option<Box<dyn Query>> {
    match scope {
        Scope::All => None,
        Scope::Agencies(agencies) if agencies.is_empty() => Some(Box::new(EmptyQuery)),
        Scope::Agencies(agencies) => Some(Box::new(TermSetQuery::new(
            agencies
                .iter()
                .map(|agency| Term::from_field_text(schema.agency, agency)),
        ))),
    }
}

/// Events whose time is in `[from, to]`.
pub(crate) fn time_filter(schema: &IndexSchema, from_nanos: i64, to_nanos: i64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_i64(schema.time, from_nanos)),
        Bound::Included(Term::from_field_i64(schema.time, to_nanos)),
    ))
}

/// `query` restricted by every filter.
pub(crate) fn restrict(query: Box<dyn Query>, filters: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if filters.is_empty() {
        return query;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(filters.len() + 1);
    if !query.is::<AllQuery>() {
        clauses.push((Occur::Must, query));
    }
    clauses.extend(filters.into_iter().map(|filter| (Occur::Must, filter)));
    if clauses.len() == 1 {
        return clauses.remove(0).1;
    }
    Box::new(BooleanQuery::new(clauses))
}

struct Compiler<'a> {
    schema: &'a IndexSchema,
    words: TextAnalyzer,
}

fn query_error(position: usize, message: impl std::fmt::Display) -> IndexError {
    IndexError::Query(format!("query error at position {position}: {message}"))
}

impl Compiler<'_> {
    fn node(&mut self, node: &Node) -> Result<Box<dyn Query>, IndexError> {
        match node {
            Node::All => Ok(Box::new(AllQuery)),
            Node::And(children) => {
                let mut clauses = Vec::with_capacity(children.len() + 1);
                for child in children {
                    match child {
                        Node::Not(inner) => clauses.push((Occur::MustNot, self.node(inner)?)),
                        other => clauses.push((Occur::Must, self.node(other)?)),
                    }
                }
                if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Ok(Box::new(BooleanQuery::new(clauses)))
            }
            Node::Or(children) => {
                let clauses = children
                    .iter()
                    .map(|child| Ok((Occur::Should, self.node(child)?)))
                    .collect::<Result<Vec<_>, IndexError>>()?;
                Ok(Box::new(BooleanQuery::new(clauses)))
            }
            Node::Not(inner) => Ok(Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, self.node(inner)?),
            ]))),
            Node::Match {
                field,
                value,
                position,
            } => self.value(field.as_deref(), value, *position),
            Node::Range {
                field,
                lower,
                upper,
                position,
            } => self.range(field.as_deref(), lower, upper, *position),
            Node::Exists { field, position } => self.exists(field, *position),
        }
    }

    fn target<'n>(&self, name: Option<&'n str>) -> Target<'n> {
        let Some(name) = name else { return Target::Raw };
        if let Some(path) = name.strip_prefix("fields.") {
            return Target::Json(path);
        }
        match name {
            "raw" => Target::Raw,
            "time" | "timestamp" | "@timestamp" => Target::Time,
            "id" => Target::Id,
            "grade" => Target::Grade,
            other => match self.schema.keyword(other) {
                Some((field, schema_name)) => Target::Keyword(field, schema_name),
                None => Target::Json(other),
            },
        }
    }

    fn tokens(&mut self, text: &str) -> Vec<String> {
        let mut stream = self.words.token_stream(text);
        let mut tokens = Vec::new();
        while stream.advance() {
            tokens.push(stream.token().text.clone());
        }
        tokens
    }

    /// Words in order in a positional field (`raw`, or one path of `fields_text`).
    fn words_query(&mut self, text: &str, term: &dyn Fn(&str) -> Term) -> Box<dyn Query> {
        let tokens = self.tokens(text);
        match tokens.len() {
            0 => Box::new(EmptyQuery),
            1 => Box::new(TermQuery::new(term(&tokens[0]), IndexRecordOption::Basic)),
            _ => Box::new(PhraseQuery::new(tokens.iter().map(|token| term(token)).collect())),
        }
    }

    fn value(
        &mut self,
        field: Option<&str>,
        value: &Text,
        position: usize,
    ) -> Result<Box<dyn Query>, IndexError> {
        let (literal, pattern) = match value {
            Text::Phrase(text) => (Some(text.clone()), None),
            Text::Word(pattern) => match pattern.literal() {
                Some(text) => (Some(text), None),
                None => (None, Some(pattern)),
            },
        };
        let schema = self.schema;
        match (self.target(field), literal, pattern) {
            (Target::Raw, Some(text), _) => {
                Ok(self.words_query(&text, &|token| Term::from_field_text(schema.raw, token)))
            }
            (Target::Raw, None, Some(pattern)) => self.raw_wildcard(pattern, position),
            (Target::Time, Some(text), _) => {
                let (lower, upper) = time_value(&text).ok_or_else(|| {
                    query_error(
                        position,
                        format!("`{text}` is not a time (RFC 3339, a date, or nanoseconds)"),
                    )
                })?;
                Ok(Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(schema.time, lower)),
                    Bound::Included(Term::from_field_i64(schema.time, upper)),
                )))
            }
            (Target::Time | Target::Grade, None, _) => {
                Err(query_error(position, "wildcards work on text fields only"))
            }
            (Target::Grade, Some(text), _) => {
                let grade: u64 = text
                    .trim()
                    .parse()
                    .map_err(|_| query_error(position, format!("`{text}` is not a grade (a number)")))?;
                Ok(Box::new(TermQuery::new(
                    Term::from_field_u64(schema.grade, grade),
                    IndexRecordOption::Basic,
                )))
            }
            (Target::Id, Some(text), _) => Ok(Box::new(TermQuery::new(
                Term::from_field_text(schema.id, &text),
                IndexRecordOption::Basic,
            ))),
            (Target::Id, None, Some(pattern)) => {
                regex_query(schema.id, "", &wildcard_regex(pattern, false), position)
            }
            (Target::Keyword(field, _), Some(text), _) => exact_query(field, &text, position),
            (Target::Keyword(field, _), None, Some(pattern)) => regex_query(
                field,
                "",
                &format!("(?i:{})", wildcard_regex(pattern, false)),
                position,
            ),
            (Target::Json(path), Some(text), _) => self.json_value(path, &text, position),
            (Target::Json(path), None, Some(pattern)) => self.json_wildcard(path, pattern, position),
            (_, None, None) => Ok(Box::new(EmptyQuery)),
        }
    }

    /// An event field equal to `text` (any case), or holding its words in order, or the same
    /// number.
    fn json_value(&mut self, path: &str, text: &str, position: usize) -> Result<Box<dyn Query>, IndexError> {
        let schema = self.schema;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(3);
        let exact_prefix = json_prefix(schema.fields, path);
        if has_case(text) {
            clauses.push((
                Occur::Should,
                regex_query(
                    schema.fields,
                    &exact_prefix,
                    &format!("(?i:{})", escape(text)),
                    position,
                )?,
            ));
        } else {
            let mut term = Term::from_field_json_path(schema.fields, path, true);
            term.append_type_and_str(text);
            clauses.push((
                Occur::Should,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        let text_path = Term::from_field_json_path(schema.fields_text, path, true);
        let words = self.words_query(text, &|token| {
            let mut term = text_path.clone();
            term.append_type_and_str(token);
            term
        });
        if !words.is::<EmptyQuery>() {
            clauses.push((Occur::Should, words));
        }
        if MESSAGE_FIELDS.contains(&path) {
            // Its words may be indexed in the raw line only (see `MESSAGE_FIELDS`).
            let raw = self.words_query(text, &|token| Term::from_field_text(schema.raw, token));
            clauses.push((Occur::Should, self.with_field(path, raw, position)?));
        }
        if let Some(number) = numeric_text(text) {
            let mut term = Term::from_field_json_path(schema.fields_num, path, true);
            match number {
                tantivy::schema::OwnedValue::I64(number) => term.append_type_and_fast_value(number),
                tantivy::schema::OwnedValue::F64(number)
                    if number.fract() == 0.0 && number.abs() < 9.0e15 =>
                {
                    term.append_type_and_fast_value(number as i64)
                }
                tantivy::schema::OwnedValue::F64(number) => term.append_type_and_fast_value(number),
                _ => {}
            }
            clauses.push((
                Occur::Should,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    fn json_wildcard(
        &mut self,
        path: &str,
        pattern: &Pattern,
        position: usize,
    ) -> Result<Box<dyn Query>, IndexError> {
        let schema = self.schema;
        let whole = regex_query(
            schema.fields,
            &json_prefix(schema.fields, path),
            &format!("(?i:{})", wildcard_regex(pattern, false)),
            position,
        )?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, whole)];
        if MESSAGE_FIELDS.contains(&path) {
            let raw = self.raw_wildcard(pattern, position)?;
            clauses.push((Occur::Should, self.with_field(path, raw, position)?));
        }
        // Words of a long value: the one word, or all the words where the pattern has punctuation
        // (in any order: tantivy has no regex phrases over JSON fields).
        let prefix = json_prefix(schema.fields_text, path);
        let mut words = Vec::new();
        for word in split_words(&lowercase(pattern)) {
            let regex = regex_query(
                schema.fields_text,
                &prefix,
                &wildcard_regex(&word, false),
                position,
            )?;
            words.push((Occur::Must, regex));
        }
        match words.len() {
            0 => {}
            1 => clauses.extend(words.into_iter().map(|(_, query)| (Occur::Should, query))),
            _ => clauses.push((Occur::Should, Box::new(BooleanQuery::new(words)))),
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    /// A wildcard over the raw line's words: a pattern with punctuation inside matches words that
    /// follow each other (`*powershell.exe*` is a word ending in `powershell` then one starting
    /// with `exe`).
    fn raw_wildcard(&mut self, pattern: &Pattern, position: usize) -> Result<Box<dyn Query>, IndexError> {
        let schema = self.schema;
        let words = split_words(&lowercase(pattern));
        match words.len() {
            0 => Ok(Box::new(AllQuery)),
            1 => regex_query(schema.raw, "", &wildcard_regex(&words[0], false), position),
            _ => {
                let regexes = words.iter().map(|word| wildcard_regex(word, false)).collect();
                let mut query = RegexPhraseQuery::new(schema.raw, regexes);
                query.set_max_expansions(1 << 14);
                Ok(Box::new(query))
            }
        }
    }

    fn range(
        &mut self,
        field: Option<&str>,
        lower: &Bound<String>,
        upper: &Bound<String>,
        position: usize,
    ) -> Result<Box<dyn Query>, IndexError> {
        let schema = self.schema;
        match self.target(field) {
            Target::Raw => Err(query_error(position, "a range needs a field")),
            Target::Time => {
                let (lower, upper) = time_bounds(lower, upper).map_err(|text| {
                    query_error(
                        position,
                        format!("`{text}` is not a time (RFC 3339, a date, or nanoseconds)"),
                    )
                })?;
                Ok(Box::new(RangeQuery::new(
                    lower.map(|value| Term::from_field_i64(schema.time, value)),
                    upper.map(|value| Term::from_field_i64(schema.time, value)),
                )))
            }
            Target::Grade => {
                let parse = |text: &String| {
                    text.trim()
                        .parse::<u64>()
                        .map(|grade| Term::from_field_u64(schema.grade, grade))
                        .map_err(|_| query_error(position, format!("`{text}` is not a grade (a number)")))
                };
                Ok(Box::new(RangeQuery::new(
                    try_map(lower, parse)?,
                    try_map(upper, parse)?,
                )))
            }
            Target::Id => Ok(text_range(schema.id, &[], lower, upper)),
            Target::Keyword(field, _) => Ok(text_range(field, &[], lower, upper)),
            Target::Json(path) => {
                let numbers = (bound_number(lower), bound_number(upper));
                if let (Some(low), Some(high)) = numbers {
                    return Ok(self.json_number_range(path, low, high));
                }
                let mut prefix = json_prefix_bytes(schema.fields, path);
                prefix.push(b's');
                Ok(text_range(schema.fields, &prefix, lower, upper))
            }
        }
    }

    fn json_number_range(&self, path: &str, lower: Bound<f64>, upper: Bound<f64>) -> Box<dyn Query> {
        let schema = self.schema;
        let path_term = Term::from_field_json_path(schema.fields_num, path, true);
        let int_term = |value: i64| {
            let mut term = path_term.clone();
            term.append_type_and_fast_value(value);
            term
        };
        let float_term = |value: f64| {
            let mut term = path_term.clone();
            term.append_type_and_fast_value(value);
            term
        };
        // Integers are indexed as i64 terms, other numbers as f64 terms: one range each, both
        // closed so neither runs into another path or type.
        let low_int = match lower {
            Bound::Included(value) => value.ceil(),
            Bound::Excluded(value) => value.floor() + 1.0,
            Bound::Unbounded => i64::MIN as f64,
        };
        let high_int = match upper {
            Bound::Included(value) => value.floor(),
            Bound::Excluded(value) => value.ceil() - 1.0,
            Bound::Unbounded => i64::MAX as f64,
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(2);
        if low_int <= high_int {
            clauses.push((
                Occur::Should,
                Box::new(InvertedIndexRangeQuery::new(
                    Bound::Included(int_term(low_int as i64)),
                    Bound::Included(int_term(high_int as i64)),
                )),
            ));
        }
        let float_bound = |bound: Bound<f64>, open: f64| match bound {
            Bound::Included(value) => Bound::Included(float_term(value)),
            Bound::Excluded(value) => Bound::Excluded(float_term(value)),
            Bound::Unbounded => Bound::Included(float_term(open)),
        };
        clauses.push((
            Occur::Should,
            Box::new(InvertedIndexRangeQuery::new(
                float_bound(lower, f64::NEG_INFINITY),
                float_bound(upper, f64::INFINITY),
            )),
        ));
        Box::new(BooleanQuery::new(clauses))
    }

    fn exists(&mut self, field: &str, position: usize) -> Result<Box<dyn Query>, IndexError> {
        let schema = self.schema;
        match self.target(Some(field)) {
            Target::Time | Target::Id => Ok(Box::new(AllQuery)),
            Target::Raw => regex_query(schema.raw, "", "(?s:.*)", position),
            Target::Grade => Ok(Box::new(ExistsQuery::new("grade".into(), false))),
            Target::Keyword(_, schema_name) => Ok(Box::new(ExistsQuery::new(schema_name.into(), false))),
            Target::Json(path) => {
                let whole = regex_query(
                    schema.fields,
                    &json_prefix(schema.fields, path),
                    "(?s:.*)",
                    position,
                )?;
                let long = TermQuery::new(
                    Term::from_field_text(schema.present, path),
                    IndexRecordOption::Basic,
                );
                Ok(Box::new(BooleanQuery::new(vec![
                    (Occur::Should, whole),
                    (Occur::Should, Box::new(long)),
                ])))
            }
        }
    }

    /// `query` among events that have the event field `path`.
    fn with_field(
        &mut self,
        path: &str,
        query: Box<dyn Query>,
        position: usize,
    ) -> Result<Box<dyn Query>, IndexError> {
        let exists = self.exists(path, position)?;
        Ok(Box::new(BooleanQuery::new(vec![
            (Occur::Must, query),
            (Occur::Must, exists),
        ])))
    }
}

/// A keyword equal to `text` in any case.
fn exact_query(field: Field, text: &str, position: usize) -> Result<Box<dyn Query>, IndexError> {
    if has_case(text) {
        regex_query(field, "", &format!("(?i:{})", escape(text)), position)
    } else {
        Ok(Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::Basic,
        )))
    }
}

/// A regex over a field's terms; `prefix` (already a regex) comes first (a JSON path).
fn regex_query(
    field: Field,
    prefix: &str,
    body: &str,
    position: usize,
) -> Result<Box<dyn Query>, IndexError> {
    RegexQuery::from_pattern(&format!("{prefix}{body}"), field)
        .map(|query| Box::new(query) as Box<dyn Query>)
        .map_err(|error| query_error(position, format!("the pattern is too complex ({error})")))
}

/// Terms of a field (after `prefix`: a JSON path and type) between two texts, case-sensitive.
fn text_range(field: Field, prefix: &[u8], lower: &Bound<String>, upper: &Bound<String>) -> Box<dyn Query> {
    let term = |text: &[u8]| {
        let mut term = Term::from_field_bytes(field, b"");
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(text);
        term.set_bytes(&bytes);
        term
    };
    let lower = match lower {
        Bound::Included(text) => Bound::Included(term(text.as_bytes())),
        Bound::Excluded(text) => Bound::Excluded(term(text.as_bytes())),
        Bound::Unbounded if prefix.is_empty() => Bound::Unbounded,
        Bound::Unbounded => Bound::Included(term(b"")),
    };
    let upper = match upper {
        Bound::Included(text) => Bound::Included(term(text.as_bytes())),
        Bound::Excluded(text) => Bound::Excluded(term(text.as_bytes())),
        Bound::Unbounded if prefix.is_empty() => Bound::Unbounded,
        // Past every value after the prefix: the prefix's last byte plus one.
        Bound::Unbounded => {
            let mut end = prefix.to_vec();
            if let Some(last) = end.last_mut() {
                *last += 1;
            }
            let mut bound = Term::from_field_bytes(field, b"");
            bound.set_bytes(&end);
            Bound::Excluded(bound)
        }
    };
    Box::new(InvertedIndexRangeQuery::new(lower, upper))
}

fn try_map<T, U, E>(bound: &Bound<T>, map: impl Fn(&T) -> Result<U, E>) -> Result<Bound<U>, E> {
    Ok(match bound {
        Bound::Included(value) => Bound::Included(map(value)?),
        Bound::Excluded(value) => Bound::Excluded(map(value)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

/// A bound as a number (`*` is open), or `None` when it is text.
fn bound_number(bound: &Bound<String>) -> Option<Bound<f64>> {
    let number = |text: &String| match numeric_text(text.trim()) {
        Some(tantivy::schema::OwnedValue::I64(number)) => Some(number as f64),
        Some(tantivy::schema::OwnedValue::F64(number)) => Some(number),
        _ => None,
    };
    Some(match bound {
        Bound::Included(text) => Bound::Included(number(text)?),
        Bound::Excluded(text) => Bound::Excluded(number(text)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

/// A time as an instant range: an RFC 3339 instant or nanoseconds is itself; a date is its day.
fn time_value(text: &str) -> Option<(i64, i64)> {
    let text = text.trim();
    if let Ok(nanos) = text.parse::<i64>() {
        return Some((nanos, nanos));
    }
    if let Ok(moment) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        let nanos = i64::try_from(moment.unix_timestamp_nanos()).ok()?;
        return Some((nanos, nanos));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    let start = i64::try_from(date.midnight().assume_utc().unix_timestamp_nanos()).ok()?;
    Some((start, start + NANOS_PER_DAY - 1))
}

/// Time range bounds; a date as an upper bound takes its whole day. The error is the bad text.
fn time_bounds(lower: &Bound<String>, upper: &Bound<String>) -> Result<(Bound<i64>, Bound<i64>), String> {
    let value = |text: &String| time_value(text).ok_or_else(|| text.clone());
    let lower = match lower {
        Bound::Included(text) => Bound::Included(value(text)?.0),
        Bound::Excluded(text) => Bound::Excluded(value(text)?.1),
        Bound::Unbounded => Bound::Unbounded,
    };
    let upper = match upper {
        Bound::Included(text) => Bound::Included(value(text)?.1),
        Bound::Excluded(text) => Bound::Excluded(value(text)?.0),
        Bound::Unbounded => Bound::Unbounded,
    };
    Ok((lower, upper))
}

/// Whether case folding changes anything in the text (else an exact term is enough).
fn has_case(text: &str) -> bool {
    text.chars()
        .any(|character| character.is_lowercase() || character.is_uppercase())
}

/// A JSON path's term prefix in `field` (path segments, end of path), as bytes.
fn json_prefix_bytes(field: Field, path: &str) -> Vec<u8> {
    Term::from_field_json_path(field, path, true)
        .serialized_value_bytes()
        .to_vec()
}

/// The regex matching the term prefix of a JSON path's text values: path, end, type `s`.
fn json_prefix(field: Field, path: &str) -> String {
    let mut prefix = String::new();
    for character in String::from_utf8_lossy(&json_prefix_bytes(field, path)).chars() {
        escape_char(character, &mut prefix);
    }
    prefix.push('s');
    prefix
}

/// Regex text matching `text` literally.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        escape_char(character, &mut out);
    }
    out
}

/// Letters and digits stand for themselves; every other character is written as `\x{...}`,
/// which the regex syntax reads as that character whatever it is.
fn escape_char(character: char, out: &mut String) {
    if character.is_alphanumeric() {
        out.push(character);
    } else {
        out.push_str(&format!("\\x{{{:x}}}", u32::from(character)));
    }
}

/// The regex of a wildcard pattern (`*` any run, `?` one character).
fn wildcard_regex(pattern: &Pattern, lower: bool) -> String {
    let mut regex = String::from("(?s:");
    for part in &pattern.0 {
        match part {
            Part::Literal(text) if lower => regex.push_str(&escape(&text.to_lowercase())),
            Part::Literal(text) => regex.push_str(&escape(text)),
            Part::AnyString => regex.push_str(".*"),
            Part::AnyChar => regex.push('.'),
        }
    }
    regex.push(')');
    regex
}

fn lowercase(pattern: &Pattern) -> Pattern {
    Pattern(
        pattern
            .0
            .iter()
            .map(|part| match part {
                Part::Literal(text) => Part::Literal(text.to_lowercase()),
                other => other.clone(),
            })
            .collect(),
    )
}

/// A pattern cut into word patterns where its literal text has a character that is not a letter
/// or digit (the tokenizer's word boundaries).
fn split_words(pattern: &Pattern) -> Vec<Pattern> {
    let mut words = Vec::new();
    let mut current = Pattern::default();
    for part in &pattern.0 {
        match part {
            Part::Literal(text) => {
                for character in text.chars() {
                    if character.is_alphanumeric() {
                        match current.0.last_mut() {
                            Some(Part::Literal(literal)) => literal.push(character),
                            _ => current.0.push(Part::Literal(character.to_string())),
                        }
                    } else if !current.0.is_empty() {
                        words.push(std::mem::take(&mut current));
                    }
                }
            }
            wildcard => current.0.push(wildcard.clone()),
        }
    }
    if !current.0.is_empty() {
        words.push(current);
    }
    // A word that is only wildcards matches every word: it adds nothing at either end.
    while words.first().is_some_and(Pattern::is_any) && words.len() > 1 {
        words.remove(0);
    }
    while words.last().is_some_and(Pattern::is_any) && words.len() > 1 {
        words.pop();
    }
    words
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::index::query::parse;

    #[test]
    fn time_values_take_instants_dates_and_nanoseconds() {
        assert_eq!(time_value("5"), Some((5, 5)));
        assert_eq!(
            time_value("1970-01-01T00:00:01Z"),
            Some((1_000_000_000, 1_000_000_000))
        );
        assert_eq!(
            time_value("1970-01-02"),
            Some((NANOS_PER_DAY, 2 * NANOS_PER_DAY - 1))
        );
        assert_eq!(time_value("yesterday"), None);
    }

    #[test]
    fn words_split_at_punctuation() {
        let Node::Match {
            value: Text::Word(pattern),
            ..
        } = parse("*powershell.exe*").unwrap()
        else {
            panic!("not a word")
        };
        let words = split_words(&pattern);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].to_string(), "*powershell");
        assert_eq!(words[1].to_string(), "exe*");
    }

    #[test]
    fn escaping_makes_every_symbol_literal() {
        assert_eq!(escape("a.b*"), r"a\x{2e}b\x{2a}");
        let regex = tantivy_regex(&format!("(?i:{})", escape(r"C:\Win (x)")));
        assert!(regex);
    }

    fn tantivy_regex(pattern: &str) -> bool {
        let schema = IndexSchema::new();
        RegexQuery::from_pattern(pattern, schema.raw).is_ok()
    }

    #[test]
    fn bad_values_name_the_position() {
        let schema = IndexSchema::new();
        let error = |text: &str| match compile(&schema, &parse(text).unwrap()) {
            Err(IndexError::Query(message)) => message,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("{text} compiled"),
        };
        assert_eq!(
            error("a time:yesterday"),
            "query error at position 3: `yesterday` is not a time (RFC 3339, a date, or nanoseconds)"
        );
        assert!(error("grade:high").starts_with("query error at position 1:"));
        assert!(error("x grade:[1 TO x]").starts_with("query error at position 3:"));
        assert!(error("time:2026*").contains("wildcards"));
    }
}
