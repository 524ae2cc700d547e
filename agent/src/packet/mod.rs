//! Packet metadata: flow records and DNS, HTTP, TLS and SSH metadata from packets, read from a
//! capture file or captured live with libpcap.
//!
//! ```text
//! frame ──decode──▶ Packet ──FlowTable::process──▶ Output (FlowRecord | AppRecord) ──output──▶ Event
//!        (link, IP,           (5-tuple table,          (Session per flow: Stream,
//!         transport)           timeouts, eviction)      dns / http / tls / ssh)
//! ```
//!
//! [`PacketProcessor`] ties the steps together for one link type; `capture` feeds it from a
//! file ([`read_capture_file`]) or an interface ([`LiveCapture`]); [`pcap_command`] is the
//! `haidang-agent pcap <file>` command, which prints the events as JSON lines.
//!
//! Nothing here trusts a packet: a frame that cannot be decoded is counted in [`PacketStats`] by
//! reason and skipped, every parser bounds what it reads and keeps, and the flow table is bounded
//! by [`FlowConfig::max_flows`].

mod app;
mod capture;
mod community_id;
mod decode;
mod dns;
mod flow;
mod http;
mod output;
mod ssh;
#[cfg(test)]
mod testing;
mod tls;
mod tunnel;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use haidang_event::Event;

pub use capture::{LiveCapture, LiveCaptureConfig, read_capture_file};
pub use community_id::community_id;
pub use decode::{DecodeError, LinkType};
pub use flow::{EndReason, FlowConfig, FlowStats};
pub use output::{SOURCE_TYPE, event_to_json};

use flow::{FlowTable, Output};

/// How many tunnels deep we look (a packet can nest tunnels; a hostile one could nest many).
const MAX_TUNNEL_DEPTH: usize = 4;

/// Errors of reading a capture.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// libpcap could not open or read the capture.
    #[error("capture {source_name}: {message}")]
    Capture {
        /// The file or interface.
        source_name: String,
        /// libpcap's message.
        message: String,
    },
    /// The BPF filter does not compile.
    #[error("filter {filter:?} on {interface}: {message}")]
    Filter {
        /// The interface.
        interface: String,
        /// The filter text.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// The capture's link type is not one we decode.
    #[error("capture {source_name}: unsupported link type {link_type}")]
    UnsupportedLinkType {
        /// The file or interface.
        source_name: String,
        /// The DLT value.
        link_type: i32,
    },
    /// Writing the events failed.
    #[error("writing events: {0}")]
    Write(#[from] std::io::Error),
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
}

/// Settings of packet processing.
#[derive(Clone, Debug, Default)]
pub struct PacketConfig {
    /// The flow table.
    pub flows: FlowConfig,
    /// The `host` of the events (the sensor's name); `None` leaves it unset.
    pub host: Option<String>,
}

/// What processing a capture found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PacketStats {
    /// Frames read.
    pub packets: u64,
    /// Frames that gave a packet to the flow table.
    pub decoded: u64,
    /// Frames that are not IP (ARP, LLDP, ...): skipped.
    pub not_ip: u64,
    /// Link-layer headers cut short.
    pub truncated_link: u64,
    /// IP headers cut short or malformed.
    pub bad_ip_header: u64,
    /// Impossible IP length fields.
    pub bad_ip_length: u64,
    /// Transport headers cut short or malformed.
    pub bad_transport_header: u64,
    /// Packets found inside tunnels (VXLAN, Geneve, GRE, ...) and accounted as flows of their own.
    pub tunnelled: u64,
    /// Tunnel payloads whose inner packet could not be decoded.
    pub bad_tunnelled: u64,
    /// Flow table counters.
    pub flows: FlowStats,
    /// Events emitted, by `event.dataset`.
    pub flow_events: u64,
    pub dns_events: u64,
    pub http_events: u64,
    pub tls_events: u64,
    pub ssh_events: u64,
    /// Packets the kernel or interface dropped (live capture only).
    pub dropped: u64,
    /// Why reading a capture file stopped early (a file cut short), if it did.
    pub read_error: Option<String>,
}

