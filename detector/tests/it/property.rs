//! Hyperscan and the reference engine must agree on every rule and event.

use std::sync::Arc;

use haidang_detector::{Hyperscan, Mappings, PatternEngine, Reference, RuleSet, RuleSetOptions, RuleSource};
use haidang_event::{Event, Logsource, Value};
use proptest::prelude::*;

const FIELDS: [&str; 3] = ["A", "B", "C"];
const MODIFIERS: [&str; 8] = [
    "",
    "|contains",
    "|startswith",
    "|endswith",
    "|contains|all",
    "|cased",
    "|contains|cased",
    "|re",
];

fn value_strategy() -> impl Strategy<Value = String> {
    // Small alphabet so matches happen; wildcards and escapes included.
    proptest::string::string_regex("[abAB*?\\\\ .-]{1,5}").unwrap()
}

fn regex_strategy() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(a|b|ab|[ab]|a+|b?a|\\.)(a|b|\\.|[ab]+){0,2}").unwrap()
}

fn item_strategy() -> impl Strategy<Value = (usize, usize, Vec<String>, String)> {
    (
        0..FIELDS.len(),
        0..MODIFIERS.len(),
        proptest::collection::vec(value_strategy(), 1..3),
        regex_strategy(),
    )
}

fn rule_text(index: usize, items: &[(usize, usize, Vec<String>, String)], negate: bool) -> String {
    let mut text = format!(
        "title: r{index}\nid: r{index}\nlogsource: {{product: test, service: svc}}\ndetection:\n  sel:\n"
    );
    let mut used = std::collections::HashSet::new();
    for (field, modifier, values, regex) in items {
        let key = format!("{}{}", FIELDS[*field], MODIFIERS[*modifier]);
        if !used.insert(key.clone()) {
            continue;
        }
        if MODIFIERS[*modifier] == "|re" {
            text.push_str(&format!("    '{key}': '{regex}'\n"));
        } else {
            let quoted: Vec<String> = values
                .iter()
                .map(|value| format!("'{}'", value.replace('\'', "''")))
                .collect();
            text.push_str(&format!("    '{key}': [{}]\n", quoted.join(", ")));
        }
    }
    text.push_str(if negate {
        "  condition: not sel\n"
    } else {
        "  condition: sel\n"
    });
    text
}

fn compile<E: PatternEngine>(rules: &[String]) -> Arc<RuleSet<E>> {
    let mappings = Mappings::from_files([("test.yml", crate::helpers::MAPPINGS)]).unwrap();
    let sources: Vec<RuleSource> = rules
        .iter()
        .enumerate()
        .map(|(index, text)| RuleSource {
            name: format!("r{index}"),
            text: text.clone(),
        })
        .collect();
    Arc::new(RuleSet::<E>::compile(&sources, &mappings, RuleSetOptions::default(), None).unwrap())
}

fn run<E: PatternEngine>(ruleset: &Arc<RuleSet<E>>, events: &[Event]) -> Vec<Vec<String>> {
    let mut scanner = ruleset.scanner().unwrap();
    events
        .iter()
        .map(|event| {
            let mut matches = Vec::new();
            scanner.scan(event, &mut matches);
            matches
                .into_iter()
                .map(|index| ruleset.rules()[index].id.clone())
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn hyperscan_and_reference_agree(
        rules in proptest::collection::vec((proptest::collection::vec(item_strategy(), 1..4), any::<bool>()), 1..12),
        events in proptest::collection::vec(proptest::collection::vec((0..FIELDS.len(), "[abAB* .?\\\\-]{0,8}"), 0..4), 1..12),
    ) {
        let texts: Vec<String> = rules.iter().enumerate().map(|(index, (items, negate))| rule_text(index, items, *negate)).collect();
        let hyperscan = compile::<Hyperscan>(&texts);
        let reference = compile::<Reference>(&texts);
        prop_assert_eq!(hyperscan.report().failures.len(), reference.report().failures.len());
        let events: Vec<Event> = events
            .iter()
            .map(|fields| {
                let mut event = Event::default();
                event.logsource = Logsource { product: Some("test".into()), service: Some("svc".into()), category: None };
                for (field, value) in fields {
                    event.fields.push(FIELDS[*field], Value::Str(value.clone()));
                }
                event
            })
            .collect();
        prop_assert_eq!(run(&hyperscan, &events), run(&reference, &events));
    }
}
