//! Sources: where the agent's events come from.
//!
//! - [`FileSource`] tails the files named by glob patterns. It follows rotation by rename (the old
//!   file is drained before it is forgotten) and by copy-and-truncate, recognises a file by device,
//!   inode and a fingerprint of its first bytes (so a reused inode is a new file), optionally joins
//!   multi-line records ([`MultilineConfig`]) and reports, per file, a [`FileCheckpoint`]: the
//!   position just after the last record it returned. Saving checkpoints with
//!   [`save_checkpoints`] and passing them back to [`FileSource::new`] resumes exactly there.
//! - [`JournaldSource`] follows the systemd journal through a `journalctl -o json --follow` child
//!   process; its checkpoint is the journal cursor of the last entry it returned.
//!
//! Both are synchronous and polled: `poll` never blocks and returns what is available now, so
//! the caller decides when a record is durable (spooled) before it saves the checkpoints.

mod checkpoint;
mod discover;
mod file;
mod journald;
mod multiline;

pub use checkpoint::{FileCheckpoint, load_checkpoints, save_checkpoints};
pub use file::{FileRecord, FileSource, FileSourceConfig, FileSourceStats};
pub use journald::{JournalRecord, JournaldConfig, JournaldSource, JournaldStats};
pub use multiline::MultilineConfig;

/// Where a source starts when it has no checkpoint for a file (or for the journal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartAt {
    /// Read everything already there.
    #[default]
    Beginning,
    /// Read only what is written from now on.
    End,
}

/// Errors building a source. Problems with one file while running are counted in the source's
/// stats instead, so that one bad file never stops the others.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An include or exclude pattern is not a valid glob.
    #[error("invalid glob pattern {pattern:?}: {source}")]
    InvalidGlob {
        /// The pattern as configured.
        pattern: String,
        /// What the glob parser said.
        source: globset::Error,
    },
    /// A glob pattern is relative; patterns must be absolute paths.
    #[error("glob pattern {pattern:?} is not an absolute path")]
    RelativeGlob {
        /// The pattern as configured.
        pattern: String,
    },
    /// The file source was given no include pattern.
    #[error("the file source has no include pattern")]
    NoInclude,
    /// The multi-line start pattern is not a valid regular expression.
    #[error("invalid multi-line start pattern {pattern:?}: {source}")]
    InvalidStartPattern {
        /// The pattern as configured.
        pattern: String,
        /// What the regex parser said.
        source: regex::Error,
    },
    /// A size or count setting that must be positive is zero.
    #[error("{setting} must be greater than zero")]
    ZeroSetting {
        /// The setting's name.
        setting: &'static str,
    },
    /// `journalctl` could not be found at the configured path.
    #[error("journalctl not found at {path:?}: is systemd's journal available on this host?")]
    JournalctlMissing {
        /// The program path tried.
        path: String,
    },
    /// `journalctl` could not be started for another reason.
    #[error("cannot start journalctl at {path:?}: {source}")]
    JournalctlSpawn {
        /// The program path tried.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `journalctl` exited; the source must be created again (from its cursor) to continue.
    #[error("journalctl exited ({status}): {stderr}")]
    JournalctlExited {
        /// Its exit status, as text.
        status: String,
        /// The end of what it wrote to standard error.
        stderr: String,
    },
    /// A saved journal cursor cannot be passed to journalctl (it contains a control character).
    #[error("invalid journal cursor (contains a control character)")]
    InvalidCursor,
}
