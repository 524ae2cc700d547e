//! key=value logs: FortiGate (and the other Fortinet products), SonicWall, Sophos XG, NetScreen,
//! Linux iptables/netfilter, Check Point (`key:"value";` syslog export) and any other
//! `key=value key="quoted value"` line.
//!
//! The source's own keys are kept at top level exactly as written (`srcip`, `logid`, `cfgpath`...,
//! values as text: rules compare `logid: '0100032002'` as text), and the ones ECS has a name for are
//! repeated under that name with numbers typed (`source.ip`, `source.port` as a number...).
//!
//! The shared helpers of the network parsers (ECS transport names, outcome words, IP checks, time
//! parsing) live in [`ecs`] below so that CEF, LEEF, ASA and PAN-OS map values the same way.

use haidang_event::Fields;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_till1, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{map, opt};
use nom::{IResult, Parser};
use std::borrow::Cow;

use self::ecs::{Kind, Out};
use super::{ParseContext, Recognized, logsource};

/// Keys of key=value pairs: letters, digits, `_`, `.`, `-`.
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// One item of a key=value line: a pair, or a word that is not one (free text, flags such as
/// iptables `DF`/`SYN`, a NetScreen `[Root]system-...:` tag).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Token<'a> {
    Pair(&'a str, Cow<'a, str>),
    Word(&'a str),
}

/// Removes the escapes of a quoted value: `\"` and `\\` (other backslashes stay, Windows paths
/// are common in values).
fn unescape_quoted<'a>(raw: &'a str, extra: &[char]) -> Cow<'a, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) if next == '"' || next == '\\' || extra.contains(&next) => out.push(next),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Length of a double-quoted body up to its closing quote (escapes skipped), `None` when the
/// quote is never closed. Works on bytes: `"` and `\` never occur inside a multi-byte character,
/// so the returned index is always a character boundary.
fn quoted_len(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some(index),
            _ => index += 1,
        }
    }
    None
}

/// A double-quoted value with `\"` and `\\` escapes. An unterminated quote (a line cut by a
/// syslog size limit) takes the rest of the line rather than failing the whole line.
fn quoted(input: &str) -> IResult<&str, Cow<'_, str>> {
    let (body, _) = char('"').parse(input)?;
    match quoted_len(body) {
        Some(end) => Ok((&body[end + 1..], unescape_quoted(&body[..end], &[]))),
        None => Ok(("", unescape_quoted(body, &[]))),
    }
}

/// `key=value`; a bare value runs to the next whitespace (or the line's separator character).
fn pair(input: &str, separator: Option<char>) -> IResult<&str, (&str, Cow<'_, str>)> {
    let bare = take_till(move |c: char| c.is_whitespace() || Some(c) == separator);
    let (rest, (key, _, value)) = (
        take_while1(is_key_char),
        char('='),
        alt((quoted, map(bare, Cow::Borrowed))),
    )
        .parse(input)?;
    Ok((rest, (key, value)))
}

/// Splits a line into pairs and words. Linear in the input whatever it holds.
pub(super) fn tokenize(text: &str, separator: Option<char>) -> Vec<Token<'_>> {
    let is_gap = move |c: char| c.is_whitespace() || Some(c) == separator;
    let mut tokens = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(is_gap);
        if rest.is_empty() {
            break;
        }
        if let Ok((next, (key, value))) = pair(rest, separator) {
            tokens.push(Token::Pair(key, value));
            rest = next;
            continue;
        }
        let word: IResult<&str, &str> = take_till1(is_gap).parse(rest);
        match word {
            Ok((next, word)) => {
                tokens.push(Token::Word(word));
                rest = next;
            }
            Err(_) => break,
        }
    }
    tokens
}

/// The character between pairs: a space normally, `,` `;` or `|` when the line is written
/// `key="a",key2="b"` (F5, some exporters). Counted over the whole line so that a comma inside
/// one FortiGate `msg` does not switch a space-separated line.
fn separator_of(text: &str) -> Option<char> {
    let bytes = text.as_bytes();
    let mut counts = [0usize; 4]; // space, ',', ';', '|'
    for (index, &byte) in bytes.iter().enumerate() {
        let slot = match byte {
            b' ' | b'\t' => 0,
            b',' => 1,
            b';' => 2,
            b'|' => 3,
            _ => continue,
        };
        let mut start = index + 1;
        if slot != 0 && bytes.get(start) == Some(&b' ') {
            start += 1;
        }
        let key_len = bytes[start.min(bytes.len())..]
            .iter()
            .take_while(|b| is_key_char(char::from(**b)))
            .count();
        if key_len > 0 && bytes.get(start + key_len) == Some(&b'=') {
            counts[slot] += 1;
        }
    }
    let (best, count) = counts[1..].iter().enumerate().max_by_key(|(_, count)| **count)?;
    if *count >= 2 && count * 2 >= counts[0] {
        Some([',', ';', '|'][best])
    } else {
        None
    }
}

/// `<189>` at the start of a bare line (FortiGate sends it without the rest of a syslog header).
fn strip_pri(text: &str) -> &str {
    let parsed: IResult<&str, (char, &str, char)> = (char('<'), digit1, char('>')).parse(text);
    match parsed {
        Ok((rest, (_, digits, _))) if digits.len() <= 3 => rest,
        _ => text,
    }
}

/// The families this module knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    FortiGate,
    FortiMail,
    FortiAuth,
    FortiDdos,
    SonicWall,
    Sophos,
    CheckPoint,
    NetScreen,
    Iptables,
    Json,
    Generic,
}

/// A line split into pairs, with the family it belongs to.
struct Shape<'a> {
    family: Family,
    /// Pairs in line order (NetScreen and Check Point already rewritten into pairs).
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Words that were not pairs, in order.
    words: Vec<&'a str>,
    /// How many of `words` came before the first pair (iptables: the log prefix).
    leading_words: usize,
    /// Fields named by the parser rather than the line (the NetScreen header).
    header: Vec<(&'static str, String)>,
    /// A JSON body, flattened with its value types.
    json: Option<Fields>,
}

fn get<'s>(pairs: &'s [(Cow<'_, str>, Cow<'_, str>)], key: &str) -> Option<&'s str> {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_ref())
}

/// Whether the message looks like key=value (or one of the other shapes this module reads).
pub(crate) fn looks_like(message: &str) -> bool {
    classify(message).is_some()
}

/// Recognises the shape of a message; `None` when it is not one this module reads.
fn classify(message: &str) -> Option<Shape<'_>> {
    let body = strip_pri(message.trim()).trim();
    if body.is_empty() {
        return None;
    }
    if body.starts_with('{') {
        return json_shape(body);
    }
    if let Some(shape) = netscreen_shape(body) {
        return Some(shape);
    }
    if let Some(shape) = checkpoint_shape(body) {
        return Some(shape);
    }
    // iptables `--log-prefix` is often written without a trailing space: `DROP(wan)IN=eth0 OUT=`.
    let (head, tail) = match iptables_start(body) {
        Some(index) => body.split_at(index),
        None => ("", body),
    };
    let mut tokens = tokenize(head, None);
    tokens.extend(tokenize(tail, separator_of(tail)));
    let mut pairs = Vec::new();
    let mut words = Vec::new();
    let mut leading_words = None;
    for token in &tokens {
        match token {
            Token::Pair(key, value) => {
                leading_words.get_or_insert(words.len());
                pairs.push((Cow::Borrowed(*key), value.clone()));
            }
            Token::Word(word) => words.push(*word),
        }
    }
    let leading_words = leading_words.unwrap_or(words.len());
    let family = family_of(&pairs)?;
    if family == Family::Generic {
        // Plain syslog text often holds a few `a=b` words (postfix `to=<..> relay=..`): only a line
        // that starts with a pair and is mostly pairs is taken, so those stay Linux syslog.
        let starts_with_pair = matches!(tokens.first(), Some(Token::Pair(..)));
        if !starts_with_pair || pairs.len() < 3 || pairs.len() * 2 < tokens.len() {
            return None;
        }
    } else if pairs.len() < 3 {
        return None;
    }
    Some(Shape {
        family,
        pairs,
        words,
        leading_words,
        header: Vec::new(),
        json: None,
    })
}

/// Where the `IN=... OUT=` of a netfilter LOG line starts, when it has one.
fn iptables_start(body: &str) -> Option<usize> {
    let index = body.find("IN=")?;
    let after = &body[index + 3..];
    let value_end = after.find(' ')?;
    after[value_end..].starts_with(" OUT=").then_some(index)
}

/// Which vendor wrote these pairs.
fn family_of(pairs: &[(Cow<'_, str>, Cow<'_, str>)]) -> Option<Family> {
    let has = |key: &str| pairs.iter().any(|(name, _)| name == key);
    let value = |key: &str| get(pairs, key).unwrap_or("");
    if has("IN") && has("OUT") && has("SRC") && has("DST") {
        return Some(Family::Iptables);
    }
    if has("typeid") && has("subcategory") {
        return Some(Family::FortiAuth);
    }
    if has("evecode") && has("evesubcode") {
        return Some(Family::FortiDdos);
    }
    let device = if has("devid") {
        value("devid")
    } else {
        value("device_id")
    };
    let fortimail_type = matches!(
        value("type"),
        "kevent" | "statistics" | "spam" | "encrypt" | "mta"
    );
    if (device.starts_with("FE") || fortimail_type) && (has("log_id") || has("logid")) {
        return Some(Family::FortiMail);
    }
    if has("devname")
        || device.starts_with("FG")
        || device.starts_with("FW")
        || ((has("logid") || has("log_id")) && has("type") && has("subtype"))
    {
        return Some(Family::FortiGate);
    }
    if value("device") == "SFW" || (has("log_id") && has("log_type") && has("log_component")) {
        return Some(Family::Sophos);
    }
    if matches!(pairs.first(), Some((key, _)) if key == "id") && has("sn") && (has("fw") || has("m")) {
        return Some(Family::SonicWall);
    }
    if has("originsicname") || value("product").contains("FireWall-1") {
        return Some(Family::CheckPoint);
    }
    if pairs.is_empty() {
        None
    } else {
        Some(Family::Generic)
    }
}

