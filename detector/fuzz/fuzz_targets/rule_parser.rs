//! Fuzzes the Sigma rule parser and everything a rule file goes through after it: parsing
//! (`sigma::parse_rule_file`), compilation onto the reference engine (`RuleSet::compile`), and
//! matching one event with a scanner. Broken rules must come back as errors in the load report;
//! any panic is a bug.

#![no_main]

use std::sync::{Arc, OnceLock};

use haidang_detector::{Mappings, Reference, RuleSet, RuleSetOptions, RuleSource};
use haidang_event::{Event, Logsource};
use libfuzzer_sys::fuzz_target;

const MAPPING: &str = "product: windows\nroutes:\n  - service: security\n    when: { Channel: Security }\n  - service: sysmon\n    categories: { process_creation: {} }\n";

fn mappings() -> &'static Mappings {
    static MAPPINGS: OnceLock<Mappings> = OnceLock::new();
    MAPPINGS.get_or_init(|| Mappings::from_files([("m.yml", MAPPING)]).expect("fuzz mapping file loads"))
}

/// The events scanned for every rule set that compiles. The mapping's `sysmon` route is declared
/// only with the `process_creation` category, so the Sysmon event must declare that category too
/// or the router takes no route for it and nothing is matched. The Security event has no declared
/// logsource and is routed by its `Channel` (the `when` route).
fn events() -> &'static [Event] {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let mut sysmon = Event::default();
        sysmon.logsource = Logsource {
            product: Some("windows".into()),
            category: Some("process_creation".into()),
            service: Some("sysmon".into()),
        };
        sysmon.fields.push("EventID", 1_i64);
        sysmon.fields.push("Image", r"C:\Windows\System32\cmd.exe");
        sysmon.fields.push("CommandLine", r"cmd.exe /c whoami /all & powershell -enc SQBFAFgA");
        sysmon.fields.push("ParentImage", r"C:\Windows\explorer.exe");
        sysmon.fields.push("User", r"CORP\alice");

        let mut security = Event::default();
        security.fields.push("Channel", "Security");
        security.fields.push("EventID", 4688_i64);
        security.fields.push("NewProcessName", r"C:\Windows\System32\rundll32.exe");
        security.fields.push("CommandLine", "rundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication\"");
        security.fields.push("IpAddress", "10.1.2.3");
        vec![sysmon, security]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // (a) The parser alone.
    let _ = haidang_detector::sigma::parse_rule_file(text);

    // (b) Parse + compile onto the reference engine.
    let sources = [RuleSource {
        name: "fuzz".into(),
        text: text.into(),
    }];
    let Ok(ruleset) = RuleSet::<Reference>::compile(&sources, mappings(), RuleSetOptions::default(), None) else {
        return;
    };

    // (c) Match the events.
    let ruleset = Arc::new(ruleset);
    let Ok(mut scanner) = ruleset.scanner() else {
        return;
    };
    let mut matches = Vec::new();
    for event in events() {
        matches.clear();
        scanner.scan(event, &mut matches);
        for &index in &matches {
            let _ = &ruleset.rules()[index];
        }
    }
});
