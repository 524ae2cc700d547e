//! Partitions: one tantivy index per (UTC day, grade) in `<directory>/<YYYY-MM-DD>/g<grade>/`,
//! and the writers that fill them.
//!
//! Writers are opened when a partition first gets events and share the memory budget in equal
//! slots ([`WRITER_SLOT_BYTES`] or more each): when every slot is taken, the writer used least
//! recently is committed and closed. A writer is also closed once its day is over and it has
//! been idle for [`WRITER_IDLE`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tantivy::indexer::IndexWriterOptions;
use tantivy::{FutureResult, IndexReader, IndexWriter, Opstamp, ReloadPolicy, Searcher, TantivyDocument};

use super::compile::NANOS_PER_DAY;
use super::schema::IndexSchema;
use super::{IndexError, PartitionInfo};

/// The smallest memory a writer gets; tantivy needs 15 MB per indexing thread.
pub(crate) const WRITER_SLOT_BYTES: usize = 20 << 20;

/// How long a writer of a past day stays open without events.
pub(crate) const WRITER_IDLE: Duration = Duration::from_secs(600);

/// Blocks of the document store each segment keeps decompressed for fetching hits.
const DOC_STORE_CACHE_BLOCKS: usize = 8;

/// The Julian day of 1970-01-01.
const EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A partition's place in time and class: the UTC day and the grade (0: unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PartitionKey {
    /// Days since 1970-01-01 (UTC).
    pub(crate) day: i64,
    pub(crate) grade: u8,
}

impl PartitionKey {
    pub(crate) fn of(time_nanos: i64, grade: Option<u8>) -> PartitionKey {
        PartitionKey {
            day: time_nanos.div_euclid(NANOS_PER_DAY),
            grade: grade.unwrap_or(0),
        }
    }

    pub(crate) fn start_nanos(self) -> i64 {
        self.day.saturating_mul(NANOS_PER_DAY)
    }

    /// The last nanosecond of the day.
    pub(crate) fn end_nanos(self) -> i64 {
        self.start_nanos().saturating_add(NANOS_PER_DAY - 1)
    }

    pub(crate) fn date(self) -> String {
        i32::try_from(self.day + EPOCH_JULIAN_DAY)
            .ok()
            .and_then(|julian_day| time::Date::from_julian_day(julian_day).ok())
            .map(|date| {
                format!(
                    "{:04}-{:02}-{:02}",
                    date.year(),
                    u8::from(date.month()),
                    date.day()
                )
            })
            .unwrap_or_else(|| format!("day{}", self.day))
    }

    pub(crate) fn path(self, directory: &Path) -> PathBuf {
        directory.join(self.date()).join(format!("g{}", self.grade))
    }

    /// The key of a partition directory (`2026-11-20`, `g3`).
    pub(crate) fn parse(date: &str, grade: &str) -> Option<PartitionKey> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(date, &format).ok()?;
        let grade = grade.strip_prefix('g')?.parse().ok()?;
        Some(PartitionKey {
            day: i64::from(date.to_julian_day()) - EPOCH_JULIAN_DAY,
            grade,
        })
    }
}

/// One partition: its tantivy index and, once searched, its reader.
pub(crate) struct Partition {
    pub(crate) key: PartitionKey,
    pub(crate) path: PathBuf,
    pub(crate) index: tantivy::Index,
    reader: Mutex<Option<IndexReader>>,
}

pub(crate) fn tantivy_error(path: &Path, error: tantivy::TantivyError) -> IndexError {
    IndexError::Tantivy {
        path: path.to_path_buf(),
        source: Box::new(error),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves consistent data here (maps and handles).
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Partition {
    /// Opens the partition at its path, creating it when missing.
    pub(crate) fn open(
        directory: &Path,
        key: PartitionKey,
        schema: &IndexSchema,
    ) -> Result<Partition, IndexError> {
        let path = key.path(directory);
        std::fs::create_dir_all(&path).map_err(|source| IndexError::Io {
            path: path.clone(),
            source,
        })?;
        let index = if path.join("meta.json").exists() {
            let index = tantivy::Index::open_in_dir(&path).map_err(|error| tantivy_error(&path, error))?;
            if index.schema() != schema.schema {
                return Err(IndexError::Corrupt(format!(
                    "{} was written with another schema",
                    path.display()
                )));
            }
            index
        } else {
            tantivy::Index::builder()
                .schema(schema.schema.clone())
                .create_in_dir(&path)
                .map_err(|error| tantivy_error(&path, error))?
        };
        Ok(Partition {
            key,
            path,
            index,
            reader: Mutex::new(None),
        })
    }

    /// A searcher over what is committed.
    pub(crate) fn searcher(&self) -> Result<Searcher, IndexError> {
        let mut reader = lock(&self.reader);
        if let Some(reader) = reader.as_ref() {
            return Ok(reader.searcher());
        }
        let opened: IndexReader = self
            .index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .try_into()
            .map_err(|error| tantivy_error(&self.path, error))?;
        let searcher = opened.searcher();
        *reader = Some(opened);
        Ok(searcher)
    }

    /// Makes the last commit visible to searches (when a reader is open).
    pub(crate) fn reload(&self) -> Result<(), IndexError> {
        let reader = lock(&self.reader).clone();
        if let Some(reader) = reader {
            reader
                .reload()
                .map_err(|error| tantivy_error(&self.path, error))?;
        }
        Ok(())
    }

    pub(crate) fn info(&self) -> PartitionInfo {
        let documents = self
            .index
            .searchable_segment_metas()
            .map(|metas| metas.iter().map(|meta| u64::from(meta.num_docs())).sum())
            .unwrap_or(0);
        let bytes = std::fs::read_dir(&self.path)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| entry.metadata().ok())
                    .filter(|metadata| metadata.is_file())
                    .map(|metadata| metadata.len())
                    .sum()
            })
            .unwrap_or(0);
        PartitionInfo {
            day: self.key.date(),
            grade: self.key.grade,
            path: self.path.clone(),
            start_nanos: self.key.start_nanos(),
            end_nanos: self.key.end_nanos(),
            documents,
            bytes,
        }
    }
}