/// A JSON object carried in a syslog message (ESET PROTECT, many agents).
fn json_shape(body: &str) -> Option<Shape<'_>> {
    if !body.ends_with('}') {
        return None;
    }
    let document: serde_json::Value = serde_json::from_str(body).ok()?;
    let object = document.as_object()?;
    if object.is_empty() {
        return None;
    }
    let flat = haidang_event::flatten_json(&document, &[]);
    let mut pairs = Vec::new();
    for (name, value) in flat.iter() {
        if let Some(text) = value.as_text() {
            pairs.push((Cow::Owned(name.to_owned()), Cow::Owned(text.into_owned())));
        }
    }
    Some(Shape {
        family: Family::Json,
        pairs,
        words: Vec::new(),
        leading_words: 0,
        header: Vec::new(),
        json: Some(flat),
    })
}

/// `NetScreen device_id=ssg5  [Root]system-notification-00257(traffic): start_time="..." ...`
fn netscreen_shape(body: &str) -> Option<Shape<'_>> {
    /// device, vsys, category, level, code, type
    type Header<'a> = (
        &'a str,
        Option<&'a str>,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
    );
    fn header(input: &str) -> IResult<&str, Header<'_>> {
        let (rest, (_, _, _, device, _)) = (
            tag("NetScreen"),
            space1,
            tag("device_id="),
            take_till1(char::is_whitespace),
            space0,
        )
            .parse(input)?;
        let (rest, vsys) = opt((char('['), take_till1(|c| c == ']'), char(']')))
            .map(|found| found.map(|(_, name, _)| name))
            .parse(rest)?;
        let (rest, (category, _, level, _, code)) = (
            take_while1(|c: char| c.is_ascii_alphabetic()),
            char('-'),
            take_while1(|c: char| c.is_ascii_alphabetic()),
            char('-'),
            digit1,
        )
            .parse(rest)?;
        let (rest, kind) = opt((char('('), take_till1(|c| c == ')'), char(')')))
            .map(|found| found.map(|(_, k, _)| k))
            .parse(rest)?;
        let (rest, _) = (char(':'), space0).parse(rest)?;
        Ok((rest, (device, vsys, category, level, code, kind)))
    }
    let (text, (device, vsys, category, level, code, kind)) = header(body).ok()?;
    let mut shape_header: Vec<(&'static str, String)> = vec![
        ("device_id", device.to_owned()),
        ("netscreen.category", category.to_owned()),
        ("netscreen.level", level.to_owned()),
        ("netscreen.code", code.to_owned()),
    ];
    if let Some(vsys) = vsys {
        shape_header.push(("netscreen.vsys", vsys.to_owned()));
    }
    if let Some(kind) = kind {
        shape_header.push(("netscreen.type", kind.to_owned()));
    }
    // Traffic logs are pairs with two quirks: `src zone=Trust` (a word naming the zone's side) and
    // a last `reason=Traffic Denied` with a space in a bare value.
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    let mut words = Vec::new();
    let mut pending_side: Option<&str> = None;
    for token in tokenize(text, None) {
        match token {
            Token::Pair(key, value) => {
                let key = match pending_side.take() {
                    Some(side) if key == "zone" => Cow::Owned(format!("{side}_zone")),
                    _ => Cow::Borrowed(key),
                };
                pairs.push((key, value));
            }
            Token::Word(word) if matches!(word, "src" | "dst") => pending_side = Some(word),
            Token::Word(word) => {
                pending_side = None;
                match pairs.last_mut() {
                    Some((_, value)) if kind == Some("traffic") => {
                        let joined = format!("{value} {word}");
                        *value = Cow::Owned(joined);
                    }
                    _ => words.push(word),
                }
            }
        }
    }
    if kind != Some("traffic") {
        pairs.clear();
        words.clear();
        words.push(text);
    }
    Some(Shape {
        family: Family::NetScreen,
        pairs,
        words,
        leading_words: 0,
        header: shape_header,
        json: None,
    })
}

/// Check Point's syslog export: `[action:"Drop"; flags:"400644"; ifdir:"inbound"; ...]`, maybe
/// after the `-` of an empty RFC 5424 field.
fn checkpoint_shape(body: &str) -> Option<Shape<'_>> {
    let body = body.strip_prefix("- ").unwrap_or(body).trim_start();
    let mut rest = body.strip_prefix('[')?;
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
        if rest.is_empty() || rest.starts_with(']') {
            break;
        }
        let item: IResult<&str, (&str, &str, char)> =
            (take_while1(is_key_char), take_while1(|c| c == ':'), char('"')).parse(rest);
        let Ok((value_start, (key, _, _))) = item else {
            break;
        };
        match quoted_len(value_start) {
            Some(end) => {
                pairs.push((
                    Cow::Borrowed(key),
                    unescape_quoted(&value_start[..end], &[']', '[']),
                ));
                rest = &value_start[end + 1..];
            }
            None => {
                pairs.push((Cow::Borrowed(key), unescape_quoted(value_start, &[']', '['])));
                break;
            }
        }
    }
    // One pair is enough: the `[name:"value"` opening is specific to Check Point.
    if pairs.is_empty() {
        return None;
    }
    Some(Shape {
        family: Family::CheckPoint,
        pairs,
        words: Vec::new(),
        leading_words: 0,
        header: Vec::new(),
        json: None,
    })
}

/// Parses the message into `fields`; `None` if it is not key=value.
pub(crate) fn parse(message: &str, context: &ParseContext, fields: &mut Fields) -> Option<Recognized> {
    let shape = classify(message)?;
    for (name, value) in &shape.header {
        fields.push(*name, value.as_str());
    }
    match &shape.json {
        Some(flat) => {
            for (name, value) in flat.iter() {
                fields.push(name, value.clone());
            }
        }
        None => {
            for (name, value) in &shape.pairs {
                fields.push(name.as_ref(), value.as_ref());
            }
        }
    }
    let mut out = Out::new(fields);
    let pairs = &shape.pairs;
    let recognized = match shape.family {
        Family::FortiGate => fortigate(pairs, context, &mut out),
        Family::FortiMail => fortinet_other(pairs, context, &mut out, "FortiMail", "fortimail"),
        Family::FortiAuth => fortinet_other(pairs, context, &mut out, "FortiAuthenticator", "fortiauth"),
        Family::FortiDdos => fortinet_other(pairs, context, &mut out, "FortiDDoS", "fortiddos"),
        Family::SonicWall => sonicwall(pairs, context, &mut out),
        Family::Sophos => sophos(pairs, context, &mut out),
        Family::CheckPoint => checkpoint(pairs, context, &mut out),
        Family::NetScreen => netscreen(&shape, context, &mut out),
        Family::Iptables => iptables(&shape, &mut out),
        Family::Json => json(pairs, &mut out),
        Family::Generic => generic(pairs, context, &mut out),
    };
    Some(recognized)
}

/// ECS names of FortiGate keys (FortiOS 3/4 names too: `src`, `dst`, `src_port`, `sent`...).
fn fortigate_ecs(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "srcip" | "src" => ("source.ip", Kind::Ip),
        "dstip" | "dst" => ("destination.ip", Kind::Ip),
        "srcport" | "src_port" => ("source.port", Kind::Number),
        "dstport" | "dst_port" => ("destination.port", Kind::Number),
        "transip" => ("source.nat.ip", Kind::Ip),
        "transport" => ("source.nat.port", Kind::Number),
        "tranip" => ("destination.nat.ip", Kind::Ip),
        "tranport" => ("destination.nat.port", Kind::Number),
        "proto" => ("network.transport", Kind::Transport),
        "action" => ("event.action", Kind::Text),
        "status" => ("event.outcome", Kind::Outcome),
        "user" => ("user.name", Kind::Text),
        "dstuser" => ("destination.user.name", Kind::Text),
        "srcuser" => ("source.user.name", Kind::Text),
        "devname" => ("observer.name", Kind::Text),
        "devid" | "device_id" => ("observer.serial_number", Kind::Text),
        "sentbyte" | "sent" => ("source.bytes", Kind::Number),
        "rcvdbyte" | "rcvd" => ("destination.bytes", Kind::Number),
        "sentpkt" | "sent_pkt" => ("source.packets", Kind::Number),
        "rcvdpkt" | "rcvd_pkt" => ("destination.packets", Kind::Number),
        "level" | "pri" => ("log.level", Kind::Text),
        "logid" | "log_id" => ("event.code", Kind::Text),
        "policyid" => ("rule.id", Kind::Text),
        "policyname" => ("rule.name", Kind::Text),
        "app" => ("network.application", Kind::Lower),
        "url" => ("url.original", Kind::Text),
        "hostname" => ("url.domain", Kind::Text),
        "httpmethod" => ("http.request.method", Kind::Text),
        "srcintf" | "src_int" => ("observer.ingress.interface.name", Kind::Text),
        "dstintf" | "dst_int" => ("observer.egress.interface.name", Kind::Text),
        "srcmac" => ("source.mac", Kind::Text),
        "dstmac" => ("destination.mac", Kind::Text),
        "duration" => ("event.duration_seconds", Kind::Number),
        _ => return None,
    })
}

