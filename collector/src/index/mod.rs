//! The event index: every event the collector receives, searchable by the analysts' API.
//!
//! [`Index`] keeps one tantivy index per UTC day and information-system grade (a *partition*,
//! `<directory>/<YYYY-MM-DD>/g<grade>/`), so retention ([`Index::enforce_retention`] with a
//! [`RetentionPolicy`]) drops whole directories, and a search opens only the partitions its time
//! range overlaps.
//!
//! - Writing: [`Index::add`] turns [`IndexEvent`]s into documents (`schema.rs` has the fields) and
//!   hands them to the partition's writer; [`Index::commit`] (about once a second) makes them
//!   durable and searchable.
//! - Reading: a [`SearchRequest`], [`HistogramRequest`] or [`TermsRequest`] carries a query in a
//!   small Lucene-like language (`query.rs` has the grammar, `compile.rs` the meaning of each field)
//!   and a time limit; the caller's [`Scope`] becomes a filter inside the query, so counts and
//!   aggregations of an agency viewer never include another agency's events.
//! - Hits come newest first (or oldest first) by (time, grade, hash of the id), and a page's
//!   `next_cursor` resumes exactly after its last hit, whatever was indexed or merged meanwhile.
//!
//! # Query language
//!
//! `field:value`, `field:"a phrase"`, wildcards `*` and `?` in values (`user.name:adm?n`,
//! `process.command_line:*powershell*`), ranges `field:[a TO b]` / `{a TO b}` / `field:>=a` over
//! numbers, times and text, `field:*` (has a value), `AND` / `OR` / `NOT` / `-` / `+` (juxtaposed
//! clauses are ANDed; `OR` binds loosest), parentheses (`host:(web01 OR db01)`), and bare words or
//! phrases, which search the raw line. Field names are the core fields (`time`, `id`, `host`,
//! `agency`, `system`, `grade`, `source_type`, `severity`, `rule_id`, `product`, `category`,
//! `service`, `raw`) or any event field by its flat name (`EventID`, `user.name`; `fields.host`
//! reaches an event field a core name hides). Values match without regard to case, except ids.
//! Errors name the character position (from 1).

mod compile;
mod partition;
mod query;
mod retention;
mod schema;
mod search;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tantivy::Term;
use tantivy::query::{EnableScoring, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use partition::{Partition, PartitionKey, StartedCommit, Writers, tantivy_error};
use schema::IndexSchema;
use search::{Cursor, Deadline, Target, TermsSource};

pub use retention::RetentionPolicy;

/// The default writer memory, shared by all open partition writers.
pub const DEFAULT_WRITER_MEMORY_BYTES: usize = 128 << 20;

/// Where and how the index lives.
#[derive(Clone, Debug)]
pub struct IndexConfig {
    /// The index directory (one subdirectory per day).
    pub directory: PathBuf,
    /// Memory for the writers, all partitions together ([`DEFAULT_WRITER_MEMORY_BYTES`]); at
    /// least 20 MiB.
    pub writer_memory_bytes: usize,
    /// The least number of days partitions of unknown grade are kept, whatever a policy says:
    /// an event whose system is not in the inventory may come from a high-grade system.
    pub default_retention_days: u32,
}

impl IndexConfig {
    /// A configuration with the default memory and 31 days for unknown grades.
    pub fn new(directory: impl Into<PathBuf>) -> IndexConfig {
        IndexConfig {
            directory: directory.into(),
            writer_memory_bytes: DEFAULT_WRITER_MEMORY_BYTES,
            default_retention_days: 31,
        }
    }
}

/// An event to index, with what matching found.
#[derive(Clone, Debug)]
pub struct IndexEvent {
    /// Unique id (the WAL position for agent events), for `get` and replace-on-replay.
    pub id: String,
    /// The event.
    pub event: haidang_event::Event,
    /// The information-system grade of its host (1 to 5), when known.
    pub grade: Option<u8>,
    /// The highest level of the rules it matched.
    pub severity: Option<String>,
    /// The rules it matched.
    pub rule_ids: Vec<String>,
}

/// Whose events a caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every event (administrators, analysts).
    All,
    /// Only events of these agencies (an agency viewer); events with no agency are not theirs.
    Agencies(Vec<String>),
}

