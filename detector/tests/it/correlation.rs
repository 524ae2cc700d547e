//! Correlation rules: windows, group-by, late events, the memory bound.

use haidang_detector::{PatternEngine, RuleSetOptions};
use haidang_event::Event;

use crate::helpers::{correlations, event, ruleset, ruleset_with, s};

const BASE: &str = "title: failure\nid: failure\nname: failure\nlogsource: {product: test, service: svc}\ndetection:\n  sel:\n    outcome: failure\n  condition: sel\n";
const SUCCESS: &str = "title: success\nid: success\nname: success\nlogsource: {product: test, service: svc}\ndetection:\n  sel:\n    outcome: success\n  condition: sel\n";

fn at(seconds: i64, ip: &str, outcome: &str) -> Event {
    let mut event = event(&[
        ("source.ip", s(ip)),
        ("outcome", s(outcome)),
        ("bytes", s(&seconds.to_string())),
    ]);
    event.timestamp_nanos = Some(1_800_000_000_000_000_000 + seconds * 1_000_000_000);
    event
}

fn count_rule(condition: &str) -> String {
    format!(
        "title: brute\nid: brute\ncorrelation:\n  type: event_count\n  rules: [failure]\n  group-by: [source.ip]\n  timespan: 60s\n  condition: {{{condition}}}\n"
    )
}

fn event_count_fires_inside_the_window<E: PatternEngine>() {
    let rules = ruleset::<E>(&[BASE, &count_rule("gte: 3")]);
    let events: Vec<Event> = (0..3)
        .map(|index| at(index * 10, "203.0.113.7", "failure"))
        .collect();
    assert_eq!(correlations(&rules, &events), vec!["brute"]);
    // Spread over more than the timespan: no match.
    let events: Vec<Event> = (0..3)
        .map(|index| at(index * 40, "203.0.113.7", "failure"))
        .collect();
    assert!(correlations(&rules, &events).is_empty());
    // Different group keys do not add up.
    let events = vec![
        at(0, "203.0.113.7", "failure"),
        at(1, "203.0.113.8", "failure"),
        at(2, "203.0.113.9", "failure"),
    ];
    assert!(correlations(&rules, &events).is_empty());
}

fn late_events_within_lateness_still_count<E: PatternEngine>() {
    let rules = ruleset::<E>(&[BASE, &count_rule("gte: 3")]);
    // Arrives out of order by 30 s (lateness allowance 60 s): still three in one window.
    let events = vec![
        at(50, "203.0.113.7", "failure"),
        at(55, "203.0.113.7", "failure"),
        at(20, "203.0.113.7", "failure"),
    ];
    assert_eq!(correlations(&rules, &events), vec!["brute"]);
}

fn events_later_than_the_lateness_are_dropped_and_counted<E: PatternEngine>() {
    let options = RuleSetOptions {
        correlation_lateness_seconds: 5,
        ..RuleSetOptions::default()
    };
    let rules = ruleset_with::<E>(&[BASE, &count_rule("gte: 2")], options);
    let mut scanner = rules.scanner().unwrap();
    let mut correlator = haidang_detector::Correlator::new(&rules);
    let mut fired = 0;
    for event in [
        at(0, "10.0.0.1", "success"),
        at(100, "10.0.0.1", "success"),
        at(3, "203.0.113.7", "failure"),
    ] {
        let mut matches = Vec::new();
        scanner.scan(&event, &mut matches);
        fired += correlator.process(&event, &matches).len();
    }
    assert_eq!(fired, 0);
    assert_eq!(correlator.stats().late_dropped, 1);
}

fn upper_bound_conditions_are_judged_when_the_window_closes<E: PatternEngine>() {
    let rules = ruleset::<E>(&[BASE, &count_rule("lt: 3")]);
    let events = vec![at(0, "203.0.113.7", "failure"), at(10, "203.0.113.7", "failure")];
    assert_eq!(correlations(&rules, &events), vec!["brute"]);
    let events: Vec<Event> = (0..4).map(|index| at(index, "203.0.113.7", "failure")).collect();
    assert!(correlations(&rules, &events).is_empty());
}

