//! The disk spool between the sources and the network.
//!
//! Records enter the spool as compressed batches with consecutive sequence numbers, synced to
//! disk, before their source's checkpoint moves; they leave it only when the collector has
//! acknowledged them as durable. The spool is a directory of segment files
//! (`<first sequence>.spool`), each a run of entries:
//!
//! ```text
//! u32 length of payload | u32 CRC-32 of payload | payload
//! payload = u32 checkpoint length | checkpoint (JSON) | batch body (event::wire)
//! ```
//!
//! Each entry carries the sources' checkpoint as of its last record, so the spool itself is the
//! checkpoint store: after a crash the agent resumes every source from the newest entry's
//! checkpoint, and nothing is read twice or skipped. For that, the newest segment is never
//! deleted, even when all of it is acknowledged. `acked` holds the highest acknowledged sequence
//! number.
//!
//! The spool is bounded: when it holds `max_bytes`, [`WhenFull::Block`] makes the sources wait
//! (they keep their place in the files), and [`WhenFull::DropOldest`] deletes the oldest segment
//! and counts the records lost.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use haidang_event::wire::{Batch, Record};

/// What to do when the spool is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Sources wait until acknowledgements make room. Nothing is lost.
    Block,
    /// The oldest unacknowledged segment is deleted, and its records counted as dropped.
    DropOldest,
}

/// Where one entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EntryInfo {
    first_sequence: u64,
    last_sequence: u64,
    segment: u64,
    offset: u64,
    length: u64,
}

#[derive(Clone, Debug)]
struct Segment {
    number: u64,
    bytes: u64,
}

/// Counters of the spool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SpoolStats {
    /// Bytes on disk.
    pub bytes: u64,
    /// Records waiting for an acknowledgement.
    pub pending_records: u64,
    /// Records deleted unsent because the spool was full (drop-oldest mode).
    pub dropped_records: u64,
    /// The highest acknowledged sequence number.
    pub acked: u64,
    /// The next sequence number to give.
    pub next_sequence: u64,
}

/// The spool.
#[derive(Debug)]
pub struct Spool {
    directory: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    when_full: WhenFull,
    segments: VecDeque<Segment>,
    entries: VecDeque<EntryInfo>,
    current: Option<File>,
    next_sequence: u64,
    acked: u64,
    dropped: u64,
}

/// What `Spool::open` recovered.
#[derive(Debug)]
pub struct Recovered {
    /// The spool, ready.
    pub spool: Spool,
    /// The newest checkpoint written with a batch (`None`: start fresh).
    pub checkpoint: Option<Vec<u8>>,
}

impl Spool {
    /// Opens (or creates) the spool in `directory`.
    pub fn open(directory: &Path, max_bytes: u64, when_full: WhenFull) -> io::Result<Recovered> {
        std::fs::create_dir_all(directory)?;
        let acked = read_acked(directory)?;
        let mut numbers = Vec::new();
        for item in std::fs::read_dir(directory)? {
            let name = item?.file_name();
            if let Some(number) = name
                .to_string_lossy()
                .strip_suffix(".spool")
                .and_then(|stem| stem.parse().ok())
            {
                numbers.push(number);
            }
        }
        numbers.sort_unstable();
        let mut spool = Spool {
            directory: directory.to_owned(),
            max_bytes: max_bytes.max(1 << 16),
            segment_bytes: (max_bytes / 8).clamp(1 << 16, 8 << 20),
            when_full,
            segments: VecDeque::new(),
            entries: VecDeque::new(),
            current: None,
            next_sequence: acked + 1,
            acked,
            dropped: 0,
        };
        let mut checkpoint = None;
        for (index, &number) in numbers.iter().enumerate() {
            let path = segment_path(directory, number);
            let bytes = std::fs::read(&path)?;
            let mut offset = 0usize;
            while let Some((length, payload)) = entry_at(&bytes, offset) {
                let Some((blob, batch)) = split_payload(payload) else {
                    break;
                };
                spool.next_sequence = spool.next_sequence.max(batch.last_sequence() + 1);
                if batch.last_sequence() > acked {
                    spool.entries.push_back(EntryInfo {
                        first_sequence: batch.first_sequence,
                        last_sequence: batch.last_sequence(),
                        segment: number,
                        offset: offset as u64,
                        length: length as u64,
                    });
                }
                checkpoint = Some(blob.to_vec());
                offset += length;
            }
            if offset < bytes.len() {
                // A torn entry (a crash mid-write): it was never synced, so its records were
                // never checkpointed either; they will be read again from the source.
                OpenOptions::new()
                    .write(true)
                    .open(&path)?
                    .set_len(offset as u64)?;
            }
            spool.segments.push_back(Segment {
                number,
                bytes: offset as u64,
            });
            if index + 1 == numbers.len() {
                let mut file = OpenOptions::new().append(true).open(&path)?;
                file.seek(SeekFrom::End(0))?;
                spool.current = Some(file);
            }
        }
        spool.delete_acknowledged()?;
        Ok(Recovered { spool, checkpoint })
    }

