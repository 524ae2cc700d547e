//! ArcSight CEF: `CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|Extension`.
//!
//! The header's pipes may be escaped (`\|`, `\\`). The extension is `key=value` pairs separated by
//! spaces where a value may itself hold spaces: a value runs until the next ` key=` whose `=` is
//! not escaped (`\=`). Every extension key is kept at top level as written; the standard keys
//! are repeated under their ECS names, and `csN`/`cnN`/... custom fields also appear under the name
//! their `csNLabel` gives. Devices whose logs have a mapping route (FortiGate, PAN-OS, Cisco ASA)
//! get that logsource, with their native key names rebuilt for FortiGate so that the FortiGate
//! rules read CEF and key=value logs alike.

use std::borrow::Cow;
use std::collections::HashMap;

use haidang_event::{Fields, Logsource};
use nom::bytes::complete::take_while1;
use nom::character::complete::{char, space0};
use nom::{IResult, Parser};
use time::UtcOffset;

use super::keyvalue::ecs::{self, Kind, Out};
use super::{Recognized, logsource};

/// Keys of the extension (and of LEEF attributes): letters, digits, `_`, `.`, `-`.
fn is_key_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')
}

/// One header field up to its unescaped `|`, with `\|` and `\\` unescaped. Fails when the
/// field is not closed by a pipe.
pub(super) fn header_field(input: &str) -> IResult<&str, Cow<'_, str>> {
    let bytes = input.as_bytes();
    let mut index = 0;
    let mut escaped = false;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => {
                escaped = true;
                index += 2;
            }
            b'|' => {
                let raw = &input[..index];
                let value = if escaped {
                    unescape(raw, &['|', '\\'])
                } else {
                    Cow::Borrowed(raw)
                };
                return Ok((&input[index + 1..], value));
            }
            _ => index += 1,
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        input,
        nom::error::ErrorKind::Char,
    )))
}

/// Replaces `\x` by `x` for the listed characters (`\n` and `\r` become line breaks when listed
/// as `n`/`r`); other backslashes are kept as written.
pub(super) fn unescape<'a>(raw: &'a str, escapable: &[char]) -> Cow<'a, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') if escapable.contains(&'n') => out.push('\n'),
            Some('r') if escapable.contains(&'r') => out.push('\r'),
            Some(next) if escapable.contains(&next) => out.push(next),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// The seven header fields after `CEF:`.
struct Header<'a> {
    version: Cow<'a, str>,
    vendor: Cow<'a, str>,
    product: Cow<'a, str>,
    device_version: Cow<'a, str>,
    signature: Cow<'a, str>,
    name: Cow<'a, str>,
    severity: Cow<'a, str>,
}

/// `0|Vendor|Product|Version|SignatureID|Name|Severity|` (the last pipe may be missing when there
/// is no extension). FortiGate writes `CEF: 0|...`, hence the optional space.
fn header(input: &str) -> IResult<&str, Header<'_>> {
    let (rest, (_, version, _, vendor, product, device_version, signature, name)) = (
        space0,
        take_while1(|c: char| c.is_ascii_digit() || c == '.'),
        char('|'),
        header_field,
        header_field,
        header_field,
        header_field,
        header_field,
    )
        .parse(input)?;
    let (rest, severity) = match header_field(rest) {
        Ok(found) => found,
        Err(_) => ("", Cow::Borrowed(rest.trim())),
    };
    let header = Header {
        version: Cow::Borrowed(version),
        vendor,
        product,
        device_version,
        signature,
        name,
        severity,
    };
    Ok((rest, header))
}