/// The mapping route for a FortiGate log `type`: FortiOS 5+ writes `utm` for the security
/// profiles, FortiOS 4 wrote the profile itself as the type (`virus`, `webfilter`, `ips`...).
pub(super) fn fortigate_service(kind: &str) -> Option<&'static str> {
    match kind {
        "event" => Some("event"),
        "traffic" => Some("traffic"),
        "utm" | "virus" | "webfilter" | "ips" | "attack" | "emailfilter" | "spam" | "dlp" | "app-ctrl"
        | "anomaly" | "waf" | "dns" | "ssh" | "ssl" | "voip" | "file-filter" | "icap" | "cifs" | "gtp" => {
            Some("utm")
        }
        _ => None,
    }
}

fn fortigate(
    pairs: &[(Cow<'_, str>, Cow<'_, str>)],
    context: &ParseContext,
    out: &mut Out<'_>,
) -> Recognized {
    out.map_pairs(pairs, fortigate_ecs);
    out.push("observer.vendor", "Fortinet");
    out.push("observer.product", "FortiGate");
    if !out.has("event.outcome")
        && let Some(outcome) = get(pairs, "action").and_then(ecs::outcome)
    {
        out.push("event.outcome", outcome);
    }
    // FortiOS 5 admin logins name the client only inside `ui=https(10.0.0.5)`.
    if !out.has("source.ip")
        && let Some(ip) = get(pairs, "ui").and_then(ip_in_parentheses)
    {
        out.push("source.ip", ip);
    }
    out.push_total_bytes();
    let kind = get(pairs, "type").unwrap_or("");
    let timestamp = fortinet_time(pairs, context);
    Recognized {
        logsource: logsource(Some("fortigate"), None, fortigate_service(kind)),
        source_type: "fortigate",
        timestamp_nanos: timestamp,
        host: get(pairs, "devname")
            .filter(|name| !name.is_empty())
            .map(str::to_owned),
    }
}

/// `https(10.0.0.5)` -> `10.0.0.5`.
fn ip_in_parentheses(text: &str) -> Option<&str> {
    let inner = text.split_once('(')?.1.split_once(')')?.0;
    ecs::is_ip(inner).then_some(inner)
}

/// FortiGate/FortiMail time: `date`+`time` with `tz` when given, else the `eventtime` epoch,
/// else `date`+`time` in the configured default zone.
fn fortinet_time(pairs: &[(Cow<'_, str>, Cow<'_, str>)], context: &ParseContext) -> Option<i64> {
    let local = match (get(pairs, "date"), get(pairs, "time")) {
        (Some(date), Some(time)) => Some(format!("{date} {time}")),
        _ => None,
    };
    if let (Some(local), Some(zone)) = (&local, get(pairs, "tz").and_then(ecs::parse_offset))
        && let Some(nanos) = ecs::parse_datetime(local, zone)
    {
        return Some(nanos);
    }
    if let Some(nanos) = get(pairs, "eventtime").and_then(ecs::epoch_nanos) {
        return Some(nanos);
    }
    local.and_then(|local| ecs::parse_datetime(&local, context.default_offset))
}

/// FortiMail and FortiAuthenticator: Fortinet keys, no mapping route (they are not firewalls).
fn fortinet_other(
    pairs: &[(Cow<'_, str>, Cow<'_, str>)],
    context: &ParseContext,
    out: &mut Out<'_>,
    product: &'static str,
    source_type: &'static str,
) -> Recognized {
    out.map_pairs(pairs, |key| match key {
        "client_ip" => Some(("source.ip", Kind::Ip)),
        "dst_ip" | "nas" => Some(("destination.ip", Kind::Ip)),
        "src" | "sip" => Some(("source.ip", Kind::Ip)),
        "dip" => Some(("destination.ip", Kind::Ip)),
        "protocol" => Some(("network.transport", Kind::Transport)),
        "description" => Some(("event.reason", Kind::Text)),
        "from" => Some(("source.user.email", Kind::Text)),
        "to" => Some(("destination.user.email", Kind::Text)),
        "subject" => Some(("email.subject", Kind::Text)),
        "typeid" => Some(("event.code", Kind::Text)),
        _ => fortigate_ecs(key),
    });
    out.push("observer.vendor", "Fortinet");
    out.push("observer.product", product);
    if !out.has("source.ip")
        && let Some(ip) = get(pairs, "ui").and_then(ip_in_parentheses)
    {
        out.push("source.ip", ip);
    }
    Recognized {
        logsource: Default::default(),
        source_type,
        timestamp_nanos: fortinet_time(pairs, context),
        host: None,
    }
}

/// ECS names of the keys generic firewalls use (`src`, `src_ip`, `dport`, `protocol`...).
fn generic_ecs(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "src" | "srcip" | "src_ip" | "source_ip" | "sip" | "SRC" | "s_ip" => ("source.ip", Kind::Endpoint),
        "dst" | "dstip" | "dst_ip" | "destination_ip" | "dip" | "DST" | "d_ip" => {
            ("destination.ip", Kind::Endpoint)
        }
        "spt" | "sport" | "srcport" | "src_port" | "s_port" | "SPT" | "srcPort" | "source_port" => {
            ("source.port", Kind::Number)
        }
        "dpt" | "dport" | "dstport" | "dst_port" | "d_port" | "DPT" | "dstPort" | "destination_port" => {
            ("destination.port", Kind::Number)
        }
        "proto" | "protocol" | "PROTO" => ("network.transport", Kind::Transport),
        "action" | "act" => ("event.action", Kind::Text),
        "user" | "username" | "user_name" | "usr" | "suser" | "usrName" => ("user.name", Kind::Text),
        "duser" | "dst_user" => ("destination.user.name", Kind::Text),
        "src_user" => ("source.user.name", Kind::Text),
        "rule" | "rule_name" | "policy" => ("rule.name", Kind::Text),
        "rule_id" | "fw_rule_id" | "policyid" => ("rule.id", Kind::Text),
        "url" | "request" => ("url.original", Kind::Text),
        "method" => ("http.request.method", Kind::Text),
        "sent" | "sent_bytes" | "bytes_sent" | "sentbyte" => ("source.bytes", Kind::Number),
        "rcvd" | "recv_bytes" | "bytes_received" | "rcvdbyte" => ("destination.bytes", Kind::Number),
        "src_mac" | "srcMac" | "srcmac" => ("source.mac", Kind::Text),
        "dst_mac" | "dstMac" | "dstmac" => ("destination.mac", Kind::Text),
        "in_interface" | "ifname" | "srcintf" => ("observer.ingress.interface.name", Kind::Text),
        "out_interface" | "dstintf" => ("observer.egress.interface.name", Kind::Text),
        _ => return None,
    })
}

/// Whether mapped fields look like a firewall log (both ends of a connection).
fn firewall_like(out: &Out<'_>) -> bool {
    out.has("source.ip") && (out.has("destination.ip") || out.has("event.action"))
}

fn firewall_or_empty(out: &Out<'_>) -> haidang_event::Logsource {
    if firewall_like(out) {
        logsource(None, Some("firewall"), None)
    } else {
        Default::default()
    }
}

/// Outcome from the first of these keys that holds a known word.
fn push_outcome_from(out: &mut Out<'_>, pairs: &[(Cow<'_, str>, Cow<'_, str>)], keys: &[&str]) {
    if out.has("event.outcome") {
        return;
    }
    if let Some(outcome) = keys
        .iter()
        .filter_map(|key| get(pairs, key))
        .find_map(ecs::outcome)
    {
        out.push("event.outcome", outcome);
    }
}

/// SonicWall: `id=firewall sn=... time="2019-02-27 12:55:40 UTC" fw=... pri=5 m=1197
/// msg="..." src=10.0.0.1:4507:X0 dst=... proto=tcp/443`.
fn sonicwall(
    pairs: &[(Cow<'_, str>, Cow<'_, str>)],
    context: &ParseContext,
    out: &mut Out<'_>,
) -> Recognized {
    out.map_pairs(pairs, |key| match key {
        "sn" => Some(("observer.serial_number", Kind::Text)),
        "fw" => Some(("observer.ip", Kind::Ip)),
        "m" => Some(("event.code", Kind::Text)),
        "pri" => Some(("event.severity", Kind::Number)),
        "srcV6" => Some(("source.ip", Kind::Ip)),
        "dstV6" => Some(("destination.ip", Kind::Ip)),
        "usr" => Some(("user.name", Kind::Text)),
        "dstname" => Some(("destination.domain", Kind::Text)),
        "op" => Some(("http.request.method", Kind::Text)),
        "arg" => Some(("url.path", Kind::Text)),
        _ => generic_ecs(key),
    });
    out.push("observer.vendor", "SonicWall");
    push_outcome_from(out, pairs, &["action", "fw_action"]);
    out.push_total_bytes();
    let timestamp = get(pairs, "time").and_then(|time| ecs::parse_datetime(time, context.default_offset));
    Recognized {
        logsource: logsource(None, Some("firewall"), None),
        source_type: "sonicwall",
        timestamp_nanos: timestamp,
        host: None,
    }
}

