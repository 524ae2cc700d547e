//! Tailing files: discovery, identity, rotation, line splitting and checkpoints.
//!
//! A tracked file is identified by its device and inode while it is open (an open file's inode
//! cannot be reused), and by device, inode and a fingerprint of its first bytes across restarts.
//! Its handle stays open after it is renamed or deleted, so lines written after a rotation are
//! still read; once it has been quiet for `drain_timeout` it is forgotten.
//!
//! Each file keeps three positions: `read_offset` (bytes read so far), the start of the line being
//! assembled, and `committed` (just after the last record `poll` returned). Only `committed` goes
//! into checkpoints, so an unfinished line, a multi-line record still open, or a record read but
//! not yet returned is read again after a restart.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::checkpoint::{FileCheckpoint, Fingerprint};
use super::discover::{Matcher, is_compressed};
use super::multiline::{Joiner, MultilineConfig};
use super::{SourceError, StartAt};

/// How much one read asks for.
const CHUNK_BYTES: usize = 64 * 1024;
/// How much one file may read in one poll, so that a large backlog does not starve other files.
const READ_BUDGET_BYTES: usize = 1024 * 1024;

/// What the file source tails and how.
#[derive(Clone, Debug)]
pub struct FileSourceConfig {
    /// Absolute glob patterns of the files to tail (`*` does not cross `/`; `**` does).
    pub include: Vec<String>,
    /// Absolute glob patterns of files not to tail, even if an include pattern names them.
    pub exclude: Vec<String>,
    /// Where files with no checkpoint start when the source is created. Files that appear later
    /// are new and are read from their beginning, and so is a file at a path a checkpoint names
    /// (it replaced the file that was there: a rotation while the agent was stopped).
    pub start_at: StartAt,
    /// How lines are joined into multi-line records; `None` means one record per line.
    pub multiline: Option<MultilineConfig>,
    /// How many leading bytes identify a file (with its device and inode).
    pub fingerprint_bytes: usize,
    /// Lines longer than this are split into pieces of at most this many bytes (cut at a UTF-8
    /// character boundary when possible); every piece is a record, none is dropped.
    pub max_line_bytes: usize,
    /// How often the glob patterns are evaluated again to find new and rotated files.
    pub rescan_interval: Duration,
    /// How long a renamed or deleted file is kept open after it last grew. Then its unfinished
    /// last line, if any, is emitted as a record and the file is forgotten.
    pub drain_timeout: Duration,
}

impl FileSourceConfig {
    /// Default number of bytes fingerprinted.
    pub const DEFAULT_FINGERPRINT_BYTES: usize = 256;
    /// Default maximum line length, the collector's default too.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 65_536;
    /// Default time between two evaluations of the glob patterns.
    pub const DEFAULT_RESCAN_INTERVAL: Duration = Duration::from_secs(1);
    /// Default time a rotated-away file is kept open after it last grew.
    pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

    /// A configuration tailing `include`, with the defaults for everything else.
    pub fn new(include: Vec<String>) -> Self {
        Self {
            include,
            exclude: Vec::new(),
            start_at: StartAt::Beginning,
            multiline: None,
            fingerprint_bytes: Self::DEFAULT_FINGERPRINT_BYTES,
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
            rescan_interval: Self::DEFAULT_RESCAN_INTERVAL,
            drain_timeout: Self::DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

/// One record: a line, or the lines of one multi-line record joined with `\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRecord {
    /// The path the file was read at (a rotated file keeps the name it was tailed under unless
    /// an include pattern also names its new name).
    pub path: String,
    /// The line without its line ending (`\n` or `\r\n`), as lossy UTF-8.
    pub text: String,
    /// The byte offset of the record's first byte in the file.
    pub offset: u64,
}

/// Counters and current state of a file source, for health reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileSourceStats {
    /// Files currently tracked, including rotated-away files still being drained.
    pub files_watched: usize,
    /// Of those, files renamed or deleted and still being drained.
    pub files_draining: usize,
    /// Files the patterns name that cannot be opened, with the error, e.g. permission denied.
    pub files_unreadable: Vec<String>,
    /// Complete lines read (a line split into pieces counts once).
    pub lines_read: u64,
    /// Records returned by `poll`.
    pub records_returned: u64,
    /// Bytes read from files.
    pub bytes_read: u64,
    /// Times a file shrank below the read position or its first bytes changed (copy-and-truncate
    /// rotation, or rewritten in place); reading restarted at 0.
    pub truncations: u64,
    /// Times a tracked file was no longer at its path (renamed or deleted).
    pub rotations: u64,
    /// Checkpoints whose device and inode were found with different first bytes (the inode was
    /// reused by a new file), so the file was read from 0.
    pub fingerprint_mismatches: u64,
    /// Pieces emitted for lines longer than `max_line_bytes`.
    pub lines_split: u64,
    /// Unfinished last lines emitted because their file was rotated away, drained, or truncated.
    pub partial_lines_flushed: u64,
    /// Times a file could not be opened (counted once until it becomes readable or goes away).
    pub open_errors: u64,
    /// Failed reads or metadata queries on open files.
    pub read_errors: u64,
}

/// A record assembled but not yet returned, with the offset just after it.
#[derive(Debug)]
pub(super) struct Ready {
    pub(super) text: String,
    pub(super) offset: u64,
    pub(super) end: u64,
}

/// Tails the files named by glob patterns. See the module documentation.
#[derive(Debug)]
pub struct FileSource {
    config: FileSourceConfig,
    matcher: Matcher,
    files: Vec<Tracked>,
    /// Paths that could not be opened, with the error, until they can or they go away.
    unreadable: BTreeMap<PathBuf, String>,
    next_scan: Instant,
    /// Where the next poll starts among `files`, so that every file gets its turn.
    cursor: usize,
    buffer: Vec<u8>,
    stats: FileSourceStats,
    /// Paths whose opening fails with "permission denied", for tests run as root.
    #[cfg(test)]
    denied: Vec<PathBuf>,
}

#[derive(Debug)]
struct Tracked {
    path: PathBuf,
    /// `path` as lossy UTF-8, for records and checkpoints.
    name: String,
    file: File,
    device: u64,
    inode: u64,
    fingerprint: Fingerprint,
    /// Next byte to read.
    read_offset: u64,
    /// The line being assembled (no newline seen yet) and where it starts.
    line: Vec<u8>,
    line_start: u64,
    joiner: Joiner,
    ready: VecDeque<Ready>,
    /// Just after the last returned record: the checkpoint.
    committed: u64,
    /// While records read before a truncation are still queued, the fingerprint of that older
    /// content: `committed` still refers to it.
    previous_fingerprint: Option<Fingerprint>,
    /// The last read found no more data.
    at_eof: bool,
    last_growth: Instant,
    /// When the file was found renamed or deleted.
    rotated_at: Option<Instant>,
    /// The first bytes changed: read again from 0.
    force_reset: bool,
    /// Rotated away, quiet and flushed: forget it once `ready` is empty.
    drained: bool,
}

impl FileSource {
    /// Builds the source and finds the files the patterns name now. A file with a checkpoint
    /// whose device, inode and fingerprint match resumes at the checkpoint; a checkpointed file
    /// renamed since (found by device and inode in its directory) is drained from its checkpoint.
    pub fn new(config: FileSourceConfig, checkpoints: Vec<FileCheckpoint>) -> Result<Self, SourceError> {
        Self::new_at(config, checkpoints, Instant::now())
    }

