//! `haidang detect`: match events from files or standard input against rules.
//!
//! With one thread everything runs inline. With more, the calling thread cuts the inputs into
//! records and hands batches to matching threads (each with its own [`Scanner`], so its own
//! pattern-engine scratch space); an output thread puts the batches back in input order, writes the
//! matches and runs the correlator, which must see events in order.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haidang_detector::{CorrelationMatch, Correlator, PatternEngine, RuleSet, Scanner};
use haidang_event::Event;

use super::{EngineChoice, RuleOptions, correlation_json, rule_json};
use crate::input::{Document, Record, parse_record, read_records};
use crate::reload::{LiveRules, watch};

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
    /// Reload the rules when their files change (polled at this interval) or on SIGHUP.
    pub watch: Option<Duration>,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            rules: RuleOptions::default(),
            inputs: Vec::new(),
            engine: EngineChoice::default(),
            print_matches: true,
            threads: 1,
            watch: None,
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
struct Matched<E: PatternEngine> {
    /// Match lines for reported detection rules (empty when not printing).
    lines: Vec<String>,
    /// How many reported detection rules matched.
    reported: usize,
    /// Detection rules that matched (reported or not), indices into `ruleset`.
    matches: Vec<usize>,
    ruleset: Arc<RuleSet<E>>,
    /// The event (only its time when nothing matched) and the document, for correlations.
    event: Event,
    document: Option<Document>,
    unrouted: bool,
}

type Outcome<E> = Result<Matched<E>, String>;

struct Shared<E: PatternEngine> {
    live: Arc<LiveRules<E>>,
    print_matches: bool,
}

/// A thread's scanner, renewed when the rules were reloaded.
struct Worker<E: PatternEngine> {
    generation: u64,
    scanner: Scanner<E>,
}

impl<E: PatternEngine> Worker<E> {
    fn new(live: &LiveRules<E>) -> anyhow::Result<Worker<E>> {
        let (generation, ruleset) = live.current();
        Ok(Worker {
            generation,
            scanner: ruleset.scanner()?,
        })
    }

    /// Takes the newest rules if they changed.
    fn refresh(&mut self, live: &LiveRules<E>) {
        if live.generation() != self.generation
            && let Ok(fresh) = Worker::new(live)
        {
            *self = fresh;
        }
    }
}

fn match_record<E: PatternEngine>(
    shared: &Shared<E>,
    scanner: &mut Scanner<E>,
    input: &str,
    record: Record,
    outcomes: &mut Vec<Outcome<E>>,
) {
    for parsed in parse_record(input, record, shared.live.mappings()) {
        outcomes.push(parsed.map(|(event, document)| match_event(shared, scanner, event, document)));
    }
}

fn match_event<E: PatternEngine>(
    shared: &Shared<E>,
    scanner: &mut Scanner<E>,
    event: Event,
    document: Document,
) -> Matched<E> {
    let ruleset = Arc::clone(scanner.ruleset());
    let mut matches = Vec::new();
    let unrouted = !scanner.scan(&event, &mut matches);
    let mut lines = Vec::new();
    let mut reported = 0;
    for &rule in &matches {
        let info = &ruleset.rules()[rule];
        if info.reported {
            reported += 1;
            if shared.print_matches {
                // The source document goes into the line verbatim (it is valid JSON: it parsed).
                let mut line = serde_json::Value::Object(rule_json(info)).to_string();
                line.pop();
                line.push_str(",\"event\":");
                line.push_str(&document.json_text());
                line.push('}');
                lines.push(line);
            }
        }
    }
    let keep = !ruleset.correlations_empty() && !matches.is_empty();
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
        ruleset,
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
    fn accept(&mut self, outcome: Outcome<E>) -> std::io::Result<()> {
        let matched = match outcome {
            Ok(matched) => matched,
            Err(message) => {
                self.summary.error(message);
                return Ok(());
            }
        };
        self.summary.events += 1;
        self.summary.unrouted += u64::from(matched.unrouted);
        if !Arc::ptr_eq(&self.ruleset, &matched.ruleset) {
            // Reloaded rules: correlation windows start afresh with the new rule set.
            for fired in self.correlator.flush() {
                self.correlation(&fired, None)?;
            }
            self.ruleset = Arc::clone(&matched.ruleset);
            self.correlator = Correlator::new(&self.ruleset);
        }
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

    fn correlation(&mut self, fired: &CorrelationMatch, document: Option<&Document>) -> std::io::Result<()> {
        self.summary.matches += 1;
        if self.print_matches {
            let document = document.map(Document::to_json);
            let line = correlation_json(&self.ruleset, fired, document.as_ref());
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
    let live = Arc::new(LiveRules::<E>::load(options.rules.clone())?);
    let (_, ruleset) = live.current();
    let unreadable = live.unreadable();
    let summary = DetectSummary {
        rules: ruleset.rules().len(),
        rule_failures: ruleset.report().failures.len() + unreadable,
        load_time: started.elapsed(),
        ..DetectSummary::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = options
        .watch
        .map(|interval| watch(Arc::clone(&live), interval, Arc::clone(&stop)));
    let shared = Shared {
        live,
        print_matches: options.print_matches,
    };
    let sink = Sink {
        correlator: Correlator::new(&ruleset),
        ruleset: Arc::clone(&ruleset),
        out,
        summary,
        print_matches: options.print_matches,
    };
    let matching_started = Instant::now();
    let result = if options.threads <= 1 {
        run_inline(options, &shared, sink)
    } else {
        run_parallel(options, &shared, sink)
    };
    stop.store(true, Ordering::Release);
    if let Some(watcher) = watcher {
        let _ = watcher.join();
    }
    let mut summary = result?;
    summary.match_time = matching_started.elapsed();
    Ok(summary)
}

fn run_inline<E: PatternEngine>(
    options: &DetectOptions,
    shared: &Shared<E>,
    mut sink: Sink<'_, E>,
) -> anyhow::Result<DetectSummary> {
    let mut worker = Worker::new(&shared.live)?;
    let mut write_error = None;
    let mut outcomes = Vec::new();
    for input in &options.inputs {
        let stats = read_records(input, &mut |record| {
            if write_error.is_none() {
                worker.refresh(&shared.live);
                match_record(shared, &mut worker.scanner, input, record, &mut outcomes);
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
    Ok(sink.finish()?)
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
    let (result_sender, result_receiver) = sync_channel::<(u64, Vec<Outcome<E>>)>(threads * 2);
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        workers.push(Worker::new(&shared.live)?);
    }
    std::thread::scope(|scope| -> anyhow::Result<DetectSummary> {
        for mut worker in workers {
            let receiver = Arc::clone(&batch_receiver);
            let sender = result_sender.clone();
            scope.spawn(move || matching_thread(shared, &mut worker, &receiver, &sender));
        }
        drop(result_sender);
        let writer = scope.spawn(move || -> std::io::Result<DetectSummary> {
            let mut waiting: BTreeMap<u64, Vec<Outcome<E>>> = BTreeMap::new();
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
    worker: &mut Worker<E>,
    receiver: &Mutex<Receiver<Batch>>,
    sender: &SyncSender<(u64, Vec<Outcome<E>>)>,
) {
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok((sequence, input, records)) = next else {
            return;
        };
        worker.refresh(&shared.live);
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            match_record(shared, &mut worker.scanner, &input, record, &mut outcomes);
        }
        if sender.send((sequence, outcomes)).is_err() {
            return;
        }
    }
}
