//! Palo Alto PAN-OS CSV (TRAFFIC, THREAT, SYSTEM, ...): each line bare (`Format::PaloAlto`), then as
//! the message of a syslog line. The invariants are in `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[
    Pass::bare(Format::PaloAlto),
    Pass::through_syslog(harness::SYSLOG_HEADER),
];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
