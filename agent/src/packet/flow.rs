//! The flow table: packets grouped by 5-tuple into flow records, bounded in memory.
//!
//! **Key.** (protocol, endpoint, endpoint) with the endpoints in Community ID order, so both
//! directions of a flow share a key. ICMP uses the type and the counter-type (or code) as ports,
//! like Zeek and the Community ID; one-way ICMP types keep their direction in the key.
//!
//! **Orientation.** The originator is the side that opened the flow: the sender of the first
//! packet we saw, with Zeek's corrections for flows whose start we missed: a SYN-ACK seen first
//! was sent by the responder; a first packet from a service port (below 1024, or a registered
//! service or tunnel port) to another port was sent by the server; and a TCP flow whose
//! originator has sent no SYN flips when its responder sends a pure SYN.
//!
//! **Counts.** Packets and bytes per direction; bytes are IP-level (the IP header's total length:
//! IP and transport headers plus payload, what Zeek's conn.log calls `orig_ip_bytes`), so they
//! do not depend on TCP reassembly. A fragmented datagram counts as one packet of its whole
//! length, as after reassembly.
//!
//! **Ending a record.** A flow ends when it has been idle longer than its protocol's idle
//! timeout (Zeek's defaults: TCP 5 min, UDP and ICMP 1 min, UDP DNS 10 s), 5 s after TCP closes (FIN both ways,
//! or RST; a new SYN after that starts a new flow), when the table is full and it is the least
//! recently active flow (counted as an eviction), or at the end of the capture. An active timeout
//! emits a record for a long flow at its first packet past the timeout and keeps counting in a new
//! record. Timeouts run on packet time, so a capture file gives the same records however fast it
//! is read.
//!
//! **Memory.** At most `max_flows` flows, each with bounded application-layer buffers
//! ([`super::app`]).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::Duration;

use super::app::{AppRecord, Direction, Session};
use super::community_id::{self, ICMPV6, TCP, UDP};
use super::decode::{Packet, TcpFlags, Transport};

/// Flow table settings.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Most flows kept at once; when full, the least recently active flow is ended early.
    pub max_flows: usize,
    /// Idle timeout of a TCP flow (Zeek's `tcp_inactivity_timeout`, 5 min).
    pub tcp_idle_timeout: Duration,
    /// Idle timeout of a UDP flow (Zeek's `udp_inactivity_timeout`, 1 min).
    pub udp_idle_timeout: Duration,
    /// Idle timeout of ICMP and other IP protocols (Zeek's `icmp_inactivity_timeout`, 1 min).
    pub other_idle_timeout: Duration,
    /// Idle timeout of a UDP flow on a DNS port (53, 137, 5353, 5355): DNS clients reuse source
    /// ports, so lookups seconds apart are separate flows (Zeek's `dns_session_timeout`, 10 s).
    pub dns_idle_timeout: Duration,
    /// How long a closed TCP flow (FIN both ways, or RST) lingers for its last packets (Zeek's
    /// `tcp_close_delay` and `tcp_reset_delay`, 5 s).
    pub tcp_close_delay: Duration,
    /// A flow active for longer emits a record and continues in a new one; `None` never splits.
    pub active_timeout: Option<Duration>,
    /// Bytes each direction of a TCP flow may buffer for application-layer parsing (only until
    /// its protocol is recognised and its handshake read; HTTP keeps at most a partial request
    /// head). The worst case is `max_flows` × 2 × this.
    pub max_stream_buffer: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 100_000,
            tcp_idle_timeout: Duration::from_secs(300),
            udp_idle_timeout: Duration::from_secs(60),
            other_idle_timeout: Duration::from_secs(60),
            dns_idle_timeout: Duration::from_secs(10),
            tcp_close_delay: Duration::from_secs(5),
            active_timeout: Some(Duration::from_secs(1800)),
            max_stream_buffer: 8 * 1024,
        }
    }
}

/// One side of a flow: an address and a port (for ICMP, the type or counter-type/code).
pub(crate) type Endpoint = (IpAddr, u16);

/// Why a flow record was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// No packet for the idle timeout.
    IdleTimeout,
    /// The flow has been active for the active timeout; it continues in a new record.
    ActiveTimeout,
    /// TCP closed (FIN both ways or RST) and the close delay passed, or a new SYN reused the
    /// ports.
    Closed,
    /// The table was full and this flow was the least recently active.
    Evicted,
    /// The capture ended (end of file, or the live capture stopped).
    EndOfCapture,
}

