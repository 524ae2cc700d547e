//! libpcap: frames from a capture file (pcap or pcapng) or from a live interface.
//!
//! Live capture runs the handle in non-blocking mode and polls: in blocking mode libpcap's
//! `next_packet` may not return on an idle interface despite its timeout, and then neither the
//! stop flag nor the idle timeouts would be looked at.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use haidang_event::Event;

use super::{LinkType, PacketConfig, PacketError, PacketProcessor, PacketStats};

fn capture_error(source_name: &str, error: pcap::Error) -> PacketError {
    PacketError::Capture {
        source_name: source_name.to_owned(),
        message: error.to_string(),
    }
}

fn timestamp_nanos(header: &pcap::PacketHeader) -> i64 {
    // Handles are opened with nanosecond precision: `tv_usec` holds nanoseconds.
    header
        .ts
        .tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(header.ts.tv_usec)
}

fn link_type(source_name: &str, link: pcap::Linktype) -> Result<LinkType, PacketError> {
    LinkType::from_dlt(link.0).ok_or(PacketError::UnsupportedLinkType {
        source_name: source_name.to_owned(),
        link_type: link.0,
    })
}

/// Reads a capture file (pcap or pcapng) and hands its events to `sink`, every flow still open
/// at the end of the file included; `filter` (BPF) selects the packets read. A file cut short
/// ends the reading where it breaks; the flows read so far are still emitted and
/// [`PacketStats::read_error`] says what happened.
pub fn read_capture_file(
    path: &Path,
    filter: Option<&str>,
    config: &PacketConfig,
    sink: &mut dyn FnMut(Event),
) -> Result<PacketStats, PacketError> {
    let name = path.display().to_string();
    let mut capture = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
        .map_err(|error| capture_error(&name, error))?;
    if let Some(filter) = filter {
        capture
            .filter(filter, true)
            .map_err(|error| PacketError::Filter {
                interface: name.clone(),
                filter: filter.to_owned(),
                message: error.to_string(),
            })?;
    }
    let link = link_type(&name, capture.get_datalink())?;
    let mut processor = PacketProcessor::new(link, config);
    let mut read_error = None;
    loop {
        match capture.next_packet() {
            Ok(packet) => {
                let wire_length = usize::try_from(packet.header.len).unwrap_or(usize::MAX);
                processor.process_frame(timestamp_nanos(packet.header), packet.data, wire_length, sink);
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(error) => {
                read_error = Some(error.to_string());
                break;
            }
        }
    }
    processor.finish(sink);
    let mut stats = processor.stats();
    stats.read_error = read_error;
    Ok(stats)
}

/// Settings of a live capture on one interface.
#[derive(Clone, Debug)]
pub struct LiveCaptureConfig {
    /// The interface name (`eth0`, `any`).
    pub interface: String,
    /// A BPF filter (`tcp or udp`, `not port 22`); `None` captures everything.
    pub filter: Option<String>,
    /// Bytes kept of each frame.
    pub snaplen: i32,
    /// Whether to put the interface in promiscuous mode.
    pub promiscuous: bool,
    /// The kernel buffer size in bytes.
    pub buffer_size: i32,
    /// How long to sleep when no packet is waiting.
    pub poll_interval: Duration,
}

impl LiveCaptureConfig {
    /// Defaults for an interface: whole frames, promiscuous, a 16 MiB buffer, 10 ms polls.
    pub fn new(interface: impl Into<String>) -> LiveCaptureConfig {
        LiveCaptureConfig {
            interface: interface.into(),
            filter: None,
            snaplen: 65535,
            promiscuous: true,
            buffer_size: 16 << 20,
            poll_interval: Duration::from_millis(10),
        }
    }
}

/// A live capture on one interface, with its own flow table.
pub struct LiveCapture {
    capture: pcap::Capture<pcap::Active>,
    processor: PacketProcessor,
    config: LiveCaptureConfig,
}

impl LiveCapture {
    /// Opens the interface (needs `CAP_NET_RAW`, or root) and installs the filter.
    pub fn open(
        config: &LiveCaptureConfig,
        packet_config: &PacketConfig,
    ) -> Result<LiveCapture, PacketError> {
        let interface = config.interface.as_str();
        if let Some(filter) = &config.filter {
            check_filter(interface, filter)?;
        }
        let mut capture = pcap::Capture::from_device(interface)
            .and_then(|inactive| {
                inactive
                    .promisc(config.promiscuous)
                    .snaplen(config.snaplen)
                    .buffer_size(config.buffer_size)
                    .immediate_mode(true)
                    .precision(pcap::Precision::Nano)
                    .timeout(100)
                    .open()
            })
            .and_then(|active| active.setnonblock())
            .map_err(|error| capture_error(interface, error))?;
        if let Some(filter) = &config.filter {
            capture
                .filter(filter, true)
                .map_err(|error| PacketError::Filter {
                    interface: interface.to_owned(),
                    filter: filter.clone(),
                    message: error.to_string(),
                })?;
        }
        let link = link_type(interface, capture.get_datalink())?;
        Ok(LiveCapture {
            capture,
            processor: PacketProcessor::new(link, packet_config),
            config: config.clone(),
        })
    }

    /// Captures until `stop` is set, handing events to `sink`; idle flows are ended on wall-clock
    /// time even when no packet arrives. At the end every open flow is emitted.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        sink: &mut dyn FnMut(Event),
    ) -> Result<PacketStats, PacketError> {
        let mut last_expiry = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            match self.capture.next_packet() {
                Ok(packet) => {
                    let wire_length = usize::try_from(packet.header.len).unwrap_or(usize::MAX);
                    self.processor.process_frame(
                        timestamp_nanos(packet.header),
                        packet.data,
                        wire_length,
                        sink,
                    );
                }
                Err(pcap::Error::TimeoutExpired) => std::thread::sleep(self.config.poll_interval),
                Err(pcap::Error::NoMorePackets) => break,
                Err(error) => return Err(capture_error(&self.config.interface, error)),
            }
            if last_expiry.elapsed() >= Duration::from_secs(1) {
                last_expiry = Instant::now();
                self.processor.expire(wall_clock_nanos(), sink);
            }
        }
        self.processor.finish(sink);
        let mut stats = self.processor.stats();
        if let Ok(counters) = self.capture.stats() {
            stats.dropped = u64::from(counters.dropped) + u64::from(counters.if_dropped);
        }
        Ok(stats)
    }
}

