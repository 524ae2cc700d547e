//! The index end to end, on small events written here.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use haidang_event::{Event, Fields, Logsource, Value};

use super::*;

const DAY: i64 = compile::NANOS_PER_DAY;
/// 2026-11-20T00:00:00Z.
const T0: i64 = 1_795_132_800_000_000_000;
const SECOND: i64 = 1_000_000_000;

struct Spec<'a> {
    id: &'a str,
    time: i64,
    host: &'a str,
    agency: Option<&'a str>,
    grade: Option<u8>,
    raw: &'a str,
    fields: &'a [(&'a str, Value)],
}

fn event(spec: Spec<'_>) -> IndexEvent {
    let mut fields = Fields::new();
    for (name, value) in spec.fields {
        fields.push(*name, value.clone());
    }
    IndexEvent {
        id: spec.id.to_owned(),
        event: Event {
            timestamp_nanos: Some(spec.time),
            host: Some(spec.host.to_owned()),
            agency: spec.agency.map(str::to_owned),
            system: Some("portal".into()),
            source_type: Some("syslog".into()),
            logsource: Logsource {
                product: Some("linux".into()),
                category: None,
                service: Some("auth".into()),
            },
            raw: spec.raw.to_owned(),
            fields,
        },
        grade: spec.grade,
        severity: None,
        rule_ids: Vec::new(),
    }
}

fn simple(id: &str, time: i64, host: &str, agency: &str) -> IndexEvent {
    event(Spec {
        id,
        time,
        host,
        agency: Some(agency),
        grade: Some(3),
        raw: "a line",
        fields: &[],
    })
}

fn open(directory: &std::path::Path) -> Index {
    Index::open(IndexConfig {
        directory: directory.to_path_buf(),
        writer_memory_bytes: 64 << 20,
        default_retention_days: 31,
    })
    .unwrap()
}

fn request(query: &str, size: usize) -> SearchRequest {
    SearchRequest {
        query: query.to_owned(),
        from_nanos: T0 - 365 * DAY,
        to_nanos: T0 + 365 * DAY,
        size,
        descending: true,
        cursor: None,
        time_limit: Duration::from_secs(30),
    }
}