/// Splits `key=value key2=value with spaces` into pairs. A key is a run of key characters that
/// starts the text or follows whitespace and is followed by an unescaped `=`; a value is what lies
/// between its `=` and the whitespace before the next key, with `\=`, `\\`, `\n`, `\r` unescaped.
/// Each byte is looked at a bounded number of times, so hostile input stays linear.
pub(super) fn extension_pairs(text: &str) -> Vec<(&str, Cow<'_, str>)> {
    let bytes = text.as_bytes();
    // (key start, `=` position)
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut index = 0;
    let mut floor = 0; // keys never reach back past the previous `=`
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'=' => {
                let mut start = index;
                while start > floor && is_key_char(bytes[start - 1]) {
                    start -= 1;
                }
                let boundary = start == 0 || bytes[start - 1].is_ascii_whitespace();
                if start < index && boundary {
                    keys.push((start, index));
                }
                floor = index + 1;
                index += 1;
            }
            _ => index += 1,
        }
    }
    let mut pairs = Vec::with_capacity(keys.len());
    for (position, &(start, equals)) in keys.iter().enumerate() {
        let end = keys.get(position + 1).map_or(bytes.len(), |next| next.0);
        let raw = text[equals + 1..end].trim_end();
        pairs.push((&text[start..equals], unescape(raw, &['=', '\\', 'n', 'r'])));
    }
    pairs
}

/// Parses the message into `fields`; `None` if it is not CEF.
pub(crate) fn parse(message: &str, fields: &mut Fields) -> Option<Recognized> {
    let start = message.find("CEF:")?;
    let (extension, header) = header(&message[start + 4..]).ok()?;
    let pairs = extension_pairs(extension);

    fields.push("cef.version", header.version.as_ref());
    fields.push("cef.name", header.name.as_ref());
    fields.push("cef.severity", header.severity.as_ref());
    for (key, value) in &pairs {
        fields.push(*key, value.as_ref());
    }
    let mut out = Out::new(fields);
    push_header(&mut out, &header);
    push_labelled(&mut out, &pairs);
    let fortigate = classify(&header.vendor, &header.product) == Vendor::FortiGate;
    out.map_pairs(&pairs, |key| match key {
        // FortiGate writes `out=<sentbyte> in=<rcvdbyte>` (FortiOS log reference), the reverse of
        // the CEF specification's bytesIn (bytes from the source to the destination).
        "in" if fortigate => Some(("destination.bytes", Kind::Number)),
        "out" if fortigate => Some(("source.bytes", Kind::Number)),
        _ => cef_ecs(key),
    });
    if let Some(user) = get(&pairs, "suser").filter(|user| !ecs::is_blank(user)) {
        out.push("user.name", user);
    }
    out.push_total_bytes();

    let zone = get(&pairs, "dtz")
        .and_then(ecs::parse_offset)
        .unwrap_or(UtcOffset::UTC);
    let mut timestamp = get(&pairs, "rt").and_then(|rt| device_time(rt, zone));
    let mut host = get(&pairs, "dvchost")
        .filter(|host| !ecs::is_blank(host))
        .map(str::to_owned);
    let kind = match classify(&header.vendor, &header.product) {
        Vendor::FortiGate => {
            let kind = fortigate_native(&mut out, &pairs);
            timestamp = timestamp.or_else(|| get(&pairs, "FTNTFGTeventtime").and_then(ecs::epoch_nanos));
            host = host.or_else(|| get(&pairs, "FTNTFGTdevname").map(str::to_owned));
            Some(kind)
        }
        Vendor::PaloAlto => Some(header.name.to_ascii_lowercase()),
        Vendor::CiscoAsa => {
            if ecs::number(&header.signature).is_some() {
                out.push("message_id", header.signature.as_ref());
            }
            None
        }
        Vendor::Firewall | Vendor::Other => None,
    };
    let logsource = vendor_logsource(&header.vendor, &header.product, kind.as_deref());
    Some(Recognized {
        logsource,
        source_type: "cef",
        timestamp_nanos: timestamp,
        host,
    })
}

