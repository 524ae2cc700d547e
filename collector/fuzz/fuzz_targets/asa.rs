//! Cisco ASA/FTD `%ASA-n-nnnnnn:` messages: each line bare (`Format::CiscoAsa`), then as the
//! message of a syslog line (where the tag may be the `%ASA-...` code itself). The invariants are in
//! `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[
    Pass::bare(Format::CiscoAsa),
    Pass::through_syslog(harness::SYSLOG_HEADER),
];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