fn ids(index: &Index, query: &str) -> BTreeSet<String> {
    let result = index.search(&request(query, 1000), &Scope::All).unwrap();
    assert_eq!(result.total as usize, result.hits.len(), "{query}");
    result.hits.into_iter().map(|hit| hit.id).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// Events for the query-language tests.
fn query_corpus() -> (tempfile::TempDir, Index) {
    let directory = tempfile::tempdir().unwrap();
    let index = open(directory.path());
    let events = vec![
        event(Spec {
            id: "ssh-fail",
            time: T0 + 10 * SECOND,
            host: "web01",
            agency: Some("hp"),
            grade: Some(3),
            raw: "Failed password for invalid user admin from 10.0.0.5 port 22 ssh2",
            fields: &[
                ("user.name", Value::Str("Admin".into())),
                ("source.ip", Value::Str("10.0.0.5".into())),
                ("source.port", Value::Str("22".into())),
                ("event.outcome", Value::Str("failure".into())),
                (
                    "message",
                    Value::Str("Failed password for invalid user admin from 10.0.0.5".into()),
                ),
            ],
        }),
        event(Spec {
            id: "ssh-ok",
            time: T0 + 20 * SECOND,
            host: "WEB02",
            agency: Some("hp"),
            grade: Some(3),
            raw: "Accepted publickey for alice from 10.0.0.6 port 50022 ssh2",
            fields: &[
                ("user.name", Value::Str("alice".into())),
                ("source.port", Value::Int(50022)),
                ("event.outcome", Value::Str("success".into())),
            ],
        }),
        event(Spec {
            id: "win-4625",
            time: T0 + DAY + 30 * SECOND,
            host: "dc01",
            agency: Some("qn"),
            grade: Some(4),
            raw: "An account failed to log on.",
            fields: &[
                ("EventID", Value::Int(4625)),
                ("Channel", Value::Str("Security".into())),
                ("TargetUserName", Value::Str("Administrator".into())),
            ],
        }),
        event(Spec {
            id: "win-ps",
            time: T0 + DAY + 40 * SECOND,
            host: "ws07",
            agency: Some("qn"),
            grade: None,
            raw: "Process Create",
            fields: &[
                ("EventID", Value::Str("1".into())),
                (
                    "process.command_line",
                    Value::Str(
                        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -enc SQBFAFgA".into(),
                    ),
                ),
                ("process.pid", Value::Float(4242.0)),
                ("message", Value::Str("Failed to start the service".into())),
                ("tags", Value::Str("first".into())),
                ("tags", Value::Str("second".into())),
            ],
        }),
    ];
    index.add(events, false).unwrap();
    index.commit().unwrap();
    (directory, index)
}

#[test]
fn events_are_searchable_right_after_commit() {
    let directory = tempfile::tempdir().unwrap();
    let index = open(directory.path());
    index.add(vec![simple("a", T0, "web01", "hp")], false).unwrap();
    assert_eq!(index.search(&request("*", 10), &Scope::All).unwrap().total, 0);
    index.commit().unwrap();
    let result = index.search(&request("*", 10), &Scope::All).unwrap();
    assert_eq!(result.total, 1);
    assert_eq!(result.hits[0].id, "a");
    index
        .add(vec![simple("b", T0 + 1, "web01", "hp")], false)
        .unwrap();
    index.commit().unwrap();
    assert_eq!(index.search(&request("*", 10), &Scope::All).unwrap().total, 2);
    // And after reopening.
    drop(index);
    let index = open(directory.path());
    assert_eq!(index.search(&request("*", 10), &Scope::All).unwrap().total, 2);
    assert_eq!(index.partitions().len(), 1);
    assert_eq!(index.partitions()[0].day, "2026-11-20");
    assert_eq!(index.partitions()[0].grade, 3);
    assert!(
        directory
            .path()
            .join("2026-11-20")
            .join("g3")
            .join("meta.json")
            .exists()
    );
}

#[test]
fn field_values_match_in_any_case() {
    let (_directory, index) = query_corpus();
    assert_eq!(ids(&index, "host:web01"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "host:web02"), set(&["ssh-ok"]));
    assert_eq!(ids(&index, "host:WEB01"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "user.name:admin"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "user.name:ALICE"), set(&["ssh-ok"]));
    assert_eq!(ids(&index, "agency:qn"), set(&["win-4625", "win-ps"]));
    assert_eq!(
        ids(&index, "product:linux"),
        set(&["ssh-fail", "ssh-ok", "win-4625", "win-ps"])
    );
    assert_eq!(ids(&index, "grade:4"), set(&["win-4625"]));
    assert_eq!(ids(&index, "id:win-ps"), set(&["win-ps"]));
    assert_eq!(ids(&index, "source.ip:10.0.0.5"), set(&["ssh-fail"]));
}

#[test]
fn numbers_match_as_text_and_as_numbers() {
    let (_directory, index) = query_corpus();
    assert_eq!(ids(&index, "EventID:4625"), set(&["win-4625"]));
    assert_eq!(ids(&index, "EventID:1"), set(&["win-ps"]));
    assert_eq!(ids(&index, "process.pid:4242"), set(&["win-ps"]));
    assert_eq!(ids(&index, "source.port:[1 TO 1023]"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "source.port:>1023"), set(&["ssh-ok"]));
    assert_eq!(ids(&index, "source.port:{22 TO *]"), set(&["ssh-ok"]));
    assert_eq!(ids(&index, "EventID:[1 TO 4625]"), set(&["win-4625", "win-ps"]));
    assert_eq!(ids(&index, "EventID:<2"), set(&["win-ps"]));
    assert_eq!(ids(&index, "process.pid:[4242.5 TO 5000]"), set(&[]));
    // Text ranges compare text.
    assert_eq!(ids(&index, "Channel:[R TO T]"), set(&["win-4625"]));
}

#[test]
fn phrases_words_and_bare_words() {
    let (_directory, index) = query_corpus();
    assert_eq!(ids(&index, "failed"), set(&["ssh-fail", "win-4625"]));
    assert_eq!(ids(&index, "\"failed password\""), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "\"password failed\""), set(&[]));
    assert_eq!(ids(&index, "10.0.0.5"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "raw:publickey"), set(&["ssh-ok"]));
    // A word inside a longer event field value.
    assert_eq!(ids(&index, "message:failed"), set(&["ssh-fail", "win-ps"]));
    assert_eq!(ids(&index, "message:\"start the service\""), set(&["win-ps"]));
    assert_eq!(
        ids(&index, "message:\"Failed to start the service\""),
        set(&["win-ps"])
    );
    assert_eq!(ids(&index, "tags:second"), set(&["win-ps"]));
    // `message` holding part of the raw line is searched there.
    assert_eq!(ids(&index, "message:password"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "message:\"invalid user admin\""), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "message:passw*"), set(&["ssh-fail"]));
}

