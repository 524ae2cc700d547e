//! Cisco ASA and FTD (and the PIX that preceded them): `%ASA-severity-id: text`.
//!
//! The header gives `message_id` (kept as text: rules compare `'605004'`), `severity` (a number)
//! and the product. The text after it is free English, one sentence per message id; the ids the
//! rules and analysts use (ACL denies, connections built and torn down, NAT, AAA, management
//! logins, commands executed, privilege changes, threat detection, IPS) are read into ECS fields.
//! FTD's `%FTD-1-430003: DeviceUUID: ..., SrcIP: ...` connection events are `Key: value` lists.
//! An id not listed here still yields its header fields.

use haidang_event::{Fields, Value};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_till1, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::opt;
use nom::{IResult, Parser};

use super::keyvalue::ecs::{self, Kind, Out};
use super::{Recognized, logsource};

/// `%ASA-6-605004:` -> (product, severity, id).
fn header(input: &str) -> IResult<&str, (&str, u8, &str)> {
    let (rest, (_, product, _, severity, _, id, _, _)) = (
        char('%'),
        alt((tag("ASA"), tag("FTD"), tag("PIX"))),
        char('-'),
        take_while_m_n(1, 1, |c: char| c.is_ascii_digit()),
        char('-'),
        take_while_m_n(4, 6, |c: char| c.is_ascii_digit()),
        opt(char(':')),
        space0,
    )
        .parse(input)?;
    let severity = severity.parse().unwrap_or(0);
    Ok((rest, (product, severity, id)))
}

/// Syslog level names of ASA severities 0-7.
fn level_name(severity: u8) -> &'static str {
    match severity {
        0 => "emergencies",
        1 => "alerts",
        2 => "critical",
        3 => "errors",
        4 => "warnings",
        5 => "notifications",
        6 => "informational",
        _ => "debugging",
    }
}

/// Parses the message into `fields`; `None` if it is not a Cisco ASA/FTD message. The message
/// may start with whatever the device put before the tag (`: `, its own timestamp).
pub(crate) fn parse(message: &str, fields: &mut Fields) -> Option<Recognized> {
    let start = ["%ASA-", "%FTD-", "%PIX-"]
        .iter()
        .filter_map(|tag| message.find(tag))
        .min()?;
    let (text, (product, severity, id)) = header(&message[start..]).ok()?;
    let text = text.trim_end();

    fields.push("message_id", id);
    fields.push("severity", i64::from(severity));
    // The syslog layer's `message` is the whole `%ASA-6-605004: text`; rules and analysts read
    // the sentence, so it is added as a second value of `message` (a match on any value counts).
    if fields
        .get("message")
        .and_then(Value::as_text)
        .is_some_and(|current| current != text)
    {
        fields.push("message", text);
    }
    let mut out = Out::new(fields);
    out.push("event.code", id);
    out.push("event.severity", i64::from(severity));
    out.push("log.level", level_name(severity));
    out.push("observer.vendor", "Cisco");
    let (product_name, source_type) = match product {
        "FTD" => ("ftd", "cisco-ftd"),
        "PIX" => ("pix", "cisco-pix"),
        _ => ("asa", "cisco-asa"),
    };
    out.push("observer.product", product_name);
    extract(id, text, &mut out);
    out.push_total_bytes();
    Some(Recognized {
        logsource: logsource(Some("cisco_asa"), None, Some("asa")),
        source_type,
        timestamp_nanos: None,
        host: None,
    })
}

/// The per-id readers. Each is best effort: a sentence that does not have the expected shape
/// leaves only the header fields.
fn extract(id: &str, text: &str, out: &mut Out<'_>) {
    match id {
        "106001" | "106006" | "106007" | "106010" | "106011" | "106014" | "106015" | "106023" => {
            deny(text, out)
        }
        "106100" => access_list(text, out),
        "302013" | "302015" | "302014" | "302016" | "302017" | "302018" => connection(text, out),
        "302020" | "302021" => icmp_connection(text, out),
        "305011" | "305012" => translation(text, out),
        "113004" | "113005" | "113012" | "113014" | "113015" => aaa(text, out),
        "113039" => anyconnect(text, out),
        "605004" | "605005" => management_login(text, out),
        "611101" | "611102" | "611103" => vpn_user(text, out),
        "111008" | "111009" | "111010" => command(text, out),
        "502101" | "502102" | "502103" => local_user(text, out),
        "733100" => threat_rate(text, out),
        "710003" => access_denied(text, out),
        "430001" | "430002" | "430003" | "430004" | "430005" => ftd_event(text, out),
        _ if id.starts_with("400") && id.len() == 6 => ips(text, out),
        _ => {}
    }
}

/// An ASA address as written: `outside:10.0.0.1/443`, `10.0.0.1/443`, `outside:10.0.0.1`,
/// `dmz:2001:db8::1/443`, `inside:hostname/80` (when `names` are configured), `outside:10.0.0.1/ssh`.
#[derive(Debug, PartialEq)]
struct Endpoint<'a> {
    interface: Option<&'a str>,
    address: &'a str,
    port: Option<&'a str>,
}

fn endpoint(token: &str) -> Option<Endpoint<'_>> {
    let token = token.trim_end_matches([',', '.', ';']);
    let (host, port) = match token.rsplit_once('/') {
        Some((host, port))
            if !port.is_empty() && port.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            (host, Some(port))
        }
        _ => (token, None),
    };
    let (interface, address) = if ecs::is_ip(host) {
        (None, host)
    } else {
        match host.split_once(':') {
            Some((interface, address)) if !interface.is_empty() && !address.is_empty() => {
                (Some(interface), address)
            }
            _ => (None, host),
        }
    };
    if address.is_empty() {
        return None;
    }
    Some(Endpoint {
        interface,
        address,
        port,
    })
}

#[derive(Clone, Copy)]
enum Side {
    Source,
    Destination,
}

/// Sets `<side>.address`, `.ip` (when it is one), `.port` (or `network.protocol` for a service
/// name such as `ssh`) and the interface as the observer's ingress or egress.
fn push_endpoint(out: &mut Out<'_>, side: Side, endpoint: &Endpoint<'_>) {
    let (address, ip, port, interface) = match side {
        Side::Source => (
            "source.address",
            "source.ip",
            "source.port",
            "observer.ingress.interface.name",
        ),
        Side::Destination => (
            "destination.address",
            "destination.ip",
            "destination.port",
            "observer.egress.interface.name",
        ),
    };
    out.push(address, endpoint.address);
    out.push_kind(ip, Kind::Ip, endpoint.address);
    if let Some(port_text) = endpoint.port {
        match ecs::number(port_text) {
            Some(number) => out.push(port, number),
            None => out.push("network.protocol", port_text.to_ascii_lowercase()),
        }
    }
    if let Some(name) = endpoint.interface {
        out.push(interface, name);
    }
}

/// NAT side of an endpoint: `(203.0.113.88/41000)`.
fn push_nat(out: &mut Out<'_>, side: Side, endpoint: &Endpoint<'_>) {
    let (ip, port) = match side {
        Side::Source => ("source.nat.ip", "source.nat.port"),
        Side::Destination => ("destination.nat.ip", "destination.nat.port"),
    };
    out.push_kind(ip, Kind::Ip, endpoint.address);
    if let Some(port_text) = endpoint.port {
        out.push_kind(port, Kind::Number, port_text);
    }
}