fn get<'p>(pairs: &'p [(&str, Cow<'_, str>)], key: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value.as_ref())
}

/// Vendor, product, version, signature and severity as ECS fields.
fn push_header(out: &mut Out<'_>, header: &Header<'_>) {
    out.push_kind("observer.vendor", Kind::Text, &header.vendor);
    out.push_kind("observer.product", Kind::Text, &header.product);
    out.push_kind("observer.version", Kind::Text, &header.device_version);
    out.push_kind("event.code", Kind::Text, &header.signature);
    if let Some((number, level)) = severity(&header.severity) {
        out.push("event.severity", number);
        out.push("log.level", level);
    }
}

/// CEF severity: 0-10, or the words Unknown/Low/Medium/High/Very-High; with ArcSight's level.
pub(super) fn severity(text: &str) -> Option<(i64, &'static str)> {
    let number = match ecs::number(text) {
        Some(number) => number,
        None => match text.trim().to_ascii_lowercase().as_str() {
            "unknown" => 0,
            "low" => 3,
            "medium" => 5,
            "high" => 8,
            "very-high" | "very high" | "veryhigh" => 10,
            _ => return None,
        },
    };
    let level = match number {
        0..=3 => "low",
        4..=6 => "medium",
        7..=8 => "high",
        _ => "very-high",
    };
    Some((number, level))
}

/// ECS names of the standard CEF extension keys.
fn cef_ecs(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "src" => ("source.ip", Kind::Ip),
        "dst" => ("destination.ip", Kind::Ip),
        "spt" => ("source.port", Kind::Number),
        "dpt" => ("destination.port", Kind::Number),
        "sourceTranslatedAddress" => ("source.nat.ip", Kind::Ip),
        "destinationTranslatedAddress" => ("destination.nat.ip", Kind::Ip),
        "sourceTranslatedPort" => ("source.nat.port", Kind::Number),
        "destinationTranslatedPort" => ("destination.nat.port", Kind::Number),
        "proto" => ("network.transport", Kind::Transport),
        "app" => ("network.protocol", Kind::Lower),
        "act" => ("event.action", Kind::Text),
        "outcome" => ("event.outcome", Kind::Outcome),
        "reason" => ("event.reason", Kind::Text),
        "suser" => ("source.user.name", Kind::Text),
        "duser" => ("destination.user.name", Kind::Text),
        "shost" => ("source.domain", Kind::Text),
        "dhost" => ("destination.domain", Kind::Text),
        "smac" => ("source.mac", Kind::Text),
        "dmac" => ("destination.mac", Kind::Text),
        "request" => ("url.original", Kind::Text),
        "requestMethod" => ("http.request.method", Kind::Text),
        "requestClientApplication" => ("user_agent.original", Kind::Text),
        "requestContext" => ("http.request.referrer", Kind::Text),
        "dvchost" => ("observer.hostname", Kind::Text),
        "dvc" => ("observer.ip", Kind::Ip),
        "deviceExternalId" => ("observer.serial_number", Kind::Text),
        "deviceInboundInterface" => ("observer.ingress.interface.name", Kind::Text),
        "deviceOutboundInterface" => ("observer.egress.interface.name", Kind::Text),
        "in" => ("source.bytes", Kind::Number),
        "out" => ("destination.bytes", Kind::Number),
        "externalId" => ("event.id", Kind::Text),
        "fname" => ("file.name", Kind::Text),
        "filePath" => ("file.path", Kind::Text),
        "fsize" => ("file.size", Kind::Number),
        "sproc" => ("process.name", Kind::Text),
        "cnt" => ("event.count", Kind::Number),
        _ => return None,
    })
}

/// `cs1=/Common/policy cs1Label=policy_name` -> `policy_name: /Common/policy` (spaces in a label
/// become `_`). Works for every `xLabel` key: cs1-6, cn1-3, cfp1-4, c6a1-4, flexString1-2,
/// deviceCustomDate1-2...
fn push_labelled(out: &mut Out<'_>, pairs: &[(&str, Cow<'_, str>)]) {
    let labels: HashMap<&str, &str> = pairs
        .iter()
        .filter_map(|(key, value)| Some((key.strip_suffix("Label")?, value.as_ref())))
        .filter(|(_, label)| !label.trim().is_empty())
        .collect();
    if labels.is_empty() {
        return;
    }
    for (key, value) in pairs {
        if let Some(label) = labels.get(key) {
            let name = label.trim().replace(' ', "_");
            out.fields.push(name, value.as_ref());
        }
    }
}

