//! The agent input: the collector side of `docs/protocol.md`.
//!
//! ```text
//! agent session (tokio task) ──batch──► WAL thread ──append + sync──► ack to the agent
//!                                          └──────► records into the pipeline queue
//! ```
//!
//! Sessions run on the ingest runtime. Every batch goes to one WAL thread, which gathers what
//! all sessions sent meanwhile, drops records it already holds (by agent id and sequence
//! number), appends the rest and syncs once (group commit), and only then answers each session,
//! which acknowledges to its agent. The WAL thread then feeds the records to the pipeline queue:
//! when that queue is full it waits, the acknowledgements stop, and agents slow down and keep
//! their spools.
//!
//! A session with a client certificate must be an enrolled, unrevoked agent (checked against the
//! registry at the start and before each batch); a session without one may only enroll.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use haidang_event::Event;
use haidang_event::wire::{
    self, Batch, Body, Enrolled, HeartbeatReply, HostFacts, Message, PROTOCOL_VERSION, Refused, Welcome,
};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use super::config::Listener;
use super::{Counters, Ingested, Origin};
use crate::agents::{Pki, Registry, RegistryFile, Verdict};
use crate::parse::Format;
use crate::wal::{self, Entry, Position, Wal};

/// How long a client has to finish the TLS handshake and say hello.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// A session with no message for this long is closed (agents send heartbeats every 30 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// What the collector knows of each agent's latest session, shown at `/health`.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct AgentStatus {
    /// What it said about its host.
    pub(crate) facts: HostFacts,
    /// Whether a session is open now.
    pub(crate) connected: bool,
    /// When it last sent anything (UTC, RFC 3339).
    pub(crate) last_seen: String,
    /// Its clock minus ours, as it measured it (nanoseconds).
    pub(crate) clock_offset_nanos: Option<i64>,
    /// Its highest durable sequence number.
    pub(crate) last_sequence: u64,
    /// Records received in this collector's lifetime.
    pub(crate) records: u64,
}

/// The agents' status, by id.
pub(crate) type AgentTable = Arc<Mutex<HashMap<String, AgentStatus>>>;

/// The registry as last read, reread when the file changes.
struct RegistryCache {
    file: RegistryFile,
    state: Mutex<(Option<SystemTime>, Registry)>,
}

impl RegistryCache {
    fn verdict(&self, certificate: &[u8]) -> Verdict {
        let modified = self.file.modified();
        let Ok(mut state) = self.state.lock() else {
            return Verdict::Unknown;
        };
        if state.0 != modified || modified.is_none() {
            // A registry that cannot be read refuses everyone rather than admitting anyone.
            state.1 = self.file.read().unwrap_or_default();
            state.0 = modified;
        }
        state.1.verdict(certificate)
    }
}

/// Tracks which WAL entries the pipeline has finished, so the `consumed` cursor only moves past
/// entries wholly processed.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    state: Mutex<TrackerState>,
}

#[derive(Debug, Default)]
struct TrackerState {
    in_flight: BTreeSet<Position>,
    end: Position,
}

impl Tracker {
    fn start(self: &Arc<Self>, position: Position) -> Arc<Done> {
        if let Ok(mut state) = self.state.lock() {
            state.in_flight.insert(position);
        }
        Arc::new(Done {
            tracker: Arc::clone(self),
            position,
        })
    }

    fn set_end(&self, end: Position) {
        if let Ok(mut state) = self.state.lock() {
            state.end = end;
        }
    }

    /// Everything before this position has been processed.
    pub(crate) fn cursor(&self) -> Option<Position> {
        let state = self.state.lock().ok()?;
        Some(state.in_flight.first().copied().unwrap_or(state.end))
    }
}

/// Held by every record of one WAL entry on its way through the pipeline; when the last one is
/// dropped, the entry is done.
#[derive(Debug)]
pub(crate) struct Done {
    tracker: Arc<Tracker>,
    position: Position,
}

