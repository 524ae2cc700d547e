use hyperscan::Serialized as _;
use hyperscan::prelude::{BlockDatabase, Builder as _, CompileFlags, Matching, Pattern, Patterns, Scratch};

use super::{CompileFailure, PatternEngine, PatternSpec};

/// Hyperscan (the system `libhs`): every pattern of a field in one database, one scan per value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hyperscan;

fn pattern(spec: &PatternSpec, id: usize) -> Pattern {
    let mut flags = CompileFlags::SINGLEMATCH;
    if spec.caseless {
        flags |= CompileFlags::CASELESS;
    }
    if spec.multi_line {
        flags |= CompileFlags::MULTILINE;
    }
    if spec.dot_all {
        flags |= CompileFlags::DOTALL;
    }
    if spec.utf8 {
        flags |= CompileFlags::UTF8 | CompileFlags::UCP;
    }
    let mut pattern = Pattern {
        expression: spec.expression.clone(),
        flags,
        id: Some(id),
        ext: Default::default(),
        som: None,
    };
    pattern.id = Some(id);
    pattern
}

impl PatternEngine for Hyperscan {
    type Database = BlockDatabase;
    type Scratch = Option<Scratch>;

    const NAME: &'static str = "hyperscan";

    fn accepts(spec: &PatternSpec) -> bool {
        if spec.expression.contains('\0') {
            return false;
        }
        // Hyperscan refuses patterns that can match the empty buffer unless flagged, and its
        // dialect lacks back-references and most look-arounds: ask it about each pattern alone.
        match pattern(spec, 0).info() {
            Ok(info) => info.min_width() > 0,
            Err(_) => false,
        }
    }

    fn compile(patterns: &[PatternSpec]) -> Result<BlockDatabase, CompileFailure> {
        let patterns: Patterns = patterns
            .iter()
            .enumerate()
            .map(|(id, spec)| pattern(spec, id))
            .collect();
        patterns
            .build::<hyperscan::Block>()
            .map_err(|error| match &error {
                hyperscan::Error::Hyperscan(hyperscan::HsError::CompileError(expression_error)) => {
                    CompileFailure {
                        pattern: expression_error.expression(),
                        message: expression_error.message().to_owned(),
                    }
                }
                other => CompileFailure {
                    pattern: None,
                    message: other.to_string(),
                },
            })
    }

    fn new_scratch() -> Option<Scratch> {
        None
    }

    fn prepare_scratch(database: &BlockDatabase, scratch: &mut Option<Scratch>) -> Result<(), String> {
        match scratch {
            Some(existing) => database
                .realloc_scratch(existing)
                .map(|_| ())
                .map_err(|error| error.to_string()),
            None => {
                *scratch = Some(database.alloc_scratch().map_err(|error| error.to_string())?);
                Ok(())
            }
        }
    }

    fn scan(
        database: &BlockDatabase,
        scratch: &mut Option<Scratch>,
        haystack: &[u8],
        on_match: &mut dyn FnMut(u32),
    ) {
        let Some(scratch) = scratch.as_ref() else {
            debug_assert!(false, "scan before prepare_scratch");
            return;
        };
        // A scan error (only possible on a corrupt database or scratch) reports no matches.
        let _ = database.scan(haystack, scratch, |id, _, _, _| {
            on_match(id);
            Matching::Continue
        });
    }

    fn serialize(database: &BlockDatabase) -> Result<Vec<u8>, String> {
        database
            .serialize()
            .map(|bytes| bytes.to_vec())
            .map_err(|error| error.to_string())
    }

    fn deserialize(bytes: &[u8]) -> Result<BlockDatabase, String> {
        bytes.deserialize().map_err(|error| error.to_string())
    }
}
