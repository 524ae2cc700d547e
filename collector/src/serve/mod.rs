//! `haidang serve`: the collector service.
//!
//! ```text
//! syslog UDP ─┐                        ┌─ matching thread (Normalizer, Scanner) ─┐
//! syslog TCP ─┼─► bounded queue ──────►┼─ matching thread                        ├─► alert thread
//! syslog TLS ─┤   (queue_capacity)     └─ ...                                    ┘   (correlator,
//! HTTP JSON  ─┘                                                                      alerts.jsonl)
//! ```
//!
//! Network inputs run on a small tokio runtime; parsing and matching run on plain threads (they
//! are CPU work), each with its own scanner. The queue between them is bounded: when it is full,
//! TCP, TLS and HTTP senders wait (TCP flow control slows the device), and UDP datagrams are dropped
//! and counted. Memory is bounded by the queue capacity times the longest accepted line. Matches
//! go to one alert thread, which also runs the correlator (correlations need one ordered view) and
//! appends alerts to `alerts.jsonl` in the data directory until the alert store exists.

pub mod config;
mod http;
mod syslog;

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use haidang_detector::{Correlator, Hyperscan, RuleSet};
use haidang_event::Event;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

pub use config::{ConfigError, ServeConfig};

use crate::commands::{RuleOptions, correlation_json, rule_json};
use crate::input::event_to_json;
use crate::parse::{Format, Normalizer, ParseContext};
use crate::{Inventory, LiveRules};

/// One record from an input, not yet parsed.
#[derive(Debug)]
pub(crate) struct Ingested {
    /// The line (or JSON document text).
    pub(crate) text: String,
    /// How to parse it.
    pub(crate) format: Format,
}

/// Counters of the running service, shown at `/health`.
#[derive(Debug, Default, Serialize)]
pub struct Counters {
    /// Records received per input.
    pub received_udp: AtomicU64,
    /// Over TCP.
    pub received_tcp: AtomicU64,
    /// Over TLS.
    pub received_tls: AtomicU64,
    /// Over HTTP.
    pub received_http: AtomicU64,
    /// UDP datagrams dropped because the queue was full.
    pub udp_dropped: AtomicU64,
    /// Lines cut at `max_line_bytes`.
    pub lines_truncated: AtomicU64,
    /// Events produced by parsing.
    pub events: AtomicU64,
    /// Lines no parser understood (kept as raw events).
    pub unparsed: AtomicU64,
    /// Events a route took but no rule matched... and those that matched: rule matches.
    pub matches: AtomicU64,
    /// Alerts written (detections and correlations).
    pub alerts: AtomicU64,
    /// Connections or requests refused or failed (TLS handshakes, bad HTTP bodies).
    pub input_errors: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }
}

/// Where each input listens (after binding, so port 0 becomes the real port).
#[derive(Debug, Clone, Default)]
pub struct Addresses {
    /// Syslog over UDP.
    pub syslog_udp: Option<SocketAddr>,
    /// Syslog over TCP.
    pub syslog_tcp: Option<SocketAddr>,
    /// Syslog over TLS.
    pub syslog_tls: Option<SocketAddr>,
    /// HTTP ingest and health.
    pub http: Option<SocketAddr>,
}

/// A running collector.
pub struct Server {
    runtime: tokio::runtime::Runtime,
    addresses: Addresses,
    counters: Arc<Counters>,
    stop_inputs: watch::Sender<bool>,
    stop_watch: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<()>>,
    alert_thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
    watcher: Option<std::thread::JoinHandle<()>>,
    alerts_path: PathBuf,
}

/// What the matching threads hand the alert thread.
struct Matched {
    ruleset: Arc<RuleSet<Hyperscan>>,
    matches: Vec<usize>,
    event: Event,
}

