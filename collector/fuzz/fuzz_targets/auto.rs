//! Format detection: each line goes to a `Normalizer` told `Format::Auto`, which guesses the format
//! per line (JSON, auditd, CEF, LEEF, RFC 5424, RFC 3164, ASA, access, PAN-OS, key=value). The
//! invariants are in `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[Pass::grouping(Format::Auto)];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
