//! Linux auth messages (sshd, sudo, su, PAM, shadow-utils, login, systemd-logind, cron). They have
//! no `Format` of their own: each line (`program[pid]: message`) is sent after a fixed RFC 3164
//! header (`<86>Nov 27 08:00:00 fuzzhost `) to a `Normalizer` told `Format::Rfc3164`, which hands
//! the message to the auth parser by program name. Besides the invariants of `src/lib.rs`, every
//! auth event must carry the header's time.

#![no_main]

use harness::Pass;
use libfuzzer_sys::fuzz_target;

const PASSES: &[Pass] = &[Pass {
    auth_header: true,
    ..Pass::through_syslog(harness::AUTH_HEADER)
}];

fuzz_target!(|data: &[u8]| {
    for &pass in PASSES {
        harness::run(pass, data);
    }
});
