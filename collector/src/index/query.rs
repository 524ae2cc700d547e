//! The query language: a small Lucene-like syntax parsed into a [`Node`] tree.
//!
//! ```text
//! query      := or EOF                      (empty or `*` alone: every event)
//! or         := and ( ("OR" | "||") and )*
//! and        := unary ( [ "AND" | "&&" ] unary )*       (juxtaposition is AND)
//! unary      := ("NOT" | "!" | "-") unary | "+" unary | primary
//! primary    := "(" or ")" | "_exists_:" NAME | NAME ":" target | value
//! target     := "(" or ")"                  (the field applies to the group's bare values)
//!             | ("[" | "{") bound "TO" bound ("]" | "}")   ([ ] inclusive, { } exclusive)
//!             | (">" | ">=" | "<" | "<=") bound
//!             | "*"                         (the field exists)
//!             | value
//! value      := PHRASE | WORD
//! bound      := PHRASE | WORD | "*"         (`*`: open end)
//! ```
//!
//! A WORD runs to whitespace, `(`, `)` or `"`; before the first unescaped `:` of a bare word that
//! colon ends a field name, after it `:` is part of the value (`time:2026-11-20T08:00:00Z`). In a
//! WORD `*` matches any run of characters and `?` one character; a backslash makes the next
//! character literal (`C\:\\Windows\*`). A PHRASE is `"..."`; inside it `\"` and `\\` are escapes
//! and any other backslash is kept, so `"C:\Windows\System32"` is literal. Operators are upper
//! case; `and`, `or`, `not` are words. Positions in errors count characters from 1.

use std::fmt;
use std::ops::Bound;

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// Every event.
    All,
    /// All of these.
    And(Vec<Node>),
    /// Any of these.
    Or(Vec<Node>),
    /// Not this.
    Not(Box<Node>),
    /// A value in a field (`None`: the raw line).
    Match {
        field: Option<String>,
        value: Text,
        position: usize,
    },
    /// A range of values in a field.
    Range {
        field: Option<String>,
        lower: Bound<String>,
        upper: Bound<String>,
        position: usize,
    },
    /// The field has a value.
    Exists { field: String, position: usize },
}

/// A value as written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Text {
    /// A bare word, possibly with wildcards.
    Word(Pattern),
    /// A quoted phrase: literal.
    Phrase(String),
}

/// A word with wildcards: literal runs, `*` and `?`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Pattern(pub(crate) Vec<Part>);

/// A piece of a [`Pattern`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Part {
    /// Literal text.
    Literal(String),
    /// `*`: any run of characters, the empty one included.
    AnyString,
    /// `?`: exactly one character.
    AnyChar,
}

impl Pattern {
    /// The text when the pattern has no wildcard.
    pub(crate) fn literal(&self) -> Option<String> {
        let mut text = String::new();
        for part in &self.0 {
            match part {
                Part::Literal(literal) => text.push_str(literal),
                Part::AnyString | Part::AnyChar => return None,
            }
        }
        Some(text)
    }

    /// Whether the pattern is only `*`s (matches anything).
    pub(crate) fn is_any(&self) -> bool {
        !self.0.is_empty() && self.0.iter().all(|part| *part == Part::AnyString)
    }

    fn push_char(&mut self, character: char) {
        if let Some(Part::Literal(literal)) = self.0.last_mut() {
            literal.push(character);
        } else {
            self.0.push(Part::Literal(character.to_string()));
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.0 {
            match part {
                Part::Literal(literal) => formatter.write_str(literal)?,
                Part::AnyString => formatter.write_str("*")?,
                Part::AnyChar => formatter.write_str("?")?,
            }
        }
        Ok(())
    }
}

/// A query that does not parse: what and where (character position, from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) position: usize,
    pub(crate) message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "query error at position {}: {}",
            self.position, self.message
        )
    }
}

/// How deep parentheses and `NOT`s may nest: bounds the recursion on hostile input.
const MAX_DEPTH: usize = 64;