/// The whitespace-delimited token after the first `marker`.
fn token_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    rest.split_whitespace().next()
}

fn push_verdict(out: &mut Out<'_>, action: &'static str, outcome: &'static str) {
    out.push("event.action", action);
    out.push("event.outcome", outcome);
}

/// 106001/106006/106007/106010/106011/106014/106015/106023: `Deny tcp src outside:a/p dst
/// dmz:b/q by access-group "outside_in"`, `Inbound TCP connection denied from a/p to b/q flags SYN
/// on interface inside`, `Deny inbound UDP from a/p to b/q due to DNS Query`.
fn deny(text: &str, out: &mut Out<'_>) {
    push_verdict(out, "deny", "failure");
    let protocol = text
        .split_whitespace()
        .take_while(|word| *word != "src" && *word != "from")
        .find_map(ecs::transport)
        .or_else(|| token_after(text, "protocol ").and_then(ecs::transport));
    if let Some(protocol) = protocol {
        out.push("network.transport", protocol);
    }
    let (source, destination) = if text.contains(" src ") {
        (token_after(text, " src "), token_after(text, " dst "))
    } else {
        (token_after(text, " from "), token_after(text, " to "))
    };
    if let Some(source) = source.and_then(endpoint) {
        push_endpoint(out, Side::Source, &source);
    }
    if let Some(destination) = destination.and_then(endpoint) {
        push_endpoint(out, Side::Destination, &destination);
    }
    if let Some(interface) = token_after(text, "on interface ") {
        out.push("observer.ingress.interface.name", interface);
    }
    if let Some(group) = text
        .split_once("access-group \"")
        .and_then(|(_, rest)| rest.split_once('"'))
    {
        out.push("rule.name", group.0);
    }
}

/// 106100: `access-list outside_in denied tcp outside/203.0.113.5(51000) -> inside/10.0.0.5(443)
/// hit-cnt 1 first hit [0x91c26a3, 0x0]`.
fn access_list(text: &str, out: &mut Out<'_>) {
    fn side(input: &str) -> IResult<&str, (&str, &str, &str)> {
        let (rest, (interface, _, address, _, port, _)) = (
            take_till1(|c: char| c == '/' || c.is_whitespace()),
            char('/'),
            take_till1(|c: char| c == '(' || c.is_whitespace()),
            char('('),
            take_till(|c: char| c == ')'),
            char(')'),
        )
            .parse(input)?;
        Ok((rest, (interface, address, port)))
    }
    /// acl, verdict, protocol, (interface, address, port)
    type Sentence<'a> = (&'a str, &'a str, &'a str, (&'a str, &'a str, &'a str));
    fn sentence(input: &str) -> IResult<&str, Sentence<'_>> {
        let (rest, (_, acl, _, verdict, _, protocol, _, source)) = (
            tag("access-list "),
            take_till1(char::is_whitespace),
            space1,
            take_till1(char::is_whitespace),
            space1,
            take_till1(char::is_whitespace),
            space1,
            side,
        )
            .parse(input)?;
        Ok((rest, (acl, verdict, protocol, source)))
    }
    let Ok((rest, (acl, verdict, protocol, (source_if, source_ip, source_port)))) = sentence(text) else {
        return;
    };
    out.push("rule.name", acl);
    match verdict {
        "denied" => push_verdict(out, "deny", "failure"),
        _ => push_verdict(out, "permit", "success"),
    }
    out.push_kind("network.transport", Kind::Transport, protocol);
    push_endpoint(
        out,
        Side::Source,
        &Endpoint {
            interface: Some(source_if),
            address: source_ip,
            port: Some(source_port),
        },
    );
    if let Some((_, after)) = rest.split_once("-> ")
        && let Ok((_, (interface, address, port))) = side(after)
    {
        push_endpoint(
            out,
            Side::Destination,
            &Endpoint {
                interface: Some(interface),
                address,
                port: Some(port),
            },
        );
    }
    if let Some(count) = token_after(rest, "hit-cnt ") {
        out.push_kind("event.count", Kind::Number, count);
    }
}

/// `h:mm:ss` -> nanoseconds.
fn duration_nanos(text: &str) -> Option<i64> {
    let mut parts = text.split(':').map(ecs::number);
    let (hours, minutes, seconds) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    hours
        .checked_mul(3600)?
        .checked_add(minutes * 60 + seconds)?
        .checked_mul(1_000_000_000)
}

/// 302013-302018: `Built inbound TCP connection 1001 for outside:a/p (a'/p') to dmz:b/q (b'/q')`,
/// `Teardown TCP connection 1001 for outside:a/p to dmz:b/q duration 0:00:05 bytes 5120 TCP FINs`.
/// Built outbound lists the outside end first: the source is then the second endpoint.
fn connection(text: &str, out: &mut Out<'_>) {
    fn sentence(input: &str) -> IResult<&str, (&str, Option<&str>, &str, &str)> {
        let (rest, (verb, _, direction, protocol, _, id, _)) = (
            alt((tag("Built"), tag("Teardown"))),
            space1,
            opt((alt((tag("inbound"), tag("outbound"))), space1)).map(|found| found.map(|(word, _)| word)),
            take_till1(char::is_whitespace),
            tag(" connection "),
            digit1,
            tag(" for "),
        )
            .parse(input)?;
        Ok((rest, (verb, direction, protocol, id)))
    }
    let Ok((rest, (verb, direction, protocol, id))) = sentence(text) else {
        return;
    };
    out.push("event.action", if verb == "Built" { "built" } else { "teardown" });
    if verb == "Built" {
        out.push("event.outcome", "success");
    }
    out.push_kind("network.transport", Kind::Transport, protocol);
    out.fields.push("connection_id", id);
    if let Some(direction) = direction {
        out.push("network.direction", direction);
    }
    let (first_part, second_part) = rest.split_once(" to ").unwrap_or((rest, ""));
    let (first, first_nat) = endpoint_with_mapped(first_part);
    let (second, second_nat) = endpoint_with_mapped(second_part);
    let (source, source_nat, destination, destination_nat) = if direction == Some("outbound") {
        (second, second_nat, first, first_nat)
    } else {
        (first, first_nat, second, second_nat)
    };
    if let Some(source) = &source {
        push_endpoint(out, Side::Source, source);
    }
    if let Some(destination) = &destination {
        push_endpoint(out, Side::Destination, destination);
    }
    if let Some(nat) = &source_nat {
        push_nat(out, Side::Source, nat);
    }
    if let Some(nat) = &destination_nat {
        push_nat(out, Side::Destination, nat);
    }
    if let Some(duration) = token_after(second_part, "duration ").and_then(duration_nanos) {
        out.push("event.duration", duration);
    }
    if let Some(bytes) = token_after(second_part, "bytes ") {
        out.push_kind("network.bytes", Kind::Number, bytes);
        if let Some((_, after)) = second_part.split_once(&format!("bytes {bytes}")) {
            let reason = after.trim();
            if !reason.is_empty() {
                out.push("event.reason", reason);
            }
        }
    }
}

