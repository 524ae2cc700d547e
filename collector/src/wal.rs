//! The write-ahead log: where agent batches become durable before they are acknowledged.
//!
//! A directory of segment files named by their number (`00000000000000000001.wal`), each a run
//! of entries:
//!
//! ```text
//! u32 length of payload | u32 CRC-32 of payload | payload
//! payload = u8 version (1) | u16 agent id length | agent id | batch body (event::wire)
//! ```
//!
//! The batch is kept compressed, as it came. [`Wal::append`] writes a group of entries and syncs
//! the file once (group commit): only then are the batches acknowledged. At open, every segment
//! is read to rebuild each agent's last durable sequence number (so duplicates are recognised
//! across restarts), and a torn last entry (a crash mid-write) is cut off. A cursor file,
//! `consumed`, records how far the pipeline has processed the log, so a restart replays what was
//! acknowledged but not yet processed.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use haidang_event::wire::Batch;

/// A segment is closed and a new one started past this size.
const SEGMENT_BYTES: u64 = 64 << 20;

/// Where an entry starts: segment number and byte offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// The segment's number.
    pub segment: u64,
    /// The byte offset in it.
    pub offset: u64,
}

/// One durable batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The agent that sent it.
    pub agent_id: String,
    /// The batch, compressed as it came.
    pub batch: Batch,
}

/// The log, open for appending.
pub struct Wal {
    directory: PathBuf,
    file: File,
    segment: u64,
    length: u64,
    last_sequence: HashMap<String, u64>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Wal")
            .field("directory", &self.directory)
            .field("segment", &self.segment)
            .field("length", &self.length)
            .finish()
    }
}

impl Wal {
    /// Opens (or creates) the log in `directory`, rebuilding each agent's last sequence number and
    /// cutting off a torn last entry.
    pub fn open(directory: &Path) -> io::Result<Wal> {
        std::fs::create_dir_all(directory)?;
        let segments = segments(directory)?;
        let mut last_sequence: HashMap<String, u64> = HashMap::new();
        let mut valid_end = 0;
        for &segment in &segments {
            let mut reader = SegmentReader::open(directory, segment, 0)?;
            while let Some((_, entry)) = reader.next_entry()? {
                let last = last_sequence.entry(entry.agent_id).or_default();
                *last = (*last).max(entry.batch.last_sequence());
            }
            valid_end = reader.offset;
        }
        let segment = segments.last().copied().unwrap_or(1);
        let path = segment_path(directory, segment);
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        let length = file.metadata()?.len();
        if length > valid_end {
            // A torn entry from a crash mid-write: never acknowledged, so safe to drop.
            file.set_len(valid_end)?;
            file.sync_all()?;
        }
        sync_directory(directory)?;
        let mut wal = Wal {
            directory: directory.to_owned(),
            file,
            segment,
            length: valid_end,
            last_sequence,
        };
        wal.file.seek(SeekFrom::Start(valid_end))?;
        Ok(wal)
    }

    /// The highest durable sequence number from an agent (0: none yet).
    pub fn last_sequence(&self, agent_id: &str) -> u64 {
        self.last_sequence.get(agent_id).copied().unwrap_or(0)
    }

    /// Where the next entry will go.
    pub fn end(&self) -> Position {
        Position {
            segment: self.segment,
            offset: self.length,
        }
    }

    /// Appends entries and syncs them to disk; returns where each one starts. When this returns,
    /// the entries survive a crash.
    pub fn append(&mut self, entries: &[Entry]) -> io::Result<Vec<Position>> {
        if self.length >= SEGMENT_BYTES {
            self.roll()?;
        }
        let mut buffer = Vec::new();
        let mut positions = Vec::with_capacity(entries.len());
        for entry in entries {
            positions.push(Position {
                segment: self.segment,
                offset: self.length + buffer.len() as u64,
            });
            encode_entry(entry, &mut buffer)?;
        }
        self.file.write_all(&buffer)?;
        self.file.sync_data()?;
        self.length += buffer.len() as u64;
        for entry in entries {
            let last = self.last_sequence.entry(entry.agent_id.clone()).or_default();
            *last = (*last).max(entry.batch.last_sequence());
        }
        Ok(positions)
    }

    fn roll(&mut self) -> io::Result<()> {
        self.segment += 1;
        self.file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(segment_path(&self.directory, self.segment))?;
        self.length = 0;
        sync_directory(&self.directory)
    }
}