#[test]
fn wildcards_match_whole_values_and_words() {
    let (_directory, index) = query_corpus();
    assert_eq!(ids(&index, "process.command_line:*powershell*"), set(&["win-ps"]));
    assert_eq!(
        ids(&index, "process.command_line:*POWERSHELL.EXE*"),
        set(&["win-ps"])
    );
    assert_eq!(
        ids(&index, r"process.command_line:C\:\\Windows\\*"),
        set(&["win-ps"])
    );
    assert_eq!(ids(&index, "user.name:a?min"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "host:web*"), set(&["ssh-fail", "ssh-ok"]));
    assert_eq!(ids(&index, "pass*"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "*shell.ex*"), set(&[]));
    assert_eq!(ids(&index, "message:fail*"), set(&["ssh-fail", "win-ps"]));
    assert_eq!(ids(&index, "TargetUserName:*"), set(&["win-4625"]));
    // Values too long to index whole are found by their words and still exist.
    assert_eq!(ids(&index, "process.command_line:*"), set(&["win-ps"]));
    assert_eq!(ids(&index, "message:*"), set(&["ssh-fail", "win-ps"]));
    assert_eq!(
        ids(&index, "process.command_line:\"powershell.exe -enc\""),
        set(&["win-ps"])
    );
    assert_eq!(ids(&index, "_exists_:TargetUserName"), set(&["win-4625"]));
    assert_eq!(ids(&index, "grade:*"), set(&["ssh-fail", "ssh-ok", "win-4625"]));
}

#[test]
fn boolean_operators_and_parentheses() {
    let (_directory, index) = query_corpus();
    assert_eq!(ids(&index, "failed AND host:web01"), set(&["ssh-fail"]));
    assert_eq!(ids(&index, "failed host:dc01"), set(&["win-4625"]));
    assert_eq!(
        ids(&index, "host:web01 OR host:dc01"),
        set(&["ssh-fail", "win-4625"])
    );
    assert_eq!(ids(&index, "failed NOT host:web01"), set(&["win-4625"]));
    assert_eq!(ids(&index, "failed -host:web01"), set(&["win-4625"]));
    assert_eq!(ids(&index, "NOT agency:hp"), set(&["win-4625", "win-ps"]));
    assert_eq!(
        ids(&index, "(host:web01 OR host:ws07) AND NOT EventID:1"),
        set(&["ssh-fail"])
    );
    assert_eq!(
        ids(&index, "host:(web01 OR dc01) failed"),
        set(&["ssh-fail", "win-4625"])
    );
    assert_eq!(
        ids(&index, "event.outcome:failure || EventID:4625"),
        set(&["ssh-fail", "win-4625"])
    );
}

