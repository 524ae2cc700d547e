//! Following the systemd journal through `journalctl -o json --follow`.
//!
//! `journalctl` runs as a child process; a thread reads its standard output into a bounded
//! channel of lines (when the channel is full the thread, and so `journalctl`, waits: the journal
//! keeps the entries), and `poll` takes the complete lines without blocking. Each entry's
//! `__CURSOR` is its checkpoint: [`JournaldSource::cursor`] is the cursor of the last entry
//! `poll` returned, and a source created with it resumes just after that entry
//! (`--after-cursor`).

use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{SourceError, StartAt};

/// Lines buffered between the reading thread and `poll`.
const CHANNEL_LINES: usize = 1024;
/// How much of `journalctl`'s standard error is kept for the error report.
const STDERR_KEEP_BYTES: usize = 2048;
/// How long an exit report waits for the end of standard error.
const STDERR_WAIT: Duration = Duration::from_secs(1);

/// How the journal is followed.
#[derive(Clone, Debug)]
pub struct JournaldConfig {
    /// The `journalctl` program (looked up in `PATH` if it has no `/`).
    pub journalctl_path: PathBuf,
    /// Where to start when there is no saved cursor.
    pub start_at: StartAt,
    /// Only entries of these systemd units (`--unit`); empty means all entries.
    pub units: Vec<String>,
    /// Entries whose JSON line is longer than this are skipped and counted.
    pub max_entry_bytes: usize,
}

impl JournaldConfig {
    /// Default maximum size of one entry's JSON line.
    pub const DEFAULT_MAX_ENTRY_BYTES: usize = 1024 * 1024;
}

impl Default for JournaldConfig {
    fn default() -> Self {
        Self {
            journalctl_path: PathBuf::from("journalctl"),
            start_at: StartAt::Beginning,
            units: Vec::new(),
            max_entry_bytes: Self::DEFAULT_MAX_ENTRY_BYTES,
        }
    }
}

/// One journal entry, reduced to the fields the agent ships.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JournalRecord {
    /// `__CURSOR`: where the journal resumes after this entry.
    pub cursor: String,
    /// `MESSAGE` (lossy UTF-8 if the journal holds it as bytes; empty if the entry has none).
    pub message: String,
    /// `_HOSTNAME`.
    pub hostname: Option<String>,
    /// `SYSLOG_IDENTIFIER`.
    pub syslog_identifier: Option<String>,
    /// `_PID`.
    pub pid: Option<u32>,
    /// `PRIORITY`, 0 (emergency) to 7 (debug).
    pub priority: Option<u8>,
    /// `_SYSTEMD_UNIT`.
    pub systemd_unit: Option<String>,
    /// `__REALTIME_TIMESTAMP`: microseconds since the Unix epoch.
    pub realtime_timestamp: Option<u64>,
}

/// Counters of a journald source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JournaldStats {
    /// JSON lines received from `journalctl`.
    pub entries_read: u64,
    /// Records returned by `poll`.
    pub records_returned: u64,
    /// Lines that were not a JSON object with a `__CURSOR`.
    pub parse_errors: u64,
    /// Lines longer than `max_entry_bytes`, skipped.
    pub oversized_entries: u64,
    /// Errors reading `journalctl`'s output.
    pub read_errors: u64,
}

/// What the reading thread passes to `poll`.
#[derive(Debug)]
enum Line {
    Entry(Vec<u8>),
    Oversized,
    Failed,
}

/// Follows the journal. See the module documentation.
#[derive(Debug)]
pub struct JournaldSource {
    config: JournaldConfig,
    child: Child,
    lines: Receiver<Line>,
    stderr: Receiver<Vec<u8>>,
    cursor: Option<String>,
    /// Set once `journalctl` has exited: its status and standard error.
    exited: Option<(String, String)>,
    stats: JournaldStats,
}