impl Drop for Done {
    fn drop(&mut self) {
        if let Ok(mut state) = self.tracker.state.lock() {
            state.in_flight.remove(&self.position);
        }
    }
}

/// A batch on its way to the WAL thread.
pub(crate) struct Request {
    agent_id: String,
    origin: Arc<Origin>,
    batch: Batch,
    /// Number the batch after the producer's last sequence (local inputs), instead of
    /// deduplicating by the numbers it carries (agents).
    assign: bool,
    reply: oneshot::Sender<Result<u64, String>>,
}

/// The write-ahead log, open, with its thread running.
pub(crate) struct WalInput {
    /// Where batches are submitted (the agent listener and the HTTP input hold clones).
    pub(crate) requests: std::sync::mpsc::SyncSender<Request>,
    /// The WAL thread (ends when every holder of `requests` has dropped it).
    pub(crate) thread: std::thread::JoinHandle<()>,
    /// Where the pipeline is in the WAL.
    pub(crate) tracker: Arc<Tracker>,
}

/// The agent id the HTTP input's batches are written under (never an enrolled agent's id, which
/// is `<hostname>-<hex>`).
pub(crate) const HTTP_PRODUCER: &str = "http";

/// Opens the WAL, starts its thread, and replays what the pipeline had not finished.
pub(crate) fn open_wal(
    data_dir: &std::path::Path,
    sender: mpsc::Sender<Ingested>,
    counters: Arc<Counters>,
    table: AgentTable,
) -> anyhow::Result<WalInput> {
    let wal_directory = data_dir.join("wal");
    let wal = Wal::open(&wal_directory)
        .with_context(|| format!("cannot open the WAL in {}", wal_directory.display()))?;
    let cursor = wal::read_cursor(&wal_directory)?;
    let replay = wal::read_from(&wal_directory, cursor)?;
    let tracker = Arc::new(Tracker::default());
    tracker.set_end(wal.end());
    let (requests, receiver) = std::sync::mpsc::sync_channel::<Request>(1024);
    let thread = {
        let tracker = Arc::clone(&tracker);
        std::thread::Builder::new().name("wal".into()).spawn(move || {
            wal_loop(
                wal,
                &wal_directory,
                replay,
                receiver,
                &sender,
                &tracker,
                &counters,
                &table,
            )
        })?
    };
    Ok(WalInput {
        requests,
        thread,
        tracker,
    })
}

/// Writes records from a local input (HTTP) to the WAL under [`HTTP_PRODUCER`], numbered by the
/// WAL thread, and waits until they are durable.
pub(crate) async fn submit_local(
    requests: &std::sync::mpsc::SyncSender<Request>,
    records: &[wire::Record],
) -> anyhow::Result<()> {
    let batch = Batch::compress(0, records)?;
    let (reply, answer) = oneshot::channel();
    let request = Request {
        agent_id: HTTP_PRODUCER.to_owned(),
        origin: Arc::new(Origin {
            agent_id: String::new(),
            hostname: String::new(),
        }),
        batch,
        assign: true,
        reply,
    };
    let requests = requests.clone();
    tokio::task::spawn_blocking(move || requests.send(request))
        .await?
        .map_err(|_| anyhow::anyhow!("the collector is shutting down"))?;
    answer
        .await
        .map_err(|_| anyhow::anyhow!("the collector is shutting down"))?
        .map_err(|error| anyhow::anyhow!(error))?;
    Ok(())
}

