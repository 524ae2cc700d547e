//! Retention by information-system grade: how many days each grade's partitions are kept, read
//! from `rules/compliance/retention.yml` (the decrees and standards it follows are cited there).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::IndexError;

/// Days to keep events, by grade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Days per grade (1 to 5).
    pub days_by_grade: BTreeMap<u8, u32>,
    /// Days for a grade not listed and for events of unknown grade.
    pub default_days: u32,
}

/// The file's shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionFile {
    version: u32,
    default_days: u32,
    #[serde(default)]
    grades: BTreeMap<u8, u32>,
}

impl RetentionPolicy {
    /// Reads a policy; `name` says where it came from in errors.
    pub fn from_yaml(name: &str, text: &str) -> Result<RetentionPolicy, IndexError> {
        let invalid = |message: String| IndexError::Retention {
            name: name.to_owned(),
            message,
        };
        let file: RetentionFile = serde_saphyr::from_str(text).map_err(|error| invalid(error.to_string()))?;
        if file.version != 1 {
            return Err(invalid(format!("version {} is not 1", file.version)));
        }
        if file.default_days == 0 {
            return Err(invalid("default_days must be at least 1".into()));
        }
        for (grade, days) in &file.grades {
            if !(1..=5).contains(grade) {
                return Err(invalid(format!("grade {grade} is not one of 1 to 5")));
            }
            if *days == 0 {
                return Err(invalid(format!("grade {grade}: days must be at least 1")));
            }
        }
        Ok(RetentionPolicy {
            days_by_grade: file.grades,
            default_days: file.default_days,
        })
    }

    /// Days to keep events of a grade (0: unknown).
    pub fn days_for(&self, grade: u8) -> u32 {
        self.days_by_grade
            .get(&grade)
            .copied()
            .unwrap_or(self.default_days)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_shipped_policy_follows_the_grades() {
        let text = include_str!("../../../rules/compliance/retention.yml");
        let policy = RetentionPolicy::from_yaml("retention.yml", text).unwrap();
        assert_eq!(policy.days_for(2), 31);
        assert_eq!(policy.days_for(3), 92);
        assert_eq!(policy.days_for(4), 183);
        assert_eq!(policy.days_for(5), 366);
        assert_eq!(policy.days_for(1), policy.default_days);
        assert_eq!(policy.days_for(0), policy.default_days);
    }

    #[test]
    fn bad_policies_say_what_is_wrong() {
        let error = |text: &str| RetentionPolicy::from_yaml("x.yml", text).unwrap_err().to_string();
        assert!(error("version: 1\ndefault_days: 0\n").contains("default_days"));
        assert!(error("version: 1\ndefault_days: 5\ngrades: {7: 3}\n").contains("grade 7"));
        assert!(error("version: 2\ndefault_days: 5\n").contains("version"));
        assert!(error("version: 1\ndefault_days: 5\nextra: 1\n").starts_with("retention policy x.yml:"));
    }
}
