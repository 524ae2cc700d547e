//! JSON documents (Windows events as the evtx crate writes them, Winlogbeat, NXLog, our own event
//! shape), three ways the collector reads them:
//!
//! 1. each line through a `Normalizer` told `Format::Json` (one event per line, raw kept; see
//!    `src/lib.rs`);
//! 2. each line that is a JSON object through `event_from_json` and `event_from_json_owned`, which
//!    must give the same event;
//! 3. the whole input as one record of concatenated documents (`parse_record`, what `haidang
//!    detect` does with a JSON input): every document it hands on with its event must be the text
//!    of one JSON object.

#![no_main]

use haidang_collector::parse::Format;
use haidang_collector::{Document, Record, event_from_json, event_from_json_owned, parse_record};
use harness::Pass;
use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;

fuzz_target!(|data: &[u8]| {
    harness::run(Pass::bare(Format::Json), data);

    let text = String::from_utf8_lossy(data);
    let mappings = harness::mappings();
    for line in text.lines() {
        if let Ok(document) = serde_json::from_str::<Json>(line)
            && document.is_object()
        {
            let borrowed = event_from_json(&document, mappings);
            let owned = event_from_json_owned(document, mappings);
            // Compared as text: a float field may be NaN, which is not equal to itself.
            assert_eq!(
                format!("{borrowed:?}"),
                format!("{owned:?}"),
                "event_from_json and _owned differ on {line:?}"
            );
        }
    }

    let record = Record::Text {
        text: text.into_owned(),
        line: 1,
    };
    for result in parse_record("fuzz", record, mappings) {
        if let Ok((_, Document::Text(document))) = result {
            let parsed = serde_json::from_str::<Json>(&document);
            assert!(
                parsed.as_ref().is_ok_and(Json::is_object),
                "the document kept for output is not one JSON object: {document:?}"
            );
        }
    }
});