/// A search.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    /// The query (Lucene-like, see the module docs; empty or `*`: everything).
    pub query: String,
    /// Events from this time (inclusive, nanoseconds since the epoch).
    pub from_nanos: i64,
    /// Events up to this time (inclusive).
    pub to_nanos: i64,
    /// Hits per page (at most 10,000; 0 only counts).
    pub size: usize,
    /// Newest first (else oldest first).
    pub descending: bool,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// How long the search may run.
    pub time_limit: Duration,
}

/// A page of hits.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResult {
    /// All matches (not only this page's).
    pub total: u64,
    /// The page.
    pub hits: Vec<EventDoc>,
    /// Where the next page starts, if matches remain.
    pub next_cursor: Option<String>,
    /// How long the search took.
    pub took_ms: u64,
}

/// An indexed event, in the API's `Event` shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventDoc {
    /// Its id.
    pub id: String,
    /// When it happened (or was indexed, if it said nothing), as RFC 3339 in JSON.
    #[serde(rename = "timestamp", serialize_with = "rfc3339")]
    pub timestamp_nanos: i64,
    /// Its host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Its agency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Its information system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The system's grade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<u8>,
    /// The kind of source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// The highest level of the rules it matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The rules it matched.
    pub rule_ids: Vec<String>,
    /// The raw record.
    pub raw: String,
    /// The event's fields (a repeated name is a list).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

fn rfc3339<S: serde::Serializer>(nanos: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::parse::format_nanos(*nanos))
}

/// A date histogram.
#[derive(Clone, Debug)]
pub struct HistogramRequest {
    /// The query.
    pub query: String,
    /// From (inclusive).
    pub from_nanos: i64,
    /// To (inclusive).
    pub to_nanos: i64,
    /// About how many buckets (at most 1,000); the interval is rounded to a readable step.
    pub buckets: usize,
    /// How long it may run.
    pub time_limit: Duration,
}

/// Event counts over time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Histogram {
    /// The bucket width.
    pub interval_ms: u64,
    /// (bucket start in nanoseconds, count), every bucket from the one holding `from` to the one
    /// holding `to`, empty ones included.
    pub buckets: Vec<(i64, u64)>,
    /// How long it took.
    pub took_ms: u64,
}

/// Top values of a field.
#[derive(Clone, Debug)]
pub struct TermsRequest {
    /// The query.
    pub query: String,
    /// From (inclusive).
    pub from_nanos: i64,
    /// To (inclusive).
    pub to_nanos: i64,
    /// `host`, `agency`, `system`, `source_type`, `severity`, `rule_id`, `product`, `category`,
    /// `service`, `grade`, or an event field (`user.name`).
    pub field: String,
    /// How many values (at most 10,000).
    pub size: usize,
    /// How long it may run.
    pub time_limit: Duration,
}

/// The most frequent values of a field among the matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Terms {
    /// The field.
    pub field: String,
    /// (value, events), most frequent first.
    pub buckets: Vec<(String, u64)>,
    /// Events with another value.
    pub other: u64,
    /// Whether more than 100,000 distinct values were seen: values first seen after that were
    /// counted in `other` only, so a frequent late value may be missing from `buckets`.
    pub distinct_limit_reached: bool,
    /// How long it took.
    pub took_ms: u64,
}

