//! The agent's configuration: a TOML file. Two layers: [`AgentConfigFile`] is the file as written
//! (unknown keys rejected, every error naming the file, line and key), [`AgentConfig`] is checked
//! and typed. `haidang-agent check-config` runs the same checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::source::{FileSourceConfig, JournaldConfig, MultilineConfig, StartAt};
use crate::spool::WhenFull;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfigFile {
    /// Format version; 1.
    #[serde(default)]
    pub version: Option<u32>,
    /// Where the agent keeps its identity, spool and state. Default `/var/lib/haidang-agent`.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// The host name to report (default: the kernel's).
    #[serde(default)]
    pub hostname: Option<String>,
    /// `[collector]`.
    #[serde(default)]
    pub collector: CollectorFile,
    /// `[spool]`.
    #[serde(default)]
    pub spool: SpoolFile,
    /// `[[files]]`: one section per group of files sharing a format.
    #[serde(default)]
    pub files: Vec<FilesFile>,
    /// `[journald]`.
    #[serde(default)]
    pub journald: Option<JournaldFile>,
    /// `[[packet]]`: live packet metadata on an interface (needs CAP_NET_RAW).
    #[serde(default)]
    pub packet: Vec<PacketFile>,
}

/// `[[packet]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacketFile {
    /// The interface (`eth0`, `any`).
    pub interface: String,
    /// A BPF filter (`not port 22`). Default: everything.
    #[serde(default)]
    pub filter: Option<String>,
    /// Most flows in memory at once. Default 10000.
    #[serde(default)]
    pub max_flows: Option<usize>,
    /// A flow longer than this many seconds is reported and continues. Default 1800.
    #[serde(default)]
    pub active_timeout_seconds: Option<u64>,
}

/// `[collector]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorFile {
    /// `host:port` of each collector; the agent uses the first that answers and fails over to
    /// the next. Default `["127.0.0.1:5044"]`.
    #[serde(default)]
    pub addresses: Option<Vec<String>>,
    /// Most records in one batch. Default 2000.
    #[serde(default)]
    pub batch_records: Option<usize>,
    /// Seconds between heartbeats. Default 30.
    #[serde(default)]
    pub heartbeat_seconds: Option<u64>,
    /// Longest wait between reconnection attempts, in seconds (the wait doubles from 0.5 s, with
    /// jitter). Default 30.
    #[serde(default)]
    pub max_backoff_seconds: Option<u64>,
}

/// `[spool]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolFile {
    /// Most bytes on disk. Default 268435456 (256 MiB).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// `block` (sources wait; nothing lost) or `drop_oldest` (oldest records deleted, counted).
    /// Default `block`.
    #[serde(default)]
    pub when_full: Option<WhenFull>,
}

/// `[[files]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesFile {
    /// A name for the group (checkpoints are kept under it). Default: the first include pattern.
    #[serde(default)]
    pub name: Option<String>,
    /// Absolute glob patterns (`*` within a directory, `**` across).
    pub include: Vec<String>,
    /// Patterns to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `beginning` or `end`, for files found at start with no checkpoint. Default `end`.
    #[serde(default)]
    pub start_at: Option<String>,
    /// The format the collector parses these lines as (see `haidang parse --format`). Default
    /// `auto`.
    #[serde(default)]
    pub format: Option<String>,
    /// A regular expression a record starts with; lines not matching it join the previous one
    /// (stack traces). Default: one record per line.
    #[serde(default)]
    pub multiline_start: Option<String>,
    /// Longest line kept whole; longer lines are split. Default 65536.
    #[serde(default)]
    pub max_line_bytes: Option<usize>,
}

/// `[journald]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournaldFile {
    /// Follow the journal. Default true when the section is present.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Only these units. Default: all.
    #[serde(default)]
    pub units: Vec<String>,
    /// `beginning` or `end` when there is no saved cursor. Default `end`.
    #[serde(default)]
    pub start_at: Option<String>,
}

/// One checked `[[files]]` group.
#[derive(Debug, Clone)]
pub struct FilesGroup {
    /// Its name.
    pub name: String,
    /// The source's configuration.
    pub source: FileSourceConfig,
    /// Parse format for the collector (`None`: auto).
    pub format: Option<String>,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Host name reported.
    pub hostname: String,
    /// Collector addresses, in order of preference.
    pub collectors: Vec<String>,
    /// Most records per batch.
    pub batch_records: usize,
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// Longest reconnection wait.
    pub max_backoff: Duration,
    /// Spool bound.
    pub spool_max_bytes: u64,
    /// Spool policy.
    pub when_full: WhenFull,
    /// File groups.
    pub files: Vec<FilesGroup>,
    /// The journal, if followed.
    pub journald: Option<JournaldConfig>,
    /// Interfaces to capture on.
    pub packet: Vec<(crate::packet::LiveCaptureConfig, crate::packet::PacketConfig)>,
}

/// A configuration problem, naming the file, line and key.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub problem: String,
}

