//! `haidang-agent run`: sources → spool → shipper.
//!
//! The main loop polls every source, turns what they read into wire records, and appends them to
//! the spool together with every source's checkpoint as of those records, in one synced write.
//! Only then does it read further. After a crash, the sources resume from the checkpoint of the
//! newest spool entry: no record is read twice or skipped. When the spool is full (block mode)
//! the loop stops reading; the files keep the data.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use haidang_event::wire::{Body, Record};
use serde::{Deserialize, Serialize};

use crate::config::{AgentConfig, FilesGroup};
use crate::connection::Identity;
use crate::shipper::{self, ShipperConfig, ShipperStatus};
use crate::source::{FileCheckpoint, FileSource, JournalRecord, JournaldSource};
use crate::spool::Spool;

/// Every source's position, stored with each spool entry.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    /// File checkpoints by group name.
    #[serde(default)]
    files: HashMap<String, Vec<FileCheckpoint>>,
    /// The journal cursor.
    #[serde(default)]
    journald: Option<String>,
}

/// Signals the loop watches.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// Set to stop (SIGINT, SIGTERM).
    pub stop: Arc<AtomicBool>,
    /// Set to reload the configuration (SIGHUP).
    pub reload: Arc<AtomicBool>,
}

struct Sources {
    files: Vec<(FilesGroup, FileSource)>,
    journald: Option<JournaldSource>,
    /// When `journalctl` exits, it is started again from its cursor after a pause.
    journald_restart: Option<Instant>,
}

impl Sources {
    fn build(config: &AgentConfig, checkpoint: &mut Checkpoint) -> anyhow::Result<Sources> {
        let mut files = Vec::new();
        for group in &config.files {
            let saved = checkpoint.files.remove(&group.name).unwrap_or_default();
            let source = FileSource::new(group.source.clone(), saved)
                .with_context(|| format!("files `{}`", group.name))?;
            files.push((group.clone(), source));
        }
        let journald = match &config.journald {
            Some(journald) => {
                Some(JournaldSource::new(journald.clone(), checkpoint.journald.take()).context("journald")?)
            }
            None => None,
        };
        Ok(Sources {
            files,
            journald,
            journald_restart: None,
        })
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            files: self
                .files
                .iter()
                .map(|(group, source)| (group.name.clone(), source.checkpoints()))
                .collect(),
            journald: self
                .journald
                .as_ref()
                .and_then(|source| source.cursor().map(str::to_owned)),
        }
    }

    /// Reads up to `max` records from all sources.
    fn poll(&mut self, max: usize, out: &mut Vec<Record>) {
        let now = now_nanos();
        for (group, source) in &mut self.files {
            if out.len() >= max {
                return;
            }
            match source.poll(max - out.len()) {
                Ok(records) => out.extend(records.into_iter().map(|record| Record {
                    observed_nanos: now,
                    source: format!("file:{}", record.path),
                    body: Body::Line {
                        text: record.text,
                        format: group.format.clone(),
                    },
                })),
                Err(error) => eprintln!("haidang-agent: files `{}`: {error}", group.name),
            }
        }
        if let Some(when) = self.journald_restart
            && Instant::now() >= when
            && let Some(old) = self.journald.take()
        {
            let cursor = old.cursor().map(str::to_owned);
            match JournaldSource::new(old.config().clone(), cursor) {
                Ok(fresh) => {
                    self.journald = Some(fresh);
                    self.journald_restart = None;
                }
                Err(error) => {
                    eprintln!("haidang-agent: journald: {error}");
                    self.journald = Some(old);
                    self.journald_restart = Some(Instant::now() + Duration::from_secs(10));
                }
            }
        }
        if let Some(journald) = &mut self.journald
            && out.len() < max
            && self.journald_restart.is_none()
        {
            match journald.poll(max - out.len()) {
                Ok(records) => out.extend(records.iter().map(|record| Record {
                    observed_nanos: now,
                    source: "journald".into(),
                    body: Body::Line {
                        text: journal_line(record),
                        format: Some("rfc5424".into()),
                    },
                })),
                Err(error) => {
                    eprintln!("haidang-agent: journald: {error}; restarting journalctl in 5 s");
                    self.journald_restart = Some(Instant::now() + Duration::from_secs(5));
                }
            }
        }
    }
}