impl JournaldSource {
    /// Starts `journalctl`: after `cursor` if there is one, else at `config.start_at`.
    pub fn new(config: JournaldConfig, cursor: Option<String>) -> Result<Self, SourceError> {
        if cursor
            .as_deref()
            .is_some_and(|cursor| cursor.chars().any(char::is_control))
        {
            return Err(SourceError::InvalidCursor);
        }
        let mut child = Command::new(&config.journalctl_path)
            .args(arguments(&config, cursor.as_deref()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| {
                let path = config.journalctl_path.display().to_string();
                if source.kind() == io::ErrorKind::NotFound {
                    SourceError::JournalctlMissing { path }
                } else {
                    SourceError::JournalctlSpawn { path, source }
                }
            })?;
        let (line_sender, lines) = mpsc::sync_channel(CHANNEL_LINES);
        let (stderr_sender, stderr) = mpsc::sync_channel(1);
        let spawned = match (child.stdout.take(), child.stderr.take()) {
            (Some(stdout), Some(error_output)) => {
                let max = config.max_entry_bytes;
                std::thread::Builder::new()
                    .name("journalctl-stdout".into())
                    .spawn(move || read_lines(stdout, &line_sender, max))
                    .and_then(|_| {
                        std::thread::Builder::new()
                            .name("journalctl-stderr".into())
                            .spawn(move || keep_stderr(error_output, &stderr_sender))
                    })
                    .map(|_| ())
            }
            _ => Err(io::Error::other("journalctl pipes missing")),
        };
        if let Err(source) = spawned {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SourceError::JournalctlSpawn {
                path: config.journalctl_path.display().to_string(),
                source,
            });
        }
        Ok(Self {
            config,
            child,
            lines,
            stderr,
            cursor,
            exited: None,
            stats: JournaldStats::default(),
        })
    }

    /// Returns up to `max` entries available now, without blocking (possibly none), in journal
    /// order. Once `journalctl` has exited and every entry it wrote is returned, this returns
    /// [`SourceError::JournalctlExited`]; create the source again from [`JournaldSource::cursor`]
    /// to continue.
    pub fn poll(&mut self, max: usize) -> Result<Vec<JournalRecord>, SourceError> {
        let mut out = Vec::new();
        while out.len() < max && self.exited.is_none() {
            match self.lines.try_recv() {
                Ok(Line::Entry(bytes)) => {
                    self.stats.entries_read += 1;
                    match parse_entry(&bytes) {
                        Some(record) => {
                            self.cursor = Some(record.cursor.clone());
                            out.push(record);
                        }
                        None => self.stats.parse_errors += 1,
                    }
                }
                Ok(Line::Oversized) => {
                    self.stats.entries_read += 1;
                    self.stats.oversized_entries += 1;
                }
                Ok(Line::Failed) => self.stats.read_errors += 1,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.exited = Some(self.reap()),
            }
        }
        self.stats.records_returned += out.len() as u64;
        match &self.exited {
            Some((status, stderr)) if out.is_empty() && max > 0 => Err(SourceError::JournalctlExited {
                status: status.clone(),
                stderr: stderr.clone(),
            }),
            _ => Ok(out),
        }
    }

    /// The cursor of the last entry `poll` returned (or the cursor the source was created with).
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Counters.
    pub fn stats(&self) -> JournaldStats {
        self.stats.clone()
    }

    /// The configuration the source runs with.
    pub fn config(&self) -> &JournaldConfig {
        &self.config
    }

    /// Waits for the exited child and collects its status and the end of its standard error.
    fn reap(&mut self) -> (String, String) {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => status.to_string(),
            // Standard output closed but the process lives on: stop it.
            Ok(None) => {
                let _ = self.child.kill();
                match self.child.wait() {
                    Ok(status) => status.to_string(),
                    Err(error) => error.to_string(),
                }
            }
            Err(error) => error.to_string(),
        };
        let stderr = match self.stderr.recv_timeout(STDERR_WAIT) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => String::new(),
        };
        (status, stderr)
    }
}

