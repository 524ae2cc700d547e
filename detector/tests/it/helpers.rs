//! Shared test helpers: compile rule text, feed events, and the macro that runs a test on both
//! engines.

use std::sync::Arc;

use haidang_detector::{Correlator, Mappings, PatternEngine, RuleSet, RuleSetOptions, RuleSource};
use haidang_event::{Event, Logsource, Value};

/// One route for events that declare `product: test` and one for Windows-style events routed by
/// `Channel`.
pub(crate) const MAPPINGS: &str = "
product: test
routes:
  - service: svc
  - service: win
    when: { Channel: TestChannel }
    categories:
      process_creation: { Image: NewProcessName }
";

pub(crate) fn mappings() -> Mappings {
    Mappings::from_files([
        ("test.yml", MAPPINGS),
        ("placeholders.yml", "placeholders:\n  Admins: ['adm_*', 'root']\n"),
    ])
    .unwrap()
}

pub(crate) fn ruleset<E: PatternEngine>(rules: &[&str]) -> Arc<RuleSet<E>> {
    ruleset_with::<E>(rules, RuleSetOptions::default())
}

pub(crate) fn ruleset_with<E: PatternEngine>(rules: &[&str], options: RuleSetOptions) -> Arc<RuleSet<E>> {
    let sources: Vec<RuleSource> = rules
        .iter()
        .enumerate()
        .map(|(index, text)| RuleSource {
            name: format!("rule{index}.yml"),
            text: (*text).to_owned(),
        })
        .collect();
    let ruleset = RuleSet::<E>::compile(&sources, &mappings(), options, None).unwrap();
    assert!(
        ruleset.report().failures.is_empty(),
        "{:?}",
        ruleset.report().failures
    );
    Arc::new(ruleset)
}

/// A rule on `product: test, service: svc` with the given detection section (YAML, indented by
/// two spaces).
pub(crate) fn rule(detection: &str) -> String {
    format!(
        "title: test rule\nid: test-rule\nlogsource: {{product: test, service: svc}}\ndetection:\n{detection}\n"
    )
}

pub(crate) fn event(fields: &[(&str, Value)]) -> Event {
    let mut event = Event::default();
    event.logsource = Logsource {
        product: Some("test".into()),
        service: Some("svc".into()),
        category: None,
    };
    for (name, value) in fields {
        event.fields.push(*name, value.clone());
    }
    event
}

pub(crate) fn s(text: &str) -> Value {
    Value::Str(text.to_owned())
}

/// Whether the single rule matches the event.
pub(crate) fn fires<E: PatternEngine>(rule_text: &str, event: &Event) -> bool {
    let ruleset = ruleset::<E>(&[rule_text]);
    let mut scanner = ruleset.scanner().unwrap();
    let mut matches = Vec::new();
    scanner.scan(event, &mut matches);
    !matches.is_empty()
}

/// Ids of the correlation rules that fire over the events, in order.
pub(crate) fn correlations<E: PatternEngine>(ruleset: &Arc<RuleSet<E>>, events: &[Event]) -> Vec<String> {
    let mut scanner = ruleset.scanner().unwrap();
    let mut correlator = Correlator::new(ruleset);
    let mut fired = Vec::new();
    for event in events {
        let mut matches = Vec::new();
        scanner.scan(event, &mut matches);
        for found in correlator.process(event, &matches) {
            fired.push(ruleset.rules()[found.rule_index].id.clone());
        }
    }
    for found in correlator.flush() {
        fired.push(ruleset.rules()[found.rule_index].id.clone());
    }
    fired
}

/// Runs each listed test function on both engines: `both_engines!(name1, name2)` makes
/// `hyperscan::name1`, `reference::name1`, ...
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod hyperscan {
            $( #[test] fn $name() { super::$name::<haidang_detector::Hyperscan>(); } )*
        }
        mod reference {
            $( #[test] fn $name() { super::$name::<haidang_detector::Reference>(); } )*
        }
    };
}
