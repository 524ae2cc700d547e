//! Palo Alto PAN-OS syslog CSV: TRAFFIC, THREAT, SYSTEM, CONFIG, GLOBALPROTECT, HIP-MATCH, USERID
//! and the other log types.
//!
//! Each type is a fixed column order (PAN-OS 10.x "Syslog Field Descriptions"): the first seven
//! columns are shared (receive time, serial, type, subtype, generated time), the rest depend on
//! the type. Columns are named after PAN-OS's own field names (`src`, `dst`, `rule`, `app`,
//! `action`, `threatid`, `misc`...), empty and FUTURE_USE columns are left out, and the usual ones
//! are repeated under their ECS names. Fields may be quoted (`"a, b"`, `""` for a quote); columns a
//! newer PAN-OS appends at the end are ignored.

use std::borrow::Cow;

use haidang_event::Fields;
use nom::bytes::complete::take_till;
use nom::character::complete::char;
use nom::{IResult, Parser};

use super::keyvalue::ecs::{self, Kind, Out};
use super::{ParseContext, Recognized, logsource};

/// Columns 0-6, shared by every type (`None`: FUTURE_USE).
const COMMON: [Option<&str>; 7] = [
    None,
    Some("receive_time"),
    Some("serial"),
    Some("type"),
    Some("subtype"),
    None,
    Some("time_generated"),
];

/// Columns 7.. of TRAFFIC logs.
const TRAFFIC: &[Option<&str>] = &[
    Some("src"),
    Some("dst"),
    Some("natsrc"),
    Some("natdst"),
    Some("rule"),
    Some("srcuser"),
    Some("dstuser"),
    Some("app"),
    Some("vsys"),
    Some("from"),
    Some("to"),
    Some("inbound_if"),
    Some("outbound_if"),
    Some("logset"),
    None,
    Some("sessionid"),
    Some("repeatcnt"),
    Some("sport"),
    Some("dport"),
    Some("natsport"),
    Some("natdport"),
    Some("flags"),
    Some("proto"),
    Some("action"),
    Some("bytes"),
    Some("bytes_sent"),
    Some("bytes_received"),
    Some("packets"),
    Some("start"),
    Some("elapsed"),
    Some("category"),
    None,
    Some("seqno"),
    Some("actionflags"),
    Some("srcloc"),
    Some("dstloc"),
    None,
    Some("pkts_sent"),
    Some("pkts_received"),
    Some("session_end_reason"),
    Some("dg_hier_level_1"),
    Some("dg_hier_level_2"),
    Some("dg_hier_level_3"),
    Some("dg_hier_level_4"),
    Some("vsys_name"),
    Some("device_name"),
    Some("action_source"),
    Some("src_uuid"),
    Some("dst_uuid"),
    Some("tunnelid"),
    Some("monitortag"),
    Some("parent_session_id"),
    Some("parent_start_time"),
    Some("tunnel"),
    Some("assoc_id"),
    Some("chunks"),
    Some("chunks_sent"),
    Some("chunks_received"),
    Some("rule_uuid"),
    Some("http2_connection"),
    Some("link_change_count"),
    Some("policy_id"),
    Some("link_switches"),
    Some("sdwan_cluster"),
    Some("sdwan_device_type"),
    Some("sdwan_cluster_type"),
    Some("sdwan_site"),
    Some("dynusergroup_name"),
];

/// Columns 7.. of THREAT logs (URL filtering, WildFire and data filtering logs share it).
const THREAT: &[Option<&str>] = &[
    Some("src"),
    Some("dst"),
    Some("natsrc"),
    Some("natdst"),
    Some("rule"),
    Some("srcuser"),
    Some("dstuser"),
    Some("app"),
    Some("vsys"),
    Some("from"),
    Some("to"),
    Some("inbound_if"),
    Some("outbound_if"),
    Some("logset"),
    None,
    Some("sessionid"),
    Some("repeatcnt"),
    Some("sport"),
    Some("dport"),
    Some("natsport"),
    Some("natdport"),
    Some("flags"),
    Some("proto"),
    Some("action"),
    Some("misc"),
    Some("threatid"),
    Some("category"),
    Some("severity"),
    Some("direction"),
    Some("seqno"),
    Some("actionflags"),
    Some("srcloc"),
    Some("dstloc"),
    None,
    Some("contenttype"),
    Some("pcap_id"),
    Some("filedigest"),
    Some("cloud"),
    Some("url_idx"),
    Some("user_agent"),
    Some("filetype"),
    Some("xff"),
    Some("referer"),
    Some("sender"),
    Some("subject"),
    Some("recipient"),
    Some("reportid"),
    Some("dg_hier_level_1"),
    Some("dg_hier_level_2"),
    Some("dg_hier_level_3"),
    Some("dg_hier_level_4"),
    Some("vsys_name"),
    Some("device_name"),
    None,
    Some("src_uuid"),
    Some("dst_uuid"),
    Some("http_method"),
    Some("tunnel_id"),
    Some("monitortag"),
    Some("parent_session_id"),
    Some("parent_start_time"),
    Some("tunnel"),
    Some("thr_category"),
    Some("contentver"),
    None,
    Some("assoc_id"),
    Some("ppid"),
    Some("http_headers"),
    Some("url_category_list"),
    Some("rule_uuid"),
    Some("http2_connection"),
    Some("dynusergroup_name"),
];

