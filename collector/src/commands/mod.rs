//! The `haidang` subcommands, as functions that write to a given output (so tests can call them).

pub mod agents;
mod check;
mod detect;
pub mod import;
mod parse;
mod test;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use haidang_detector::{
    CompileCache, CorrelationMatch, Mappings, PatternEngine, RuleInfo, RuleKind, RuleSet, RuleSetOptions,
};

pub use check::rules_check;
pub use detect::{DetectOptions, DetectSummary, detect};
pub use parse::{ParseSummary, parse, parse_reader};
pub use test::{TestSummary, default_tests_directory, rules_test};

use crate::rules::{LoadedRules, load_mappings, load_rules};

/// Which pattern engine to match with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// Hyperscan (the default).
    #[default]
    Hyperscan,
    /// The pure-Rust reference engine.
    Reference,
}

impl std::str::FromStr for EngineChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "hyperscan" => Ok(EngineChoice::Hyperscan),
            "reference" => Ok(EngineChoice::Reference),
            other => Err(format!("unknown engine `{other}` (hyperscan or reference)")),
        }
    }
}

/// Where rules and mappings come from.
#[derive(Clone, Debug, Default)]
pub struct RuleOptions {
    /// Rule files and directories.
    pub rules: Vec<PathBuf>,
    /// Mapping directory; the built-in mappings when `None`.
    pub mappings: Option<PathBuf>,
    /// Compile cache directory; no cache when `None`.
    pub cache: Option<PathBuf>,
    /// Correlation tunables.
    pub ruleset: RuleSetOptions,
}

/// Rules loaded and compiled, with what could not be read.
pub(crate) struct Compiled<E: PatternEngine> {
    pub(crate) ruleset: Arc<RuleSet<E>>,
    pub(crate) loaded: LoadedRules,
    pub(crate) mappings: Mappings,
}

pub(crate) fn compile<E: PatternEngine>(options: &RuleOptions) -> anyhow::Result<Compiled<E>> {
    let loaded = load_rules(&options.rules)?;
    let mappings = load_mappings(options.mappings.as_deref())?;
    let cache = options.cache.as_ref().map(crate::DirectoryCache::new);
    let ruleset = RuleSet::<E>::compile(
        &loaded.sources,
        &mappings,
        options.ruleset.clone(),
        cache.as_ref().map(|cache| cache as &dyn CompileCache),
    )
    .context("compiling rules")?;
    Ok(Compiled {
        ruleset: Arc::new(ruleset),
        loaded,
        mappings,
    })
}

/// The JSON object describing a rule in match output.
pub(crate) fn rule_json(rule: &RuleInfo) -> serde_json::Map<String, serde_json::Value> {
    let mut object = serde_json::Map::new();
    object.insert("rule_id".into(), rule.id.clone().into());
    object.insert("rule_title".into(), rule.title.clone().into());
    object.insert("level".into(), rule.level.clone().into());
    object.insert("tags".into(), rule.tags.clone().into());
    object.insert(
        "rule_kind".into(),
        match rule.kind {
            RuleKind::Detection => "detection",
            RuleKind::Correlation => "correlation",
        }
        .into(),
    );
    object
}

/// The JSON line of a correlation match (with the event that completed it, when there is one).
pub(crate) fn correlation_json<E: PatternEngine>(
    ruleset: &RuleSet<E>,
    fired: &CorrelationMatch,
    document: Option<&serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut line = rule_json(&ruleset.rules()[fired.rule_index]);
    let group: serde_json::Map<String, serde_json::Value> = fired
        .group
        .iter()
        .map(|(name, value)| (name.clone(), value.clone().into()))
        .collect();
    line.insert(
        "correlation".into(),
        serde_json::json!({
            "group": group,
            "value": fired.value,
            "events": fired.events,
            "first_nanos": fired.first_nanos,
            "last_nanos": fired.last_nanos,
        }),
    );
    if let Some(document) = document {
        line.insert("event".into(), document.clone());
    }
    line
}