fn wall_clock_nanos() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Compiles a filter without opening an interface, so a typo is reported without privileges.
fn check_filter(interface: &str, filter: &str) -> Result<(), PacketError> {
    let dead =
        pcap::Capture::dead(pcap::Linktype::ETHERNET).map_err(|error| capture_error(interface, error))?;
    dead.compile(filter, true)
        .map(|_| ())
        .map_err(|error| PacketError::Filter {
            interface: interface.to_owned(),
            filter: filter.to_owned(),
            message: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn bad_filter_is_reported_before_opening() {
        let mut config = LiveCaptureConfig::new("lo");
        config.filter = Some("tcp port banana".to_owned());
        let result = LiveCapture::open(&config, &PacketConfig::default());
        assert!(matches!(result, Err(PacketError::Filter { .. })));
    }

    #[test]
    fn missing_interface_is_an_error() {
        let config = LiveCaptureConfig::new("haidang-no-such-interface0");
        let result = LiveCapture::open(&config, &PacketConfig::default());
        assert!(matches!(result, Err(PacketError::Capture { .. })));
    }

    /// Captures a UDP datagram sent to ourselves on the loopback interface, and stops on an idle
    /// interface. Needs root or CAP_NET_RAW: `cargo test -p haidang-agent -- --ignored live`.
    #[test]
    #[ignore = "needs root (CAP_NET_RAW) and a loopback interface"]
    fn live_capture_on_loopback_sees_udp_and_stops_when_idle() {
        let mut config = LiveCaptureConfig::new("lo");
        config.filter = Some("udp port 39999".to_owned());
        let mut capture = LiveCapture::open(&config, &PacketConfig::default()).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                socket.send_to(b"ping", "127.0.0.1:39999").unwrap();
                // The interface then stays idle: the capture must still notice the stop flag.
                std::thread::sleep(Duration::from_millis(500));
                stop.store(true, Ordering::Relaxed);
            })
        };
        let mut events = Vec::new();
        let stats = capture.run(&stop, &mut |event| events.push(event)).unwrap();
        sender.join().unwrap();
        assert_eq!(stats.decoded, 1);
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].fields.get("destination.port"),
            Some(&haidang_event::Value::Int(39999))
        );
    }
}
