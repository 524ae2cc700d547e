//! Running a compiled query over partitions: the newest (or oldest) hits after a cursor, date
//! histograms, and top terms. Every loop checks a [`Deadline`] once per block of 64 documents,
//! so a query past its time limit stops with [`IndexError::Timeout`] instead of running on.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tantivy::columnar::ColumnValues;
use tantivy::query::Weight;
use tantivy::schema::IndexRecordOption;
use tantivy::{
    BitSet, COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, DocSet as _, Searcher, SegmentReader,
    TantivyDocument,
};

use super::partition::{Partition, tantivy_error};
use super::schema::IndexSchema;
use super::{EventDoc, IndexError};

/// The most hits one search returns.
pub(crate) const MAX_HITS: usize = 10_000;

/// The most distinct values a terms aggregation counts; later new values go to `other`.
pub(crate) const MAX_DISTINCT: usize = 100_000;

/// The most buckets of a histogram.
pub(crate) const MAX_BUCKETS: usize = 1_000;

/// Readable histogram intervals, in milliseconds.
const INTERVALS_MS: &[u64] = &[
    1_000,
    5_000,
    10_000,
    30_000,
    60_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    604_800_000,
    2_592_000_000,
];

/// When a query must be done.
pub(crate) struct Deadline(Instant);

impl Deadline {
    pub(crate) fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now() + limit)
    }

    pub(crate) fn check(&self) -> Result<(), IndexError> {
        if Instant::now() > self.0 {
            Err(IndexError::Timeout)
        } else {
            Ok(())
        }
    }
}

/// One partition ready to search: its searcher and the query's weight over it.
pub(crate) struct Target {
    pub(crate) partition: Arc<Partition>,
    pub(crate) searcher: Searcher,
    pub(crate) weight: Box<dyn Weight>,
}

/// Calls `each` with the live matching documents of a segment, a block at a time.
fn scan(
    target: &Target,
    reader: &SegmentReader,
    deadline: &Deadline,
    each: &mut dyn FnMut(&[DocId]),
) -> Result<(), IndexError> {
    let path = &target.partition.path;
    let mut scorer = target
        .weight
        .scorer(reader, 1.0)
        .map_err(|error| tantivy_error(path, error))?;
    let alive = reader.alive_bitset();
    let mut buffer = [0 as DocId; COLLECT_BLOCK_BUFFER_LEN];
    let mut live = Vec::with_capacity(COLLECT_BLOCK_BUFFER_LEN);
    loop {
        let count = scorer.fill_buffer(&mut buffer);
        if count == 0 {
            return Ok(());
        }
        deadline.check()?;
        match alive {
            None => each(&buffer[..count]),
            Some(alive) => {
                live.clear();
                live.extend(buffer[..count].iter().copied().filter(|doc| alive.is_alive(*doc)));
                each(&live);
            }
        }
    }
}

fn count_segment(target: &Target, reader: &SegmentReader, deadline: &Deadline) -> Result<u64, IndexError> {
    let mut count = 0u64;
    scan(target, reader, deadline, &mut |docs| count += docs.len() as u64)?;
    Ok(count)
}

fn time_column(target: &Target, reader: &SegmentReader) -> Result<Arc<dyn ColumnValues<i64>>, IndexError> {
    reader
        .fast_fields()
        .column_first_or_default::<i64>("time")
        .map_err(|error| tantivy_error(&target.partition.path, error))
}

/// The place of an event in the sort order: time, then grade (its partition among those of the
/// same day), then the hash of its id. Unlike document addresses it survives merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SortKey {
    pub(crate) time: i64,
    pub(crate) grade: u8,
    pub(crate) seq: u64,
}

/// An order where greater comes first: the sort key itself when descending, its mirror when
/// ascending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank(u64, u8, u64);

fn rank(key: SortKey, descending: bool) -> Rank {
    let time = (key.time as u64) ^ (1 << 63);
    if descending {
        Rank(time, key.grade, key.seq)
    } else {
        Rank(!time, !key.grade, !key.seq)
    }
}

/// Where a page ended: the sort key of its last hit and the order it was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) key: SortKey,
    pub(crate) descending: bool,
}

const CURSOR_VERSION: u8 = 1;