/// Columns 7.. of SYSTEM logs (`fmt` and `id` are FUTURE_USE in the 10.x documentation).
const SYSTEM: &[Option<&str>] = &[
    Some("vsys"),
    Some("eventid"),
    Some("object"),
    Some("fmt"),
    Some("id"),
    Some("module"),
    Some("severity"),
    Some("opaque"),
    Some("seqno"),
    Some("actionflags"),
    Some("dg_hier_level_1"),
    Some("dg_hier_level_2"),
    Some("dg_hier_level_3"),
    Some("dg_hier_level_4"),
    Some("vsys_name"),
    Some("device_name"),
    None,
    None,
    Some("high_res_timestamp"),
];

/// Columns 7.. of CONFIG logs.
const CONFIG: &[Option<&str>] = &[
    Some("host"),
    Some("vsys"),
    Some("cmd"),
    Some("admin"),
    Some("client"),
    Some("result"),
    Some("path"),
    Some("before_change_detail"),
    Some("after_change_detail"),
    Some("seqno"),
    Some("actionflags"),
    Some("dg_hier_level_1"),
    Some("dg_hier_level_2"),
    Some("dg_hier_level_3"),
    Some("dg_hier_level_4"),
    Some("vsys_name"),
    Some("device_name"),
    Some("dg_id"),
    Some("comment"),
    None,
    Some("high_res_timestamp"),
];

/// Columns 7.. of GLOBALPROTECT logs.
const GLOBALPROTECT: &[Option<&str>] = &[
    Some("vsys"),
    Some("eventid"),
    Some("stage"),
    Some("auth_method"),
    Some("tunnel_type"),
    Some("srcuser"),
    Some("srcregion"),
    Some("machinename"),
    Some("public_ip"),
    Some("public_ipv6"),
    Some("private_ip"),
    Some("private_ipv6"),
    Some("hostid"),
    Some("serialnumber"),
    Some("client_ver"),
    Some("client_os"),
    Some("client_os_ver"),
    Some("repeatcnt"),
    Some("reason"),
    Some("error"),
    Some("opaque"),
    Some("status"),
    Some("location"),
    Some("login_duration"),
    Some("connect_method"),
    Some("error_code"),
    Some("portal"),
    Some("seqno"),
    Some("actionflags"),
    Some("high_res_timestamp"),
    Some("selection_type"),
    Some("response_time"),
    Some("priority"),
    Some("attempted_gateways"),
    Some("gateway"),
    Some("dg_hier_level_1"),
    Some("dg_hier_level_2"),
    Some("dg_hier_level_3"),
    Some("dg_hier_level_4"),
    Some("vsys_name"),
    Some("device_name"),
    Some("vsys_id"),
];

/// Columns 7.. of HIP-MATCH logs.
const HIP_MATCH: &[Option<&str>] = &[
    Some("srcuser"),
    Some("vsys"),
    Some("machinename"),
    Some("os"),
    Some("src"),
    Some("matchname"),
    Some("repeatcnt"),
    Some("matchtype"),
    None,
    None,
    Some("seqno"),
    Some("actionflags"),
    Some("dg_hier_level_1"),
    Some("dg_hier_level_2"),
    Some("dg_hier_level_3"),
    Some("dg_hier_level_4"),
    Some("vsys_name"),
    Some("device_name"),
    Some("vsys_id"),
    Some("srcipv6"),
    Some("hostid"),
    Some("serialnumber"),
    Some("mac"),
    Some("high_res_timestamp"),
];

