//! The pipeline's stages after ingest: matching threads, the index thread and the alert thread.
//!
//! ```text
//! queue ─► matching threads ─┬─► index thread (batches, commit every second) ─► tantivy
//!          (parse, enrich,   └─► alert thread (correlator, alert store, alerts.jsonl)
//!           match)
//! ```
//!
//! A WAL entry's `Done` token travels with its events to the index thread and is dropped only
//! after the commit that made them durable in the index, so the WAL cursor never passes an event
//! the index could still lose.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use haidang_detector::{Correlator, Hyperscan, RuleSet};
use haidang_event::Event;
use tokio::sync::mpsc;

use super::agents::Done;
use super::api::{HostSeen, HostTable};
use super::{Counters, Ingested, Origin};
use crate::commands::{correlation_json, rule_json};
use crate::index::{Index, IndexEvent, RetentionPolicy};
use crate::input::event_to_json;
use crate::parse::{Format, Normalizer, ParseContext};
use crate::store::{AlertMatch, Store};
use crate::{Inventory, LiveRules};

/// How often the index commits (events are searchable within about this long).
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// How often retention runs.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// What the matching threads hand the alert thread.
pub(crate) struct Matched {
    pub(crate) ruleset: Arc<RuleSet<Hyperscan>>,
    pub(crate) matches: Vec<usize>,
    pub(crate) event: Event,
    pub(crate) event_id: String,
}

/// What the matching threads hand the index thread.
pub(crate) struct ToIndex {
    pub(crate) events: Vec<IndexEvent>,
    pub(crate) done: Vec<Arc<Done>>,
    pub(crate) replace: bool,
}

/// Gives ids to events that arrive without one (syslog, HTTP): a per-start prefix and a counter.
pub(crate) struct EventIds {
    prefix: String,
    next: AtomicU64,
}

impl EventIds {
    pub(crate) fn new() -> EventIds {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        EventIds {
            prefix: format!("{:x}", (nanos as u64) ^ u64::from(std::process::id())),
            next: AtomicU64::new(0),
        }
    }

