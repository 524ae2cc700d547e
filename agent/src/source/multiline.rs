//! Joining the lines of one multi-line record (a stack trace, a pretty-printed message).
//!
//! A record starts with a line matching the start pattern; the lines after it that do not match
//! join it. The record is complete when the next start line arrives, when it reaches
//! `max_lines` or `max_bytes`, or when no line has joined it for `timeout` (and the file has no
//! more data to read). A line that does not match and has no record to join starts one.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use regex::bytes::Regex;

use super::SourceError;
use super::file::Ready;

/// How lines are grouped into multi-line records.
#[derive(Clone, Debug)]
pub struct MultilineConfig {
    /// A line matching this pattern starts a record, e.g. `^\d{4}-\d{2}-\d{2}` for
    /// timestamped logs or `^\S` for Java stack traces (continuations are indented).
    pub start_pattern: Regex,
    /// A record is complete when it has this many lines.
    pub max_lines: usize,
    /// A record is complete before a line that would take it past this many bytes (a single
    /// line longer than this is a record by itself).
    pub max_bytes: usize,
    /// A record is complete when no line has joined it for this long and its file is read to
    /// the end.
    pub timeout: Duration,
}

impl MultilineConfig {
    /// Default maximum number of lines in a record.
    pub const DEFAULT_MAX_LINES: usize = 500;
    /// Default maximum size of a record.
    pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024;
    /// Default time after which an unfinished record is complete.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

    /// A configuration with the given start pattern and the default limits.
    pub fn new(start_pattern: &str) -> Result<Self, SourceError> {
        let start_pattern = Regex::new(start_pattern).map_err(|source| SourceError::InvalidStartPattern {
            pattern: start_pattern.to_owned(),
            source,
        })?;
        Ok(Self {
            start_pattern,
            max_lines: Self::DEFAULT_MAX_LINES,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            timeout: Self::DEFAULT_TIMEOUT,
        })
    }

    pub(super) fn validate(&self) -> Result<(), SourceError> {
        if self.max_lines == 0 {
            return Err(SourceError::ZeroSetting {
                setting: "multiline max_lines",
            });
        }
        if self.max_bytes == 0 {
            return Err(SourceError::ZeroSetting {
                setting: "multiline max_bytes",
            });
        }
        Ok(())
    }
}

/// The record being assembled for one file.
#[derive(Debug, Default)]
pub(super) struct Joiner {
    pending: Option<Pending>,
}

#[derive(Debug)]
struct Pending {
    text: Vec<u8>,
    /// Offset of the record's first byte.
    start: u64,
    /// Offset just after the last line's newline.
    end: u64,
    lines: usize,
    /// When the last line joined.
    updated: Instant,
}

impl Joiner {
    /// Adds one complete line (without its line ending) spanning `start..end` in the file.
    pub(super) fn push(
        &mut self,
        config: &MultilineConfig,
        line: &[u8],
        start: u64,
        end: u64,
        now: Instant,
        out: &mut VecDeque<Ready>,
    ) {
        let starts_record = config.start_pattern.is_match(line);
        if let Some(pending) = &mut self.pending {
            let fits = pending.text.len() + 1 + line.len() <= config.max_bytes;
            if !starts_record && fits {
                pending.text.push(b'\n');
                pending.text.extend_from_slice(line);
                pending.end = end;
                pending.lines += 1;
                pending.updated = now;
            } else {
                self.flush(out);
            }
        }
        if self.pending.is_none() {
            self.pending = Some(Pending {
                text: line.to_vec(),
                start,
                end,
                lines: 1,
                updated: now,
            });
        }
        let full = self.pending.as_ref().is_some_and(|pending| {
            pending.lines >= config.max_lines || pending.text.len() >= config.max_bytes
        });
        if full {
            self.flush(out);
        }
    }

    /// Completes the pending record, if any.
    pub(super) fn flush(&mut self, out: &mut VecDeque<Ready>) {
        if let Some(pending) = self.pending.take() {
            out.push_back(Ready {
                text: String::from_utf8_lossy(&pending.text).into_owned(),
                offset: pending.start,
                end: pending.end,
            });
        }
    }

    /// Whether a pending record has waited `timeout` since its last line.
    pub(super) fn timed_out(&self, config: &MultilineConfig, now: Instant) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|pending| now.saturating_duration_since(pending.updated) >= config.timeout)
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_none()
    }

    pub(super) fn clear(&mut self) {
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(config: &MultilineConfig, lines: &[&str]) -> (Vec<String>, Joiner) {
        let now = Instant::now();
        let mut joiner = Joiner::default();
        let mut out = VecDeque::new();
        let mut offset = 0;
        for line in lines {
            let end = offset + line.len() as u64 + 1;
            joiner.push(config, line.as_bytes(), offset, end, now, &mut out);
            offset = end;
        }
        (out.into_iter().map(|ready| ready.text).collect(), joiner)
    }

    #[test]
    fn java_stack_trace_joins_indented_lines() {
        let config = MultilineConfig::new(r"^\S").unwrap();
        let (records, joiner) = feed(
            &config,
            &[
                "Exception in thread main java.lang.NullPointerException",
                "\tat com.example.App.run(App.java:10)",
                "\tat com.example.App.main(App.java:3)",
                "next message",
                "last message",
            ],
        );
        assert_eq!(
            records,
            [
                "Exception in thread main java.lang.NullPointerException\n\
                 \tat com.example.App.run(App.java:10)\n\tat com.example.App.main(App.java:3)",
                "next message",
            ]
        );
        assert!(!joiner.is_empty(), "the last record waits for more lines");
    }

    #[test]
    fn max_lines_and_max_bytes_complete_a_record() {
        let mut config = MultilineConfig::new(r"^\d{4}-\d{2}-\d{2}").unwrap();
        config.max_lines = 3;
        let (records, _) = feed(&config, &["2024-01-01 a", "b", "c", "d", "2024-01-02 e"]);
        assert_eq!(records, ["2024-01-01 a\nb\nc", "d"]);

        config.max_lines = 100;
        config.max_bytes = 10;
        let (records, _) = feed(&config, &["2024-01-01", "12345", "x", "2024-01-02"]);
        assert_eq!(records, ["2024-01-01", "12345\nx", "2024-01-02"]);
    }

    #[test]
    fn offsets_span_the_joined_lines() {
        let config = MultilineConfig::new(r"^\S").unwrap();
        let now = Instant::now();
        let mut joiner = Joiner::default();
        let mut out = VecDeque::new();
        joiner.push(&config, b"first", 0, 6, now, &mut out);
        joiner.push(&config, b" cont", 6, 12, now, &mut out);
        assert!(!joiner.timed_out(&config, now));
        assert!(joiner.timed_out(&config, now + config.timeout));
        joiner.flush(&mut out);
        let ready = out.pop_front().unwrap();
        assert_eq!(
            (ready.text.as_str(), ready.offset, ready.end),
            ("first\n cont", 0, 12)
        );
    }
}
