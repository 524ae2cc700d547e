//! RFC 5424 syslog (structured data, NILVALUEs, BOM): each line goes to a `Normalizer` told
//! `Format::Rfc5424`, then to the body parsers its message is dispatched to. The invariants are in
//! `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[Pass::grouping(Format::Rfc5424)];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
