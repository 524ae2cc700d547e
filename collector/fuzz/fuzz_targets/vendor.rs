//! The smaller vendor formats (Cisco IOS `%FAC-SEV-MNEMONIC:`, F5 BIG-IP `01010251:0:`, Arbor APS,
//! Check Point `[key:"value"; ...]`). They have no `Format` of their own: each line is sent after a
//! fixed RFC 3164 header, then bare to a `Normalizer` told `Format::Rfc3164` (a line that is not
//! syslog is offered to the vendor parsers). The invariants are in `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[
    Pass::through_syslog(harness::SYSLOG_HEADER),
    Pass::grouping(Format::Rfc3164),
];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
