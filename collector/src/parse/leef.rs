//! IBM LEEF 1.0 and 2.0: `LEEF:Version|Vendor|Product|Version|EventID|[delimiter|]attributes`.
//!
//! LEEF 1.0 separates attributes with tabs. LEEF 2.0 names its separator in a sixth header
//! field: one character (`^`), or its code (`x09`, `0x5E`); when that field is missing the tab
//! applies. Some senders use a space, and their values hold spaces too (PAN-OS
//! `devTime=2021-09-24 20:13:46`): those lines are split the CEF way, a value running to the next
//! ` key=`. Attributes are kept at top level as written, the predefined LEEF keys repeated under
//! their ECS names.

use std::borrow::Cow;

use haidang_event::Fields;
use nom::bytes::complete::tag;
use nom::character::complete::char;
use nom::{IResult, Parser};
use time::UtcOffset;

use super::Recognized;
use super::cef::{self, Vendor};
use super::keyvalue::ecs::{self, Kind, Out};

/// Header fields after `LEEF:`.
struct Header<'a> {
    version: &'a str,
    vendor: Cow<'a, str>,
    product: Cow<'a, str>,
    device_version: Cow<'a, str>,
    event_id: Cow<'a, str>,
}

/// `1.0|Vendor|Product|Version|EventID|`.
fn header(input: &str) -> IResult<&str, Header<'_>> {
    let (rest, (version, _, vendor, product, device_version, event_id)) = (
        nom::branch::alt((tag("1.0"), tag("2.0"), tag("1"), tag("2"))),
        char('|'),
        cef::header_field,
        cef::header_field,
        cef::header_field,
        cef::header_field,
    )
        .parse(input)?;
    Ok((
        rest,
        Header {
            version,
            vendor,
            product,
            device_version,
            event_id,
        },
    ))
}

/// The LEEF 2.0 delimiter field (`^`, `x09`, `0x5E`, `\t`, empty for the tab) and the rest of the
/// line; `None` when the field after EventID is already attributes.
fn delimiter_field(rest: &str) -> Option<(char, &str)> {
    let (field, attributes) = rest.split_once('|')?;
    if field.contains('=') || field.chars().count() > 4 {
        return None;
    }
    let hex = field
        .strip_prefix("0x")
        .or_else(|| field.strip_prefix("x"))
        .or_else(|| field.strip_prefix("X"));
    let delimiter = match hex {
        Some(code) if !code.is_empty() => char::from_u32(u32::from_str_radix(code, 16).ok()?)?,
        _ if field.is_empty() || field == "\\t" => '\t',
        _ => {
            let mut chars = field.chars();
            let first = chars.next()?;
            if chars.next().is_some() {
                return None;
            }
            first
        }
    };
    Some((delimiter, attributes))
}

/// Splits attributes on `delimiter` into `key=value` (the value may contain `=`).
fn split_attributes(text: &str, delimiter: char) -> Vec<(&str, Cow<'_, str>)> {
    if delimiter == ' ' || (delimiter == '\t' && !text.contains('\t')) {
        return cef::extension_pairs(text);
    }
    text.split(delimiter)
        .filter_map(|item| {
            let (key, value) = item.split_once('=')?;
            let key = key.trim();
            let valid = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            valid.then_some((key, Cow::Borrowed(value)))
        })
        .collect()
}