/// A journal entry as an RFC 5424 line, so the collector parses its message like syslog's
/// (sshd, sudo... through the same body parsers).
fn journal_line(record: &JournalRecord) -> String {
    let priority = 8 + u32::from(record.priority.unwrap_or(6).min(7));
    let timestamp = record
        .realtime_timestamp
        .and_then(|micros| time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok())
        .and_then(|moment| moment.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "-".into());
    let field = |value: Option<&str>| {
        value
            .filter(|value| !value.is_empty() && !value.contains(' '))
            .unwrap_or("-")
            .to_owned()
    };
    let pid = record.pid.map_or_else(|| "-".to_owned(), |pid| pid.to_string());
    format!(
        "<{priority}>1 {timestamp} {} {} {pid} - - {}",
        field(record.hostname.as_deref()),
        field(record.syslog_identifier.as_deref()),
        record.message
    )
}

/// Runs the agent until `signals.stop` is set.
pub fn run(mut config: AgentConfig, config_path: Option<PathBuf>, signals: &Signals) -> anyhow::Result<()> {
    let identity = Identity::new(&config.data_dir);
    identity.client_config()?;
    let spool_directory = config.data_dir.join("spool");
    let recovered = Spool::open(&spool_directory, config.spool_max_bytes, config.when_full)
        .with_context(|| format!("cannot open the spool in {}", spool_directory.display()))?;
    let mut checkpoint: Checkpoint = match recovered.checkpoint {
        Some(bytes) if !bytes.is_empty() => {
            serde_json::from_slice(&bytes).context("the spool's checkpoint")?
        }
        _ => Checkpoint::default(),
    };
    let mut sources = Sources::build(&config, &mut checkpoint)?;
    let (packets, packet_threads) = start_captures(&config, &signals.stop)?;
    let spool = Arc::new(Mutex::new(recovered.spool));
    let status = Arc::new(Mutex::new(ShipperStatus::default()));
    let shipper = shipper::spawn(
        ShipperConfig {
            collectors: config.collectors.clone(),
            hostname: config.hostname.clone(),
            heartbeat: config.heartbeat,
            max_backoff: config.max_backoff,
        },
        identity,
        Arc::clone(&spool),
        Arc::clone(&status),
        Arc::clone(&signals.stop),
    )?;
    eprintln!(
        "haidang-agent {} running: {} file group(s){}, shipping to {}",
        crate::VERSION,
        config.files.len(),
        if config.journald.is_some() {
            " and journald"
        } else {
            ""
        },
        config.collectors.join(", ")
    );
    let mut records = Vec::with_capacity(config.batch_records);
    let mut next_status = Instant::now();
    let mut blocked_since: Option<Instant> = None;
    while !signals.stop.load(Ordering::Acquire) {
        if signals.reload.swap(false, Ordering::AcqRel) {
            match reload(&config, config_path.as_deref(), &sources) {
                Ok((fresh_config, fresh_sources)) => {
                    eprintln!("haidang-agent: configuration reloaded");
                    config = fresh_config;
                    sources = fresh_sources;
                }
                Err(error) => {
                    eprintln!("haidang-agent: reload refused, keeping the running configuration: {error:#}")
                }
            }
        }
        if Instant::now() >= next_status {
            write_status(&config, &spool, &status, &sources);
            next_status = Instant::now() + Duration::from_secs(5);
        }
        let has_room = spool.lock().map(|spool| spool.has_room()).unwrap_or(false);
        if !has_room {
            if blocked_since.is_none() {
                eprintln!("haidang-agent: the spool is full; sources wait for the collector");
                blocked_since = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        blocked_since = None;
        records.clear();
        sources.poll(config.batch_records, &mut records);
        while records.len() < config.batch_records {
            let Ok((interface, event)) = packets.try_recv() else {
                break;
            };
            records.push(Record {
                observed_nanos: now_nanos(),
                source: format!("packet:{interface}"),
                body: Body::Event(event),
            });
        }
        if records.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let blob = serde_json::to_vec(&sources.checkpoint())?;
        spool
            .lock()
            .map_err(|_| anyhow::anyhow!("the spool lock is poisoned"))?
            .append(&records, &blob)
            .context("cannot write to the spool")?;
        if records.len() < config.batch_records {
            // Let a little more gather: fewer, larger batches and syncs.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let _ = shipper.join();
    for thread in packet_threads {
        let _ = thread.join();
    }
    write_status(&config, &spool, &status, &sources);
    Ok(())
}

type PacketEvents = std::sync::mpsc::Receiver<(Arc<str>, haidang_event::Event)>;

/// Starts one capture thread per `[[packet]]` interface. Events wait in a bounded channel; when
/// it is full the capture thread waits, and the kernel counts what it drops meanwhile.
fn start_captures(
    config: &AgentConfig,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<(PacketEvents, Vec<std::thread::JoinHandle<()>>)> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(10_000);
    let mut threads = Vec::new();
    for (capture_config, packet_config) in &config.packet {
        let mut packet_config = packet_config.clone();
        packet_config.host = Some(config.hostname.clone());
        let mut capture = crate::packet::LiveCapture::open(capture_config, &packet_config)
            .with_context(|| format!("packet capture on {}", capture_config.interface))?;
        let interface: Arc<str> = Arc::from(capture_config.interface.as_str());
        let sender = sender.clone();
        let stop = Arc::clone(stop);
        threads.push(
            std::thread::Builder::new()
                .name(format!("capture-{interface}"))
                .spawn(move || {
                    let mut sink = |event| {
                        let _ = sender.send((Arc::clone(&interface), event));
                    };
                    if let Err(error) = capture.run(&stop, &mut sink) {
                        eprintln!("haidang-agent: packet capture on {interface}: {error}");
                    }
                })?,
        );
    }
    Ok((receiver, threads))
}

fn reload(
    running: &AgentConfig,
    path: Option<&std::path::Path>,
    sources: &Sources,
) -> anyhow::Result<(AgentConfig, Sources)> {
    let Some(path) = path else {
        anyhow::bail!("no configuration file to reload")
    };
    let config = AgentConfig::load(path)?;
    if config.data_dir != running.data_dir || config.collectors != running.collectors {
        anyhow::bail!("data_dir and collector addresses change only with a restart");
    }
    let mut checkpoint = sources.checkpoint();
    let fresh = Sources::build(&config, &mut checkpoint)?;
    Ok((config, fresh))
}

fn write_status(
    config: &AgentConfig,
    spool: &Mutex<Spool>,
    status: &Mutex<ShipperStatus>,
    sources: &Sources,
) {
    let spool = spool.lock().map(|spool| spool.stats()).unwrap_or_default();
    let shipper = status.lock().map(|status| status.clone()).unwrap_or_default();
    let files: HashMap<_, _> = sources
        .files
        .iter()
        .map(|(group, source)| (group.name.clone(), source.stats()))
        .collect();
    let journald = sources.journald.as_ref().map(JournaldSource::stats);
    let text = serde_json::json!({
        "version": crate::VERSION,
        "spool": spool,
        "shipper": shipper,
        "files": files,
        "journald": journald,
    });
    let _ = crate::write_atomically(&config.data_dir.join("status.json"), text.to_string().as_bytes());
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_entries_become_rfc5424_lines() {
        let record = JournalRecord {
            cursor: "c".into(),
            message: "Accepted password for root from 10.0.0.9 port 22 ssh2".into(),
            hostname: Some("web01".into()),
            syslog_identifier: Some("sshd".into()),
            pid: Some(812),
            priority: Some(6),
            systemd_unit: Some("ssh.service".into()),
            realtime_timestamp: Some(1_700_000_000_123_456),
        };
        assert_eq!(
            journal_line(&record),
            "<14>1 2023-11-14T22:13:20.123456Z web01 sshd 812 - - Accepted password for root from 10.0.0.9 port 22 ssh2"
        );
    }
}
