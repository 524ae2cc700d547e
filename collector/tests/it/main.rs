//! The `haidang` commands as a user runs them: broken rules and broken events are reported and
//! never stop the rest.

#![allow(clippy::unwrap_used)]

mod api;
mod reload;
mod serve;

use std::path::Path;

use haidang_collector::commands::{
    DetectOptions, EngineChoice, RuleOptions, detect, rules_check, rules_test,
};

const GOOD: &str = "title: Sudo to a shell\nid: 11111111-1111-4111-8111-111111111111\nlevel: high\ntags: [attack.t1548.003]\n\
logsource: {product: linux, service: auth}\ndetection:\n  sel:\n    process.command_line|endswith: /bin/bash\n  condition: sel\n";
const BROKEN: &str = "title: Broken\nlogsource: {product: linux, service: auth}\ndetection:\n  sel:\n    a|nosuchmodifier: x\n  condition: sel\n";

fn write(directory: &Path, name: &str, text: &str) {
    std::fs::write(directory.join(name), text).unwrap();
}

#[test]
fn rules_check_lists_each_broken_rule_with_its_reason_and_counts() {
    let directory = tempfile::tempdir().unwrap();
    write(directory.path(), "good.yml", GOOD);
    write(directory.path(), "broken.yml", BROKEN);
    write(directory.path(), "not_yaml.yml", "title: [unclosed\n");
    let mut out = Vec::new();
    let options = RuleOptions {
        rules: vec![directory.path().to_owned()],
        ..RuleOptions::default()
    };
    let all_loaded = rules_check(&options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!all_loaded);
    assert!(
        text.contains("broken.yml: field `a|nosuchmodifier`: unknown modifier `nosuchmodifier`"),
        "{text}"
    );
    assert!(text.contains("not_yaml.yml: invalid YAML"), "{text}");
    assert_eq!(text.lines().last(), Some("loaded 1 of 3 rules"));
}

fn detect_with(
    rules: &Path,
    input: &Path,
    engine: EngineChoice,
) -> (haidang_collector::commands::DetectSummary, Vec<serde_json::Value>) {
    let options = DetectOptions {
        rules: RuleOptions {
            rules: vec![rules.to_owned()],
            ..RuleOptions::default()
        },
        inputs: vec![input.display().to_string()],
        engine,
        print_matches: true,
        threads: 1,
        watch: None,
    };
    let mut out = Vec::new();
    let summary = detect(&options, &mut out).unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (summary, lines)
}

#[test]
fn detect_reports_a_broken_event_and_matches_the_rest() {
    let directory = tempfile::tempdir().unwrap();
    let rules = directory.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    write(&rules, "good.yml", GOOD);
    write(&rules, "broken.yml", BROKEN);
    let input = directory.path().join("events.json");
    let event = r#"{"logsource": {"product": "linux", "service": "auth"}, "fields": {"process.command_line": "sudo /bin/bash"}}"#;
    std::fs::write(&input, format!("{event}\n{{\"fields\": oops}}\n{event}\n")).unwrap();
    for engine in [EngineChoice::Hyperscan, EngineChoice::Reference] {
        let (summary, lines) = detect_with(&rules, &input, engine);
        assert_eq!(summary.events, 2);
        assert_eq!(summary.input_errors, 1);
        assert_eq!(summary.rule_failures, 1);
        assert!(
            summary.error_samples[0].contains("line 2"),
            "{:?}",
            summary.error_samples
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["rule_id"], "11111111-1111-4111-8111-111111111111");
        assert_eq!(lines[0]["rule_title"], "Sudo to a shell");
        assert_eq!(lines[0]["level"], "high");
        assert_eq!(lines[0]["tags"][0], "attack.t1548.003");
        assert_eq!(
            lines[0]["event"]["fields"]["process.command_line"],
            "sudo /bin/bash"
        );
    }
}

#[test]
fn a_restart_with_a_warm_cache_matches_the_same() {
    let directory = tempfile::tempdir().unwrap();
    let rules = directory.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    write(&rules, "good.yml", GOOD);
    let input = directory.path().join("events.json");
    std::fs::write(&input, r#"{"logsource": {"product": "linux", "service": "auth"}, "fields": {"process.command_line": "sudo /bin/bash"}}"#).unwrap();
    let cache = directory.path().join("cache");
    let options = DetectOptions {
        rules: RuleOptions {
            rules: vec![rules.clone()],
            cache: Some(cache.clone()),
            ..RuleOptions::default()
        },
        inputs: vec![input.display().to_string()],
        engine: EngineChoice::Hyperscan,
        print_matches: true,
        threads: 1,
        watch: None,
    };
    let first = detect(&options, &mut Vec::new()).unwrap();
    let cached = std::fs::read_dir(&cache).unwrap().count();
    assert!(cached >= 1, "the first run fills the cache");
    let second = detect(&options, &mut Vec::new()).unwrap();
    assert_eq!(first.matches, 1);
    assert_eq!(second.matches, 1);
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        cached,
        "nothing recompiled"
    );
}

#[test]
fn our_rules_pass_their_tests_on_both_engines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let options = RuleOptions {
        rules: vec![root.join("rules/haidang")],
        ..RuleOptions::default()
    };
    for engine in [EngineChoice::Hyperscan, EngineChoice::Reference] {
        let mut out = Vec::new();
        let summary = rules_test(&options, &root.join("rules/tests"), engine, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(summary.failed, 0, "{text}");
        assert!(summary.passed >= 4 * 30, "{text}");
    }
}

#[test]
fn several_matching_threads_give_the_same_output_in_the_same_order() {
    let directory = tempfile::tempdir().unwrap();
    let rules = directory.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    write(&rules, "good.yml", GOOD);
    write(
        &rules,
        "burst.yml",
        "title: Shell burst\nid: burst\ncorrelation:\n  type: event_count\n  rules: [11111111-1111-4111-8111-111111111111]\n  group-by: [user.name]\n  timespan: 1m\n  condition: {gte: 3}\n  generate: true\n",
    );
    let input = directory.path().join("events.json");
    let mut text = String::new();
    for index in 0..5_000 {
        let command = if index % 7 == 0 { "sudo /bin/bash" } else { "ls" };
        let second = index / 10;
        text.push_str(&format!(
            "{{\"timestamp\": \"2026-11-20T08:{:02}:{:02}Z\", \"logsource\": {{\"product\": \"linux\", \"service\": \"auth\"}}, \"fields\": {{\"process.command_line\": \"{command}\", \"user.name\": \"user{}\", \"n\": {index}}}}}\n",
            second / 60 % 60,
            second % 60,
            index % 3
        ));
        if index == 2_500 {
            text.push_str("{broken\n");
        }
    }
    std::fs::write(&input, text).unwrap();
    let mut outputs = Vec::new();
    for threads in [1, 3] {
        let options = DetectOptions {
            rules: RuleOptions {
                rules: vec![rules.clone()],
                ..RuleOptions::default()
            },
            inputs: vec![input.display().to_string()],
            engine: EngineChoice::Hyperscan,
            print_matches: true,
            threads,
            watch: None,
        };
        let mut out = Vec::new();
        let summary = detect(&options, &mut out).unwrap();
        assert_eq!(summary.events, 5_000);
        assert_eq!(summary.input_errors, 1);
        outputs.push(String::from_utf8(out).unwrap());
    }
    assert!(outputs[0].contains("\"rule_id\":\"burst\""));
    assert_eq!(
        outputs[0]
            .lines()
            .filter(|line| line.contains("\"rule_kind\":\"detection\""))
            .count(),
        715
    );
    assert_eq!(outputs[0], outputs[1]);
}