/// Sophos XG / SFOS: `device="SFW" date=... time=... timezone="+08" device_name="XG210"
/// log_id=... log_type="Firewall" status="Deny" src_ip=... dst_ip=... protocol="TCP"`.
fn sophos(pairs: &[(Cow<'_, str>, Cow<'_, str>)], context: &ParseContext, out: &mut Out<'_>) -> Recognized {
    out.map_pairs(pairs, |key| match key {
        "device_name" => Some(("observer.name", Kind::Text)),
        "device_id" | "device_serial_id" => Some(("observer.serial_number", Kind::Text)),
        "log_id" => Some(("event.code", Kind::Text)),
        "priority" | "severity" => Some(("log.level", Kind::Text)),
        "status" => Some(("event.action", Kind::Text)),
        "application" => Some(("network.application", Kind::Lower)),
        "url" => Some(("url.original", Kind::Text)),
        "http_method" => Some(("http.request.method", Kind::Text)),
        _ => generic_ecs(key),
    });
    out.push("observer.vendor", "Sophos");
    out.push("observer.product", "XG Firewall");
    push_outcome_from(out, pairs, &["status", "log_subtype"]);
    out.push_total_bytes();
    let local = match (get(pairs, "date"), get(pairs, "time")) {
        (Some(date), Some(time)) => Some(format!("{date} {time}")),
        _ => get(pairs, "timestamp").map(str::to_owned),
    };
    let zone = get(pairs, "timezone")
        .and_then(ecs::parse_offset)
        .unwrap_or(context.default_offset);
    let firewall = get(pairs, "log_type") == Some("Firewall") || firewall_like(out);
    Recognized {
        logsource: if firewall {
            logsource(None, Some("firewall"), None)
        } else {
            Default::default()
        },
        source_type: "sophos-xg",
        timestamp_nanos: local.and_then(|local| ecs::parse_datetime(&local, zone)),
        host: None,
    }
}

/// Check Point (syslog export or LEA-style key=value).
fn checkpoint(
    pairs: &[(Cow<'_, str>, Cow<'_, str>)],
    context: &ParseContext,
    out: &mut Out<'_>,
) -> Recognized {
    out.map_pairs(pairs, |key| match key {
        "origin" | "orig" => Some(("observer.ip", Kind::Ip)),
        "product" => Some(("observer.product", Kind::Text)),
        "service" => Some(("destination.port", Kind::Number)),
        "src_user_name" | "user" => Some(("user.name", Kind::Text)),
        "dst_user_name" => Some(("destination.user.name", Kind::Text)),
        "rule_name" | "layer_name" => Some(("rule.name", Kind::Text)),
        "rule_uid" => Some(("rule.uuid", Kind::Text)),
        "service_id" => Some(("network.protocol", Kind::Lower)),
        "appi_name" => Some(("network.application", Kind::Lower)),
        "client_inbound_bytes" => Some(("source.bytes", Kind::Number)),
        "client_outbound_bytes" => Some(("destination.bytes", Kind::Number)),
        "xlatesrc" => Some(("source.nat.ip", Kind::Ip)),
        "xlatedst" => Some(("destination.nat.ip", Kind::Ip)),
        "resource" => Some(("url.original", Kind::Text)),
        _ => generic_ecs(key),
    });
    out.push("observer.vendor", "Check Point");
    push_outcome_from(out, pairs, &["action"]);
    let timestamp = get(pairs, "time").and_then(|time| {
        ecs::epoch_nanos(time).or_else(|| ecs::parse_datetime(time, context.default_offset))
    });
    Recognized {
        logsource: logsource(None, Some("firewall"), None),
        source_type: "checkpoint",
        timestamp_nanos: timestamp,
        host: None,
    }
}

/// NetScreen / ScreenOS: traffic logs are pairs; other messages are free text, of which the
/// common `From 1.2.3.4:5 to 6.7.8.9:10, proto TCP` attack form is read.
fn netscreen(shape: &Shape<'_>, context: &ParseContext, out: &mut Out<'_>) -> Recognized {
    let pairs = &shape.pairs;
    out.map_pairs(pairs, |key| match key {
        "policy_id" => Some(("rule.id", Kind::Text)),
        _ => generic_ecs(key),
    });
    for (name, value) in &shape.header {
        match *name {
            "device_id" => out.push("observer.serial_number", value.as_str()),
            "netscreen.level" => out.push("log.level", value.as_str()),
            "netscreen.code" => out.push("event.code", value.as_str()),
            _ => {}
        }
    }
    out.push("observer.vendor", "Juniper");
    out.push("observer.product", "NetScreen");
    if let Some(text) = shape.words.first() {
        netscreen_text(text, out);
    }
    push_outcome_from(out, pairs, &["action"]);
    out.push_total_bytes();
    let timestamp =
        get(pairs, "start_time").and_then(|time| ecs::parse_datetime(time, context.default_offset));
    Recognized {
        logsource: logsource(None, Some("firewall"), None),
        source_type: "netscreen",
        timestamp_nanos: timestamp,
        host: None,
    }
}

/// `... From 192.168.18.53:41437 to 192.168.17.251:9612, proto TCP ...` and `from host 10.0.0.1`.
fn netscreen_text(text: &str, out: &mut Out<'_>) {
    fn endpoint(input: &str) -> IResult<&str, (&str, Option<&str>)> {
        let (rest, ip) = take_while1(|c: char| c.is_ascii_hexdigit() || c == '.').parse(input)?;
        let (rest, port) = opt((char(':'), digit1))
            .map(|port| port.map(|(_, p)| p))
            .parse(rest)?;
        Ok((rest, (ip, port)))
    }
    type Endpoint<'a> = (&'a str, Option<&'a str>);
    fn flow(input: &str) -> IResult<&str, (Endpoint<'_>, Endpoint<'_>)> {
        let (rest, (_, source, _, destination)) =
            (alt((tag("From "), tag("from "))), endpoint, tag(" to "), endpoint).parse(input)?;
        Ok((rest, (source, destination)))
    }
    let Some(start) = text.find("From ").or_else(|| text.find("from ")) else {
        return;
    };
    let Ok((rest, ((source_ip, source_port), (destination_ip, destination_port)))) = flow(&text[start..])
    else {
        return;
    };
    out.push_kind("source.ip", Kind::Ip, source_ip);
    out.push_kind("destination.ip", Kind::Ip, destination_ip);
    if let Some(port) = source_port {
        out.push_kind("source.port", Kind::Number, port);
    }
    if let Some(port) = destination_port {
        out.push_kind("destination.port", Kind::Number, port);
    }
    if let Some(after) = rest.strip_prefix(", proto ") {
        let name = after
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap_or("");
        out.push_kind("network.transport", Kind::Transport, name);
    }
}

/// Linux netfilter LOG target: `[prefix] IN=eth0 OUT= MAC=... SRC=... DST=... PROTO=TCP SPT=...`.
fn iptables(shape: &Shape<'_>, out: &mut Out<'_>) -> Recognized {
    let pairs = &shape.pairs;
    out.map_pairs(pairs, |key| match key {
        "IN" => Some(("observer.ingress.interface.name", Kind::Text)),
        "OUT" => Some(("observer.egress.interface.name", Kind::Text)),
        "LEN" => Some(("network.bytes", Kind::Number)),
        "TTL" => Some(("iptables.ttl", Kind::Number)),
        _ => generic_ecs(key),
    });
    if let Some(mac) = get(pairs, "MAC") {
        // destination MAC (6 bytes), source MAC (6 bytes), EtherType (2 bytes), `:`-separated.
        let parts: Vec<&str> = mac.split(':').collect();
        if parts.len() >= 12 {
            out.push(
                "destination.mac",
                parts[..6].join(":").to_ascii_uppercase().replace(':', "-"),
            );
            out.push(
                "source.mac",
                parts[6..12].join(":").to_ascii_uppercase().replace(':', "-"),
            );
        }
    }
    // The log prefix the administrator configured comes before `IN=`; kernel `[123.456]` is not.
    let prefix: Vec<&str> = shape.words[..shape.leading_words.min(shape.words.len())]
        .iter()
        .copied()
        .filter(|word| !(word.starts_with('[') && word.ends_with(']')))
        .collect();
    if let Some(first) = shape.words.first() {
        let _ = first;
    }
    let prefix_text = prefix.join(" ");
    let flags: Vec<&str> = shape.words[shape.leading_words.min(shape.words.len())..].to_vec();
    if !prefix_text.is_empty() {
        out.fields.push("iptables.prefix", prefix_text.as_str());
        let upper = prefix_text.to_ascii_uppercase();
        let action = ["DROP", "REJECT", "DENY", "BLOCK", "ACCEPT", "ALLOW"]
            .into_iter()
            .find(|word| upper.contains(word));
        if let Some(action) = action {
            out.push("event.action", action.to_ascii_lowercase());
            out.push(
                "event.outcome",
                if matches!(action, "ACCEPT" | "ALLOW") {
                    "success"
                } else {
                    "failure"
                },
            );
        }
    }
    if !flags.is_empty() {
        out.fields.push("iptables.flags", flags.join(" "));
    }
    out.push("observer.product", "netfilter");
    Recognized {
        logsource: logsource(None, Some("firewall"), None),
        source_type: "iptables",
        timestamp_nanos: None,
        host: None,
    }
}

/// A JSON object body: its flattened keys are already in `fields`.
fn json(pairs: &[(Cow<'_, str>, Cow<'_, str>)], out: &mut Out<'_>) -> Recognized {
    let eset = get(pairs, "event_type").is_some_and(|kind| kind.ends_with("_Event"))
        && get(pairs, "source_uuid").is_some();
    out.map_pairs(pairs, |key| match key {
        "user" | "username" | "user.name" => Some(("user.name", Kind::Text)),
        "action" => Some(("event.action", Kind::Text)),
        "result" => Some(("event.outcome", Kind::Outcome)),
        "ipv4" | "source_address" | "src_ip" => Some(("source.ip", Kind::Ip)),
        "target_address" | "dst_ip" => Some(("destination.ip", Kind::Ip)),
        "source_port" => Some(("source.port", Kind::Number)),
        "target_port" => Some(("destination.port", Kind::Number)),
        "protocol" => Some(("network.transport", Kind::Transport)),
        _ => None,
    });
    if eset {
        out.push("observer.vendor", "ESET");
    }
    Recognized {
        logsource: Default::default(),
        source_type: if eset { "eset-protect" } else { "json" },
        timestamp_nanos: None,
        host: None,
    }
}