/// `outside:a/p (a'/p') (user)` -> the endpoint and the mapped endpoint in the parentheses.
fn endpoint_with_mapped(part: &str) -> (Option<Endpoint<'_>>, Option<Endpoint<'_>>) {
    let mut words = part.split_whitespace();
    let real = words.next().and_then(endpoint);
    let mapped = words
        .next()
        .and_then(|word| word.strip_prefix('(')?.strip_suffix(')'))
        .and_then(endpoint)
        .filter(|mapped| mapped.address.parse::<std::net::IpAddr>().is_ok());
    (real, mapped)
}

/// 302020/302021: `Built inbound ICMP connection for faddr a/0 gaddr g/0 laddr l/0 type 8 code 0`.
/// Inbound: the foreign address is the source; otherwise the local one.
fn icmp_connection(text: &str, out: &mut Out<'_>) {
    let built = text.starts_with("Built");
    out.push("event.action", if built { "built" } else { "teardown" });
    out.push("network.transport", "icmp");
    let inbound = text.contains(" inbound ");
    if inbound || text.contains(" outbound ") {
        out.push("network.direction", if inbound { "inbound" } else { "outbound" });
    }
    let foreign = token_after(text, "faddr ").and_then(endpoint);
    let global = token_after(text, "gaddr ").and_then(endpoint);
    let local = token_after(text, "laddr ").and_then(endpoint);
    let (source, destination, nat_side) = if inbound {
        (foreign, local, Side::Destination)
    } else {
        (local, foreign, Side::Source)
    };
    if let Some(source) = &source {
        push_endpoint(out, Side::Source, source);
    }
    if let Some(destination) = &destination {
        push_endpoint(out, Side::Destination, destination);
    }
    if let Some(global) = &global {
        push_nat(out, nat_side, global);
    }
}

/// 305011/305012: `Built dynamic TCP translation from inside:10.0.0.5/51000 to
/// outside:198.51.100.1/41000`.
fn translation(text: &str, out: &mut Out<'_>) {
    let built = text.starts_with("Built");
    out.push(
        "event.action",
        if built {
            "translation-built"
        } else {
            "translation-teardown"
        },
    );
    if let Some(protocol) = text.split_whitespace().nth(2) {
        out.push_kind("network.transport", Kind::Transport, protocol);
    }
    if let Some(real) = token_after(text, " from ").and_then(endpoint) {
        push_endpoint(out, Side::Source, &real);
    }
    if let Some(mapped) = token_after(text, " to ").and_then(endpoint) {
        push_nat(out, Side::Source, &mapped);
        if let Some(interface) = mapped.interface {
            out.push("observer.egress.interface.name", interface);
        }
    }
    if let Some(duration) = token_after(text, "duration ").and_then(duration_nanos) {
        out.push("event.duration", duration);
    }
}

/// 113004/113005/113012/113015: `AAA user authentication Rejected : reason = Invalid password :
/// local database : user = nguyenvana : user IP = 10.20.3.4`.
fn aaa(text: &str, out: &mut Out<'_>) {
    let Some(rest) = text.strip_prefix("AAA user ") else {
        return;
    };
    let mut words = rest.split_whitespace();
    if let Some(kind) = words.next() {
        out.push("event.action", kind.to_ascii_lowercase());
    }
    match words.next() {
        Some("Successful") => out.push("event.outcome", "success"),
        Some("Rejected") => out.push("event.outcome", "failure"),
        _ => {}
    }
    for segment in rest.split(':') {
        let Some((key, value)) = segment.split_once(" = ") else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "reason" => out.push_kind("event.reason", Kind::Text, value),
            "server" => out.push_kind("server.address", Kind::Text, value),
            "user" | "User" if !value.chars().all(|c| c == '*') => {
                out.push_kind("user.name", Kind::Text, value)
            }
            "user IP" => out.push_kind("source.ip", Kind::Ip, value),
            _ => {}
        }
    }
    if rest.contains("local database") {
        out.push("server.address", "LOCAL");
    }
}

/// 113039: `Group <GroupPolicy_VPN> User <hoa> IP <203.0.113.5> AnyConnect parent session started.`
fn anyconnect(text: &str, out: &mut Out<'_>) {
    fn sentence(input: &str) -> IResult<&str, (&str, &str, &str)> {
        let (rest, (_, group, _, user, _, ip, _)) = (
            tag("Group <"),
            take_till(|c| c == '>'),
            tag("> User <"),
            take_till(|c| c == '>'),
            tag("> IP <"),
            take_till(|c| c == '>'),
            char('>'),
        )
            .parse(input)?;
        Ok((rest, (group, user, ip)))
    }
    let Ok((_, (group, user, ip))) = sentence(text) else {
        return;
    };
    out.push_kind("group.name", Kind::Text, group);
    out.push_kind("user.name", Kind::Text, user);
    out.push_kind("source.ip", Kind::Ip, ip);
    push_verdict(out, "vpn-session-started", "success");
}

/// 605004/605005: `Login denied from 203.0.113.31/51515 to outside:198.51.100.1/ssh for user "admin"`.
fn management_login(text: &str, out: &mut Out<'_>) {
    fn sentence(input: &str) -> IResult<&str, (&str, &str, &str, &str)> {
        let (rest, (_, verdict, _, source, _, destination, _, user)) = (
            tag("Login "),
            alt((tag("denied"), tag("permitted"))),
            tag(" from "),
            take_till1(char::is_whitespace),
            tag(" to "),
            take_till1(char::is_whitespace),
            alt((tag(" for user \""), tag(" for user "))),
            take_till(|c| c == '"'),
        )
            .parse(input)?;
        Ok((rest, (verdict, source, destination, user)))
    }
    let Ok((_, (verdict, source, destination, user))) = sentence(text) else {
        return;
    };
    push_verdict(
        out,
        "login",
        if verdict == "permitted" {
            "success"
        } else {
            "failure"
        },
    );
    if let Some(source) = endpoint(source) {
        push_endpoint(out, Side::Source, &source);
    }
    // The destination is the ASA itself: its interface is where the login came in.
    if let Some(destination) = endpoint(destination) {
        push_endpoint(
            out,
            Side::Destination,
            &Endpoint {
                interface: None,
                ..destination
            },
        );
        if let Some(interface) = destination.interface {
            out.push("observer.ingress.interface.name", interface);
        }
    }
    out.push_kind("user.name", Kind::Text, user);
}

/// 611101-611103: `User authentication succeeded: IP address: 10.0.0.5, Uname: admin`,
/// `User logged out: Uname: admin`.
fn vpn_user(text: &str, out: &mut Out<'_>) {
    if text.contains("logged out") {
        push_verdict(out, "logout", "success");
    } else if text.contains("succeeded") {
        push_verdict(out, "authentication", "success");
    } else if text.contains("failed") {
        push_verdict(out, "authentication", "failure");
    }
    if let Some(user) = token_after(text, "Uname: ") {
        out.push_kind("user.name", Kind::Text, user.trim_end_matches(','));
    }
    if let Some(ip) = token_after(text, "IP address: ") {
        out.push_kind("source.ip", Kind::Ip, ip.trim_end_matches(','));
    }
}