impl Cursor {
    pub(crate) fn encode(self) -> String {
        let mut bytes = Vec::with_capacity(19);
        bytes.push(CURSOR_VERSION);
        bytes.push(u8::from(self.descending));
        bytes.extend_from_slice(&self.key.time.to_be_bytes());
        bytes.push(self.key.grade);
        bytes.extend_from_slice(&self.key.seq.to_be_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    pub(crate) fn decode(text: &str) -> Result<Cursor, IndexError> {
        let invalid = || IndexError::Query("the cursor is not one this index gave".into());
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| invalid())?;
        if bytes.len() != 19 || bytes[0] != CURSOR_VERSION || bytes[1] > 1 {
            return Err(invalid());
        }
        let eight = |at: usize| -> [u8; 8] {
            let mut out = [0u8; 8];
            out.copy_from_slice(&bytes[at..at + 8]);
            out
        };
        Ok(Cursor {
            key: SortKey {
                time: i64::from_be_bytes(eight(2)),
                grade: bytes[10],
                seq: u64::from_be_bytes(eight(11)),
            },
            descending: bytes[1] == 1,
        })
    }
}

/// A hit found but not yet fetched.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    rank: Rank,
    key: SortKey,
    target: usize,
    segment: u32,
    doc: DocId,
}

/// What [`top`] found.
pub(crate) struct Top {
    pub(crate) total: u64,
    pub(crate) hits: Vec<EventDoc>,
    pub(crate) last: Option<SortKey>,
    /// Whether matches remain after the last hit.
    pub(crate) more: bool,
}

/// The first `size` matches in sort order after `cursor`, the number of all matches, and
/// whether more follow. `targets` come in sort order (newest partitions first when descending),
/// so whole segments that cannot reach the page are only counted.
pub(crate) fn top(
    schema: &IndexSchema,
    targets: &[Target],
    size: usize,
    descending: bool,
    cursor: Option<SortKey>,
    deadline: &Deadline,
) -> Result<Top, IndexError> {
    let cursor_rank = cursor.map(|key| rank(key, descending));
    // The kept hits, worst on top.
    let mut heap: BinaryHeap<Reverse<Found>> = BinaryHeap::with_capacity(size + 1);
    let mut total = 0u64;
    let mut after_cursor = 0u64;
    let mut times = vec![0i64; COLLECT_BLOCK_BUFFER_LEN];
    for (target_index, target) in targets.iter().enumerate() {
        let grade = target.partition.key.grade;
        for (segment_ord, reader) in target.searcher.segment_readers().iter().enumerate() {
            if reader.num_docs() == 0 {
                continue;
            }
            let time_values = time_column(target, reader)?;
            // The best and worst rank any document of the segment can have.
            let (low_time, high_time) = (time_values.min_value(), time_values.max_value());
            let (best, worst) = if descending {
                (
                    rank(
                        SortKey {
                            time: high_time,
                            grade,
                            seq: u64::MAX,
                        },
                        true,
                    ),
                    rank(
                        SortKey {
                            time: low_time,
                            grade,
                            seq: 0,
                        },
                        true,
                    ),
                )
            } else {
                (
                    rank(
                        SortKey {
                            time: low_time,
                            grade,
                            seq: 0,
                        },
                        false,
                    ),
                    rank(
                        SortKey {
                            time: high_time,
                            grade,
                            seq: u64::MAX,
                        },
                        false,
                    ),
                )
            };
            let before_cursor = cursor_rank.is_some_and(|cursor| worst >= cursor);
            let below_page = heap.len() >= size && heap.peek().is_none_or(|Reverse(kept)| best < kept.rank);
            if before_cursor || below_page {
                let count = count_segment(target, reader, deadline)?;
                total += count;
                if !before_cursor {
                    after_cursor += count;
                }
                continue;
            }
            let seq_values = reader
                .fast_fields()
                .column_first_or_default::<u64>("seq")
                .map_err(|error| tantivy_error(&target.partition.path, error))?;
            scan(target, reader, deadline, &mut |docs| {
                total += docs.len() as u64;
                time_values.get_vals(docs, &mut times[..docs.len()]);
                for (doc, time) in docs.iter().zip(&times) {
                    // Most documents are decided on their time alone; the id hash (a column
                    // read) only breaks ties with the cursor or the page's worst hit.
                    let key = SortKey {
                        time: *time,
                        grade,
                        seq: 0,
                    };
                    let (with_low, with_high) = (
                        rank(key, descending),
                        rank(SortKey { seq: u64::MAX, ..key }, descending),
                    );
                    let (best, worst) = if with_low > with_high {
                        (with_low, with_high)
                    } else {
                        (with_high, with_low)
                    };
                    let mut exact = None;
                    let mut exact_key = || {
                        *exact.get_or_insert_with(|| SortKey {
                            seq: seq_values.get_val(*doc),
                            ..key
                        })
                    };
                    if let Some(cursor) = cursor_rank
                        && (worst >= cursor || (best >= cursor && rank(exact_key(), descending) >= cursor))
                    {
                        continue;
                    }
                    after_cursor += 1;
                    if size == 0 {
                        continue;
                    }
                    if heap.len() >= size
                        && let Some(Reverse(worst_kept)) = heap.peek()
                        && (best <= worst_kept.rank
                            || (worst <= worst_kept.rank && rank(exact_key(), descending) <= worst_kept.rank))
                    {
                        continue;
                    }
                    let key = exact_key();
                    let found = Found {
                        rank: rank(key, descending),
                        key,
                        target: target_index,
                        segment: segment_ord as u32,
                        doc: *doc,
                    };
                    if heap.len() >= size {
                        heap.pop();
                    }
                    heap.push(Reverse(found));
                }
            })?;
        }
    }
    let mut found: Vec<Found> = heap.into_iter().map(|Reverse(found)| found).collect();
    found.sort_unstable_by(|left, right| right.cmp(left));
    let mut hits = Vec::with_capacity(found.len());
    for hit in &found {
        deadline.check()?;
        let target = &targets[hit.target];
        let document: TantivyDocument = target
            .searcher
            .doc(DocAddress::new(hit.segment, hit.doc))
            .map_err(|error| tantivy_error(&target.partition.path, error))?;
        hits.push(schema.event_doc(&document)?);
    }
    Ok(Top {
        total,
        more: after_cursor > hits.len() as u64,
        last: found.last().map(|hit| hit.key),
        hits,
    })
}

