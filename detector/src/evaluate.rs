//! Direct predicates: the checks no pattern engine does.

use std::net::IpAddr;

use haidang_event::{Event, Value};

use crate::compile::{DatePart, Direct, RefMode, Target};

fn values<'a>(event: &'a Event, field: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    event.fields.get_all(field)
}

/// Whether any value of the target matches the regular expression.
pub(crate) fn regex_matches(event: &Event, target: &Target, regex: &regex::bytes::Regex) -> bool {
    let check = |value: &Value| {
        value
            .as_text()
            .is_some_and(|text| regex.is_match(text.as_bytes()))
    };
    match target {
        Target::Field(field) => values(event, field).any(check),
        Target::Keywords => event.fields.iter().any(|(_, value)| check(value)),
    }
}

pub(crate) fn evaluate_direct(direct: &Direct, event: &Event) -> bool {
    match direct {
        Direct::Exists { field, expected } => event.fields.contains(field) == *expected,
        Direct::Null { field } => {
            let mut present = false;
            for value in values(event, field) {
                present = true;
                if *value == Value::Null {
                    return true;
                }
            }
            !present
        }
        Direct::Empty { field } => {
            values(event, field).any(|value| matches!(value, Value::Str(text) if text.is_empty()))
        }
        Direct::AnyValue { field } => values(event, field).any(|value| *value != Value::Null),
        Direct::Compare { field, op, value } => {
            let limit = f64::from_bits(*value);
            values(event, field).any(|value| value.as_f64().is_some_and(|number| op.holds(number, limit)))
        }
        Direct::Cidr { field, networks } => values(event, field).any(|value| {
            value
                .as_text()
                .and_then(|text| text.trim().parse::<IpAddr>().ok())
                .is_some_and(|address| networks.iter().any(|network| network.contains(&address)))
        }),
        Direct::FieldRef {
            field,
            other,
            mode,
            cased,
        } => values(event, field).any(|left| {
            let Some(left) = left.as_text() else { return false };
            values(event, other).any(|right| {
                let Some(right) = right.as_text() else {
                    return false;
                };
                let (left, right) = if *cased {
                    (left.to_string(), right.to_string())
                } else {
                    (left.to_ascii_lowercase(), right.to_ascii_lowercase())
                };
                match mode {
                    RefMode::Equals => left == right,
                    RefMode::StartsWith => left.starts_with(&right),
                    RefMode::EndsWith => left.ends_with(&right),
                    RefMode::Contains => left.contains(&right),
                }
            })
        }),
        Direct::DatePart {
            field,
            part,
            op,
            value,
        } => values(event, field).any(|field_value| {
            field_value
                .as_text()
                .and_then(|text| date_part(&text, *part))
                .is_some_and(|number| op.holds(number as f64, *value as f64))
        }),
    }
}

/// Reads `YYYY-MM-DD[T ]HH:MM[:SS...]` and returns the requested part.
fn date_part(text: &str, part: DatePart) -> Option<i64> {
    let bytes = text.trim().as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        std::str::from_utf8(bytes.get(range)?).ok()?.parse().ok()
    };
    let year = number(0..4)?;
    let month = number(5..7)?;
    let day = number(8..10)?;
    Some(match part {
        DatePart::Year => year,
        DatePart::Month => month,
        DatePart::Day => day,
        DatePart::Hour => number(11..13)?,
        DatePart::Minute => number(14..16)?,
        DatePart::Week => {
            let date = time::Date::from_calendar_date(
                i32::try_from(year).ok()?,
                time::Month::try_from(u8::try_from(month).ok()?).ok()?,
                u8::try_from(day).ok()?,
            )
            .ok()?;
            i64::from(date.iso_week())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::NumericOp;

    #[test]
    fn date_parts() {
        assert_eq!(date_part("2026-11-27T05:10:59Z", DatePart::Hour), Some(5));
        assert_eq!(date_part("2026-11-27 05:10:59", DatePart::Minute), Some(10));
        assert_eq!(date_part("2026-11-27", DatePart::Week), Some(48));
        assert_eq!(date_part("nonsense", DatePart::Year), None);
    }

    #[test]
    fn numeric_ops() {
        assert!(NumericOp::Gte.holds(5.0, 5.0));
        assert!(!NumericOp::Lt.holds(5.0, 5.0));
    }
}