/// 111008: `User 'admin' executed the 'write memory' command.`; 111009: `User 'admin' executed
/// cmd: show running-config`; 111010: `User 'admin', running 'CLI' from IP 10.0.0.5, executed
/// 'no logging host inside 10.0.0.9'`.
fn command(text: &str, out: &mut Out<'_>) {
    fn user(input: &str) -> IResult<&str, &str> {
        let (rest, (_, name, _)) = (tag("User '"), take_till(|c| c == '\''), char('\'')).parse(input)?;
        Ok((rest, name))
    }
    fn remote(input: &str) -> IResult<&str, (&str, &str)> {
        let (rest, (_, application, _, _, ip, _)) = (
            tag(", running '"),
            take_till(|c| c == '\''),
            tag("' from IP "),
            opt(tag("address ")),
            take_till1(|c: char| c == ',' || c.is_whitespace()),
            tag(", executed '"),
        )
            .parse(input)?;
        Ok((rest, (application, ip)))
    }
    let Ok((rest, name)) = user(text) else { return };
    out.push_kind("user.name", Kind::Text, name);
    out.push("event.action", "command-executed");
    let command = if let Some(quoted) = rest.strip_prefix(" executed the '") {
        Some(
            quoted
                .strip_suffix("' command.")
                .or_else(|| quoted.strip_suffix("' command"))
                .unwrap_or(quoted),
        )
    } else if let Some(command) = rest.strip_prefix(" executed cmd: ") {
        Some(command)
    } else if let Ok((command, (application, ip))) = remote(rest) {
        out.push_kind("process.name", Kind::Text, application);
        out.push_kind("source.ip", Kind::Ip, ip);
        Some(command.strip_suffix('\'').unwrap_or(command))
    } else {
        None
    };
    if let Some(command) = command.map(str::trim).filter(|command| !command.is_empty()) {
        out.fields.push("asa.command", command);
        out.push("process.command_line", command);
    }
}

/// 502101: `New user added to local dbase: Uname: x Priv: 15 Encpass: ***`; 502102: `User deleted
/// from local dbase: ...`; 502103: `User priv level changed: Uname: x From: 1 To: 15`.
fn local_user(text: &str, out: &mut Out<'_>) {
    let action = if text.starts_with("New user added") {
        "user-added"
    } else if text.starts_with("User deleted") {
        "user-deleted"
    } else {
        "privilege-changed"
    };
    out.push("event.action", action);
    if let Some(user) = token_after(text, "Uname: ") {
        out.push_kind("user.name", Kind::Text, user);
    }
    for (marker, name) in [
        ("Priv: ", "asa.privilege"),
        ("From: ", "asa.privilege_from"),
        ("To: ", "asa.privilege_to"),
    ] {
        if let Some(level) = token_after(text, marker).and_then(ecs::number) {
            out.fields.push(name, level);
        }
    }
}

/// 733100: `[ Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, max configured
/// rate is 10; Current average rate is 5 per second, max configured rate is 5; Cumulative total
/// count is 3024`.
fn threat_rate(text: &str, out: &mut Out<'_>) {
    out.push("event.action", "threat-rate-exceeded");
    if let Some((object, _)) = text.split_once(" drop rate") {
        let object = object.trim().trim_start_matches('[').trim_end_matches(']').trim();
        if !object.is_empty() {
            out.fields.push("asa.threat_object", object);
        }
    }
    for (marker, name) in [
        ("Current burst rate is ", "asa.burst_rate"),
        ("Current average rate is ", "asa.average_rate"),
        ("Cumulative total count is ", "asa.total_count"),
    ] {
        if let Some(rate) = token_after(text, marker).and_then(ecs::number) {
            out.fields.push(name, rate);
        }
    }
}

/// 710003: `TCP access denied by ACL from 203.0.113.5/51000 to outside:198.51.100.1/ssh`.
fn access_denied(text: &str, out: &mut Out<'_>) {
    push_verdict(out, "deny", "failure");
    if let Some(protocol) = text.split_whitespace().next() {
        out.push_kind("network.transport", Kind::Transport, protocol);
    }
    if let Some(source) = token_after(text, " from ").and_then(endpoint) {
        push_endpoint(out, Side::Source, &source);
    }
    if let Some(destination) = token_after(text, " to ").and_then(endpoint) {
        push_endpoint(
            out,
            Side::Destination,
            &Endpoint {
                interface: None,
                ..destination
            },
        );
        if let Some(interface) = destination.interface {
            out.push("observer.ingress.interface.name", interface);
        }
    }
}

/// 4000xx: `IPS:2003 ICMP redirect from 10.4.1.2 to 10.2.1.1 on interface dmz`.
fn ips(text: &str, out: &mut Out<'_>) {
    fn sentence(input: &str) -> IResult<&str, (&str, &str)> {
        let (rest, (_, signature, _)) = (tag("IPS:"), digit1, space1).parse(input)?;
        let (rest, name) = take_till(|_| false).parse(rest)?;
        Ok((rest, (signature, name)))
    }
    let Ok((_, (signature, rest))) = sentence(text) else {
        return;
    };
    out.push("event.action", "ips-alert");
    out.push("rule.id", signature);
    let name = rest.split(" from ").next().unwrap_or(rest).trim();
    if !name.is_empty() {
        out.push("rule.name", name);
    }
    if let Some(source) = token_after(rest, " from ").and_then(endpoint) {
        push_endpoint(out, Side::Source, &source);
    }
    if let Some(destination) = token_after(rest, " to ").and_then(endpoint) {
        push_endpoint(out, Side::Destination, &destination);
    }
    if let Some(interface) = token_after(rest, "on interface ") {
        out.push("observer.ingress.interface.name", interface);
    }
}

/// Splits FTD's `Key: value, Key Two: value, ...` list. A `, ` starts a new pair only when a
/// `Key: ` follows, so values may hold commas.
fn key_colon_values(text: &str) -> Vec<(&str, &str)> {
    fn key(input: &str) -> IResult<&str, &str> {
        let (rest, (name, _)) = (
            take_while1(|c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '/' | '.')),
            tag(": "),
        )
            .parse(input)?;
        Ok((rest, name))
    }
    let mut pairs = Vec::new();
    let mut rest = text;
    let Ok((after, mut name)) = key(rest) else {
        return pairs;
    };
    rest = after;
    loop {
        // Find the next `, Key: ` boundary.
        let mut search = 0;
        let boundary = loop {
            match rest[search..].find(", ") {
                Some(offset) => {
                    let at = search + offset;
                    match key(&rest[at + 2..]) {
                        Ok((after_key, next)) if next.len() <= 64 => break Some((at, after_key, next)),
                        _ => search = at + 2,
                    }
                }
                None => break None,
            }
        };
        match boundary {
            Some((at, after_key, next)) => {
                pairs.push((name.trim(), rest[..at].trim()));
                name = next;
                rest = after_key;
            }
            None => {
                pairs.push((name.trim(), rest.trim()));
                break;
            }
        }
    }
    pairs
}