/// Columns 7.. of USERID logs.
const USERID: &[Option<&str>] = &[
    Some("vsys"),
    Some("ip"),
    Some("user"),
    Some("datasourcename"),
    Some("eventid"),
    Some("repeatcnt"),
    Some("timeout"),
    Some("beginport"),
    Some("endport"),
    Some("datasource"),
    Some("datasourcetype"),
    Some("seqno"),
    Some("actionflags"),
    Some("dg_hier_level_1"),
    Some("dg_hier_level_2"),
    Some("dg_hier_level_3"),
    Some("dg_hier_level_4"),
    Some("vsys_name"),
    Some("device_name"),
];

/// The log types `looks_like` accepts in the fourth column.
const TYPES: [&str; 11] = [
    "TRAFFIC",
    "THREAT",
    "SYSTEM",
    "CONFIG",
    "GLOBALPROTECT",
    "HIP-MATCH",
    "USERID",
    "DECRYPTION",
    "AUTHENTICATION",
    "TUNNEL",
    "CORRELATION",
];

/// `2026/11/20 08:15:00` (digits only checked: PAN test data writes `2020/00/00 00:00:00`).
fn is_pan_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 19
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'/',
            10 => *byte == b' ',
            13 | 16 => *byte == b':',
            _ => byte.is_ascii_digit(),
        })
}

/// Whether the message looks like a PAN-OS CSV log: a short first column, a `yyyy/mm/dd
/// hh:mm:ss` second column and a known log type in the fourth.
pub(crate) fn looks_like(message: &str) -> bool {
    let mut columns = message.trim_start().splitn(5, ',');
    let (Some(first), Some(time), Some(_serial), Some(kind)) =
        (columns.next(), columns.next(), columns.next(), columns.next())
    else {
        return false;
    };
    first.len() <= 16 && is_pan_time(time) && TYPES.contains(&kind)
}

/// One CSV column: bare up to the next comma, or quoted with `""` for a quote. An unterminated
/// quote takes the rest of the line; text after a closing quote is kept.
fn column(input: &str) -> IResult<&str, Cow<'_, str>> {
    let Ok((body, _)) = char::<&str, nom::error::Error<&str>>('"').parse(input) else {
        return take_till(|c| c == ',').map(Cow::Borrowed).parse(input);
    };
    let bytes = body.as_bytes();
    let mut index = 0;
    let mut doubled = false;
    let end = loop {
        match bytes.get(index) {
            None => break None,
            Some(b'"') if bytes.get(index + 1) == Some(&b'"') => {
                doubled = true;
                index += 2;
            }
            Some(b'"') => break Some(index),
            Some(_) => index += 1,
        }
    };
    let Some(end) = end else {
        let text = if doubled {
            Cow::Owned(body.replace("\"\"", "\""))
        } else {
            Cow::Borrowed(body)
        };
        return Ok(("", text));
    };
    let inner = &body[..end];
    let (rest, trailing) = take_till(|c| c == ',').parse(&body[end + 1..])?;
    let text = match (doubled, trailing.is_empty()) {
        (false, true) => Cow::Borrowed(inner),
        _ => Cow::Owned(format!("{}{trailing}", inner.replace("\"\"", "\""))),
    };
    Ok((rest, text))
}

/// Splits a line into columns.
fn columns(line: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Ok((after, value)) = column(rest) {
        out.push(value);
        match after.strip_prefix(',') {
            Some(next) => rest = next,
            None => break,
        }
    }
    out
}

/// ECS names of PAN-OS columns.
fn pan_ecs(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "src" | "ip" => ("source.ip", Kind::Ip),
        "dst" => ("destination.ip", Kind::Ip),
        "sport" => ("source.port", Kind::Number),
        "dport" => ("destination.port", Kind::Number),
        "rule" => ("rule.name", Kind::Text),
        "rule_uuid" => ("rule.uuid", Kind::Text),
        "srcuser" | "admin" | "user" => ("user.name", Kind::Text),
        "dstuser" => ("destination.user.name", Kind::Text),
        "app" => ("network.application", Kind::Lower),
        "proto" => ("network.transport", Kind::Transport),
        "action" | "cmd" => ("event.action", Kind::Text),
        "eventid" => ("event.action", Kind::Text),
        "bytes" => ("network.bytes", Kind::Number),
        "bytes_sent" => ("source.bytes", Kind::Number),
        "bytes_received" => ("destination.bytes", Kind::Number),
        "packets" => ("network.packets", Kind::Number),
        "pkts_sent" => ("source.packets", Kind::Number),
        "pkts_received" => ("destination.packets", Kind::Number),
        "from" => ("observer.ingress.zone", Kind::Text),
        "to" => ("observer.egress.zone", Kind::Text),
        "inbound_if" => ("observer.ingress.interface.name", Kind::Text),
        "outbound_if" => ("observer.egress.interface.name", Kind::Text),
        "serial" => ("observer.serial_number", Kind::Text),
        "device_name" => ("observer.name", Kind::Text),
        "user_agent" => ("user_agent.original", Kind::Text),
        "referer" => ("http.request.referrer", Kind::Text),
        "http_method" => ("http.request.method", Kind::Text),
        "filedigest" => ("file.hash.sha256", Kind::Text),
        "public_ip" => ("source.ip", Kind::Ip),
        "status" | "result" => ("event.outcome", Kind::Outcome),
        "severity" => ("log.level", Kind::Lower),
        "host" => ("source.address", Kind::Text),
        "session_end_reason" | "reason" => ("event.reason", Kind::Text),
        "elapsed" => ("event.duration_seconds", Kind::Number),
        _ => return None,
    })
}

