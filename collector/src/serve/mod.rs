//! `haidang serve`: the collector service.
//!
//! ```text
//! agents (mTLS) ─► WAL ─┐
//! syslog UDP ───────────┤                   ┌─ matching thread ─┐   ┌─► index thread (tantivy)
//! syslog TCP/TLS ───────┼─► bounded queue ─►┼─ matching thread  ├───┤
//! HTTP JSON, lines ─────┘  (queue_capacity) └─ ...              ┘   └─► alert thread (correlator,
//!                                                                        store, alerts.jsonl)
//! UI listener (TLS): the analysts' API and web UI over the index and the store
//! ```
//!
//! Network inputs run on a small tokio runtime; parsing and matching run on plain threads (they
//! are CPU work), each with its own scanner. The queue between them is bounded: when it is full,
//! TCP, TLS, HTTP and agent senders wait (TCP flow control slows the device; agents stop getting
//! acknowledgements), and UDP datagrams are dropped and counted. Memory is bounded by the queue
//! capacity times the longest accepted line. See `pipeline.rs` for the stages after the queue.

mod agents;
mod api;
pub mod config;
mod hosts;
mod http;
mod metrics;
mod pipeline;
mod syslog;
mod ui;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use haidang_detector::Hyperscan;
use haidang_event::Event;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

pub use config::{ConfigError, ServeConfig};
pub use ui::UiListener;

use crate::commands::RuleOptions;
use crate::index::{Index, IndexConfig, RetentionPolicy};
use crate::parse::{Format, ParseContext};
use crate::store::Store;
use crate::{Inventory, LiveRules};

/// The retention catalogue built into the binary.
const RETENTION: &str = include_str!("../../../rules/compliance/retention.yml");

/// One record from an input, not yet parsed.
#[derive(Debug)]
pub(crate) struct Ingested {
    /// The line (or JSON document text).
    pub(crate) text: String,
    /// How to parse it.
    pub(crate) format: Format,
    /// The agent that sent it, for records from agents.
    pub(crate) origin: Option<Arc<Origin>>,
    /// Where the agent read it (`file:/var/log/auth.log`, `journald`...).
    pub(crate) source: Option<String>,
    /// An event the agent built itself (packet metadata): no parsing needed.
    pub(crate) event: Option<Box<Event>>,
    /// Marks the WAL entry done once every event of it is committed to the index.
    pub(crate) done: Option<Arc<agents::Done>>,
    /// A stable id (`agent:sequence`) for records from the WAL, so a replay replaces, never
    /// duplicates.
    pub(crate) id: Option<String>,
    /// Replayed from the WAL after a restart.
    pub(crate) replay: bool,
}

impl Ingested {
    /// A line from a syslog or HTTP input.
    pub(crate) fn line(text: String, format: Format) -> Ingested {
        Ingested {
            text,
            format,
            origin: None,
            source: None,
            event: None,
            done: None,
            id: None,
            replay: false,
        }
    }
}

/// Which agent (or import) a record came from.
#[derive(Debug)]
pub(crate) struct Origin {
    /// The agent's id (empty for imported lines).
    pub(crate) agent_id: String,
    /// Its host name, for events that do not name their host.
    pub(crate) hostname: String,
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
    /// From agents (durable in the WAL).
    pub received_agents: AtomicU64,
    /// Agent records dropped because the WAL already held them (resent after a lost ack).
    pub agent_duplicates: AtomicU64,
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
    /// Events committed to the index.
    pub indexed: AtomicU64,
    /// Batches the index refused.
    pub index_errors: AtomicU64,
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
    /// The agent protocol.
    pub agents: Option<SocketAddr>,
    /// The analysts' UI and API.
    pub ui: Option<SocketAddr>,
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
    index_thread: Option<std::thread::JoinHandle<()>>,
    index: Index,
    store: Store,
    watcher: Option<std::thread::JoinHandle<()>>,
    /// Saves the hosts table; stops with `stop_watch`.
    hosts_saver: Option<std::thread::JoinHandle<()>>,
    alerts_path: PathBuf,
    wal: Option<(std::thread::JoinHandle<()>, Arc<agents::Tracker>, PathBuf)>,
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
        let (alert_sender, alert_receiver) = std::sync::mpsc::sync_channel::<pipeline::Matched>(4096);
        let (index_sender, index_receiver) = std::sync::mpsc::sync_channel::<pipeline::ToIndex>(64);

