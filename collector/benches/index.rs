#![allow(clippy::print_stdout)]

//! The event index on real data: indexing throughput, then search latency over a large index.
//!
//!     cargo bench -p haidang-collector --bench index -- [data_dir] [events] [--mix-only]
//!
//! `data_dir` is the shared data folder (default `../shared/data`), read at run time: the 16
//! loghub logs and the Apache access log go through `Normalizer` line by line, and the OTRF
//! Windows events (zipped JSON lines, read with `unzip -p`) through its JSON path, up to
//! [`OTRF_LIMIT`] events. The corpus is shuffled and replayed to reach `events` (default
//! 10,000,000), each copy with its own id and time: times advance evenly over 30 days, and each
//! event is given one of 60 hosts, whose agency, system and grade come from a small inventory.
//!
//! 1. Indexing: two threads call `Index::add` with batches of 1,000 events while a third commits
//!    every second, as the collector does; the rate counts the final commit. First 100,000
//!    events of each source alone (each in a fresh index, over one day), then the shuffled mix up
//!    to `events` over 30 days (`--mix-only`: the mix alone).
//!    CPU seconds are reported too: the machine may be shared.
//! 2. Queries: 100 term queries over the last 7 days (mostly `host:<name>`, also agencies,
//!    source types and event fields), each a search for the newest 50 hits plus a 60-bucket date
//!    histogram; latency percentiles of the pair.
//!
//! The index lives in a temporary directory under /tmp, deleted at the end. A JSON summary goes to
//! standard output, progress to standard error.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use haidang_collector::index::{HistogramRequest, Index, IndexConfig, IndexEvent, Scope, SearchRequest};
use haidang_collector::parse::{Format, Normalizer, ParseContext};
use haidang_event::Event;

// The same allocator as the `haidang` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// OTRF Windows events in the corpus, at most, and at most per archive. Against the 42,000
/// loghub and access-log lines they make about a sixth of the events (and two thirds of the
/// bytes: a Winlogbeat document is about 3.5 KB, a syslog line about 140 bytes).
const OTRF_LIMIT: usize = 8_000;
const OTRF_PER_ARCHIVE: usize = 200;
/// Events indexed per source alone.
const SOURCE_EVENTS: u64 = 100_000;
const BATCH: u64 = 1_000;
const DAY: i64 = 86_400_000_000_000;
const SPAN_DAYS: i64 = 30;
/// 2026-11-01T00:00:00Z: the timeline's start.
const START: i64 = 1_793_491_200_000_000_000;

/// (agency, system, grade) of the inventory; hosts are spread over them.
const SYSTEMS: &[(&str, &str, Option<u8>)] = &[
    ("hp", "cong-dich-vu-cong", Some(3)),
    ("hp", "mail", Some(2)),
    ("qn", "mot-cua", Some(3)),
    ("qn", "erp", Some(4)),
    ("hn", "portal", Some(2)),
    ("dn", "core-network", Some(5)),
    ("dn", "lab", None),
];
const HOST_PREFIXES: &[&str] = &["web", "db", "dc", "fw", "app", "mail"];

struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn mix(mut value: u64) -> u64 {
    value ^= value >> 33;
    value = value.wrapping_mul(0xff51_afd7_ed55_8ccd);
    value ^= value >> 33;
    value
}

fn hosts() -> Vec<String> {
    HOST_PREFIXES
        .iter()
        .flat_map(|prefix| (1..=10).map(move |number| format!("{prefix}{number:02}")))
        .collect()
}

fn normalize_lines(text: &str, format: Format, out: &mut Vec<Event>) {
    let mut normalizer = Normalizer::new(
        format,
        ParseContext {
            received_nanos: START,
            ..ParseContext::default()
        },
    );
    for line in text.lines() {
        normalizer.push(line, out);
    }
    normalizer.finish(out);
}

fn zips_under(directory: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            zips_under(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "zip") {
            out.push(path);
        }
    }
}