/// The first live match of a query, fetched.
pub(crate) fn first(
    schema: &IndexSchema,
    targets: &[Target],
    deadline: &Deadline,
) -> Result<Option<EventDoc>, IndexError> {
    for target in targets {
        for (segment_ord, reader) in target.searcher.segment_readers().iter().enumerate() {
            let mut found = None;
            scan(target, reader, deadline, &mut |docs| {
                if found.is_none() {
                    found = docs.first().copied();
                }
            })?;
            if let Some(doc) = found {
                let document: TantivyDocument = target
                    .searcher
                    .doc(DocAddress::new(segment_ord as u32, doc))
                    .map_err(|error| tantivy_error(&target.partition.path, error))?;
                return schema.event_doc(&document).map(Some);
            }
        }
    }
    Ok(None)
}

/// The readable interval for about `buckets` buckets over `[from, to]`, in milliseconds, and
/// the number of buckets it makes (at most [`MAX_BUCKETS`]).
pub(crate) fn interval(from_nanos: i64, to_nanos: i64, buckets: usize) -> (u64, usize) {
    let wanted = buckets.clamp(1, MAX_BUCKETS) as i128;
    let count = |interval_ms: u64| {
        let interval = i128::from(interval_ms) * 1_000_000;
        i128::from(to_nanos).div_euclid(interval) - i128::from(from_nanos).div_euclid(interval) + 1
    };
    for &interval_ms in INTERVALS_MS {
        if count(interval_ms) <= wanted {
            return (interval_ms, count(interval_ms) as usize);
        }
    }
    // Longer than the list covers: whole multiples of 30 days.
    let month = 2_592_000_000u64;
    let mut interval_ms = month;
    while count(interval_ms) > wanted {
        interval_ms = interval_ms.saturating_add(month);
    }
    (interval_ms, count(interval_ms) as usize)
}

/// Counts of matches per interval from the first bucket's start (`first_start_nanos`).
pub(crate) fn histogram(
    targets: &[Target],
    first_start_nanos: i64,
    interval_ms: u64,
    bucket_count: usize,
    deadline: &Deadline,
) -> Result<Vec<u64>, IndexError> {
    let interval = i128::from(interval_ms) * 1_000_000;
    let mut counts = vec![0u64; bucket_count];
    let mut times = vec![0i64; COLLECT_BLOCK_BUFFER_LEN];
    for target in targets {
        for reader in target.searcher.segment_readers() {
            if reader.num_docs() == 0 {
                continue;
            }
            let time_values = time_column(target, reader)?;
            scan(target, reader, deadline, &mut |docs| {
                time_values.get_vals(docs, &mut times[..docs.len()]);
                for time in &times[..docs.len()] {
                    let bucket = (i128::from(*time) - i128::from(first_start_nanos)).div_euclid(interval);
                    if let Ok(bucket) = usize::try_from(bucket)
                        && let Some(count) = counts.get_mut(bucket)
                    {
                        *count += 1;
                    }
                }
            })?;
        }
    }
    Ok(counts)
}