        let store_path = config.data_dir.join("haidang.db");
        let store = Store::open(&store_path)
            .with_context(|| format!("cannot open the store {}", store_path.display()))?;
        let disabled_rules = Arc::new(RwLock::new(store.disabled_rules()?));
        let retention = match &config.retention {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the retention catalogue {}", path.display()))?;
                RetentionPolicy::from_yaml(&path.display().to_string(), &text)?
            }
            None => RetentionPolicy::from_yaml("rules/compliance/retention.yml (built in)", RETENTION)?,
        };
        let index = Index::open(IndexConfig {
            directory: config.data_dir.join("index"),
            writer_memory_bytes: config.index_memory_bytes,
            default_retention_days: retention.default_days,
        })
        .with_context(|| {
            format!(
                "cannot open the index in {}",
                config.data_dir.join("index").display()
            )
        })?;
        let index_thread = {
            let index = index.clone();
            let counters = Arc::clone(&counters);
            std::thread::Builder::new()
                .name("index".into())
                .spawn(move || pipeline::index_loop(&index, &index_receiver, &retention, &counters))?
        };

        let alerts_path = config.data_dir.join("alerts.jsonl");
        let alert_thread = {
            let path = alerts_path.clone();
            let shared = pipeline::AlertShared {
                live: Arc::clone(&live),
                counters: Arc::clone(&counters),
                store: store.clone(),
                disabled_rules: Arc::clone(&disabled_rules),
            };
            std::thread::Builder::new()
                .name("alerts".into())
                .spawn(move || pipeline::alert_loop(&path, &shared, &alert_receiver))?
        };

        let inventory = Arc::new(inventory);
        let saved_hosts = store
            .hosts()
            .with_context(|| format!("cannot read the hosts table of {}", store.path().display()))?;
        let hosts: api::HostTable = Arc::new(std::sync::Mutex::new(saved_hosts.clone()));
        let shared = Arc::new(pipeline::MatchShared {
            live: Arc::clone(&live),
            counters: Arc::clone(&counters),
            inventory: Arc::clone(&inventory),
            hosts: Arc::clone(&hosts),
            ids: Arc::new(pipeline::EventIds::new()),
            context: ParseContext {
                default_offset: config.default_offset,
                ..ParseContext::default()
            },
        });
        let mut workers = Vec::new();
        for thread in 0..config.threads.get() {
            let receiver = Arc::clone(&receiver);
            let shared = Arc::clone(&shared);
            let alerts = alert_sender.clone();
            let index = index_sender.clone();
            workers.push(
                std::thread::Builder::new()
                    .name(format!("match-{thread}"))
                    .spawn(move || pipeline::match_loop(&receiver, &shared, &alerts, &index))?,
            );
        }
        drop(alert_sender);
        drop(index_sender);

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
            let table = agents::AgentTable::default();
            // The WAL takes agent batches and HTTP requests; both are answered once durable.
            let wal_input = agents::open_wal(
                &config.data_dir,
                sender.clone(),
                Arc::clone(&counters),
                Arc::clone(&table),
            )?;
            if let Some(listener) = &config.agents {
                addresses.agents = Some(
                    agents::serve(
                        listener,
                        &config.data_dir,
                        wal_input.requests.clone(),
                        Arc::clone(&counters),
                        Arc::clone(&table),
                        stop.clone(),
                    )
                    .await?,
                );
            }
            if let Some(listener) = &config.http {
                addresses.http = Some(
                    http::serve(
                        listener,
                        wal_input.requests.clone(),
                        Arc::clone(&counters),
                        Arc::clone(&table),
                        stop.clone(),
                    )
                    .await?,
                );
            }
            // Only the inputs hold the WAL's request channel now: when they stop, it ends.
            let wal = Some((wal_input.thread, wal_input.tracker, config.data_dir.join("wal")));
            if let Some(listener) = &config.ui {
                let pki = match listener.certificate {
                    None if listener.tls => {
                        let names = config
                            .agents
                            .as_ref()
                            .map(|agents| agents.server_names.clone())
                            .unwrap_or_else(|| vec!["localhost".into(), "127.0.0.1".into()]);
                        Some(crate::agents::Pki::load_or_create(
                            &config.data_dir.join("pki"),
                            &names,
                        )?)
                    }
                    _ => None,
                };
                let state = api::ApiState {
                    index: index.clone(),
                    store: store.clone(),
                    live: Arc::clone(&live),
                    agents: Arc::clone(&table),
                    hosts: Arc::clone(&hosts),
                    inventory: Arc::clone(&inventory),
                    disabled_rules: Arc::clone(&disabled_rules),
                    secure_cookie: listener.tls,
                };
                addresses.ui = Some(ui::serve(listener, pki.as_ref(), state, stop.clone()).await?);
            }
            anyhow::Ok((addresses, wal))
        })?;
        let (addresses, wal) = addresses;
        drop(sender);
        let hosts_saver = hosts::spawn_saver(
            Arc::clone(&hosts),
            store.clone(),
            saved_hosts,
            Arc::clone(&stop_watch),
        )?;
        Ok(Server {
            runtime,
            addresses,
            counters,
            stop_inputs,
            stop_watch,
            workers,
            alert_thread: Some(alert_thread),
            index_thread: Some(index_thread),
            index,
            store,
            watcher,
            hosts_saver: Some(hosts_saver),
            alerts_path,
            wal,
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

    /// The event index (for tests and tools in the same process).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The store (alerts, users, audit).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops the inputs, lets the queue drain through matching, and writes the last alerts.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        let _ = self.stop_inputs.send(true);
        self.runtime.shutdown_timeout(Duration::from_secs(5));
        let wal = self.wal.take();
        if let Some((thread, _, _)) = &wal {
            // Its sessions are gone with the runtime: it ends once its queue is empty.
            while !thread.is_finished() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        // The index thread commits what it holds and releases the WAL entries; then the cursor.
        if let Some(thread) = self.index_thread.take() {
            let _ = thread.join();
        }
        if let Some((thread, tracker, directory)) = wal {
            let _ = thread.join();
            if let Some(cursor) = tracker.cursor() {
                crate::wal::write_cursor(&directory, cursor)
                    .with_context(|| format!("cannot write the WAL cursor in {}", directory.display()))?;
            }
        }
        // The watcher stops, and the hosts saver writes the table a last time (the matching
        // threads that change it are done).
        self.stop_watch.store(true, Ordering::Release);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        if let Some(saver) = self.hosts_saver.take() {
            let _ = saver.join();
        }
        match self.alert_thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => anyhow::bail!("the alert thread panicked"),
            None => Ok(()),
        }
    }
}