/// Binds the agent listener and starts accepting agents; their batches go to the WAL.
pub(crate) async fn serve(
    listener: &Listener,
    data_dir: &std::path::Path,
    requests: std::sync::mpsc::SyncSender<Request>,
    counters: Arc<Counters>,
    table: AgentTable,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let pki = Pki::load_or_create(&data_dir.join("pki"), &listener.server_names)?;
    let registry = Arc::new(RegistryCache {
        file: RegistryFile::new(data_dir),
        state: Mutex::new((None, Registry::default())),
    });
    let acceptor = acceptor(&pki)?;
    let socket = TcpListener::bind(listener.address)
        .await
        .with_context(|| format!("cannot listen for agents on {}", listener.address))?;
    let address = socket.local_addr()?;
    let shared = Arc::new(Shared {
        pki,
        registry,
        requests,
        counters,
        table,
    });
    let mut stop_accepting = stop.clone();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop_accepting.changed() => break,
                accepted = socket.accept() => accepted,
            };
            let Ok((stream, peer)) = accepted else { continue };
            let acceptor = acceptor.clone();
            let shared = Arc::clone(&shared);
            let stop = stop.clone();
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let result = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => session(tls, &shared, stop).await,
                    Ok(Err(error)) => Err(anyhow::anyhow!("TLS handshake: {error}")),
                    Err(_) => Err(anyhow::anyhow!("TLS handshake timed out")),
                };
                if let Err(error) = result {
                    Counters::add(&shared.counters.input_errors, 1);
                    eprintln!("haidang: agent session from {peer}: {error:#}");
                }
            });
        }
    });
    Ok(address)
}

struct Shared {
    pki: Pki,
    registry: Arc<RegistryCache>,
    requests: std::sync::mpsc::SyncSender<Request>,
    counters: Arc<Counters>,
    table: AgentTable,
}

fn acceptor(pki: &Pki) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(&pki.ca_certificate)? {
        roots.add(certificate?)?;
    }
    // Clients without a certificate are let in only to enroll (checked in `session`).
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .allow_unauthenticated()
            .build()?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(&pki.server_certificate)?.collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&pki.server_key)?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut tls: tokio_rustls::server::TlsStream<S>,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let certificate = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|certificate| certificate.as_ref().to_vec());
    let first = tokio::time::timeout(HANDSHAKE_TIMEOUT, read_message(&mut tls))
        .await
        .context("no hello")??;
    let Some(certificate) = certificate else {
        return match first {
            Message::Enroll(request) => enroll(&mut tls, shared, request).await,
            _ => refuse(&mut tls, "a client certificate is required (enroll first)").await,
        };
    };
    let agent_id = match shared.registry.verdict(&certificate) {
        Verdict::Accepted(agent_id) => agent_id,
        Verdict::Revoked(agent_id) => return refuse(&mut tls, &format!("agent {agent_id} is revoked")).await,
        Verdict::Unknown => return refuse(&mut tls, "unknown agent").await,
    };
    let Message::Hello(hello) = first else {
        return refuse(&mut tls, "expected hello").await;
    };
    if hello.protocol != PROTOCOL_VERSION {
        let reason = format!(
            "protocol version {} not supported, this collector speaks {PROTOCOL_VERSION}",
            hello.protocol
        );
        return refuse(&mut tls, &reason).await;
    }
    let origin = Arc::new(Origin {
        agent_id: agent_id.clone(),
        hostname: hello.facts.hostname.clone(),
    });
    // The last durable sequence: ask the WAL thread with an empty batch (it answers in order).
    let last_sequence = submit(shared, &agent_id, &origin, None).await?;
    update_status(shared, &agent_id, |status| {
        status.facts = hello.facts.clone();
        status.connected = true;
        status.last_sequence = last_sequence;
    });
    write_message(
        &mut tls,
        &Message::Welcome(Welcome {
            protocol: PROTOCOL_VERSION,
            agent_id: agent_id.clone(),
            last_sequence,
        }),
    )
    .await?;
    let result = async {
        loop {
            let message = tokio::select! {
                _ = stop.changed() => return Ok(()),
                message = tokio::time::timeout(IDLE_TIMEOUT, read_message(&mut tls)) => message,
            };
            let message = match message {
                Ok(Ok(message)) => message,
                Ok(Err(error)) if is_disconnect(&error) => return Ok(()),
                Ok(Err(error)) => return Err(error),
                Err(_) => anyhow::bail!("no message for {} s", IDLE_TIMEOUT.as_secs()),
            };
            match message {
                Message::Batch(batch) => {
                    if let Verdict::Revoked(_) | Verdict::Unknown = shared.registry.verdict(&certificate) {
                        return refuse(&mut tls, &format!("agent {agent_id} is revoked")).await;
                    }
                    let records = u64::from(batch.count);
                    let durable = submit(shared, &agent_id, &origin, Some(batch)).await?;
                    update_status(shared, &agent_id, |status| {
                        status.last_sequence = durable;
                        status.records += records;
                    });
                    write_message(&mut tls, &Message::Ack(durable)).await?;
                }
                Message::Heartbeat(heartbeat) => {
                    let received_nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64;
                    update_status(shared, &agent_id, |status| {
                        status.facts = heartbeat.facts.clone();
                        status.clock_offset_nanos = heartbeat.clock_offset_nanos;
                    });
                    write_message(
                        &mut tls,
                        &Message::HeartbeatReply(HeartbeatReply {
                            sent_nanos: heartbeat.sent_nanos,
                            received_nanos,
                        }),
                    )
                    .await?;
                }
                other => anyhow::bail!("unexpected {:?} from agent {agent_id}", other.kind()),
            }
        }
    }
    .await;
    update_status(shared, &agent_id, |status| status.connected = false);
    result
}

