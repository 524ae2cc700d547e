//! The shipper: one thread that sends the spool's batches to a collector and deletes them only
//! when the collector acknowledges them as durable.
//!
//! It connects to the first collector address that answers, says hello, learns from the welcome
//! how far the collector already is (so nothing acknowledged before a crash is sent again), then
//! keeps up to [`WINDOW`] batches in flight. A failed session moves to the next address after a
//! jittered, doubling wait. Heartbeats carry the host facts and measure the clock offset.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haidang_event::wire::{Heartbeat, Hello, Message, PROTOCOL_VERSION};
use serde::Serialize;

use crate::connection::{Identity, Refused, Session};
use crate::spool::Spool;

/// Batches sent and not yet acknowledged, at most.
pub const WINDOW: usize = 8;

/// How long to wait for an acknowledgement before the session is considered dead.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// What the shipper needs.
#[derive(Debug, Clone)]
pub struct ShipperConfig {
    /// Collector addresses in order of preference.
    pub collectors: Vec<String>,
    /// Host name reported.
    pub hostname: String,
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
}

/// The shipper's state, for the status file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ShipperStatus {
    /// The collector of the current session.
    pub connected_to: Option<String>,
    /// The agent id the collector knows us by.
    pub agent_id: Option<String>,
    /// The highest sequence number acknowledged.
    pub acknowledged: u64,
    /// Sessions started.
    pub sessions: u64,
    /// The last error, if the last session failed.
    pub last_error: Option<String>,
    /// Collector clock minus ours, from the last heartbeat (nanoseconds).
    pub clock_offset_nanos: Option<i64>,
}

/// Starts the shipper thread.
pub fn spawn(
    config: ShipperConfig,
    identity: Identity,
    spool: Arc<Mutex<Spool>>,
    status: Arc<Mutex<ShipperStatus>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("shipper".into())
        .spawn(move || ship(&config, &identity, &spool, &status, &stop))
}

fn ship(
    config: &ShipperConfig,
    identity: &Identity,
    spool: &Mutex<Spool>,
    status: &Mutex<ShipperStatus>,
    stop: &AtomicBool,
) {
    let mut failures = 0u32;
    let mut index = 0usize;
    let mut random = Jitter::seeded();
    while !stop.load(Ordering::Acquire) {
        let address = &config.collectors[index % config.collectors.len()];
        let result = session(config, identity, address, spool, status, stop);
        if let Ok(mut status) = status.lock() {
            status.connected_to = None;
            status.last_error = result.as_ref().err().map(|error| format!("{address}: {error:#}"));
        }
        match result {
            Ok(()) => failures = 0,
            Err(error) => {
                eprintln!("haidang-agent: session with {address}: {error:#}");
                // A revoked agent retries slowly: an administrator has to act.
                let revoked = error.downcast_ref::<Refused>().is_some();
                failures = failures.saturating_add(1);
                index += 1;
                let base = Duration::from_millis(500).saturating_mul(1 << failures.min(10));
                let wait = if revoked {
                    config.max_backoff
                } else {
                    base.min(config.max_backoff)
                };
                // Up to half of the wait is random, so agents restarting together spread out.
                let wait = wait / 2 + wait.mul_f64(random.next_fraction() / 2.0);
                sleep_unless_stopped(wait, stop);
            }
        }
    }
}

fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let end = Instant::now() + duration;
    while !stop.load(Ordering::Acquire) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())));
    }
}

fn session(
    config: &ShipperConfig,
    identity: &Identity,
    address: &str,
    spool: &Mutex<Spool>,
    status: &Mutex<ShipperStatus>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let mut session = Session::connect(address, identity.client_config()?, Duration::from_secs(10))?;
    let facts = crate::facts::host_facts(&config.hostname, session.local_address);
    session.send(&Message::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        facts: facts.clone(),
    }))?;
    let Message::Welcome(welcome) = session.receive()? else {
        anyhow::bail!("expected a welcome")
    };
    lock(spool)?.acknowledge(welcome.last_sequence)?;
    let mut sent = welcome.last_sequence.max(lock(spool)?.stats().acked);
    if let Ok(mut status) = status.lock() {
        status.connected_to = Some(address.to_owned());
        status.agent_id = Some(welcome.agent_id);
        status.sessions += 1;
        status.acknowledged = sent;
        status.last_error = None;
    }
    session.set_read_timeout(ACK_TIMEOUT)?;
    let mut in_flight: VecDeque<u64> = VecDeque::new();
    let mut next_heartbeat = Instant::now();
    let mut heartbeat_pending = false;
    let mut clock_offset = None;
    loop {
        if stop.load(Ordering::Acquire) {
            return Ok(());
        }
        while in_flight.len() < WINDOW {
            let Some(batch) = lock(spool)?.next_batch(sent)? else {
                break;
            };
            sent = batch.last_sequence();
            session.send(&Message::Batch(batch))?;
            in_flight.push_back(sent);
        }
        if !heartbeat_pending && Instant::now() >= next_heartbeat {
            session.send(&Message::Heartbeat(Heartbeat {
                facts: facts.clone(),
                sent_nanos: now_nanos(),
                clock_offset_nanos: clock_offset,
            }))?;
            heartbeat_pending = true;
            next_heartbeat = Instant::now() + config.heartbeat;
        }
        if in_flight.is_empty() && !heartbeat_pending {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        match session.receive()? {
            Message::Ack(sequence) => {
                lock(spool)?.acknowledge(sequence)?;
                while in_flight.front().is_some_and(|&last| last <= sequence) {
                    in_flight.pop_front();
                }
                if let Ok(mut status) = status.lock() {
                    status.acknowledged = sequence;
                }
            }
            Message::HeartbeatReply(reply) => {
                heartbeat_pending = false;
                let now = now_nanos();
                let round_trip = now.saturating_sub(reply.sent_nanos);
                let offset = reply.received_nanos - (reply.sent_nanos + round_trip / 2);
                clock_offset = Some(offset);
                if let Ok(mut status) = status.lock() {
                    status.clock_offset_nanos = Some(offset);
                }
            }
            other => anyhow::bail!("unexpected {:?} from the collector", other.kind()),
        }
    }
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as i64)
}

/// A small xorshift generator for backoff jitter (no need for cryptographic randomness).
struct Jitter(u64);

impl Jitter {
    fn seeded() -> Jitter {
        Jitter((now_nanos() as u64 ^ u64::from(std::process::id())) | 1)
    }

    fn next_fraction(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn lock(spool: &Mutex<Spool>) -> anyhow::Result<std::sync::MutexGuard<'_, Spool>> {
    spool
        .lock()
        .map_err(|_| anyhow::anyhow!("the spool lock is poisoned"))
}
