use serde_json::Value as Json;

use crate::{Fields, Value};

/// Flattens a JSON document into flat fields.
///
/// Nested objects join their keys with `.`; lists become repeated fields. The XML-derived shape
/// the `evtx` crate writes is folded the way Sigma names Windows fields: an element's
/// `#attributes` become `Element_Attribute` (so `Provider` with attribute `Name` gives
/// `Provider_Name`) and its `#text` becomes the element itself.
///
/// `strip_prefixes` lists container paths whose children should be addressed by their own name
/// (`Event.EventData.` makes `Event.EventData.Image` also available as `Image`); a `*` segment
/// stands for any one key (`Event.UserData.*.`). The full path is always kept; the short name is
/// added unless the document already has a field of that name.
pub fn flatten_json(document: &Json, strip_prefixes: &[String]) -> Fields {
    flatten_json_owned(document.clone(), strip_prefixes)
}

/// [`flatten_json`] taking the document by value, so keys and strings move into the fields
/// instead of being copied (the common path: a document is parsed only to be flattened).
pub fn flatten_json_owned(document: Json, strip_prefixes: &[String]) -> Fields {
    let mut flat = Vec::new();
    walk(document, &mut String::new(), &mut flat);
    let mut short_names = Vec::new();
    if !strip_prefixes.is_empty() {
        for (path, value) in &flat {
            if let Some(short) = strip(path, strip_prefixes) {
                short_names.push((short.to_owned(), value.clone()));
            }
        }
    }
    if !short_names.is_empty() {
        // A short name never shadows a field the document itself has at that path.
        let full_paths: std::collections::HashSet<&str> =
            flat.iter().map(|(name, _)| name.as_str()).collect();
        short_names.retain(|(name, _)| !full_paths.contains(name.as_str()));
    }
    flat.extend(short_names);
    flat.into_iter().collect()
}

fn strip<'a>(path: &'a str, prefixes: &[String]) -> Option<&'a str> {
    // Every prefix ends in `.`: a top-level name cannot be under one.
    if !path.contains('.') {
        return None;
    }
    for prefix in prefixes {
        if let Some(rest) = match_prefix(path, prefix)
            && !rest.is_empty()
        {
            return Some(rest);
        }
    }
    None
}

/// Matches `prefix` (segments separated by `.`, ending in `.`, `*` for any one segment) against
/// the start of `path`, returning the rest of the path.
fn match_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let mut rest = path;
    for segment in prefix.trim_end_matches('.').split('.') {
        let (head, tail) = rest.split_once('.')?;
        if segment != "*" && segment != head {
            return None;
        }
        rest = tail;
    }
    Some(rest)
}

fn walk(value: Json, path: &mut String, out: &mut Vec<(String, Value)>) {
    match value {
        Json::Object(map) => {
            let top_level = path.is_empty();
            for (key, child) in map {
                let saved = path.len();
                if key == "#text" {
                    walk(child, path, out);
                } else if key == "#attributes" {
                    if let Json::Object(attributes) = child {
                        for (attribute, attribute_value) in attributes {
                            let saved_inner = path.len();
                            if !path.is_empty() {
                                path.push('_');
                            }
                            path.push_str(&attribute);
                            walk(attribute_value, path, out);
                            path.truncate(saved_inner);
                        }
                    }
                } else if top_level && !matches!(child, Json::Object(_) | Json::Array(_)) {
                    // The common flat document: the key itself becomes the field name.
                    out.push((key, scalar(child)));
                } else {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&key);
                    walk(child, path, out);
                }
                path.truncate(saved);
            }
        }
        Json::Array(items) => {
            for item in items {
                walk(item, path, out);
            }
        }
        scalar_value => out.push((path.clone(), scalar(scalar_value))),
    }
}

fn scalar(value: Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Bool(flag),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => Value::Int(integer),
            None => Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(text) => Value::Str(text),
        other => Value::Str(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes() -> Vec<String> {
        [
            "Event.System.",
            "Event.EventData.",
            "Event.UserData.*.",
            "winlog.event_data.",
        ]
        .iter()
        .map(|prefix| prefix.to_string())
        .collect()
    }

    #[test]
    fn evtx_shape_gets_sigma_names() {
        let document: Json = serde_json::json!({
            "Event": {
                "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
                "System": {
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
                    "EventID": 1,
                    "Channel": "Microsoft-Windows-Sysmon/Operational"
                },
                "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"}
            }
        });
        let fields = flatten_json(&document, &prefixes());
        assert_eq!(fields.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(
            fields.get("Provider_Name"),
            Some(&Value::from("Microsoft-Windows-Sysmon"))
        );
        assert_eq!(
            fields.get("Image"),
            Some(&Value::from("C:\\Windows\\System32\\cmd.exe"))
        );
        assert_eq!(
            fields.get("Event.EventData.CommandLine"),
            Some(&Value::from("cmd /c whoami"))
        );
    }

    #[test]
    fn text_with_attributes_keeps_both() {
        let document = serde_json::json!({"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7036}}}});
        let fields = flatten_json(&document, &prefixes());
        assert_eq!(fields.get("EventID"), Some(&Value::Int(7036)));
        assert_eq!(fields.get("EventID_Qualifiers"), Some(&Value::Int(16384)));
    }

    #[test]
    fn lists_repeat_the_field_and_wildcard_prefixes_strip() {
        let document = serde_json::json!({"tags": ["a", "b"], "Event": {"UserData": {"LogFileCleared": {"SubjectUserName": "bob"}}}});
        let fields = flatten_json(&document, &prefixes());
        assert_eq!(fields.get_all("tags").count(), 2);
        assert_eq!(fields.get("SubjectUserName"), Some(&Value::from("bob")));
    }

    #[test]
    fn short_name_never_shadows_a_top_level_field() {
        let document = serde_json::json!({"Image": "top", "winlog": {"event_data": {"Image": "inner"}}});
        let fields = flatten_json(&document, &prefixes());
        assert_eq!(
            fields.get_all("Image").collect::<Vec<_>>(),
            vec![&Value::from("top")]
        );
    }
}
