//! Pattern engines: the multi-pattern matchers every string predicate compiles onto.
//!
//! [`PatternEngine`] has two implementations with the same semantics: [`Hyperscan`] (the default,
//! behind the `hyperscan` feature) and [`Reference`], a pure-Rust engine on the `regex` crate used
//! to check the first. Both match bytes with ASCII case folding, so they agree on every input.

#[cfg(feature = "hyperscan")]
mod hyperscan;
mod reference;

#[cfg(feature = "hyperscan")]
pub use self::hyperscan::Hyperscan;
pub use self::reference::Reference;

/// One pattern to compile: a regular expression in the common dialect both engines accept
/// (`\A`, `\z`, `.`, `.*`, `\xNN` escapes, and the user's own `re` expressions).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PatternSpec {
    /// The expression.
    pub expression: String,
    /// ASCII case-insensitive.
    pub caseless: bool,
    /// `^`/`$` match at line boundaries.
    pub multi_line: bool,
    /// `.` matches a newline too.
    pub dot_all: bool,
    /// Match UTF-8 characters rather than bytes (set for `re` expressions that contain non-ASCII
    /// characters, so a class like `[–-]` means the character).
    pub utf8: bool,
}

impl PatternSpec {
    /// The expression with its flags inline, in the `regex` crate's syntax, matching bytes.
    pub fn to_regex_syntax(&self) -> String {
        let mut flags = String::from("(?");
        if self.caseless {
            flags.push('i');
        }
        if self.multi_line {
            flags.push('m');
        }
        if self.dot_all {
            flags.push('s');
        }
        flags.push_str(if self.utf8 { "u)" } else { "-u)" });
        format!("{flags}(?:{})", self.expression)
    }

    /// Compiles it alone with the `regex` crate (the fallback for patterns an engine refuses).
    pub fn compile_regex(&self) -> Result<regex::bytes::Regex, String> {
        regex::bytes::RegexBuilder::new(&self.to_regex_syntax())
            .size_limit(64 << 20)
            .build()
            .map_err(|error| first_line(&error.to_string()))
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .to_owned()
}

/// Why a database did not compile.
#[derive(Clone, Debug)]
pub struct CompileFailure {
    /// The pattern at fault, when the engine can tell.
    pub pattern: Option<usize>,
    /// The engine's message.
    pub message: String,
}

/// A multi-pattern matcher. A compiled database reports, for one haystack, the ids (indices into
/// the compiled slice) of the patterns that match somewhere in it, each at least once.
pub trait PatternEngine: Send + Sync + 'static {
    /// A compiled set of patterns.
    type Database: Send + Sync;
    /// Per-thread working memory for scans.
    type Scratch: Send;

    /// The engine's name, as the command line spells it.
    const NAME: &'static str;

    /// Whether this engine takes the pattern into a database. Refused patterns (empty-matching
    /// ones, or syntax the engine lacks) are evaluated on their own with the `regex` crate.
    fn accepts(pattern: &PatternSpec) -> bool;

    /// Compiles patterns into a database; pattern `i` reports id `i`.
    fn compile(patterns: &[PatternSpec]) -> Result<Self::Database, CompileFailure>;

    /// Empty scratch.
    fn new_scratch() -> Self::Scratch;

    /// Makes `scratch` big enough for `database`.
    fn prepare_scratch(database: &Self::Database, scratch: &mut Self::Scratch) -> Result<(), String>;

    /// Scans `haystack`, calling `on_match` with each matching pattern's id.
    fn scan(
        database: &Self::Database,
        scratch: &mut Self::Scratch,
        haystack: &[u8],
        on_match: &mut dyn FnMut(u32),
    );

    /// Serialises a database for the compile cache.
    fn serialize(database: &Self::Database) -> Result<Vec<u8>, String>;

    /// Restores a serialised database.
    fn deserialize(bytes: &[u8]) -> Result<Self::Database, String>;
}
