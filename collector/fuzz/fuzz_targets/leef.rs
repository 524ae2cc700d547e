//! IBM LEEF 1.0/2.0: each line bare (`Format::Leef`), then as the message of a syslog line. The
//! invariants are in `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[
    Pass::bare(Format::Leef),
    Pass::through_syslog(harness::SYSLOG_HEADER),
];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
