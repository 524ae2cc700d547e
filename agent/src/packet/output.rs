//! Flow and application records as [`Event`]s with ECS field names, and events as JSON lines.
//!
//! Every event has `source_type: packet`, `event.dataset` (`flow`, `dns`, `http`, `tls`, `ssh`)
//! and the flow's endpoints (`source.*` is the originator), `network.transport`,
//! `network.iana_number`, `network.type` and `network.community_id`. The declared Sigma
//! logsource routes each kind to the rules written for it:
//!
//! | dataset | logsource | why |
//! |-|-|-|
//! | flow | `category: network_connection` | the product-less flow route in `network.yml` |
//! | dns | `category: dns` | SigmaHQ and our DNS rules; `network.yml` maps `query`, `answer`, `record_type` |
//! | http | `category: proxy` | network-observed requests are what proxy rules look at; `web.yml` maps `c-uri`, `c-useragent`, `cs-host` |
//! | tls | `category: network`, `service: tls` | taxonomy v2.1 naming; no rules yet |
//! | ssh | `category: network`, `service: ssh` | taxonomy v2.1 naming; no rules yet |
//!
//! ICMP flows carry the ICMP type as `source.port` and the counter-type or code as
//! `destination.port`, as Zeek's conn.log and the Community ID do.

use haidang_event::{Event, Fields, Logsource, Value};
use serde_json::Value as Json;

use super::app::AppRecord;
use super::dns::{self, DnsRecord};
use super::flow::{FlowContext, FlowRecord};
use super::http::{self, HttpRecord};
use super::ssh::SshRecord;
use super::tls::{self, TlsRecord};

/// The `source_type` of every packet-derived event.
pub const SOURCE_TYPE: &str = "packet";

fn int(value: u64) -> Value {
    Value::Int(i64::try_from(value).unwrap_or(i64::MAX))
}

