//! RFC 3164 (BSD) syslog: each line goes to a `Normalizer` told `Format::Rfc3164`, so through the
//! header parser and then the body parsers its message is dispatched to (auth, CEF, ASA, vendor,
//! key=value, access, auditd records). The invariants are in `src/lib.rs`.

#![no_main]

use haidang_collector::parse::Format;
use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[Pass::grouping(Format::Rfc3164)];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
