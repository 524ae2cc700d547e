//! `GET /metrics` on the HTTP input: the collector's counters in the Prometheus text format
//! (version 0.0.4), for a Prometheus server to scrape. The same numbers as `GET /health`, named
//! and typed the Prometheus way: totals since start are counters (`_total`), the agents connected
//! now a gauge.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Counters;
use super::agents::AgentStatus;

/// The content type of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition of the counters and the agents table.
pub(crate) fn render(counters: &Counters, agents: &HashMap<String, AgentStatus>) -> String {
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let mut out = String::new();
    family(
        &mut out,
        "haidang_received_records_total",
        "counter",
        "Records received, by input (agents: durable in the write-ahead log).",
        &[
            ("input=\"udp\"", load(&counters.received_udp)),
            ("input=\"tcp\"", load(&counters.received_tcp)),
            ("input=\"tls\"", load(&counters.received_tls)),
            ("input=\"http\"", load(&counters.received_http)),
            ("input=\"agents\"", load(&counters.received_agents)),
        ],
    );
    let totals: [(&str, &str, &AtomicU64); 10] = [
        (
            "haidang_agent_duplicates_total",
            "Agent records dropped because the write-ahead log already held them (resent after a lost acknowledgement).",
            &counters.agent_duplicates,
        ),
        (
            "haidang_udp_dropped_total",
            "Syslog datagrams dropped because the pipeline was full.",
            &counters.udp_dropped,
        ),
        (
            "haidang_lines_truncated_total",
            "Lines cut at max_line_bytes.",
            &counters.lines_truncated,
        ),
        (
            "haidang_events_total",
            "Events produced by parsing.",
            &counters.events,
        ),
        (
            "haidang_unparsed_total",
            "Lines no parser understood (kept as raw events).",
            &counters.unparsed,
        ),
        ("haidang_rule_matches_total", "Rule matches.", &counters.matches),
        (
            "haidang_alerts_total",
            "Alerts written (detections and correlations).",
            &counters.alerts,
        ),
        (
            "haidang_indexed_events_total",
            "Events committed to the index.",
            &counters.indexed,
        ),
        (
            "haidang_index_errors_total",
            "Batches the index refused.",
            &counters.index_errors,
        ),
        (
            "haidang_input_errors_total",
            "Connections or requests refused or failed (TLS handshakes, bad HTTP bodies).",
            &counters.input_errors,
        ),
    ];
    for (name, help, counter) in totals {
        family(&mut out, name, "counter", help, &[("", load(counter))]);
    }
    let connected = agents.values().filter(|agent| agent.connected).count() as u64;
    family(
        &mut out,
        "haidang_agents",
        "gauge",
        "Agents seen since start, by whether a session is open now.",
        &[
            ("state=\"connected\"", connected),
            ("state=\"disconnected\"", agents.len() as u64 - connected),
        ],
    );
    out
}

/// One metric family: its `# HELP` and `# TYPE` lines, then a sample per label set (`""`: none).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text() {
        let counters = Counters::default();
        counters.received_udp.store(3, Ordering::Relaxed);
        counters.events.store(7, Ordering::Relaxed);
        let text = render(&counters, &HashMap::new());
        assert!(
            text.contains("# TYPE haidang_received_records_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("\nhaidang_received_records_total{input=\"udp\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("\nhaidang_events_total 7\n"), "{text}");
        assert!(
            text.contains("\nhaidang_agents{state=\"connected\"} 0\n"),
            "{text}"
        );
        // Every sample line is `name[{labels}] value` of a family declared above it, and every
        // family has its help and type once.
        let mut declared = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["counter", "gauge"].contains(&kind), "{line}");
                assert!(!declared.contains(&name.to_owned()), "{name} declared twice");
                declared.push(name.to_owned());
            } else if !line.starts_with("# HELP ") {
                let (series, value) = line.rsplit_once(' ').unwrap();
                let name = series.split('{').next().unwrap();
                assert_eq!(declared.last().map(String::as_str), Some(name), "{line}");
                assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{line}");
                value.parse::<u64>().unwrap();
            }
        }
        assert_eq!(declared.len(), 12);
    }
}