impl Drop for JournaldSource {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `journalctl` arguments for a configuration and an optional cursor.
fn arguments(config: &JournaldConfig, cursor: Option<&str>) -> Vec<String> {
    let mut arguments: Vec<String> = ["--output=json", "--follow", "--all", "--no-pager", "--quiet"]
        .into_iter()
        .map(String::from)
        .collect();
    match (cursor, config.start_at) {
        // `--follow` alone shows only the last ten entries: `--no-tail` shows them all.
        (Some(cursor), _) => {
            arguments.push(format!("--after-cursor={cursor}"));
            arguments.push("--no-tail".into());
        }
        (None, StartAt::Beginning) => arguments.push("--no-tail".into()),
        (None, StartAt::End) => arguments.push("--lines=0".into()),
    }
    for unit in &config.units {
        arguments.push(format!("--unit={unit}"));
    }
    arguments
}

/// Splits `journalctl`'s output into lines of at most `max` bytes; longer lines are reported
/// as oversized. Ends when the output ends or `poll`'s side is gone.
fn read_lines(stdout: ChildStdout, sender: &SyncSender<Line>, max: usize) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut line = Vec::new();
    let mut oversized = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                let _ = sender.send(Line::Failed);
                return;
            }
        };
        if available.is_empty() {
            // journalctl ends every entry with a newline: an unfinished line at exit is cut.
            if !line.is_empty() || oversized {
                let _ = sender.send(Line::Failed);
            }
            return;
        }
        let (used, complete) = match memchr::memchr(b'\n', available) {
            Some(index) => (index + 1, Some(index)),
            None => (available.len(), None),
        };
        let content = &available[..complete.unwrap_or(used)];
        if !oversized && line.len() + content.len() <= max {
            line.extend_from_slice(content);
        } else {
            oversized = true;
            line.clear();
        }
        reader.consume(used);
        if complete.is_some() {
            let message = if oversized {
                Line::Oversized
            } else {
                Line::Entry(std::mem::take(&mut line))
            };
            oversized = false;
            if sender.send(message).is_err() {
                return;
            }
        }
    }
}

