//! `haidang detect`: match events from files or standard input against rules.
//!
//! With one thread everything runs inline. With more, the calling thread cuts the inputs into
//! records and hands batches to matching threads (each with its own [`Scanner`], so its own
//! pattern-engine scratch space); an output thread puts the batches back in input order, writes the
//! matches and runs the correlator, which must see events in order.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haidang_detector::{CorrelationMatch, Correlator, Mappings, PatternEngine, RuleSet, Scanner};
use haidang_event::Event;

use super::{EngineChoice, RuleOptions, compile, rule_json};
use crate::input::{Record, parse_record, read_records};

/// Records per batch handed to a matching thread.
const BATCH: usize = 512;

/// Options of `haidang detect`.
#[derive(Clone, Debug)]
pub struct DetectOptions {
    /// Rules, mappings, cache.
    pub rules: RuleOptions,
    /// Inputs (`-` is standard input).
    pub inputs: Vec<String>,
    /// The engine.
    pub engine: EngineChoice,
    /// Write matches (false: count only, for benchmarks).
    pub print_matches: bool,
    /// Matching threads (at least 1).
    pub threads: usize,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            rules: RuleOptions::default(),
            inputs: Vec::new(),
            engine: EngineChoice::default(),
            print_matches: true,
            threads: 1,
        }
    }
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

impl DetectSummary {
    fn error(&mut self, message: String) {
        self.input_errors += 1;
        if self.error_samples.len() < 20 {
            self.error_samples.push(message);
        }
    }
}

/// Runs detection, writing one JSON line per match to `out`.
pub fn detect(options: &DetectOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<DetectSummary> {
    match options.engine {
        EngineChoice::Hyperscan => run::<haidang_detector::Hyperscan>(options, out),
        EngineChoice::Reference => run::<haidang_detector::Reference>(options, out),
    }
}

/// One record after matching, ready for output and correlation.
struct Matched {
    /// Match lines for reported detection rules (empty when not printing).
    lines: Vec<String>,
    /// How many reported detection rules matched.
    reported: usize,
    /// Detection rules that matched (reported or not).
    matches: Vec<usize>,
    /// The event (only its time when nothing matched) and the document, for correlations.
    event: Event,
    document: Option<serde_json::Value>,
    unrouted: bool,
}

type Outcome = Result<Matched, String>;

struct Shared<E: PatternEngine> {
    ruleset: Arc<RuleSet<E>>,
    mappings: Mappings,
    print_matches: bool,
    has_correlations: bool,
}

fn match_record<E: PatternEngine>(
    shared: &Shared<E>,
    scanner: &mut Scanner<E>,
    input: &str,
    record: Record,
    outcomes: &mut Vec<Outcome>,
) {
    for parsed in parse_record(input, record, &shared.mappings) {
        outcomes.push(parsed.map(|(event, document)| match_event(shared, scanner, event, document)));
    }
}

fn match_event<E: PatternEngine>(
    shared: &Shared<E>,
    scanner: &mut Scanner<E>,
    event: Event,
    document: serde_json::Value,
) -> Matched {
    let mut matches = Vec::new();
    let unrouted = !scanner.scan(&event, &mut matches);
    let mut lines = Vec::new();
    let mut reported = 0;
    for &rule in &matches {
        let info = &shared.ruleset.rules()[rule];
        if info.reported {
            reported += 1;
            if shared.print_matches {
                let mut line = rule_json(info);
                line.insert("event".into(), document.clone());
                lines.push(serde_json::Value::Object(line).to_string());
            }
        }
    }
    let keep = shared.has_correlations && !matches.is_empty();
    let event = if keep {
        event
    } else {
        Event {
            timestamp_nanos: event.timestamp_nanos,
            ..Event::default()
        }
    };
    Matched {
        lines,
        reported,
        matches,
        event,
        document: keep.then_some(document),
        unrouted,
    }
}

/// Output and correlation, in input order.
struct Sink<'a, E: PatternEngine> {
    ruleset: Arc<RuleSet<E>>,
    correlator: Correlator,
    out: &'a mut (dyn Write + Send),
    summary: DetectSummary,
    print_matches: bool,
}