#[test]
fn time_ranges_and_values() {
    let (_directory, index) = query_corpus();
    assert_eq!(
        ids(&index, "time:[2026-11-20T00:00:15Z TO 2026-11-21]"),
        set(&["ssh-ok", "win-4625", "win-ps"])
    );
    assert_eq!(ids(&index, "time:2026-11-21"), set(&["win-4625", "win-ps"]));
    assert_eq!(
        ids(&index, "@timestamp:<2026-11-20T00:00:15Z"),
        set(&["ssh-fail"])
    );
    let mut narrow = request("*", 10);
    narrow.from_nanos = T0 + 15 * SECOND;
    narrow.to_nanos = T0 + DAY + 30 * SECOND;
    let found: BTreeSet<String> = index
        .search(&narrow, &Scope::All)
        .unwrap()
        .hits
        .into_iter()
        .map(|hit| hit.id)
        .collect();
    assert_eq!(found, set(&["ssh-ok", "win-4625"]));
}

#[test]
fn query_errors_name_the_position() {
    let (_directory, index) = query_corpus();
    let error = |query: &str| match index.search(&request(query, 10), &Scope::All) {
        Err(IndexError::Query(message)) => message,
        other => panic!("{query}: {other:?}"),
    };
    assert_eq!(
        error("host:web01 AND"),
        "query error at position 12: `AND` needs a clause after it"
    );
    assert_eq!(error("(a OR b"), "query error at position 1: `(` is never closed");
    assert!(error("x time:[yesterday TO now]").starts_with("query error at position 3:"));
    assert!(error("n:[1 TO 2").starts_with("query error at position 3:"));
}

#[test]
fn documents_come_back_whole() {
    let (_directory, index) = query_corpus();
    let document = index.get("win-ps", &Scope::All).unwrap().unwrap();
    assert_eq!(document.timestamp_nanos, T0 + DAY + 40 * SECOND);
    assert_eq!(document.host.as_deref(), Some("ws07"));
    assert_eq!(document.grade, None);
    assert_eq!(document.raw, "Process Create");
    assert_eq!(document.fields["EventID"], serde_json::json!("1"));
    assert_eq!(document.fields["process.pid"], serde_json::json!(4242.0));
    assert_eq!(document.fields["tags"], serde_json::json!(["first", "second"]));
    let json = serde_json::to_value(&document).unwrap();
    assert_eq!(json["timestamp"], "2026-11-21T00:00:40Z");
    assert_eq!(json["id"], "win-ps");
    assert!(json.get("grade").is_none());
    assert!(index.get("nothing", &Scope::All).unwrap().is_none());
}