impl PacketStats {
    /// Frames counted as malformed (not counting non-IP frames).
    pub fn malformed(&self) -> u64 {
        self.truncated_link + self.bad_ip_header + self.bad_ip_length + self.bad_transport_header
    }

    fn count_error(&mut self, error: DecodeError) {
        match error {
            DecodeError::TruncatedLink => self.truncated_link += 1,
            DecodeError::NotIp => self.not_ip += 1,
            DecodeError::BadIpHeader => self.bad_ip_header += 1,
            DecodeError::BadIpLength => self.bad_ip_length += 1,
            DecodeError::BadTransportHeader => self.bad_transport_header += 1,
        }
    }

    /// One line for a person: what was read and what came out.
    pub fn summary(&self) -> String {
        format!(
            "{} packets ({} decoded, {} not IP, {} malformed); {} flows ({} evicted); events: \
             {} flow, {} dns, {} http, {} tls, {} ssh; {} dropped",
            self.packets,
            self.decoded,
            self.not_ip,
            self.malformed(),
            self.flows.flows_created,
            self.flows.flows_evicted,
            self.flow_events,
            self.dns_events,
            self.http_events,
            self.tls_events,
            self.ssh_events,
            self.dropped,
        )
    }
}

/// Turns the frames of one capture (one link type) into events.
pub struct PacketProcessor {
    link: LinkType,
    table: FlowTable,
    host: Option<String>,
    stats: PacketStats,
    outputs: Vec<Output>,
}

impl PacketProcessor {
    /// A processor for frames of `link`.
    pub fn new(link: LinkType, config: &PacketConfig) -> PacketProcessor {
        PacketProcessor {
            link,
            table: FlowTable::new(config.flows.clone()),
            host: config.host.clone(),
            stats: PacketStats::default(),
            outputs: Vec::new(),
        }
    }

    /// Processes one frame captured at `timestamp_nanos`; `wire_length` is its length on the wire.
    pub fn process_frame(
        &mut self,
        timestamp_nanos: i64,
        frame: &[u8],
        wire_length: usize,
        sink: &mut dyn FnMut(Event),
    ) {
        self.stats.packets += 1;
        match decode::decode(self.link, frame, wire_length) {
            Ok(packet) => {
                self.stats.decoded += 1;
                self.process_packet(timestamp_nanos, &packet, 0);
            }
            Err(error) => {
                self.stats.count_error(error);
                // Time passes for the table even when a frame is unusable.
                self.table.expire(timestamp_nanos, &mut self.outputs);
            }
        }
        self.drain(sink);
    }

    /// Accounts a packet, and the packet inside it when it is a tunnel.
    fn process_packet(&mut self, timestamp_nanos: i64, packet: &decode::Packet<'_>, depth: usize) {
        let tunnel = if depth < MAX_TUNNEL_DEPTH {
            tunnel::inner(packet)
        } else {
            None
        };
        let Some((inner, outer)) = tunnel else {
            self.table.process(timestamp_nanos, packet, &mut self.outputs);
            return;
        };
        if outer == tunnel::Outer::Kept {
            self.table.process(timestamp_nanos, packet, &mut self.outputs);
        }
        // What the outer headers say is left of the datagram from the inner frame on (the
        // capture may have cut it).
        let wire_remaining = |inner: &[u8]| {
            let offset = (inner.as_ptr() as usize).saturating_sub(packet.ip.as_ptr() as usize);
            (packet.ip_length as usize)
                .saturating_sub(offset)
                .max(inner.len())
        };
        let decoded = match inner {
            tunnel::Inner::Ethernet(frame) => {
                decode::decode(LinkType::Ethernet, frame, wire_remaining(frame))
            }
            tunnel::Inner::Ip(datagram) => decode::decode_ip(datagram, wire_remaining(datagram)),
        };
        match decoded {
            Ok(inner_packet) => {
                self.stats.tunnelled += 1;
                self.process_packet(timestamp_nanos, &inner_packet, depth + 1);
            }
            Err(_) => {
                self.stats.bad_tunnelled += 1;
                if outer == tunnel::Outer::Replaced {
                    self.table.process(timestamp_nanos, packet, &mut self.outputs);
                }
            }
        }
    }

