//! Rules reloaded at run time: swapped without stopping or dropping events.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use haidang_collector::commands::RuleOptions;
use haidang_collector::{LiveRules, watch};
use haidang_detector::Hyperscan;
use haidang_event::{Event, Logsource};

const RULE_A: &str = "title: A\nid: rule-a\nlogsource: {product: linux, service: auth}\ndetection:\n  sel:\n    process.command_line|contains: alpha\n  condition: sel\n";
const RULE_B: &str = "title: B\nid: rule-b\nlogsource: {product: linux, service: auth}\ndetection:\n  sel:\n    process.command_line|contains: beta\n  condition: sel\n";

fn event(command: &str) -> Event {
    let mut event = Event {
        logsource: Logsource {
            product: Some("linux".into()),
            service: Some("auth".into()),
            category: None,
        },
        ..Event::default()
    };
    event.fields.push("process.command_line", command);
    event
}

fn live(directory: &std::path::Path) -> Arc<LiveRules<Hyperscan>> {
    std::fs::write(directory.join("a.yml"), RULE_A).unwrap();
    Arc::new(
        LiveRules::load(RuleOptions {
            rules: vec![directory.to_owned()],
            ..RuleOptions::default()
        })
        .unwrap(),
    )
}

fn matched_ids(live: &LiveRules<Hyperscan>, event: &Event) -> Vec<String> {
    let (_, ruleset) = live.current();
    let mut scanner = ruleset.scanner().unwrap();
    let mut matches = Vec::new();
    scanner.scan(event, &mut matches);
    matches
        .into_iter()
        .map(|index| ruleset.rules()[index].id.clone())
        .collect()
}

#[test]
fn reload_swaps_in_changed_rules() {
    let directory = tempfile::tempdir().unwrap();
    let live = live(directory.path());
    assert_eq!(matched_ids(&live, &event("alpha beta")), vec!["rule-a"]);
    std::fs::write(directory.path().join("b.yml"), RULE_B).unwrap();
    let outcome = live.reload().unwrap();
    assert_eq!(outcome.generation, 1);
    assert_eq!(outcome.rules, 2);
    let mut ids = matched_ids(&live, &event("alpha beta"));
    ids.sort();
    assert_eq!(ids, vec!["rule-a", "rule-b"]);
}

#[test]
fn matching_goes_on_during_reloads_and_loses_no_event() {
    let directory = tempfile::tempdir().unwrap();
    let live = live(directory.path());
    let stop = Arc::new(AtomicBool::new(false));
    let scanned = Arc::new(AtomicU64::new(0));
    let saw_b = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for _ in 0..2 {
        let (live, stop, scanned, saw_b) = (
            Arc::clone(&live),
            Arc::clone(&stop),
            Arc::clone(&scanned),
            Arc::clone(&saw_b),
        );
        threads.push(std::thread::spawn(move || {
            let (mut generation, mut ruleset) = live.current();
            let mut scanner = ruleset.scanner().unwrap();
            let mut local = 0u64;
            let probe = event("alpha beta");
            while !stop.load(Ordering::Acquire) {
                if live.generation() != generation {
                    (generation, ruleset) = live.current();
                    scanner = ruleset.scanner().unwrap();
                }
                let mut matches = Vec::new();
                scanner.scan(&probe, &mut matches);
                assert!(!matches.is_empty(), "rule A is in every generation");
                if matches.iter().any(|&index| ruleset.rules()[index].id == "rule-b") {
                    saw_b.store(true, Ordering::Release);
                }
                local += 1;
            }
            scanned.fetch_add(local, Ordering::AcqRel);
            local
        }));
    }
    for round in 0..4 {
        if round == 2 {
            std::fs::write(directory.path().join("b.yml"), RULE_B).unwrap();
        }
        live.reload().unwrap();
    }
    // Let the threads see the last generation.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !saw_b.load(Ordering::Acquire) && Instant::now() < deadline {
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Release);
    let per_thread: u64 = threads.into_iter().map(|thread| thread.join().unwrap()).sum();
    assert!(saw_b.load(Ordering::Acquire));
    assert_eq!(per_thread, scanned.load(Ordering::Acquire));
    assert_eq!(live.generation(), 4);
}

#[test]
fn a_file_change_or_sighup_triggers_a_reload() {
    let directory = tempfile::tempdir().unwrap();
    let live = live(directory.path());
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(Arc::clone(&live), Duration::from_millis(100), Arc::clone(&stop));
    let wait_for = |generation: u64| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while live.generation() < generation && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        live.generation()
    };
    std::fs::write(directory.path().join("b.yml"), RULE_B).unwrap();
    assert_eq!(wait_for(1), 1, "a new rule file is picked up");
    assert_eq!(matched_ids(&live, &event("beta")), vec!["rule-b"]);
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    assert_eq!(wait_for(2), 2, "SIGHUP reloads");
    stop.store(true, Ordering::Release);
    watcher.join().unwrap();
}