fn is_disconnect(error: &anyhow::Error) -> bool {
    error.downcast_ref::<std::io::Error>().is_some_and(|error| {
        matches!(
            error.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
        )
    })
}

fn update_status(shared: &Shared, agent_id: &str, change: impl FnOnce(&mut AgentStatus)) {
    if let Ok(mut table) = shared.table.lock() {
        let status = table.entry(agent_id.to_owned()).or_default();
        status.last_seen =
            crate::parse::format_nanos(time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64);
        change(status);
    }
}

/// Hands a batch (or, with `None`, just a question) to the WAL thread and waits until it is
/// durable; returns the agent's last durable sequence number.
async fn submit(
    shared: &Shared,
    agent_id: &str,
    origin: &Arc<Origin>,
    batch: Option<Batch>,
) -> anyhow::Result<u64> {
    let (reply, answer) = oneshot::channel();
    let request = Request {
        agent_id: agent_id.to_owned(),
        origin: Arc::clone(origin),
        batch: batch.unwrap_or(Batch {
            first_sequence: 0,
            count: 0,
            raw_len: 0,
            compressed: Vec::new(),
        }),
        assign: false,
        reply,
    };
    let requests = shared.requests.clone();
    // The channel is bounded: a full one blocks, so send from a blocking thread.
    tokio::task::spawn_blocking(move || requests.send(request))
        .await?
        .map_err(|_| anyhow::anyhow!("the collector is shutting down"))?;
    answer
        .await
        .map_err(|_| anyhow::anyhow!("the collector is shutting down"))?
        .map_err(|error| anyhow::anyhow!(error))
}

async fn enroll<S: AsyncRead + AsyncWrite + Unpin>(
    tls: &mut S,
    shared: &Shared,
    request: wire::Enroll,
) -> anyhow::Result<()> {
    let pki = shared.pki.clone();
    let file = shared.registry.file.clone();
    let outcome = tokio::task::spawn_blocking(move || -> anyhow::Result<Enrolled> {
        let (agent_id, certificate_pem) =
            file.enroll(&pki, &request.token, &request.facts.hostname, &request.csr_pem)?;
        Ok(Enrolled {
            agent_id,
            certificate_pem,
            ca_pem: pki.ca_pem()?,
        })
    })
    .await?;
    match outcome {
        Ok(enrolled) => {
            eprintln!("haidang: enrolled agent {}", enrolled.agent_id);
            write_message(tls, &Message::Enrolled(enrolled)).await?;
            tls.shutdown().await?;
            Ok(())
        }
        Err(error) => refuse(tls, &format!("{error:#}")).await,
    }
}

async fn refuse<S: AsyncWrite + Unpin>(tls: &mut S, reason: &str) -> anyhow::Result<()> {
    write_message(
        tls,
        &Message::Refused(Refused {
            reason: reason.to_owned(),
        }),
    )
    .await?;
    let _ = tls.shutdown().await;
    anyhow::bail!("refused: {reason}")
}