#[test]
fn an_agency_viewer_sees_nothing_of_another_agency() {
    let (_directory, index) = query_corpus();
    index
        .add(
            vec![event(Spec {
                id: "no-agency",
                time: T0 + 50 * SECOND,
                host: "web01",
                agency: None,
                grade: None,
                raw: "failed",
                fields: &[],
            })],
            false,
        )
        .unwrap();
    index.commit().unwrap();
    let hp = Scope::Agencies(vec!["hp".into()]);
    let found = index.search(&request("*", 100), &hp).unwrap();
    assert_eq!(found.total, 2);
    assert!(found.hits.iter().all(|hit| hit.agency.as_deref() == Some("hp")));
    assert_eq!(index.search(&request("failed", 100), &hp).unwrap().total, 1);
    // Even an explicit query for the other agency finds nothing.
    assert_eq!(index.search(&request("agency:qn", 100), &hp).unwrap().total, 0);
    assert_eq!(
        index.search(&request("NOT agency:hp", 100), &hp).unwrap().total,
        0
    );
    assert!(index.get("win-4625", &hp).unwrap().is_none());
    assert!(index.get("no-agency", &hp).unwrap().is_none());
    assert!(index.get("ssh-fail", &hp).unwrap().is_some());
    // Case matters for the scope: `HP` is another agency.
    assert_eq!(
        index
            .search(&request("*", 100), &Scope::Agencies(vec!["HP".into()]))
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        index
            .search(&request("*", 100), &Scope::Agencies(vec![]))
            .unwrap()
            .total,
        0
    );

    let histogram = HistogramRequest {
        query: "*".into(),
        from_nanos: T0,
        to_nanos: T0 + 2 * DAY - 1,
        buckets: 48,
        time_limit: Duration::from_secs(30),
    };
    let counted = |scope: &Scope| -> u64 {
        index
            .histogram(&histogram, scope)
            .unwrap()
            .buckets
            .iter()
            .map(|bucket| bucket.1)
            .sum()
    };
    assert_eq!(counted(&hp), 2);
    assert_eq!(counted(&Scope::All), 5);

    let terms = |field: &str, scope: &Scope| {
        index
            .terms(
                &TermsRequest {
                    query: "*".into(),
                    from_nanos: T0,
                    to_nanos: T0 + 2 * DAY,
                    field: field.into(),
                    size: 10,
                    time_limit: Duration::from_secs(30),
                },
                scope,
            )
            .unwrap()
    };
    assert_eq!(terms("agency", &hp).buckets, vec![("hp".to_owned(), 2)]);
    assert_eq!(terms("agency", &hp).other, 0);
    assert_eq!(
        terms("host", &hp).buckets,
        vec![("WEB02".to_owned(), 1), ("web01".to_owned(), 1)]
    );
    assert_eq!(terms("EventID", &hp).buckets, vec![]);
    assert_eq!(
        terms("EventID", &Scope::All).buckets,
        vec![("1".to_owned(), 1), ("4625".to_owned(), 1)]
    );
    assert_eq!(terms("grade", &hp).buckets, vec![("3".to_owned(), 2)]);
}

#[test]
fn terms_count_the_rest_as_other() {
    let (_directory, index) = query_corpus();
    let request = TermsRequest {
        query: "*".into(),
        from_nanos: T0,
        to_nanos: T0 + 2 * DAY,
        field: "host".into(),
        size: 1,
        time_limit: Duration::from_secs(30),
    };
    let terms = index.terms(&request, &Scope::All).unwrap();
    assert_eq!(terms.buckets.len(), 1);
    assert_eq!(terms.other, 3);
    assert!(!terms.distinct_limit_reached);
    let user = index
        .terms(
            &TermsRequest {
                field: "user.name".into(),
                size: 10,
                ..request
            },
            &Scope::All,
        )
        .unwrap();
    assert_eq!(
        user.buckets,
        vec![("Admin".to_owned(), 1), ("alice".to_owned(), 1)]
    );
}

#[test]
fn histogram_buckets_are_readable_and_complete() {
    let directory = tempfile::tempdir().unwrap();
    let index = open(directory.path());
    let events = (0..120)
        .map(|minute| simple(&format!("e{minute}"), T0 + minute * 60 * SECOND, "web01", "hp"))
        .collect();
    index.add(events, false).unwrap();
    index.commit().unwrap();
    let histogram = index
        .histogram(
            &HistogramRequest {
                query: "host:web01".into(),
                from_nanos: T0,
                to_nanos: T0 + 2 * 3600 * SECOND - 1,
                buckets: 10,
                time_limit: Duration::from_secs(30),
            },
            &Scope::All,
        )
        .unwrap();
    assert_eq!(histogram.interval_ms, 30 * 60 * 1000);
    assert_eq!(histogram.buckets.len(), 4);
    assert_eq!(histogram.buckets[0], (T0, 30));
    assert!(histogram.buckets.iter().all(|bucket| bucket.1 == 30));
}