    fn next(&self) -> String {
        format!("{}-{:x}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// What every matching thread shares.
pub(crate) struct MatchShared {
    pub(crate) live: Arc<LiveRules<Hyperscan>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) inventory: Arc<Option<Inventory>>,
    pub(crate) hosts: HostTable,
    pub(crate) ids: Arc<EventIds>,
    pub(crate) context: ParseContext,
}

/// A matching thread: takes batches off the queue, parses, enriches, matches, and hands events to
/// the index thread and matches to the alert thread.
pub(crate) fn match_loop(
    receiver: &Mutex<mpsc::Receiver<Ingested>>,
    shared: &MatchShared,
    alerts: &SyncSender<Matched>,
    index: &SyncSender<ToIndex>,
) {
    let (mut generation, ruleset) = shared.live.current();
    let Ok(mut scanner) = ruleset.scanner() else {
        return;
    };
    let mut normalizers: HashMap<Format, Normalizer> = HashMap::new();
    let mut batch = Vec::with_capacity(256);
    let mut events = Vec::new();
    loop {
        batch.clear();
        {
            let Ok(mut receiver) = receiver.lock() else { return };
            match receiver.blocking_recv() {
                Some(first) => batch.push(first),
                None => break,
            }
            while batch.len() < 256 {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        if shared.live.generation() != generation {
            let (fresh_generation, ruleset) = shared.live.current();
            if let Ok(fresh) = ruleset.scanner() {
                scanner = fresh;
                generation = fresh_generation;
            }
        }
        let mut to_index = ToIndex {
            events: Vec::with_capacity(batch.len()),
            done: Vec::new(),
            replace: false,
        };
        let mut seen: BTreeMap<String, HostSeen> = BTreeMap::new();
        for record in batch.drain(..) {
            if let Some(event) = record.event {
                events.push(*event);
            } else {
                let normalizer = normalizers.entry(record.format).or_insert_with(|| {
                    Normalizer::new(
                        record.format,
                        ParseContext {
                            received_nanos: now_nanos(),
                            ..shared.context.clone()
                        },
                    )
                });
                let unparsed_before = normalizer.unparsed;
                normalizer.push(&record.text, &mut events);
                Counters::add(&shared.counters.unparsed, normalizer.unparsed - unparsed_before);
            }
            for (position, mut event) in events.drain(..).enumerate() {
                Counters::add(&shared.counters.events, 1);
                if let Some(origin) = &record.origin {
                    stamp(&mut event, origin, record.source.as_deref());
                }
                if let Some(inventory) = shared.inventory.as_ref() {
                    inventory.enrich(&mut event);
                }
                let id = match (&record.id, position) {
                    (Some(id), 0) => id.clone(),
                    (Some(id), position) => format!("{id}.{position}"),
                    (None, _) => shared.ids.next(),
                };
                note_host(&mut seen, &event);
                let mut matches = Vec::new();
                scanner.scan(&event, &mut matches);
                let (severity, rule_ids) = summarize(scanner.ruleset(), &matches);
                if !matches.is_empty() {
                    Counters::add(&shared.counters.matches, matches.len() as u64);
                    let matched = Matched {
                        ruleset: Arc::clone(scanner.ruleset()),
                        matches,
                        event: event.clone(),
                        event_id: id.clone(),
                    };
                    if alerts.send(matched).is_err() {
                        return;
                    }
                }
                let grade = grade_of(&event);
                to_index.events.push(IndexEvent {
                    id,
                    event,
                    grade,
                    severity,
                    rule_ids,
                });
            }
            to_index.replace |= record.replay;
            if let Some(done) = record.done {
                to_index.done.push(done);
            }
        }
        merge_hosts(&shared.hosts, seen);
        if (!to_index.events.is_empty() || !to_index.done.is_empty()) && index.send(to_index).is_err() {
            return;
        }
    }
    for normalizer in normalizers.values_mut() {
        normalizer.finish(&mut events);
    }
    let mut to_index = ToIndex {
        events: Vec::new(),
        done: Vec::new(),
        replace: false,
    };
    for event in events.drain(..) {
        let id = shared.ids.next();
        let mut matches = Vec::new();
        scanner.scan(&event, &mut matches);
        let (severity, rule_ids) = summarize(scanner.ruleset(), &matches);
        if !matches.is_empty() {
            let _ = alerts.send(Matched {
                ruleset: Arc::clone(scanner.ruleset()),
                matches,
                event: event.clone(),
                event_id: id.clone(),
            });
        }
        let grade = grade_of(&event);
        to_index.events.push(IndexEvent {
            id,
            event,
            grade,
            severity,
            rule_ids,
        });
    }
    if !to_index.events.is_empty() {
        let _ = index.send(to_index);
    }
}

/// The highest level among the reported rules that matched, and their ids.
fn summarize(ruleset: &RuleSet<Hyperscan>, matches: &[usize]) -> (Option<String>, Vec<String>) {
    const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];
    let mut severity: Option<usize> = None;
    let mut ids = Vec::new();
    for &rule in matches {
        let info = &ruleset.rules()[rule];
        if !info.reported {
            continue;
        }
        ids.push(info.id.clone());
        let level = LEVELS.iter().position(|level| *level == info.level).unwrap_or(0);
        severity = Some(severity.map_or(level, |current| current.max(level)));
    }
    (severity.map(|level| LEVELS[level].to_owned()), ids)
}

fn grade_of(event: &Event) -> Option<u8> {
    event
        .fields
        .get("haidang.grade")
        .and_then(|value| value.as_f64())
        .and_then(|grade| u8::try_from(grade as i64).ok())
}

fn note_host(seen: &mut BTreeMap<String, HostSeen>, event: &Event) {
    let Some(host) = &event.host else { return };
    let entry = seen.entry(host.clone()).or_default();
    entry.last_seen_nanos = now_nanos();
    if let Some(source_type) = &event.source_type
        && !entry.source_types.contains(source_type)
    {
        entry.source_types.insert(source_type.clone());
    }
    entry.agency.clone_from(&event.agency);
    entry.system.clone_from(&event.system);
    entry.grade = grade_of(event);
}

fn merge_hosts(table: &HostTable, seen: BTreeMap<String, HostSeen>) {
    if seen.is_empty() {
        return;
    }
    let Ok(mut table) = table.lock() else { return };
    for (host, fresh) in seen {
        let entry = table.entry(host).or_default();
        entry.last_seen_nanos = entry.last_seen_nanos.max(fresh.last_seen_nanos);
        entry.source_types.extend(fresh.source_types);
        if fresh.agency.is_some() {
            entry.agency = fresh.agency;
            entry.system = fresh.system;
            entry.grade = fresh.grade;
        }
    }
}

/// Marks an agent's event with the agent and where it was read, and names its host when the
/// record did not.
fn stamp(event: &mut Event, origin: &Origin, source: Option<&str>) {
    if event.host.is_none() && !origin.hostname.is_empty() {
        event.host = Some(origin.hostname.clone());
    }
    if !origin.agent_id.is_empty() {
        event.fields.push("agent.id", origin.agent_id.as_str());
    }
    if let Some(path) = source.and_then(|source| source.strip_prefix("file:")) {
        event.fields.push("log.file.path", path);
    }
}

/// The index thread: adds batches, commits about once a second, then lets the WAL entries of the
/// committed events go; drops expired partitions every hour.
pub(crate) fn index_loop(
    index: &Index,
    receiver: &Receiver<ToIndex>,
    retention: &RetentionPolicy,
    counters: &Counters,
) {
    let mut held: Vec<Arc<Done>> = Vec::new();
    let mut pending = 0usize;
    let mut last_commit = Instant::now();
    let mut last_retention = Instant::now() - RETENTION_INTERVAL + Duration::from_secs(60);
    let commit = |held: &mut Vec<Arc<Done>>, pending: &mut usize| {
        if *pending > 0 {
            match index.commit() {
                Ok(()) => Counters::add(&counters.indexed, *pending as u64),
                Err(error) => {
                    // Keep the WAL entries: a restart replays them.
                    eprintln!("haidang: index commit failed: {error}");
                    return;
                }
            }
        }
        *pending = 0;
        held.clear();
    };
    loop {
        match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok(batch) => {
                pending += batch.events.len();
                if !batch.events.is_empty()
                    && let Err(error) = index.add(batch.events, batch.replace)
                {
                    eprintln!("haidang: cannot index a batch: {error}");
                    Counters::add(&counters.index_errors, 1);
                }
                held.extend(batch.done);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_commit.elapsed() >= COMMIT_INTERVAL {
            commit(&mut held, &mut pending);
            last_commit = Instant::now();
        }
        if last_retention.elapsed() >= RETENTION_INTERVAL {
            match index.enforce_retention(retention, now_nanos()) {
                Ok(dropped) if !dropped.is_empty() => {
                    eprintln!("haidang: retention dropped {} index partition(s)", dropped.len());
                }
                Ok(_) => {}
                Err(error) => eprintln!("haidang: retention failed: {error}"),
            }
            last_retention = Instant::now();
        }
    }
    commit(&mut held, &mut pending);
}

/// What the alert thread needs.
pub(crate) struct AlertShared {
    pub(crate) live: Arc<LiveRules<Hyperscan>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) store: Store,
    pub(crate) disabled_rules: Arc<RwLock<std::collections::HashSet<String>>>,
}

/// The alert thread: runs the correlator, records alerts in the store (folding repeats) and
/// appends them to `alerts.jsonl` (a plain sink other tools can tail).
pub(crate) fn alert_loop(
    path: &std::path::Path,
    shared: &AlertShared,
    receiver: &Receiver<Matched>,
) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open alerts log {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let (_, mut ruleset) = shared.live.current();
    let mut correlator = Correlator::new(&ruleset);
    let mut pending: Vec<AlertMatch> = Vec::new();
    let emit = |out: &mut std::io::BufWriter<std::fs::File>,
                pending: &mut Vec<AlertMatch>,
                mut line: serde_json::Map<String, serde_json::Value>,
                rule: &haidang_detector::RuleInfo,
                event: Option<(&Event, &str)>|
     -> anyhow::Result<()> {
        if shared
            .disabled_rules
            .read()
            .is_ok_and(|disabled| disabled.contains(&rule.id))
        {
            return Ok(());
        }
        line.insert("received".into(), crate::parse::format_nanos(now_nanos()).into());
        if let Some((event, _)) = event {
            line.insert("event".into(), event_to_json(event));
        }
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        Counters::add(&shared.counters.alerts, 1);
        let host = event.and_then(|(event, _)| event.host.clone());
        pending.push(AlertMatch {
            rule_id: rule.id.clone(),
            rule_title: rule.title.clone(),
            level: rule.level.clone(),
            tags: rule.tags.clone(),
            kind: match rule.kind {
                haidang_detector::RuleKind::Detection => "detection".into(),
                haidang_detector::RuleKind::Correlation => "correlation".into(),
            },
            group_key: format!("{}|{}", rule.id, host.as_deref().unwrap_or("")),
            host,
            agency: event.and_then(|(event, _)| event.agency.clone()),
            system: event.and_then(|(event, _)| event.system.clone()),
            grade: event.and_then(|(event, _)| grade_of(event)),
            event_id: event.map(|(_, id)| id.to_owned()),
            time_nanos: event
                .and_then(|(event, _)| event.timestamp_nanos)
                .unwrap_or_else(now_nanos),
            window_seconds: 3600,
        });
        Ok(())
    };
    let flush =
        |out: &mut std::io::BufWriter<std::fs::File>, pending: &mut Vec<AlertMatch>| -> anyhow::Result<()> {
            out.flush()?;
            if !pending.is_empty() {
                if let Err(error) = shared.store.record_matches(pending) {
                    eprintln!(
                        "haidang: cannot record {} alert(s) in the store: {error}",
                        pending.len()
                    );
                }
                pending.clear();
            }
            Ok(())
        };
    loop {
        let matched = match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok(matched) => matched,
            Err(RecvTimeoutError::Timeout) => {
                flush(&mut out, &mut pending)?;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if !Arc::ptr_eq(&ruleset, &matched.ruleset) {
            for fired in correlator.flush() {
                let rule = &ruleset.rules()[fired.rule_index];
                emit(
                    &mut out,
                    &mut pending,
                    correlation_json(&ruleset, &fired, None),
                    rule,
                    None,
                )?;
            }
            ruleset = Arc::clone(&matched.ruleset);
            correlator = Correlator::new(&ruleset);
        }
        let event = Some((&matched.event, matched.event_id.as_str()));
        for &rule in &matched.matches {
            let info = &ruleset.rules()[rule];
            if info.reported {
                emit(&mut out, &mut pending, rule_json(info), info, event)?;
            }
        }
        for fired in correlator.process(&matched.event, &matched.matches) {
            let rule = &ruleset.rules()[fired.rule_index];
            emit(
                &mut out,
                &mut pending,
                correlation_json(&ruleset, &fired, None),
                rule,
                event,
            )?;
        }
        if pending.len() >= 512 {
            flush(&mut out, &mut pending)?;
        }
    }
    for fired in correlator.flush() {
        let rule = &ruleset.rules()[fired.rule_index];
        emit(
            &mut out,
            &mut pending,
            correlation_json(&ruleset, &fired, None),
            rule,
            None,
        )?;
    }
    flush(&mut out, &mut pending)?;
    Ok(())
}

pub(crate) fn now_nanos() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64
}
