//! The condition language: `and`, `or`, `not`, parentheses, `1 of`/`any of`/`all of` with
//! identifier patterns or `them`. Precedence, least to most binding: or, and, not, x of, ( ).

use crate::error::RuleError;

/// A parsed condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// A search identifier.
    Identifier(String),
    /// All must hold.
    And(Vec<Condition>),
    /// One must hold.
    Or(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// At least `count` of the identifiers matching `pattern` (`None`: all of them); a pattern of
    /// `them` means every identifier not starting with `_`.
    Of {
        /// How many must hold; `None` for `all of`.
        count: Option<usize>,
        /// The identifier pattern (with `*` wildcards) or `them`.
        pattern: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Of,
    All,
    Number(usize),
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, character)) = chars.peek() {
        if character.is_whitespace() {
            chars.next();
        } else if character == '(' {
            chars.next();
            tokens.push(Token::Open);
        } else if character == ')' {
            chars.next();
            tokens.push(Token::Close);
        } else if character.is_alphanumeric() || "_*-.".contains(character) {
            let mut end = start;
            while let Some(&(index, next)) = chars.peek() {
                if next.is_alphanumeric() || "_*-.".contains(next) {
                    end = index + next.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &text[start..end];
            tokens.push(match word.to_ascii_lowercase().as_str() {
                "and" => Token::And,
                "or" => Token::Or,
                "not" => Token::Not,
                "of" => Token::Of,
                "all" => Token::All,
                "any" => Token::Number(1),
                _ if word.chars().all(|c| c.is_ascii_digit()) => Token::Number(
                    word.parse()
                        .map_err(|_| format!("number `{word}` is too large"))?,
                ),
                _ => Token::Word(word.to_owned()),
            });
        } else if character == '|' {
            return Err(
                "the pipe syntax (aggregations, `near`) is obsolete in Sigma 2: use a correlation rule"
                    .to_owned(),
            );
        } else {
            return Err(format!("unexpected character `{character}`"));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.next();
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Condition::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut terms = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.next();
            terms.push(self.not()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Condition::And(terms)
        })
    }

    fn not(&mut self) -> Result<Condition, String> {
        if self.peek() == Some(&Token::Not) {
            self.next();
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing `)`".to_owned()),
                }
            }
            Some(Token::Number(count)) => self.of(Some(count)),
            Some(Token::All) => self.of(None),
            Some(Token::Word(word)) => Ok(Condition::Identifier(word)),
            Some(other) => Err(format!("unexpected `{}`", describe(&other))),
            None => Err("ends too early".to_owned()),
        }
    }

    fn of(&mut self, count: Option<usize>) -> Result<Condition, String> {
        if self.next() != Some(Token::Of) {
            return Err("expected `of` after a count or `all`".to_owned());
        }
        match self.next() {
            Some(Token::Word(pattern)) => Ok(Condition::Of { count, pattern }),
            _ => Err("expected an identifier pattern or `them` after `of`".to_owned()),
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "(".into(),
        Token::Close => ")".into(),
        Token::And => "and".into(),
        Token::Or => "or".into(),
        Token::Not => "not".into(),
        Token::Of => "of".into(),
        Token::All => "all".into(),
        Token::Number(number) => number.to_string(),
        Token::Word(word) => word.clone(),
    }
}

/// Parses a condition.
pub fn parse_condition(text: &str) -> Result<Condition, RuleError> {
    let error = |problem: String| RuleError::Condition {
        condition: text.to_owned(),
        problem,
    };
    let tokens = tokenize(text).map_err(error)?;
    if tokens.is_empty() {
        return Err(error("is empty".to_owned()));
    }
    let mut parser = Parser { tokens, position: 0 };
    let condition = parser.or().map_err(error)?;
    if let Some(token) = parser.peek() {
        return Err(error(format!("unexpected `{}`", describe(token))));
    }
    Ok(condition)
}

/// Whether an identifier name matches an `of` pattern (`*` for any run of characters).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    fn matches(pattern: &[u8], name: &[u8]) -> bool {
        match pattern.split_first() {
            None => name.is_empty(),
            Some((b'*', rest)) => (0..=name.len()).any(|skip| matches(rest, &name[skip..])),
            Some((&first, rest)) => name.first() == Some(&first) && matches(rest, &name[1..]),
        }
    }
    matches(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> Condition {
        Condition::Identifier(name.to_owned())
    }

    #[test]
    fn precedence_or_and_not() {
        assert_eq!(
            parse_condition("a or b and not c").unwrap(),
            Condition::Or(vec![
                id("a"),
                Condition::And(vec![id("b"), Condition::Not(Box::new(id("c")))])
            ])
        );
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            parse_condition("(a or b) and c").unwrap(),
            Condition::And(vec![Condition::Or(vec![id("a"), id("b")]), id("c")])
        );
    }

    #[test]
    fn of_forms() {
        assert_eq!(
            parse_condition("1 of selection_* and not all of filter*").unwrap(),
            Condition::And(vec![
                Condition::Of {
                    count: Some(1),
                    pattern: "selection_*".into()
                },
                Condition::Not(Box::new(Condition::Of {
                    count: None,
                    pattern: "filter*".into()
                })),
            ])
        );
        assert_eq!(
            parse_condition("any of them").unwrap(),
            Condition::Of {
                count: Some(1),
                pattern: "them".into()
            }
        );
    }

    #[test]
    fn not_binds_tighter_than_and_and_stacks() {
        assert_eq!(
            parse_condition("not not a and b").unwrap(),
            Condition::And(vec![
                Condition::Not(Box::new(Condition::Not(Box::new(id("a"))))),
                id("b")
            ])
        );
    }

    #[test]
    fn rejects_malformed_conditions() {
        for text in [
            "",
            "a and",
            "(a or b",
            "a b",
            "1 of",
            "selection | count() > 5",
            "a ) b",
        ] {
            assert!(parse_condition(text).is_err(), "{text}");
        }
    }

    #[test]
    fn pattern_wildcards() {
        assert!(pattern_matches("sel*", "selection"));
        assert!(pattern_matches("*_img", "filter_img"));
        assert!(pattern_matches("a*b*c", "axxbyyc"));
        assert!(!pattern_matches("sel*", "filter"));
    }
}