#[test]
fn replace_on_replay_gives_no_duplicates() {
    let directory = tempfile::tempdir().unwrap();
    let index = open(directory.path());
    let batch = |range: std::ops::Range<i64>| -> Vec<IndexEvent> {
        range
            .map(|n| simple(&format!("wal-{n}"), T0 + n * SECOND, "web01", "hp"))
            .collect()
    };
    index.add(batch(0..100), false).unwrap();
    index.commit().unwrap();
    // A crash after the commit: the WAL replays events 50..150, some indexed, some not.
    index.add(batch(50..150), true).unwrap();
    index.commit().unwrap();
    let result = index.search(&request("*", 1000), &Scope::All).unwrap();
    assert_eq!(result.total, 150);
    let unique: BTreeSet<&str> = result.hits.iter().map(|hit| hit.id.as_str()).collect();
    assert_eq!(unique.len(), 150);
    // A replay of events that were never committed, then the same again.
    index.add(batch(150..160), true).unwrap();
    index.add(batch(150..160), true).unwrap();
    index.commit().unwrap();
    assert_eq!(index.search(&request("*", 1000), &Scope::All).unwrap().total, 160);
    // Undated events replayed the next day replace the copy filed the day before.
    let mut undated = simple("undated", 0, "web01", "hp");
    undated.event.timestamp_nanos = None;
    index.add(vec![undated.clone()], true).unwrap();
    index.commit().unwrap();
    index.add(vec![undated], true).unwrap();
    index.commit().unwrap();
    assert_eq!(
        index
            .search(&request("id:undated", 10), &Scope::All)
            .unwrap()
            .total,
        1
    );
}

fn paginate(descending: bool) {
    let directory = tempfile::tempdir().unwrap();
    let index = open(directory.path());
    // Many equal times across days and grades, so ties are the rule.
    let events: Vec<IndexEvent> = (0..600)
        .map(|n: i64| {
            let mut indexed = simple(
                &format!("ev-{n}"),
                T0 + (n % 3) * DAY + (n % 7) * SECOND,
                "web01",
                "hp",
            );
            indexed.grade = Some((n % 4) as u8 + 1);
            indexed
        })
        .collect();
    // Two batches and commits: several segments per partition.
    let (first, second) = events.split_at(300);
    index.add(first.to_vec(), false).unwrap();
    index.commit().unwrap();
    index.add(second.to_vec(), false).unwrap();
    index.commit().unwrap();
    let mut page = request("*", 7);
    page.descending = descending;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let result = index.search(&page, &Scope::All).unwrap();
        assert_eq!(result.total, if pages >= 3 { 605 } else { 600 });
        seen.extend(
            result
                .hits
                .iter()
                .map(|hit| (hit.timestamp_nanos, hit.grade, hit.id.clone())),
        );
        pages += 1;
        if pages == 3 {
            // Events arriving meanwhile on the side already visited do not show up later, and
            // the new segments do not move the cursor.
            let time = if descending { T0 + 10 * DAY } else { T0 - 10 * DAY };
            let late = (0..5)
                .map(|n| simple(&format!("late-{n}"), time, "web01", "hp"))
                .collect();
            index.add(late, false).unwrap();
            index.commit().unwrap();
        }
        match result.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, 600usize.div_ceil(7));
    let unique: BTreeSet<&String> = seen.iter().map(|(_, _, id)| id).collect();
    assert_eq!(seen.len(), 600);
    assert_eq!(unique.len(), 600);
    let order: Vec<(i64, Option<u8>)> = seen.iter().map(|(time, grade, _)| (*time, *grade)).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    if descending {
        sorted.reverse();
    }
    assert_eq!(order, sorted);
}

#[test]
fn cursor_pagination_visits_every_hit_once_in_order() {
    paginate(true);
    paginate(false);
}