/// Device time: epoch milliseconds, or `MMM dd yyyy HH:mm:ss[.SSS][ zone]` /
/// `yyyy-mm-dd HH:mm:ss` in `zone` when it names none.
pub(super) fn device_time(text: &str, zone: UtcOffset) -> Option<i64> {
    let text = text.trim();
    if ecs::number(text).is_some() {
        return ecs::epoch_nanos(text);
    }
    ecs::parse_datetime(text, zone)
}

/// Device families that have a logsource of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Vendor {
    FortiGate,
    PaloAlto,
    CiscoAsa,
    Firewall,
    Other,
}

/// Which family a vendor/product pair (CEF or LEEF header) belongs to.
pub(super) fn classify(vendor: &str, product: &str) -> Vendor {
    let vendor = vendor.to_ascii_lowercase();
    let product = product.to_ascii_lowercase();
    if vendor.contains("fortinet") && product.contains("fortigate") {
        return Vendor::FortiGate;
    }
    if vendor.contains("palo alto") || product.contains("pan-os") {
        return Vendor::PaloAlto;
    }
    if vendor.contains("cisco")
        && (product.contains("asa")
            || product.contains("adaptive security")
            || product.contains("ftd")
            || product.contains("firepower threat defense"))
    {
        return Vendor::CiscoAsa;
    }
    const FIREWALL_VENDORS: [&str; 12] = [
        "check point",
        "checkpoint",
        "sonicwall",
        "sophos",
        "juniper",
        "watchguard",
        "barracuda",
        "forcepoint",
        "stormshield",
        "hillstone",
        "zyxel",
        "netgate",
    ];
    const FIREWALL_PRODUCTS: [&str; 6] = ["firewall", "ngfw", "utm", "afm", "fortigate", "asa"];
    if FIREWALL_PRODUCTS.iter().any(|word| product.contains(word))
        || (FIREWALL_VENDORS.iter().any(|word| vendor.contains(word))
            && !product.contains("endpoint")
            && !product.contains("mail"))
    {
        return Vendor::Firewall;
    }
    Vendor::Other
}

/// The logsource of a CEF/LEEF event. `kind` is the log type when the format carries one
/// (FortiGate `cat=traffic:forward` -> `traffic`, PAN-OS `TRAFFIC`).
pub(super) fn vendor_logsource(vendor: &str, product: &str, kind: Option<&str>) -> Logsource {
    match classify(vendor, product) {
        Vendor::FortiGate => logsource(
            Some("fortigate"),
            None,
            kind.and_then(super::keyvalue::fortigate_service),
        ),
        Vendor::PaloAlto => {
            let service = kind
                .map(str::to_ascii_lowercase)
                .filter(|kind| matches!(kind.as_str(), "traffic" | "threat" | "system" | "globalprotect"));
            // The mapping's GlobalProtect route carries the `appliance` category.
            let category = (service.as_deref() == Some("globalprotect")).then_some("appliance");
            logsource(Some("paloalto"), category, service.as_deref())
        }
        Vendor::CiscoAsa => logsource(Some("cisco_asa"), None, Some("asa")),
        Vendor::Firewall => logsource(None, Some("firewall"), None),
        Vendor::Other => Logsource::default(),
    }
}

