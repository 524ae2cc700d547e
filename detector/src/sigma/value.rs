//! Sigma string values: wildcards, escapes and the value transformations (encodings, windash,
//! placeholders) that turn one written value into the byte patterns it stands for.

use std::collections::HashMap;

use base64::Engine as _;

/// One piece of a Sigma string after escape processing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Literal bytes.
    Literal(Vec<u8>),
    /// `*`: any run of characters, empty included.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
}

/// A Sigma string: literals and wildcards.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SigmaString {
    /// The pieces, adjacent literals merged.
    pub pieces: Vec<Piece>,
}

impl SigmaString {
    /// Parses a written value with Sigma's escape rules: `\*`, `\?` and `\\` escape; any other
    /// backslash (a trailing one included) is a literal backslash.
    pub fn parse(text: &str) -> SigmaString {
        let mut out = SigmaString::default();
        let mut chars = text.chars().peekable();
        while let Some(character) = chars.next() {
            match character {
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        out.push_char(next);
                    }
                    _ => out.push_char('\\'),
                },
                '*' => out.pieces.push(Piece::AnyRun),
                '?' => out.pieces.push(Piece::AnyOne),
                other => out.push_char(other),
            }
        }
        out
    }

    /// A string with no wildcards.
    pub fn literal(text: &str) -> SigmaString {
        let mut out = SigmaString::default();
        out.push_bytes(text.as_bytes());
        out
    }

    fn push_char(&mut self, character: char) {
        let mut buffer = [0u8; 4];
        self.push_bytes(character.encode_utf8(&mut buffer).as_bytes());
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        if let Some(Piece::Literal(last)) = self.pieces.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.pieces.push(Piece::Literal(bytes.to_vec()));
        }
    }

    /// Whether there are wildcards.
    pub fn has_wildcards(&self) -> bool {
        self.pieces
            .iter()
            .any(|piece| !matches!(piece, Piece::Literal(_)))
    }

    /// The literal bytes, when there are no wildcards.
    pub fn as_literal(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Puts `*` at the start (unless already there).
    pub fn prepend_any(&mut self) {
        if self.pieces.first() != Some(&Piece::AnyRun) {
            self.pieces.insert(0, Piece::AnyRun);
        }
    }

    /// Puts `*` at the end (unless already there).
    pub fn append_any(&mut self) {
        if self.pieces.last() != Some(&Piece::AnyRun) {
            self.pieces.push(Piece::AnyRun);
        }
    }

    /// Whether it matches every value (only `*`).
    pub fn matches_anything(&self) -> bool {
        !self.pieces.is_empty() && self.pieces.iter().all(|piece| *piece == Piece::AnyRun)
    }

    /// Whether it is the empty string.
    pub fn is_empty(&self) -> bool {
        self.pieces
            .iter()
            .all(|piece| matches!(piece, Piece::Literal(bytes) if bytes.is_empty()))
    }

    /// Applies `transform` to each literal, keeping wildcards.
    pub fn map_literals(&self, transform: impl Fn(&[u8]) -> Vec<u8>) -> SigmaString {
        let pieces = self
            .pieces
            .iter()
            .map(|piece| match piece {
                Piece::Literal(bytes) => Piece::Literal(transform(bytes)),
                other => other.clone(),
            })
            .collect();
        SigmaString { pieces }
    }
}

/// UTF-16 little-endian bytes of UTF-8 text (bytes that are not UTF-8 are taken as Latin-1).
pub fn utf16le(bytes: &[u8]) -> Vec<u8> {
    text_of(bytes)
        .encode_utf16()
        .flat_map(|unit| unit.to_le_bytes())
        .collect()
}

/// UTF-16 big-endian bytes.
pub fn utf16be(bytes: &[u8]) -> Vec<u8> {
    text_of(bytes)
        .encode_utf16()
        .flat_map(|unit| unit.to_be_bytes())
        .collect()
}

fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&byte| byte as char).collect(),
    }
}

/// The Base64 text of `bytes`.
pub fn base64(bytes: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .into_bytes()
}

/// The three Base64 renderings of `bytes` as it may appear at any offset inside a larger encoded
/// text: the stable middle part of the encoding at shifts of zero, one and two bytes.
pub fn base64_offsets(bytes: &[u8]) -> Vec<Vec<u8>> {
    const START: [usize; 3] = [0, 2, 3];
    let mut variants = Vec::with_capacity(3);
    for (shift, start) in START.iter().enumerate() {
        let mut shifted = vec![b' '; shift];
        shifted.extend_from_slice(bytes);
        let encoded = base64(&shifted);
        let end_trim = match (bytes.len() + shift) % 3 {
            0 => 0,
            1 => 3,
            _ => 2,
        };
        let end = encoded.len().saturating_sub(end_trim);
        let start = (*start).min(end);
        variants.push(encoded[start..end].to_vec());
    }
    variants
}

/// The dash characters `windash` exchanges.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Most variants one value may expand into through `windash`; beyond this the rule is rejected.
pub const MAX_WINDASH_VARIANTS: usize = 625;