/// Parses the message into `fields`; `None` if it is not LEEF.
pub(crate) fn parse(message: &str, fields: &mut Fields) -> Option<Recognized> {
    let start = message.find("LEEF:")?;
    let (rest, header) = header(&message[start + 5..]).ok()?;
    let (delimiter, attributes) = match delimiter_field(rest) {
        Some(found) if header.version.starts_with('2') => found,
        _ => ('\t', rest),
    };
    let pairs = split_attributes(attributes, delimiter);

    fields.push("leef.version", header.version);
    for (key, value) in &pairs {
        fields.push(*key, value.as_ref());
    }
    let mut out = Out::new(fields);
    out.push_kind("observer.vendor", Kind::Text, &header.vendor);
    out.push_kind("observer.product", Kind::Text, &header.product);
    out.push_kind("observer.version", Kind::Text, &header.device_version);
    out.push_kind("event.code", Kind::Text, &header.event_id);
    out.map_pairs(&pairs, leef_ecs);
    if let Some((_, level)) = get(&pairs, "sev").and_then(cef::severity) {
        out.push("log.level", level);
    }
    out.push_total_bytes();

    let timestamp = get(&pairs, "devTime").and_then(|text| match get(&pairs, "devTimeFormat") {
        Some(format) => java_time(text, format, UtcOffset::UTC),
        None => cef::device_time(text, UtcOffset::UTC),
    });
    let host = ["DeviceName", "dvchost", "devname", "identHostName"]
        .iter()
        .find_map(|key| get(&pairs, key).filter(|name| !ecs::is_blank(name)))
        .map(str::to_owned);
    // The log type: PAN-OS `cat=TRAFFIC`, FortiGate `cat=traffic:forward`.
    let kind = get(&pairs, "cat").map(|cat| cat.split(':').next().unwrap_or(cat).to_owned());
    if cef::classify(&header.vendor, &header.product) == Vendor::CiscoAsa
        && ecs::number(&header.event_id).is_some()
    {
        out.push("message_id", header.event_id.as_ref());
    }
    let logsource = cef::vendor_logsource(&header.vendor, &header.product, kind.as_deref());
    Some(Recognized {
        logsource,
        source_type: "leef",
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

/// ECS names of the predefined LEEF attributes.
fn leef_ecs(key: &str) -> Option<(&'static str, Kind)> {
    Some(match key {
        "src" => ("source.ip", Kind::Ip),
        "dst" => ("destination.ip", Kind::Ip),
        "srcPort" => ("source.port", Kind::Number),
        "dstPort" => ("destination.port", Kind::Number),
        "srcPostNAT" => ("source.nat.ip", Kind::Ip),
        "srcPostNATPort" => ("source.nat.port", Kind::Number),
        "dstPreNAT" => ("destination.nat.ip", Kind::Ip),
        "dstPreNATPort" => ("destination.nat.port", Kind::Number),
        "usrName" | "accountName" => ("user.name", Kind::Text),
        "proto" => ("network.transport", Kind::Transport),
        "sev" => ("event.severity", Kind::Number),
        "srcMAC" => ("source.mac", Kind::Text),
        "dstMAC" => ("destination.mac", Kind::Text),
        "srcBytes" => ("source.bytes", Kind::Number),
        "dstBytes" => ("destination.bytes", Kind::Number),
        "srcPackets" => ("source.packets", Kind::Number),
        "dstPackets" => ("destination.packets", Kind::Number),
        "totalPackets" => ("network.packets", Kind::Number),
        "url" => ("url.original", Kind::Text),
        "policy" | "RuleName" => ("rule.name", Kind::Text),
        "action" | "act" => ("event.action", Kind::Text),
        "domain" => ("user.domain", Kind::Text),
        "identHostName" => ("source.domain", Kind::Text),
        _ => return None,
    })
}

/// Reads `text` with a Java `SimpleDateFormat` pattern (LEEF `devTimeFormat`): `yyyy`, `yy`, `MM`,
/// `MMM`, `dd`, `HH`, `mm`, `ss`, `SSS`, `z`/`Z`/`X` zones, `E` day names and quoted literals.
/// Other letters (12-hour clocks, week numbers) are not read: `None`.
fn java_time(text: &str, format: &str, default: UtcOffset) -> Option<i64> {
    let mut input = text.trim();
    let mut pattern = format.trim();
    let (mut year, mut month, mut day, mut hour, mut minute, mut second, mut nanos) =
        (None, None, None, 0, 0, 0, 0);
    let mut zone = None;
    /// Takes up to `max` leading digits.
    fn digits<'a>(input: &mut &'a str, max: usize) -> Option<&'a str> {
        let count = input.bytes().take(max).take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return None;
        }
        let (taken, rest) = input.split_at(count);
        *input = rest;
        Some(taken)
    }
    while let Some(letter) = pattern.chars().next() {
        if letter == '\'' {
            let literal_end = pattern[1..].find('\'')? + 1;
            let literal = &pattern[1..literal_end];
            input = input.strip_prefix(literal)?;
            pattern = &pattern[literal_end + 1..];
            continue;
        }
        let run = pattern.chars().take_while(|c| *c == letter).count();
        pattern = &pattern[run * letter.len_utf8()..];
        match letter {
            'y' => {
                let value: i32 = digits(&mut input, if run == 2 { 2 } else { 4 })?.parse().ok()?;
                year = Some(if run == 2 { 2000 + value } else { value });
            }
            'M' if run >= 3 => {
                let name_len = input.bytes().take_while(u8::is_ascii_alphabetic).count();
                month = Some(ecs::month_number(input.get(..3.min(name_len))?)?);
                input = &input[name_len..];
            }
            'M' => month = Some(digits(&mut input, 2)?.parse().ok()?),
            'd' => day = Some(digits(&mut input, 2)?.parse().ok()?),
            'H' => hour = digits(&mut input, 2)?.parse().ok()?,
            'm' => minute = digits(&mut input, 2)?.parse().ok()?,
            's' => second = digits(&mut input, 2)?.parse().ok()?,
            'S' => {
                let fraction = digits(&mut input, 9)?;
                nanos = fraction
                    .parse::<u32>()
                    .ok()?
                    .checked_mul(10u32.pow(9 - fraction.len() as u32))?;
            }
            'E' => {
                let name_len = input.bytes().take_while(u8::is_ascii_alphabetic).count();
                input = &input[name_len..];
            }
            'z' | 'Z' | 'X' => {
                let token_len = input.find(char::is_whitespace).unwrap_or(input.len());
                zone = Some(ecs::parse_offset(&input[..token_len])?);
                input = &input[token_len..];
            }
            c if c.is_ascii_alphabetic() => return None,
            c => {
                for _ in 0..run {
                    input = input.strip_prefix(c)?;
                }
            }
        }
    }
    ecs::civil_nanos(
        (year?, month?, day?),
        (hour, minute, second, nanos),
        zone.unwrap_or(default),
    )
}

