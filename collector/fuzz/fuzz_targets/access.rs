//! Apache/nginx access logs and Apache/nginx error logs: each line bare (`Format::Access`), then as
//! the message of a syslog line (nginx can log to syslog). The invariants are in `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[
    Pass::bare(Format::Access),
    Pass::through_syslog(harness::SYSLOG_HEADER),
];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