/// FortiGate in CEF renames its keys (FortiOS log reference, "FortiOS to CEF log field mapping"):
/// unmatched keys get an `FTNTFGT` prefix, `type:subtype` becomes `cat`, `user` -> `duser`,
/// `status` -> `outcome`, `ui` -> `sproc`, `action` -> `act`, `srcip` -> `src`... Rebuilds the native
/// names so that rules written for FortiGate key=value logs match; returns the log type.
fn fortigate_native(out: &mut Out<'_>, pairs: &[(&str, Cow<'_, str>)]) -> String {
    const RENAMED: [(&str, &str); 14] = [
        ("out", "sentbyte"),
        ("in", "rcvdbyte"),
        ("duser", "user"),
        ("outcome", "status"),
        ("sproc", "ui"),
        ("act", "action"),
        ("src", "srcip"),
        ("dst", "dstip"),
        ("spt", "srcport"),
        ("dpt", "dstport"),
        ("deviceInboundInterface", "srcintf"),
        ("deviceOutboundInterface", "dstintf"),
        ("externalId", "sessionid"),
        ("deviceExternalId", "devid"),
    ];
    let mut kind = String::new();
    for (key, value) in pairs {
        if let Some(native) = key.strip_prefix("FTNTFGT") {
            if !native.is_empty() {
                out.fields.push(native, value.as_ref());
            }
        } else if *key == "cat" {
            let (log_type, _) = value.split_once(':').unwrap_or((value.as_ref(), ""));
            kind = log_type.to_owned();
            out.fields.push("type", log_type);
        } else if let Some((_, native)) = RENAMED.iter().find(|(cef, _)| cef == key) {
            out.fields.push(*native, value.as_ref());
        }
    }
    if let Some(user) = get(pairs, "duser").filter(|user| !ecs::is_blank(user)) {
        out.push("user.name", user);
    }
    if let Some(name) = get(pairs, "FTNTFGTdevname") {
        out.push_kind("observer.name", Kind::Text, name);
    }
    if let Some(level) = get(pairs, "FTNTFGTlevel") {
        out.push_kind("log.level", Kind::Text, level);
    }
    kind
}

#[cfg(test)]
mod tests {
    use haidang_event::Value;

    use super::*;

