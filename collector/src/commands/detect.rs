//! `haidang detect`: match events from files or standard input against rules.

use std::io::Write;
use std::time::{Duration, Instant};

use haidang_detector::{CorrelationMatch, Correlator, PatternEngine, RuleSet};

use super::{EngineChoice, RuleOptions, compile, rule_json};
use crate::input::read_events;

/// Options of `haidang detect`.
#[derive(Clone, Debug, Default)]
pub struct DetectOptions {
    /// Rules, mappings, cache.
    pub rules: RuleOptions,
    /// Inputs (`-` is standard input).
    pub inputs: Vec<String>,
    /// The engine.
    pub engine: EngineChoice,
    /// Write matches (false: count only, for benchmarks).
    pub print_matches: bool,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct DetectSummary {
    /// Rules loaded.
    pub rules: usize,
    /// Rules that did not load.
    pub rule_failures: usize,
    /// Time to load and compile the rules (or restore them from the cache).
    pub load_time: Duration,
    /// Events matched.
    pub events: u64,
    /// Records that could not be read.
    pub input_errors: u64,
    /// Events no route took.
    pub unrouted: u64,
    /// Matches written (detections and correlations).
    pub matches: u64,
    /// Time spent reading and matching events.
    pub match_time: Duration,
    /// Samples of input errors.
    pub error_samples: Vec<String>,
    /// Correlation entries evicted by the memory bound.
    pub correlation_overflow: u64,
    /// Correlation matches that arrived too late.
    pub correlation_late: u64,
}

/// Runs detection, writing one JSON line per match to `out`.
pub fn detect(options: &DetectOptions, out: &mut dyn Write) -> anyhow::Result<DetectSummary> {
    match options.engine {
        EngineChoice::Hyperscan => run::<haidang_detector::Hyperscan>(options, out),
        EngineChoice::Reference => run::<haidang_detector::Reference>(options, out),
    }
}

fn run<E: PatternEngine>(options: &DetectOptions, out: &mut dyn Write) -> anyhow::Result<DetectSummary> {
    let started = Instant::now();
    let compiled = compile::<E>(&options.rules)?;
    let ruleset = compiled.ruleset;
    let mut summary = DetectSummary {
        rules: ruleset.rules().len(),
        rule_failures: ruleset.report().failures.len() + compiled.loaded.unreadable.len(),
        load_time: started.elapsed(),
        ..DetectSummary::default()
    };
    let mut scanner = ruleset.scanner()?;
    let mut correlator = Correlator::new(&ruleset);
    let mut matches = Vec::new();
    let mut write_error = None;
    let matching_started = Instant::now();
    for input in &options.inputs {
        let stats = read_events(input, &compiled.mappings, &mut |event, document| {
            matches.clear();
            if !scanner.scan(&event, &mut matches) {
                summary.unrouted += 1;
            }
            for &rule in &matches {
                let info = &ruleset.rules()[rule];
                if !info.reported {
                    continue;
                }
                summary.matches += 1;
                if options.print_matches && write_error.is_none() {
                    let mut line = rule_json(info);
                    line.insert("event".into(), document.clone());
                    if let Err(error) = write_line(out, &line) {
                        write_error = Some(error);
                    }
                }
            }
            for fired in correlator.process(&event, &matches) {
                summary.matches += 1;
                if options.print_matches && write_error.is_none() {
                    let line = correlation_json(&ruleset, &fired, Some(document));
                    if let Err(error) = write_line(out, &line) {
                        write_error = Some(error);
                    }
                }
            }
        });
        summary.events += stats.events;
        summary.input_errors += stats.errors;
        summary.error_samples.extend(stats.error_samples);
        if let Some(error) = write_error.take() {
            return Err(error.into());
        }
    }
    for fired in correlator.flush() {
        summary.matches += 1;
        if options.print_matches {
            write_line(out, &correlation_json(&ruleset, &fired, None))?;
        }
    }
    let stats = correlator.stats();
    summary.correlation_overflow = stats.overflow_evicted;
    summary.correlation_late = stats.late_dropped;
    summary.match_time = matching_started.elapsed();
    out.flush()?;
    Ok(summary)
}

fn write_line(out: &mut dyn Write, line: &serde_json::Map<String, serde_json::Value>) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

fn correlation_json<E: PatternEngine>(
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