fn encode_entry(entry: &Entry, out: &mut Vec<u8>) -> io::Result<()> {
    let agent = entry.agent_id.as_bytes();
    let agent_length = u16::try_from(agent.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "agent id too long"))?;
    let mut payload = Vec::with_capacity(3 + agent.len() + 16 + entry.batch.compressed.len());
    payload.push(1);
    payload.extend_from_slice(&agent_length.to_be_bytes());
    payload.extend_from_slice(agent);
    entry.batch.encode_body(&mut payload);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
    out.extend_from_slice(&payload);
    Ok(())
}

fn decode_payload(payload: &[u8]) -> Option<Entry> {
    let (&version, rest) = payload.split_first()?;
    if version != 1 || rest.len() < 2 {
        return None;
    }
    let agent_length = u16::from_be_bytes([rest[0], rest[1]]) as usize;
    let agent = rest.get(2..2 + agent_length)?;
    let batch = Batch::decode_body(rest.get(2 + agent_length..)?).ok()?;
    Some(Entry {
        agent_id: String::from_utf8(agent.to_vec()).ok()?,
        batch,
    })
}

/// Reads one segment's entries in order, stopping at the first torn or corrupt one.
pub struct SegmentReader {
    reader: BufReader<File>,
    segment: u64,
    offset: u64,
}

impl SegmentReader {
    /// Opens a segment at a byte offset.
    pub fn open(directory: &Path, segment: u64, offset: u64) -> io::Result<SegmentReader> {
        let mut file = File::open(segment_path(directory, segment))?;
        file.seek(SeekFrom::Start(offset))?;
        Ok(SegmentReader {
            reader: BufReader::with_capacity(1 << 20, file),
            segment,
            offset,
        })
    }

    /// The next entry and where it starts; `None` at the end (or at a torn entry).
    pub fn next_entry(&mut self) -> io::Result<Option<(Position, Entry)>> {
        let mut header = [0u8; 8];
        if !read_full(&mut self.reader, &mut header)? {
            return Ok(None);
        }
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let checksum = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        if length > haidang_event::wire::MAX_FRAME_BYTES + 1024 {
            return Ok(None);
        }
        let mut payload = vec![0u8; length];
        if !read_full(&mut self.reader, &mut payload)? || crc32fast::hash(&payload) != checksum {
            return Ok(None);
        }
        let Some(entry) = decode_payload(&payload) else {
            return Ok(None);
        };
        let position = Position {
            segment: self.segment,
            offset: self.offset,
        };
        self.offset += 8 + length as u64;
        Ok(Some((position, entry)))
    }
}

/// Reads exactly `buffer.len()` bytes; `false` if the file ends first (a torn entry).
fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..])? {
            0 => return Ok(false),
            read => filled += read,
        }
    }
    Ok(true)
}