/// Value counts, bounded in distinct values.
#[derive(Default)]
pub(crate) struct ValueCounts {
    counts: HashMap<String, u64>,
    /// Values counted but not kept (new values after the bound).
    pub(crate) untracked: u64,
    pub(crate) limit_reached: bool,
}

impl ValueCounts {
    fn add(&mut self, value: &str, count: u64) {
        if let Some(existing) = self.counts.get_mut(value) {
            *existing += count;
        } else if self.counts.len() < MAX_DISTINCT {
            self.counts.insert(value.to_owned(), count);
        } else {
            self.untracked += count;
            self.limit_reached = true;
        }
    }

    /// The `size` most frequent values (ties by value), and the count of all other values.
    pub(crate) fn top(self, size: usize) -> (Vec<(String, u64)>, u64) {
        let mut all: Vec<(String, u64)> = self.counts.into_iter().collect();
        all.sort_unstable_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        let other = all.iter().skip(size).map(|(_, count)| count).sum::<u64>() + self.untracked;
        all.truncate(size);
        (all, other)
    }
}

/// What a terms aggregation counts.
pub(crate) enum TermsSource<'a> {
    /// A fast text column (`host`, `rule_id`...).
    Keyword(&'a str),
    /// The grade column.
    Grade,
    /// An event field: its exact values in the `fields` JSON field, from the postings.
    Json { prefix: Vec<u8> },
}

/// Counts the values of matching documents.
pub(crate) fn terms(
    schema: &IndexSchema,
    targets: &[Target],
    source: &TermsSource<'_>,
    deadline: &Deadline,
) -> Result<ValueCounts, IndexError> {
    let mut values = ValueCounts::default();
    for target in targets {
        let path = &target.partition.path;
        for reader in target.searcher.segment_readers() {
            if reader.num_docs() == 0 {
                continue;
            }
            match source {
                TermsSource::Keyword(name) => {
                    let Some(column) = reader
                        .fast_fields()
                        .str(name)
                        .map_err(|error| tantivy_error(path, error))?
                    else {
                        continue;
                    };
                    let mut per_ord = SegmentCounts::new(column.num_terms());
                    scan(target, reader, deadline, &mut |docs| {
                        for doc in docs {
                            for ord in column.term_ords(*doc) {
                                per_ord.add(ord);
                            }
                        }
                    })?;
                    let mut text = String::new();
                    for (ord, count) in per_ord.iter() {
                        deadline.check()?;
                        if column
                            .ord_to_str(ord, &mut text)
                            .map_err(|source| IndexError::Io {
                                path: path.clone(),
                                source,
                            })?
                        {
                            values.add(&text, count);
                        }
                    }
                }
                TermsSource::Grade => {
                    let column = reader
                        .fast_fields()
                        .u64("grade")
                        .map_err(|error| tantivy_error(path, error))?;
                    let mut per_grade = [0u64; 256];
                    scan(target, reader, deadline, &mut |docs| {
                        for doc in docs {
                            for grade in column.values_for_doc(*doc) {
                                per_grade[grade.min(255) as usize] += 1;
                            }
                        }
                    })?;
                    for (grade, count) in per_grade.iter().enumerate().filter(|(_, count)| **count > 0) {
                        values.add(&grade.to_string(), *count);
                    }
                }
                TermsSource::Json { prefix } => {
                    json_terms(schema, target, reader, prefix, deadline, &mut values)?
                }
            }
        }
    }
    Ok(values)
}

/// Per-ordinal counts of one segment: a vector for dictionaries of reasonable size, a map above.
enum SegmentCounts {
    Dense(Vec<u64>),
    Sparse(HashMap<u64, u64>),
}

impl SegmentCounts {
    fn new(terms: usize) -> SegmentCounts {
        if terms <= 1 << 20 {
            SegmentCounts::Dense(vec![0; terms])
        } else {
            SegmentCounts::Sparse(HashMap::new())
        }
    }