/// Any other key=value line.
fn generic(pairs: &[(Cow<'_, str>, Cow<'_, str>)], context: &ParseContext, out: &mut Out<'_>) -> Recognized {
    out.map_pairs(pairs, generic_ecs);
    push_outcome_from(out, pairs, &["outcome", "status", "result", "action"]);
    out.push_total_bytes();
    let timestamp = match (get(pairs, "date"), get(pairs, "time")) {
        (Some(date), Some(time)) => ecs::parse_datetime(&format!("{date} {time}"), context.default_offset),
        _ => get(pairs, "time")
            .or_else(|| get(pairs, "timestamp"))
            .and_then(|time| {
                ecs::epoch_nanos(time).or_else(|| ecs::parse_datetime(time, context.default_offset))
            }),
    };
    Recognized {
        logsource: firewall_or_empty(out),
        source_type: "kv",
        timestamp_nanos: timestamp,
        host: None,
    }
}

/// Helpers shared by the network-device parsers (CEF, LEEF, ASA, PAN-OS use them too): value
/// kinds, ECS transport names, outcome words, and time parsing into UTC nanoseconds.
pub(super) mod ecs {
    use std::collections::HashSet;

    use haidang_event::{Fields, Value};
    use nom::bytes::complete::{tag, take_while, take_while_m_n};
    use nom::character::complete::{char, one_of, space0};
    use nom::combinator::{map_res, opt};
    use nom::{IResult, Parser};
    use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