#[test]
fn retention_drops_only_expired_partitions_of_the_right_grade() {
    let directory = tempfile::tempdir().unwrap();
    let index = open(directory.path());
    let at = |id: &str, days_ago: i64, grade: Option<u8>| {
        let mut indexed = simple(id, T0 - days_ago * DAY, "web01", "hp");
        indexed.grade = grade;
        indexed
    };
    index
        .add(
            vec![
                at("g2-old", 40, Some(2)),
                at("g2-new", 20, Some(2)),
                at("g3-old", 40, Some(3)),
                at("g5-old", 300, Some(5)),
                at("g5-older", 400, Some(5)),
                at("g0-old", 40, None),
                at("g1-old", 40, Some(1)),
            ],
            false,
        )
        .unwrap();
    index.commit().unwrap();
    let policy =
        RetentionPolicy::from_yaml("test", include_str!("../../../rules/compliance/retention.yml")).unwrap();
    let dropped = index.enforce_retention(&policy, T0).unwrap();
    let dropped: BTreeSet<(String, u8)> = dropped.into_iter().map(|info| (info.day, info.grade)).collect();
    let expected: BTreeSet<(String, u8)> = [
        (PartitionKey::of(T0 - 40 * DAY, Some(2)).date(), 2),
        (PartitionKey::of(T0 - 400 * DAY, Some(5)).date(), 5),
        (PartitionKey::of(T0 - 40 * DAY, None).date(), 0),
        (PartitionKey::of(T0 - 40 * DAY, Some(1)).date(), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(dropped, expected);
    let mut left = request("*", 100);
    left.from_nanos = T0 - 500 * DAY;
    let left: BTreeSet<String> = index
        .search(&left, &Scope::All)
        .unwrap()
        .hits
        .into_iter()
        .map(|hit| hit.id)
        .collect();
    assert_eq!(left, set(&["g2-new", "g3-old", "g5-old"]));
    assert!(
        !PartitionKey::of(T0 - 400 * DAY, Some(5))
            .path(directory.path())
            .exists()
    );
    assert!(
        PartitionKey::of(T0 - 40 * DAY, Some(3))
            .path(directory.path())
            .exists()
    );
    // Unknown grades keep at least the configured default, whatever the policy says.
    let short = RetentionPolicy {
        days_by_grade: BTreeMap::new(),
        default_days: 1,
    };
    index.add(vec![at("g0-recent", 10, None)], false).unwrap();
    index.commit().unwrap();
    let dropped = index.enforce_retention(&short, T0).unwrap();
    assert!(dropped.iter().all(|info| info.grade != 0), "{dropped:?}");
    assert_eq!(
        index
            .search(&request("id:g0-recent", 10), &Scope::All)
            .unwrap()
            .total,
        1
    );
}

#[test]
fn limits_are_enforced() {
    let (_directory, index) = query_corpus();
    assert!(matches!(
        index.search(&request("*", 10_001), &Scope::All),
        Err(IndexError::Query(_))
    ));
    let mut slow = request("*", 10);
    slow.time_limit = Duration::ZERO;
    assert!(matches!(
        index.search(&slow, &Scope::All),
        Err(IndexError::Timeout)
    ));
    let histogram = index
        .histogram(
            &HistogramRequest {
                query: "*".into(),
                from_nanos: 0,
                to_nanos: T0,
                buckets: 1_000_000,
                time_limit: Duration::from_secs(30),
            },
            &Scope::All,
        )
        .unwrap();
    assert!(histogram.buckets.len() <= 1000);
}

#[test]
fn export_hands_over_every_match_in_order() {
    let (_directory, index) = query_corpus();
    let mut exported = Vec::new();
    let count = index
        .export(&request("*", 1), &Scope::All, 3, &mut |document| {
            exported.push(document.id);
            Ok(())
        })
        .unwrap();
    assert_eq!(count, 3);
    assert_eq!(exported, vec!["win-ps", "win-4625", "ssh-ok"]);
}