#[cfg(test)]
mod tests {
    use haidang_event::Value;

    use super::super::logsource;
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
    fn leef_1_tab_separated_attributes() {
        let line = "LEEF:1.0|Microsoft|MSExchange|2013 SP1|15345|src=10.50.1.1\tdst=2.10.20.20\tspt=1200\tsrcPort=1200\tdstPort=443\tusrName=nguyenvana\tproto=6\tsev=5\tcat=anomaly\tdevTime=Nov 20 2026 08:15:00 UTC\tmsg=a=b c";
        let (recognized, fields) = run(line).expect("leef");
        assert_eq!(recognized.source_type, "leef");
        assert!(recognized.logsource.is_empty());
        assert_eq!(recognized.timestamp_nanos, Some(1_795_162_500_000_000_000));
        assert_fields(
            &fields,
            &[
                ("leef.version", s("1.0")),
                ("observer.vendor", s("Microsoft")),
                ("observer.product", s("MSExchange")),
                ("observer.version", s("2013 SP1")),
                ("event.code", s("15345")),
                ("src", s("10.50.1.1")),
                ("msg", s("a=b c")),
                ("cat", s("anomaly")),
                ("source.ip", s("10.50.1.1")),
                ("destination.ip", s("2.10.20.20")),
                ("source.port", Value::Int(1200)),
                ("destination.port", Value::Int(443)),
                ("user.name", s("nguyenvana")),
                ("network.transport", s("tcp")),
                ("event.severity", Value::Int(5)),
                ("log.level", s("medium")),
            ],
        );
        // every source key and ECS field, counted: nothing unexpected was added
        assert_eq!(fields.len(), 24);
    }

    #[test]
    fn leef_2_with_caret_delimiter_and_time_format() {
        let line = "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21^usrName=joe.black^devTime=2026-11-20 15:15:00.250+0700^devTimeFormat=yyyy-MM-dd HH:mm:ss.SSSZ";
        let (recognized, fields) = run(line).expect("leef");
        assert_eq!(recognized.timestamp_nanos, Some(1_795_162_500_250_000_000));
        assert_fields(
            &fields,
            &[
                ("leef.version", s("2.0")),
                ("source.ip", s("10.0.1.8")),
                ("destination.port", Value::Int(21)),
                ("user.name", s("joe.black")),
            ],
        );
    }