/// The real events of each source.
fn load_sources(data: &Path) -> Vec<(&'static str, Vec<Event>)> {
    let mut loghub = Vec::new();
    let mut logs: Vec<PathBuf> = std::fs::read_dir(data.join("loghub"))
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    logs.sort();
    for directory in logs.iter().filter(|path| path.is_dir()) {
        let name = directory
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Ok(text) = std::fs::read_to_string(directory.join(format!("{name}_2k.log"))) {
            normalize_lines(&text, Format::Auto, &mut loghub);
        }
    }

    let mut access = Vec::new();
    let apache = data.join("web-logs/elastic-examples/Common Data Formats/apache_logs/apache_logs");
    if let Ok(text) = std::fs::read_to_string(&apache) {
        normalize_lines(&text, Format::Access, &mut access);
    }

    let mut windows = Vec::new();
    let mut zips = Vec::new();
    zips_under(&data.join("otrf/datasets/atomic/windows"), &mut zips);
    zips.sort();
    // A few hundred events from each of many archives (many attack simulations), up to the limit.
    for zip in &zips {
        if windows.len() >= OTRF_LIMIT {
            break;
        }
        let Ok(output) = Command::new("unzip").arg("-p").arg(zip).output() else {
            eprintln!("corpus: cannot run unzip; OTRF events skipped");
            break;
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let mut events = Vec::new();
        normalize_lines(&text, Format::Json, &mut events);
        events.truncate(OTRF_PER_ARCHIVE.min(OTRF_LIMIT - windows.len()));
        windows.extend(events);
    }
    vec![
        ("loghub", loghub),
        ("apache_access", access),
        ("otrf_windows", windows),
    ]
}

/// All sources' events, shuffled (deterministically) so they interleave.
fn mixed(sources: &[(&'static str, Vec<Event>)]) -> Vec<Event> {
    let mut all: Vec<Event> = sources
        .iter()
        .flat_map(|(_, events)| events.iter().cloned())
        .collect();
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    for index in (1..all.len()).rev() {
        let other = (random.next() % (index as u64 + 1)) as usize;
        all.swap(index, other);
    }
    all
}

/// The `number`-th event of the run: a copy of a corpus event at its place in the timeline.
fn make_event(corpus: &[Event], hosts: &[String], number: u64, total: u64, span_days: i64) -> IndexEvent {
    let mut event = corpus[(number % corpus.len() as u64) as usize].clone();
    let span = span_days * DAY;
    let jitter = (mix(number) % 2_000_000_000) as i64;
    let time = START + (i128::from(number) * i128::from(span) / i128::from(total.max(1))) as i64 + jitter;
    event.timestamp_nanos = Some(time.min(START + span - 1));
    let host_number = (mix(number ^ 0x5555) % hosts.len() as u64) as usize;
    let (agency, system, grade) = SYSTEMS[host_number % SYSTEMS.len()];
    event.host = Some(hosts[host_number].clone());
    event.agency = Some(agency.to_owned());
    event.system = Some(system.to_owned());
    let matched = number.is_multiple_of(100);
    IndexEvent {
        id: format!("bench-{number:x}"),
        event,
        grade,
        severity: matched.then(|| "high".to_owned()),
        rule_ids: if matched {
            vec!["haidang-ssh-auth-failure".to_owned()]
        } else {
            Vec::new()
        },
    }
}

fn available_bytes(path: &str) -> Option<u64> {
    let output = Command::new("df")
        .args(["--output=avail", "-B1", path])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// CPU seconds this process has used (user + system, all threads), in clock ticks of 1/100 s.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The fields after the command name (which may hold spaces) in parentheses.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64) * fraction).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What an indexing run measured.
struct Run {
    events: u64,
    raw_bytes: u64,
    seconds: f64,
    cpu_seconds: f64,
    commits: u64,
    longest_commit: Duration,
}

impl Run {
    fn report(&self, corpus_events: usize) -> serde_json::Value {
        serde_json::json!({
            "corpus_events": corpus_events,
            "events": self.events,
            "threads_adding": 2,
            "batch": BATCH,
            "seconds": self.seconds,
            "events_per_second": self.events as f64 / self.seconds,
            "raw_megabytes_per_second": self.raw_bytes as f64 / self.seconds / 1_048_576.0,
            "cpu_seconds": self.cpu_seconds,
            "events_per_cpu_second": self.events as f64 / self.cpu_seconds.max(0.001),
            "commits": self.commits,
            "longest_commit_ms": self.longest_commit.as_secs_f64() * 1000.0,
        })
    }
}

/// Indexes `total` events made from `corpus`: two threads add batches, a third commits every
/// second; the time includes the final commit.
fn index_events(
    index: &Index,
    corpus: &Arc<Vec<Event>>,
    hosts: &Arc<Vec<String>>,
    total: u64,
    span_days: i64,
) -> Run {
    let next_batch = Arc::new(AtomicU64::new(0));
    let added = Arc::new(AtomicU64::new(0));
    let raw_bytes = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let committer = {
        let (index, done, added) = (index.clone(), Arc::clone(&done), Arc::clone(&added));
        std::thread::spawn(move || {
            let mut commits = 0u64;
            let mut longest = Duration::ZERO;
            let mut reported = 0u64;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                let commit_started = Instant::now();
                if let Err(error) = index.commit() {
                    eprintln!("commit failed: {error}");
                }
                longest = longest.max(commit_started.elapsed());
                commits += 1;
                let now_added = added.load(Ordering::Relaxed);
                if now_added / 1_000_000 > reported / 1_000_000 {
                    reported = now_added;
                    let seconds = started.elapsed().as_secs_f64();
                    eprintln!(
                        "indexed {now_added} in {seconds:.0} s ({:.0} events/s)",
                        now_added as f64 / seconds
                    );
                }
            }
            (commits, longest)
        })
    };
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let (index, corpus, hosts) = (index.clone(), Arc::clone(corpus), Arc::clone(hosts));
            let (next_batch, added, raw_bytes) = (
                Arc::clone(&next_batch),
                Arc::clone(&added),
                Arc::clone(&raw_bytes),
            );
            std::thread::spawn(move || {
                loop {
                    let batch = next_batch.fetch_add(1, Ordering::Relaxed);
                    let first = batch * BATCH;
                    if first >= total {
                        return;
                    }
                    let events: Vec<IndexEvent> = (first..(first + BATCH).min(total))
                        .map(|number| make_event(&corpus, &hosts, number, total, span_days))
                        .collect();
                    let count = events.len() as u64;
                    let bytes: usize = events.iter().map(|event| event.event.raw.len()).sum();
                    if let Err(error) = index.add(events, false) {
                        eprintln!("add failed: {error}");
                        return;
                    }
                    added.fetch_add(count, Ordering::Relaxed);
                    raw_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for producer in producers {
        let _ = producer.join();
    }
    done.store(true, Ordering::Relaxed);
    let (commits, longest_commit) = committer.join().unwrap_or((0, Duration::ZERO));
    if let Err(error) = index.commit() {
        eprintln!("final commit failed: {error}");
    }
    Run {
        events: added.load(Ordering::Relaxed),
        raw_bytes: raw_bytes.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: cpu_seconds() - cpu_started,
        commits,
        longest_commit,
    }
}

fn scratch_directory() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("haidang-index-bench")
        .tempdir_in("/tmp")
        .unwrap_or_else(|error| {
            eprintln!("cannot make a directory in /tmp: {error}");
            std::process::exit(1);
        })
}

fn open_index(directory: &Path) -> Index {
    Index::open(IndexConfig::new(directory)).unwrap_or_else(|error| {
        eprintln!("cannot open the index: {error}");
        std::process::exit(1);
    })
}

fn main() {
    let mix_only = std::env::args().any(|argument| argument == "--mix-only");
    let arguments: Vec<String> = std::env::args()
        .skip(1)
        .filter(|argument| !argument.starts_with("--"))
        .collect();
    // Cargo runs benches in the crate's folder; a relative path may be meant from the workspace.
    let given = arguments.first().map_or("../shared/data", String::as_str);
    let data = [PathBuf::from(given), Path::new("..").join(given)]
        .into_iter()
        .find(|path| path.join("loghub").is_dir())
        .unwrap_or_else(|| PathBuf::from(given));
    let total: u64 = arguments
        .get(1)
        .and_then(|text| text.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);

    if let Ok(df) = Command::new("df").args(["-h", "/tmp"]).output() {
        eprint!("{}", String::from_utf8_lossy(&df.stdout));
    }
    // About 1.5 KiB per event on disk at most, with room for merges.
    let needed = total.saturating_mul(1536);
    if let Some(available) = available_bytes("/tmp")
        && available < needed
    {
        eprintln!("not enough space in /tmp: {available} bytes free, {needed} wanted");
        std::process::exit(1);
    }

    let sources = load_sources(&data);
    let mut corpus_report = serde_json::Map::new();
    for (name, events) in &sources {
        let bytes: usize = events.iter().map(|event| event.raw.len()).sum();
        eprintln!("corpus: {name}: {} events, {bytes} raw bytes", events.len());
        corpus_report.insert(
            (*name).into(),
            serde_json::json!({"events": events.len(), "raw_bytes": bytes}),
        );
    }
    let hosts = Arc::new(hosts());

    // 1. Indexing: each source alone (a fresh index each), then the mix up to `total`.
    let mut per_source = serde_json::Map::new();
    for (name, events) in &sources {
        if events.is_empty() || mix_only {
            continue;
        }
        let scratch = scratch_directory();
        let scratch_index = open_index(scratch.path());
        let run = index_events(
            &scratch_index,
            &Arc::new(events.clone()),
            &hosts,
            SOURCE_EVENTS,
            1,
        );
        eprintln!("{name} alone: {:.0} events/s", run.events as f64 / run.seconds);
        per_source.insert((*name).into(), run.report(events.len()));
        drop(scratch_index);
        let _ = scratch.close();
    }
    let corpus = Arc::new(mixed(&sources));
    if corpus.is_empty() {
        eprintln!("no events found under {}", data.display());
        std::process::exit(1);
    }
    let directory = scratch_directory();
    let index = open_index(directory.path());
    let run = index_events(&index, &corpus, &hosts, total, SPAN_DAYS);
    let partitions = index.partitions();
    let disk_bytes: u64 = partitions.iter().map(|partition| partition.bytes).sum();
    let documents: u64 = partitions.iter().map(|partition| partition.documents).sum();
    eprintln!(
        "indexed {} events in {:.1} s: {:.0} events/s; {disk_bytes} bytes on disk",
        run.events,
        run.seconds,
        run.events as f64 / run.seconds
    );

    // 2. Queries over the last 7 days.
    let to_nanos = START + SPAN_DAYS * DAY - 1;
    let from_nanos = to_nanos - 7 * DAY + 1;
    let queries: Vec<String> = (0..100)
        .map(|number| match number % 10 {
            0..=6 => format!("host:{}", hosts[(number * 7) % hosts.len()]),
            7 => format!("agency:{}", SYSTEMS[number % SYSTEMS.len()].0),
            8 => ["source_type:syslog", "source_type:web-access", "severity:high"][number % 3].to_owned(),
            _ => ["EventID:4624", "user.name:root", "event.outcome:failure"][number % 3].to_owned(),
        })
        .collect();
    let mut latencies = Vec::with_capacity(queries.len());
    let mut search_latencies = Vec::with_capacity(queries.len());
    let mut histogram_latencies = Vec::with_capacity(queries.len());
    let mut matched = Vec::with_capacity(queries.len());
    for query in &queries {
        let query_started = Instant::now();
        let result = index.search(
            &SearchRequest {
                query: query.clone(),
                from_nanos,
                to_nanos,
                size: 50,
                descending: true,
                cursor: None,
                time_limit: Duration::from_secs(30),
            },
            &Scope::All,
        );
        let search_ms = query_started.elapsed().as_secs_f64() * 1000.0;
        let histogram_started = Instant::now();
        let histogram = index.histogram(
            &HistogramRequest {
                query: query.clone(),
                from_nanos,
                to_nanos,
                buckets: 60,
                time_limit: Duration::from_secs(30),
            },
            &Scope::All,
        );
        let histogram_ms = histogram_started.elapsed().as_secs_f64() * 1000.0;
        latencies.push(query_started.elapsed().as_secs_f64() * 1000.0);
        search_latencies.push(search_ms);
        histogram_latencies.push(histogram_ms);
        match (result, histogram) {
            (Ok(result), Ok(histogram)) => {
                let counted: u64 = histogram.buckets.iter().map(|bucket| bucket.1).sum();
                if counted != result.total {
                    eprintln!(
                        "{query}: the histogram counts {counted}, the search {}",
                        result.total
                    );
                }
                matched.push(result.total);
            }
            (Err(error), _) | (_, Err(error)) => eprintln!("{query}: {error}"),
        }
    }
    let summary = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        serde_json::json!({
            "p50": percentile(values, 0.50),
            "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99),
            "max": values.last().copied().unwrap_or(0.0),
        })
    };
    matched.sort_unstable();
    let report = serde_json::json!({
        "data": data.display().to_string(),
        "corpus": corpus_report,
        "indexing_per_source": per_source,
        "indexing": run.report(corpus.len()),
        "target_events_per_second": 50_000,
        "documents_committed": documents,
        "index": {
            "partitions": partitions.len(),
            "disk_bytes": disk_bytes,
            "bytes_per_event": disk_bytes as f64 / run.events.max(1) as f64,
        },
        "queries": {
            "count": queries.len(),
            "range_days": 7,
            "each": "search (newest 50 hits, total) + date histogram (60 buckets)",
            "matches_min": matched.first().copied().unwrap_or(0),
            "matches_median": matched.get(matched.len() / 2).copied().unwrap_or(0),
            "matches_max": matched.last().copied().unwrap_or(0),
            "latency_ms": summary(&mut latencies),
            "search_ms": summary(&mut search_latencies),
            "histogram_ms": summary(&mut histogram_latencies),
            "target_p95_ms": 300,
        },
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    drop(index);
    if let Err(error) = directory.close() {
        eprintln!("cannot delete the index directory: {error}");
    }
}