    fn new_at(
        config: FileSourceConfig,
        checkpoints: Vec<FileCheckpoint>,
        now: Instant,
    ) -> Result<Self, SourceError> {
        if config.fingerprint_bytes == 0 {
            return Err(SourceError::ZeroSetting {
                setting: "fingerprint_bytes",
            });
        }
        if config.max_line_bytes == 0 {
            return Err(SourceError::ZeroSetting {
                setting: "max_line_bytes",
            });
        }
        if let Some(multiline) = &config.multiline {
            multiline.validate()?;
        }
        let matcher = Matcher::new(&config.include, &config.exclude)?;
        let mut source = Self {
            next_scan: now + config.rescan_interval,
            config,
            matcher,
            files: Vec::new(),
            unreadable: BTreeMap::new(),
            cursor: 0,
            buffer: vec![0; CHUNK_BYTES],
            stats: FileSourceStats::default(),
            #[cfg(test)]
            denied: Vec::new(),
        };
        source.initial_scan(checkpoints, now);
        Ok(source)
    }

    /// Returns up to `max` complete records available now, without blocking (possibly none).
    /// Records from one file are in file order. Problems with single files are counted in
    /// [`FileSource::stats`], not returned: one unreadable file never stops the others.
    pub fn poll(&mut self, max: usize) -> io::Result<Vec<FileRecord>> {
        self.poll_at(max, Instant::now())
    }

    /// [`FileSource::poll`] with the current time given, for callers with their own clock.
    pub fn poll_at(&mut self, max: usize, now: Instant) -> io::Result<Vec<FileRecord>> {
        if now >= self.next_scan {
            self.rescan(now);
            self.next_scan = now + self.config.rescan_interval;
        }
        let mut out = Vec::new();
        let count = self.files.len();
        if count == 0 || max == 0 {
            return Ok(out);
        }
        let Self {
            config,
            files,
            buffer,
            stats,
            cursor,
            ..
        } = self;
        for step in 0..count {
            if out.len() >= max {
                break;
            }
            let tracked = &mut files[(*cursor + step) % count];
            tracked.fill(max - out.len(), config, buffer, stats, now);
            tracked.expire(config, stats, now);
            tracked.take(max - out.len(), &mut out);
        }
        *cursor = (*cursor + 1) % count;
        files.retain(|tracked| !(tracked.drained && tracked.ready.is_empty()));
        stats.records_returned += out.len() as u64;
        Ok(out)
    }

    /// For every tracked file (rotated-away files still being drained included), the position
    /// just after the last record `poll` returned. Passed to [`FileSource::new`], they resume
    /// exactly there: no line repeated, none skipped.
    pub fn checkpoints(&self) -> Vec<FileCheckpoint> {
        self.files
            .iter()
            .map(|tracked| {
                let fingerprint = tracked.previous_fingerprint.unwrap_or(tracked.fingerprint);
                FileCheckpoint {
                    path: tracked.name.clone(),
                    device: tracked.device,
                    inode: tracked.inode,
                    fingerprint: fingerprint.hash,
                    fingerprint_len: fingerprint.len,
                    offset: tracked.committed,
                }
            })
            .collect()
    }

    /// Counters and the current state.
    pub fn stats(&self) -> FileSourceStats {
        let mut stats = self.stats.clone();
        stats.files_watched = self.files.len();
        stats.files_draining = self
            .files
            .iter()
            .filter(|tracked| tracked.rotated_at.is_some())
            .count();
        stats.files_unreadable = self
            .unreadable
            .iter()
            .map(|(path, error)| format!("{}: {error}", path.display()))
            .collect();
        stats
    }

    fn initial_scan(&mut self, checkpoints: Vec<FileCheckpoint>, now: Instant) {
        let known_paths: HashSet<String> = checkpoints
            .iter()
            .map(|checkpoint| checkpoint.path.clone())
            .collect();
        let mut by_identity: HashMap<(u64, u64), FileCheckpoint> = checkpoints
            .into_iter()
            .map(|checkpoint| ((checkpoint.device, checkpoint.inode), checkpoint))
            .collect();
        for found in self.matcher.discover() {
            let identity = (found.metadata.dev(), found.metadata.ino());
            if self.is_tracked(identity) {
                continue; // another name (hard link, symbolic link) of a file already tracked
            }
            let Some(file) = self.open(&found.path) else {
                continue;
            };
            let start = match by_identity.remove(&identity) {
                Some(checkpoint) => self.resume_offset(&file, &checkpoint),
                None if known_paths.contains(&*found.path.to_string_lossy()) => Some(0),
                None => match self.config.start_at {
                    StartAt::Beginning => Some(0),
                    StartAt::End => self.length(&file),
                },
            };
            if let Some(start) = start {
                self.track(found.path, file, identity, start, now, None);
            }
        }
        // Checkpointed files not found under the patterns were probably renamed by a rotation
        // while the agent was stopped: finish them from their checkpoint. A file there with the
        // same inode but other first bytes is not ours (the inode was reused): left alone.
        for checkpoint in by_identity.into_values() {
            if let Some((path, file)) = self.find_renamed(&checkpoint)
                && let Some(start) = self.resume_offset(&file, &checkpoint)
            {
                let identity = (checkpoint.device, checkpoint.inode);
                self.track(path, file, identity, start, now, Some(now));
            }
        }
    }