/// Parses the message into `fields`; `None` if it is not a PAN-OS CSV log.
pub(crate) fn parse(message: &str, context: &ParseContext, fields: &mut Fields) -> Option<Recognized> {
    let line = message.trim();
    if !looks_like(line) {
        return None;
    }
    let values = columns(line);
    let kind = values.get(3).map(|kind| kind.as_ref()).unwrap_or("");
    let table: &[Option<&str>] = match kind {
        "TRAFFIC" => TRAFFIC,
        "THREAT" => THREAT,
        "SYSTEM" => SYSTEM,
        "CONFIG" => CONFIG,
        "GLOBALPROTECT" => GLOBALPROTECT,
        "HIP-MATCH" => HIP_MATCH,
        "USERID" => USERID,
        _ => &[],
    };
    let names = COMMON.iter().chain(table.iter());
    let pairs: Vec<(&str, &str)> = names
        .zip(values.iter())
        .filter_map(|(name, value)| Some(((*name)?, value.as_ref())))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    for (name, value) in &pairs {
        fields.push(*name, *value);
    }
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    };

    let mut out = Out::new(fields);
    out.map_pairs(&pairs, pan_ecs);
    // 0.0.0.0 in the NAT columns means "no translation".
    if let Some(ip) = get("natsrc").filter(|ip| *ip != "0.0.0.0") {
        out.push_kind("source.nat.ip", Kind::Ip, ip);
        out.push_kind("source.nat.port", Kind::Number, get("natsport").unwrap_or(""));
    }
    if let Some(ip) = get("natdst").filter(|ip| *ip != "0.0.0.0") {
        out.push_kind("destination.nat.ip", Kind::Ip, ip);
        out.push_kind(
            "destination.nat.port",
            Kind::Number,
            get("natdport").unwrap_or(""),
        );
    }
    if let Some(user) = get("srcuser") {
        out.push_kind("source.user.name", Kind::Text, user);
    }
    if kind == "THREAT" {
        threat(
            &mut out,
            get("subtype").unwrap_or(""),
            get("misc"),
            get("severity"),
        );
    }
    if kind != "CONFIG"
        && !out.has("event.outcome")
        && let Some(outcome) = get("action").and_then(ecs::outcome)
    {
        out.push("event.outcome", outcome);
    }
    out.push("observer.vendor", "Palo Alto Networks");
    out.push("observer.product", "PAN-OS");

    let timestamp = get("receive_time")
        .or_else(|| get("time_generated"))
        .and_then(|time| ecs::parse_datetime(time, context.default_offset));
    let host = get("device_name").or_else(|| get("serial")).map(str::to_owned);
    let logsource = match kind {
        "TRAFFIC" => logsource(Some("paloalto"), None, Some("traffic")),
        "THREAT" => logsource(Some("paloalto"), None, Some("threat")),
        "SYSTEM" => logsource(Some("paloalto"), None, Some("system")),
        // The mapping's GlobalProtect route carries the `appliance` category of SigmaHQ's rules.
        "GLOBALPROTECT" => logsource(Some("paloalto"), Some("appliance"), Some("globalprotect")),
        _ => logsource(Some("paloalto"), None, None),
    };
    Some(Recognized {
        logsource,
        source_type: "paloalto",
        timestamp_nanos: timestamp,
        host,
    })
}