/// ECS names of FTD connection/intrusion/file event keys.
fn ftd_ecs(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "SrcIP" => ("source.ip", Kind::Ip),
        "DstIP" => ("destination.ip", Kind::Ip),
        "SrcPort" => ("source.port", Kind::Number),
        "DstPort" => ("destination.port", Kind::Number),
        "Protocol" => ("network.transport", Kind::Transport),
        "AccessControlRuleAction" => ("event.action", Kind::Lower),
        "AccessControlRuleName" => ("rule.name", Kind::Text),
        "User" => ("user.name", Kind::Text),
        "ApplicationProtocol" => ("network.protocol", Kind::Lower),
        "Client" | "WebApplication" => ("network.application", Kind::Lower),
        "URL" => ("url.original", Kind::Text),
        "InitiatorBytes" => ("source.bytes", Kind::Number),
        "ResponderBytes" => ("destination.bytes", Kind::Number),
        "InitiatorPackets" => ("source.packets", Kind::Number),
        "ResponderPackets" => ("destination.packets", Kind::Number),
        "IngressInterface" => ("observer.ingress.interface.name", Kind::Text),
        "EgressInterface" => ("observer.egress.interface.name", Kind::Text),
        "IngressZone" => ("observer.ingress.zone", Kind::Text),
        "EgressZone" => ("observer.egress.zone", Kind::Text),
        "NAT_InitiatorIP" => ("source.nat.ip", Kind::Ip),
        "NAT_ResponderIP" => ("destination.nat.ip", Kind::Ip),
        "NAT_InitiatorPort" => ("source.nat.port", Kind::Number),
        "NAT_ResponderPort" => ("destination.nat.port", Kind::Number),
        "DNSQuery" => ("dns.question.name", Kind::Text),
        "HTTPReferer" => ("http.request.referrer", Kind::Text),
        "UserAgent" => ("user_agent.original", Kind::Text),
        "FileName" => ("file.name", Kind::Text),
        "SHA_Disposition" | "FileAction" => ("event.type", Kind::Lower),
        "SignatureID" | "GID" => ("rule.id", Kind::Text),
        "Message" => ("rule.name", Kind::Text),
        "Classification" => ("rule.category", Kind::Text),
        "DeviceUUID" => ("observer.serial_number", Kind::Text),
        _ => return None,
    })
}