    /// Whether a source may add records now (always in drop-oldest mode).
    pub fn has_room(&self) -> bool {
        self.when_full == WhenFull::DropOldest || self.bytes() < self.max_bytes
    }

    /// Bytes on disk.
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|segment| segment.bytes).sum()
    }

    /// Counters.
    pub fn stats(&self) -> SpoolStats {
        SpoolStats {
            bytes: self.bytes(),
            pending_records: self
                .entries
                .iter()
                .map(|entry| entry.last_sequence - entry.first_sequence.max(self.acked + 1) + 1)
                .sum(),
            dropped_records: self.dropped,
            acked: self.acked,
            next_sequence: self.next_sequence,
        }
    }

    /// Adds records, with the sources' checkpoint as of the last of them, and syncs. Returns
    /// the last sequence number given. When this returns the records survive a crash.
    pub fn append(&mut self, records: &[Record], checkpoint: &[u8]) -> io::Result<u64> {
        if records.is_empty() {
            return Ok(self.next_sequence - 1);
        }
        let first = self.next_sequence;
        let batch = Batch::compress(first, records)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        let mut payload = Vec::with_capacity(4 + checkpoint.len() + 16 + batch.compressed.len());
        payload.extend_from_slice(&(checkpoint.len() as u32).to_be_bytes());
        payload.extend_from_slice(checkpoint);
        batch.encode_body(&mut payload);
        let mut entry = Vec::with_capacity(8 + payload.len());
        entry.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        entry.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
        entry.extend_from_slice(&payload);

        let needs_new = match self.segments.back() {
            None => true,
            Some(segment) => segment.bytes + entry.len() as u64 > self.segment_bytes && segment.bytes > 0,
        };
        if needs_new {
            let path = segment_path(&self.directory, first);
            self.current = Some(OpenOptions::new().create(true).append(true).open(&path)?);
            File::open(&self.directory)?.sync_all()?;
            self.segments.push_back(Segment {
                number: first,
                bytes: 0,
            });
        }
        let (Some(file), Some(segment)) = (self.current.as_mut(), self.segments.back_mut()) else {
            return Err(io::Error::other("spool has no open segment"));
        };
        file.write_all(&entry)?;
        file.sync_data()?;
        let last = batch.last_sequence();
        if !records.is_empty() {
            self.entries.push_back(EntryInfo {
                first_sequence: first,
                last_sequence: last,
                segment: segment.number,
                offset: segment.bytes,
                length: entry.len() as u64,
            });
            self.next_sequence = last + 1;
        }
        segment.bytes += entry.len() as u64;
        if self.when_full == WhenFull::DropOldest {
            self.drop_oldest_while_full()?;
        }
        Ok(last)
    }

    fn drop_oldest_while_full(&mut self) -> io::Result<()> {
        while self.bytes() > self.max_bytes && self.segments.len() > 1 {
            let Some(oldest) = self.segments.pop_front() else {
                break;
            };
            while self
                .entries
                .front()
                .is_some_and(|entry| entry.segment == oldest.number)
            {
                if let Some(entry) = self.entries.pop_front() {
                    self.dropped += entry.last_sequence - entry.first_sequence.max(self.acked + 1) + 1;
                }
            }
            remove(&segment_path(&self.directory, oldest.number))?;
        }
        Ok(())
    }

    /// The first batch holding records after sequence `after`, compressed as it will travel.
    /// Records at or before `after` in that batch are not removed: the collector drops them.
    pub fn next_batch(&self, after: u64) -> io::Result<Option<Batch>> {
        let Some(info) = self.entries.iter().find(|entry| entry.last_sequence > after) else {
            return Ok(None);
        };
        let mut file = File::open(segment_path(&self.directory, info.segment))?;
        file.seek(SeekFrom::Start(info.offset))?;
        let mut bytes = vec![0u8; info.length as usize];
        file.read_exact(&mut bytes)?;
        let (_, payload) = entry_at(&bytes, 0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "corrupt spool entry"))?;
        let (_, batch) = split_payload(payload)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "corrupt spool entry"))?;
        Ok(Some(batch))
    }

    /// The collector holds everything up to `sequence`: forget it (and delete segments wholly
    /// acknowledged, except the newest).
    pub fn acknowledge(&mut self, sequence: u64) -> io::Result<()> {
        if sequence <= self.acked {
            return Ok(());
        }
        self.acked = sequence;
        self.next_sequence = self.next_sequence.max(sequence + 1);
        crate::write_atomically(&self.directory.join("acked"), format!("{sequence}\n").as_bytes())?;
        while self
            .entries
            .front()
            .is_some_and(|entry| entry.last_sequence <= sequence)
        {
            self.entries.pop_front();
        }
        self.delete_acknowledged()
    }

    fn delete_acknowledged(&mut self) -> io::Result<()> {
        while self.segments.len() > 1 {
            let oldest = self.segments[0].number;
            if self.entries.iter().any(|entry| entry.segment == oldest) {
                break;
            }
            self.segments.pop_front();
            remove(&segment_path(&self.directory, oldest))?;
        }
        Ok(())
    }
}

fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

fn read_acked(directory: &Path) -> io::Result<u64> {
    match std::fs::read_to_string(directory.join("acked")) {
        Ok(text) => text.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a sequence number", directory.join("acked").display()),
            )
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error),
    }
}

fn segment_path(directory: &Path, number: u64) -> PathBuf {
    directory.join(format!("{number:020}.spool"))
}

/// The entry at `offset`: its whole length and its payload, if complete and intact.
fn entry_at(bytes: &[u8], offset: usize) -> Option<(usize, &[u8])> {
    let header = bytes.get(offset..offset + 8)?;
    let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let checksum = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    let payload = bytes.get(offset + 8..offset + 8 + length)?;
    (crc32fast::hash(payload) == checksum).then_some((8 + length, payload))
}

fn split_payload(payload: &[u8]) -> Option<(&[u8], Batch)> {
    let length = u32::from_be_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    let checkpoint = payload.get(4..4 + length)?;
    let batch = Batch::decode_body(payload.get(4 + length..)?).ok()?;
    Some((checkpoint, batch))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use haidang_event::wire::Body;

    use super::*;

    fn records(texts: &[&str]) -> Vec<Record> {
        texts
            .iter()
            .map(|text| Record {
                observed_nanos: 0,
                source: "file:/x".into(),
                body: Body::Line {
                    text: (*text).into(),
                    format: None,
                },
            })
            .collect()
    }

    fn texts(batch: &Batch) -> Vec<String> {
        batch
            .records()
            .unwrap()
            .into_iter()
            .map(|record| match record.body {
                Body::Line { text, .. } => text,
                Body::Event(_) => String::new(),
            })
            .collect()
    }

    #[test]
    fn records_wait_for_their_acknowledgement_across_restarts() {
        let directory = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(directory.path(), 1 << 20, WhenFull::Block)
                .unwrap()
                .spool;
            assert_eq!(spool.append(&records(&["a", "b"]), b"cp1").unwrap(), 2);
            assert_eq!(spool.append(&records(&["c"]), b"cp2").unwrap(), 3);
            spool.acknowledge(2).unwrap();
        }
        let recovered = Spool::open(directory.path(), 1 << 20, WhenFull::Block).unwrap();
        assert_eq!(recovered.checkpoint.as_deref(), Some(&b"cp2"[..]));
        let mut spool = recovered.spool;
        assert_eq!(spool.stats().pending_records, 1);
        let batch = spool.next_batch(2).unwrap().unwrap();
        assert_eq!((batch.first_sequence, texts(&batch)), (3, vec!["c".to_string()]));
        assert!(spool.next_batch(3).unwrap().is_none());
        // Sequence numbers keep growing after everything is acknowledged.
        spool.acknowledge(3).unwrap();
        assert_eq!(spool.append(&records(&["d"]), b"cp3").unwrap(), 4);
    }

    #[test]
    fn the_newest_checkpoint_survives_when_everything_is_acknowledged() {
        let directory = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(directory.path(), 1 << 16, WhenFull::Block)
                .unwrap()
                .spool;
            let line = "x".repeat(3000);
            for index in 0..100 {
                spool
                    .append(
                        &records(&[&format!("{index}{line}")]),
                        format!("cp{index}").as_bytes(),
                    )
                    .unwrap();
            }
            spool.acknowledge(100).unwrap();
            assert_eq!(spool.segments.len(), 1, "acknowledged segments are deleted");
        }
        let recovered = Spool::open(directory.path(), 1 << 16, WhenFull::Block).unwrap();
        assert_eq!(recovered.checkpoint.as_deref(), Some(&b"cp99"[..]));
        assert_eq!(recovered.spool.stats().pending_records, 0);
        assert_eq!(recovered.spool.stats().next_sequence, 101);
    }

    #[test]
    fn a_full_spool_blocks_in_block_mode() {
        let directory = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(directory.path(), 1 << 16, WhenFull::Block)
            .unwrap()
            .spool;
        let line = pseudo_random_text(4000);
        let mut appended = 0;
        while spool.has_room() {
            spool.append(&records(&[&line]), b"").unwrap();
            appended += 1;
            assert!(appended < 1000, "the spool never filled");
        }
        assert_eq!(spool.stats().dropped_records, 0);
        assert_eq!(spool.stats().pending_records, appended);
        // Acknowledgements make room again.
        spool.acknowledge(appended).unwrap();
        assert!(spool.has_room());
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_counts_them_in_drop_mode() {
        let directory = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(directory.path(), 1 << 16, WhenFull::DropOldest)
            .unwrap()
            .spool;
        let line = pseudo_random_text(4000);
        for _ in 0..200 {
            assert!(spool.has_room());
            spool.append(&records(&[&line]), b"").unwrap();
        }
        let stats = spool.stats();
        assert!(stats.bytes <= 1 << 16, "{stats:?}");
        assert!(stats.dropped_records > 0);
        assert_eq!(stats.dropped_records + stats.pending_records, 200);
        // What is left is the newest records, in order.
        let batch = spool.next_batch(0).unwrap().unwrap();
        assert_eq!(batch.first_sequence, stats.dropped_records + 1);
    }

    #[test]
    fn a_torn_entry_is_cut_off() {
        let directory = tempfile::tempdir().unwrap();
        {
            let mut spool = Spool::open(directory.path(), 1 << 20, WhenFull::Block)
                .unwrap()
                .spool;
            spool.append(&records(&["a"]), b"cp1").unwrap();
            spool.append(&records(&["b"]), b"cp2").unwrap();
        }
        let path = segment_path(directory.path(), 1);
        let length = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(length - 3)
            .unwrap();
        let recovered = Spool::open(directory.path(), 1 << 20, WhenFull::Block).unwrap();
        assert_eq!(recovered.checkpoint.as_deref(), Some(&b"cp1"[..]));
        let mut spool = recovered.spool;
        assert_eq!(spool.append(&records(&["b again"]), b"cp2").unwrap(), 2);
        assert_eq!(texts(&spool.next_batch(1).unwrap().unwrap()), ["b again"]);
    }

    /// Text that zstd cannot shrink much, so sizes on disk are predictable.
    fn pseudo_random_text(length: usize) -> String {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + (state % 90) as u8)
            })
            .collect()
    }
}
