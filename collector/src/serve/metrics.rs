//! `GET /metrics` on the HTTP input: the collector's counters in the Prometheus text format
//! (version 0.0.4), for a Prometheus server to scrape. The same numbers as `GET /health`, named
//! and typed the Prometheus way: totals since start are counters (`_total`), the agents connected
//! now a gauge.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::Counters;
use super::agents::AgentStatus;

/// The content type of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition of the counters and the agents table. Every field of [`Counters`] (the names
/// `/health` shows) is a counter: `received_<input>` become `haidang_received_records_total`
/// with an `input` label, the others `haidang_<name>_total`; so a new counter needs no change here.
pub(crate) fn render(counters: &Counters, agents: &HashMap<String, AgentStatus>) -> String {
    let fields = match serde_json::to_value(counters) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => serde_json::Map::new(),
    };
    let mut received = Vec::new();
    let mut totals = Vec::new();
    for (name, value) in &fields {
        let value = value.as_u64().unwrap_or(0);
        match name.strip_prefix("received_") {
            Some(input) => received.push((format!("input=\"{input}\""), value)),
            None => totals.push((name.as_str(), value)),
        }
    }
    let mut out = String::new();
    family(
        &mut out,
        "haidang_received_records_total",
        "counter",
        "Records received, by input (agents: durable in the write-ahead log).",
        &received,
    );
    for (name, value) in totals {
        let help = HELP
            .iter()
            .find(|(field, _)| *field == name)
            .map_or("A counter of the collector (see /health).", |(_, help)| help);
        family(
            &mut out,
            &format!("haidang_{name}_total"),
            "counter",
            help,
            &[(String::new(), value)],
        );
    }
    let connected = agents.values().filter(|agent| agent.connected).count() as u64;
    family(
        &mut out,
        "haidang_agents",
        "gauge",
        "Agents seen since start, by whether a session is open now.",
        &[
            ("state=\"connected\"".to_owned(), connected),
            (
                "state=\"disconnected\"".to_owned(),
                agents.len() as u64 - connected,
            ),
        ],
    );
    out
}

/// The help line of each counter that is not a `received_` one.
const HELP: &[(&str, &str)] = &[
    (
        "agent_duplicates",
        "Agent records dropped because the write-ahead log already held them (resent after a lost acknowledgement).",
    ),
    (
        "udp_dropped",
        "Syslog datagrams dropped because the pipeline was full.",
    ),
    ("lines_truncated", "Lines cut at max_line_bytes."),
    ("events", "Events produced by parsing."),
    ("unparsed", "Lines no parser understood (kept as raw events)."),
    ("matches", "Rule matches."),
    ("alerts", "Alerts written (detections and correlations)."),
    ("indexed", "Events committed to the index."),
    ("index_errors", "Batches the index refused."),
    (
        "input_errors",
        "Connections or requests refused or failed (TLS handshakes, bad HTTP bodies).",
    ),
];

/// One metric family: its `# HELP` and `# TYPE` lines, then a sample per label set (`""`: none).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, u64)]) {
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
    use std::sync::atomic::Ordering;

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
        // Every counter `/health` shows is there.
        assert_eq!(declared.len(), 12);
        assert!(text.contains("\nhaidang_indexed_total 0\n"), "{text}");
        assert!(
            text.contains("\nhaidang_received_records_total{input=\"agents\"} 0\n"),
            "{text}"
        );
    }
}