/// Parses a query.
pub(crate) fn parse(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
        depth: 0,
    };
    parser.skip_space();
    if parser.at == parser.chars.len() {
        return Ok(Node::All);
    }
    let node = parser.or(None)?;
    parser.skip_space();
    if let Some(character) = parser.peek() {
        return Err(parser.error_at(parser.at, format!("unexpected `{character}`")));
    }
    Ok(node)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn error_at(&self, index: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            position: index + 1,
            message: message.into(),
        }
    }

    /// Whether the characters at the cursor are the operator `word`, standing alone.
    fn at_operator(&self, word: &str) -> bool {
        let length = word.chars().count();
        let matches = word
            .chars()
            .enumerate()
            .all(|(offset, character)| self.peek_at(offset) == Some(character));
        matches
            && self
                .peek_at(length)
                .is_none_or(|next| next.is_whitespace() || next == '(' || next == '"')
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(self.at, format!("the query nests deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn or(&mut self, field: Option<&str>) -> Result<Node, ParseError> {
        let mut children = vec![self.and(field)?];
        loop {
            self.skip_space();
            let length = if self.at_operator("OR") || self.at_operator("||") {
                2
            } else {
                break;
            };
            let operator_at = self.at;
            self.at += length;
            self.skip_space();
            if self.at_end_of_group() {
                return Err(self.error_at(operator_at, "`OR` needs a clause after it"));
            }
            children.push(self.and(field)?);
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Node::Or(children)
        })
    }

    fn at_end_of_group(&self) -> bool {
        self.peek().is_none_or(|character| character == ')')
    }

    fn and(&mut self, field: Option<&str>) -> Result<Node, ParseError> {
        let mut children = vec![self.unary(field)?];
        loop {
            self.skip_space();
            if self.at_end_of_group() || self.at_operator("OR") || self.at_operator("||") {
                break;
            }
            if self.at_operator("AND") || self.at_operator("&&") {
                let operator_at = self.at;
                self.at += if self.peek() == Some('A') { 3 } else { 2 };
                self.skip_space();
                if self.at_end_of_group() || self.at_operator("OR") || self.at_operator("||") {
                    return Err(self.error_at(operator_at, "`AND` needs a clause after it"));
                }
            }
            children.push(self.unary(field)?);
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Node::And(children)
        })
    }

    fn unary(&mut self, field: Option<&str>) -> Result<Node, ParseError> {
        self.skip_space();
        let start = self.at;
        let negate = if self.at_operator("NOT") {
            self.at += 3;
            Some(true)
        } else if matches!(self.peek(), Some('-' | '!'))
            && self.peek_at(1).is_some_and(|next| !next.is_whitespace())
        {
            self.at += 1;
            Some(true)
        } else if self.peek() == Some('+') && self.peek_at(1).is_some_and(|next| !next.is_whitespace()) {
            self.at += 1;
            Some(false)
        } else {
            None
        };
        match negate {
            Some(negate) => {
                self.enter()?;
                self.skip_space();
                if self.at_end_of_group() {
                    return Err(self.error_at(start, "`NOT` needs a clause after it"));
                }
                let inner = self.unary(field)?;
                self.depth -= 1;
                Ok(if negate { Node::Not(Box::new(inner)) } else { inner })
            }
            None => self.primary(field),
        }
    }

    fn primary(&mut self, field: Option<&str>) -> Result<Node, ParseError> {
        let start = self.at;
        match self.peek() {
            Some('(') => self.group(field),
            Some(')') => Err(self.error_at(start, "unexpected `)`")),
            Some('"') => {
                let phrase = self.phrase()?;
                Ok(Node::Match {
                    field: field.map(str::to_owned),
                    value: Text::Phrase(phrase),
                    position: start + 1,
                })
            }
            Some('[' | '{') if field.is_some() => self.range(field.map(str::to_owned), start),
            Some(_) => {
                let (name, value) = self.word(field.is_none())?;
                match name {
                    Some(name) => self.field_target(name, start),
                    None => Ok(self.bare_value(field, value, start)),
                }
            }
            None => Err(self.error_at(start, "the query ends where a clause was expected")),
        }
    }

    fn bare_value(&self, field: Option<&str>, value: Pattern, start: usize) -> Node {
        match field {
            None if value.is_any() => Node::All,
            Some(field) if value.is_any() => Node::Exists {
                field: field.to_owned(),
                position: start + 1,
            },
            _ => Node::Match {
                field: field.map(str::to_owned),
                value: Text::Word(value),
                position: start + 1,
            },
        }
    }

    fn group(&mut self, field: Option<&str>) -> Result<Node, ParseError> {
        let open = self.at;
        self.at += 1;
        self.enter()?;
        self.skip_space();
        if self.peek() == Some(')') {
            return Err(self.error_at(open, "empty parentheses"));
        }
        let node = self.or(field)?;
        self.skip_space();
        if self.peek() != Some(')') {
            return Err(self.error_at(open, "`(` is never closed"));
        }
        self.at += 1;
        self.depth -= 1;
        Ok(node)
    }

    /// What follows `name:`.
    fn field_target(&mut self, name: String, start: usize) -> Result<Node, ParseError> {
        if name == "_exists_" {
            let (_, field) = self.word(false)?;
            let Some(field) = field.literal().filter(|field| !field.is_empty()) else {
                return Err(self.error_at(start, "`_exists_:` needs a field name"));
            };
            return Ok(Node::Exists {
                field,
                position: start + 1,
            });
        }
        match self.peek() {
            None => Err(self.error_at(start, format!("`{name}:` needs a value"))),
            Some(character) if character.is_whitespace() || character == ')' => {
                Err(self.error_at(start, format!("`{name}:` needs a value")))
            }
            Some('(') => self.group(Some(&name)),
            Some('"') => {
                let phrase = self.phrase()?;
                Ok(Node::Match {
                    field: Some(name),
                    value: Text::Phrase(phrase),
                    position: start + 1,
                })
            }
            Some('[' | '{') => self.range(Some(name), start),
            Some('>' | '<') => self.comparison(name, start),
            Some(_) => {
                let (_, value) = self.word(false)?;
                Ok(self.bare_value(Some(&name), value, start))
            }
        }
    }

    /// A word; with `may_be_field`, a word ending at an unescaped `:` is a field name.
    fn word(&mut self, may_be_field: bool) -> Result<(Option<String>, Pattern), ParseError> {
        let start = self.at;
        let mut pattern = Pattern::default();
        let mut plain = true;
        while let Some(character) = self.peek() {
            if character.is_whitespace() || matches!(character, '(' | ')' | '"') {
                break;
            }
            self.at += 1;
            match character {
                '\\' => {
                    let Some(escaped) = self.peek() else {
                        return Err(
                            self.error_at(self.at - 1, "`\\` at the end of the query escapes nothing")
                        );
                    };
                    self.at += 1;
                    plain = false;
                    pattern.push_char(escaped);
                }
                ':' if may_be_field && plain && !pattern.0.is_empty() => {
                    let name = pattern.to_string();
                    return Ok((Some(name), Pattern::default()));
                }
                '*' => {
                    plain = false;
                    if pattern.0.last() != Some(&Part::AnyString) {
                        pattern.0.push(Part::AnyString);
                    }
                }
                '?' => {
                    plain = false;
                    pattern.0.push(Part::AnyChar);
                }
                other => pattern.push_char(other),
            }
        }
        if pattern.0.is_empty() {
            return Err(self.error_at(start, "a value was expected"));
        }
        Ok((None, pattern))
    }

    fn phrase(&mut self) -> Result<String, ParseError> {
        let open = self.at;
        self.at += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error_at(open, "the phrase is never closed with `\"`")),
                Some('"') => {
                    self.at += 1;
                    return Ok(text);
                }
                Some('\\') if matches!(self.peek_at(1), Some('"' | '\\')) => {
                    text.push(self.peek_at(1).unwrap_or('\\'));
                    self.at += 2;
                }
                Some(character) => {
                    text.push(character);
                    self.at += 1;
                }
            }
        }
    }

    /// A range bound: `*` (open), a phrase, or a word taken literally.
    fn bound(&mut self, stop: &[char]) -> Result<Option<String>, ParseError> {
        self.skip_space();
        let start = self.at;
        if self.peek() == Some('"') {
            return self.phrase().map(Some);
        }
        let mut text = String::new();
        let mut escaped_any = false;
        while let Some(character) = self.peek() {
            if character.is_whitespace() || stop.contains(&character) {
                break;
            }
            self.at += 1;
            if character == '\\' {
                match self.peek() {
                    Some(escaped) => {
                        text.push(escaped);
                        escaped_any = true;
                        self.at += 1;
                    }
                    None => {
                        return Err(
                            self.error_at(self.at - 1, "`\\` at the end of the query escapes nothing")
                        );
                    }
                }
            } else {
                text.push(character);
            }
        }
        if text.is_empty() {
            return Err(self.error_at(start, "a range bound was expected"));
        }
        Ok(if text == "*" && !escaped_any {
            None
        } else {
            Some(text)
        })
    }

    fn range(&mut self, field: Option<String>, start: usize) -> Result<Node, ParseError> {
        let open = self.at;
        let lower_inclusive = self.peek() == Some('[');
        self.at += 1;
        let lower = self.bound(&[']', '}'])?;
        self.skip_space();
        if !self.at_operator("TO") {
            return Err(self.error_at(self.at, "`TO` was expected in the range"));
        }
        self.at += 2;
        let upper = self.bound(&[']', '}'])?;
        self.skip_space();
        let upper_inclusive = match self.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => return Err(self.error_at(open, "the range is never closed with `]` or `}`")),
        };
        self.at += 1;
        let bound = |value: Option<String>, inclusive: bool| match value {
            None => Bound::Unbounded,
            Some(value) if inclusive => Bound::Included(value),
            Some(value) => Bound::Excluded(value),
        };
        let (lower, upper) = (bound(lower, lower_inclusive), bound(upper, upper_inclusive));
        let Some(field) = field else {
            return Err(self.error_at(start, "a range needs a field (`field:[a TO b]`)"));
        };
        if lower == Bound::Unbounded && upper == Bound::Unbounded {
            return Ok(Node::Exists {
                field,
                position: start + 1,
            });
        }
        Ok(Node::Range {
            field: Some(field),
            lower,
            upper,
            position: start + 1,
        })
    }

    fn comparison(&mut self, field: String, start: usize) -> Result<Node, ParseError> {
        let greater = self.peek() == Some('>');
        self.at += 1;
        let inclusive = self.peek() == Some('=');
        if inclusive {
            self.at += 1;
        }
        let Some(value) = self.bound(&[')'])? else {
            return Err(self.error_at(start, "a comparison needs a value, not `*`"));
        };
        let bound = if inclusive {
            Bound::Included(value)
        } else {
            Bound::Excluded(value)
        };
        let (lower, upper) = if greater {
            (bound, Bound::Unbounded)
        } else {
            (Bound::Unbounded, bound)
        };
        Ok(Node::Range {
            field: Some(field),
            lower,
            upper,
            position: start + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn word(text: &str) -> Text {
        Text::Word(Pattern(vec![Part::Literal(text.to_owned())]))
    }

    fn field(name: &str, text: &str, position: usize) -> Node {
        Node::Match {
            field: Some(name.to_owned()),
            value: word(text),
            position,
        }
    }

    fn bare(text: &str, position: usize) -> Node {
        Node::Match {
            field: None,
            value: word(text),
            position,
        }
    }

    fn error(text: &str) -> ParseError {
        parse(text).unwrap_err()
    }

    #[test]
    fn empty_and_star_match_everything() {
        assert_eq!(parse("").unwrap(), Node::All);
        assert_eq!(parse("   ").unwrap(), Node::All);
        assert_eq!(parse("*").unwrap(), Node::All);
    }

    #[test]
    fn field_value_and_bare_words() {
        assert_eq!(parse("host:web01").unwrap(), field("host", "web01", 1));
        assert_eq!(parse("failed").unwrap(), bare("failed", 1));
        assert_eq!(parse("user.name:alice").unwrap(), field("user.name", "alice", 1));
        // After the field's colon, colons belong to the value.
        assert_eq!(
            parse("time:2026-11-20T08:00:00Z").unwrap(),
            field("time", "2026-11-20T08:00:00Z", 1)
        );
    }

    #[test]
    fn juxtaposition_is_and_and_or_binds_loosest() {
        assert_eq!(
            parse("a b OR c").unwrap(),
            Node::Or(vec![Node::And(vec![bare("a", 1), bare("b", 3)]), bare("c", 8)])
        );
        assert_eq!(
            parse("a AND b").unwrap(),
            Node::And(vec![bare("a", 1), bare("b", 7)])
        );
        assert_eq!(
            parse("a && b || c").unwrap(),
            Node::Or(vec![Node::And(vec![bare("a", 1), bare("b", 6)]), bare("c", 11)])
        );
    }

    #[test]
    fn not_minus_and_bang_negate() {
        let expected = Node::And(vec![bare("a", 1), Node::Not(Box::new(bare("b", 7)))]);
        assert_eq!(parse("a NOT b").unwrap(), expected);
        assert_eq!(
            parse("a -b").unwrap(),
            Node::And(vec![bare("a", 1), Node::Not(Box::new(bare("b", 4)))])
        );
        assert_eq!(parse("!b").unwrap(), Node::Not(Box::new(bare("b", 2))));
        assert_eq!(parse("+b").unwrap(), bare("b", 2));
        // A minus inside a word is part of it.
        assert_eq!(parse("db-hp-02").unwrap(), bare("db-hp-02", 1));
    }

    #[test]
    fn parentheses_group_and_fields_apply_to_groups() {
        assert_eq!(
            parse("(a OR b) c").unwrap(),
            Node::And(vec![Node::Or(vec![bare("a", 2), bare("b", 7)]), bare("c", 10)])
        );
        assert_eq!(
            parse("host:(web01 OR db01)").unwrap(),
            Node::Or(vec![field("host", "web01", 7), field("host", "db01", 16)])
        );
    }

    #[test]
    fn phrases_keep_backslashes_but_unescape_quotes() {
        assert_eq!(
            parse(r#""failed password""#).unwrap(),
            Node::Match {
                field: None,
                value: Text::Phrase("failed password".into()),
                position: 1
            }
        );
        assert_eq!(
            parse(r#"image:"C:\Windows\cmd.exe""#).unwrap(),
            Node::Match {
                field: Some("image".into()),
                value: Text::Phrase(r"C:\Windows\cmd.exe".into()),
                position: 1
            }
        );
        assert_eq!(
            parse(r#"a:"say \"hi\" \\ ok""#).unwrap(),
            Node::Match {
                field: Some("a".into()),
                value: Text::Phrase(r#"say "hi" \ ok"#.into()),
                position: 1
            }
        );
    }

    #[test]
    fn wildcards_and_escapes() {
        assert_eq!(
            parse("process.command_line:*powershell*").unwrap(),
            Node::Match {
                field: Some("process.command_line".into()),
                value: Text::Word(Pattern(vec![
                    Part::AnyString,
                    Part::Literal("powershell".into()),
                    Part::AnyString
                ])),
                position: 1
            }
        );
        assert_eq!(
            parse("a:b?c").unwrap(),
            Node::Match {
                field: Some("a".into()),
                value: Text::Word(Pattern(vec![
                    Part::Literal("b".into()),
                    Part::AnyChar,
                    Part::Literal("c".into())
                ])),
                position: 1
            }
        );
        // Escaped wildcards and colons are literal.
        assert_eq!(parse(r"a:b\*c").unwrap(), field("a", "b*c", 1));
        assert_eq!(parse(r"C\:\\Windows").unwrap(), bare(r"C:\Windows", 1));
        assert_eq!(
            parse("user:*").unwrap(),
            Node::Exists {
                field: "user".into(),
                position: 1
            }
        );
        assert_eq!(
            parse("_exists_:user.name").unwrap(),
            Node::Exists {
                field: "user.name".into(),
                position: 1
            }
        );
    }

    #[test]
    fn ranges_and_comparisons() {
        assert_eq!(
            parse("EventID:[4624 TO 4625}").unwrap(),
            Node::Range {
                field: Some("EventID".into()),
                lower: Bound::Included("4624".into()),
                upper: Bound::Excluded("4625".into()),
                position: 1
            }
        );
        assert_eq!(
            parse("time:{* TO 2026-11-20T00:00:00Z]").unwrap(),
            Node::Range {
                field: Some("time".into()),
                lower: Bound::Unbounded,
                upper: Bound::Included("2026-11-20T00:00:00Z".into()),
                position: 1
            }
        );
        assert_eq!(
            parse("port:>=1024").unwrap(),
            Node::Range {
                field: Some("port".into()),
                lower: Bound::Included("1024".into()),
                upper: Bound::Unbounded,
                position: 1
            }
        );
        assert_eq!(
            parse("port:<22").unwrap(),
            Node::Range {
                field: Some("port".into()),
                lower: Bound::Unbounded,
                upper: Bound::Excluded("22".into()),
                position: 1
            }
        );
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(error("a OR").position, 3);
        assert_eq!(error("(a OR b").position, 1);
        assert!(error("(a OR b").message.contains("never closed"));
        assert_eq!(error("a )").position, 3);
        assert_eq!(error("host:").position, 1);
        assert_eq!(error("x \"open").position, 3);
        assert_eq!(error("a AND").position, 3);
        assert_eq!(error("NOT").position, 1);
        assert_eq!(error("n:[1 2]").position, 6);
        assert!(error("n:[1 2]").message.contains("TO"));
        assert_eq!(error("n:[1 TO 2").position, 3);
        assert_eq!(error("()").position, 1);
        assert_eq!(error("trailing\\").position, 9);
        assert_eq!(
            error("x ) y").to_string(),
            "query error at position 3: unexpected `)`"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "(".repeat(10_000) + "a" + &")".repeat(10_000);
        assert!(error(&deep).message.contains("deeper"));
        let negations = "NOT ".repeat(10_000) + "a";
        assert!(error(&negations).message.contains("deeper"));
    }
}