    /// Where a checkpointed file resumes: its offset if the file still starts with the
    /// fingerprinted bytes and is long enough, else 0 (counted). `None` if it cannot be read.
    fn resume_offset(&mut self, file: &File, checkpoint: &FileCheckpoint) -> Option<u64> {
        let fingerprint = Fingerprint {
            hash: checkpoint.fingerprint,
            len: checkpoint.fingerprint_len,
        };
        let matches = match fingerprint.matches(file) {
            Ok(matches) => matches,
            Err(_) => {
                self.stats.read_errors += 1;
                return None;
            }
        };
        if !matches {
            self.stats.fingerprint_mismatches += 1;
            return Some(0);
        }
        let length = self.length(file)?;
        if checkpoint.offset > length {
            self.stats.truncations += 1;
            return Some(0);
        }
        Some(checkpoint.offset)
    }

    /// The file with the checkpoint's device, inode and fingerprint in the checkpoint path's
    /// directory, if it is still there under another (not compressed) name.
    fn find_renamed(&mut self, checkpoint: &FileCheckpoint) -> Option<(PathBuf, File)> {
        let directory = Path::new(&checkpoint.path).parent()?;
        let entries = std::fs::read_dir(directory).ok()?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = std::fs::metadata(&path) else {
                continue;
            };
            if metadata.is_file()
                && (metadata.dev(), metadata.ino()) == (checkpoint.device, checkpoint.inode)
                && !is_compressed(&path)
            {
                let file = self.open(&path)?;
                let fingerprint = Fingerprint {
                    hash: checkpoint.fingerprint,
                    len: checkpoint.fingerprint_len,
                };
                return fingerprint
                    .matches(&file)
                    .unwrap_or(false)
                    .then_some((path, file));
            }
        }
        None
    }

    fn rescan(&mut self, now: Instant) {
        let mut seen = HashSet::new();
        let mut present = HashSet::new();
        for found in self.matcher.discover() {
            let identity = (found.metadata.dev(), found.metadata.ino());
            present.insert(found.path.clone());
            if !seen.insert(identity) {
                continue;
            }
            if let Some(tracked) = self
                .files
                .iter_mut()
                .find(|tracked| (tracked.device, tracked.inode) == identity)
            {
                if tracked.path != found.path {
                    tracked.name = found.path.to_string_lossy().into_owned();
                    tracked.path = found.path;
                }
                // Visible under a watched name again (an include pattern names the rotated name).
                tracked.rotated_at = None;
                tracked.drained = false;
                continue;
            }
            if let Some(file) = self.open(&found.path) {
                self.track(found.path, file, identity, 0, now, None);
            }
        }
        self.unreadable.retain(|path, _| present.contains(path));
        for tracked in &mut self.files {
            if !seen.contains(&(tracked.device, tracked.inode)) {
                if tracked.rotated_at.is_none() {
                    tracked.rotated_at = Some(now);
                    self.stats.rotations += 1;
                }
            } else {
                tracked.check_fingerprint(&mut self.stats);
            }
        }
    }

    fn is_tracked(&self, identity: (u64, u64)) -> bool {
        self.files
            .iter()
            .any(|tracked| (tracked.device, tracked.inode) == identity)
    }

    fn open(&mut self, path: &Path) -> Option<File> {
        match self.open_file(path) {
            Ok(file) => {
                self.unreadable.remove(path);
                Some(file)
            }
            Err(error) => {
                if self
                    .unreadable
                    .insert(path.to_path_buf(), error.to_string())
                    .is_none()
                {
                    self.stats.open_errors += 1;
                }
                None
            }
        }
    }

    #[cfg(not(test))]
    fn open_file(&self, path: &Path) -> io::Result<File> {
        File::open(path)
    }

    #[cfg(test)]
    fn open_file(&self, path: &Path) -> io::Result<File> {
        if self.denied.iter().any(|denied| denied == path) {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        File::open(path)
    }

    fn length(&mut self, file: &File) -> Option<u64> {
        match file.metadata() {
            Ok(metadata) => Some(metadata.len()),
            Err(_) => {
                self.stats.read_errors += 1;
                None
            }
        }
    }

    fn track(
        &mut self,
        path: PathBuf,
        file: File,
        (device, inode): (u64, u64),
        start: u64,
        now: Instant,
        rotated_at: Option<Instant>,
    ) {
        let fingerprint = match Fingerprint::of(&file, self.config.fingerprint_bytes) {
            Ok(fingerprint) => fingerprint,
            Err(_) => {
                self.stats.read_errors += 1;
                return;
            }
        };
        self.files.push(Tracked {
            name: path.to_string_lossy().into_owned(),
            path,
            file,
            device,
            inode,
            fingerprint,
            read_offset: start,
            line: Vec::new(),
            line_start: start,
            joiner: Joiner::default(),
            ready: VecDeque::new(),
            committed: start,
            previous_fingerprint: None,
            at_eof: false,
            last_growth: now,
            rotated_at,
            force_reset: false,
            drained: false,
        });
    }
}

impl Tracked {
    /// Reads until `wanted` records are ready, the file has no more data, or the read budget
    /// is spent.
    fn fill(
        &mut self,
        wanted: usize,
        config: &FileSourceConfig,
        buffer: &mut [u8],
        stats: &mut FileSourceStats,
        now: Instant,
    ) {
        if self.drained || self.ready.len() >= wanted {
            return;
        }
        // Truncation is handled only once the records of the older content are all returned,
        // so that `committed` always refers to one content.
        if self.ready.is_empty() && self.previous_fingerprint.is_none() {
            let Ok(metadata) = self.file.metadata() else {
                stats.read_errors += 1;
                return;
            };
            if metadata.len() < self.read_offset || self.force_reset {
                self.restart_from_zero(config, stats, now);
            }
        }
        if self.previous_fingerprint.is_some() {
            return;
        }
        let mut budget = READ_BUDGET_BYTES;
        while self.ready.len() < wanted && budget > 0 {
            let read = match self.file.read_at(buffer, self.read_offset) {
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    stats.read_errors += 1;
                    return;
                }
            };
            if read == 0 {
                self.at_eof = true;
                break;
            }
            self.at_eof = false;
            self.last_growth = now;
            budget = budget.saturating_sub(read);
            stats.bytes_read += read as u64;
            let start = self.read_offset;
            self.read_offset += read as u64;
            self.consume(&buffer[..read], start, config, stats, now);
            if (self.fingerprint.len as usize) < config.fingerprint_bytes
                && self.read_offset > u64::from(self.fingerprint.len)
            {
                match Fingerprint::of(&self.file, config.fingerprint_bytes) {
                    Ok(fingerprint) => self.fingerprint = fingerprint,
                    Err(_) => stats.read_errors += 1,
                }
            }
        }
    }