impl EndReason {
    /// The name used in events (`event.reason`).
    pub fn name(self) -> &'static str {
        match self {
            EndReason::IdleTimeout => "idle_timeout",
            EndReason::ActiveTimeout => "active_timeout",
            EndReason::Closed => "closed",
            EndReason::Evicted => "evicted",
            EndReason::EndOfCapture => "end_of_capture",
        }
    }
}

/// Packet and byte counts of one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub packets: u64,
    /// IP-level bytes: the sum of the IP total lengths.
    pub bytes: u64,
    /// TCP flags seen in this direction (zero for other protocols).
    pub tcp_flags: TcpFlags,
}

/// The addresses and identity of a flow, shared by its flow record and its application records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FlowContext {
    pub protocol: u8,
    pub originator: Endpoint,
    pub responder: Endpoint,
    pub community_id: String,
}

/// A finished (or, after an active timeout, partial) flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FlowRecord {
    pub context: FlowContext,
    /// First and last packet of this record, nanoseconds since the epoch.
    pub start_nanos: i64,
    pub end_nanos: i64,
    pub originator: Counts,
    pub responder: Counts,
    pub reason: EndReason,
}

/// What the table produces.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Output {
    Flow(FlowRecord),
    App(FlowContext, AppRecord),
}

/// Counters of the table's life.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub flows_created: u64,
    /// Flows ended early because the table was full.
    pub flows_evicted: u64,
    /// Records emitted by the active timeout.
    pub active_timeouts: u64,
    /// Later fragments whose first fragment we never saw.
    pub orphan_fragments: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FlowKey {
    protocol: u8,
    first: Endpoint,
    second: Endpoint,
}

/// Which idle timeout applies; each class keeps its flows in last-activity order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeoutClass {
    Tcp = 0,
    Udp = 1,
    Other = 2,
    /// Closed TCP: ordered by the time it closed, not by activity.
    Closing = 3,
    /// UDP on a DNS port.
    Dns = 4,
}

const CLASSES: usize = 5;

struct Flow {
    context: FlowContext,
    start: i64,
    record_start: i64,
    last: i64,
    originator: Counts,
    responder: Counts,
    /// The originator sent a SYN (so a later SYN from the responder does not flip the flow).
    originator_syn: bool,
    originator_fin: bool,
    responder_fin: bool,
    reset: bool,
    class: TimeoutClass,
    /// This flow's place in its class queue.
    position: (i64, u64),
    session: Session,
}

/// A packet's endpoints as the key and orientation see them.
struct Endpoints {
    source: Endpoint,
    destination: Endpoint,
    one_way: bool,
}

fn endpoints(packet: &Packet<'_>) -> Endpoints {
    let (source_port, destination_port, one_way) = match packet.transport {
        Transport::Tcp {
            source_port,
            destination_port,
            ..
        }
        | Transport::Udp {
            source_port,
            destination_port,
            ..
        }
        | Transport::Sctp {
            source_port,
            destination_port,
        } => (source_port, destination_port, false),
        Transport::Icmp { icmp_type, code } => {
            community_id::icmp_ports(icmp_type, code, packet.protocol == ICMPV6)
        }
        Transport::LaterFragment { .. } | Transport::Other { .. } => (0, 0, false),
    };
    Endpoints {
        source: (packet.source, source_port),
        destination: (packet.destination, destination_port),
        one_way,
    }
}

impl Endpoints {
    fn key(&self, protocol: u8) -> FlowKey {
        let (first, second) = if self.one_way || community_id::in_order(self.source, self.destination) {
            (self.source, self.destination)
        } else {
            (self.destination, self.source)
        };
        FlowKey {
            protocol,
            first,
            second,
        }
    }
}

/// What the first packet of a flow was, for its orientation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FirstPacket {
    Syn,
    SynAck,
    Other,
}

/// Ports where servers listen: the system ports, and registered ports of common services and
/// UDP tunnels. Only used to orient a flow picked up mid-stream.
fn is_service_port(port: u16) -> bool {
    port < 1024
        || matches!(
            port,
            1433 | 1521
                | 1812
                | 1813
                | 2049
                | 2152
                | 3306
                | 3389
                | 3544
                | 4754
                | 4789
                | 5060
                | 5061
                | 5072
                | 5353
                | 5355
                | 5432
                | 5900
                | 6081
                | 6379
                | 8080
                | 8443
                | 9200
                | 27017
        )
}