    /// How a source value becomes an ECS value.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Kind {
        /// As written.
        Text,
        /// Lowercased (ECS wants `network.application`, `network.protocol` in lowercase).
        Lower,
        /// A number when it is all digits (else skipped).
        Number,
        /// An IP address (else skipped).
        Ip,
        /// `tcp`/`udp`/`icmp` from a name or IANA number.
        Transport,
        /// `success`/`failure` from an outcome word.
        Outcome,
        /// An address possibly with `:port:interface` (SonicWall); the target is `<side>.ip`.
        Endpoint,
    }

    /// Fields being filled, remembering which ECS names were set so that each is set once (the
    /// first source key wins: `srcip` before a later `src`). A set, not a scan of `fields`, keeps
    /// lines with a hundred thousand pairs linear.
    pub(crate) struct Out<'f> {
        pub(crate) fields: &'f mut Fields,
        pushed: HashSet<&'static str>,
    }

    impl<'f> Out<'f> {
        pub(crate) fn new(fields: &'f mut Fields) -> Self {
            Out {
                fields,
                pushed: HashSet::new(),
            }
        }

        /// Sets an ECS field unless it is already set.
        pub(crate) fn push(&mut self, name: &'static str, value: impl Into<Value>) {
            if self.pushed.insert(name) {
                self.fields.push(name, value);
            }
        }

        /// Whether an ECS field was set.
        pub(crate) fn has(&self, name: &'static str) -> bool {
            self.pushed.contains(name)
        }

        /// Maps each pair through `table` (source key -> ECS name and value kind).
        pub(crate) fn map_pairs<K: AsRef<str>, V: AsRef<str>>(
            &mut self,
            pairs: &[(K, V)],
            table: impl Fn(&str) -> Option<(&'static str, Kind)>,
        ) {
            for (key, value) in pairs {
                if let Some((target, kind)) = table(key.as_ref()) {
                    self.push_kind(target, kind, value.as_ref());
                }
            }
        }

        /// Sets `target` from `value` converted as `kind`; values that do not convert are skipped
        /// (the source key still holds them).
        pub(crate) fn push_kind(&mut self, target: &'static str, kind: Kind, value: &str) {
            if is_blank(value) {
                return;
            }
            match kind {
                Kind::Text => self.push(target, value),
                Kind::Lower => self.push(target, value.to_lowercase()),
                Kind::Number => {
                    if let Some(number) = number(value) {
                        self.push(target, number);
                    }
                }
                Kind::Ip => {
                    if is_ip(value) {
                        self.push(target, value);
                    }
                }
                Kind::Transport => {
                    if let Some(name) = transport(value) {
                        self.push(target, name);
                    }
                }
                Kind::Outcome => {
                    if let Some(outcome) = outcome(value) {
                        self.push(target, outcome);
                    }
                }
                Kind::Endpoint => self.push_endpoint(target, value),
            }
        }

        /// `10.0.0.1`, `10.0.0.1:4507:X0`, `10.0.0.1::X0-V500`, `:5355` (SonicWall).
        fn push_endpoint(&mut self, target: &'static str, value: &str) {
            if is_ip(value) {
                self.push(target, value);
                return;
            }
            let (port_name, interface_name) = match target {
                "source.ip" => ("source.port", "observer.ingress.interface.name"),
                _ => ("destination.port", "observer.egress.interface.name"),
            };
            let mut parts = value.splitn(3, ':');
            let ip = parts.next().unwrap_or("");
            let port = parts.next().unwrap_or("");
            let interface = parts.next().unwrap_or("");
            if !ip.is_empty() && !is_ip(ip) {
                return;
            }
            if !ip.is_empty() {
                self.push(target, ip);
            }
            if let Some(port) = number(port) {
                self.push(port_name, port);
            }
            if !interface.is_empty() {
                self.push(interface_name, interface);
            }
        }

        /// Adds `network.bytes` = `source.bytes` + `destination.bytes` when both are known.
        pub(crate) fn push_total_bytes(&mut self) {
            if self.has("network.bytes") {
                return;
            }
            let read = |name: &str| match self.fields.get(name) {
                Some(Value::Int(number)) => Some(*number),
                _ => None,
            };
            if let (Some(sent), Some(received)) = (read("source.bytes"), read("destination.bytes")) {
                self.push("network.bytes", sent.saturating_add(received));
            }
        }
    }

    /// Values that stand for "nothing" in device logs.
    pub(crate) fn is_blank(value: &str) -> bool {
        let value = value.trim();
        value.is_empty() || value == "N/A" || value == "n/a" || value == "-" || value == "(null)"
    }

    /// A count, port or severity written in digits.
    pub(crate) fn number(text: &str) -> Option<i64> {
        let text = text.trim();
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }

    pub(crate) fn is_ip(text: &str) -> bool {
        text.parse::<std::net::IpAddr>().is_ok()
    }

    /// ECS `network.transport` from a name (`TCP`, `tcp/443`) or an IANA protocol number.
    pub(crate) fn transport(text: &str) -> Option<&'static str> {
        let name = text.trim().split('/').next().unwrap_or("").to_ascii_lowercase();
        Some(match name.as_str() {
            "tcp" | "6" => "tcp",
            "udp" | "17" => "udp",
            "icmp" | "1" => "icmp",
            "icmp6" | "icmpv6" | "ipv6-icmp" | "58" => "ipv6-icmp",
            "gre" | "47" => "gre",
            "esp" | "50" => "esp",
            "ah" | "51" => "ah",
            "sctp" | "132" => "sctp",
            "igmp" | "2" => "igmp",
            _ => return None,
        })
    }

    /// `success`/`failure` from the words devices use for a result or a verdict.
    pub(crate) fn outcome(text: &str) -> Option<&'static str> {
        let word = text.trim().to_ascii_lowercase();
        Some(match word.as_str() {
            "success" | "succeeded" | "successful" | "succeed" | "ok" | "allow" | "allowed" | "accept"
            | "accepted" | "permit" | "permitted" | "pass" | "passed" | "passthrough" | "built" => "success",
            "failed" | "failure" | "fail" | "deny" | "denied" | "drop" | "dropped" | "reject"
            | "rejected" | "block" | "blocked" | "reset" | "reset-both" | "reset-client" | "reset-server"
            | "unauthorized" | "invalid" => "failure",
            _ => return None,
        })
    }

    /// Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude).
    pub(crate) fn epoch_nanos(text: &str) -> Option<i64> {
        let value = number(text)?;
        let nanos = match text.trim().len() {
            0..=11 => value.checked_mul(1_000_000_000)?,
            12..=14 => value.checked_mul(1_000_000)?,
            15..=17 => value.checked_mul(1_000)?,
            _ => value,
        };
        Some(nanos)
    }

    /// A UTC offset: `+0700`, `-07:00`, `+08`, `Z`, `UTC`, `GMT`, `UTC+7`, `GMT+07:00`.
    pub(crate) fn parse_offset(text: &str) -> Option<UtcOffset> {
        let text = text.trim();
        let text = text
            .strip_prefix("UTC")
            .or_else(|| text.strip_prefix("GMT"))
            .map(str::trim)
            .unwrap_or(text);
        if text.is_empty() || text == "Z" {
            return Some(UtcOffset::UTC);
        }
        let (sign, digits) = match text.as_bytes().first()? {
            b'+' => (1i8, &text[1..]),
            b'-' => (-1i8, &text[1..]),
            _ => return None,
        };
        let (hours, minutes) = match digits.split_once(':') {
            Some((hours, minutes)) => (hours, minutes),
            // Four bytes are not always four digits (`0` and a 3-byte character): split only at a
            // character boundary; anything else fails to parse below.
            None if digits.len() == 4 && digits.is_char_boundary(2) => digits.split_at(2),
            None => (digits, "0"),
        };
        let hours: i8 = hours.parse().ok()?;
        let minutes: i8 = minutes.parse().ok()?;
        UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
    }

    fn digits<'a>(count: usize) -> impl Parser<&'a str, Output = u32, Error = nom::error::Error<&'a str>> {
        map_res(
            take_while_m_n(count, count, |c: char| c.is_ascii_digit()),
            str::parse::<u32>,
        )
    }

    /// `HH:MM:SS[.fraction]` -> (hour, minute, second, nanoseconds).
    fn clock(input: &str) -> IResult<&str, (u32, u32, u32, u32)> {
        let (rest, (hour, _, minute, _, second)) =
            (digits(2), char(':'), digits(2), char(':'), digits(2)).parse(input)?;
        let (rest, fraction) = opt((one_of(".,"), take_while(|c: char| c.is_ascii_digit()))).parse(rest)?;
        let nanos = match fraction {
            Some((_, fraction)) if !fraction.is_empty() => {
                let kept = &fraction[..fraction.len().min(9)];
                let scale = 10u32.pow(9 - kept.len() as u32);
                kept.parse::<u32>().unwrap_or(0).saturating_mul(scale)
            }
            _ => 0,
        };
        Ok((rest, (hour, minute, second, nanos)))
    }

    /// `yyyy-mm-dd` or `yyyy/mm/dd`.
    fn ymd(input: &str) -> IResult<&str, (i32, u32, u32)> {
        let (rest, (year, _, month, _, day)) =
            (digits(4), one_of("-/"), digits(2), one_of("-/"), digits(2)).parse(input)?;
        Ok((rest, (year as i32, month, day)))
    }

    /// `Sep 09 2017` (CEF `rt`, LEEF `devTime`, ASA device time).
    fn mdy(input: &str) -> IResult<&str, (i32, u32, u32)> {
        let (rest, (month, _, day, _, year)) = (
            map_res(
                take_while_m_n(3, 3, |c: char| c.is_ascii_alphabetic()),
                |name: &str| month_number(name).ok_or(()),
            ),
            char(' '),
            map_res(
                take_while_m_n(1, 2, |c: char| c.is_ascii_digit()),
                str::parse::<u32>,
            ),
            char(' '),
            digits(4),
        )
            .parse(input)?;
        Ok((rest, (year as i32, month, day)))
    }

    /// `Jan` -> 1.
    pub(crate) fn month_number(name: &str) -> Option<u32> {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        let lower = name.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|month| *month == lower)
            .map(|index| index as u32 + 1)
    }

    /// Civil time in a zone -> UTC nanoseconds.
    pub(crate) fn civil_nanos(
        (year, month, day): (i32, u32, u32),
        (hour, minute, second, nanos): (u32, u32, u32, u32),
        offset: UtcOffset,
    ) -> Option<i64> {
        let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
        let date = Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
        let time = Time::from_hms_nano(
            u8::try_from(hour).ok()?,
            u8::try_from(minute).ok()?,
            u8::try_from(second).ok()?,
            nanos,
        )
        .ok()?;
        i64::try_from(
            PrimitiveDateTime::new(date, time)
                .assume_offset(offset)
                .unix_timestamp_nanos(),
        )
        .ok()
    }

    /// A date and time as devices write them, in `default` unless the text names its zone:
    /// `2019-05-10 11:50:48`, `2026/11/20 08:15:00`, `2019-05-10T11:50:48.123+07:00`,
    /// `2019-02-27 12:55:40 UTC`, `Sep 09 2017 00:31:23 UTC`. `None` for anything else
    /// (an unknown zone name included: a wrong time is worse than the receive time).
    pub(crate) fn parse_datetime(text: &str, default: UtcOffset) -> Option<i64> {
        type Ymd = (i32, u32, u32);
        type Clock = (u32, u32, u32, u32);
        fn full(input: &str) -> IResult<&str, (Ymd, Clock)> {
            let (rest, date) = nom::branch::alt((ymd, mdy)).parse(input)?;
            let (rest, _) = nom::branch::alt((tag("T"), tag(" "))).parse(rest)?;
            let (rest, _) = space0.parse(rest)?;
            let (rest, clock) = clock(rest)?;
            Ok((rest, (date, clock)))
        }
        let (zone, (date, clock)) = full(text.trim()).ok()?;
        let offset = if zone.trim().is_empty() {
            default
        } else {
            parse_offset(zone)?
        };
        civil_nanos(date, clock, offset)
    }
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

    fn text(fields: &Fields, name: &str) -> Option<String> {
        fields
            .get(name)
            .and_then(|value| value.as_text())
            .map(|text| text.into_owned())
    }

    fn assert_fields(fields: &Fields, expected: &[(&str, Value)]) {
        for (name, value) in expected {
            assert_eq!(fields.get(name), Some(value), "field {name} in {fields:?}");
        }
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    const FGT6_LOGIN: &str = r#"date=2019-05-10 time=11:50:48 logid="0100032001" type="event" subtype="system" level="information" vd="root" eventtime=1557514248379911176 tz="-0700" logdesc="Admin login successful" sn="1557514248" user="admin" ui="https(10.0.0.5)" method="https" srcip=10.0.0.5 dstip=10.0.0.1 action="login" status="success" reason="none" profile="super_admin" msg="Administrator admin logged in successfully from https(10.0.0.5)""#;

    #[test]
    fn fortigate_6_admin_login_keeps_native_keys_and_adds_ecs() {
        let line = format!("<189>{FGT6_LOGIN}");
        assert!(looks_like(&line));
        let (recognized, fields) = run(&line).expect("fortigate");
        assert_eq!(recognized.source_type, "fortigate");
        assert_eq!(
            recognized.logsource,
            logsource(Some("fortigate"), None, Some("event"))
        );
        // 2019-05-10 11:50:48 -07:00 = 18:50:48 UTC
        assert_eq!(recognized.timestamp_nanos, Some(1_557_514_248_000_000_000));
        assert_eq!(recognized.host, None);
        assert_fields(
            &fields,
            &[
                ("date", s("2019-05-10")),
                ("time", s("11:50:48")),
                ("logid", s("0100032001")),
                ("type", s("event")),
                ("subtype", s("system")),
                ("level", s("information")),
                ("vd", s("root")),
                ("eventtime", s("1557514248379911176")),
                ("tz", s("-0700")),
                ("logdesc", s("Admin login successful")),
                ("sn", s("1557514248")),
                ("user", s("admin")),
                ("ui", s("https(10.0.0.5)")),
                ("method", s("https")),
                ("srcip", s("10.0.0.5")),
                ("dstip", s("10.0.0.1")),
                ("action", s("login")),
                ("status", s("success")),
                ("reason", s("none")),
                ("profile", s("super_admin")),
                (
                    "msg",
                    s("Administrator admin logged in successfully from https(10.0.0.5)"),
                ),
                ("source.ip", s("10.0.0.5")),
                ("destination.ip", s("10.0.0.1")),
                ("event.action", s("login")),
                ("event.outcome", s("success")),
                ("user.name", s("admin")),
                ("log.level", s("information")),
                ("event.code", s("0100032001")),
                ("observer.vendor", s("Fortinet")),
                ("observer.product", s("FortiGate")),
            ],
        );
        assert_eq!(fields.len(), 30);
    }

    #[test]
    fn fortigate_config_change_without_tz_uses_eventtime() {
        let line = r#"date=2026-11-20 time=08:15:00 devname="FGT-HP" devid="FGT60F0000000001" logid="0100044547" type="event" subtype="system" level="information" vd="root" eventtime=1795137301000000000 logdesc="Object attribute configured" user="admin" ui="GUI(10.0.0.5)" action="Edit" cfgtid=1234 cfgpath="firewall.policy" cfgobj="5" cfgattr="action[accept->deny]" msg="Edit firewall.policy 5""#;
        let (recognized, fields) = run(line).expect("fortigate");
        assert_eq!(recognized.host.as_deref(), Some("FGT-HP"));
        assert_eq!(recognized.timestamp_nanos, Some(1_795_137_301_000_000_000));
        assert_fields(
            &fields,
            &[
                ("devname", s("FGT-HP")),
                ("cfgtid", s("1234")),
                ("cfgpath", s("firewall.policy")),
                ("cfgobj", s("5")),
                ("cfgattr", s("action[accept->deny]")),
                ("msg", s("Edit firewall.policy 5")),
                ("observer.name", s("FGT-HP")),
                ("observer.serial_number", s("FGT60F0000000001")),
                ("event.action", s("Edit")),
                ("user.name", s("admin")),
                // from ui=GUI(10.0.0.5): no srcip in config logs
                ("source.ip", s("10.0.0.5")),
            ],
        );
        assert!(!fields.contains("srcip"));
        assert!(!fields.contains("event.outcome"));
        // every source key and ECS field, counted: nothing unexpected was added
        assert_eq!(fields.len(), 28);
    }

    #[test]
    fn fortigate_5_login_failure_without_tz_or_eventtime_uses_default_offset() {
        let line = r#"date=2016-06-17 time=02:37:41 devname=FW01 devid=FGT0000000000001 logid=0100032002 type=event subtype=system level=alert vd="root" logdesc="Admin login failed" sn=0 user="root" ui=ssh(198.51.100.60) action=login status=failed reason="name_invalid" msg="Administrator root login failed from ssh(198.51.100.60) because of invalid user name""#;
        let (recognized, fields) = run(line).expect("fortigate");
        // 02:37:41 at +07:00 = 19:37:41 UTC the day before
        assert_eq!(recognized.timestamp_nanos, Some(1_466_105_861_000_000_000));
        assert_fields(
            &fields,
            &[
                ("logid", s("0100032002")),
                ("status", s("failed")),
                ("event.outcome", s("failure")),
                ("source.ip", s("198.51.100.60")),
                ("user.name", s("root")),
                ("log.level", s("alert")),
            ],
        );
    }

    #[test]
    fn fortigate_traffic_log_maps_connection_fields() {
        let line = r#"date=2026-11-20 time=08:15:00 devname="FGT-HP" devid="FGT60F0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.1.2.3 srcport=51234 srcintf="internal" dstip=203.0.113.9 dstport=443 dstintf="wan1" policyid=7 policyname="lan-out" proto=6 action="accept" service="HTTPS" app="HTTPS.BROWSER" sentbyte=2000 rcvdbyte=3000 sentpkt=10 rcvdpkt=12 duration=5"#;
        let (recognized, fields) = run(line).expect("fortigate");
        assert_eq!(
            recognized.logsource,
            logsource(Some("fortigate"), None, Some("traffic"))
        );
        assert_fields(
            &fields,
            &[
                ("srcport", s("51234")),
                ("source.ip", s("10.1.2.3")),
                ("source.port", Value::Int(51234)),
                ("destination.ip", s("203.0.113.9")),
                ("destination.port", Value::Int(443)),
                ("network.transport", s("tcp")),
                ("observer.ingress.interface.name", s("internal")),
                ("observer.egress.interface.name", s("wan1")),
                ("rule.id", s("7")),
                ("rule.name", s("lan-out")),
                ("network.application", s("https.browser")),
                ("source.bytes", Value::Int(2000)),
                ("destination.bytes", Value::Int(3000)),
                ("network.bytes", Value::Int(5000)),
                ("source.packets", Value::Int(10)),
                ("destination.packets", Value::Int(12)),
                ("event.action", s("accept")),
                ("event.outcome", s("success")),
                ("event.duration_seconds", Value::Int(5)),
            ],
        );
    }

    #[test]
    fn fortigate_4_utm_type_routes_to_utm() {
        let line = "date=2012-01-01 time=10:00:00 devname=FW devid=FGT1 log_id=0419016384 type=ips subtype=signature pri=alert src=10.0.0.2 dst=203.0.113.4";
        let (recognized, fields) = run(line).expect("fortigate");
        assert_eq!(
            recognized.logsource,
            logsource(Some("fortigate"), None, Some("utm"))
        );
        assert_fields(
            &fields,
            &[("source.ip", s("10.0.0.2")), ("event.code", s("0419016384"))],
        );
    }

    #[test]
    fn fortigate_unknown_type_has_no_service() {
        let (recognized, _) = run("devname=FW devid=FGT1 logid=1 type=newtype subtype=x").expect("fortigate");
        assert_eq!(recognized.logsource, logsource(Some("fortigate"), None, None));
    }

    #[test]
    fn fortimail_and_fortiauth_are_recognised_without_a_route() {
        let mail = "date=2012-08-17 time=12:26:41 device_id=FE100C0000000001 log_id=0001001623 type=kevent subtype=admin pri=information user=admin ui=GUI(10.0.0.26) action=login status=success reason=none msg=\"User admin login successfully from GUI (10.0.0.26)\"";
        let (recognized, fields) = run(mail).expect("fortimail");
        assert_eq!(recognized.source_type, "fortimail");
        assert!(recognized.logsource.is_empty());
        assert_fields(
            &fields,
            &[
                ("user.name", s("admin")),
                ("source.ip", s("10.0.0.26")),
                ("event.outcome", s("success")),
                ("observer.product", s("FortiMail")),
                ("event.code", s("0001001623")),
            ],
        );
        let auth = r#"category="Event" subcategory="Authentication" typeid=20001 level="information" user="user1" nas="10.0.0.9" action="Authentication" status="Failed" Remote RADIUS user authentication with invalid token"#;
        assert!(looks_like(auth));
        let (recognized, fields) = run(auth).expect("fortiauth");
        assert_eq!(recognized.source_type, "fortiauth");
        assert_fields(
            &fields,
            &[
                ("typeid", s("20001")),
                ("event.code", s("20001")),
                ("user.name", s("user1")),
                ("event.outcome", s("failure")),
                ("destination.ip", s("10.0.0.9")),
            ],
        );
    }

    #[test]
    fn sonicwall_endpoints_split_into_ip_port_interface() {
        let line = r#"id=firewall sn=0017C5000001 time="2019-02-27 12:55:40 UTC" fw=198.51.100.2 pri=5 c=64 m=36 msg="TCP connection dropped" n=2686 src=203.0.113.27:4507:X1 dst=10.0.0.2:445:X0 proto=tcp/445 rule="17 (LAN->WAN)""#;
        assert!(looks_like(line));
        let (recognized, fields) = run(line).expect("sonicwall");
        assert_eq!(recognized.source_type, "sonicwall");
        assert_eq!(recognized.logsource, logsource(None, Some("firewall"), None));
        assert_eq!(recognized.timestamp_nanos, Some(1_551_272_140_000_000_000));
        assert_fields(
            &fields,
            &[
                ("src", s("203.0.113.27:4507:X1")),
                ("source.ip", s("203.0.113.27")),
                ("source.port", Value::Int(4507)),
                ("observer.ingress.interface.name", s("X1")),
                ("destination.ip", s("10.0.0.2")),
                ("destination.port", Value::Int(445)),
                ("observer.egress.interface.name", s("X0")),
                ("network.transport", s("tcp")),
                ("observer.serial_number", s("0017C5000001")),
                ("observer.ip", s("198.51.100.2")),
                ("event.code", s("36")),
                ("event.severity", Value::Int(5)),
                ("rule.name", s("17 (LAN->WAN)")),
            ],
        );
        // every source key and ECS field, counted: nothing unexpected was added
        assert_eq!(fields.len(), 26);
    }

    #[test]
    fn sophos_xg_firewall_log() {
        let line = r#"device="SFW" date=2019-10-09 time=17:19:06 timezone="+08" device_name="XG210" device_id=C0000000000001 log_id=010101600001 log_type="Firewall" log_component="Firewall Rule" log_subtype="Denied" status="Deny" priority=Information duration=0 fw_rule_id=14 user_name="" src_ip=203.0.113.44 src_country_code= dst_ip=10.0.0.11 protocol="TCP" src_port=51000 dst_port=22 sent_bytes=0 recv_bytes=0"#;
        let (recognized, fields) = run(line).expect("sophos");
        assert_eq!(recognized.source_type, "sophos-xg");
        assert_eq!(recognized.logsource, logsource(None, Some("firewall"), None));
        assert_eq!(recognized.timestamp_nanos, Some(1_570_612_746_000_000_000));
        assert_fields(
            &fields,
            &[
                ("src_country_code", s("")),
                ("source.ip", s("203.0.113.44")),
                ("destination.ip", s("10.0.0.11")),
                ("source.port", Value::Int(51000)),
                ("destination.port", Value::Int(22)),
                ("network.transport", s("tcp")),
                ("event.action", s("Deny")),
                ("event.outcome", s("failure")),
                ("rule.id", s("14")),
                ("event.code", s("010101600001")),
                ("observer.name", s("XG210")),
                ("network.bytes", Value::Int(0)),
            ],
        );
        assert!(!fields.contains("user.name"));
    }

    #[test]
    fn checkpoint_syslog_export_pairs() {
        let line = r#"- [action:"Drop"; flags:"400644"; ifdir:"inbound"; ifname:"eth2"; origin:"192.0.2.1"; originsicname:"CN=gw,O=mgmt..abc"; time:"1557937550"; __policy_id_tag:"product=VPN-1 & FireWall-1[db_tag={1};policy_name=Std\]"; dst:"10.0.0.5"; proto:"6"; s_port:"51000"; service:"3389"; src:"203.0.113.9"; rule_name:"Cleanup"; ike::"Main Mode failed"]"#;
        assert!(looks_like(line));
        let (recognized, fields) = run(line).expect("checkpoint");
        assert_eq!(recognized.source_type, "checkpoint");
        assert_eq!(recognized.logsource, logsource(None, Some("firewall"), None));
        assert_eq!(recognized.timestamp_nanos, Some(1_557_937_550_000_000_000));
        assert_fields(
            &fields,
            &[
                ("action", s("Drop")),
                (
                    "__policy_id_tag",
                    s("product=VPN-1 & FireWall-1[db_tag={1};policy_name=Std]"),
                ),
                ("ike", s("Main Mode failed")),
                ("event.action", s("Drop")),
                ("event.outcome", s("failure")),
                ("source.ip", s("203.0.113.9")),
                ("source.port", Value::Int(51000)),
                ("destination.ip", s("10.0.0.5")),
                ("destination.port", Value::Int(3389)),
                ("network.transport", s("tcp")),
                ("observer.ip", s("192.0.2.1")),
                ("observer.ingress.interface.name", s("eth2")),
                ("rule.name", s("Cleanup")),
            ],
        );
        // every source key and ECS field, counted: nothing unexpected was added
        assert_eq!(fields.len(), 26);
    }

    #[test]
    fn netscreen_traffic_and_attack_messages() {
        let traffic = r#"NetScreen device_id=ssg5  [Root]system-notification-00257(traffic): start_time="2014-05-23 10:58:17" duration=0 policy_id=320001 service=udp/port:7001 proto=17 src zone=Null dst zone=self action=Deny sent=0 rcvd=0 src=192.0.2.10 dst=192.0.2.1 src_port=58000 dst_port=7001 session_id=0 reason=Traffic Denied"#;
        assert!(looks_like(traffic));
        let (recognized, fields) = run(traffic).expect("netscreen");
        assert_eq!(recognized.source_type, "netscreen");
        assert_eq!(recognized.logsource, logsource(None, Some("firewall"), None));
        assert_fields(
            &fields,
            &[
                ("device_id", s("ssg5")),
                ("netscreen.vsys", s("Root")),
                ("netscreen.level", s("notification")),
                ("netscreen.code", s("00257")),
                ("netscreen.type", s("traffic")),
                ("src_zone", s("Null")),
                ("dst_zone", s("self")),
                ("reason", s("Traffic Denied")),
                ("source.ip", s("192.0.2.10")),
                ("destination.ip", s("192.0.2.1")),
                ("source.port", Value::Int(58000)),
                ("destination.port", Value::Int(7001)),
                ("network.transport", s("udp")),
                ("event.action", s("Deny")),
                ("event.outcome", s("failure")),
                ("event.code", s("00257")),
                ("log.level", s("notification")),
                ("rule.id", s("320001")),
            ],
        );
        let attack = "NetScreen device_id=ssg5  [Root]system-emergency-00005: SYN flood! From 203.0.113.53:41437 to 192.0.2.251:9612, proto TCP (zone Untrust int  ethernet0/0). Occurred 1 times. (2016-07-07 05:02:32)";
        let (_, fields) = run(attack).expect("netscreen");
        assert_fields(
            &fields,
            &[
                ("source.ip", s("203.0.113.53")),
                ("source.port", Value::Int(41437)),
                ("destination.ip", s("192.0.2.251")),
                ("destination.port", Value::Int(9612)),
                ("network.transport", s("tcp")),
                ("log.level", s("emergency")),
            ],
        );
    }

    #[test]
    fn iptables_log_target() {
        let line = "[4475569.016000] FW-DROP-IN IN=eth0 OUT= MAC=00:08:02:da:c8:51:00:0f:f7:74:31:8a:08:00 SRC=203.0.113.36 DST=10.0.0.194 LEN=60 TOS=0x00 PREC=0x00 TTL=44 ID=60200 DF PROTO=TCP SPT=43068 DPT=22 WINDOW=8192 RES=0x00 SYN URGP=0";
        assert!(looks_like(line));
        let (recognized, fields) = run(line).expect("iptables");
        assert_eq!(recognized.source_type, "iptables");
        assert_eq!(recognized.logsource, logsource(None, Some("firewall"), None));
        assert_fields(
            &fields,
            &[
                ("IN", s("eth0")),
                ("OUT", s("")),
                ("SRC", s("203.0.113.36")),
                ("source.ip", s("203.0.113.36")),
                ("destination.ip", s("10.0.0.194")),
                ("source.port", Value::Int(43068)),
                ("destination.port", Value::Int(22)),
                ("network.transport", s("tcp")),
                ("observer.ingress.interface.name", s("eth0")),
                ("destination.mac", s("00-08-02-DA-C8-51")),
                ("source.mac", s("00-0F-F7-74-31-8A")),
                ("iptables.prefix", s("FW-DROP-IN")),
                ("iptables.flags", s("DF SYN")),
                ("event.action", s("drop")),
                ("event.outcome", s("failure")),
                ("network.bytes", Value::Int(60)),
            ],
        );
        assert!(!fields.contains("observer.egress.interface.name"));
        let glued = "DROP(src wan)IN=eth0 OUT= SRC=203.0.113.5 DST=10.0.0.1 LEN=40 PROTO=UDP SPT=53 DPT=5353";
        let (_, fields) = run(glued).expect("iptables");
        assert_fields(
            &fields,
            &[
                ("iptables.prefix", s("DROP(src wan)")),
                ("IN", s("eth0")),
                ("event.action", s("drop")),
                ("network.transport", s("udp")),
            ],
        );
    }

    #[test]
    fn generic_key_value_with_firewall_keys_and_comma_separator() {
        let line = r#"src="203.0.113.5", dst="10.0.0.8", dport="443", action="blocked", policy="waf-1""#;
        assert!(looks_like(line));
        let (recognized, fields) = run(line).expect("kv");
        assert_eq!(recognized.source_type, "kv");
        assert_eq!(recognized.logsource, logsource(None, Some("firewall"), None));
        assert_fields(
            &fields,
            &[
                ("src", s("203.0.113.5")),
                ("dport", s("443")),
                ("destination.port", Value::Int(443)),
                ("event.outcome", s("failure")),
                ("rule.name", s("waf-1")),
            ],
        );
        let plain = "a=1,b=2,c=3";
        let (recognized, fields) = run(plain).expect("kv");
        assert!(recognized.logsource.is_empty());
        assert_eq!(text(&fields, "b").as_deref(), Some("2"));
    }

    #[test]
    fn plain_syslog_text_with_a_few_pairs_is_not_key_value() {
        assert!(!looks_like(
            "1A2B3C4D: to=<a@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=0.5, status=sent (250 ok)"
        ));
        assert!(!looks_like(
            "Accepted password for root from 10.0.0.1 port 22 ssh2"
        ));
        assert!(!looks_like(
            r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a?b=1&c=2&d=3 HTTP/1.0" 200 2326"#
        ));
        assert!(!looks_like("a=1 b=2"));
    }

    #[test]
    fn json_body_from_eset() {
        let line = r#"{"event_type":"Threat_Event","ipv4":"10.0.0.4","hostname":"pc-01","source_uuid":"9416183d","severity":"Warning","action":"Cleaned","user":"NT\\hoa","result":"Success"}"#;
        assert!(looks_like(line));
        let (recognized, fields) = run(line).expect("json");
        assert_eq!(recognized.source_type, "eset-protect");
        assert_fields(
            &fields,
            &[
                ("event_type", s("Threat_Event")),
                ("source.ip", s("10.0.0.4")),
                ("user.name", s("NT\\hoa")),
                ("event.outcome", s("success")),
            ],
        );
        assert!(!looks_like("{not json"));
    }

    #[test]
    fn quoted_values_unescape_and_unterminated_quote_takes_the_rest() {
        let tokens = tokenize(r#"a="say \"hi\" \\ C:\temp" b=2 c="open"#, None);
        assert_eq!(
            tokens,
            vec![
                Token::Pair("a", Cow::Owned(r#"say "hi" \ C:\temp"#.to_owned())),
                Token::Pair("b", Cow::Borrowed("2")),
                Token::Pair("c", Cow::Borrowed("open")),
            ]
        );
    }

    #[test]
    fn non_ascii_values_survive() {
        let line = r#"devname="Tường lửa" logid="0100032001" type="event" subtype="system" user="nguyễn" msg="Đăng nhập""#;
        let (recognized, fields) = run(line).expect("fortigate");
        assert_eq!(recognized.host.as_deref(), Some("Tường lửa"));
        assert_fields(&fields, &[("user.name", s("nguyễn")), ("msg", s("Đăng nhập"))]);
    }

    #[test]
    fn hostile_inputs_return_without_panic() {
        let big_value = format!("devname=x logid=1 type=event msg=\"{}\"", "A".repeat(100_000));
        let (_, fields) = run(&big_value).expect("big value");
        assert_eq!(text(&fields, "msg").map(|value| value.len()), Some(100_000));
        let equals = "=".repeat(1_000_000);
        assert!(run(&equals).is_none());
        let pairs = "a=".repeat(500_000);
        let _ = run(&pairs);
        let many = "k=v ".repeat(100_000);
        assert!(run(&many).is_some());
        for input in [
            "",
            " ",
            "<189>",
            "<>",
            "<99999999999999999999>a=1 b=2 c=3",
            "\"",
            "a=\"",
            "a=\"\\",
            "NetScreen device_id=",
            "NetScreen device_id=x [Root",
            "[a:\"",
            "[a:\"1\"; b:\"2\"; c:\"3",
            "{",
            "{}",
            "devname=\"x logid=1 type=event",
            "IN= OUT= SRC= DST=",
            "id=x sn=y fw=z m= src=:::: dst=1.2.3.4:99999999999999999999999:",
            "date=2019-13-45 time=99:99:99 tz=+9999 devname=a logid=1 type=event",
            "date=2019-01-01 time=10:00:00 tz=\"+\" devname=a logid=1 type=event eventtime=99999999999999999999999",
            "é=1 ü=2 ö=3",
            "a=\u{1F600} b=\u{0301} c=\u{FEFF}",
        ] {
            let _ = looks_like(input);
            let _ = run(input);
        }
    }

    #[test]
    fn time_helpers() {
        let utc = time::UtcOffset::UTC;
        assert_eq!(
            ecs::parse_datetime("2026/11/20 08:15:00", utc),
            Some(1_795_162_500_000_000_000)
        );
        assert_eq!(
            ecs::parse_datetime("2026-11-20T08:15:00.5Z", utc),
            Some(1_795_162_500_500_000_000)
        );
        assert_eq!(
            ecs::parse_datetime("Nov 20 2026 08:15:00 UTC", utc),
            Some(1_795_162_500_000_000_000)
        );
        assert_eq!(
            ecs::parse_datetime("Nov 20 2026 15:15:00 +07:00", utc),
            Some(1_795_162_500_000_000_000)
        );
        assert_eq!(ecs::parse_datetime("Nov 20 2026 08:15:00 PST", utc), None);
        assert_eq!(ecs::parse_datetime("2026-02-30 08:15:00", utc), None);
        assert_eq!(ecs::epoch_nanos("1795162500"), Some(1_795_162_500_000_000_000));
        assert_eq!(ecs::epoch_nanos("1795162500123"), Some(1_795_162_500_123_000_000));
        assert_eq!(
            ecs::parse_offset("+0700"),
            time::UtcOffset::from_hms(7, 0, 0).ok()
        );
        assert_eq!(
            ecs::parse_offset("-07:30"),
            time::UtcOffset::from_hms(-7, -30, 0).ok()
        );
        assert_eq!(ecs::parse_offset("+08"), time::UtcOffset::from_hms(8, 0, 0).ok());
        assert_eq!(ecs::parse_offset("UTC"), Some(utc));
        // Found by fuzzing (collector/fuzz, `keyvalue` and `leef`): a 4-byte offset that is not 4
        // digits was sliced inside a character, so a Sophos `timezone="+0\u{fffd}"` or a LEEF
        // `devTime` zone crashed the parser.
        assert_eq!(ecs::parse_offset("+0\u{fffd}"), None);
        assert_eq!(ecs::parse_offset("-\u{e9}\u{e9}"), None);
        assert_eq!(ecs::transport("17"), Some("udp"));
        assert_eq!(ecs::transport("TCP/443"), Some("tcp"));
        assert_eq!(ecs::transport("ospf"), None);
    }
}
