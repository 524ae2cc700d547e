//! Smaller vendor formats recognised by their shape: Cisco IOS `%FACILITY-SEVERITY-MNEMONIC:`
//! messages, F5 BIG-IP `01010251:0:` messages, Arbor APS, and Check Point's bracketed
//! `[key:"value"; ...]` records (the pairs are read by the key=value parser).

use haidang_event::Fields;

use super::{ParseContext, Recognized, keyvalue, logsource};

/// Parses a message (or a bare line) of one of these vendors.
pub(crate) fn parse(
    program: Option<&str>,
    message: &str,
    context: &ParseContext,
    fields: &mut Fields,
) -> Option<Recognized> {
    if let Some(recognized) = cisco_ios(message, fields) {
        return Some(recognized);
    }
    if let Some(recognized) = f5(message, fields) {
        return Some(recognized);
    }
    if program.is_some_and(|program| program.starts_with("arbor")) {
        return Some(arbor(message, fields));
    }
    check_point(message, context, fields)
}

/// `%SEC-6-IPACCESSLOGP: text` or `%IPS-4-SIGNATURE: Sig:3051 ... [1.2.3.4:5 -> 6.7.8.9:80]`.
fn cisco_ios(message: &str, fields: &mut Fields) -> Option<Recognized> {
    let start = message.find('%')?;
    let rest = &message[start + 1..];
    let (code, text) = rest.split_once(": ")?;
    let mut parts = code.splitn(3, '-');
    let facility = parts.next()?;
    let severity: i64 = parts.next()?.parse().ok()?;
    let mnemonic = parts.next()?;
    let token = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !token(facility) || !token(mnemonic) || !(0..=7).contains(&severity) {
        return None;
    }
    fields.push("cisco.facility", facility);
    fields.push("cisco.mnemonic", mnemonic);
    fields.push("severity", severity);
    fields.push("event.severity", severity);
    fields.push("event.code", code);
    if let Some(open) = text.rfind('[')
        && let Some((source, destination)) = text[open + 1..].trim_end_matches(']').split_once(" -> ")
    {
        for (prefix, endpoint) in [("source", source), ("destination", destination)] {
            let (address, port) = endpoint.rsplit_once(':').unwrap_or((endpoint, ""));
            if address.parse::<std::net::IpAddr>().is_ok() {
                fields.push(format!("{prefix}.ip"), address);
            }
            if let Ok(port) = port.parse::<i64>() {
                fields.push(format!("{prefix}.port"), port);
            }
        }
    }
    Some(Recognized {
        logsource: logsource(Some("cisco"), None, Some("syslog")),
        source_type: "cisco-ios",
        ..Recognized::default()
    })
}

/// `01010251:0: Virtual ... exceeded configured rate limit.` (message id, level, text).
fn f5(message: &str, fields: &mut Fields) -> Option<Recognized> {
    // The message id follows the tag, which BIG-IP sometimes writes as `type process[pid]:`.
    let start = std::iter::once(0)
        .chain(message.match_indices(": ").map(|(index, _)| index + 2))
        .find(|&index| f5_id(&message[index..]))?;
    let (id, rest) = message[start..].split_once(':')?;
    let (level, text) = rest.split_once(": ")?;
    if id.len() != 8 || !id.chars().all(|c| c.is_ascii_hexdigit()) || level.len() != 1 {
        return None;
    }
    let level: i64 = level.parse().ok()?;
    fields.push("event.code", id);
    fields.push("log.level", level);
    fields.push("error.message", text);
    Some(Recognized {
        source_type: "f5-bigip",
        ..Recognized::default()
    })
}

fn f5_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 11
        && bytes[..8].iter().all(u8::is_ascii_hexdigit)
        && bytes[8] == b':'
        && bytes[9].is_ascii_digit()
        && bytes[10] == b':'
}

/// `Blocked Host: Blocked host 1.2.3.4 at 23:23 by TCP SYN Flood Detection using TCP/3306 ...`.
fn arbor(message: &str, fields: &mut Fields) -> Recognized {
    if let Some((category, text)) = message.split_once(": ") {
        fields.push("event.category_name", category);
        if let Some(host) = text
            .strip_prefix("Blocked host ")
            .and_then(|rest| rest.split(' ').next())
        {
            fields.push("event.action", "block");
            if host.parse::<std::net::IpAddr>().is_ok() {
                fields.push("source.ip", host);
            }
        }
        if let Some((_, reason)) = text.split_once(" by ")
            && let Some((reason, _)) = reason.split_once(" using ")
        {
            fields.push("event.reason", reason);
        }
    }
    Recognized {
        source_type: "arbor-aps",
        ..Recognized::default()
    }
}

/// `1 2019-05-15T16:25:50Z HOST CheckPoint 19710 - [action:"Drop"; ifdir:"inbound"; ...]`.
fn check_point(message: &str, context: &ParseContext, fields: &mut Fields) -> Option<Recognized> {
    if !message.contains("CheckPoint") && !message.contains("Check Point") {
        return None;
    }
    let open = message.find(" [")?;
    let mut recognized = keyvalue::parse(&message[open + 1..], context, fields)?;
    recognized.source_type = "checkpoint";
    if recognized.logsource.is_empty() {
        recognized.logsource = logsource(None, Some("firewall"), None);
    }
    Some(recognized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cisco_ios_signature_with_endpoints() {
        let mut fields = Fields::new();
        let recognized = parse(
            None,
            "%IPS-4-SIGNATURE: Sig:3051 Subsig:1 Sev:4 TCP DoS [192.0.2.11:51654 -> 10.10.10.10:4444]",
            &ParseContext::default(),
            &mut fields,
        )
        .unwrap();
        assert_eq!(recognized.source_type, "cisco-ios");
        assert_eq!(fields.get("source.ip"), Some(&"192.0.2.11".into()));
        assert_eq!(
            fields.get("destination.port"),
            Some(&haidang_event::Value::Int(4444))
        );
        assert_eq!(fields.get("severity"), Some(&haidang_event::Value::Int(4)));
    }

    #[test]
    fn f5_and_arbor_messages() {
        let mut fields = Fields::new();
        let recognized = parse(
            Some("tmm"),
            "01010251:0: Virtual vs1 exceeded configured rate limit.",
            &ParseContext::default(),
            &mut fields,
        )
        .unwrap();
        assert_eq!(recognized.source_type, "f5-bigip");
        let mut fields = Fields::new();
        let recognized = parse(
            Some("arbor-networks-aps"),
            "Blocked Host: Blocked host 198.51.100.4 at 10:00 by TCP SYN Flood Detection using TCP/3306",
            &ParseContext::default(),
            &mut fields,
        )
        .unwrap();
        assert_eq!(recognized.source_type, "arbor-aps");
        assert_eq!(fields.get("source.ip"), Some(&"198.51.100.4".into()));
    }

    #[test]
    fn ordinary_messages_are_not_claimed() {
        let mut fields = Fields::new();
        assert!(
            parse(
                Some("sshd"),
                "Accepted password for bob",
                &ParseContext::default(),
                &mut fields
            )
            .is_none()
        );
        assert!(parse(None, "100% done: ok", &ParseContext::default(), &mut fields).is_none());
    }
}