/// Whether the protocol's ports are real ports (not ICMP types or absent).
fn has_real_ports(protocol: u8) -> bool {
    matches!(protocol, TCP | UDP | community_id::SCTP)
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// Most first fragments remembered while their later fragments are awaited.
const MAX_FRAGMENTS: usize = 4096;
/// How long a first fragment waits for the rest (Zeek's `frag_timeout` is off by default; 30 s is
/// a common reassembly limit).
const FRAGMENT_TIMEOUT_NANOS: i64 = 30_000_000_000;

type FragmentKey = (IpAddr, IpAddr, u8, u32);

/// The flow table. Feed it packets in capture order with [`FlowTable::process`]; call
/// [`FlowTable::expire`] when time passes without packets (live capture) and
/// [`FlowTable::flush`] at the end.
pub(crate) struct FlowTable {
    config: FlowConfig,
    timeouts: [i64; CLASSES],
    flows: HashMap<FlowKey, Flow>,
    queues: [BTreeMap<(i64, u64), FlowKey>; CLASSES],
    sequence: u64,
    /// First fragments: the flow and direction their later fragments belong to.
    fragments: HashMap<FragmentKey, (FlowKey, i64)>,
    stats: FlowStats,
    now: i64,
}

impl FlowTable {
    /// An empty table.
    pub(crate) fn new(config: FlowConfig) -> FlowTable {
        let timeouts = [
            nanos(config.tcp_idle_timeout),
            nanos(config.udp_idle_timeout),
            nanos(config.other_idle_timeout),
            nanos(config.tcp_close_delay),
            nanos(config.dns_idle_timeout),
        ];
        FlowTable {
            config,
            timeouts,
            flows: HashMap::new(),
            queues: Default::default(),
            sequence: 0,
            fragments: HashMap::new(),
            stats: FlowStats::default(),
            now: i64::MIN,
        }
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> &FlowStats {
        &self.stats
    }

    /// Flows open now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.flows.len()
    }

    /// Whether no flow is open.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Accounts one packet seen at `timestamp` (nanoseconds since the epoch), appending the
    /// records it completes to `out`.
    pub(crate) fn process(&mut self, timestamp: i64, packet: &Packet<'_>, out: &mut Vec<Output>) {
        // Packet time never goes backwards for the table (captures can be slightly unordered).
        let now = timestamp.max(self.now);
        self.expire(now, out);
        if let Transport::LaterFragment {
            identification,
            payload_length,
        } = packet.transport
        {
            self.later_fragment(packet, identification, payload_length, now);
            return;
        }
        let endpoints = endpoints(packet);
        let key = endpoints.key(packet.protocol);
        let (flags, is_tcp) = match packet.transport {
            Transport::Tcp { flags, .. } => (flags, true),
            _ => (TcpFlags::default(), false),
        };
        let pure_syn = is_tcp && flags.has(TcpFlags::SYN) && !flags.has(TcpFlags::ACK);
        if let Some(flow) = self.flows.get(&key) {
            let reused = flow.class == TimeoutClass::Closing && pure_syn;
            let active_expired = self
                .config
                .active_timeout
                .is_some_and(|timeout| now - flow.record_start >= nanos(timeout));
            if reused {
                self.end_flow(&key, EndReason::Closed, out);
            } else if active_expired {
                self.split_flow(&key, now, out);
            }
        }
        if !self.flows.contains_key(&key) {
            if self.flows.len() >= self.config.max_flows.max(1) {
                self.evict_one(out);
            }
            let first = if !is_tcp || !flags.has(TcpFlags::SYN) {
                FirstPacket::Other
            } else if flags.has(TcpFlags::ACK) {
                FirstPacket::SynAck
            } else {
                FirstPacket::Syn
            };
            self.create_flow(key.clone(), &endpoints, packet.protocol, first, now);
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return;
        };
        let mut direction = if endpoints.source == flow.context.originator {
            Direction::FromOriginator
        } else {
            Direction::FromResponder
        };
        if pure_syn && direction == Direction::FromResponder && !flow.originator_syn {
            // The side we took for the originator never opened the connection: this one does.
            flow.flip();
            direction = Direction::FromOriginator;
        }
        let counts = match direction {
            Direction::FromOriginator => &mut flow.originator,
            Direction::FromResponder => &mut flow.responder,
        };
        counts.packets += 1;
        counts.bytes += u64::from(packet.ip_length);
        counts.tcp_flags.0 |= flags.0;
        flow.last = now;
        if let Some(identification) = packet.fragment_id
            && self.fragments.len() < MAX_FRAGMENTS
        {
            self.fragments.insert(
                (packet.source, packet.destination, packet.protocol, identification),
                (key.clone(), now),
            );
        }
        if is_tcp {
            if pure_syn && direction == Direction::FromOriginator {
                flow.originator_syn = true;
            }
            if flags.has(TcpFlags::FIN) {
                match direction {
                    Direction::FromOriginator => flow.originator_fin = true,
                    Direction::FromResponder => flow.responder_fin = true,
                }
            }
            if flags.has(TcpFlags::RST) {
                flow.reset = true;
            }
        }
        let mut app_records = Vec::new();
        flow.session.on_packet(
            direction,
            &packet.transport,
            now,
            self.config.max_stream_buffer,
            &mut app_records,
        );
        let context = flow.context.clone();
        out.extend(
            app_records
                .into_iter()
                .map(|record| Output::App(context.clone(), record)),
        );
        let closing = flow.class != TimeoutClass::Closing
            && (flow.reset || (flow.originator_fin && flow.responder_fin));
        let new_class = if closing {
            TimeoutClass::Closing
        } else {
            flow.class
        };
        let old_position = flow.position;
        let old_class = flow.class;
        // A closing flow keeps its place: it goes when the close delay after closing passes.
        if new_class != TimeoutClass::Closing || closing {
            self.sequence += 1;
            let position = (now, self.sequence);
            self.queues[old_class as usize].remove(&old_position);
            self.queues[new_class as usize].insert(position, key.clone());
            if let Some(flow) = self.flows.get_mut(&key) {
                flow.position = position;
                flow.class = new_class;
            }
        }
    }

    fn later_fragment(&mut self, packet: &Packet<'_>, identification: u32, payload_length: u32, now: i64) {
        let fragment = (packet.source, packet.destination, packet.protocol, identification);
        let Some((key, _)) = self.fragments.get(&fragment) else {
            self.stats.orphan_fragments += 1;
            return;
        };
        let Some(flow) = self.flows.get_mut(key) else {
            self.stats.orphan_fragments += 1;
            return;
        };
        // The first fragment counted the packet; the rest add their payload.
        let counts = if packet.source == flow.context.originator.0 {
            &mut flow.originator
        } else {
            &mut flow.responder
        };
        counts.bytes += u64::from(payload_length);
        flow.last = now;
    }

    fn create_flow(
        &mut self,
        key: FlowKey,
        endpoints: &Endpoints,
        protocol: u8,
        first: FirstPacket,
        now: i64,
    ) {
        let flip = match first {
            // A SYN-ACK answers a SYN we missed: its sender is the responder.
            FirstPacket::SynAck => true,
            FirstPacket::Syn => false,
            // Picked up mid-stream (or UDP): a service port talking to an ephemeral one is the
            // server answering.
            FirstPacket::Other => {
                is_service_port(endpoints.source.1) && !is_service_port(endpoints.destination.1)
            }
        };
        let (originator, responder) = if flip && !endpoints.one_way && has_real_ports(protocol) {
            (endpoints.destination, endpoints.source)
        } else {
            (endpoints.source, endpoints.destination)
        };
        let community_id = community_id::community_id(0, protocol, originator, responder, endpoints.one_way);
        let dns_port = |port: u16| matches!(port, 53 | 137 | 5353 | 5355);
        let class = match protocol {
            TCP => TimeoutClass::Tcp,
            UDP if dns_port(originator.1) || dns_port(responder.1) => TimeoutClass::Dns,
            UDP => TimeoutClass::Udp,
            _ => TimeoutClass::Other,
        };
        self.sequence += 1;
        let position = (now, self.sequence);
        self.queues[class as usize].insert(position, key.clone());
        self.stats.flows_created += 1;
        let session = Session::new(protocol, originator.1, responder.1);
        self.flows.insert(
            key,
            Flow {
                context: FlowContext {
                    protocol,
                    originator,
                    responder,
                    community_id,
                },
                start: now,
                record_start: now,
                last: now,
                originator: Counts::default(),
                responder: Counts::default(),
                originator_syn: false,
                originator_fin: false,
                responder_fin: false,
                reset: false,
                class,
                position,
                session,
            },
        );
    }

    /// Ends every flow whose timeout has passed at `now` (packet time in nanoseconds).
    pub(crate) fn expire(&mut self, now: i64, out: &mut Vec<Output>) {
        self.now = self.now.max(now);
        for class in 0..CLASSES {
            let timeout = self.timeouts[class];
            while let Some((&(last, _), key)) = self.queues[class].first_key_value() {
                if last.saturating_add(timeout) > now {
                    break;
                }
                let key = key.clone();
                let reason = if class == TimeoutClass::Closing as usize {
                    EndReason::Closed
                } else {
                    EndReason::IdleTimeout
                };
                self.end_flow(&key, reason, out);
            }
        }
        if !self.fragments.is_empty() {
            self.fragments
                .retain(|_, (_, seen)| now - *seen < FRAGMENT_TIMEOUT_NANOS);
        }
    }

    /// Ends every open flow (the capture is over), oldest first.
    pub(crate) fn flush(&mut self, out: &mut Vec<Output>) {
        let mut keys: Vec<(i64, FlowKey)> = self
            .flows
            .iter()
            .map(|(key, flow)| (flow.start, key.clone()))
            .collect();
        keys.sort_by_key(|(start, _)| *start);
        for (_, key) in keys {
            self.end_flow(&key, EndReason::EndOfCapture, out);
        }
        self.fragments.clear();
    }

    fn evict_one(&mut self, out: &mut Vec<Output>) {
        let oldest = (0..CLASSES)
            .filter_map(|class| {
                self.queues[class]
                    .first_key_value()
                    .map(|(position, key)| (*position, key.clone()))
            })
            .min_by_key(|(position, _)| *position);
        if let Some((_, key)) = oldest {
            self.stats.flows_evicted += 1;
            self.end_flow(&key, EndReason::Evicted, out);
        }
    }

    fn end_flow(&mut self, key: &FlowKey, reason: EndReason, out: &mut Vec<Output>) {
        let Some(mut flow) = self.flows.remove(key) else {
            return;
        };
        self.queues[flow.class as usize].remove(&flow.position);
        let mut app_records = Vec::new();
        flow.session.finish(&mut app_records);
        out.extend(
            app_records
                .into_iter()
                .map(|record| Output::App(flow.context.clone(), record)),
        );
        out.push(Output::Flow(flow.record(reason)));
    }

    /// Emits the record so far of a flow past its active timeout; the flow goes on counting.
    fn split_flow(&mut self, key: &FlowKey, now: i64, out: &mut Vec<Output>) {
        let Some(flow) = self.flows.get_mut(key) else {
            return;
        };
        out.push(Output::Flow(flow.record(EndReason::ActiveTimeout)));
        self.stats.active_timeouts += 1;
        flow.record_start = now;
        flow.originator = Counts::default();
        flow.responder = Counts::default();
    }
}

impl Flow {
    fn record(&self, reason: EndReason) -> FlowRecord {
        FlowRecord {
            context: self.context.clone(),
            start_nanos: self.record_start,
            end_nanos: self.last,
            originator: self.originator,
            responder: self.responder,
            reason,
        }
    }

    fn flip(&mut self) {
        std::mem::swap(&mut self.context.originator, &mut self.context.responder);
        std::mem::swap(&mut self.originator, &mut self.responder);
        std::mem::swap(&mut self.originator_fin, &mut self.responder_fin);
        self.session.flip();
        // The Community ID does not depend on direction (one-way flows are never TCP).
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::community_id::ICMP;
    use crate::packet::decode::{LinkType, decode};
    use crate::packet::testing::{ethernet_icmp, ethernet_tcp, ethernet_udp};

    const SECOND: i64 = 1_000_000_000;

    fn feed(table: &mut FlowTable, time: i64, frame: &[u8], out: &mut Vec<Output>) {
        let packet = decode(LinkType::Ethernet, frame, frame.len()).unwrap();
        table.process(time, &packet, out);
    }

    fn flows(out: &[Output]) -> Vec<&FlowRecord> {
        out.iter()
            .filter_map(|output| match output {
                Output::Flow(record) => Some(record),
                Output::App(..) => None,
            })
            .collect()
    }

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    #[test]
    fn tcp_handshake_counts_both_directions_and_closes() {
        let mut table = FlowTable::new(FlowConfig::default());
        let mut out = Vec::new();
        let syn = ethernet_tcp(B, A, 40000, 80, TcpFlags::SYN, 100, b"");
        let syn_ack = ethernet_tcp(A, B, 80, 40000, TcpFlags::SYN | TcpFlags::ACK, 500, b"");
        let data = ethernet_tcp(B, A, 40000, 80, TcpFlags::ACK | TcpFlags::PSH, 101, b"hello");
        let fin1 = ethernet_tcp(B, A, 40000, 80, TcpFlags::FIN | TcpFlags::ACK, 106, b"");
        let fin2 = ethernet_tcp(A, B, 80, 40000, TcpFlags::FIN | TcpFlags::ACK, 501, b"");
        for (index, frame) in [&syn, &syn_ack, &data, &fin1, &fin2].iter().enumerate() {
            feed(&mut table, index as i64 * SECOND, frame, &mut out);
        }
        assert!(flows(&out).is_empty());
        // The close delay (5 s) passes.
        table.expire(10 * SECOND, &mut out);
        let records = flows(&out);
        assert_eq!(records.len(), 1);
        let record = records[0];
        assert_eq!(record.context.originator, (IpAddr::from(B), 40000));
        assert_eq!(record.originator.packets, 3);
        assert_eq!(record.originator.bytes, 40 + 45 + 40);
        assert_eq!(record.responder.packets, 2);
        assert_eq!(record.originator.tcp_flags.letters(), "SAFP");
        assert_eq!(record.reason, EndReason::Closed);
        assert_eq!((record.start_nanos, record.end_nanos), (0, 4 * SECOND));
        assert!(table.is_empty());
    }

    #[test]
    fn orientation_follows_the_opening_side() {
        let mut table = FlowTable::new(FlowConfig::default());
        let mut out = Vec::new();
        // A SYN-ACK seen first was sent by the responder.
        let syn_ack = ethernet_tcp(A, B, 80, 40000, TcpFlags::SYN | TcpFlags::ACK, 500, b"");
        let ack = ethernet_tcp(B, A, 40000, 80, TcpFlags::ACK, 101, b"");
        feed(&mut table, 0, &syn_ack, &mut out);
        feed(&mut table, 1, &ack, &mut out);
        // Mid-stream data between two ephemeral ports, then the other side opens with a SYN.
        feed(
            &mut table,
            2,
            &ethernet_tcp(A, B, 40002, 40001, TcpFlags::ACK, 7, b"x"),
            &mut out,
        );
        feed(
            &mut table,
            3,
            &ethernet_tcp(B, A, 40001, 40002, TcpFlags::SYN, 1, b""),
            &mut out,
        );
        // A DNS answer seen before (or without) its query: the server is the responder.
        feed(&mut table, 4, &ethernet_udp(A, B, 53, 33333, b""), &mut out);
        table.flush(&mut out);
        let records = flows(&out);
        assert_eq!(records[0].context.originator, (IpAddr::from(B), 40000));
        assert_eq!(
            (records[0].originator.packets, records[0].responder.packets),
            (1, 1)
        );
        assert_eq!(records[0].reason, EndReason::EndOfCapture);
        assert_eq!(records[1].context.originator, (IpAddr::from(B), 40001));
        assert_eq!(records[1].originator.tcp_flags.letters(), "S");
        assert_eq!(records[1].responder.tcp_flags.letters(), "A");
        assert_eq!(records[2].context.originator, (IpAddr::from(B), 33333));
        assert_eq!(records[2].responder.packets, 1);
    }

    #[test]
    fn new_syn_after_close_starts_a_new_flow() {
        let mut table = FlowTable::new(FlowConfig::default());
        let mut out = Vec::new();
        feed(
            &mut table,
            0,
            &ethernet_tcp(A, B, 1000, 80, TcpFlags::SYN, 1, b""),
            &mut out,
        );
        feed(
            &mut table,
            1,
            &ethernet_tcp(B, A, 80, 1000, TcpFlags::RST | TcpFlags::ACK, 0, b""),
            &mut out,
        );
        feed(
            &mut table,
            2,
            &ethernet_tcp(A, B, 1000, 80, TcpFlags::SYN, 99, b""),
            &mut out,
        );
        table.flush(&mut out);
        let records = flows(&out);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].reason, EndReason::Closed);
        assert_eq!(records[0].responder.tcp_flags.letters(), "AR");
        assert_eq!(records[1].originator.packets, 1);
    }

    #[test]
    fn idle_timeouts_follow_the_protocol() {
        let mut table = FlowTable::new(FlowConfig::default());
        let mut out = Vec::new();
        feed(&mut table, 0, &ethernet_udp(A, B, 5000, 53, b"q"), &mut out);
        feed(
            &mut table,
            0,
            &ethernet_tcp(A, B, 1000, 22, TcpFlags::SYN, 1, b""),
            &mut out,
        );
        // 61 s later the UDP flow has expired, the TCP flow has not.
        table.expire(61 * SECOND, &mut out);
        let records = flows(&out);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].context.protocol, UDP);
        assert_eq!(records[0].reason, EndReason::IdleTimeout);
        // A packet after the UDP timeout starts a new UDP flow.
        feed(
            &mut table,
            62 * SECOND,
            &ethernet_udp(A, B, 5000, 53, b"q"),
            &mut out,
        );
        assert_eq!(table.len(), 2);
        table.expire(301 * SECOND, &mut out);
        assert_eq!(flows(&out).len(), 3);
    }

    #[test]
    fn active_timeout_emits_and_keeps_counting() {
        let config = FlowConfig {
            active_timeout: Some(Duration::from_secs(10)),
            ..FlowConfig::default()
        };
        let mut table = FlowTable::new(config);
        let mut out = Vec::new();
        for second in 0..25 {
            feed(
                &mut table,
                second * SECOND,
                &ethernet_udp(A, B, 5000, 9999, b"x"),
                &mut out,
            );
        }
        table.flush(&mut out);
        let records = flows(&out);
        let packets: Vec<u64> = records.iter().map(|record| record.originator.packets).collect();
        assert_eq!(packets, vec![10, 10, 5]);
        assert_eq!(records[0].reason, EndReason::ActiveTimeout);
        assert_eq!(records[2].reason, EndReason::EndOfCapture);
        assert_eq!(table.stats().active_timeouts, 2);
    }

    #[test]
    fn full_table_evicts_the_least_recently_active_flow() {
        let config = FlowConfig {
            max_flows: 2,
            ..FlowConfig::default()
        };
        let mut table = FlowTable::new(config);
        let mut out = Vec::new();
        feed(&mut table, 0, &ethernet_udp(A, B, 1, 9, b""), &mut out);
        feed(&mut table, 1, &ethernet_udp(A, B, 2, 9, b""), &mut out);
        feed(&mut table, 2, &ethernet_udp(A, B, 1, 9, b""), &mut out);
        feed(&mut table, 3, &ethernet_udp(A, B, 3, 9, b""), &mut out);
        let records = flows(&out);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].context.originator.1, 2);
        assert_eq!(records[0].reason, EndReason::Evicted);
        assert_eq!(table.stats().flows_evicted, 1);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn icmp_echo_and_reply_share_a_flow() {
        let mut table = FlowTable::new(FlowConfig::default());
        let mut out = Vec::new();
        feed(&mut table, 0, &ethernet_icmp(A, B, 8, 0), &mut out);
        feed(&mut table, 1, &ethernet_icmp(B, A, 0, 0), &mut out);
        feed(&mut table, 2, &ethernet_icmp(B, A, 3, 1), &mut out);
        table.flush(&mut out);
        let records = flows(&out);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].context.originator, (IpAddr::from(A), 8));
        assert_eq!(records[0].context.responder, (IpAddr::from(B), 0));
        assert_eq!(
            (records[0].originator.packets, records[0].responder.packets),
            (1, 1)
        );
        assert_eq!(records[1].context.originator, (IpAddr::from(B), 3));
        assert_eq!(records[1].context.responder, (IpAddr::from(A), 1));
        assert_eq!(records[1].context.protocol, ICMP);
    }
}