/// A commit handed to the segment updater: the future of its durability, or why it could not
/// start (`None`: nothing was pending).
pub(crate) type StartedCommit = Result<Option<FutureResult<Opstamp>>, IndexError>;

/// An open writer and what it has not committed.
pub(crate) struct OpenWriter {
    pub(crate) partition: Arc<Partition>,
    pub(crate) writer: IndexWriter<TantivyDocument>,
    /// Operations since the last commit.
    pub(crate) pending: u64,
    pub(crate) last_used: Instant,
}

impl OpenWriter {
    /// Flushes the pending documents into a segment and schedules the commit; the returned
    /// future resolves once it is durable. `None` when nothing was pending.
    pub(crate) fn start_commit(&mut self) -> StartedCommit {
        if self.pending == 0 {
            return Ok(None);
        }
        let prepared = self
            .writer
            .prepare_commit()
            .map_err(|error| tantivy_error(&self.partition.path, error))?;
        let future = prepared.commit_future();
        self.pending = 0;
        Ok(Some(future))
    }

    pub(crate) fn commit(&mut self) -> Result<(), IndexError> {
        if self.pending > 0 {
            self.writer
                .commit()
                .map_err(|error| tantivy_error(&self.partition.path, error))?;
            self.pending = 0;
        }
        Ok(())
    }
}

/// The open writers, at most `slots` of them.
pub(crate) struct Writers {
    pub(crate) open: HashMap<PartitionKey, OpenWriter>,
    slots: usize,
    slot_bytes: usize,
}

impl Writers {
    pub(crate) fn new(memory_bytes: usize) -> Result<Writers, IndexError> {
        if memory_bytes < WRITER_SLOT_BYTES {
            return Err(IndexError::Config(format!(
                "the index writer memory ({memory_bytes} bytes) is below the minimum of {WRITER_SLOT_BYTES} bytes"
            )));
        }
        let slots = memory_bytes / WRITER_SLOT_BYTES;
        Ok(Writers {
            open: HashMap::new(),
            slots,
            slot_bytes: memory_bytes / slots,
        })
    }

    /// The writer of a partition, opened if needed (closing the least recently used one when
    /// every slot is taken; it is committed first and its partition returned to be reloaded).
    pub(crate) fn writer(
        &mut self,
        partition: &Arc<Partition>,
        evicted: &mut Vec<Arc<Partition>>,
    ) -> Result<&mut OpenWriter, IndexError> {
        let key = partition.key;
        if !self.open.contains_key(&key) {
            while self.open.len() >= self.slots {
                let Some(oldest) = self
                    .open
                    .iter()
                    .min_by_key(|(_, open)| open.last_used)
                    .map(|(key, _)| *key)
                else {
                    break;
                };
                // Committed before it is closed; if that fails it stays open (its events are not
                // durable, so the next `commit` must not report success without them).
                if let Some(open) = self.open.get_mut(&oldest) {
                    open.commit()?;
                }
                if let Some(open) = self.open.remove(&oldest) {
                    evicted.push(Arc::clone(&open.partition));
                }
            }
            let options = IndexWriterOptions::builder()
                .memory_budget_per_thread(self.slot_bytes)
                .num_worker_threads(1)
                .num_merge_threads(1)
                .build();
            let writer = partition
                .index
                .writer_with_options(options)
                .map_err(|error| tantivy_error(&partition.path, error))?;
            self.open.insert(
                key,
                OpenWriter {
                    partition: Arc::clone(partition),
                    writer,
                    pending: 0,
                    last_used: Instant::now(),
                },
            );
        }
        let open = self
            .open
            .get_mut(&key)
            .ok_or_else(|| IndexError::Corrupt("a writer vanished".into()))?;
        open.last_used = Instant::now();
        Ok(open)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn keys_name_their_day_and_grade() {
        let key = PartitionKey::of(1_763_596_800_000_000_000 + 5, Some(3));
        assert_eq!(key.date(), "2025-11-20");
        assert_eq!(key.path(Path::new("/x")), Path::new("/x/2025-11-20/g3"));
        assert_eq!(PartitionKey::parse("2025-11-20", "g3"), Some(key));
        assert_eq!(key.start_nanos(), 1_763_596_800_000_000_000);
        assert_eq!(key.end_nanos() + 1, key.start_nanos() + NANOS_PER_DAY);
        assert_eq!(PartitionKey::of(-1, None).date(), "1969-12-31");
        assert_eq!(PartitionKey::parse("2025-11-20", "x3"), None);
    }
}