    fn add(&mut self, ord: u64) {
        match self {
            SegmentCounts::Dense(counts) => {
                if let Some(count) = counts.get_mut(ord as usize) {
                    *count += 1;
                }
            }
            SegmentCounts::Sparse(counts) => *counts.entry(ord).or_default() += 1,
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (u64, u64)> + '_> {
        match self {
            SegmentCounts::Dense(counts) => Box::new(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, count)| **count > 0)
                    .map(|(ord, count)| (ord as u64, *count)),
            ),
            SegmentCounts::Sparse(counts) => Box::new(counts.iter().map(|(ord, count)| (*ord, *count))),
        }
    }
}

/// Counts an event field's values in one segment: the matching documents as a bit set, then each
/// term of the field's path, its postings against the set.
fn json_terms(
    schema: &IndexSchema,
    target: &Target,
    reader: &SegmentReader,
    prefix: &[u8],
    deadline: &Deadline,
    values: &mut ValueCounts,
) -> Result<(), IndexError> {
    let path = &target.partition.path;
    let mut matching = BitSet::with_max_value(reader.max_doc());
    let mut any = false;
    scan(target, reader, deadline, &mut |docs| {
        for doc in docs {
            matching.insert(*doc);
        }
        any |= !docs.is_empty();
    })?;
    if !any {
        return Ok(());
    }
    let inverted = reader
        .inverted_index(schema.fields)
        .map_err(|error| tantivy_error(path, error))?;
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    let io_error = |source| IndexError::Io {
        path: path.clone(),
        source,
    };
    let mut stream = inverted
        .terms()
        .range()
        .ge(prefix)
        .lt(&end)
        .into_stream()
        .map_err(io_error)?;
    while stream.advance() {
        deadline.check()?;
        let value = String::from_utf8_lossy(&stream.key()[prefix.len()..]).into_owned();
        let mut postings = inverted
            .read_block_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
            .map_err(io_error)?;
        let mut count = 0u64;
        loop {
            let docs = postings.docs();
            if docs.is_empty() {
                break;
            }
            count += docs.iter().filter(|doc| matching.contains(**doc)).count() as u64;
            postings.advance();
        }
        if count > 0 {
            values.add(&value, count);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_strangers() {
        let cursor = Cursor {
            key: SortKey {
                time: -5,
                grade: 3,
                seq: u64::MAX - 1,
            },
            descending: true,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(Cursor::decode("nonsense!").is_err());
        assert!(Cursor::decode("AAAA").is_err());
    }

    #[test]
    fn ranks_order_both_ways() {
        let early = SortKey {
            time: -1,
            grade: 0,
            seq: 9,
        };
        let late = SortKey {
            time: 1,
            grade: 0,
            seq: 0,
        };
        assert!(rank(late, true) > rank(early, true));
        assert!(rank(early, false) > rank(late, false));
        let tie = SortKey { seq: 10, ..early };
        assert!(rank(tie, true) > rank(early, true));
        assert!(rank(early, false) > rank(tie, false));
    }

    #[test]
    fn intervals_are_readable_and_bounded() {
        const HOUR: i64 = 3_600_000_000_000;
        assert_eq!(interval(0, HOUR - 1, 60), (60_000, 60));
        assert_eq!(interval(0, 24 * HOUR - 1, 60).0, 1_800_000);
        assert_eq!(interval(0, 7 * 24 * HOUR - 1, 60).0, 10_800_000);
        assert_eq!(interval(0, 999, 60), (1_000, 1));
        let (interval_ms, count) = interval(i64::MIN / 2, i64::MAX / 2, 5_000);
        assert!(count <= MAX_BUCKETS, "{count}");
        assert_eq!(interval_ms % 2_592_000_000, 0);
    }

    #[test]
    fn value_counts_stop_tracking_at_the_bound() {
        let mut counts = ValueCounts::default();
        for value in 0..MAX_DISTINCT + 10 {
            counts.add(&value.to_string(), 1);
        }
        counts.add("0", 5);
        assert!(counts.limit_reached);
        assert_eq!(counts.untracked, 10);
        let (top, other) = counts.top(1);
        assert_eq!(top, vec![("0".to_owned(), 6)]);
        assert_eq!(other, (MAX_DISTINCT as u64 - 1) + 10);
    }
}
