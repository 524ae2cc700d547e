//! `haidang rules test`: every rule against the events its test file says must and must not match.
//!
//! A test file (`rules/tests/<name>.yml`) names a rule by id and lists cases; each case feeds its
//! events in order to a fresh detector and expects the rule to fire (`match`) or never fire
//! (`no_match`).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use haidang_detector::{Correlator, PatternEngine};
use serde::Deserialize;

use super::{EngineChoice, RuleOptions, compile};
use crate::input::event_from_json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    rule: String,
    cases: Vec<TestCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCase {
    name: String,
    expect: Expectation,
    events: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Expectation {
    Match,
    NoMatch,
}

/// What a test run found.
#[derive(Debug, Default, Clone)]
pub struct TestSummary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed (and test files or rules that are broken or missing).
    pub failed: usize,
}

/// The default test directory for rule directories: `tests` beside the first one
/// (`rules/haidang` → `rules/tests`).
pub fn default_tests_directory(rules: &[PathBuf]) -> PathBuf {
    rules
        .first()
        .and_then(|first| first.parent())
        .map(|parent| parent.join("tests"))
        .unwrap_or_else(|| PathBuf::from("rules/tests"))
}

/// Runs every test file in `tests` whose rule is among the loaded rules, and reports every loaded
/// rule without a test. Writes failures and a closing `N passed, M failed` line.
pub fn rules_test(
    options: &RuleOptions,
    tests: &Path,
    engine: EngineChoice,
    out: &mut dyn Write,
) -> anyhow::Result<TestSummary> {
    match engine {
        EngineChoice::Hyperscan => run::<haidang_detector::Hyperscan>(options, tests, out),
        EngineChoice::Reference => run::<haidang_detector::Reference>(options, tests, out),
    }
}

fn run<E: PatternEngine>(
    options: &RuleOptions,
    tests: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<TestSummary> {
    let compiled = compile::<E>(options)?;
    let ruleset = compiled.ruleset;
    let mut summary = TestSummary::default();
    for (path, reason) in &compiled.loaded.unreadable {
        writeln!(out, "FAIL {path}: {reason}")?;
        summary.failed += 1;
    }
    for failure in &ruleset.report().failures {
        writeln!(
            out,
            "FAIL {}: rule does not load: {}",
            failure.source, failure.error
        )?;
        summary.failed += 1;
    }

    let mut files: Vec<PathBuf> = std::fs::read_dir(tests)
        .with_context(|| format!("cannot read test directory {}", tests.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            matches!(
                path.extension().and_then(|extension| extension.to_str()),
                Some("yml" | "yaml")
            )
        })
        .collect();
    files.sort();

    let mut tested = HashSet::new();
    let mut scanner = ruleset.scanner()?;
    for file in files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {name}"))?;
        let test: TestFile = match serde_saphyr::from_str(&text) {
            Ok(test) => test,
            Err(error) => {
                writeln!(
                    out,
                    "FAIL {name}: not a valid test file: {}",
                    error.to_string().lines().next().unwrap_or_default()
                )?;
                summary.failed += 1;
                continue;
            }
        };
        let Some(rule_index) = ruleset.rules().iter().position(|rule| rule.id == test.rule) else {
            // A test for a rule outside the directories under test.
            continue;
        };
        tested.insert(rule_index);
        for case in &test.cases {
            let mut correlator = Correlator::new(&ruleset);
            let mut fired = false;
            let mut matches = Vec::new();
            for document in &case.events {
                let event = event_from_json(document, &compiled.mappings);
                matches.clear();
                scanner.scan(&event, &mut matches);
                fired |= matches.contains(&rule_index);
                fired |= correlator
                    .process(&event, &matches)
                    .iter()
                    .any(|found| found.rule_index == rule_index);
            }
            fired |= correlator
                .flush()
                .iter()
                .any(|found| found.rule_index == rule_index);
            let expected = case.expect == Expectation::Match;
            if fired == expected {
                summary.passed += 1;
            } else {
                summary.failed += 1;
                writeln!(
                    out,
                    "FAIL {name}: case `{}`: expected the rule to {}, it {}",
                    case.name,
                    if expected { "match" } else { "not match" },
                    if fired { "matched" } else { "did not match" }
                )?;
            }
        }
    }
    for (index, rule) in ruleset.rules().iter().enumerate() {
        if !tested.contains(&index) {
            writeln!(
                out,
                "FAIL {}: rule `{}` ({}) has no test file",
                rule.source, rule.id, rule.title
            )?;
            summary.failed += 1;
        }
    }
    writeln!(out, "{} passed, {} failed", summary.passed, summary.failed)?;
    Ok(summary)
}