impl<E: PatternEngine> Sink<'_, E> {
    fn accept(&mut self, outcome: Outcome) -> std::io::Result<()> {
        let matched = match outcome {
            Ok(matched) => matched,
            Err(message) => {
                self.summary.error(message);
                return Ok(());
            }
        };
        self.summary.events += 1;
        self.summary.unrouted += u64::from(matched.unrouted);
        self.summary.matches += matched.reported as u64;
        for line in &matched.lines {
            self.out.write_all(line.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        for fired in self.correlator.process(&matched.event, &matched.matches) {
            self.correlation(&fired, matched.document.as_ref())?;
        }
        Ok(())
    }

    fn correlation(
        &mut self,
        fired: &CorrelationMatch,
        document: Option<&serde_json::Value>,
    ) -> std::io::Result<()> {
        self.summary.matches += 1;
        if self.print_matches {
            let line = correlation_json(&self.ruleset, fired, document);
            serde_json::to_writer(&mut *self.out, &line)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<DetectSummary> {
        for fired in self.correlator.flush() {
            self.correlation(&fired, None)?;
        }
        let stats = self.correlator.stats();
        self.summary.correlation_overflow = stats.overflow_evicted;
        self.summary.correlation_late = stats.late_dropped;
        self.out.flush()?;
        Ok(self.summary)
    }
}

fn run<E: PatternEngine>(
    options: &DetectOptions,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<DetectSummary> {
    let started = Instant::now();
    let compiled = compile::<E>(&options.rules)?;
    let ruleset = compiled.ruleset;
    let summary = DetectSummary {
        rules: ruleset.rules().len(),
        rule_failures: ruleset.report().failures.len() + compiled.loaded.unreadable.len(),
        load_time: started.elapsed(),
        ..DetectSummary::default()
    };
    let shared = Shared {
        has_correlations: ruleset
            .rules()
            .iter()
            .any(|rule| rule.kind == haidang_detector::RuleKind::Correlation),
        ruleset: Arc::clone(&ruleset),
        mappings: compiled.mappings,
        print_matches: options.print_matches,
    };
    let mut sink = Sink {
        correlator: Correlator::new(&ruleset),
        ruleset: Arc::clone(&ruleset),
        out,
        summary,
        print_matches: options.print_matches,
    };
    let matching_started = Instant::now();
    let mut summary = if options.threads <= 1 {
        let mut scanner = ruleset.scanner()?;
        let mut write_error = None;
        let mut outcomes = Vec::new();
        for input in &options.inputs {
            let stats = read_records(input, &mut |record| {
                if write_error.is_none() {
                    match_record(&shared, &mut scanner, input, record, &mut outcomes);
                    for outcome in outcomes.drain(..) {
                        if let Err(error) = sink.accept(outcome) {
                            write_error = Some(error);
                        }
                    }
                }
            });
            merge_read_errors(&mut sink.summary, stats);
            if let Some(error) = write_error.take() {
                return Err(error.into());
            }
        }
        sink.finish()?
    } else {
        run_parallel(options, &shared, sink)?
    };
    summary.match_time = matching_started.elapsed();
    Ok(summary)
}

fn merge_read_errors(summary: &mut DetectSummary, stats: crate::InputStats) {
    summary.input_errors += stats.errors;
    for sample in stats.error_samples {
        if summary.error_samples.len() < 20 {
            summary.error_samples.push(sample);
        }
    }
}

type Batch = (u64, Arc<str>, Vec<Record>);

fn run_parallel<E: PatternEngine>(
    options: &DetectOptions,
    shared: &Shared<E>,
    mut sink: Sink<'_, E>,
) -> anyhow::Result<DetectSummary> {
    let threads = options.threads;
    let (batch_sender, batch_receiver) = sync_channel::<Batch>(threads * 2);
    let batch_receiver = Arc::new(Mutex::new(batch_receiver));
    let (result_sender, result_receiver) = sync_channel::<(u64, Vec<Outcome>)>(threads * 2);
    let mut scanners = Vec::with_capacity(threads);
    for _ in 0..threads {
        scanners.push(shared.ruleset.scanner()?);
    }
    std::thread::scope(|scope| -> anyhow::Result<DetectSummary> {
        for mut scanner in scanners {
            let receiver = Arc::clone(&batch_receiver);
            let sender = result_sender.clone();
            scope.spawn(move || matching_thread(shared, &mut scanner, &receiver, &sender));
        }
        drop(result_sender);
        let writer = scope.spawn(move || -> std::io::Result<DetectSummary> {
            let mut waiting: BTreeMap<u64, Vec<Outcome>> = BTreeMap::new();
            let mut next = 0u64;
            let mut failure = None;
            for (sequence, outcomes) in result_receiver {
                waiting.insert(sequence, outcomes);
                while let Some(outcomes) = waiting.remove(&next) {
                    next += 1;
                    for outcome in outcomes {
                        if failure.is_none()
                            && let Err(error) = sink.accept(outcome)
                        {
                            failure = Some(error);
                        }
                    }
                }
            }
            if let Some(error) = failure {
                return Err(error);
            }
            sink.finish()
        });
        let mut read_stats = Vec::new();
        let mut sequence = 0u64;
        for input in &options.inputs {
            let name: Arc<str> = Arc::from(input.as_str());
            let mut batch = Vec::with_capacity(BATCH);
            let stats = read_records(input, &mut |record| {
                batch.push(record);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    // A send fails only when every matching thread is gone; the writer reports why.
                    let _ = batch_sender.send((sequence, Arc::clone(&name), full));
                    sequence += 1;
                }
            });
            if !batch.is_empty() {
                let _ = batch_sender.send((sequence, Arc::clone(&name), batch));
                sequence += 1;
            }
            read_stats.push(stats);
        }
        drop(batch_sender);
        let mut summary = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the output thread panicked"))??;
        for stats in read_stats {
            merge_read_errors(&mut summary, stats);
        }
        Ok(summary)
    })
}

fn matching_thread<E: PatternEngine>(
    shared: &Shared<E>,
    scanner: &mut Scanner<E>,
    receiver: &Mutex<Receiver<Batch>>,
    sender: &SyncSender<(u64, Vec<Outcome>)>,
) {
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok((sequence, input, records)) = next else {
            return;
        };
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            match_record(shared, scanner, &input, record, &mut outcomes);
        }
        if sender.send((sequence, outcomes)).is_err() {
            return;
        }
    }
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