impl Server {
    /// Loads the rules, binds every input and starts the pipeline.
    pub fn start(config: ServeConfig) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
        let inventory = match &config.inventory {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read inventory {}", path.display()))?;
                Some(Inventory::from_yaml(&path.display().to_string(), &text)?)
            }
            None => None,
        };
        let live = Arc::new(LiveRules::<Hyperscan>::load(RuleOptions {
            rules: config.rules.clone(),
            mappings: config.mappings.clone(),
            cache: Some(config.data_dir.join("cache")),
            ..RuleOptions::default()
        })?);
        let stop_watch = Arc::new(AtomicBool::new(false));
        let watcher = config
            .watch_rules
            .then(|| crate::watch(Arc::clone(&live), Duration::from_secs(2), Arc::clone(&stop_watch)));

        let counters = Arc::new(Counters::default());
        let (sender, receiver) = mpsc::channel::<Ingested>(config.queue_capacity.get());
        let receiver = Arc::new(Mutex::new(receiver));
        let (alert_sender, alert_receiver) = std::sync::mpsc::sync_channel::<Matched>(4096);

        let alerts_path = config.data_dir.join("alerts.jsonl");
        let alert_thread = {
            let path = alerts_path.clone();
            let counters = Arc::clone(&counters);
            let live = Arc::clone(&live);
            std::thread::Builder::new()
                .name("alerts".into())
                .spawn(move || alert_loop(&path, &live, alert_receiver, &counters))?
        };

        let context = ParseContext {
            default_offset: config.default_offset,
            ..ParseContext::default()
        };
        let inventory = Arc::new(inventory);
        let mut workers = Vec::new();
        for index in 0..config.threads.get() {
            let receiver = Arc::clone(&receiver);
            let live = Arc::clone(&live);
            let counters = Arc::clone(&counters);
            let alerts = alert_sender.clone();
            let context = context.clone();
            let inventory = Arc::clone(&inventory);
            workers.push(
                std::thread::Builder::new()
                    .name(format!("match-{index}"))
                    .spawn(move || {
                        match_loop(
                            &receiver,
                            &live,
                            &counters,
                            &alerts,
                            &context,
                            inventory.as_ref().as_ref(),
                        )
                    })?,
            );
        }
        drop(alert_sender);

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ingest")
            .enable_all()
            .build()?;
        let (stop_inputs, stop) = watch::channel(false);
        let addresses = runtime.block_on(async {
            let limits = syslog::Limits {
                max_line_bytes: config.max_line_bytes.get(),
            };
            let mut addresses = Addresses::default();
            if let Some(listener) = &config.syslog_udp {
                addresses.syslog_udp = Some(
                    syslog::udp(
                        listener,
                        sender.clone(),
                        Arc::clone(&counters),
                        stop.clone(),
                        limits,
                    )
                    .await?,
                );
            }
            if let Some(listener) = &config.syslog_tcp {
                addresses.syslog_tcp = Some(
                    syslog::tcp(
                        listener,
                        None,
                        sender.clone(),
                        Arc::clone(&counters),
                        stop.clone(),
                        limits,
                    )
                    .await?,
                );
            }
            if let Some(listener) = &config.syslog_tls {
                let acceptor = syslog::tls_acceptor(listener)?;
                addresses.syslog_tls = Some(
                    syslog::tcp(
                        listener,
                        Some(acceptor),
                        sender.clone(),
                        Arc::clone(&counters),
                        stop.clone(),
                        limits,
                    )
                    .await?,
                );
            }
            if let Some(listener) = &config.http {
                addresses.http =
                    Some(http::serve(listener, sender.clone(), Arc::clone(&counters), stop.clone()).await?);
            }
            anyhow::Ok(addresses)
        })?;
        drop(sender);
        Ok(Server {
            runtime,
            addresses,
            counters,
            stop_inputs,
            stop_watch,
            workers,
            alert_thread: Some(alert_thread),
            watcher,
            alerts_path,
        })
    }

    /// Where the inputs listen.
    pub fn addresses(&self) -> &Addresses {
        &self.addresses
    }

    /// The live counters.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The alerts log.
    pub fn alerts_path(&self) -> &std::path::Path {
        &self.alerts_path
    }

    /// Stops the inputs, lets the queue drain through matching, and writes the last alerts.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        let _ = self.stop_inputs.send(true);
        self.runtime.shutdown_timeout(Duration::from_secs(5));
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        self.stop_watch.store(true, Ordering::Release);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        match self.alert_thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => anyhow::bail!("the alert thread panicked"),
            None => Ok(()),
        }
    }
}