    /// Splits `bytes` (read at `offset`) into lines.
    fn consume(
        &mut self,
        bytes: &[u8],
        offset: u64,
        config: &FileSourceConfig,
        stats: &mut FileSourceStats,
        now: Instant,
    ) {
        let mut position = 0;
        while position < bytes.len() {
            let rest = &bytes[position..];
            match memchr::memchr(b'\n', rest) {
                Some(index) => {
                    self.line.extend_from_slice(&rest[..index]);
                    self.split_long_line(config, stats, now);
                    let end = offset + (position + index + 1) as u64;
                    let line = std::mem::take(&mut self.line);
                    let content = line.strip_suffix(b"\r").unwrap_or(&line);
                    self.emit(content, self.line_start, end, config, now);
                    self.line = line;
                    self.line.clear();
                    self.line_start = end;
                    stats.lines_read += 1;
                    position += index + 1;
                }
                None => {
                    self.line.extend_from_slice(rest);
                    self.split_long_line(config, stats, now);
                    position = bytes.len();
                }
            }
        }
    }

    /// Emits pieces of the line being assembled while it is longer than `max_line_bytes`.
    fn split_long_line(&mut self, config: &FileSourceConfig, stats: &mut FileSourceStats, now: Instant) {
        while self.line.len() > config.max_line_bytes {
            let cut = character_boundary(&self.line, config.max_line_bytes);
            let piece: Vec<u8> = self.line.drain(..cut).collect();
            let end = self.line_start + cut as u64;
            self.emit(&piece, self.line_start, end, config, now);
            self.line_start = end;
            stats.lines_split += 1;
        }
    }

    fn emit(&mut self, line: &[u8], start: u64, end: u64, config: &FileSourceConfig, now: Instant) {
        match &config.multiline {
            Some(multiline) => self
                .joiner
                .push(multiline, line, start, end, now, &mut self.ready),
            None => self.ready.push_back(Ready {
                text: String::from_utf8_lossy(line).into_owned(),
                offset: start,
                end,
            }),
        }
    }

    /// Emits the unfinished last line and any open multi-line record.
    fn flush_partial(&mut self, config: &FileSourceConfig, stats: &mut FileSourceStats, now: Instant) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let end = self.line_start + line.len() as u64;
            self.emit(&line, self.line_start, end, config, now);
            self.line_start = end;
            stats.partial_lines_flushed += 1;
        }
        self.joiner.flush(&mut self.ready);
    }

    /// The file was truncated or rewritten: what was read of the old content is flushed and
    /// reading starts again at 0.
    fn restart_from_zero(&mut self, config: &FileSourceConfig, stats: &mut FileSourceStats, now: Instant) {
        self.flush_partial(config, stats, now);
        stats.truncations += 1;
        self.force_reset = false;
        self.read_offset = 0;
        self.line.clear();
        self.line_start = 0;
        self.joiner.clear();
        let old = self.fingerprint;
        match Fingerprint::of(&self.file, config.fingerprint_bytes) {
            Ok(fingerprint) => self.fingerprint = fingerprint,
            Err(_) => stats.read_errors += 1,
        }
        if self.ready.is_empty() {
            self.committed = 0;
        } else {
            self.previous_fingerprint = Some(old);
        }
    }

    /// Marks the file for a restart from 0 if its first bytes changed while it kept (or regained)
    /// a size beyond the read position. A shrunk file is left to `fill`'s truncation check.
    fn check_fingerprint(&mut self, stats: &mut FileSourceStats) {
        let Ok(metadata) = self.file.metadata() else {
            stats.read_errors += 1;
            return;
        };
        if metadata.len() < self.read_offset {
            return;
        }
        match self.fingerprint.matches(&self.file) {
            Ok(true) => {}
            Ok(false) => self.force_reset = true,
            Err(_) => stats.read_errors += 1,
        }
    }

    /// Applies the multi-line timeout, and finishes a rotated-away file that has been quiet for
    /// `drain_timeout`.
    fn expire(&mut self, config: &FileSourceConfig, stats: &mut FileSourceStats, now: Instant) {
        if self.drained || !self.at_eof {
            return;
        }
        let multiline_due = config
            .multiline
            .as_ref()
            .is_some_and(|multiline| self.joiner.timed_out(multiline, now));
        let drain_due = self.rotated_at.is_some_and(|rotated_at| {
            now.saturating_duration_since(rotated_at.max(self.last_growth)) >= config.drain_timeout
        });
        if !multiline_due && !drain_due {
            return;
        }
        // `at_eof` is from the last read, which may be older than this poll: make sure no data
        // arrived since, or it would be cut from the record or lost with the file.
        match self.file.metadata() {
            Ok(metadata) if metadata.len() == self.read_offset => {}
            Ok(_) => return,
            Err(_) => {
                stats.read_errors += 1;
                return;
            }
        }
        if drain_due {
            self.flush_partial(config, stats, now);
            self.drained = true;
        } else {
            self.joiner.flush(&mut self.ready);
        }
    }

    /// Moves up to `max` ready records to `out`, advancing the checkpoint.
    fn take(&mut self, max: usize, out: &mut Vec<FileRecord>) {
        for _ in 0..max {
            let Some(ready) = self.ready.pop_front() else {
                break;
            };
            self.committed = ready.end;
            out.push(FileRecord {
                path: self.name.clone(),
                text: ready.text,
                offset: ready.offset,
            });
        }
        if self.ready.is_empty() && self.previous_fingerprint.take().is_some() {
            // Every record of the content before the truncation is returned.
            self.committed = 0;
        }
    }
}