    #[test]
    fn leef_2_hex_delimiter_and_missing_delimiter_field() {
        let line = "LEEF:2.0|Vendor|Product|1|Ev|x7C|src=10.0.0.1|dst=10.0.0.2|usrName=a";
        let (_, fields) = run(line).expect("leef");
        assert_fields(
            &fields,
            &[("source.ip", s("10.0.0.1")), ("destination.ip", s("10.0.0.2"))],
        );
        let line = "LEEF:2.0|Vendor|Product|1|Ev|src=10.0.0.1\tdst=10.0.0.2";
        let (_, fields) = run(line).expect("leef");
        assert_fields(
            &fields,
            &[("source.ip", s("10.0.0.1")), ("destination.ip", s("10.0.0.2"))],
        );
    }

    #[test]
    fn palo_alto_leef_with_space_delimiter_routes_by_cat() {
        let line = "LEEF:2.0|Palo Alto Networks|Next Generation Firewall|10.0|portal-prelogin| |cat=GLOBALPROTECT devTime=2026-11-20 08:15:00.5 usrName=corp\\hoa EndpointOSVersion=16.04.5 LTS DeviceName=pa-hp-01";
        let (recognized, fields) = run(line).expect("leef");
        assert_eq!(
            recognized.logsource,
            logsource(Some("paloalto"), Some("appliance"), Some("globalprotect"))
        );
        assert_eq!(recognized.host.as_deref(), Some("pa-hp-01"));
        assert_eq!(recognized.timestamp_nanos, Some(1_795_162_500_500_000_000));
        assert_fields(
            &fields,
            &[
                ("EndpointOSVersion", s("16.04.5 LTS")),
                ("user.name", s("corp\\hoa")),
            ],
        );
    }

    #[test]
    fn java_time_patterns() {
        let utc = UtcOffset::UTC;
        assert_eq!(
            java_time("Nov 20 2026 08:15:00", "MMM dd yyyy HH:mm:ss", utc),
            Some(1_795_162_500_000_000_000)
        );
        assert_eq!(
            java_time(
                "Fri, 20 Nov 2026 08:15:00 GMT",
                "EEE, dd MMM yyyy HH:mm:ss z",
                utc
            ),
            Some(1_795_162_500_000_000_000)
        );
        assert_eq!(
            java_time("2026-11-20T08:15:00Z", "yyyy-MM-dd'T'HH:mm:ssX", utc),
            Some(1_795_162_500_000_000_000)
        );
        assert_eq!(
            java_time("20/11/26 08:15", "dd/MM/yy HH:mm", utc),
            Some(1_795_162_500_000_000_000)
        );
        assert_eq!(java_time("08:15 PM", "hh:mm a", utc), None);
        assert_eq!(java_time("x", "'unterminated", utc), None);
        assert_eq!(java_time("", "", utc), None);
    }

    #[test]
    fn not_leef_and_hostile_inputs() {
        for input in [
            "",
            "LEEF:",
            "LEEF:3.0|a|b|c|d|",
            "LEEF:1.0|a|b",
            "CEF:0|a|b|c|d|e|f|",
        ] {
            assert!(run(input).is_none(), "{input}");
        }
        let big = format!("LEEF:1.0|V|P|1|E|msg={}\tsrc=10.0.0.1", "x".repeat(100_000));
        let (_, fields) = run(&big).expect("leef");
        assert_eq!(fields.get("source.ip"), Some(&s("10.0.0.1")));
        let equals = format!("LEEF:1.0|V|P|1|E|{}", "=".repeat(1_000_000));
        assert!(run(&equals).is_some());
        let tabs = format!("LEEF:2.0|V|P|1|E|^|{}", "=^".repeat(500_000));
        assert!(run(&tabs).is_some());
        for input in [
            "LEEF:2.0|V|P|1|E|xZZ|a=1",
            "LEEF:2.0|V|P|1|E|x110000|a=1",
            "LEEF:2.0|V|P|1|E|é|a=1éb=2",
            "LEEF:1.0|Tường lửa|P|1|E|usrName=nguyễn\tdevTime=1795162500000",
            "LEEF:1.0|V|P|1|E|devTime=99 99 99\tdevTimeFormat=yyyy MM dd",
            "LEEF:1.0|V|P|1|E|devTime=2026\tdevTimeFormat='",
            "LEEF:1.0|V|P|1|E|devTime=Nov\tdevTimeFormat=MMMMMMMM",
        ] {
            let _ = run(input);
        }
    }
}