/// Every variant of `text` with each command-line flag dash (a dash at the start of a word) replaced
/// by each of the Windows dash characters. `None` if there would be more than
/// [`MAX_WINDASH_VARIANTS`].
pub fn windash_variants(text: &str) -> Option<Vec<String>> {
    let characters: Vec<char> = text.chars().collect();
    let positions: Vec<usize> = (0..characters.len())
        .filter(|&index| {
            DASHES.contains(&characters[index])
                && (index == 0 || !characters[index - 1].is_alphanumeric())
                && characters
                    .get(index + 1)
                    .is_some_and(|next| next.is_alphanumeric())
        })
        .collect();
    let count = DASHES.len().checked_pow(positions.len() as u32)?;
    if count > MAX_WINDASH_VARIANTS {
        return None;
    }
    let mut variants = Vec::with_capacity(count);
    for mut code in 0..count {
        let mut variant = characters.clone();
        for &position in &positions {
            variant[position] = DASHES[code % DASHES.len()];
            code /= DASHES.len();
        }
        variants.push(variant.into_iter().collect());
    }
    Some(variants)
}

/// Expands `%name%` placeholders (the `expand` modifier) into every combination of configured
/// values. `\%` is a literal percent sign. Returns the missing placeholder's name on failure.
pub fn expand_placeholders(
    text: &str,
    placeholders: &HashMap<String, Vec<String>>,
) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("\\%") {
            results.iter_mut().for_each(|result| result.push('%'));
            rest = after;
        } else if let Some(after) = rest.strip_prefix('%')
            && let Some(end) = after.find('%')
        {
            let name = &after[..end];
            let values = placeholders
                .get(name)
                .filter(|values| !values.is_empty())
                .ok_or_else(|| name.to_owned())?;
            results = results
                .iter()
                .flat_map(|prefix| values.iter().map(move |value| format!("{prefix}{value}")))
                .collect();
            rest = &after[end + 1..];
        } else {
            let character = rest.chars().next().unwrap_or('%');
            results.iter_mut().for_each(|result| result.push(character));
            rest = &rest[character.len_utf8()..];
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(text: &str) -> Piece {
        Piece::Literal(text.as_bytes().to_vec())
    }

    #[test]
    fn escapes_follow_the_specification() {
        assert_eq!(SigmaString::parse(r"a\*b").pieces, vec![lit("a*b")]);
        assert_eq!(SigmaString::parse(r"a\?b").pieces, vec![lit("a?b")]);
        assert_eq!(
            SigmaString::parse(r"a\\*").pieces,
            vec![lit(r"a\"), Piece::AnyRun]
        );
        assert_eq!(SigmaString::parse(r"a\\\*").pieces, vec![lit(r"a\*")]);
        assert_eq!(SigmaString::parse(r"\\\\").pieces, vec![lit(r"\\")]);
        assert_eq!(SigmaString::parse(r"\\\").pieces, vec![lit(r"\\")]);
    }

    #[test]
    fn other_backslashes_are_literal_including_a_trailing_one() {
        assert_eq!(
            SigmaString::parse(r"C:\Windows\").pieces,
            vec![lit(r"C:\Windows\")]
        );
        assert_eq!(
            SigmaString::parse(r"\\server\share").pieces,
            vec![lit(r"\server\share")]
        );
        assert_eq!(
            SigmaString::parse(r"\\\\server\share").pieces,
            vec![lit(r"\\server\share")]
        );
    }

    #[test]
    fn percent_without_expand_is_literal() {
        assert_eq!(
            SigmaString::parse("%APPDATA%\\x").pieces,
            vec![lit("%APPDATA%\\x")]
        );
    }

    #[test]
    fn wildcards_become_pieces() {
        assert_eq!(
            SigmaString::parse("a*b?").pieces,
            vec![lit("a"), Piece::AnyRun, lit("b"), Piece::AnyOne]
        );
    }

    #[test]
    fn base64_offsets_match_known_values() {
        // pySigma's documented example: "/bin/sh" at the three offsets.
        let variants = base64_offsets(b"/bin/sh");
        let as_text: Vec<String> = variants
            .iter()
            .map(|variant| String::from_utf8(variant.clone()).unwrap())
            .collect();
        assert_eq!(as_text, vec!["L2Jpbi9za", "9iaW4vc2", "vYmluL3No"]);
        // Each variant is found in the encoding of a text that contains the value at that shift.
        for (shift, variant) in variants.iter().enumerate() {
            let mut text = b"xyz".to_vec();
            text.truncate(shift);
            text.extend_from_slice(b"/bin/sh and more");
            let encoded = base64(&text);
            assert!(
                encoded
                    .windows(variant.len())
                    .any(|window| window == &variant[..]),
                "shift {shift}"
            );
        }
    }

    #[test]
    fn utf16_encodings() {
        assert_eq!(utf16le(b"cmd"), vec![0x63, 0, 0x6d, 0, 0x64, 0]);
        assert_eq!(utf16be(b"cmd"), vec![0, 0x63, 0, 0x6d, 0, 0x64]);
    }

    #[test]
    fn windash_exchanges_flag_dashes_only() {
        let variants = windash_variants(" -enc x-y").unwrap();
        assert_eq!(variants.len(), 5);
        assert!(variants.contains(&" /enc x-y".to_string()));
        assert!(variants.contains(&" \u{2015}enc x-y".to_string()));
    }

    #[test]
    fn placeholders_expand_and_escape() {
        let mut placeholders = HashMap::new();
        placeholders.insert(
            "Admins".to_string(),
            vec!["adm_*".to_string(), "root".to_string()],
        );
        assert_eq!(
            expand_placeholders("\\%plain%Admins%", &placeholders).unwrap(),
            vec!["%plainadm_*".to_string(), "%plainroot".to_string()]
        );
        assert_eq!(
            expand_placeholders("%Nope%", &placeholders),
            Err("Nope".to_string())
        );
    }
}
