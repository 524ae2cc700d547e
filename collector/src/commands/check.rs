//! `haidang rules check`: load every rule and say which did not load, and why.

use std::io::Write;

use haidang_detector::{Reference, RuleKind, RuleSet};

use super::RuleOptions;
use crate::rules::{load_mappings, load_rules};

/// Loads the rules and writes one line per rule that did not load (`path: title: reason`), then a
/// note on rules no route reaches, then `loaded N of M rules`. Returns whether every rule loaded.
///
/// Loading checks syntax and compiles every expression; no pattern database is built.
pub fn rules_check(options: &RuleOptions, out: &mut dyn Write) -> anyhow::Result<bool> {
    let loaded = load_rules(&options.rules)?;
    let mappings = load_mappings(options.mappings.as_deref())?;
    let ruleset = RuleSet::<Reference>::check(&loaded.sources, &mappings)?;
    let report = ruleset.report();
    for (path, reason) in &loaded.unreadable {
        writeln!(out, "{path}: {reason}")?;
    }
    for failure in &report.failures {
        match &failure.title {
            Some(title) => writeln!(out, "{}: {title}: {}", failure.source, failure.error)?,
            None => writeln!(out, "{}: {}", failure.source, failure.error)?,
        }
    }
    let unrouted: Vec<_> = ruleset
        .rules()
        .iter()
        .filter(|rule| rule.kind == RuleKind::Detection && !rule.routed)
        .collect();
    if !unrouted.is_empty() {
        writeln!(
            out,
            "note: {} loaded rules have a logsource no mapping route reaches (they cannot match until one does); first: {}",
            unrouted.len(),
            unrouted
                .iter()
                .take(5)
                .map(|rule| rule.source.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    let total = report.documents + loaded.unreadable.len();
    let failed = report.failures.len() + loaded.unreadable.len();
    writeln!(out, "loaded {} of {} rules", total - failed, total)?;
    Ok(failed == 0)
}