/// The largest cut at or before `limit` that does not split a UTF-8 character, looking back at
/// most three bytes (the longest continuation); `limit` itself if there is none.
fn character_boundary(bytes: &[u8], limit: usize) -> usize {
    let is_continuation = |index: usize| bytes.get(index).is_some_and(|byte| byte & 0xC0 == 0x80);
    (limit.saturating_sub(3)..=limit)
        .rev()
        .find(|&cut| cut > 0 && !is_continuation(cut))
        .unwrap_or(limit)
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;

    use super::*;
    use crate::source::{load_checkpoints, save_checkpoints};

    const SECOND: Duration = Duration::from_secs(1);

    fn config_for(pattern: String) -> FileSourceConfig {
        let mut config = FileSourceConfig::new(vec![pattern]);
        config.rescan_interval = Duration::ZERO;
        config
    }

    fn logs_in(directory: &Path) -> FileSourceConfig {
        config_for(format!("{}/*.log", directory.display()))
    }

    fn append(path: &Path, bytes: &[u8]) {
        let mut file = OpenOptions::new().append(true).create(true).open(path).unwrap();
        file.write_all(bytes).unwrap();
    }

    fn texts(records: &[FileRecord]) -> Vec<&str> {
        records.iter().map(|record| record.text.as_str()).collect()
    }

    /// Polls until nothing more comes.
    fn poll_all(source: &mut FileSource, now: Instant) -> Vec<FileRecord> {
        let mut all = Vec::new();
        loop {
            let records = source.poll_at(1000, now).unwrap();
            if records.is_empty() {
                return all;
            }
            all.extend(records);
        }
    }

    fn restart(source: FileSource, config: FileSourceConfig, now: Instant) -> FileSource {
        let checkpoints = source.checkpoints();
        drop(source);
        FileSource::new_at(config, checkpoints, now).unwrap()
    }

    #[test]
    fn include_exclude_and_files_appearing_later() {
        let directory = tempfile::tempdir().unwrap();
        let base = directory.path();
        append(&base.join("app.log"), b"app\n");
        append(&base.join("debug.log"), b"debug\n");
        append(&base.join("notes.txt"), b"notes\n");
        let mut config = logs_in(base);
        config.exclude = vec![format!("{}/debug.*", base.display())];
        config.rescan_interval = 10 * SECOND;
        let now = Instant::now();
        let mut source = FileSource::new_at(config, Vec::new(), now).unwrap();
        assert_eq!(texts(&poll_all(&mut source, now)), ["app"]);

        append(&base.join("later.log"), b"later\n");
        assert!(
            poll_all(&mut source, now + SECOND).is_empty(),
            "not rescanned yet"
        );
        let records = poll_all(&mut source, now + 10 * SECOND);
        assert_eq!(texts(&records), ["later"]);
        assert_eq!(records[0].path, base.join("later.log").display().to_string());
        assert_eq!(source.stats().files_watched, 2);
    }

    #[test]
    fn compressed_rotated_files_are_ignored_even_when_matched() {
        let directory = tempfile::tempdir().unwrap();
        let base = directory.path();
        append(&base.join("app.log"), b"current\n");
        append(&base.join("app.log.1"), b"rotated\n");
        for name in [
            "app.log.2.gz",
            "app.log.3.bz2",
            "app.log.4.xz",
            "app.log.5.zst",
            "app.log.6.zip",
        ] {
            append(&base.join(name), b"compressed\n");
        }
        let config = config_for(format!("{}/app.log*", base.display()));
        let now = Instant::now();
        let mut source = FileSource::new_at(config, Vec::new(), now).unwrap();
        let mut seen = texts(&poll_all(&mut source, now))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        seen.sort();
        assert_eq!(seen, ["current", "rotated"]);
    }

    #[test]
    fn rename_rotation_drains_the_old_file_then_reads_the_new_one() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"one\ntwo\n");
        let config = logs_in(directory.path());
        let drain_timeout = config.drain_timeout;
        let now = Instant::now();
        let mut source = FileSource::new_at(config, Vec::new(), now).unwrap();
        assert_eq!(texts(&poll_all(&mut source, now)), ["one", "two"]);

        // The application keeps its handle open across the rename and writes once more.
        let mut writer = OpenOptions::new().append(true).open(&path).unwrap();
        std::fs::rename(&path, directory.path().join("app.log.1")).unwrap();
        writer.write_all(b"three\n").unwrap();
        append(&path, b"four\n");

        let now = now + SECOND;
        let records = poll_all(&mut source, now);
        let old: Vec<_> = records.iter().filter(|record| record.offset == 8).collect();
        let new: Vec<_> = records.iter().filter(|record| record.offset == 0).collect();
        assert_eq!(
            (records.len(), old[0].text.as_str(), new[0].text.as_str()),
            (2, "three", "four")
        );
        let stats = source.stats();
        assert_eq!(
            (stats.rotations, stats.files_watched, stats.files_draining),
            (1, 2, 1)
        );

        writer.write_all(b"five\n").unwrap();
        assert_eq!(texts(&poll_all(&mut source, now + SECOND)), ["five"]);
        assert_eq!(
            source.checkpoints().len(),
            2,
            "the draining file is checkpointed too"
        );

        // Quiet for the drain timeout: forgotten.
        assert!(poll_all(&mut source, now + SECOND + drain_timeout).is_empty());
        assert_eq!(source.stats().files_watched, 1);
        let checkpoints = source.checkpoints();
        assert_eq!((checkpoints.len(), checkpoints[0].offset), (1, 5));
    }

    #[test]
    fn rotated_file_is_finished_after_a_restart() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        for number in 1..=10 {
            append(&path, format!("line {number}\n").as_bytes());
        }
        let mut config = logs_in(directory.path());
        let now = Instant::now();
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        assert_eq!(
            texts(&source.poll_at(3, now).unwrap()),
            ["line 1", "line 2", "line 3"]
        );
        let checkpoints = source.checkpoints();
        drop(source);

        // Rotated while the agent was stopped; the new file must be read whole even though new
        // files start at the end: a checkpoint names its path.
        std::fs::rename(&path, directory.path().join("app.log.1")).unwrap();
        append(&path, b"new file\n");
        config.start_at = StartAt::End;
        let mut source = FileSource::new_at(config, checkpoints, now).unwrap();
        let records = poll_all(&mut source, now);
        let expected: Vec<String> = (4..=10).map(|number| format!("line {number}")).collect();
        let old: Vec<&str> = records
            .iter()
            .filter(|record| record.text.starts_with("line"))
            .map(|record| record.text.as_str())
            .collect();
        assert_eq!(old, expected);
        assert!(records.iter().any(|record| record.text == "new file"));
        assert_eq!(records.len(), 8);
    }

    #[test]
    fn copytruncate_restarts_from_zero_and_is_counted() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"first line\nsecond line\n");
        let now = Instant::now();
        let mut source = FileSource::new_at(logs_in(directory.path()), Vec::new(), now).unwrap();
        assert_eq!(poll_all(&mut source, now).len(), 2);

        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&path, b"after\n");
        let records = poll_all(&mut source, now + SECOND);
        assert_eq!(texts(&records), ["after"]);
        assert_eq!(records[0].offset, 0);
        assert_eq!(source.stats().truncations, 1);
        assert_eq!(source.checkpoints()[0].offset, 6);

        // Truncated and written past our position again before we looked: the first bytes
        // changed, so it is read from 0 too.
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&path, b"a much longer replacement line\n");
        let records = poll_all(&mut source, now + 2 * SECOND);
        assert_eq!(texts(&records), ["a much longer replacement line"]);
        assert_eq!(source.stats().truncations, 2);
    }

    #[test]
    fn truncation_flushes_the_unfinished_line_and_checkpoints_the_old_content_until_returned() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"one\ntwo\nthree\npart");
        let config = logs_in(directory.path());
        let now = Instant::now();
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        assert_eq!(texts(&source.poll_at(3, now).unwrap()), ["one", "two", "three"]);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&path, b"new\n");
        assert_eq!(texts(&source.poll_at(10, now).unwrap()), ["part"]);
        assert_eq!(source.stats().partial_lines_flushed, 1);
        // Every record of the old content is returned: the checkpoint moved to the new content.
        assert_eq!(source.checkpoints()[0].offset, 0);
        let mut source = restart(source, config, now);
        assert_eq!(texts(&poll_all(&mut source, now)), ["new"]);
    }

    #[test]
    fn reused_inode_with_other_first_bytes_is_a_new_file() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"brand new file\nsecond\n");
        let metadata = std::fs::metadata(&path).unwrap();
        // A checkpoint of the deleted file that had this inode before.
        let stale = FileCheckpoint {
            path: path.display().to_string(),
            device: metadata.dev(),
            inode: metadata.ino(),
            fingerprint: Fingerprint::of_test(b"old file conte"),
            fingerprint_len: 14,
            offset: 15,
        };
        let now = Instant::now();
        let mut source = FileSource::new_at(logs_in(directory.path()), vec![stale], now).unwrap();
        assert_eq!(texts(&poll_all(&mut source, now)), ["brand new file", "second"]);
        assert_eq!(source.stats().fingerprint_mismatches, 1);
    }

    #[test]
    fn growing_file_keeps_its_identity_across_restarts() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"a\n");
        let config = logs_in(directory.path());
        let now = Instant::now();
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        assert_eq!(texts(&poll_all(&mut source, now)), ["a"]);
        assert_eq!(source.checkpoints()[0].fingerprint_len, 2);
        append(&path, b"b\n");
        let mut source = restart(source, config.clone(), now);
        assert_eq!(texts(&poll_all(&mut source, now)), ["b"]);
        assert_eq!(
            source.checkpoints()[0].fingerprint_len,
            4,
            "the fingerprint grows with the file"
        );
        append(&path, "c".repeat(300).as_bytes());
        append(&path, b"\n");
        assert_eq!(poll_all(&mut source, now).len(), 1);
        assert_eq!(source.checkpoints()[0].fingerprint_len, 256);
        append(&path, b"d\n");
        let mut source = restart(source, config, now);
        assert_eq!(texts(&poll_all(&mut source, now)), ["d"]);
        assert_eq!(source.stats().fingerprint_mismatches, 0);
    }

    #[test]
    fn unfinished_last_line_waits_for_its_newline() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"abc");
        let config = logs_in(directory.path());
        let now = Instant::now();
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        assert!(poll_all(&mut source, now + 100 * SECOND).is_empty());
        assert_eq!(source.checkpoints()[0].offset, 0);
        append(&path, b"def\r\nghi");
        assert_eq!(texts(&poll_all(&mut source, now)), ["abcdef"]);
        assert_eq!(source.checkpoints()[0].offset, 8);
        let mut source = restart(source, config, now);
        append(&path, b"\n");
        let records = poll_all(&mut source, now);
        assert_eq!((texts(&records), records[0].offset), (vec!["ghi"], 8));
    }

    #[test]
    fn unfinished_line_of_a_rotated_file_is_emitted_once_drained() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"one\ntwo");
        let config = logs_in(directory.path());
        let drain_timeout = config.drain_timeout;
        let now = Instant::now();
        let mut source = FileSource::new_at(config, Vec::new(), now).unwrap();
        assert_eq!(texts(&poll_all(&mut source, now)), ["one"]);
        std::fs::rename(&path, directory.path().join("app.log.1")).unwrap();
        assert!(poll_all(&mut source, now + SECOND).is_empty());
        assert_eq!(source.stats().files_draining, 1);
        let records = poll_all(&mut source, now + SECOND + drain_timeout);
        assert_eq!((texts(&records), records[0].offset), (vec!["two"], 4));
        let stats = source.stats();
        assert_eq!((stats.partial_lines_flushed, stats.files_watched), (1, 0));
    }

    #[test]
    fn multiline_records_complete_on_next_start_limits_or_timeout() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(
            &path,
            b"2024-05-01 10:00:00 ERROR boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)\n2024-05-01 10:00:01 INFO next\n",
        );
        let mut config = logs_in(directory.path());
        let multiline = MultilineConfig::new(r"^\d{4}-\d{2}-\d{2}").unwrap();
        let timeout = multiline.timeout;
        config.multiline = Some(multiline);
        let now = Instant::now();
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        let records = poll_all(&mut source, now);
        assert_eq!(
            texts(&records),
            ["2024-05-01 10:00:00 ERROR boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)"]
        );
        // The open record is not checkpointed: a restart reads it again.
        assert_eq!(source.checkpoints()[0].offset, 67);
        let mut source = restart(source, config, now);
        assert!(poll_all(&mut source, now).is_empty());
        append(&path, b"  continued\n");
        assert!(poll_all(&mut source, now + SECOND / 2).is_empty());
        let records = poll_all(&mut source, now + SECOND / 2 + timeout);
        assert_eq!(
            (texts(&records), records[0].offset),
            (vec!["2024-05-01 10:00:01 INFO next\n  continued"], 67)
        );
        assert_eq!(
            source.checkpoints()[0].offset,
            std::fs::metadata(&path).unwrap().len()
        );
    }

    #[test]
    fn multiline_timeout_waits_for_unread_data() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"start\n cont 1\n");
        let mut config = logs_in(directory.path());
        config.multiline = Some(MultilineConfig::new(r"^\S").unwrap());
        let now = Instant::now();
        let mut source = FileSource::new_at(config, Vec::new(), now).unwrap();
        assert!(poll_all(&mut source, now).is_empty());
        // More of the record arrived but is not read yet when the timeout would fire.
        append(&path, b" cont 2\n");
        let later = now + 10 * SECOND;
        let tracked = &mut source.files[0];
        tracked.expire(&source.config, &mut source.stats, later);
        assert!(tracked.ready.is_empty());
        assert!(
            poll_all(&mut source, later).is_empty(),
            "the timeout restarts with the new line"
        );
        assert_eq!(
            texts(&poll_all(&mut source, later + 2 * SECOND)),
            ["start\n cont 1\n cont 2"]
        );
    }

    #[test]
    fn start_at_end_reads_only_new_lines_and_a_checkpoint_wins() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(&path, b"old\n");
        let mut config = logs_in(directory.path());
        config.start_at = StartAt::End;
        let now = Instant::now();
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        assert!(poll_all(&mut source, now).is_empty());
        append(&path, b"new\n");
        append(&directory.path().join("created.log"), b"created later\n");
        let mut seen: Vec<String> = poll_all(&mut source, now)
            .into_iter()
            .map(|record| record.text)
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            ["created later", "new"],
            "files created later are read whole"
        );
        append(&path, b"while stopped\n");
        let mut source = restart(source, config.clone(), now);
        assert_eq!(texts(&poll_all(&mut source, now)), ["while stopped"]);

        config.start_at = StartAt::Beginning;
        let mut source = FileSource::new_at(config, Vec::new(), now).unwrap();
        assert_eq!(poll_all(&mut source, now).len(), 4);
    }

    #[test]
    fn long_lines_are_split_at_character_boundaries_and_counted() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        append(
            &path,
            format!("{}\n{}\nshort\n", "x".repeat(25), "é".repeat(7)).as_bytes(),
        );
        let mut config = logs_in(directory.path());
        config.max_line_bytes = 10;
        let now = Instant::now();
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        let records = poll_all(&mut source, now);
        assert_eq!(
            texts(&records),
            ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", "ééééé", "éé", "short"]
        );
        let offsets: Vec<u64> = records.iter().map(|record| record.offset).collect();
        assert_eq!(offsets, [0, 10, 20, 26, 36, 41]);
        assert_eq!((source.stats().lines_split, source.stats().lines_read), (3, 3));

        config.max_line_bytes = 5;
        let mut source = FileSource::new_at(config, Vec::new(), now).unwrap();
        let records = poll_all(&mut source, now);
        assert!(records.iter().all(|record| !record.text.contains('\u{FFFD}')));
        assert_eq!(texts(&records)[5..9], ["éé", "éé", "éé", "é"]);
    }

    #[test]
    fn poll_respects_max_and_keeps_file_order() {
        let directory = tempfile::tempdir().unwrap();
        for name in ["a.log", "b.log"] {
            let lines: String = (0..50).map(|number| format!("{number}\n")).collect();
            append(&directory.path().join(name), lines.as_bytes());
        }
        let now = Instant::now();
        let mut source = FileSource::new_at(logs_in(directory.path()), Vec::new(), now).unwrap();
        let mut by_file: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        loop {
            let records = source.poll_at(7, now).unwrap();
            assert!(records.len() <= 7);
            if records.is_empty() {
                break;
            }
            for record in records {
                by_file
                    .entry(record.path)
                    .or_default()
                    .push(record.text.parse().unwrap());
            }
        }
        let expected: Vec<u64> = (0..50).collect();
        assert_eq!(by_file.len(), 2);
        assert!(by_file.values().all(|numbers| *numbers == expected));
    }

    #[test]
    fn unreadable_file_is_reported_and_skipped() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let secret = directory.path().join("secret.log");
        append(&secret, b"hidden\n");
        append(&directory.path().join("open.log"), b"visible\n");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
        let now = Instant::now();
        let mut source = FileSource {
            denied: vec![secret.clone()], // chmod does not stop root
            ..FileSource::new_at(config_for("/nonexistent/*.log".into()), Vec::new(), now).unwrap()
        };
        source.matcher = Matcher::new(&[format!("{}/*.log", directory.path().display())], &[]).unwrap();
        assert_eq!(texts(&poll_all(&mut source, now)), ["visible"]);
        assert_eq!(texts(&poll_all(&mut source, now + SECOND)), Vec::<&str>::new());
        let stats = source.stats();
        assert_eq!((stats.open_errors, stats.files_unreadable.len()), (1, 1));
        assert!(stats.files_unreadable[0].contains("secret.log"));

        source.denied.clear();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(texts(&poll_all(&mut source, now + 2 * SECOND)), ["hidden"]);
        assert!(source.stats().files_unreadable.is_empty());
    }

    #[test]
    fn invalid_configuration_is_rejected() {
        let mut config = FileSourceConfig::new(Vec::new());
        assert!(matches!(
            FileSource::new(config.clone(), Vec::new()),
            Err(SourceError::NoInclude)
        ));
        config.include = vec!["relative/*.log".into()];
        assert!(matches!(
            FileSource::new(config.clone(), Vec::new()),
            Err(SourceError::RelativeGlob { .. })
        ));
        config.include = vec!["/var/log/[.log".into()];
        assert!(matches!(
            FileSource::new(config.clone(), Vec::new()),
            Err(SourceError::InvalidGlob { .. })
        ));
        config.include = vec!["/nonexistent/*.log".into()];
        config.max_line_bytes = 0;
        assert!(matches!(
            FileSource::new(config, Vec::new()),
            Err(SourceError::ZeroSetting { .. })
        ));
        assert!(matches!(
            MultilineConfig::new("(unclosed"),
            Err(SourceError::InvalidStartPattern { .. })
        ));
    }

    /// A small deterministic generator (xorshift64*), so that failures can be replayed.
    struct Random(u64);

    impl Random {
        fn below(&mut self, bound: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
        }
    }

    /// Writes lines in random pieces (so lines are often unfinished when polled), polls random
    /// amounts, restarts from saved checkpoints and rotates by rename at random; every line of
    /// every file must come out exactly once, in order.
    fn random_session(seed: u64, multiline: bool) {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("app.log");
        let checkpoint_path = directory.path().join("checkpoints.json");
        let mut config = config_for(path.display().to_string());
        config.drain_timeout = 3 * SECOND;
        if multiline {
            let mut joining = MultilineConfig::new(r"^g").unwrap();
            joining.timeout = Duration::from_secs(100_000);
            config.multiline = Some(joining);
        }
        let mut random = Random(seed);
        let mut now = Instant::now();
        append(&path, b"");
        let mut source = FileSource::new_at(config.clone(), Vec::new(), now).unwrap();
        let mut generation = 0;
        let mut sequence = 0;
        let mut unwritten: Vec<u8> = Vec::new();
        let mut expected: Vec<Vec<String>> = vec![Vec::new()];
        let mut received: Vec<String> = Vec::new();
        // Rotations closer together than two scans lose the file in between (nothing names it
        // any more): the test rotates only after a scan.
        let mut scanned = true;
        let mut restarts = 0;
        for _ in 0..300 {
            now += SECOND;
            match random.below(10) {
                0..=4 => {
                    for _ in 0..random.below(4) {
                        let filler = "x".repeat(random.below(40) as usize);
                        let continuation = multiline && sequence > 0 && random.below(2) == 0;
                        let line = if continuation {
                            format!("  cont {sequence} {filler}")
                        } else {
                            format!("g{generation} n{sequence} {filler}")
                        };
                        let records = &mut expected[generation];
                        match records.last_mut() {
                            Some(last) if continuation => {
                                last.push('\n');
                                last.push_str(&line);
                            }
                            _ => records.push(line.clone()),
                        }
                        unwritten.extend_from_slice(line.as_bytes());
                        unwritten.push(b'\n');
                        sequence += 1;
                    }
                    let take = (random.below(120) as usize).min(unwritten.len());
                    append(&path, &unwritten[..take]);
                    unwritten.drain(..take);
                }
                5..=6 => {
                    let max = 1 + random.below(8) as usize;
                    let records = source.poll_at(max, now).unwrap();
                    scanned = true;
                    assert!(records.len() <= max);
                    received.extend(records.into_iter().map(|record| record.text));
                }
                7 => {
                    save_checkpoints(&checkpoint_path, &source.checkpoints()).unwrap();
                    drop(source);
                    let checkpoints = load_checkpoints(&checkpoint_path).unwrap();
                    source = FileSource::new_at(config.clone(), checkpoints, now).unwrap();
                    scanned = true;
                    restarts += 1;
                }
                _ if !scanned => {}
                _ => {
                    scanned = false;
                    // Rotate once the current file ends with a complete line.
                    append(&path, &unwritten);
                    unwritten.clear();
                    let rotated = directory.path().join(format!("app.log.{generation}"));
                    std::fs::rename(&path, rotated).unwrap();
                    generation += 1;
                    sequence = 0;
                    expected.push(Vec::new());
                    append(&path, b"");
                }
            }
        }
        append(&path, &unwritten);
        for _ in 0..5 {
            now += 100_001 * SECOND;
            received.extend(poll_all(&mut source, now).into_iter().map(|record| record.text));
        }
        assert_eq!(
            source.stats().files_watched,
            1,
            "rotated files are forgotten once drained"
        );
        for (generation, expected) in expected.iter().enumerate() {
            let prefix = format!("g{generation} ");
            let got: Vec<&String> = received.iter().filter(|text| text.starts_with(&prefix)).collect();
            let expected: Vec<&String> = expected.iter().collect();
            assert_eq!(got, expected, "seed {seed}, generation {generation}");
        }
        assert!(
            generation >= 3 && restarts >= 5,
            "seed {seed}: too few rotations or restarts"
        );
        let total: usize = expected.iter().map(Vec::len).sum();
        assert_eq!(received.len(), total, "seed {seed}");
    }

    #[test]
    fn random_writes_polls_restarts_and_rotations_lose_and_repeat_nothing() {
        for seed in 1..=25 {
            random_session(seed * 0x9E37_79B9, false);
        }
    }

    #[test]
    fn random_multiline_sessions_lose_and_repeat_nothing() {
        for seed in 1..=25 {
            random_session(seed * 0x51_7CC1, true);
        }
    }
}