impl AgentConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            file: name.clone(),
            problem: format!("cannot read: {error}"),
        })?;
        AgentConfig::parse(&name, &text)
    }

    /// Parses and checks configuration text.
    pub fn parse(name: &str, text: &str) -> Result<AgentConfig, ConfigError> {
        let file: AgentConfigFile = toml::from_str(text).map_err(|error| ConfigError {
            file: name.to_owned(),
            problem: error.to_string().trim().replace('\n', " | "),
        })?;
        // Checks below name the key; find its line in the text so the error does too.
        let error = |key: &str, problem: String| ConfigError {
            file: name.to_owned(),
            problem: match line_of(text, key) {
                Some(line) => format!("line {line}, key `{key}`: {problem}"),
                None => format!("key `{key}`: {problem}"),
            },
        };
        if let Some(version) = file.version
            && version != 1
        {
            return Err(error("version", format!("{version} is not supported (1 is)")));
        }
        let start_at = |key: &str, value: Option<&str>| match value {
            None | Some("end") => Ok(StartAt::End),
            Some("beginning") => Ok(StartAt::Beginning),
            Some(other) => Err(error(key, format!("`{other}` is neither `beginning` nor `end`"))),
        };
        let collectors = file
            .collector
            .addresses
            .unwrap_or_else(|| vec!["127.0.0.1:5044".to_owned()]);
        if collectors.is_empty() {
            return Err(error(
                "addresses",
                "at least one collector address is needed".into(),
            ));
        }
        for address in &collectors {
            if address
                .rsplit_once(':')
                .and_then(|(_, port)| port.parse::<u16>().ok())
                .is_none()
            {
                return Err(error("addresses", format!("`{address}` is not host:port")));
            }
        }
        let mut files = Vec::new();
        for (index, group) in file.files.into_iter().enumerate() {
            if group.include.is_empty() {
                return Err(error(
                    "include",
                    format!("[[files]] number {} has no include pattern", index + 1),
                ));
            }
            for pattern in group.include.iter().chain(&group.exclude) {
                if !pattern.starts_with('/') {
                    return Err(error("include", format!("`{pattern}` is not an absolute path")));
                }
            }
            let mut source = FileSourceConfig::new(group.include.clone());
            source.exclude = group.exclude;
            source.start_at = start_at("start_at", group.start_at.as_deref())?;
            if let Some(pattern) = &group.multiline_start {
                source.multiline = Some(
                    MultilineConfig::new(pattern)
                        .map_err(|problem| error("multiline_start", problem.to_string()))?,
                );
            }
            if let Some(max) = group.max_line_bytes {
                if max == 0 {
                    return Err(error("max_line_bytes", "must be at least 1".into()));
                }
                source.max_line_bytes = max;
            }
            files.push(FilesGroup {
                name: group.name.unwrap_or_else(|| group.include[0].clone()),
                source,
                format: group.format.filter(|format| format != "auto"),
            });
        }
        let journald = match file.journald {
            Some(section) if section.enabled != Some(false) => Some(JournaldConfig {
                start_at: start_at("start_at", section.start_at.as_deref())?,
                units: section.units,
                ..JournaldConfig::default()
            }),
            _ => None,
        };
        let mut packet = Vec::new();
        for section in file.packet {
            if section.interface.is_empty() {
                return Err(error("interface", "[[packet]] needs an interface".into()));
            }
            let mut capture = crate::packet::LiveCaptureConfig::new(section.interface);
            capture.filter = section.filter;
            let mut flows = crate::packet::FlowConfig::default();
            flows.max_flows = section.max_flows.unwrap_or(10_000).max(1);
            // Keep the worst case of stream buffers small on an endpoint.
            flows.max_stream_buffer = flows.max_stream_buffer.min(4096);
            flows.active_timeout = match section.active_timeout_seconds.unwrap_or(1800) {
                0 => None,
                seconds => Some(Duration::from_secs(seconds)),
            };
            packet.push((capture, crate::packet::PacketConfig { flows, host: None }));
        }
        let batch_records = file.collector.batch_records.unwrap_or(2000);
        if batch_records == 0 {
            return Err(error("batch_records", "must be at least 1".into()));
        }
        let hostname = file.hostname.unwrap_or_else(crate::facts::hostname);
        Ok(AgentConfig {
            data_dir: file
                .data_dir
                .unwrap_or_else(|| PathBuf::from("/var/lib/haidang-agent")),
            hostname,
            collectors,
            batch_records,
            heartbeat: Duration::from_secs(file.collector.heartbeat_seconds.unwrap_or(30).max(1)),
            max_backoff: Duration::from_secs(file.collector.max_backoff_seconds.unwrap_or(30).max(1)),
            spool_max_bytes: file.spool.max_bytes.unwrap_or(256 << 20),
            when_full: file.spool.when_full.unwrap_or(WhenFull::Block),
            files,
            journald,
            packet,
        })
    }
}

/// The line where `key = ` first appears, for error messages.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_example_configuration_is_valid() {
        let text = include_str!("../../deploy/haidang-agent.example.toml");
        let config = AgentConfig::parse("deploy/haidang-agent.example.toml", text).unwrap();
        assert!(!config.files.is_empty());
        assert_eq!(config.when_full, WhenFull::Block);
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let error =
            AgentConfig::parse("a.toml", "version = 1\n[spool]\nwhen_full = \"explode\"\n").unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("a.toml: ") && text.contains("line 3") && text.contains("when_full"),
            "{text}"
        );
        let error = AgentConfig::parse(
            "a.toml",
            "[[files]]\ninclude = [\"/var/log/*.log\"]\nstart_at = \"middle\"\n",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "a.toml: line 3, key `start_at`: `middle` is neither `beginning` nor `end`"
        );
        let error = AgentConfig::parse("a.toml", "[[files]]\ninclude = [\"relative/*.log\"]\n").unwrap_err();
        assert!(error.to_string().contains("not an absolute path"), "{error}");
        let error = AgentConfig::parse("a.toml", "colour = 1\n").unwrap_err();
        assert!(
            error.to_string().contains("colour") && error.to_string().contains("line 1"),
            "{error}"
        );
        let error = AgentConfig::parse("a.toml", "[collector]\naddresses = [\"nowhere\"]\n").unwrap_err();
        assert!(
            error.to_string().contains("line 2") && error.to_string().contains("host:port"),
            "{error}"
        );
    }
}