    /// Ends the flows whose timeouts passed at `now_nanos` (call it when no packet came for a
    /// while during a live capture).
    pub fn expire(&mut self, now_nanos: i64, sink: &mut dyn FnMut(Event)) {
        self.table.expire(now_nanos, &mut self.outputs);
        self.drain(sink);
    }

    /// Ends every open flow: the capture is over.
    pub fn finish(&mut self, sink: &mut dyn FnMut(Event)) {
        self.table.flush(&mut self.outputs);
        self.drain(sink);
    }

    /// The counters so far.
    pub fn stats(&self) -> PacketStats {
        let mut stats = self.stats.clone();
        stats.flows = self.table.stats().clone();
        stats
    }

    fn drain(&mut self, sink: &mut dyn FnMut(Event)) {
        let host = self.host.as_deref();
        for output in self.outputs.drain(..) {
            let event = match &output {
                Output::Flow(record) => {
                    self.stats.flow_events += 1;
                    output::flow_event(record, host)
                }
                Output::App(context, record) => {
                    match record {
                        app::AppRecord::Dns(_) => self.stats.dns_events += 1,
                        app::AppRecord::Http(_) => self.stats.http_events += 1,
                        app::AppRecord::Tls(_) => self.stats.tls_events += 1,
                        app::AppRecord::Ssh(_) => self.stats.ssh_events += 1,
                    }
                    output::app_event(context, record, host)
                }
            };
            sink(event);
        }
    }
}

/// `haidang-agent pcap <file>`: writes the events of a capture file (the packets `filter`
/// selects, if given) to `out` as JSON lines, every flow still open at the end included, and
/// returns the counters.
pub fn pcap_command(
    path: &Path,
    filter: Option<&str>,
    config: &PacketConfig,
    out: impl Write,
) -> Result<PacketStats, PacketError> {
    let mut out = std::io::BufWriter::new(out);
    let mut write_error = None;
    let stats = read_capture_file(path, filter, config, &mut |event| {
        if write_error.is_some() {
            return;
        }
        let line = event_to_json(&event);
        let result = serde_json::to_writer(&mut out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        if let Err(error) = result {
            write_error = Some(error);
        }
    })?;
    if let Some(error) = write_error {
        return Err(PacketError::Write(error));
    }
    out.flush()?;
    Ok(stats)
}

/// The usage of the `pcap` command.
pub const PCAP_USAGE: &str = "usage: haidang-agent pcap <file.pcap|file.pcapng> \
[--max-flows N] [--tcp-timeout SECONDS] [--udp-timeout SECONDS] [--icmp-timeout SECONDS] \
[--dns-timeout SECONDS] \
[--active-timeout SECONDS (0: never)] [--filter BPF] [--host NAME]";

/// The parsed arguments of the `pcap` command.
#[derive(Clone, Debug, Default)]
pub struct PcapArguments {
    /// The capture file.
    pub path: PathBuf,
    /// A BPF filter selecting the packets read.
    pub filter: Option<String>,
    /// Processing settings.
    pub config: PacketConfig,
}

/// Parses the arguments after `pcap`.
pub fn parse_pcap_arguments(arguments: &[String]) -> Result<PcapArguments, PacketError> {
    let mut config = PacketConfig::default();
    let mut path = None;
    let mut filter = None;
    let mut iterator = arguments.iter();
    let usage = || PacketError::Usage(PCAP_USAGE.to_owned());
    while let Some(argument) = iterator.next() {
        let mut seconds = || -> Result<Duration, PacketError> {
            let value = iterator.next().ok_or_else(usage)?;
            value
                .parse::<f64>()
                .ok()
                .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| PacketError::Usage(format!("{argument}: not a duration: {value}")))
        };
        match argument.as_str() {
            "--tcp-timeout" => config.flows.tcp_idle_timeout = seconds()?,
            "--udp-timeout" => config.flows.udp_idle_timeout = seconds()?,
            "--icmp-timeout" => config.flows.other_idle_timeout = seconds()?,
            "--dns-timeout" => config.flows.dns_idle_timeout = seconds()?,
            "--active-timeout" => {
                let timeout = seconds()?;
                config.flows.active_timeout = (!timeout.is_zero()).then_some(timeout);
            }
            "--max-flows" => {
                let value = iterator.next().ok_or_else(usage)?;
                config.flows.max_flows = value
                    .parse()
                    .ok()
                    .filter(|flows| *flows > 0)
                    .ok_or_else(|| PacketError::Usage(format!("--max-flows: {value}")))?;
            }
            "--host" => config.host = Some(iterator.next().ok_or_else(usage)?.clone()),
            "--filter" => filter = Some(iterator.next().ok_or_else(usage)?.clone()),
            "-h" | "--help" => return Err(usage()),
            other if other.starts_with("--") => {
                return Err(PacketError::Usage(format!(
                    "unknown option {other}\n{PCAP_USAGE}"
                )));
            }
            other => {
                if path.replace(PathBuf::from(other)).is_some() {
                    return Err(usage());
                }
            }
        }
    }
    Ok(PcapArguments {
        path: path.ok_or_else(usage)?,
        filter,
        config,
    })
}