/// RFC 3339 with nanoseconds, UTC.
pub(crate) fn format_nanos(nanos: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .ok()
        .and_then(|time| time.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The IANA keyword of an IP protocol, as ECS `network.transport` wants it.
pub(crate) fn transport_name(protocol: u8) -> String {
    match protocol {
        1 => "icmp".to_owned(),
        2 => "igmp".to_owned(),
        6 => "tcp".to_owned(),
        17 => "udp".to_owned(),
        47 => "gre".to_owned(),
        50 => "esp".to_owned(),
        51 => "ah".to_owned(),
        58 => "ipv6-icmp".to_owned(),
        89 => "ospf".to_owned(),
        103 => "pim".to_owned(),
        112 => "vrrp".to_owned(),
        132 => "sctp".to_owned(),
        other => other.to_string(),
    }
}

fn base_event(
    timestamp: i64,
    host: Option<&str>,
    logsource: Logsource,
    dataset: &str,
    context: &FlowContext,
) -> Event {
    let mut fields = Fields::new();
    fields.push("event.dataset", dataset);
    fields.push("source.ip", context.originator.0.to_string());
    fields.push("source.port", i64::from(context.originator.1));
    fields.push("destination.ip", context.responder.0.to_string());
    fields.push("destination.port", i64::from(context.responder.1));
    fields.push("network.transport", transport_name(context.protocol));
    fields.push("network.iana_number", context.protocol.to_string());
    let network_type = if context.originator.0.is_ipv4() {
        "ipv4"
    } else {
        "ipv6"
    };
    fields.push("network.type", network_type);
    fields.push("network.community_id", context.community_id.clone());
    Event {
        timestamp_nanos: Some(timestamp),
        host: host.map(str::to_owned),
        source_type: Some(SOURCE_TYPE.to_owned()),
        logsource,
        fields,
        ..Event::default()
    }
}

fn logsource(category: &str, service: Option<&str>) -> Logsource {
    Logsource {
        product: None,
        category: Some(category.to_owned()),
        service: service.map(str::to_owned),
    }
}

/// The event of a flow record.
pub(crate) fn flow_event(record: &FlowRecord, host: Option<&str>) -> Event {
    let mut event = base_event(
        record.start_nanos,
        host,
        logsource("network_connection", None),
        "flow",
        &record.context,
    );
    let fields = &mut event.fields;
    fields.push("event.start", format_nanos(record.start_nanos));
    fields.push("event.end", format_nanos(record.end_nanos));
    fields.push(
        "event.duration",
        record.end_nanos.saturating_sub(record.start_nanos),
    );
    fields.push("event.reason", record.reason.name());
    fields.push("source.packets", int(record.originator.packets));
    fields.push("source.bytes", int(record.originator.bytes));
    fields.push("destination.packets", int(record.responder.packets));
    fields.push("destination.bytes", int(record.responder.bytes));
    fields.push(
        "network.packets",
        int(record.originator.packets + record.responder.packets),
    );
    fields.push(
        "network.bytes",
        int(record.originator.bytes + record.responder.bytes),
    );
    if record.context.protocol == 6 {
        fields.push("tcp.flags.source", record.originator.tcp_flags.letters());
        fields.push("tcp.flags.destination", record.responder.tcp_flags.letters());
    }
    event
}

/// The event of an application record.
pub(crate) fn app_event(context: &FlowContext, record: &AppRecord, host: Option<&str>) -> Event {
    match record {
        AppRecord::Dns(dns) => dns_event(context, dns, host),
        AppRecord::Http(http) => http_event(context, http, host),
        AppRecord::Tls(tls) => tls_event(context, tls, host),
        AppRecord::Ssh(ssh) => ssh_event(context, ssh, host),
    }
}

fn dns_event(context: &FlowContext, record: &DnsRecord, host: Option<&str>) -> Event {
    let mut event = base_event(
        record.timestamp_nanos,
        host,
        logsource("dns", None),
        "dns",
        context,
    );
    let fields = &mut event.fields;
    fields.push("network.protocol", "dns");
    fields.push("dns.id", i64::from(record.id));
    fields.push("dns.op_code", i64::from(record.opcode));
    let kind = if record.response.is_some() {
        "answer"
    } else {
        "query"
    };
    fields.push("dns.type", kind);
    if let Some(question) = &record.question {
        fields.push("dns.question.name", question.name.clone());
        fields.push("dns.question.type", dns::type_name(question.record_type));
        fields.push("dns.question.class", dns::class_name(question.class));
    }
    if let Some(response) = &record.response {
        fields.push(
            "dns.response_code",
            dns::response_code_name(response.response_code),
        );
        for flag in &response.flags {
            fields.push("dns.header_flags", *flag);
        }
        for answer in &response.answers {
            fields.push("dns.answers.name", answer.name.clone());
            fields.push("dns.answers.type", dns::type_name(answer.record_type));
            fields.push("dns.answers.ttl", i64::from(answer.ttl));
            fields.push("dns.answers.data", answer.data.clone());
        }
        for answer in &response.answers {
            if matches!(answer.record_type, 1 | 28) {
                fields.push("dns.resolved_ip", answer.data.clone());
            }
        }
    }
    event
}

fn http_event(context: &FlowContext, record: &HttpRecord, host: Option<&str>) -> Event {
    let mut event = base_event(
        record.timestamp_nanos,
        host,
        logsource("proxy", None),
        "http",
        context,
    );
    let fields = &mut event.fields;
    fields.push("network.protocol", "http");
    fields.push("http.request.method", record.method.clone());
    fields.push("url.original", record.target.clone());
    if let Some(version) = &record.version {
        fields.push("http.version", version.clone());
    }
    let parts = http::url_parts(&record.target, record.host.as_deref());
    if let Some(domain) = parts.domain {
        fields.push("url.domain", domain);
    }
    if let Some(port) = parts.port {
        fields.push("url.port", i64::from(port));
    }
    if let Some(path) = parts.path {
        fields.push("url.path", path);
    }
    if let Some(query) = parts.query {
        fields.push("url.query", query);
    }
    if let Some(extension) = parts.extension {
        fields.push("url.extension", extension);
    }
    if let Some(user_agent) = &record.user_agent {
        fields.push("user_agent.original", user_agent.clone());
    }
    if let Some(referrer) = &record.referrer {
        fields.push("http.request.referrer", referrer.clone());
    }
    event
}

fn tls_event(context: &FlowContext, record: &TlsRecord, host: Option<&str>) -> Event {
    let mut event = base_event(
        record.timestamp_nanos,
        host,
        logsource("network", Some("tls")),
        "tls",
        context,
    );
    let fields = &mut event.fields;
    fields.push("network.protocol", "tls");
    let (version, protocol) = tls::version_name(record.version());
    fields.push("tls.version", version);
    fields.push("tls.version_protocol", protocol);
    fields.push(
        "tls.established",
        Value::Bool(record.negotiated_version.is_some()),
    );
    if let Some(name) = &record.client.server_name {
        fields.push("tls.client.server_name", name.clone());
    }
    fields.push("tls.client.ja3", record.client.ja3());
    fields.push("tls.client.ja4", record.client.ja4());
    for protocol in &record.client.alpn {
        fields.push(
            "tls.client.supported_protocols",
            String::from_utf8_lossy(protocol).into_owned(),
        );
    }
    if let Some(alpn) = &record.negotiated_alpn {
        fields.push("tls.next_protocol", alpn.clone());
    }
    event
}

fn ssh_event(context: &FlowContext, record: &SshRecord, host: Option<&str>) -> Event {
    let mut event = base_event(
        record.timestamp_nanos,
        host,
        logsource("network", Some("ssh")),
        "ssh",
        context,
    );
    let fields = &mut event.fields;
    fields.push("network.protocol", "ssh");
    if let Some(version) = record.protocol_version() {
        fields.push("ssh.version", version);
    }
    if let Some(client) = &record.client {
        fields.push("ssh.client", client.clone());
    }
    if let Some(server) = &record.server {
        fields.push("ssh.server", server.clone());
    }
    event
}

/// The JSON form of an event, the shape the collector reads back (`event_from_json`):
/// `timestamp` (RFC 3339), `host`, `source_type`, `logsource`, `fields` (a repeated field becomes
/// a list) and `raw` when there is one.
pub fn event_to_json(event: &Event) -> Json {
    let mut object = serde_json::Map::new();
    if let Some(nanos) = event.timestamp_nanos {
        object.insert("timestamp".into(), format_nanos(nanos).into());
    }
    for (key, value) in [
        ("host", &event.host),
        ("agency", &event.agency),
        ("system", &event.system),
        ("source_type", &event.source_type),
    ] {
        if let Some(value) = value {
            object.insert(key.into(), value.clone().into());
        }
    }
    if !event.logsource.is_empty() {
        let mut logsource = serde_json::Map::new();
        for (key, value) in [
            ("product", &event.logsource.product),
            ("category", &event.logsource.category),
            ("service", &event.logsource.service),
        ] {
            if let Some(value) = value {
                logsource.insert(key.into(), value.clone().into());
            }
        }
        object.insert("logsource".into(), Json::Object(logsource));
    }
    let mut fields = serde_json::Map::new();
    for (name, value) in event.fields.iter() {
        let value = match value {
            Value::Null => Json::Null,
            Value::Bool(flag) => Json::Bool(*flag),
            Value::Int(number) => Json::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number).map_or(Json::Null, Json::Number),
            Value::Str(text) => Json::String(text.clone()),
        };
        match fields.get_mut(name) {
            Some(Json::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Json::Array(vec![first, value]);
            }
            None => {
                fields.insert(name.to_owned(), value);
            }
        }
    }
    object.insert("fields".into(), Json::Object(fields));
    if !event.raw.is_empty() {
        object.insert("raw".into(), event.raw.clone().into());
    }
    Json::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::decode::TcpFlags;
    use crate::packet::flow::{Counts, EndReason};

    #[test]
    fn flow_events_carry_ecs_fields_and_logsource() {
        let record = FlowRecord {
            context: FlowContext {
                protocol: 6,
                originator: ("10.0.0.1".parse().unwrap(), 40000),
                responder: ("10.0.0.2".parse().unwrap(), 443),
                community_id: "1:abc".to_owned(),
            },
            start_nanos: 1_700_000_000_000_000_000,
            end_nanos: 1_700_000_001_500_000_000,
            originator: Counts {
                packets: 3,
                bytes: 180,
                tcp_flags: TcpFlags(TcpFlags::SYN | TcpFlags::ACK),
            },
            responder: Counts::default(),
            reason: EndReason::IdleTimeout,
        };
        let event = flow_event(&record, Some("sensor-1"));
        assert_eq!(event.logsource.category.as_deref(), Some("network_connection"));
        assert_eq!(event.fields.get("source.bytes"), Some(&Value::Int(180)));
        assert_eq!(
            event.fields.get("event.duration"),
            Some(&Value::Int(1_500_000_000))
        );
        let json = event_to_json(&event);
        assert_eq!(json["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(json["source_type"], "packet");
        assert_eq!(json["fields"]["network.transport"], "tcp");
        assert_eq!(json["fields"]["event.end"], "2023-11-14T22:13:21.5Z");
        assert_eq!(json["fields"]["tcp.flags.source"], "SA");
        assert_eq!(json["host"], "sensor-1");
    }
}