/// A matching thread: takes batches off the queue, parses, enriches and matches them.
fn match_loop(
    receiver: &Mutex<mpsc::Receiver<Ingested>>,
    live: &LiveRules<Hyperscan>,
    counters: &Counters,
    alerts: &std::sync::mpsc::SyncSender<Matched>,
    context: &ParseContext,
    inventory: Option<&Inventory>,
) {
    let Ok((mut generation, ruleset)) = Ok::<_, ()>(live.current()) else {
        return;
    };
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
        if live.generation() != generation {
            let (fresh_generation, ruleset) = live.current();
            if let Ok(fresh) = ruleset.scanner() {
                scanner = fresh;
                generation = fresh_generation;
            }
        }
        for record in batch.drain(..) {
            let normalizer = normalizers.entry(record.format).or_insert_with(|| {
                Normalizer::new(
                    record.format,
                    ParseContext {
                        received_nanos: now_nanos(),
                        ..context.clone()
                    },
                )
            });
            let unparsed_before = normalizer.unparsed;
            normalizer.push(&record.text, &mut events);
            Counters::add(&counters.unparsed, normalizer.unparsed - unparsed_before);
            for mut event in events.drain(..) {
                Counters::add(&counters.events, 1);
                if let Some(inventory) = inventory {
                    inventory.enrich(&mut event);
                }
                let mut matches = Vec::new();
                scanner.scan(&event, &mut matches);
                if !matches.is_empty() {
                    Counters::add(&counters.matches, matches.len() as u64);
                    let matched = Matched {
                        ruleset: Arc::clone(scanner.ruleset()),
                        matches,
                        event,
                    };
                    if alerts.send(matched).is_err() {
                        return;
                    }
                }
            }
        }
    }
    for normalizer in normalizers.values_mut() {
        normalizer.finish(&mut events);
    }
    for event in events.drain(..) {
        let mut matches = Vec::new();
        scanner.scan(&event, &mut matches);
        if !matches.is_empty() {
            let _ = alerts.send(Matched {
                ruleset: Arc::clone(scanner.ruleset()),
                matches,
                event,
            });
        }
    }
}

fn now_nanos() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64
}

/// The alert thread: writes alerts for reported rules and runs the correlator.
fn alert_loop(
    path: &std::path::Path,
    live: &LiveRules<Hyperscan>,
    receiver: std::sync::mpsc::Receiver<Matched>,
    counters: &Counters,
) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open alerts log {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let (_, mut ruleset) = live.current();
    let mut correlator = Correlator::new(&ruleset);
    let write = |out: &mut std::io::BufWriter<std::fs::File>,
                 mut line: serde_json::Map<String, serde_json::Value>,
                 event: Option<&Event>|
     -> anyhow::Result<()> {
        line.insert("received".into(), crate::parse::format_nanos(now_nanos()).into());
        if let Some(event) = event {
            line.insert("event".into(), event_to_json(event));
        }
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        Counters::add(&counters.alerts, 1);
        Ok(())
    };
    loop {
        let matched = match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok(matched) => matched,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                out.flush()?;
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        if !Arc::ptr_eq(&ruleset, &matched.ruleset) {
            for fired in correlator.flush() {
                write(&mut out, correlation_json(&ruleset, &fired, None), None)?;
            }
            ruleset = Arc::clone(&matched.ruleset);
            correlator = Correlator::new(&ruleset);
        }
        for &rule in &matched.matches {
            let info = &ruleset.rules()[rule];
            if info.reported {
                write(&mut out, rule_json(info), Some(&matched.event))?;
            }
        }
        for fired in correlator.process(&matched.event, &matched.matches) {
            write(
                &mut out,
                correlation_json(&ruleset, &fired, None),
                Some(&matched.event),
            )?;
        }
    }
    for fired in correlator.flush() {
        write(&mut out, correlation_json(&ruleset, &fired, None), None)?;
    }
    out.flush()?;
    Ok(())
}