/// The whole `pcap` command for a binary: parses `arguments`, writes events to stdout and a
/// summary to stderr.
pub fn pcap_main(arguments: &[String]) -> ExitCode {
    let result = parse_pcap_arguments(arguments).and_then(|arguments| {
        let stdout = std::io::stdout().lock();
        pcap_command(
            &arguments.path,
            arguments.filter.as_deref(),
            &arguments.config,
            stdout,
        )
    });
    match result {
        Ok(stats) => {
            eprintln!("haidang-agent pcap: {}", stats.summary());
            ExitCode::SUCCESS
        }
        Err(PacketError::Usage(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("haidang-agent pcap: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::decode::TcpFlags;
    use crate::packet::testing::{ethernet_tcp, ethernet_udp, write_pcap};

    #[test]
    fn pcap_command_prints_flows_and_app_events_as_json_lines() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("small.pcap");
        let client = [192, 168, 1, 10];
        let server = [93, 184, 216, 34];
        let query = crate::packet::dns::tests::message(0x1234, 0x0100, "example.com", &[]);
        let answer =
            crate::packet::dns::tests::message(0x1234, 0x8180, "example.com", &[(1, vec![93, 184, 216, 34])]);
        let request = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1\r\n\r\n";
        let second = 1_000_000_000;
        let frames = vec![
            (0, ethernet_udp(client, [192, 168, 1, 1], 53000, 53, &query)),
            (
                second / 10,
                ethernet_udp([192, 168, 1, 1], client, 53, 53000, &answer),
            ),
            (
                second,
                ethernet_tcp(client, server, 41000, 80, TcpFlags::SYN, 10, b""),
            ),
            (
                second + 1,
                ethernet_tcp(server, client, 80, 41000, TcpFlags::SYN | TcpFlags::ACK, 90, b""),
            ),
            (
                second + 2,
                ethernet_tcp(
                    client,
                    server,
                    41000,
                    80,
                    TcpFlags::ACK | TcpFlags::PSH,
                    11,
                    request,
                ),
            ),
            // Garbage: counted, not fatal.
            (second + 3, vec![0xff; 20]),
            (
                second + 4,
                ethernet_tcp(client, server, 41000, 80, TcpFlags::ACK, 11, b"")[..30].to_vec(),
            ),
        ];
        write_pcap(&path, 1, &frames);
        let mut output = Vec::new();
        let stats = pcap_command(&path, None, &PacketConfig::default(), &mut output).unwrap();
        assert_eq!(stats.packets, 7);
        assert_eq!(stats.decoded, 5);
        assert_eq!(stats.malformed(), 1);
        assert_eq!(stats.not_ip, 1);
        let lines: Vec<serde_json::Value> = String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let datasets: Vec<&str> = lines
            .iter()
            .map(|line| line["fields"]["event.dataset"].as_str().unwrap())
            .collect();
        assert_eq!(datasets, vec!["dns", "http", "flow", "flow"]);
        let http = &lines[1];
        assert_eq!(http["logsource"]["category"], "proxy");
        assert_eq!(http["fields"]["url.domain"], "example.com");
        assert_eq!(http["fields"]["user_agent.original"], "test/1");
        let dns = &lines[0];
        assert_eq!(dns["fields"]["dns.question.name"], "example.com");
        assert_eq!(dns["fields"]["dns.answers.data"], "93.184.216.34");
        let udp = &lines[2];
        assert_eq!(udp["fields"]["network.transport"], "udp");
        assert_eq!(udp["fields"]["destination.packets"], 1);
        let tcp = &lines[3];
        assert_eq!(tcp["fields"]["source.packets"], 2);
        assert_eq!(tcp["fields"]["source.bytes"], 40 + 40 + request.len());
        assert_eq!(tcp["fields"]["event.reason"], "end_of_capture");
    }

    /// Random and mutated frames on every link type: each is decoded or counted, none panics.
    #[test]
    fn hostile_frames_are_counted_never_panic() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let hello =
            crate::packet::tls::tests::client_hello_record(&crate::packet::tls::tests::chrome_hello());
        let dns = crate::packet::dns::tests::message(1, 0x8180, "a.example", &[(1, vec![1, 2, 3, 4])]);
        let seeds = [
            ethernet_tcp([10, 0, 0, 1], [10, 0, 0, 2], 5555, 443, TcpFlags::ACK, 1, &hello),
            ethernet_udp([10, 0, 0, 2], [10, 0, 0, 1], 53, 5555, &dns),
            ethernet_tcp(
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                5556,
                80,
                TcpFlags::ACK,
                1,
                b"GET / HTTP/1.1\r\n\r\n",
            ),
            ethernet_udp(
                [10, 0, 0, 1],
                [10, 0, 0, 2],
                5557,
                4789,
                &[0x08, 0, 0, 0, 0, 0, 1, 0],
            ),
        ];
        let links = [
            LinkType::Ethernet,
            LinkType::Null,
            LinkType::Loop,
            LinkType::Raw,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Ppp,
            LinkType::Nflog,
            LinkType::Ieee80211,
            LinkType::Radiotap,
        ];
        for link in links {
            let config = PacketConfig {
                flows: FlowConfig {
                    max_flows: 64,
                    ..FlowConfig::default()
                },
                host: None,
            };
            let mut processor = PacketProcessor::new(link, &config);
            let mut events = 0;
            for index in 0..3000_i64 {
                let mut frame = if index % 2 == 0 {
                    let length = (next() % 160) as usize;
                    (0..length).map(|_| next() as u8).collect::<Vec<u8>>()
                } else {
                    seeds[(next() % seeds.len() as u64) as usize].clone()
                };
                for _ in 0..(next() % 5) {
                    if !frame.is_empty() {
                        let at = (next() % frame.len() as u64) as usize;
                        frame[at] = next() as u8;
                    }
                }
                let wire = frame.len() + (next() % 3) as usize;
                frame.truncate(
                    frame.len() - (next() % 2) as usize * (next() % 40) as usize % (frame.len() + 1),
                );
                processor.process_frame(index * 1_000_000, &frame, wire, &mut |_| events += 1);
            }
            processor.finish(&mut |_| events += 1);
            let stats = processor.stats();
            assert_eq!(stats.packets, 3000, "{link:?}");
            assert_eq!(stats.decoded + stats.not_ip + stats.malformed(), 3000, "{link:?}");
            assert!(events > 0 || link != LinkType::Ethernet);
        }
    }

    #[test]
    fn pcap_arguments_set_timeouts() {
        let arguments: Vec<String> = ["trace.pcap", "--active-timeout", "0", "--udp-timeout", "30"]
            .iter()
            .map(|argument| argument.to_string())
            .collect();
        let parsed = parse_pcap_arguments(&arguments).unwrap();
        assert_eq!(parsed.path, PathBuf::from("trace.pcap"));
        assert_eq!(parsed.config.flows.active_timeout, None);
        assert_eq!(parsed.config.flows.udp_idle_timeout, Duration::from_secs(30));
        assert!(parse_pcap_arguments(&[]).is_err());
        assert!(parse_pcap_arguments(&["--bogus".to_owned()]).is_err());
    }

    #[test]
    fn missing_capture_file_is_an_error() {
        let result = pcap_command(
            Path::new("/nonexistent/capture.pcap"),
            None,
            &PacketConfig::default(),
            Vec::new(),
        );
        assert!(matches!(result, Err(PacketError::Capture { .. })));
    }
}