/// 430001-430005 (FTD intrusion, connection, file and malware events).
fn ftd_event(text: &str, out: &mut Out<'_>) {
    let pairs = key_colon_values(text);
    for (key, value) in &pairs {
        out.fields.push(*key, *value);
    }
    out.map_pairs(&pairs, ftd_ecs);
    let action = pairs
        .iter()
        .find(|(key, _)| *key == "AccessControlRuleAction")
        .map(|(_, value)| *value);
    if let Some(outcome) = action.and_then(|action| match action.to_ascii_lowercase().as_str() {
        "allow" | "trust" => Some("success"),
        "block" | "block with reset" | "interactive block" | "interactive block with reset" => {
            Some("failure")
        }
        _ => None,
    }) {
        out.push("event.outcome", outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(message: &str) -> Option<(Recognized, Fields)> {
        let mut fields = Fields::new();
        fields.push("message", message);
        parse(message, &mut fields).map(|recognized| (recognized, fields))
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn int(number: i64) -> Value {
        Value::Int(number)
    }

    /// Every field the parser added (the caller's `message` excluded), in order.
    fn produced(fields: &Fields) -> Vec<(String, Value)> {
        fields
            .iter()
            .skip(1)
            .map(|(name, value)| (name.to_owned(), value.clone()))
            .collect()
    }

    fn expect(message: &str, expected: &[(&str, Value)]) {
        let (recognized, fields) = run(message).expect("asa");
        assert_eq!(
            recognized.logsource,
            logsource(Some("cisco_asa"), None, Some("asa"))
        );
        let expected: Vec<(String, Value)> = expected
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        assert_eq!(produced(&fields), expected, "{message}");
    }

    /// The header fields every message gets.
    fn head(id: &str, severity: i64, text: &str) -> Vec<(&'static str, Value)> {
        vec![
            ("message_id", s(id)),
            ("severity", int(severity)),
            ("message", s(text)),
            ("event.code", s(id)),
            ("event.severity", int(severity)),
            ("log.level", s(level_name(severity as u8))),
            ("observer.vendor", s("Cisco")),
            ("observer.product", s("asa")),
        ]
    }

    fn check(id: &str, severity: i64, text: &str, extra: &[(&'static str, Value)]) {
        let mut expected = head(id, severity, text);
        expected.extend_from_slice(extra);
        expect(&format!("%ASA-{severity}-{id}: {text}"), &expected);
    }

    #[test]
    fn deny_by_access_group() {
        check(
            "106023",
            4,
            "Deny tcp src outside:203.0.113.88/40021 dst dmz:10.10.1.20/21 by access-group \"outside_in\" [0x0, 0x0]",
            &[
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("tcp")),
                ("source.address", s("203.0.113.88")),
                ("source.ip", s("203.0.113.88")),
                ("source.port", int(40021)),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.address", s("10.10.1.20")),
                ("destination.ip", s("10.10.1.20")),
                ("destination.port", int(21)),
                ("observer.egress.interface.name", s("dmz")),
                ("rule.name", s("outside_in")),
            ],
        );
    }

    #[test]
    fn inbound_connection_denied_and_udp_deny_and_icmp_deny() {
        check(
            "106001",
            2,
            "Inbound TCP connection denied from 10.30.7.41/50445 to 10.10.1.20/445 flags SYN  on interface inside",
            &[
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("tcp")),
                ("source.address", s("10.30.7.41")),
                ("source.ip", s("10.30.7.41")),
                ("source.port", int(50445)),
                ("destination.address", s("10.10.1.20")),
                ("destination.ip", s("10.10.1.20")),
                ("destination.port", int(445)),
                ("observer.ingress.interface.name", s("inside")),
            ],
        );
        check(
            "106007",
            2,
            "Deny inbound UDP from 203.0.113.1/53 to 10.0.0.1/1234 due to DNS Response.",
            &[
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("udp")),
                ("source.address", s("203.0.113.1")),
                ("source.ip", s("203.0.113.1")),
                ("source.port", int(53)),
                ("destination.address", s("10.0.0.1")),
                ("destination.ip", s("10.0.0.1")),
                ("destination.port", int(1234)),
            ],
        );
        check(
            "106014",
            3,
            "Deny inbound icmp src outside:203.0.113.231 dst outside:198.51.100.112 (type 3, code 2)",
            &[
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("icmp")),
                ("source.address", s("203.0.113.231")),
                ("source.ip", s("203.0.113.231")),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.address", s("198.51.100.112")),
                ("destination.ip", s("198.51.100.112")),
                ("observer.egress.interface.name", s("outside")),
            ],
        );
        check(
            "106015",
            6,
            "Deny TCP (no connection) from 10.0.0.5/443 to 203.0.113.9/51000 flags RST  on interface inside",
            &[
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("tcp")),
                ("source.address", s("10.0.0.5")),
                ("source.ip", s("10.0.0.5")),
                ("source.port", int(443)),
                ("destination.address", s("203.0.113.9")),
                ("destination.ip", s("203.0.113.9")),
                ("destination.port", int(51000)),
                ("observer.ingress.interface.name", s("inside")),
            ],
        );
        check(
            "106006",
            2,
            "Deny inbound UDP from 203.0.113.1/137 to 10.0.0.255/137 on interface outside",
            &[
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("udp")),
                ("source.address", s("203.0.113.1")),
                ("source.ip", s("203.0.113.1")),
                ("source.port", int(137)),
                ("destination.address", s("10.0.0.255")),
                ("destination.ip", s("10.0.0.255")),
                ("destination.port", int(137)),
                ("observer.ingress.interface.name", s("outside")),
            ],
        );
    }

    #[test]
    fn access_list_hit() {
        check(
            "106100",
            6,
            "access-list outside_in denied tcp outside/203.0.113.5(51000) -> inside/10.0.0.5(443) hit-cnt 1 first hit [0x91c26a3, 0x0]",
            &[
                ("rule.name", s("outside_in")),
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("tcp")),
                ("source.address", s("203.0.113.5")),
                ("source.ip", s("203.0.113.5")),
                ("source.port", int(51000)),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.address", s("10.0.0.5")),
                ("destination.ip", s("10.0.0.5")),
                ("destination.port", int(443)),
                ("observer.egress.interface.name", s("inside")),
                ("event.count", int(1)),
            ],
        );
    }

    #[test]
    fn connection_built_inbound_and_outbound_and_teardown() {
        check(
            "302013",
            6,
            "Built inbound TCP connection 1001 for outside:203.0.113.88/41000 (203.0.113.88/41000) to dmz:10.10.1.20/443 (198.51.100.1/443)",
            &[
                ("event.action", s("built")),
                ("event.outcome", s("success")),
                ("network.transport", s("tcp")),
                ("connection_id", s("1001")),
                ("network.direction", s("inbound")),
                ("source.address", s("203.0.113.88")),
                ("source.ip", s("203.0.113.88")),
                ("source.port", int(41000)),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.address", s("10.10.1.20")),
                ("destination.ip", s("10.10.1.20")),
                ("destination.port", int(443)),
                ("observer.egress.interface.name", s("dmz")),
                ("source.nat.ip", s("203.0.113.88")),
                ("source.nat.port", int(41000)),
                ("destination.nat.ip", s("198.51.100.1")),
                ("destination.nat.port", int(443)),
            ],
        );
        check(
            "302015",
            6,
            "Built outbound UDP connection 77 for outside:8.8.8.8/53 (8.8.8.8/53) to inside:10.0.0.9/51000 (198.51.100.1/40000)",
            &[
                ("event.action", s("built")),
                ("event.outcome", s("success")),
                ("network.transport", s("udp")),
                ("connection_id", s("77")),
                ("network.direction", s("outbound")),
                ("source.address", s("10.0.0.9")),
                ("source.ip", s("10.0.0.9")),
                ("source.port", int(51000)),
                ("observer.ingress.interface.name", s("inside")),
                ("destination.address", s("8.8.8.8")),
                ("destination.ip", s("8.8.8.8")),
                ("destination.port", int(53)),
                ("observer.egress.interface.name", s("outside")),
                ("source.nat.ip", s("198.51.100.1")),
                ("source.nat.port", int(40000)),
                ("destination.nat.ip", s("8.8.8.8")),
                ("destination.nat.port", int(53)),
            ],
        );
        check(
            "302014",
            6,
            "Teardown TCP connection 1001 for outside:203.0.113.88/41000 to dmz:10.10.1.20/443 duration 0:01:05 bytes 5120 TCP FINs",
            &[
                ("event.action", s("teardown")),
                ("network.transport", s("tcp")),
                ("connection_id", s("1001")),
                ("source.address", s("203.0.113.88")),
                ("source.ip", s("203.0.113.88")),
                ("source.port", int(41000)),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.address", s("10.10.1.20")),
                ("destination.ip", s("10.10.1.20")),
                ("destination.port", int(443)),
                ("observer.egress.interface.name", s("dmz")),
                ("event.duration", int(65_000_000_000)),
                ("network.bytes", int(5120)),
                ("event.reason", s("TCP FINs")),
            ],
        );
        check(
            "302016",
            6,
            "Teardown UDP connection 77 for outside:8.8.8.8/53 to inside:10.0.0.9/51000 duration 0:00:00 bytes 120",
            &[
                ("event.action", s("teardown")),
                ("network.transport", s("udp")),
                ("connection_id", s("77")),
                ("source.address", s("8.8.8.8")),
                ("source.ip", s("8.8.8.8")),
                ("source.port", int(53)),
                ("observer.ingress.interface.name", s("outside")),
                ("destination.address", s("10.0.0.9")),
                ("destination.ip", s("10.0.0.9")),
                ("destination.port", int(51000)),
                ("observer.egress.interface.name", s("inside")),
                ("event.duration", int(0)),
                ("network.bytes", int(120)),
            ],
        );
    }

    #[test]
    fn icmp_connections() {
        check(
            "302020",
            6,
            "Built inbound ICMP connection for faddr 203.0.113.1/0 gaddr 198.51.100.1/0 laddr 10.0.0.1/0 type 8 code 0",
            &[
                ("event.action", s("built")),
                ("network.transport", s("icmp")),
                ("network.direction", s("inbound")),
                ("source.address", s("203.0.113.1")),
                ("source.ip", s("203.0.113.1")),
                ("source.port", int(0)),
                ("destination.address", s("10.0.0.1")),
                ("destination.ip", s("10.0.0.1")),
                ("destination.port", int(0)),
                ("destination.nat.ip", s("198.51.100.1")),
                ("destination.nat.port", int(0)),
            ],
        );
        check(
            "302021",
            6,
            "Teardown ICMP connection for faddr 8.8.8.8/0 gaddr 198.51.100.1/3 laddr 10.0.0.9/3 type 0 code 0",
            &[
                ("event.action", s("teardown")),
                ("network.transport", s("icmp")),
                ("source.address", s("10.0.0.9")),
                ("source.ip", s("10.0.0.9")),
                ("source.port", int(3)),
                ("destination.address", s("8.8.8.8")),
                ("destination.ip", s("8.8.8.8")),
                ("destination.port", int(0)),
                ("source.nat.ip", s("198.51.100.1")),
                ("source.nat.port", int(3)),
            ],
        );
    }

    #[test]
    fn nat_translations() {
        check(
            "305011",
            6,
            "Built dynamic TCP translation from inside:10.0.0.5/51000 to outside:198.51.100.1/41000",
            &[
                ("event.action", s("translation-built")),
                ("network.transport", s("tcp")),
                ("source.address", s("10.0.0.5")),
                ("source.ip", s("10.0.0.5")),
                ("source.port", int(51000)),
                ("observer.ingress.interface.name", s("inside")),
                ("source.nat.ip", s("198.51.100.1")),
                ("source.nat.port", int(41000)),
                ("observer.egress.interface.name", s("outside")),
            ],
        );
        check(
            "305012",
            6,
            "Teardown dynamic UDP translation from inside:10.0.0.5/51000 to outside:198.51.100.1/41000 duration 0:00:31",
            &[
                ("event.action", s("translation-teardown")),
                ("network.transport", s("udp")),
                ("source.address", s("10.0.0.5")),
                ("source.ip", s("10.0.0.5")),
                ("source.port", int(51000)),
                ("observer.ingress.interface.name", s("inside")),
                ("source.nat.ip", s("198.51.100.1")),
                ("source.nat.port", int(41000)),
                ("observer.egress.interface.name", s("outside")),
                ("event.duration", int(31_000_000_000)),
            ],
        );
    }

    #[test]
    fn aaa_authentication() {
        check(
            "113015",
            6,
            "AAA user authentication Rejected : reason = Invalid password : local database : user = nguyenvana : user IP = 10.20.3.4",
            &[
                ("event.action", s("authentication")),
                ("event.outcome", s("failure")),
                ("event.reason", s("Invalid password")),
                ("user.name", s("nguyenvana")),
                ("source.ip", s("10.20.3.4")),
                ("server.address", s("LOCAL")),
            ],
        );
        check(
            "113004",
            6,
            "AAA user authentication Successful : server = 10.0.0.10 : user = hoa",
            &[
                ("event.action", s("authentication")),
                ("event.outcome", s("success")),
                ("server.address", s("10.0.0.10")),
                ("user.name", s("hoa")),
            ],
        );
        check(
            "113005",
            6,
            "AAA user authentication Rejected : reason = AAA failure : server = 10.0.0.10 : user = ***** : user IP = 203.0.113.5",
            &[
                ("event.action", s("authentication")),
                ("event.outcome", s("failure")),
                ("event.reason", s("AAA failure")),
                ("server.address", s("10.0.0.10")),
                ("source.ip", s("203.0.113.5")),
            ],
        );
        check(
            "113039",
            6,
            "Group <GroupPolicy_VPN> User <hoa> IP <203.0.113.5> AnyConnect parent session started.",
            &[
                ("group.name", s("GroupPolicy_VPN")),
                ("user.name", s("hoa")),
                ("source.ip", s("203.0.113.5")),
                ("event.action", s("vpn-session-started")),
                ("event.outcome", s("success")),
            ],
        );
    }

    #[test]
    fn management_logins() {
        check(
            "605004",
            6,
            "Login denied from 203.0.113.31/51515 to outside:198.51.100.1/ssh for user \"admin\"",
            &[
                ("event.action", s("login")),
                ("event.outcome", s("failure")),
                ("source.address", s("203.0.113.31")),
                ("source.ip", s("203.0.113.31")),
                ("source.port", int(51515)),
                ("destination.address", s("198.51.100.1")),
                ("destination.ip", s("198.51.100.1")),
                ("network.protocol", s("ssh")),
                ("observer.ingress.interface.name", s("outside")),
                ("user.name", s("admin")),
            ],
        );
        check(
            "605005",
            6,
            "Login permitted from 10.250.1.15/50211 to inside:10.250.0.1/https for user \"netadmin\"",
            &[
                ("event.action", s("login")),
                ("event.outcome", s("success")),
                ("source.address", s("10.250.1.15")),
                ("source.ip", s("10.250.1.15")),
                ("source.port", int(50211)),
                ("destination.address", s("10.250.0.1")),
                ("destination.ip", s("10.250.0.1")),
                ("network.protocol", s("https")),
                ("observer.ingress.interface.name", s("inside")),
                ("user.name", s("netadmin")),
            ],
        );
    }

    #[test]
    fn vpn_user_authentication_and_logout() {
        check(
            "611101",
            6,
            "User authentication succeeded: IP address: 10.0.0.5, Uname: admin",
            &[
                ("event.action", s("authentication")),
                ("event.outcome", s("success")),
                ("user.name", s("admin")),
                ("source.ip", s("10.0.0.5")),
            ],
        );
        check(
            "611102",
            6,
            "User authentication failed: IP address: 203.0.113.5, Uname: root",
            &[
                ("event.action", s("authentication")),
                ("event.outcome", s("failure")),
                ("user.name", s("root")),
                ("source.ip", s("203.0.113.5")),
            ],
        );
        check(
            "611103",
            5,
            "User logged out: Uname: admin",
            &[
                ("event.action", s("logout")),
                ("event.outcome", s("success")),
                ("user.name", s("admin")),
            ],
        );
    }

    #[test]
    fn commands_executed() {
        check(
            "111008",
            5,
            "User 'admin' executed the 'write memory' command.",
            &[
                ("user.name", s("admin")),
                ("event.action", s("command-executed")),
                ("asa.command", s("write memory")),
                ("process.command_line", s("write memory")),
            ],
        );
        check(
            "111010",
            5,
            "User 'enable_15', running 'CLI' from IP address 10.0.0.5, executed 'no logging host'",
            &[
                ("user.name", s("enable_15")),
                ("event.action", s("command-executed")),
                ("process.name", s("CLI")),
                ("source.ip", s("10.0.0.5")),
                ("asa.command", s("no logging host")),
                ("process.command_line", s("no logging host")),
            ],
        );
        check(
            "111010",
            5,
            "User 'netadmin', running 'CLI' from IP 10.250.1.15, executed 'no logging host inside 10.250.5.10'",
            &[
                ("user.name", s("netadmin")),
                ("event.action", s("command-executed")),
                ("process.name", s("CLI")),
                ("source.ip", s("10.250.1.15")),
                ("asa.command", s("no logging host inside 10.250.5.10")),
                ("process.command_line", s("no logging host inside 10.250.5.10")),
            ],
        );
        check(
            "111009",
            7,
            "User 'oxidized' executed cmd: show running-config",
            &[
                ("user.name", s("oxidized")),
                ("event.action", s("command-executed")),
                ("asa.command", s("show running-config")),
                ("process.command_line", s("show running-config")),
            ],
        );
    }

    #[test]
    fn local_users_and_privilege() {
        check(
            "502103",
            5,
            "User priv level changed: Uname: nguyenvana From: 1 To: 15",
            &[
                ("event.action", s("privilege-changed")),
                ("user.name", s("nguyenvana")),
                ("asa.privilege_from", int(1)),
                ("asa.privilege_to", int(15)),
            ],
        );
        check(
            "502101",
            5,
            "New user added to local dbase: Uname: backup_adm Priv: 15 Encpass: ***********",
            &[
                ("event.action", s("user-added")),
                ("user.name", s("backup_adm")),
                ("asa.privilege", int(15)),
            ],
        );
    }

    #[test]
    fn threat_detection_access_denied_and_ips() {
        check(
            "733100",
            4,
            "[ Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, max configured rate is 10; Current average rate is 5 per second, max configured rate is 5; Cumulative total count is 3024",
            &[
                ("event.action", s("threat-rate-exceeded")),
                ("asa.threat_object", s("Scanning")),
                ("asa.burst_rate", int(10)),
                ("asa.average_rate", int(5)),
                ("asa.total_count", int(3024)),
            ],
        );
        check(
            "710003",
            3,
            "TCP access denied by ACL from 203.0.113.5/51000 to outside:198.51.100.1/ssh",
            &[
                ("event.action", s("deny")),
                ("event.outcome", s("failure")),
                ("network.transport", s("tcp")),
                ("source.address", s("203.0.113.5")),
                ("source.ip", s("203.0.113.5")),
                ("source.port", int(51000)),
                ("destination.address", s("198.51.100.1")),
                ("destination.ip", s("198.51.100.1")),
                ("network.protocol", s("ssh")),
                ("observer.ingress.interface.name", s("outside")),
            ],
        );
        let text = "IPS:2003 ICMP redirect from 10.4.1.2 to 10.2.1.1 on interface dmz";
        let mut expected = head("400013", 4, text);
        expected.extend_from_slice(&[
            ("event.action", s("ips-alert")),
            ("rule.id", s("2003")),
            ("rule.name", s("ICMP redirect")),
            ("source.address", s("10.4.1.2")),
            ("source.ip", s("10.4.1.2")),
            ("destination.address", s("10.2.1.1")),
            ("destination.ip", s("10.2.1.1")),
            ("observer.ingress.interface.name", s("dmz")),
        ]);
        // IPS messages have no colon after the id.
        expect(&format!("%ASA-4-400013 {text}"), &expected);
    }

    #[test]
    fn unknown_id_keeps_the_header_only() {
        check("321006", 2, "System Memory usage reached 93%", &[]);
    }

    #[test]
    fn ftd_key_colon_value_connection_event() {
        let text = "DeviceUUID: 0f1e2d3c-0000-1111-2222-333344445555, InstanceID: 1, AccessControlRuleAction: Block, SrcIP: 203.0.113.4, DstIP: 10.0.0.8, SrcPort: 51000, DstPort: 3389, Protocol: tcp, IngressInterface: outside, EgressInterface: inside, ACPolicy: Default, AccessControlRuleName: Block-RDP, Prefilter Policy: none, User: No Authentication Required, URL: http://example.org/a,b, InitiatorPackets: 3, ResponderPackets: 0, InitiatorBytes: 180, ResponderBytes: 0";
        let message = format!("%FTD-1-430003: {text}");
        let (recognized, fields) = run(&message).expect("ftd");
        assert_eq!(recognized.source_type, "cisco-ftd");
        assert_eq!(
            recognized.logsource,
            logsource(Some("cisco_asa"), None, Some("asa"))
        );
        let expected: Vec<(&str, Value)> = vec![
            ("message_id", s("430003")),
            ("severity", int(1)),
            ("message", s(text)),
            ("event.code", s("430003")),
            ("event.severity", int(1)),
            ("log.level", s("alerts")),
            ("observer.vendor", s("Cisco")),
            ("observer.product", s("ftd")),
            ("DeviceUUID", s("0f1e2d3c-0000-1111-2222-333344445555")),
            ("InstanceID", s("1")),
            ("AccessControlRuleAction", s("Block")),
            ("SrcIP", s("203.0.113.4")),
            ("DstIP", s("10.0.0.8")),
            ("SrcPort", s("51000")),
            ("DstPort", s("3389")),
            ("Protocol", s("tcp")),
            ("IngressInterface", s("outside")),
            ("EgressInterface", s("inside")),
            ("ACPolicy", s("Default")),
            ("AccessControlRuleName", s("Block-RDP")),
            ("Prefilter Policy", s("none")),
            ("User", s("No Authentication Required")),
            ("URL", s("http://example.org/a,b")),
            ("InitiatorPackets", s("3")),
            ("ResponderPackets", s("0")),
            ("InitiatorBytes", s("180")),
            ("ResponderBytes", s("0")),
            (
                "observer.serial_number",
                s("0f1e2d3c-0000-1111-2222-333344445555"),
            ),
            ("event.action", s("block")),
            ("source.ip", s("203.0.113.4")),
            ("destination.ip", s("10.0.0.8")),
            ("source.port", int(51000)),
            ("destination.port", int(3389)),
            ("network.transport", s("tcp")),
            ("observer.ingress.interface.name", s("outside")),
            ("observer.egress.interface.name", s("inside")),
            ("rule.name", s("Block-RDP")),
            ("user.name", s("No Authentication Required")),
            ("url.original", s("http://example.org/a,b")),
            ("source.packets", int(3)),
            ("destination.packets", int(0)),
            ("source.bytes", int(180)),
            ("destination.bytes", int(0)),
            ("event.outcome", s("failure")),
            ("network.bytes", int(180)),
        ];
        let expected: Vec<(String, Value)> = expected
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        assert_eq!(produced(&fields), expected);
    }

    #[test]
    fn prefixes_pix_and_bare_lines() {
        let (recognized, fields) = run(
            ": %PIX-3-710003: TCP access denied by ACL from 203.0.113.130/54065 to outside:198.51.100.98/ssh",
        )
        .expect("pix");
        assert_eq!(recognized.source_type, "cisco-pix");
        assert_eq!(fields.get("observer.product"), Some(&s("pix")));
        assert_eq!(fields.get("source.ip"), Some(&s("203.0.113.130")));
        // A bare line: the caller's message equals the whole line, the sentence is added.
        let mut fields = Fields::new();
        let line = "%ASA-6-605005: Login permitted from 10.0.0.1/1 to inside:10.0.0.2/ssh for user \"a\"";
        fields.push("message", line);
        parse(line, &mut fields).expect("asa");
        assert_eq!(fields.get_all("message").count(), 2);
        // Without a caller's message nothing is duplicated.
        let mut fields = Fields::new();
        parse("%ASA-5-111008: User 'a' executed the 'x' command.", &mut fields).expect("asa");
        assert_eq!(fields.get_all("message").count(), 0);
    }

    #[test]
    fn not_asa_and_hostile_inputs() {
        for input in [
            "",
            "%ASA",
            "%ASA-",
            "%ASA-x-106023: a",
            "%ASA-6-1: a",
            "hello %FTD-",
            "%IOS-6-106023: x",
        ] {
            assert!(run(input).is_none(), "{input}");
        }
        let long = format!(
            "%ASA-4-106023: Deny tcp src {} dst {}",
            "a:".repeat(50_000),
            "/".repeat(50_000)
        );
        assert!(run(&long).is_some());
        let equals = format!("%FTD-1-430003: {}", "=".repeat(1_000_000));
        assert!(run(&equals).is_some());
        let commas = format!("%FTD-1-430003: A: {}", ", ".repeat(200_000));
        assert!(run(&commas).is_some());
        let keys = format!("%FTD-1-430003: {}", "K: , ".repeat(100_000));
        assert!(run(&keys).is_some());
        for id in [
            "106001", "106023", "106100", "302013", "302014", "302020", "302021", "305011", "113015",
            "113039", "605004", "611101", "111008", "111010", "502103", "733100", "710003", "400013",
            "430003",
        ] {
            for text in [
                "",
                " ",
                "Deny",
                "Built inbound TCP connection x for",
                "Built outbound TCP connection 1 for a to b",
                "access-list a b c d/e(",
                "User '",
                "User 'a', running 'b' from IP ",
                "Login denied from a to b for user \"",
                "Group <a> User <b> IP <",
                "AAA user authentication Rejected : user = ",
                "IPS:1 ",
                "faddr / gaddr laddr :/",
                "duration 99999999999999999:99:99 bytes 99999999999999999999",
                "Teardown TCP connection 1 for a:b/c to d:e/f duration 1:2:3:4 bytes x",
                "User 'nguyễn' executed the 'tường lửa' command.",
                "é:ü/ö -> ä/ß(1)",
            ] {
                let _ = run(&format!("%ASA-6-{id}: {text}"));
            }
        }
    }
}
