use super::{CompileFailure, PatternEngine, PatternSpec};

/// The pure-Rust reference engine: the `regex` crate's `RegexSet`, on bytes with ASCII case
/// folding. Slower than Hyperscan; it exists so every detector test can check both.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reference;

/// A compiled reference database.
#[derive(Debug)]
pub struct ReferenceDatabase {
    set: regex::bytes::RegexSet,
    patterns: Vec<PatternSpec>,
}

impl PatternEngine for Reference {
    type Database = ReferenceDatabase;
    type Scratch = ();

    const NAME: &'static str = "reference";

    fn accepts(pattern: &PatternSpec) -> bool {
        pattern.compile_regex().is_ok()
    }

    fn compile(patterns: &[PatternSpec]) -> Result<ReferenceDatabase, CompileFailure> {
        let set = regex::bytes::RegexSetBuilder::new(patterns.iter().map(PatternSpec::to_regex_syntax))
            .size_limit(1 << 30)
            .dfa_size_limit(64 << 20)
            .build()
            .map_err(|error| CompileFailure {
                pattern: None,
                message: error.to_string(),
            })?;
        Ok(ReferenceDatabase {
            set,
            patterns: patterns.to_vec(),
        })
    }

    fn new_scratch() -> Self::Scratch {}

    fn prepare_scratch(_: &ReferenceDatabase, _: &mut ()) -> Result<(), String> {
        Ok(())
    }

    fn scan(database: &ReferenceDatabase, _: &mut (), haystack: &[u8], on_match: &mut dyn FnMut(u32)) {
        for index in database.set.matches(haystack).iter() {
            on_match(index as u32);
        }
    }

    fn serialize(database: &ReferenceDatabase) -> Result<Vec<u8>, String> {
        let records: Vec<(String, bool, bool, bool, bool)> = database
            .patterns
            .iter()
            .map(|pattern| {
                (
                    pattern.expression.clone(),
                    pattern.caseless,
                    pattern.multi_line,
                    pattern.dot_all,
                    pattern.utf8,
                )
            })
            .collect();
        serde_json::to_vec(&records).map_err(|error| error.to_string())
    }

    fn deserialize(bytes: &[u8]) -> Result<ReferenceDatabase, String> {
        let records: Vec<(String, bool, bool, bool, bool)> =
            serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
        let patterns: Vec<PatternSpec> = records
            .into_iter()
            .map(|(expression, caseless, multi_line, dot_all, utf8)| PatternSpec {
                expression,
                caseless,
                multi_line,
                dot_all,
                utf8,
            })
            .collect();
        Self::compile(&patterns).map_err(|failure| failure.message)
    }
}
