//! Errors of the detector, one enum per boundary.

use thiserror::Error;

/// Why a rule (or a rule file) could not be loaded. Messages are written for the rule's author.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RuleError {
    /// The file is not valid YAML.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// A required attribute is missing or has the wrong type.
    #[error("attribute `{attribute}`: {problem}")]
    Attribute {
        /// The attribute, as a path (`detection.selection`).
        attribute: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A value modifier is unknown or used where it cannot apply.
    #[error("field `{field}`: {problem}")]
    Modifier {
        /// The field with its modifiers as written (`CommandLine|base64|re`).
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// The condition does not parse or names something that does not exist.
    #[error("condition `{condition}`: {problem}")]
    Condition {
        /// The condition text.
        condition: String,
        /// What is wrong.
        problem: String,
    },
    /// A regular expression does not compile.
    #[error("field `{field}`: regular expression `{pattern}` does not compile: {problem}")]
    Regex {
        /// The field.
        field: String,
        /// The expression.
        pattern: String,
        /// The compiler's complaint.
        problem: String,
    },
    /// A `|expand` placeholder has no configured values.
    #[error("placeholder `%{0}%` has no values in the placeholder configuration")]
    Placeholder(String),
    /// A correlation or filter refers to a rule that is not loaded.
    #[error("refers to rule `{0}`, which is not loaded")]
    UnknownReference(String),
    /// A rule id is used twice.
    #[error("rule id `{0}` is already used by another rule")]
    DuplicateId(String),
}

/// Errors building or running a rule set as a whole.
#[derive(Debug, Error)]
pub enum DetectorError {
    /// The pattern engine refused a database.
    #[error("pattern engine: {0}")]
    Engine(String),
    /// A mapping file is malformed.
    #[error("mapping file `{file}`: {problem}")]
    Mapping {
        /// The mapping file's name.
        file: String,
        /// What is wrong.
        problem: String,
    },
}