/// THREAT `misc` is the URL (url subtype) or the file name (file, virus, wildfire...); the
/// severity word becomes a number too.
fn threat(out: &mut Out<'_>, subtype: &str, misc: Option<&str>, severity: Option<&str>) {
    if let Some(misc) = misc {
        match subtype {
            "url" => out.push_kind("url.original", Kind::Text, misc),
            "file" | "virus" | "wildfire" | "wildfire-virus" | "data" => {
                out.push_kind("file.name", Kind::Text, misc)
            }
            _ => {}
        }
    }
    let number = match severity.unwrap_or("") {
        "informational" => 1,
        "low" => 2,
        "medium" => 3,
        "high" => 4,
        "critical" => 5,
        _ => return,
    };
    out.push("event.severity", number);
}

#[cfg(test)]
mod tests {
    use haidang_event::Value;

    use super::*;

    fn context() -> ParseContext {
        ParseContext {
            received_nanos: 0,
            ..ParseContext::default()
        }
    }

    fn run(line: &str) -> Option<(Recognized, Fields)> {
        let mut fields = Fields::new();
        parse(line, &context(), &mut fields).map(|recognized| (recognized, fields))
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn int(number: i64) -> Value {
        Value::Int(number)
    }

    fn produced(fields: &Fields) -> Vec<(String, Value)> {
        fields
            .iter()
            .map(|(name, value)| (name.to_owned(), value.clone()))
            .collect()
    }

    fn owned(expected: &[(&str, Value)]) -> Vec<(String, Value)> {
        expected
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    const TRAFFIC_LINE: &str = "1,2026/11/20 08:15:00,001801000001,TRAFFIC,end,2561,2026/11/20 08:15:00,10.0.0.5,203.0.113.9,198.51.100.1,0.0.0.0,allow-web,corp\\hoa,,ssl,vsys1,trust,untrust,ethernet1/1,ethernet1/2,log-fwd,2026/11/20 08:15:00,12345,1,51234,443,40000,0,0x400000,tcp,allow,5000,2000,3000,20,2026/11/20 08:14:50,10,computer-and-internet-info,,7000,0x8000000000000000,10.0.0.0-10.255.255.255,Viet Nam,,12,8,tcp-fin,0,0,0,0,,pa-hp-01,from-policy";

    #[test]
    fn traffic_log() {
        assert!(looks_like(TRAFFIC_LINE));
        let (recognized, fields) = run(TRAFFIC_LINE).expect("pan");
        assert_eq!(recognized.source_type, "paloalto");
        assert_eq!(
            recognized.logsource,
            logsource(Some("paloalto"), None, Some("traffic"))
        );
        // 08:15:00 at +07:00
        assert_eq!(recognized.timestamp_nanos, Some(1_795_137_300_000_000_000));
        assert_eq!(recognized.host.as_deref(), Some("pa-hp-01"));
        let expected = owned(&[
            ("receive_time", s("2026/11/20 08:15:00")),
            ("serial", s("001801000001")),
            ("type", s("TRAFFIC")),
            ("subtype", s("end")),
            ("time_generated", s("2026/11/20 08:15:00")),
            ("src", s("10.0.0.5")),
            ("dst", s("203.0.113.9")),
            ("natsrc", s("198.51.100.1")),
            ("natdst", s("0.0.0.0")),
            ("rule", s("allow-web")),
            ("srcuser", s("corp\\hoa")),
            ("app", s("ssl")),
            ("vsys", s("vsys1")),
            ("from", s("trust")),
            ("to", s("untrust")),
            ("inbound_if", s("ethernet1/1")),
            ("outbound_if", s("ethernet1/2")),
            ("logset", s("log-fwd")),
            ("sessionid", s("12345")),
            ("repeatcnt", s("1")),
            ("sport", s("51234")),
            ("dport", s("443")),
            ("natsport", s("40000")),
            ("natdport", s("0")),
            ("flags", s("0x400000")),
            ("proto", s("tcp")),
            ("action", s("allow")),
            ("bytes", s("5000")),
            ("bytes_sent", s("2000")),
            ("bytes_received", s("3000")),
            ("packets", s("20")),
            ("start", s("2026/11/20 08:14:50")),
            ("elapsed", s("10")),
            ("category", s("computer-and-internet-info")),
            ("seqno", s("7000")),
            ("actionflags", s("0x8000000000000000")),
            ("srcloc", s("10.0.0.0-10.255.255.255")),
            ("dstloc", s("Viet Nam")),
            ("pkts_sent", s("12")),
            ("pkts_received", s("8")),
            ("session_end_reason", s("tcp-fin")),
            ("dg_hier_level_1", s("0")),
            ("dg_hier_level_2", s("0")),
            ("dg_hier_level_3", s("0")),
            ("dg_hier_level_4", s("0")),
            ("device_name", s("pa-hp-01")),
            ("action_source", s("from-policy")),
            ("observer.serial_number", s("001801000001")),
            ("source.ip", s("10.0.0.5")),
            ("destination.ip", s("203.0.113.9")),
            ("rule.name", s("allow-web")),
            ("user.name", s("corp\\hoa")),
            ("network.application", s("ssl")),
            ("observer.ingress.zone", s("trust")),
            ("observer.egress.zone", s("untrust")),
            ("observer.ingress.interface.name", s("ethernet1/1")),
            ("observer.egress.interface.name", s("ethernet1/2")),
            ("source.port", int(51234)),
            ("destination.port", int(443)),
            ("network.transport", s("tcp")),
            ("event.action", s("allow")),
            ("network.bytes", int(5000)),
            ("source.bytes", int(2000)),
            ("destination.bytes", int(3000)),
            ("network.packets", int(20)),
            ("event.duration_seconds", int(10)),
            ("source.packets", int(12)),
            ("destination.packets", int(8)),
            ("event.reason", s("tcp-fin")),
            ("observer.name", s("pa-hp-01")),
            ("source.nat.ip", s("198.51.100.1")),
            ("source.nat.port", int(40000)),
            ("source.user.name", s("corp\\hoa")),
            ("event.outcome", s("success")),
            ("observer.vendor", s("Palo Alto Networks")),
            ("observer.product", s("PAN-OS")),
        ]);
        assert_eq!(produced(&fields), expected);
    }

    #[test]
    fn threat_log_with_quoted_url() {
        let line = "1,2026/11/20 08:15:00,001801000001,THREAT,url,2561,2026/11/20 08:15:00,10.0.0.5,203.0.113.9,0.0.0.0,0.0.0.0,allow-web,,,web-browsing,vsys1,trust,untrust,ethernet1/1,ethernet1/2,log-fwd,,12346,1,51235,80,0,0,0x40b000,tcp,block-url,\"example.org/a,b?\"\"x\"\"\",(9999),malware,informational,client-to-server,7001,0x8000000000000000,10.0.0.0-10.255.255.255,Viet Nam,,text/html,0,,,1,\"Mozilla/5.0 (X11, Linux)\",,,,,,,,0,0,0,0,,pa-hp-01,,,,get";
        let (recognized, fields) = run(line).expect("pan");
        assert_eq!(
            recognized.logsource,
            logsource(Some("paloalto"), None, Some("threat"))
        );
        let expected = owned(&[
            ("receive_time", s("2026/11/20 08:15:00")),
            ("serial", s("001801000001")),
            ("type", s("THREAT")),
            ("subtype", s("url")),
            ("time_generated", s("2026/11/20 08:15:00")),
            ("src", s("10.0.0.5")),
            ("dst", s("203.0.113.9")),
            ("natsrc", s("0.0.0.0")),
            ("natdst", s("0.0.0.0")),
            ("rule", s("allow-web")),
            ("app", s("web-browsing")),
            ("vsys", s("vsys1")),
            ("from", s("trust")),
            ("to", s("untrust")),
            ("inbound_if", s("ethernet1/1")),
            ("outbound_if", s("ethernet1/2")),
            ("logset", s("log-fwd")),
            ("sessionid", s("12346")),
            ("repeatcnt", s("1")),
            ("sport", s("51235")),
            ("dport", s("80")),
            ("natsport", s("0")),
            ("natdport", s("0")),
            ("flags", s("0x40b000")),
            ("proto", s("tcp")),
            ("action", s("block-url")),
            ("misc", s("example.org/a,b?\"x\"")),
            ("threatid", s("(9999)")),
            ("category", s("malware")),
            ("severity", s("informational")),
            ("direction", s("client-to-server")),
            ("seqno", s("7001")),
            ("actionflags", s("0x8000000000000000")),
            ("srcloc", s("10.0.0.0-10.255.255.255")),
            ("dstloc", s("Viet Nam")),
            ("contenttype", s("text/html")),
            ("pcap_id", s("0")),
            ("url_idx", s("1")),
            ("user_agent", s("Mozilla/5.0 (X11, Linux)")),
            ("dg_hier_level_1", s("0")),
            ("dg_hier_level_2", s("0")),
            ("dg_hier_level_3", s("0")),
            ("dg_hier_level_4", s("0")),
            ("device_name", s("pa-hp-01")),
            ("http_method", s("get")),
            ("observer.serial_number", s("001801000001")),
            ("source.ip", s("10.0.0.5")),
            ("destination.ip", s("203.0.113.9")),
            ("rule.name", s("allow-web")),
            ("network.application", s("web-browsing")),
            ("observer.ingress.zone", s("trust")),
            ("observer.egress.zone", s("untrust")),
            ("observer.ingress.interface.name", s("ethernet1/1")),
            ("observer.egress.interface.name", s("ethernet1/2")),
            ("source.port", int(51235)),
            ("destination.port", int(80)),
            ("network.transport", s("tcp")),
            ("event.action", s("block-url")),
            ("log.level", s("informational")),
            ("user_agent.original", s("Mozilla/5.0 (X11, Linux)")),
            ("observer.name", s("pa-hp-01")),
            ("http.request.method", s("get")),
            ("url.original", s("example.org/a,b?\"x\"")),
            ("event.severity", int(1)),
            ("observer.vendor", s("Palo Alto Networks")),
            ("observer.product", s("PAN-OS")),
        ]);
        assert_eq!(produced(&fields), expected);
    }

    #[test]
    fn system_log() {
        let line = "1,2026/11/20 08:15:00,001801000001,SYSTEM,auth,2561,2026/11/20 08:15:00,,auth-fail,,0,0,general,medium,\"failed authentication for user 'admin'. Reason: Invalid username/password. From: 203.0.113.50.\",7002,0x0,0,0,0,0,,pa-hp-01,0,0,2026-11-20T08:15:00.123+07:00";
        let (recognized, fields) = run(line).expect("pan");
        assert_eq!(
            recognized.logsource,
            logsource(Some("paloalto"), None, Some("system"))
        );
        let expected = owned(&[
            ("receive_time", s("2026/11/20 08:15:00")),
            ("serial", s("001801000001")),
            ("type", s("SYSTEM")),
            ("subtype", s("auth")),
            ("time_generated", s("2026/11/20 08:15:00")),
            ("eventid", s("auth-fail")),
            ("fmt", s("0")),
            ("id", s("0")),
            ("module", s("general")),
            ("severity", s("medium")),
            (
                "opaque",
                s(
                    "failed authentication for user 'admin'. Reason: Invalid username/password. From: 203.0.113.50.",
                ),
            ),
            ("seqno", s("7002")),
            ("actionflags", s("0x0")),
            ("dg_hier_level_1", s("0")),
            ("dg_hier_level_2", s("0")),
            ("dg_hier_level_3", s("0")),
            ("dg_hier_level_4", s("0")),
            ("device_name", s("pa-hp-01")),
            ("high_res_timestamp", s("2026-11-20T08:15:00.123+07:00")),
            ("observer.serial_number", s("001801000001")),
            ("event.action", s("auth-fail")),
            ("log.level", s("medium")),
            ("observer.name", s("pa-hp-01")),
            ("observer.vendor", s("Palo Alto Networks")),
            ("observer.product", s("PAN-OS")),
        ]);
        assert_eq!(produced(&fields), expected);
    }

    #[test]
    fn config_log_user_cmd_path() {
        let line = "1,2026/11/20 08:15:00,001801000001,CONFIG,0,2561,2026/11/20 08:15:00,10.250.1.15,vsys1,edit,admin,Web,Succeeded,vsys  vsys1 rulebase security rules allow-rdp,,,7003,0x0,0,0,0,0,,pa-hp-01";
        let (recognized, fields) = run(line).expect("pan");
        assert_eq!(recognized.logsource, logsource(Some("paloalto"), None, None));
        let expected = owned(&[
            ("receive_time", s("2026/11/20 08:15:00")),
            ("serial", s("001801000001")),
            ("type", s("CONFIG")),
            ("subtype", s("0")),
            ("time_generated", s("2026/11/20 08:15:00")),
            ("host", s("10.250.1.15")),
            ("vsys", s("vsys1")),
            ("cmd", s("edit")),
            ("admin", s("admin")),
            ("client", s("Web")),
            ("result", s("Succeeded")),
            ("path", s("vsys  vsys1 rulebase security rules allow-rdp")),
            ("seqno", s("7003")),
            ("actionflags", s("0x0")),
            ("dg_hier_level_1", s("0")),
            ("dg_hier_level_2", s("0")),
            ("dg_hier_level_3", s("0")),
            ("dg_hier_level_4", s("0")),
            ("device_name", s("pa-hp-01")),
            ("observer.serial_number", s("001801000001")),
            ("source.address", s("10.250.1.15")),
            ("event.action", s("edit")),
            ("user.name", s("admin")),
            ("event.outcome", s("success")),
            ("observer.name", s("pa-hp-01")),
            ("observer.vendor", s("Palo Alto Networks")),
            ("observer.product", s("PAN-OS")),
        ]);
        assert_eq!(produced(&fields), expected);
    }

    #[test]
    fn globalprotect_and_other_types_and_serial_as_host() {
        let line = "1,2026/11/20 08:15:00,001801000001,GLOBALPROTECT,0,2561,2026/11/20 08:15:00,vsys1,gateway-auth,login,LDAP,,corp\\hoa,VN,PC-01,203.0.113.77,,,,,,,,,,,,,failure";
        let (recognized, fields) = run(line).expect("pan");
        assert_eq!(
            recognized.logsource,
            logsource(Some("paloalto"), Some("appliance"), Some("globalprotect"))
        );
        assert_eq!(recognized.host.as_deref(), Some("001801000001"));
        assert_eq!(fields.get("source.ip"), Some(&s("203.0.113.77")));
        assert_eq!(fields.get("user.name"), Some(&s("corp\\hoa")));
        assert_eq!(fields.get("event.action"), Some(&s("gateway-auth")));
        assert_eq!(fields.get("event.outcome"), Some(&s("failure")));
        let (recognized, fields) =
            run("1,2026/11/20 08:15:00,001801000001,DECRYPTION,0,2561,2026/11/20 08:15:00,10.0.0.1")
                .expect("pan");
        assert_eq!(recognized.logsource, logsource(Some("paloalto"), None, None));
        assert_eq!(fields.get("type"), Some(&s("DECRYPTION")));
        assert!(!fields.contains("src"));
    }

    #[test]
    fn looks_like_needs_time_and_type() {
        assert!(looks_like("1,2020/00/00 00:00:00,00000000,SYSTEM,"));
        assert!(!looks_like("1,2026-11-20 08:15:00,001,TRAFFIC,end"));
        assert!(!looks_like("1,2026/11/20 08:15:00,001,traffic,end"));
        assert!(!looks_like("1,2026/11/20 08:15:00,001"));
        assert!(!looks_like("a,b,c,d,e"));
        assert!(!looks_like(""));
        assert_eq!(
            ecs::parse_datetime("2026/11/20 08:15:00", time::UtcOffset::UTC),
            Some(1_795_162_500_000_000_000)
        );
    }

    #[test]
    fn csv_columns() {
        let got: Vec<String> = columns(r#"a,"b,c",,"d""e","unterminated, x"#)
            .into_iter()
            .map(Cow::into_owned)
            .collect();
        assert_eq!(got, vec!["a", "b,c", "", "d\"e", "unterminated, x"]);
        let got: Vec<String> = columns(r#""x"y,z"#).into_iter().map(Cow::into_owned).collect();
        assert_eq!(got, vec!["xy", "z"]);
    }

    #[test]
    fn hostile_inputs_return_without_panic() {
        let prefix = "1,2026/11/20 08:15:00,001801000001,TRAFFIC,end,2561,2026/11/20 08:15:00,";
        let huge = format!("{prefix}\"{}\"", "A".repeat(100_000));
        let (_, fields) = run(&huge).expect("pan");
        assert_eq!(
            fields.get("src").and_then(Value::as_text).map(|v| v.len()),
            Some(100_000)
        );
        let commas = format!("{prefix}{}", ",".repeat(1_000_000));
        assert!(run(&commas).is_some());
        let quotes = format!("{prefix}{}", "\"".repeat(1_000_001));
        assert!(run(&quotes).is_some());
        let equals = format!("{prefix}{}", "=".repeat(1_000_000));
        assert!(run(&equals).is_some());
        for input in [
            "",
            ",,,",
            "1,2026/11/20 08:15:00,x,TRAFFIC",
            "1,2026/99/99 99:99:99,x,THREAT,url,0,,,,,,,,,,,,,,,,,,,,,,,,,,\"",
            "1,2026/11/20 08:15:00,x,SYSTEM,é,ü,ö,Tường lửa,nguyễn",
            "1,2026/11/20 08:15:00,x,TRAFFIC,end,0,t,10.0.0.1,10.0.0.2,999.1.1.1,0.0.0.0,r,,,a,v,f,t,i,o,l,,1,1,99999999999999999999,-1",
        ] {
            let _ = looks_like(input);
            let _ = run(input);
        }
    }
}