async fn read_message<S: AsyncRead + Unpin>(stream: &mut S) -> anyhow::Result<Message> {
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await?;
    let length = wire::frame_length(prefix)?;
    let mut content = vec![0u8; length];
    stream.read_exact(&mut content).await?;
    Ok(Message::decode(&content)?)
}

async fn write_message<S: AsyncWrite + Unpin>(stream: &mut S, message: &Message) -> anyhow::Result<()> {
    stream.write_all(&message.encode()?).await?;
    stream.flush().await?;
    Ok(())
}

/// The WAL thread: replays what the pipeline had not finished, then group-commits batches.
#[allow(clippy::too_many_arguments)]
fn wal_loop(
    mut wal: Wal,
    directory: &std::path::Path,
    replay: Vec<(Position, Entry)>,
    receiver: std::sync::mpsc::Receiver<Request>,
    sender: &mpsc::Sender<Ingested>,
    tracker: &Arc<Tracker>,
    counters: &Counters,
    table: &AgentTable,
) {
    let mut origins: HashMap<String, Arc<Origin>> = HashMap::new();
    for (position, entry) in replay {
        let origin = Arc::clone(origins.entry(entry.agent_id.clone()).or_insert_with(|| {
            let hostname = table
                .lock()
                .ok()
                .and_then(|table| {
                    table
                        .get(&entry.agent_id)
                        .map(|status| status.facts.hostname.clone())
                })
                .unwrap_or_default();
            Arc::new(Origin {
                agent_id: entry.agent_id.clone(),
                hostname,
            })
        }));
        forward(
            &entry.agent_id,
            &entry.batch,
            &origin,
            tracker.start(position),
            true,
            sender,
            counters,
        );
    }
    let mut last_cursor = wal::read_cursor(directory).ok();
    loop {
        let first = match receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(request) => request,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                save_cursor(directory, tracker, &mut last_cursor);
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut group = vec![first];
        while group.len() < 256 {
            match receiver.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        // Drop what is already durable, trim partial overlaps, decode the rest.
        let mut pending: HashMap<String, u64> = HashMap::new();
        let mut entries = Vec::new();
        let mut kept = Vec::with_capacity(group.len());
        for mut request in group {
            let last = *pending
                .entry(request.agent_id.clone())
                .or_insert_with(|| wal.last_sequence(&request.agent_id));
            if request.assign {
                request.batch.first_sequence = last + 1;
            }
            let batch = &request.batch;
            if batch.count == 0 || batch.last_sequence() <= last {
                if batch.count > 0 {
                    Counters::add(&counters.agent_duplicates, u64::from(batch.count));
                }
                kept.push((request, None));
                continue;
            }
            let batch = if batch.first_sequence <= last {
                match trim(batch, last) {
                    Ok(trimmed) => {
                        Counters::add(
                            &counters.agent_duplicates,
                            trimmed.first_sequence - batch.first_sequence,
                        );
                        trimmed
                    }
                    Err(error) => {
                        let _ = request
                            .reply
                            .send(Err(format!("batch {}: {error}", batch.first_sequence)));
                        continue;
                    }
                }
            } else {
                batch.clone()
            };
            // A batch that does not decode is refused, not written: the agent will see the error.
            if let Err(error) = batch.records() {
                Counters::add(&counters.input_errors, 1);
                let _ = request
                    .reply
                    .send(Err(format!("batch {}: {error}", batch.first_sequence)));
                continue;
            }
            pending.insert(request.agent_id.clone(), batch.last_sequence());
            entries.push(Entry {
                agent_id: request.agent_id.clone(),
                batch,
            });
            kept.push((request, Some(entries.len() - 1)));
        }
        let positions = if entries.is_empty() {
            Ok(Vec::new())
        } else {
            wal.append(&entries)
        };
        let positions = match positions {
            Ok(positions) => positions,
            Err(error) => {
                eprintln!("haidang: cannot write the WAL: {error}");
                for (request, _) in kept {
                    let _ = request
                        .reply
                        .send(Err(format!("the collector cannot write its WAL: {error}")));
                }
                continue;
            }
        };
        tracker.set_end(wal.end());
        let mut to_forward = Vec::new();
        for (request, entry) in kept {
            let _ = request.reply.send(Ok(wal.last_sequence(&request.agent_id)));
            if let Some(index) = entry {
                to_forward.push((index, request.origin));
            }
        }
        for (index, origin) in to_forward {
            let done = tracker.start(positions[index]);
            forward(
                &entries[index].agent_id,
                &entries[index].batch,
                &origin,
                done,
                false,
                sender,
                counters,
            );
        }
    }
    save_cursor(directory, tracker, &mut last_cursor);
}

fn save_cursor(directory: &std::path::Path, tracker: &Tracker, last: &mut Option<Position>) {
    let Some(cursor) = tracker.cursor() else { return };
    if *last != Some(cursor) {
        match wal::write_cursor(directory, cursor) {
            Ok(()) => *last = Some(cursor),
            Err(error) => eprintln!("haidang: cannot write the WAL cursor: {error}"),
        }
    }
}

/// Keeps the records of a batch after sequence `last`.
fn trim(batch: &Batch, last: u64) -> Result<Batch, wire::WireError> {
    let records = batch.records()?;
    let skip = (last + 1 - batch.first_sequence) as usize;
    Batch::compress(last + 1, &records[skip.min(records.len())..])
}

/// Sends a durable batch's records to the pipeline, waiting while its queue is full.
fn forward(
    producer: &str,
    batch: &Batch,
    origin: &Arc<Origin>,
    done: Arc<Done>,
    replay: bool,
    sender: &mpsc::Sender<Ingested>,
    counters: &Counters,
) {
    let Ok(records) = batch.records() else { return };
    let local = producer == HTTP_PRODUCER;
    if !local {
        Counters::add(&counters.received_agents, records.len() as u64);
    }
    let mut hosts: HashMap<String, Arc<Origin>> = HashMap::new();
    for (position, record) in records.into_iter().enumerate() {
        // Local (HTTP) records name their host, if any, in their source: `http host=web01`.
        let origin = if local {
            let hostname = record.source.strip_prefix("http host=").unwrap_or_default();
            Arc::clone(hosts.entry(hostname.to_owned()).or_insert_with(|| {
                Arc::new(Origin {
                    agent_id: String::new(),
                    hostname: hostname.to_owned(),
                })
            }))
        } else {
            Arc::clone(origin)
        };
        let sequence = batch.first_sequence + position as u64;
        let (text, format, event) = match record.body {
            Body::Line { text, format } => {
                let format = format
                    .as_deref()
                    .and_then(|format| format.parse::<Format>().ok())
                    .unwrap_or(Format::Auto);
                (text, format, None)
            }
            Body::Event(event) => (String::new(), Format::Json, Some(Box::<Event>::new(event))),
        };
        let ingested = Ingested {
            text,
            format,
            origin: Some(origin),
            source: (!local).then_some(record.source),
            event,
            done: Some(Arc::clone(&done)),
            id: Some(format!("{producer}:{sequence}")),
            replay,
        };
        if sender.blocking_send(ingested).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_cursor_waits_for_the_oldest_entry_in_flight() {
        let tracker = Arc::new(Tracker::default());
        let at = |offset| Position { segment: 1, offset };
        tracker.set_end(at(300));
        let first = tracker.start(at(0));
        let second = tracker.start(at(100));
        let second_again = Arc::clone(&second);
        assert_eq!(tracker.cursor(), Some(at(0)));
        drop(second);
        drop(second_again);
        assert_eq!(tracker.cursor(), Some(at(0)), "the first entry is not done yet");
        drop(first);
        assert_eq!(tracker.cursor(), Some(at(300)));
    }
}