    fn run(line: &str) -> Option<(Recognized, Fields)> {
        let mut fields = Fields::new();
        parse(line, &mut fields).map(|recognized| (recognized, fields))
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn assert_fields(fields: &Fields, expected: &[(&str, Value)]) {
        for (name, value) in expected {
            assert_eq!(fields.get(name), Some(value), "field {name} in {fields:?}");
        }
    }

    #[test]
    fn header_and_extension_with_spaces_escapes_and_labels() {
        let line = r"CEF:0|Security|threat\|manager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 dpt=80 proto=TCP act=blocked msg=Detected a threat. No action needed\=true path C:\\temp\nnext suser=hoa cs1=/Common/policy cs1Label=policy name rt=1795162500000 request=http://example.org/a?b\=c&d\=e requestMethod=GET in=120 out=4000 dvchost=ids-01 dvc=10.0.0.254 deviceExternalId=SN123 outcome=failure";
        let (recognized, fields) = run(line).expect("cef");
        assert_eq!(recognized.source_type, "cef");
        assert!(recognized.logsource.is_empty());
        assert_eq!(recognized.timestamp_nanos, Some(1_795_162_500_000_000_000));
        assert_eq!(recognized.host.as_deref(), Some("ids-01"));
        assert_fields(
            &fields,
            &[
                ("cef.version", s("0")),
                ("cef.name", s("worm successfully stopped")),
                ("cef.severity", s("10")),
                ("observer.vendor", s("Security")),
                ("observer.product", s("threat|manager")),
                ("observer.version", s("1.0")),
                ("event.code", s("100")),
                ("event.severity", Value::Int(10)),
                ("log.level", s("very-high")),
                ("src", s("10.0.0.1")),
                (
                    "msg",
                    s("Detected a threat. No action needed=true path C:\\temp\nnext"),
                ),
                ("cs1", s("/Common/policy")),
                ("cs1Label", s("policy name")),
                ("policy_name", s("/Common/policy")),
                ("request", s("http://example.org/a?b=c&d=e")),
                ("source.ip", s("10.0.0.1")),
                ("destination.ip", s("2.1.2.2")),
                ("source.port", Value::Int(1232)),
                ("destination.port", Value::Int(80)),
                ("network.transport", s("tcp")),
                ("event.action", s("blocked")),
                ("event.outcome", s("failure")),
                ("source.user.name", s("hoa")),
                ("user.name", s("hoa")),
                ("url.original", s("http://example.org/a?b=c&d=e")),
                ("http.request.method", s("GET")),
                ("source.bytes", Value::Int(120)),
                ("destination.bytes", Value::Int(4000)),
                ("network.bytes", Value::Int(4120)),
                ("observer.hostname", s("ids-01")),
                ("observer.ip", s("10.0.0.254")),
                ("observer.serial_number", s("SN123")),
            ],
        );
        // every source key and ECS field, counted: nothing unexpected was added
        assert_eq!(fields.len(), 46);
    }

    #[test]
    fn cef_after_a_syslog_remainder_with_text_time_and_word_severity() {
        let line = "ASM:CEF:0|F5|ASM|14.1.2|200021069|Automated client access \"wget\"|High| dvchost=bigip-1.example.org dvc=10.0.0.4 cs1=waf-policy cs1Label=policy_name rt=Nov 20 2026 08:15:00 UTC src=203.0.113.7 spt=51000 dst=10.0.0.20 dpt=443 requestMethod=GET request=/index.php act=blocked";
        let (recognized, fields) = run(line).expect("cef");
        assert!(
            recognized.logsource.is_empty(),
            "F5 ASM is a WAF: no mapping route"
        );
        assert_eq!(recognized.timestamp_nanos, Some(1_795_162_500_000_000_000));
        assert_eq!(recognized.host.as_deref(), Some("bigip-1.example.org"));
        assert_fields(
            &fields,
            &[
                ("cef.name", s("Automated client access \"wget\"")),
                ("event.severity", Value::Int(8)),
                ("log.level", s("high")),
                ("policy_name", s("waf-policy")),
                ("rt", s("Nov 20 2026 08:15:00 UTC")),
                ("url.original", s("/index.php")),
            ],
        );
    }

    #[test]
    fn fortigate_cef_rebuilds_native_keys_and_routes_by_type() {
        let line = "CEF: 0|Fortinet|Fortigate|v6.0.3|32002|event:system login failed|7|deviceExternalId=FGT60F0000000001 FTNTFGTlogid=0100032002 cat=event:system FTNTFGTsubtype=system FTNTFGTlevel=alert FTNTFGTvd=root FTNTFGTeventtime=1795162500 FTNTFGTlogdesc=Admin login failed duser=admin sproc=https(203.0.113.21) src=203.0.113.21 dst=10.0.0.1 act=login outcome=failed reason=name_invalid out=120 in=4000 msg=Administrator admin login failed from https(203.0.113.21) because of invalid user name";
        let (recognized, fields) = run(line).expect("cef");
        assert_eq!(
            recognized.logsource,
            logsource(Some("fortigate"), None, Some("event"))
        );
        assert_eq!(recognized.timestamp_nanos, Some(1_795_162_500_000_000_000));
        assert_fields(
            &fields,
            &[
                ("logid", s("0100032002")),
                ("type", s("event")),
                ("subtype", s("system")),
                ("level", s("alert")),
                ("logdesc", s("Admin login failed")),
                ("user", s("admin")),
                ("ui", s("https(203.0.113.21)")),
                ("action", s("login")),
                ("status", s("failed")),
                ("srcip", s("203.0.113.21")),
                ("devid", s("FGT60F0000000001")),
                ("user.name", s("admin")),
                ("destination.user.name", s("admin")),
                ("event.outcome", s("failure")),
                // the CEF header's severity 7 comes first; FortiGate's own `level` is kept
                ("log.level", s("high")),
                ("event.reason", s("name_invalid")),
                ("sentbyte", s("120")),
                ("rcvdbyte", s("4000")),
                ("source.bytes", Value::Int(120)),
                ("destination.bytes", Value::Int(4000)),
            ],
        );
    }

    #[test]
    fn palo_alto_and_cisco_and_firewall_vendors_get_their_logsource() {
        let (recognized, _) = run(
            "CEF:0|Palo Alto Networks|PAN-OS|10.1|end|TRAFFIC|1|rt=Nov 20 2026 08:15:00 GMT src=10.0.0.5",
        )
        .expect("cef");
        assert_eq!(
            recognized.logsource,
            logsource(Some("paloalto"), None, Some("traffic"))
        );
        let (recognized, fields) = run("CEF:0|Cisco|ASA|9.8|106023|Deny|5|src=203.0.113.8").expect("cef");
        assert_eq!(
            recognized.logsource,
            logsource(Some("cisco_asa"), None, Some("asa"))
        );
        assert_eq!(fields.get("message_id"), Some(&s("106023")));
        let (recognized, _) =
            run("CEF:0|Check Point|VPN-1 & FireWall-1|R81|drop|Drop|5|src=203.0.113.8 dst=10.0.0.1 act=Drop")
                .expect("cef");
        assert_eq!(recognized.logsource, logsource(None, Some("firewall"), None));
        let (recognized, _) =
            run("CEF:0|FireEye|MPS|7.9|MC|malware-callback|7|src=10.0.0.2 act=notified").expect("cef");
        assert!(recognized.logsource.is_empty());
    }

    #[test]
    fn header_without_extension_and_without_last_pipe() {
        let (_, fields) = run("CEF:0|V|P|1|sig|name|Low").expect("cef");
        assert_fields(
            &fields,
            &[("event.severity", Value::Int(3)), ("cef.severity", s("Low"))],
        );
        let (_, fields) = run("CEF:1|V|P|1|sig|name|5|").expect("cef");
        assert_fields(
            &fields,
            &[("event.severity", Value::Int(5)), ("log.level", s("medium"))],
        );
    }

    #[test]
    fn not_cef() {
        assert!(run("").is_none());
        assert!(run("hello world").is_none());
        assert!(run("CEF:").is_none());
        assert!(run("CEF:0|only|three").is_none());
        assert!(run("CEF:x|a|b|c|d|e|f|").is_none());
    }

    #[test]
    fn extension_splitting_edge_cases() {
        let pairs = extension_pairs("a=1 b= c=x=y d=two words  e=\\=esc f=trailing\\");
        let flat: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        assert_eq!(
            flat,
            vec![
                ("a", "1"),
                ("b", ""),
                ("c", "x=y"),
                ("d", "two words"),
                ("e", "=esc"),
                ("f", "trailing\\")
            ]
        );
        assert!(extension_pairs("no pairs here").is_empty());
        assert!(extension_pairs("=== = =").is_empty());
    }

    #[test]
    fn hostile_inputs_return_without_panic() {
        let big = format!("CEF:0|V|P|1|s|n|5|msg={} src=10.0.0.1", "x ".repeat(50_000));
        let (_, fields) = run(&big).expect("cef");
        assert_eq!(fields.get("source.ip"), Some(&s("10.0.0.1")));
        let equals = format!("CEF:0|V|P|1|s|n|5|{}", "=".repeat(1_000_000));
        assert!(run(&equals).is_some());
        let keys = format!("CEF:0|V|P|1|s|n|5|{}", "a=".repeat(500_000));
        assert!(run(&keys).is_some());
        let pipes = format!("CEF:{}", "|".repeat(1_000_000));
        let _ = run(&pipes);
        let backslashes = format!("CEF:0|{}", "\\".repeat(100_001));
        let _ = run(&backslashes);
        for input in [
            "CEF:0|a|b|c|d|e|f|g=\\",
            "CEF:0|a|b|c|d|e|f|\\",
            "CEF:0|a|b|c|d|e|\\|",
            "CEF:0|é|ü|ö|ä|Tường lửa|5|msg=Đăng nhập thất bại src=10.0.0.1",
            "xxCEF:0|a|b|c|d|e|f|rt=99999999999999999999999 cs1Label= cs1=",
            "CEF:0|a|b|c|d|e|f|rt=Feb 30 2026 25:61:61",
        ] {
            let _ = run(input);
        }
    }
}