/// Every entry from `start` on, across segments, in order.
pub fn read_from(directory: &Path, start: Position) -> io::Result<Vec<(Position, Entry)>> {
    let mut entries = Vec::new();
    for segment in segments(directory)? {
        if segment < start.segment {
            continue;
        }
        let offset = if segment == start.segment { start.offset } else { 0 };
        let mut reader = SegmentReader::open(directory, segment, offset)?;
        while let Some(entry) = reader.next_entry()? {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// The segment numbers present, in order.
pub fn segments(directory: &Path) -> io::Result<Vec<u64>> {
    let mut numbers = Vec::new();
    match std::fs::read_dir(directory) {
        Ok(listing) => {
            for item in listing {
                let name = item?.file_name();
                let name = name.to_string_lossy();
                if let Some(number) = name.strip_suffix(".wal").and_then(|stem| stem.parse().ok()) {
                    numbers.push(number);
                }
            }
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    numbers.sort_unstable();
    Ok(numbers)
}

fn segment_path(directory: &Path, segment: u64) -> PathBuf {
    directory.join(format!("{segment:020}.wal"))
}

/// Reads the `consumed` cursor (the start of the log when there is none).
pub fn read_cursor(directory: &Path) -> io::Result<Position> {
    match std::fs::read_to_string(directory.join("consumed")) {
        Ok(text) => {
            let mut parts = text.trim().split(':');
            let segment = parts.next().and_then(|part| part.parse().ok());
            let offset = parts.next().and_then(|part| part.parse().ok());
            match (segment, offset) {
                (Some(segment), Some(offset)) => Ok(Position { segment, offset }),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: not a `segment:offset` cursor",
                        directory.join("consumed").display()
                    ),
                )),
            }
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Position::default()),
        Err(error) => Err(error),
    }
}

/// Writes the `consumed` cursor atomically.
pub fn write_cursor(directory: &Path, position: Position) -> io::Result<()> {
    write_atomically(
        &directory.join("consumed"),
        format!("{}:{}\n", position.segment, position.offset).as_bytes(),
    )
}

/// Replaces a file's content atomically: a temporary file, synced, renamed over it, and the
/// directory synced.
pub fn write_atomically(path: &Path, content: &[u8]) -> io::Result<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let temporary = path.with_extension("tmp");
    {
        let mut file = File::create(&temporary)?;
        file.write_all(content)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    sync_directory(directory)
}

fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use haidang_event::wire::{Body, Record};

    use super::*;

    fn entry(agent: &str, first: u64, lines: &[&str]) -> Entry {
        let records: Vec<Record> = lines
            .iter()
            .map(|line| Record {
                observed_nanos: 0,
                source: "file:/x".into(),
                body: Body::Line {
                    text: (*line).into(),
                    format: None,
                },
            })
            .collect();
        Entry {
            agent_id: agent.into(),
            batch: Batch::compress(first, &records).unwrap(),
        }
    }

    #[test]
    fn entries_survive_reopening_with_each_agents_last_sequence() {
        let directory = tempfile::tempdir().unwrap();
        {
            let mut wal = Wal::open(directory.path()).unwrap();
            wal.append(&[entry("a", 1, &["one", "two"]), entry("b", 10, &["x"])])
                .unwrap();
            wal.append(&[entry("a", 3, &["three"])]).unwrap();
        }
        let wal = Wal::open(directory.path()).unwrap();
        assert_eq!(wal.last_sequence("a"), 3);
        assert_eq!(wal.last_sequence("b"), 10);
        assert_eq!(wal.last_sequence("c"), 0);
        let entries = read_from(directory.path(), Position::default()).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[2].1, entry("a", 3, &["three"]));
        // Reading from the second entry's position skips the first.
        let later = read_from(directory.path(), entries[1].0).unwrap();
        assert_eq!(later.len(), 2);
    }

    #[test]
    fn a_torn_last_entry_is_cut_off_and_appending_goes_on() {
        let directory = tempfile::tempdir().unwrap();
        {
            let mut wal = Wal::open(directory.path()).unwrap();
            wal.append(&[entry("a", 1, &["kept"])]).unwrap();
            wal.append(&[entry("a", 2, &["torn"])]).unwrap();
        }
        let path = segment_path(directory.path(), 1);
        let length = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(length - 5)
            .unwrap();
        let mut wal = Wal::open(directory.path()).unwrap();
        assert_eq!(wal.last_sequence("a"), 1);
        wal.append(&[entry("a", 2, &["again"])]).unwrap();
        let entries = read_from(directory.path(), Position::default()).unwrap();
        let texts: Vec<_> = entries
            .iter()
            .flat_map(|(_, entry)| entry.batch.records().unwrap())
            .map(|record| match record.body {
                Body::Line { text, .. } => text,
                Body::Event(_) => String::new(),
            })
            .collect();
        assert_eq!(texts, ["kept", "again"]);
    }

    #[test]
    fn a_corrupt_entry_stops_reading_without_panicking() {
        let directory = tempfile::tempdir().unwrap();
        {
            let mut wal = Wal::open(directory.path()).unwrap();
            wal.append(&[entry("a", 1, &["one"]), entry("a", 2, &["two"])])
                .unwrap();
        }
        let path = segment_path(directory.path(), 1);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_from(directory.path(), Position::default()).unwrap().len(), 1);
    }

    #[test]
    fn the_cursor_round_trips_and_defaults_to_the_start() {
        let directory = tempfile::tempdir().unwrap();
        assert_eq!(read_cursor(directory.path()).unwrap(), Position::default());
        let position = Position {
            segment: 3,
            offset: 99,
        };
        write_cursor(directory.path(), position).unwrap();
        assert_eq!(read_cursor(directory.path()).unwrap(), position);
        std::fs::write(directory.path().join("consumed"), "garbage").unwrap();
        let error = read_cursor(directory.path()).unwrap_err();
        assert!(error.to_string().contains("consumed"), "{error}");
    }
}