/// Reads standard error to its end, keeping its last bytes, and sends them.
fn keep_stderr(mut stderr: ChildStderr, sender: &SyncSender<Vec<u8>>) {
    let mut kept = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        match stderr.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => {
                kept.extend_from_slice(&chunk[..read]);
                if kept.len() > STDERR_KEEP_BYTES {
                    kept.drain(..kept.len() - STDERR_KEEP_BYTES);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = sender.send(kept);
}

/// The fields of an entry the agent keeps; `journalctl` writes every field as a string, an
/// array of byte values (binary data), or an array of those (a field given more than once).
#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "__CURSOR")]
    cursor: Option<serde_json::Value>,
    #[serde(rename = "MESSAGE")]
    message: Option<serde_json::Value>,
    #[serde(rename = "_HOSTNAME")]
    hostname: Option<serde_json::Value>,
    #[serde(rename = "SYSLOG_IDENTIFIER")]
    syslog_identifier: Option<serde_json::Value>,
    #[serde(rename = "_PID")]
    pid: Option<serde_json::Value>,
    #[serde(rename = "PRIORITY")]
    priority: Option<serde_json::Value>,
    #[serde(rename = "_SYSTEMD_UNIT")]
    systemd_unit: Option<serde_json::Value>,
    #[serde(rename = "__REALTIME_TIMESTAMP")]
    realtime_timestamp: Option<serde_json::Value>,
}

/// Parses one line of `journalctl -o json`; `None` if it is not an object with a cursor.
fn parse_entry(line: &[u8]) -> Option<JournalRecord> {
    let raw: RawEntry = serde_json::from_slice(line).ok()?;
    let cursor = raw.cursor.as_ref().and_then(text)?;
    Some(JournalRecord {
        cursor,
        message: raw.message.as_ref().and_then(text).unwrap_or_default(),
        hostname: raw.hostname.as_ref().and_then(text),
        syslog_identifier: raw.syslog_identifier.as_ref().and_then(text),
        pid: number(&raw.pid),
        priority: number(&raw.priority),
        systemd_unit: raw.systemd_unit.as_ref().and_then(text),
        realtime_timestamp: number(&raw.realtime_timestamp),
    })
}

/// A journal field value parsed as a number (journalctl writes numbers as strings).
fn number<T: std::str::FromStr>(value: &Option<serde_json::Value>) -> Option<T> {
    value.as_ref().and_then(text)?.trim().parse().ok()
}

/// A journal field value as text: a string, bytes (lossy UTF-8), or several values joined by
/// newlines.
fn text(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Array(items) if items.iter().all(Value::is_u64) => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|item| item.as_u64().and_then(|byte| u8::try_from(byte).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes?).into_owned())
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(text).collect();
            (!parts.is_empty()).then(|| parts.join("\n"))
        }
        Value::Null | Value::Bool(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const FULL_ENTRY: &str = r#"{"__CURSOR":"s=abc;i=1f;b=d1;m=5;t=61;x=99","__REALTIME_TIMESTAMP":"1715000000123456","__MONOTONIC_TIMESTAMP":"5","_BOOT_ID":"d1","PRIORITY":"3","_UID":"0","SYSLOG_FACILITY":"4","SYSLOG_IDENTIFIER":"sshd","_PID":"812","_COMM":"sshd","_SYSTEMD_UNIT":"ssh.service","MESSAGE":"Failed password for root from 203.0.113.9 port 2222 ssh2","_HOSTNAME":"web-01"}"#;

    #[test]
    fn entry_keeps_the_shipped_fields() {
        let record = parse_entry(FULL_ENTRY.as_bytes()).unwrap();
        assert_eq!(
            record,
            JournalRecord {
                cursor: "s=abc;i=1f;b=d1;m=5;t=61;x=99".into(),
                message: "Failed password for root from 203.0.113.9 port 2222 ssh2".into(),
                hostname: Some("web-01".into()),
                syslog_identifier: Some("sshd".into()),
                pid: Some(812),
                priority: Some(3),
                systemd_unit: Some("ssh.service".into()),
                realtime_timestamp: Some(1_715_000_000_123_456),
            }
        );
    }

    #[test]
    fn entry_with_binary_repeated_or_missing_fields() {
        let line = r#"{"__CURSOR":"c2","MESSAGE":[104,105,255,10],"_HOSTNAME":["a","b"],"_PID":"x"}"#;
        let record = parse_entry(line.as_bytes()).unwrap();
        assert_eq!(record.message, "hi\u{FFFD}\n");
        assert_eq!(record.hostname.as_deref(), Some("a\nb"));
        assert_eq!(
            (record.pid, record.priority, record.systemd_unit),
            (None, None, None)
        );
        let record = parse_entry(br#"{"__CURSOR":"c3","MESSAGE":null}"#).unwrap();
        assert_eq!(record.message, "");
    }

    #[test]
    fn lines_without_cursor_or_json_are_rejected() {
        assert!(parse_entry(br#"{"MESSAGE":"no cursor"}"#).is_none());
        assert!(parse_entry(b"-- No entries --").is_none());
        assert!(parse_entry(br#"["not", "an", "object"]"#).is_none());
    }

    #[test]
    fn arguments_follow_the_cursor_or_the_start_position() {
        let mut config = JournaldConfig::default();
        let cursor_arguments = arguments(&config, Some("s=abc;i=1f"));
        assert!(cursor_arguments.contains(&"--after-cursor=s=abc;i=1f".to_owned()));
        assert!(cursor_arguments.contains(&"--no-tail".to_owned()));
        for required in ["--output=json", "--follow", "--all"] {
            assert!(cursor_arguments.contains(&required.to_owned()));
        }
        assert!(arguments(&config, None).contains(&"--no-tail".to_owned()));
        config.start_at = StartAt::End;
        config.units = vec!["ssh.service".into()];
        let end_arguments = arguments(&config, None);
        assert!(end_arguments.contains(&"--lines=0".to_owned()));
        assert!(end_arguments.contains(&"--unit=ssh.service".to_owned()));
        assert!(
            !end_arguments
                .iter()
                .any(|argument| argument.starts_with("--after-cursor"))
        );
        // A saved cursor wins over the start position.
        assert!(
            arguments(&config, Some("c"))
                .iter()
                .any(|argument| argument == "--after-cursor=c")
        );
    }

    #[test]
    fn missing_journalctl_is_a_clear_error() {
        let config = JournaldConfig {
            journalctl_path: PathBuf::from("/nonexistent/bin/journalctl"),
            ..JournaldConfig::default()
        };
        let error = JournaldSource::new(config, None).unwrap_err();
        assert!(matches!(error, SourceError::JournalctlMissing { .. }), "{error}");
        assert!(error.to_string().contains("/nonexistent/bin/journalctl"));
        let error = JournaldSource::new(JournaldConfig::default(), Some("bad\ncursor".into())).unwrap_err();
        assert!(matches!(error, SourceError::InvalidCursor));
    }

    fn start(config: &JournaldConfig, cursor: Option<&str>) -> JournaldSource {
        // Another test's fork can briefly hold a just-written script open ("text file busy").
        for _ in 0..50 {
            match JournaldSource::new(config.clone(), cursor.map(str::to_owned)) {
                Err(SourceError::JournalctlSpawn { source, .. })
                    if source.kind() == io::ErrorKind::ExecutableFileBusy =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                result => return result.unwrap(),
            }
        }
        panic!("journalctl script stays busy");
    }

    /// Polls until `wanted` records came or the source fails, for at most ten seconds.
    fn poll_until(source: &mut JournaldSource, wanted: usize) -> (Vec<JournalRecord>, Option<SourceError>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut records = Vec::new();
        while records.len() < wanted && Instant::now() < deadline {
            match source.poll(2) {
                Ok(batch) if batch.is_empty() => std::thread::sleep(Duration::from_millis(10)),
                Ok(batch) => records.extend(batch),
                Err(error) => return (records, Some(error)),
            }
        }
        (records, None)
    }

    #[test]
    fn fake_journalctl_is_followed_and_resumed_from_the_cursor() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let base = directory.path();
        let oversized = format!(r#"{{"__CURSOR":"big","MESSAGE":"{}"}}"#, "x".repeat(5000));
        let canned = format!(
            "{FULL_ENTRY}\nnot json\n{oversized}\n{}\n",
            r#"{"__CURSOR":"second","MESSAGE":"two"}"#
        );
        std::fs::write(base.join("entries.json"), canned).unwrap();
        std::fs::write(
            base.join("after.json"),
            "{\"__CURSOR\":\"third\",\"MESSAGE\":\"three\"}\n",
        )
        .unwrap();
        let follow = base.join("follow.sh");
        let exits = base.join("exits.sh");
        let base_text = base.display();
        std::fs::write(
            &follow,
            format!("#!/bin/sh\necho \"$@\" > {base_text}/follow.args\ncat {base_text}/entries.json\nexec sleep 30\n"),
        )
        .unwrap();
        std::fs::write(
            &exits,
            format!(
                "#!/bin/sh\necho \"$@\" > {base_text}/exits.args\ncat {base_text}/after.json\n\
                 echo 'Failed to seek to cursor: Invalid argument' >&2\nexit 1\n"
            ),
        )
        .unwrap();
        for script in [&follow, &exits] {
            std::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        let mut config = JournaldConfig {
            journalctl_path: follow,
            max_entry_bytes: 4096,
            ..JournaldConfig::default()
        };
        let mut source = start(&config, None);
        let (records, error) = poll_until(&mut source, 2);
        assert!(error.is_none(), "{error:?}");
        let messages: Vec<&str> = records.iter().map(|record| record.message.as_str()).collect();
        assert_eq!(
            messages,
            ["Failed password for root from 203.0.113.9 port 2222 ssh2", "two"]
        );
        assert_eq!(source.cursor(), Some("second"));
        let stats = source.stats();
        assert_eq!(
            (
                stats.entries_read,
                stats.parse_errors,
                stats.oversized_entries,
                stats.records_returned
            ),
            (4, 1, 1, 2)
        );
        let cursor = source.cursor().map(str::to_owned);
        drop(source); // kills the follower
        let follow_arguments = std::fs::read_to_string(base.join("follow.args")).unwrap();
        assert!(follow_arguments.contains("--no-tail") && !follow_arguments.contains("--after-cursor"));

        config.journalctl_path = exits;
        let mut source = start(&config, cursor.as_deref());
        let (records, error) = poll_until(&mut source, 2);
        assert_eq!(records.len(), 1);
        assert_eq!(
            (records[0].message.as_str(), source.cursor()),
            ("three", Some("third"))
        );
        let exits_arguments = std::fs::read_to_string(base.join("exits.args")).unwrap();
        assert!(
            exits_arguments.contains("--after-cursor=second"),
            "{exits_arguments}"
        );
        match error {
            Some(SourceError::JournalctlExited { status, stderr }) => {
                assert!(status.contains('1'), "{status}");
                assert_eq!(stderr, "Failed to seek to cursor: Invalid argument");
            }
            other => panic!("expected the exit to be reported, got {other:?}"),
        }
        assert!(matches!(
            source.poll(10),
            Err(SourceError::JournalctlExited { .. })
        ));
    }

    /// Runs against this host's journal: `cargo test -p haidang-agent -- --ignored journal`.
    #[test]
    #[ignore = "needs a running systemd journal with entries"]
    fn real_journal_resumes_after_its_cursor() {
        let mut source = JournaldSource::new(JournaldConfig::default(), None).unwrap();
        let (records, error) = poll_until(&mut source, 3);
        assert!(error.is_none(), "{error:?}");
        assert!(records.len() >= 2, "the journal needs at least two entries");
        assert!(records.iter().all(|record| !record.cursor.is_empty()));
        drop(source);
        let mut resumed =
            JournaldSource::new(JournaldConfig::default(), Some(records[0].cursor.clone())).unwrap();
        let (after, error) = poll_until(&mut resumed, 1);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(after[0].cursor, records[1].cursor);
    }
}
