#![allow(clippy::print_stdout)]

//! Parsing and normalisation throughput, per core: RFC 5424, RFC 3164 and Apache access lines
//! through `Normalizer` (detection of the format, envelope and body parsers, the event model),
//! single-threaded.
//!
//!     cargo bench -p haidang-collector --bench parse
//!
//! Lines are generated (deterministic variety of hosts, programs, users, addresses, URLs), about
//! 64 MiB per format; the figure is input bytes per second of wall time, in MB/s (10^6 bytes,
//! the unit of the 100 MB/s target) and MiB/s (2^20 bytes).

use std::hint::black_box;
use std::time::Instant;

use haidang_collector::parse::{Format, Normalizer, ParseContext};

// The same allocator as the `haidang` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use haidang_event::Event;

const TARGET_BYTES: usize = 64 << 20;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn ip(&mut self) -> String {
        let value = self.next();
        format!(
            "{}.{}.{}.{}",
            10 + value % 200,
            (value >> 8) % 256,
            (value >> 16) % 256,
            1 + (value >> 24) % 254
        )
    }
}

const HOSTS: &[&str] = &[
    "web01",
    "db-hp-02",
    "portal.haiphong.gov.vn",
    "mail01",
    "fw-core",
    "dc01",
];
const USERS: &[&str] = &["root", "nguyenvana", "tranthib", "admin", "deploy", "www-data"];
const PATHS: &[&str] = &[
    "/",
    "/index.php",
    "/dich-vu-cong/ho-so?id=12345&trang=2",
    "/static/app.js",
    "/api/v1/hoso/tra-cuu",
    "/wp-login.php",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "curl/8.5.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
];

fn rfc3164_line(random: &mut Random) -> String {
    let host = random.pick(HOSTS);
    let user = random.pick(USERS);
    let ip = random.ip();
    let pid = 1000 + random.next() % 60000;
    match random.next() % 4 {
        0 => format!(
            "<38>Nov 20 08:15:{:02} {host} sshd[{pid}]: Failed password for invalid user {user} from {ip} port {} ssh2",
            random.next() % 60,
            1024 + random.next() % 60000
        ),
        1 => format!(
            "<38>Nov 20 08:15:{:02} {host} sshd[{pid}]: Accepted publickey for {user} from {ip} port {} ssh2: RSA SHA256:abcdefghijklmnop",
            random.next() % 60,
            1024 + random.next() % 60000
        ),
        2 => format!(
            "<85>Nov 20 08:16:{:02} {host} sudo:  {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
            random.next() % 60
        ),
        _ => format!(
            "<78>Nov 20 08:17:{:02} {host} CRON[{pid}]: ({user}) CMD (/usr/local/bin/backup.sh > /dev/null 2>&1)",
            random.next() % 60
        ),
    }
}

fn rfc5424_line(random: &mut Random) -> String {
    let host = random.pick(HOSTS);
    let user = random.pick(USERS);
    let ip = random.ip();
    format!(
        "<165>1 2026-11-20T08:15:{:02}.{:03}+07:00 {host} portal {} ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"{}\"][origin ip=\"{ip}\"] user {user} submitted dossier {} from {ip}",
        random.next() % 60,
        random.next() % 1000,
        1000 + random.next() % 9000,
        random.next() % 100000,
        random.next() % 1_000_000
    )
}

fn access_line(random: &mut Random) -> String {
    let ip = random.ip();
    let path = random.pick(PATHS);
    let agent = random.pick(AGENTS);
    let status = [200, 200, 200, 304, 404, 500][(random.next() % 6) as usize];
    format!(
        "{ip} - - [20/Nov/2026:08:15:{:02} +0700] \"{} {path} HTTP/1.1\" {status} {} \"https://portal.haiphong.gov.vn/\" \"{agent}\"",
        random.next() % 60,
        if random.next().is_multiple_of(5) {
            "POST"
        } else {
            "GET"
        },
        random.next() % 50_000
    )
}

fn measure(name: &str, generate: fn(&mut Random) -> String) {
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let mut lines = Vec::new();
    let mut bytes = 0;
    while bytes < TARGET_BYTES {
        let line = generate(&mut random);
        bytes += line.len() + 1;
        lines.push(line);
    }
    let mut best = f64::MAX;
    let mut events: Vec<Event> = Vec::with_capacity(16);
    let mut unparsed = 0;
    for _ in 0..3 {
        let mut normalizer = Normalizer::new(Format::Auto, ParseContext::default());
        let started = Instant::now();
        for line in &lines {
            normalizer.push(line, &mut events);
            for event in events.drain(..) {
                black_box(event);
            }
        }
        normalizer.finish(&mut events);
        events.clear();
        best = best.min(started.elapsed().as_secs_f64());
        unparsed = normalizer.unparsed;
    }
    let mebibytes = bytes as f64 / (1 << 20) as f64;
    let megabytes = bytes as f64 / 1e6;
    println!(
        "{name:8} {:>9} lines {mebibytes:7.1} MiB  {:7.1} MB/s  {:7.1} MiB/s  {:>9.0} lines/s  (unparsed: {unparsed})",
        lines.len(),
        megabytes / best,
        mebibytes / best,
        lines.len() as f64 / best
    );
}

fn main() {
    println!("parsing and normalisation, one thread, best of 3");
    measure("rfc5424", rfc5424_line);
    measure("rfc3164", rfc3164_line);
    measure("access", access_line);
}
