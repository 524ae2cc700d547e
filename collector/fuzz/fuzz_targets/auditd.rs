//! auditd records and their grouping (`AuditAssembler`): each line goes to a `Normalizer` told
//! `Format::Auditd` (audit.log), then, as a second pass, after a syslog header and an `audispd:` tag
//! (records relayed by syslog, `node=` naming the audited host). The assembler is flushed at the
//! end: no record may be lost or emitted twice (see `src/lib.rs`).

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[
    Pass::grouping(Format::Auditd),
    Pass::through_syslog("<14>Nov 27 08:00:00 fuzzhost audispd: "),
];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