/// A partition on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionInfo {
    /// Its UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Its grade (0: unknown).
    pub grade: u8,
    /// Its directory.
    pub path: PathBuf,
    /// The first nanosecond of the day.
    pub start_nanos: i64,
    /// The last nanosecond of the day.
    pub end_nanos: i64,
    /// Committed documents (deleted ones not yet merged away included).
    pub documents: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The query or request is not valid; the message says what and where (character position
    /// from 1 for query text).
    #[error("{0}")]
    Query(String),
    /// The query ran past its time limit.
    #[error("the query ran past its time limit")]
    Timeout,
    /// The configuration cannot work.
    #[error("{0}")]
    Config(String),
    /// A retention policy does not read.
    #[error("retention policy {name}: {message}")]
    Retention {
        /// Where the policy came from.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A file operation failed.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// Tantivy failed on a partition.
    #[error("index partition {path}: {source}", path = path.display())]
    Tantivy {
        /// The partition directory.
        path: PathBuf,
        /// The failure.
        source: Box<tantivy::TantivyError>,
    },
    /// Something read back is not what was written.
    #[error("{0}")]
    Corrupt(String),
    /// The export's consumer failed (the client went away).
    #[error("export: {0}")]
    Export(std::io::Error),
}

/// The event index (cheap to clone; all clones are the same index).
#[derive(Clone)]
pub struct Index {
    inner: Arc<Inner>,
}

struct Inner {
    directory: PathBuf,
    default_retention_days: u32,
    schema: IndexSchema,
    /// Every partition on disk. Lock order: `writers` before `partitions`.
    partitions: RwLock<BTreeMap<PartitionKey, Arc<Partition>>>,
    writers: Mutex<Writers>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_nanos() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

fn took_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Index {
    /// Opens the index in `config.directory` (created if missing) with the partitions found there.
    pub fn open(config: IndexConfig) -> Result<Index, IndexError> {
        let directory = config.directory;
        let io_error = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source: std::io::Error| IndexError::Io { path, source }
        };
        std::fs::create_dir_all(&directory).map_err(io_error(&directory))?;
        let schema = IndexSchema::new();
        let mut partitions = BTreeMap::new();
        for day in std::fs::read_dir(&directory).map_err(io_error(&directory))? {
            let day = day.map_err(io_error(&directory))?;
            let day_name = day.file_name().to_string_lossy().into_owned();
            if !day.path().is_dir() {
                continue;
            }
            for grade in std::fs::read_dir(day.path()).map_err(io_error(&day.path()))? {
                let grade = grade.map_err(io_error(&day.path()))?;
                let Some(key) = PartitionKey::parse(&day_name, &grade.file_name().to_string_lossy()) else {
                    continue;
                };
                if grade.path().join("meta.json").exists() {
                    partitions.insert(key, Arc::new(Partition::open(&directory, key, &schema)?));
                }
            }
        }
        Ok(Index {
            inner: Arc::new(Inner {
                writers: Mutex::new(Writers::new(config.writer_memory_bytes)?),
                directory,
                default_retention_days: config.default_retention_days,
                schema,
                partitions: RwLock::new(partitions),
            }),
        })
    }

    /// Buffers events for indexing. With `replace`, an existing document with the same id is
    /// replaced (used when the collector replays its write-ahead log after a crash, so replays
    /// never duplicate). An event without a time is filed at the time it is added; on replace it
    /// also replaces a copy filed the day before (a replay just after midnight).
    pub fn add(&self, events: Vec<IndexEvent>, replace: bool) -> Result<(), IndexError> {
        let inner = &self.inner;
        let now = now_nanos();
        // Documents are built before taking the writers' lock, so callers build in parallel.
        let mut groups: BTreeMap<PartitionKey, Vec<(tantivy::TantivyDocument, Option<Term>)>> =
            BTreeMap::new();
        let mut undated_replaced: Vec<(PartitionKey, Term)> = Vec::new();
        for event in &events {
            let time = event.event.timestamp_nanos.unwrap_or(now);
            let key = PartitionKey::of(time, event.grade);
            let document = inner.schema.document(event, time)?;
            let delete = replace.then(|| Term::from_field_text(inner.schema.id, &event.id));
            if let Some(term) = &delete
                && event.event.timestamp_nanos.is_none()
            {
                let previous_day = PartitionKey {
                    day: key.day - 1,
                    ..key
                };
                undated_replaced.push((previous_day, term.clone()));
            }
            groups.entry(key).or_default().push((document, delete));
        }
        drop(events);
        let mut evicted = Vec::new();
        {
            let mut writers = lock(&inner.writers);
            for (key, documents) in groups {
                let partition = self.partition(key)?;
                let open = writers.writer(&partition, &mut evicted)?;
                for (document, delete) in documents {
                    if let Some(term) = delete {
                        open.writer.delete_term(term);
                    }
                    open.writer
                        .add_document(document)
                        .map_err(|error| tantivy_error(&partition.path, error))?;
                    open.pending += 1;
                }
            }
            for (key, term) in undated_replaced {
                let exists = inner
                    .partitions
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&key)
                    .cloned();
                if let Some(partition) = exists {
                    let open = writers.writer(&partition, &mut evicted)?;
                    open.writer.delete_term(term);
                    open.pending += 1;
                }
            }
        }
        for partition in evicted {
            partition.reload()?;
        }
        Ok(())
    }

    /// The partition of a key, created when new.
    fn partition(&self, key: PartitionKey) -> Result<Arc<Partition>, IndexError> {
        let inner = &self.inner;
        if let Some(partition) = inner
            .partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Arc::clone(partition));
        }
        let mut partitions = inner.partitions.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(partition) = partitions.get(&key) {
            return Ok(Arc::clone(partition));
        }
        let partition = Arc::new(Partition::open(&inner.directory, key, &inner.schema)?);
        partitions.insert(key, Arc::clone(&partition));
        Ok(partition)
    }

    /// Commits every partition with pending documents and reloads the searchers; when it
    /// returns, the events are durable and searchable. The collector calls it about once a
    /// second. Writers of past days idle for ten minutes are closed.
    pub fn commit(&self) -> Result<(), IndexError> {
        let mut first_error = None;
        // Under the writers' lock, each partition with pending documents flushes its segment
        // (term dictionaries, postings, document store: one core's work per partition, so they
        // run side by side) and hands the commit to its segment updater. The updater's fsyncs
        // are waited for after the lock is released, so adding goes on meanwhile.
        let started: Vec<(Arc<Partition>, StartedCommit)> = {
            let mut writers = lock(&self.inner.writers);
            // Writers of past days idle for long are closed first (only those with nothing
            // pending, so no commit is in flight on a closed writer).
            let now = now_nanos();
            writers.open.retain(|key, open| {
                open.pending > 0
                    || key.end_nanos() >= now
                    || open.last_used.elapsed() < partition::WRITER_IDLE
            });
            std::thread::scope(|scope| {
                let handles: Vec<_> = writers
                    .open
                    .values_mut()
                    .filter(|open| open.pending > 0)
                    .map(|open| {
                        let partition = Arc::clone(&open.partition);
                        (partition, scope.spawn(move || open.start_commit()))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|(partition, handle)| {
                        let result = handle.join().unwrap_or_else(|_| {
                            Err(IndexError::Corrupt(format!(
                                "the commit of {} panicked",
                                partition.path.display()
                            )))
                        });
                        (partition, result)
                    })
                    .collect()
            })
        };
        let mut failed = Vec::new();
        for (partition, result) in started {
            let done = result.and_then(|future| match future {
                Some(future) => future
                    .wait()
                    .map(drop)
                    .map_err(|error| tantivy_error(&partition.path, error)),
                None => Ok(()),
            });
            match done.and_then(|()| partition.reload()) {
                Ok(()) => {}
                Err(error) => {
                    failed.push(partition.key);
                    first_error.get_or_insert(error);
                }
            }
        }
        if !failed.is_empty() {
            // What a failed commit held is not durable: the next commit must try again.
            let mut writers = lock(&self.inner.writers);
            for key in failed {
                if let Some(open) = writers.open.get_mut(&key) {
                    open.pending = open.pending.max(1);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The partitions overlapping `[from, to]`, in the order a search visits them.
    fn overlapping(&self, from_nanos: i64, to_nanos: i64, newest_first: bool) -> Vec<Arc<Partition>> {
        let partitions = self
            .inner
            .partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut found: Vec<Arc<Partition>> = partitions
            .values()
            .filter(|partition| {
                partition.key.start_nanos() <= to_nanos && partition.key.end_nanos() >= from_nanos
            })
            .cloned()
            .collect();
        drop(partitions);
        if newest_first {
            found.reverse();
        }
        found
    }

    /// The query over each partition, restricted to the scope and (where a partition sticks
    /// out of it) the time range.
    fn targets(
        &self,
        query: &dyn Query,
        scope: &Scope,
        from_nanos: i64,
        to_nanos: i64,
        newest_first: bool,
    ) -> Result<Vec<Target>, IndexError> {
        let schema = &self.inner.schema;
        let mut targets = Vec::new();
        for partition in self.overlapping(from_nanos, to_nanos, newest_first) {
            let mut filters = Vec::with_capacity(2);
            filters.extend(compile::scope_filter(schema, scope));
            if partition.key.start_nanos() < from_nanos || partition.key.end_nanos() > to_nanos {
                filters.push(compile::time_filter(schema, from_nanos, to_nanos));
            }
            let searcher = partition.searcher()?;
            if searcher.num_docs() == 0 {
                continue;
            }
            let restricted = compile::restrict(query.box_clone(), filters);
            let weight = restricted
                .weight(EnableScoring::disabled_from_searcher(&searcher))
                .map_err(|error| tantivy_error(&partition.path, error))?;
            targets.push(Target {
                partition,
                searcher,
                weight,
            });
        }
        Ok(targets)
    }

    fn compile(&self, text: &str) -> Result<Box<dyn Query>, IndexError> {
        let node = query::parse(text).map_err(|error| IndexError::Query(error.to_string()))?;
        compile::compile(&self.inner.schema, &node)
    }

    fn check_range(from_nanos: i64, to_nanos: i64) -> Result<(), IndexError> {
        if from_nanos > to_nanos {
            return Err(IndexError::Query("the time range ends before it starts".into()));
        }
        Ok(())
    }

    /// One page of events matching a query, in time order.
    pub fn search(&self, request: &SearchRequest, scope: &Scope) -> Result<SearchResult, IndexError> {
        let started = Instant::now();
        let deadline = Deadline::after(request.time_limit);
        Self::check_range(request.from_nanos, request.to_nanos)?;
        if request.size > search::MAX_HITS {
            return Err(IndexError::Query(format!("size is at most {}", search::MAX_HITS)));
        }
        let cursor = match &request.cursor {
            Some(text) => {
                let cursor = Cursor::decode(text)?;
                if cursor.descending != request.descending {
                    return Err(IndexError::Query(
                        "the cursor belongs to the other sort order".into(),
                    ));
                }
                Some(cursor.key)
            }
            None => None,
        };
        let query = self.compile(&request.query)?;
        let targets = self.targets(
            query.as_ref(),
            scope,
            request.from_nanos,
            request.to_nanos,
            request.descending,
        )?;
        let top = search::top(
            &self.inner.schema,
            &targets,
            request.size,
            request.descending,
            cursor,
            &deadline,
        )?;
        let next_cursor = match top.last {
            Some(key) if top.more => Some(
                Cursor {
                    key,
                    descending: request.descending,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(SearchResult {
            total: top.total,
            hits: top.hits,
            next_cursor,
            took_ms: took_ms(started),
        })
    }

    /// One event by id, if the scope lets the caller see it.
    pub fn get(&self, id: &str, scope: &Scope) -> Result<Option<EventDoc>, IndexError> {
        let query = TermQuery::new(
            Term::from_field_text(self.inner.schema.id, id),
            IndexRecordOption::Basic,
        );
        let targets = self.targets(&query, scope, i64::MIN, i64::MAX, true)?;
        search::first(
            &self.inner.schema,
            &targets,
            &Deadline::after(Duration::from_secs(30)),
        )
    }

    /// Counts of matching events over time.
    pub fn histogram(&self, request: &HistogramRequest, scope: &Scope) -> Result<Histogram, IndexError> {
        let started = Instant::now();
        let deadline = Deadline::after(request.time_limit);
        Self::check_range(request.from_nanos, request.to_nanos)?;
        let (interval_ms, bucket_count) =
            search::interval(request.from_nanos, request.to_nanos, request.buckets);
        let interval = i128::from(interval_ms) * 1_000_000;
        let first_start = i128::from(request.from_nanos).div_euclid(interval) * interval;
        let first_start = i64::try_from(first_start).unwrap_or(i64::MIN);
        let query = self.compile(&request.query)?;
        let targets = self.targets(query.as_ref(), scope, request.from_nanos, request.to_nanos, true)?;
        let counts = search::histogram(&targets, first_start, interval_ms, bucket_count, &deadline)?;
        let buckets = counts
            .into_iter()
            .enumerate()
            .map(|(bucket, count)| {
                let start = i128::from(first_start) + bucket as i128 * interval;
                (i64::try_from(start).unwrap_or(i64::MAX), count)
            })
            .collect();
        Ok(Histogram {
            interval_ms,
            buckets,
            took_ms: took_ms(started),
        })
    }

    /// The most frequent values of a field among matching events.
    pub fn terms(&self, request: &TermsRequest, scope: &Scope) -> Result<Terms, IndexError> {
        let started = Instant::now();
        let deadline = Deadline::after(request.time_limit);
        Self::check_range(request.from_nanos, request.to_nanos)?;
        if request.size > search::MAX_HITS {
            return Err(IndexError::Query(format!("size is at most {}", search::MAX_HITS)));
        }
        let schema = &self.inner.schema;
        let field = request.field.trim();
        let source = match field {
            "" => return Err(IndexError::Query("terms need a field".into())),
            "grade" => TermsSource::Grade,
            "time" | "timestamp" | "@timestamp" | "id" | "raw" => {
                return Err(IndexError::Query(format!(
                    "`{field}` has a value per event; use the histogram for time"
                )));
            }
            other => match other
                .strip_prefix("fields.")
                .map_or_else(|| schema.keyword(other), |_| None)
            {
                Some((_, schema_name)) => TermsSource::Keyword(schema_name),
                None => {
                    let path = other.strip_prefix("fields.").unwrap_or(other);
                    let mut prefix = Term::from_field_json_path(schema.fields, path, true)
                        .serialized_value_bytes()
                        .to_vec();
                    prefix.push(b's');
                    TermsSource::Json { prefix }
                }
            },
        };
        let query = self.compile(&request.query)?;
        let targets = self.targets(query.as_ref(), scope, request.from_nanos, request.to_nanos, true)?;
        let counts = search::terms(schema, &targets, &source, &deadline)?;
        let distinct_limit_reached = counts.limit_reached;
        let (buckets, other) = counts.top(request.size);
        Ok(Terms {
            field: request.field.clone(),
            buckets,
            other,
            distinct_limit_reached,
            took_ms: took_ms(started),
        })
    }

    /// Every event matching a search (its `size` and `cursor` ignored), in its order, at most
    /// `limit`, each handed to `each`; returns how many. Pages of 10,000 are searched one after
    /// the other, each within the request's time limit.
    pub fn export(
        &self,
        request: &SearchRequest,
        scope: &Scope,
        limit: usize,
        each: &mut dyn FnMut(EventDoc) -> std::io::Result<()>,
    ) -> Result<u64, IndexError> {
        let mut page = SearchRequest {
            cursor: None,
            ..request.clone()
        };
        let mut exported = 0usize;
        while exported < limit {
            page.size = (limit - exported).min(search::MAX_HITS);
            let result = self.search(&page, scope)?;
            for document in result.hits {
                each(document).map_err(IndexError::Export)?;
                exported += 1;
            }
            match result.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => break,
            }
        }
        Ok(exported as u64)
    }

    /// The partitions on disk, oldest first.
    pub fn partitions(&self) -> Vec<PartitionInfo> {
        let partitions: Vec<Arc<Partition>> = self
            .inner
            .partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        partitions.iter().map(|partition| partition.info()).collect()
    }

    /// Drops the partitions whose newest possible event is older than the policy keeps for their
    /// grade (unknown grade: at least `default_retention_days`), and returns them.
    pub fn enforce_retention(
        &self,
        policy: &RetentionPolicy,
        now_nanos: i64,
    ) -> Result<Vec<PartitionInfo>, IndexError> {
        let inner = &self.inner;
        let keep_days = |grade: u8| {
            let days = policy.days_for(grade);
            if grade == 0 {
                days.max(inner.default_retention_days)
            } else {
                days
            }
        };
        let expired: Vec<PartitionKey> = inner
            .partitions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .filter(|key| {
                let keep = i64::from(keep_days(key.grade)).saturating_mul(compile::NANOS_PER_DAY);
                key.end_nanos().saturating_add(keep) < now_nanos
            })
            .copied()
            .collect();
        let mut dropped = Vec::with_capacity(expired.len());
        let mut writers = lock(&inner.writers);
        for key in expired {
            // Its writer goes without committing: what it holds is as expired as the rest.
            writers.open.remove(&key);
            let removed = inner
                .partitions
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
            let Some(partition) = removed else { continue };
            let info = partition.info();
            std::fs::remove_dir_all(&partition.path).map_err(|source| IndexError::Io {
                path: partition.path.clone(),
                source,
            })?;
            if let Some(day_directory) = partition.path.parent() {
                // Only succeeds once the day has no partition left.
                let _ = std::fs::remove_dir(day_directory);
            }
            dropped.push(info);
        }
        Ok(dropped)
    }
}