fn value_count_counts_distinct_values<E: PatternEngine>() {
    let rule = "title: spray\nid: spray\ncorrelation:\n  type: value_count\n  rules: [failure]\n  group-by: [outcome]\n  timespan: 1m\n  condition: {field: source.ip, gte: 3}\n";
    let rules = ruleset::<E>(&[BASE, rule]);
    let same: Vec<Event> = (0..5).map(|index| at(index, "203.0.113.7", "failure")).collect();
    assert!(correlations(&rules, &same).is_empty());
    let distinct = vec![
        at(0, "203.0.113.1", "failure"),
        at(1, "203.0.113.2", "failure"),
        at(2, "203.0.113.3", "failure"),
    ];
    assert_eq!(correlations(&rules, &distinct), vec!["spray"]);
}

fn temporal_and_temporal_ordered<E: PatternEngine>() {
    let temporal = "title: both\nid: both\ncorrelation:\n  type: temporal\n  rules: [failure, success]\n  group-by: [source.ip]\n  timespan: 1m\n";
    let ordered = "title: ordered\nid: ordered\ncorrelation:\n  type: temporal_ordered\n  rules: [failure, success]\n  group-by: [source.ip]\n  timespan: 1m\n";
    let rules = ruleset::<E>(&[BASE, SUCCESS, temporal, ordered]);
    let mut fired = correlations(
        &rules,
        &[at(0, "1.1.1.1", "failure"), at(5, "1.1.1.1", "success")],
    );
    fired.sort();
    assert_eq!(fired, vec!["both", "ordered"]);
    let fired = correlations(
        &rules,
        &[at(0, "1.1.1.1", "success"), at(5, "1.1.1.1", "failure")],
    );
    assert_eq!(fired, vec!["both"]);
}

fn value_sum_avg_median<E: PatternEngine>() {
    let sum = "title: sum\nid: sum\ncorrelation:\n  type: value_sum\n  rules: [failure]\n  group-by: [source.ip]\n  timespan: 1m\n  condition: {field: bytes, gt: 25}\n";
    let avg = "title: avg\nid: avg\ncorrelation:\n  type: value_avg\n  rules: [failure]\n  group-by: [source.ip]\n  timespan: 1m\n  condition: {field: bytes, gte: 15}\n";
    let median = "title: median\nid: median\ncorrelation:\n  type: value_median\n  rules: [failure]\n  group-by: [source.ip]\n  timespan: 1m\n  condition: {field: bytes, gte: 20}\n";
    let rules = ruleset::<E>(&[BASE, sum, avg, median]);
    // bytes = 10, 20, 30 (the helper puts the second offset in `bytes`).
    let fired = correlations(
        &rules,
        &[
            at(10, "1.1.1.1", "failure"),
            at(20, "1.1.1.1", "failure"),
            at(30, "1.1.1.1", "failure"),
        ],
    );
    assert!(fired.contains(&"sum".to_string()), "{fired:?}");
    assert!(fired.contains(&"avg".to_string()), "{fired:?}");
    assert!(fired.contains(&"median".to_string()), "{fired:?}");
}

fn referenced_rules_are_not_reported_unless_generate<E: PatternEngine>() {
    let rules = ruleset::<E>(&[BASE, &count_rule("gte: 3")]);
    let base = rules.rules().iter().find(|rule| rule.id == "failure").unwrap();
    assert!(!base.reported);
}

fn memory_bound_evicts_oldest_groups_and_counts<E: PatternEngine>() {
    let options = RuleSetOptions {
        correlation_max_entries: 100,
        ..RuleSetOptions::default()
    };
    let rules = ruleset_with::<E>(&[BASE, &count_rule("gte: 1000")], options);
    let mut scanner = rules.scanner().unwrap();
    let mut correlator = haidang_detector::Correlator::new(&rules);
    for index in 0..1000 {
        let event = at(
            index / 100,
            &format!("10.0.{}.{}", index / 250, index % 250),
            "failure",
        );
        let mut matches = Vec::new();
        scanner.scan(&event, &mut matches);
        correlator.process(&event, &matches);
    }
    let stats = correlator.stats();
    assert!(stats.entries <= 100, "{stats:?}");
    assert!(stats.overflow_evicted >= 900, "{stats:?}");
}

crate::both_engines!(
    event_count_fires_inside_the_window,
    late_events_within_lateness_still_count,
    events_later_than_the_lateness_are_dropped_and_counted,
    upper_bound_conditions_are_judged_when_the_window_closes,
    value_count_counts_distinct_values,
    temporal_and_temporal_ordered,
    value_sum_avg_median,
    referenced_rules_are_not_reported_unless_generate,
    memory_bound_evicts_oldest_groups_and_counts,
);
