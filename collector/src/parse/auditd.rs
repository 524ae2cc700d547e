//! auditd records (`type=SYSCALL msg=audit(1700000000.123:4567): ...`), grouped into one event per
//! `audit(timestamp:serial)`, hex-encoded values decoded.
//!
//! The kernel writes one system call as several records that share the `audit(ts:serial)` stamp
//! (SYSCALL, EXECVE, CWD, PATH per file, PROCTITLE, then EOE); detection needs them in one event so
//! that the executable, the files, the key and the command line of one call are seen together. Most
//! values are written `key=value` or `key="value"`; values the kernel or auditd had to protect
//! (spaces, quotes, control or non-ASCII bytes) are written as unquoted hex and decoded here.
//! User-space records (PAM, sshd, useradd...) nest more pairs in `msg='...'`; the enriched log
//! format appends resolved names (`UID="root"`) after a GS (`\x1d`) byte.
//!
//! Records come from audit.log itself or from syslog (`audit: type=1400 audit(...): ...` from the
//! kernel, audisp's `node=... type=...`), where the envelope's fields arrive as a prefix.

use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;

use haidang_event::{Event, Fields, Value};
use nom::bytes::complete::{tag, take_till, take_till1, take_while1};
use nom::character::complete::{char, digit1, multispace0, space0, space1};
use nom::combinator::opt;
use nom::{IResult, Parser};

use super::{ParseContext, format_nanos, logsource};

/// How many events may be assembled at once. Records of different serials interleave when the
/// kernel emits several events at the same moment; beyond this many, the oldest is emitted.
const MAX_OPEN_GROUPS: usize = 8;
/// A group this long is emitted as it stands (an event has a handful of records; a long PATH list
/// or a hostile stream must not grow without bound).
const MAX_GROUP_RECORDS: usize = 64;
/// The same bound in bytes of record text.
const MAX_GROUP_BYTES: usize = 4 << 20;
/// A group still open when a record this many seconds younger arrives is complete: the kernel
/// writes an event's records within the same instant.
const STALE_AFTER_SECONDS: i64 = 2;

/// Whether a message is an auditd record: `type=` followed by `audit(<digits>.<digits>:<digits>)`.
pub(crate) fn looks_like_audit(message: &str) -> bool {
    find_header(message).is_some()
}

/// Groups the records of one audit event.
#[derive(Debug, Default)]
pub(crate) struct AuditAssembler {
    /// Groups being assembled, oldest first.
    open: VecDeque<Group>,
}

impl AuditAssembler {
    /// Takes one record line. `prefix` holds fields of an envelope (syslog header) to keep.
    /// Appends events completed by this record to `out`. Returns false when the line is not an
    /// audit record (nothing consumed).
    ///
    /// A group is emitted when its EOE record arrives, when it grows too long, when more than
    /// [`MAX_OPEN_GROUPS`] are open (oldest first), on [`AuditAssembler::flush`], and when a record
    /// of another serial arrives and the group looks complete: it has no SYSCALL record (user-space
    /// and other single-record events), or it has its PROCTITLE (the kernel's last record before
    /// EOE), or it is [`STALE_AFTER_SECONDS`] older than the new record. A SYSCALL group that has not
    /// seen its PROCTITLE stays open, so records of interleaved serials still meet their own.
    pub(crate) fn push(
        &mut self,
        line: &str,
        prefix: Option<Fields>,
        _context: &ParseContext,
        out: &mut Vec<Event>,
    ) -> bool {
        let raw = prefix
            .as_ref()
            .and_then(|fields| fields.get("log.original"))
            .and_then(Value::as_text)
            .map_or_else(|| line.to_owned(), |text| text.into_owned());
        let Some(record) = Record::parse(line, raw) else {
            return false;
        };
        let end_of_event = record.kind == "EOE";
        if let Some(index) = self.open.iter().position(|group| group.is(&record)) {
            let full = match self.open.get_mut(index) {
                Some(group) => {
                    group.add(record);
                    group.is_full()
                }
                None => false,
            };
            if end_of_event || full {
                self.emit(index, out);
            }
            return true;
        }
        if end_of_event {
            // The end of an event already emitted (or never seen): nothing to add.
            return true;
        }
        let seconds = record.stamp.seconds;
        let mut index = 0;
        while index < self.open.len() {
            if self
                .open
                .get(index)
                .is_some_and(|group| group.is_complete(seconds))
            {
                self.emit(index, out);
            } else {
                index += 1;
            }
        }
        let group = Group::new(record, prefix);
        if group.is_full() {
            out.push(group.into_event());
        } else {
            self.open.push_back(group);
        }
        while self.open.len() > MAX_OPEN_GROUPS {
            self.emit(0, out);
        }
        true
    }

    /// Emits every event still being assembled.
    pub(crate) fn flush(&mut self, out: &mut Vec<Event>) {
        out.extend(self.open.drain(..).map(Group::into_event));
    }

    fn emit(&mut self, index: usize, out: &mut Vec<Event>) {
        if let Some(group) = self.open.remove(index) {
            out.push(group.into_event());
        }
    }
}

/// `audit(1364481363.243:24287)`: when, and the serial that ties an event's records together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    seconds: i64,
    nanos: u32,
    serial: u64,
}

impl Stamp {
    fn unix_nanos(self) -> Option<i64> {
        self.seconds
            .checked_mul(1_000_000_000)?
            .checked_add(i64::from(self.nanos))
    }
}

/// The start of a record: `[node=NAME ]type=TYPE [msg=]audit(TS:SERIAL):` and the body after it.
#[derive(Debug, PartialEq)]
struct Header<'a> {
    node: Option<&'a str>,
    kind: &'a str,
    stamp: Stamp,
    body: &'a str,
}

fn header(input: &str) -> IResult<&str, Header<'_>> {
    let word = |input| take_till1(|c: char| c.is_ascii_whitespace())(input);
    let (input, node) =
        opt(|input| (tag("node="), word, space1).map(|(_, node, _)| node).parse(input)).parse(input)?;
    let (input, (_, kind, _, _)) = (tag("type="), word, space1, opt(tag("msg="))).parse(input)?;
    let (input, (_, seconds, _, fraction, _, serial, _)) = (
        tag("audit("),
        digit1,
        char('.'),
        digit1,
        char(':'),
        digit1,
        char(')'),
    )
        .parse(input)?;
    let (body, _) = opt(char(':')).parse(input)?;
    let invalid = || nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Digit));
    let seconds = seconds.parse().map_err(|_| invalid())?;
    let serial = serial.parse().map_err(|_| invalid())?;
    // The fraction is milliseconds in practice; read it as a decimal fraction of any length.
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0u32, |nanos, digit| nanos * 10 + u32::from(digit - b'0'));
    let stamp = Stamp {
        seconds,
        nanos,
        serial,
    };
    Ok((
        "",
        Header {
            node,
            kind,
            stamp,
            body,
        },
    ))
}

/// Finds the record header in a line or a syslog message. In audit.log it starts the line; in
/// syslog it follows a prefix (`audit: `, `[  12.345678] audit: `, `node=host `), so the first few
/// `type=` words are tried, and a `node=` word before the header is taken as the node.
fn find_header(message: &str) -> Option<Header<'_>> {
    let trimmed = message.trim_start();
    if let Ok((_, header)) = header(trimmed) {
        return Some(header);
    }
    for (start, _) in message.match_indices("type=").take(8) {
        let at_word_start = message
            .get(..start)
            .is_some_and(|before| before.is_empty() || before.ends_with(char::is_whitespace));
        if !at_word_start {
            continue;
        }
        if let Ok((_, mut header)) = header(message.get(start..).unwrap_or("")) {
            // An empty `node=` names no host (the envelope's host stays the event's).
            header.node = message.get(..start).and_then(|before| {
                before
                    .split_whitespace()
                    .rev()
                    .find_map(|word| word.strip_prefix("node=").filter(|node| !node.is_empty()))
            });
            return Some(header);
        }
    }
    None
}

/// A value as written: quoted values are never hex-encoded, unquoted ones may be.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Written<'a> {
    Quoted(&'a str),
    Plain(&'a str),
}

/// One `key=value` pair of a record body, still borrowed.
type Pair<'a> = (&'a str, Written<'a>);

/// The characters of a key: `a0`, `old-auid`, `cap_fp`, `a1[0]`, `SYSCALL`.
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '[' | ']' | '.')
}

/// Reads the `key=value` pairs of a body, skipping words that are not pairs (`user`, `PAM:`,
/// `avc:  denied  { read } for`). `nested` is set inside a user-space `msg='...'`, where pairs may
/// be wrapped as `(hostname=?, addr=?, terminal=cron res=success)`.
fn pairs<'a>(mut input: &'a str, nested: bool, out: &mut Vec<Pair<'a>>) {
    loop {
        input = multispace0::<&str, nom::error::Error<&str>>(input).map_or("", |(rest, _)| rest);
        if input.is_empty() {
            return;
        }
        if nested {
            input = input.trim_start_matches('(');
        }
        let key_and_equals: IResult<&str, &str> = (take_while1(is_key_char), char('='))
            .map(|(key, _)| key)
            .parse(input);
        let Ok((after, key)) = key_and_equals else {
            input = skip_word(input);
            continue;
        };
        let (rest, value) = pair_value(after, key);
        match value {
            // One level only: a `msg='` inside the nested text is an ordinary value.
            Written::Quoted(inner) if key == "msg" && !nested && after.starts_with('\'') => {
                pairs(inner, true, out)
            }
            Written::Plain(text) if nested => {
                out.push((key, Written::Plain(text.trim_end_matches([',', ')']))))
            }
            _ => out.push((key, value)),
        }
        input = rest;
    }
}

/// The value after `key=`: `"..."`, `'...'` (a nested `msg='...'` runs to the last quote, since its
/// pairs hold quotes of their own), or a word.
fn pair_value<'a>(input: &'a str, key: &str) -> (&'a str, Written<'a>) {
    if let Some(inner) = input.strip_prefix('"') {
        return match inner.find('"') {
            Some(end) => (
                inner.get(end + 1..).unwrap_or(""),
                Written::Quoted(inner.get(..end).unwrap_or("")),
            ),
            None => ("", Written::Quoted(inner)),
        };
    }
    if let Some(inner) = input.strip_prefix('\'') {
        let end = if key == "msg" {
            inner.rfind('\'')
        } else {
            inner.find('\'')
        };
        return match end {
            Some(end) => (
                inner.get(end + 1..).unwrap_or(""),
                Written::Quoted(inner.get(..end).unwrap_or("")),
            ),
            None => ("", Written::Quoted(inner)),
        };
    }
    let (rest, word) =
        take_till::<_, &str, nom::error::Error<&str>>(|c: char| c.is_ascii_whitespace())(input)
            .unwrap_or(("", input));
    (rest, Written::Plain(word))
}

/// Skips one word that is not a pair; a `{ ... }` group counts as one word. At least one
/// character goes, so that [`pairs`] always advances: a word may start with whitespace its
/// `multispace0` does not skip (a form feed, a no-break space), which used to loop forever.
fn skip_word(input: &str) -> &str {
    let end = if input.starts_with('{') {
        input.find('}').map_or(input.len(), |end| end + 1)
    } else {
        let first = input.chars().next().map_or(0, char::len_utf8);
        input
            .get(first..)
            .and_then(|rest| rest.find(char::is_whitespace))
            .map_or(input.len(), |end| first + end)
    };
    input.get(end..).unwrap_or("")
}

/// An SELinux AVC body starts `avc:  denied  { read write } for ...`: the result and the
/// permissions, named as auparse names them (`seresult`, `seperms`).
fn avc_prefix(body: &str) -> Option<(&str, String, &str)> {
    let parsed: IResult<&str, (&str, &str)> = (
        space0,
        tag("avc:"),
        space0,
        take_while1(|c: char| c.is_ascii_alphabetic()),
        space0,
        char('{'),
        take_till(|c| c == '}'),
        char('}'),
    )
        .map(|(_, _, _, result, _, _, permissions, _)| (result, permissions))
        .parse(body);
    let (rest, (result, permissions)) = parsed.ok()?;
    let permissions = permissions.split_whitespace().collect::<Vec<_>>().join(",");
    Some((result, permissions, rest))
}

/// Keys whose unquoted values auditd may have hex-encoded (besides EXECVE's `aN`).
fn is_encodable(key: &str) -> bool {
    matches!(
        key,
        "name"
            | "exe"
            | "comm"
            | "ocomm"
            | "cwd"
            | "path"
            | "dir"
            | "file"
            | "watch"
            | "proctitle"
            | "acct"
            | "cmd"
            | "data"
            | "key"
            | "old"
            | "new"
            | "grp"
            | "new_group"
            | "root_dir"
            | "vm"
            | "old-disk"
            | "new-disk"
            | "old-fs"
            | "new-fs"
            | "old-net"
            | "new-net"
            | "old-chardev"
            | "new-chardev"
            | "old-rng"
            | "new-rng"
    )
}

/// Hex text to bytes: even length, hex digits only, else `None`.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b.to_ascii_uppercase().wrapping_sub(b'A').wrapping_add(10),
    };
    Some(
        text.as_bytes()
            .chunks_exact(2)
            .map(|pair| (digit(pair[0]) << 4) | digit(pair[1]))
            .collect(),
    )
}

/// Decodes an unquoted value auditd hex-encoded. auditd encodes a value only when it holds a space,
/// a `"`, a control or a non-ASCII byte (otherwise it quotes it), so hex that decodes to none of
/// these, or to non-ASCII bytes that are not UTF-8, is a value that merely looks like hex
/// (`acct=cafe`, `acct=41424344`) and is left alone; TTY `data` is always hex. The text is cut at
/// the first NUL (auditd values are C strings) except in `proctitle`, where NULs separate the
/// arguments and become spaces.
fn decode(key: &str, text: &str) -> Option<String> {
    let bytes = hex_bytes(text)?;
    let control_or_space = bytes.iter().any(|&b| b < 0x21);
    let needs_encoding = control_or_space || bytes.iter().any(|&b| b == b'"' || b > 0x7e);
    // Non-ASCII bytes alone must also form UTF-8, or `acct=cafe` would become two stray bytes.
    let plausible = control_or_space || (needs_encoding && std::str::from_utf8(&bytes).is_ok());
    if !plausible && key != "data" {
        return None;
    }
    let text = if key == "proctitle" {
        let spaced: Vec<u8> = bytes.iter().map(|&b| if b == 0 { b' ' } else { b }).collect();
        String::from_utf8_lossy(&spaced).trim_end_matches(' ').to_owned()
    } else {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[])).into_owned()
    };
    Some(text)
}

/// Type numbers the kernel writes to syslog (`type=1400`), named as audit.log names them.
fn type_name(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "1006" => "LOGIN",
        "1100" => "USER_AUTH",
        "1101" => "USER_ACCT",
        "1102" => "USER_MGMT",
        "1103" => "CRED_ACQ",
        "1104" => "CRED_DISP",
        "1105" => "USER_START",
        "1106" => "USER_END",
        "1107" => "USER_AVC",
        "1108" => "USER_CHAUTHTOK",
        "1109" => "USER_ERR",
        "1110" => "CRED_REFR",
        "1112" => "USER_LOGIN",
        "1113" => "USER_LOGOUT",
        "1114" => "ADD_USER",
        "1115" => "DEL_USER",
        "1116" => "ADD_GROUP",
        "1117" => "DEL_GROUP",
        "1123" => "USER_CMD",
        "1130" => "SERVICE_START",
        "1131" => "SERVICE_STOP",
        "1300" => "SYSCALL",
        "1302" => "PATH",
        "1303" => "IPC",
        "1305" => "CONFIG_CHANGE",
        "1306" => "SOCKADDR",
        "1307" => "CWD",
        "1309" => "EXECVE",
        "1320" => "EOE",
        "1325" => "NETFILTER_CFG",
        "1326" => "SECCOMP",
        "1327" => "PROCTITLE",
        "1400" => "AVC",
        "1501" => "APPARMOR_AUDIT",
        "1502" => "APPARMOR_ALLOWED",
        "1503" => "APPARMOR_DENIED",
        "1504" => "APPARMOR_HINT",
        "1505" => "APPARMOR_STATUS",
        "1506" => "APPARMOR_ERROR",
        "1700" => "ANOM_PROMISCUOUS",
        "1701" => "ANOM_ABEND",
        "1702" => "ANOM_LINK",
        _ => return None,
    })
}

/// Names of common x86_64 system calls (auditd logs the number).
fn x86_64_syscall(number: &str) -> Option<&'static str> {
    Some(match number.parse::<u16>().ok()? {
        0 => "read",
        1 => "write",
        2 => "open",
        3 => "close",
        4 => "stat",
        5 => "fstat",
        6 => "lstat",
        9 => "mmap",
        10 => "mprotect",
        13 => "rt_sigaction",
        14 => "rt_sigprocmask",
        16 => "ioctl",
        21 => "access",
        22 => "pipe",
        23 => "select",
        32 => "dup",
        33 => "dup2",
        41 => "socket",
        42 => "connect",
        43 => "accept",
        44 => "sendto",
        45 => "recvfrom",
        46 => "sendmsg",
        47 => "recvmsg",
        49 => "bind",
        50 => "listen",
        54 => "setsockopt",
        56 => "clone",
        57 => "fork",
        58 => "vfork",
        59 => "execve",
        60 => "exit",
        61 => "wait4",
        62 => "kill",
        63 => "uname",
        72 => "fcntl",
        76 => "truncate",
        77 => "ftruncate",
        80 => "chdir",
        82 => "rename",
        83 => "mkdir",
        84 => "rmdir",
        85 => "creat",
        86 => "link",
        87 => "unlink",
        88 => "symlink",
        90 => "chmod",
        91 => "fchmod",
        92 => "chown",
        93 => "fchown",
        94 => "lchown",
        95 => "umask",
        101 => "ptrace",
        103 => "syslog",
        105 => "setuid",
        106 => "setgid",
        113 => "setreuid",
        114 => "setregid",
        117 => "setresuid",
        119 => "setresgid",
        122 => "setfsuid",
        123 => "setfsgid",
        133 => "mknod",
        135 => "personality",
        137 => "statfs",
        155 => "pivot_root",
        157 => "prctl",
        161 => "chroot",
        165 => "mount",
        166 => "umount2",
        169 => "reboot",
        170 => "sethostname",
        175 => "init_module",
        176 => "delete_module",
        188 => "setxattr",
        189 => "lsetxattr",
        190 => "fsetxattr",
        197 => "removexattr",
        200 => "tkill",
        228 => "clock_gettime",
        231 => "exit_group",
        234 => "tgkill",
        246 => "kexec_load",
        257 => "openat",
        258 => "mkdirat",
        259 => "mknodat",
        260 => "fchownat",
        263 => "unlinkat",
        264 => "renameat",
        265 => "linkat",
        266 => "symlinkat",
        268 => "fchmodat",
        269 => "faccessat",
        272 => "unshare",
        288 => "accept4",
        304 => "open_by_handle_at",
        308 => "setns",
        310 => "process_vm_readv",
        311 => "process_vm_writev",
        313 => "finit_module",
        316 => "renameat2",
        319 => "memfd_create",
        320 => "kexec_file_load",
        321 => "bpf",
        322 => "execveat",
        425 => "io_uring_setup",
        434 => "pidfd_open",
        437 => "openat2",
        439 => "faccessat2",
        452 => "fchmodat2",
        _ => return None,
    })
}

/// One record, parsed and decoded (owned: its group outlives the line).
#[derive(Debug)]
struct Record {
    /// The line as received (the whole syslog line for syslog-carried records).
    raw: String,
    /// The record type, numbers named (`1400` → `AVC`).
    kind: String,
    node: Option<String>,
    stamp: Stamp,
    /// The pairs in order, values unquoted and decoded; EXECVE arguments split over `aN[i]`
    /// pieces joined into `aN`; `key` split at the `\x01` that separates several keys.
    fields: Vec<(String, String)>,
    /// EXECVE: the arguments in order.
    arguments: Vec<String>,
    /// The enriched part after the GS byte (`UID="root"`), unquoted.
    enriched: Vec<(String, String)>,
}

impl Record {
    fn parse(line: &str, raw: String) -> Option<Record> {
        let header = find_header(line)?;
        let kind = type_name(header.kind).unwrap_or(header.kind).to_owned();
        let (body, enriched_text) = match header.body.split_once('\x1d') {
            Some((body, enriched)) => (body, Some(enriched)),
            None => (header.body, None),
        };
        let mut fields = Vec::new();
        let mut found = Vec::new();
        let body = match avc_prefix(body) {
            Some((result, permissions, rest)) => {
                fields.push(("seresult".to_owned(), result.to_owned()));
                fields.push(("seperms".to_owned(), permissions));
                rest
            }
            None => body,
        };
        pairs(body, false, &mut found);
        let mut arguments = Vec::new();
        if kind == "EXECVE" {
            execve_fields(&found, &mut fields, &mut arguments);
        } else {
            for (key, value) in found {
                push_decoded(&mut fields, key, value);
            }
        }
        let mut enriched = Vec::new();
        if let Some(text) = enriched_text {
            let mut found = Vec::new();
            pairs(text, false, &mut found);
            enriched.extend(found.into_iter().map(|(key, value)| {
                let (Written::Quoted(text) | Written::Plain(text)) = value;
                (key.to_owned(), text.to_owned())
            }));
        }
        Some(Record {
            raw,
            kind,
            node: header.node.map(str::to_owned),
            stamp: header.stamp,
            fields,
            arguments,
            enriched,
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// A value unquoted, decoded when auditd encoded it; several `key`s split apart.
fn push_decoded(fields: &mut Vec<(String, String)>, key: &str, value: Written<'_>) {
    let text = match value {
        Written::Quoted(text) => text.to_owned(),
        Written::Plain(text) if is_encodable(key) => decode(key, text).unwrap_or_else(|| text.to_owned()),
        Written::Plain(text) => text.to_owned(),
    };
    if key == "key" && text.contains('\x01') {
        for part in text.split('\x01').filter(|part| !part.is_empty()) {
            fields.push((key.to_owned(), part.to_owned()));
        }
    } else {
        fields.push((key.to_owned(), text));
    }
}

/// EXECVE: `argc=3 a0="ls" a1="-l" a2=2F746D702F612062`, long arguments split as
/// `a1_len=300000 a1[0]=... a1[1]=...`. The arguments are decoded (each is quoted or hex as a
/// whole, so pieces are joined before decoding) and kept in order.
fn execve_fields(found: &[Pair<'_>], fields: &mut Vec<(String, String)>, arguments: &mut Vec<String>) {
    // (argument number, joined text, quoted)
    let mut args: Vec<(usize, String, bool)> = Vec::new();
    for &(key, value) in found {
        let index = key
            .strip_prefix('a')
            .map(|rest| rest.split_once('[').map_or(rest, |(number, _)| number))
            .and_then(|number| number.parse::<usize>().ok());
        let Some(index) = index else {
            push_decoded(fields, key, value);
            continue;
        };
        let (Written::Quoted(text) | Written::Plain(text)) = value;
        let quoted = matches!(value, Written::Quoted(_));
        match args.iter_mut().find(|(number, _, _)| *number == index) {
            Some((_, joined, _)) => joined.push_str(text),
            None => args.push((index, text.to_owned(), quoted)),
        }
    }
    args.sort_by_key(|(number, _, _)| *number);
    for (number, text, quoted) in args {
        let value = if quoted {
            text
        } else {
            decode("execve", &text).unwrap_or(text)
        };
        fields.push((format!("a{number}"), value.clone()));
        arguments.push(value);
    }
}

/// The records of one event being assembled.
#[derive(Debug)]
struct Group {
    node: Option<String>,
    stamp: Stamp,
    records: Vec<Record>,
    /// The envelope fields of the first record.
    prefix: Option<Fields>,
    bytes: usize,
}

impl Group {
    fn new(record: Record, prefix: Option<Fields>) -> Group {
        Group {
            node: record.node.clone(),
            stamp: record.stamp,
            bytes: record.raw.len(),
            records: vec![record],
            prefix,
        }
    }

    /// Whether the record belongs to this group (same node, time and serial).
    fn is(&self, record: &Record) -> bool {
        self.stamp == record.stamp && self.node == record.node
    }

    fn add(&mut self, record: Record) {
        self.bytes = self.bytes.saturating_add(record.raw.len());
        self.records.push(record);
    }

    fn is_full(&self) -> bool {
        self.records.len() >= MAX_GROUP_RECORDS || self.bytes >= MAX_GROUP_BYTES
    }

    /// Whether a record of another serial at `seconds` shows this group complete (see
    /// [`AuditAssembler::push`]).
    fn is_complete(&self, seconds: i64) -> bool {
        let has = |kind: &str| self.records.iter().any(|record| record.kind == kind);
        !has("SYSCALL")
            || has("PROCTITLE")
            || seconds.saturating_sub(self.stamp.seconds) > STALE_AFTER_SECONDS
    }

    /// The event: envelope fields, every record's raw keys in order (`type` once per record,
    /// other repeated key/value pairs once), then the ECS fields derived from them.
    fn into_event(self) -> Event {
        let mut fields = Fields::new();
        let node = self.node.clone();
        let mut envelope_host = None;
        if let Some(prefix) = &self.prefix {
            for (name, value) in prefix.iter() {
                match name {
                    "message" | "log.original" => {}
                    // The envelope's program is the logger (kernel, audispd), not the audited process.
                    "process.name" => fields.push("log.syslog.appname", value.clone()),
                    "process.pid" => fields.push("log.syslog.procid", value.clone()),
                    "host.name" => {
                        envelope_host = value.as_text().map(|text| text.into_owned());
                        // With node=, the syslog host is the relay; the node is the audited host.
                        match &node {
                            Some(node) if Some(node.as_str()) != envelope_host.as_deref() => {
                                fields.push("observer.hostname", value.clone())
                            }
                            Some(_) => {}
                            None => fields.push("host.name", value.clone()),
                        }
                    }
                    _ => fields.push(name, value.clone()),
                }
            }
        }
        if let Some(node) = &node {
            fields.push("node", node.as_str());
            fields.push("host.name", node.as_str());
        }

        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        for record in &self.records {
            fields.push("type", record.kind.as_str());
            for (name, value) in record.fields.iter().chain(&record.enriched) {
                if seen.insert((name, value)) {
                    fields.push(name.as_str(), value.as_str());
                }
            }
        }
        self.push_ecs(&mut fields);
        if let Some(nanos) = self.stamp.unix_nanos() {
            fields.push("@timestamp", format_nanos(nanos));
        }

        let raw = self
            .records
            .iter()
            .map(|record| record.raw.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        Event {
            timestamp_nanos: self.stamp.unix_nanos(),
            host: node.or(envelope_host),
            source_type: Some("auditd".to_owned()),
            logsource: logsource(Some("linux"), None, Some("auditd")),
            raw,
            fields,
            ..Event::default()
        }
    }

    /// The first value of a key, from the SYSCALL record when it has it, else from any record.
    fn first(&self, key: &str) -> Option<&str> {
        self.records
            .iter()
            .filter(|record| record.kind == "SYSCALL")
            .chain(self.records.iter().filter(|record| record.kind != "SYSCALL"))
            .find_map(|record| record.get(key))
    }

    fn enriched(&self, key: &str) -> Option<&str> {
        self.records
            .iter()
            .flat_map(|record| &record.enriched)
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    fn push_ecs(&self, fields: &mut Fields) {
        let known = |value: &&str| !matches!(*value, "" | "?" | "(null)" | "(none)");
        if let Some(exe) = self.first("exe").filter(known) {
            fields.push("process.executable", exe);
        }
        if let Some(comm) = self.first("comm").filter(known) {
            fields.push("process.name", comm);
        }
        for (key, name) in [
            ("pid", "process.pid"),
            ("ppid", "process.parent.pid"),
            ("uid", "user.id"),
            ("auid", "user.audit.id"),
            ("euid", "user.effective.id"),
            ("gid", "group.id"),
        ] {
            if let Some(value) = self.first(key) {
                match (key, value.parse::<i64>()) {
                    ("pid" | "ppid", Ok(number)) => fields.push(name, number),
                    ("pid" | "ppid", Err(_)) => {}
                    _ => fields.push(name, value),
                }
            }
        }
        let cwd = self.first("cwd").filter(known);
        if let Some(cwd) = cwd {
            fields.push("process.working_directory", cwd);
        }
        let arguments: Vec<&str> = self
            .records
            .iter()
            .filter(|record| record.kind == "EXECVE")
            .flat_map(|record| record.arguments.iter().map(String::as_str))
            .collect();
        if !arguments.is_empty() {
            fields.push("process.command_line", arguments.join(" "));
        } else if let Some(title) = self.first("proctitle").filter(known) {
            fields.push("process.command_line", title);
        }
        let outcome = match (self.first("success"), self.first("res")) {
            (Some("yes"), _) => Some("success"),
            (Some("no"), _) => Some("failure"),
            (None, Some("success" | "yes" | "1")) => Some("success"),
            (None, Some("failed" | "no" | "0")) => Some("failure"),
            _ => None,
        };
        if let Some(outcome) = outcome {
            fields.push("event.outcome", outcome);
        }
        if let Some(first) = self.records.first() {
            fields.push("event.action", first.kind.to_ascii_lowercase());
        }
        if let Ok(serial) = i64::try_from(self.stamp.serial) {
            fields.push("auditd.serial", serial);
        }
        for record in self.records.iter().filter(|record| record.kind == "PATH") {
            for name in record
                .fields
                .iter()
                .filter(|(key, _)| key == "name")
                .map(|(_, value)| value)
            {
                if !known(&name.as_str()) {
                    continue;
                }
                // A relative name is relative to the working directory of the call.
                match cwd {
                    Some(cwd) if !name.starts_with('/') => {
                        fields.push("file.path", format!("{}/{}", cwd.trim_end_matches('/'), name))
                    }
                    _ => fields.push("file.path", name.as_str()),
                }
            }
        }
        if let Some(address) = self.first("addr").filter(|addr| addr.parse::<IpAddr>().is_ok()) {
            fields.push("source.ip", address);
        }
        if let Some(user) = self.first("acct").filter(known).or_else(|| self.enriched("UID")) {
            fields.push("user.name", user);
        }
        if self.first("arch") == Some("c000003e")
            && let Some(name) = self.first("syscall").and_then(x86_64_syscall)
        {
            fields.push("auditd.syscall_name", name);
            // The enriched format names the call `SYSCALL=`; SigmaHQ rules match that field.
            if self.enriched("SYSCALL").is_none() {
                fields.push("SYSCALL", name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(lines: &[&str]) -> Vec<Event> {
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let context = ParseContext::default();
        for line in lines {
            assert!(
                assembler.push(line, None, &context, &mut out),
                "not taken: {line}"
            );
        }
        assembler.flush(&mut out);
        out
    }

    fn text<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
        match event.fields.get(name) {
            Some(Value::Str(text)) => Some(text.as_str()),
            _ => None,
        }
    }

    fn all<'a>(event: &'a Event, name: &'a str) -> Vec<String> {
        event
            .fields
            .get_all(name)
            .filter_map(Value::as_text)
            .map(|text| text.into_owned())
            .collect()
    }

    fn int(event: &Event, name: &str) -> Option<i64> {
        match event.fields.get(name) {
            Some(Value::Int(number)) => Some(*number),
            _ => None,
        }
    }

    const EXECVE_EVENT: [&str; 8] = [
        r#"type=SYSCALL msg=audit(1700000000.123:4567): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c0a0 a1=55d0c1b0 a2=55d0c2c0 a3=0 items=2 ppid=1200 pid=1234 auid=1000 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4 comm="sh" exe="/usr/bin/dash" subj=unconfined key="exec""#,
        r#"type=EXECVE msg=audit(1700000000.123:4567): argc=3 a0="sh" a1="-c" a2=6563686F20612062"#,
        r#"type=CWD msg=audit(1700000000.123:4567): cwd="/var/www/html""#,
        r#"type=PATH msg=audit(1700000000.123:4567): item=0 name="/bin/sh" inode=131 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"#,
        r#"type=PATH msg=audit(1700000000.123:4567): item=1 name=2F746D702F6120622E7368 inode=132 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"#,
        r#"type=PROCTITLE msg=audit(1700000000.123:4567): proctitle=7368002D63006563686F2061206200"#,
        r#"type=EOE msg=audit(1700000000.123:4567): "#,
        r#"type=USER_LOGIN msg=audit(1700000001.000:4568): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.7 terminal=ssh res=failed'"#,
    ];

    #[test]
    fn execve_event_merges_its_records() {
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let context = ParseContext::default();
        for line in &EXECVE_EVENT[..7] {
            assert!(assembler.push(line, None, &context, &mut out));
        }
        // EOE completes the event without waiting for the next serial.
        assert_eq!(out.len(), 1);
        let event = &out[0];
        assert_eq!(
            all(event, "type"),
            ["SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE", "EOE"]
        );
        assert_eq!(text(event, "syscall"), Some("59"));
        assert_eq!(text(event, "exe"), Some("/usr/bin/dash"));
        assert_eq!(text(event, "comm"), Some("sh"));
        assert_eq!(text(event, "key"), Some("exec"));
        assert_eq!(text(event, "cwd"), Some("/var/www/html"));
        assert_eq!(text(event, "uid"), Some("33"));
        // SYSCALL's register a0 and EXECVE's first argument are both values of `a0`.
        assert_eq!(all(event, "a0"), ["55d0c0a0", "sh"]);
        assert_eq!(all(event, "a2"), ["55d0c2c0", "echo a b"]);
        assert_eq!(all(event, "name"), ["/bin/sh", "/tmp/a b.sh"]);
        assert_eq!(all(event, "nametype"), ["NORMAL"]);
        assert_eq!(text(event, "proctitle"), Some("sh -c echo a b"));
        assert_eq!(text(event, "process.executable"), Some("/usr/bin/dash"));
        assert_eq!(text(event, "process.name"), Some("sh"));
        assert_eq!(int(event, "process.pid"), Some(1234));
        assert_eq!(int(event, "process.parent.pid"), Some(1200));
        assert_eq!(text(event, "process.working_directory"), Some("/var/www/html"));
        assert_eq!(text(event, "process.command_line"), Some("sh -c echo a b"));
        assert_eq!(text(event, "user.id"), Some("33"));
        assert_eq!(text(event, "user.audit.id"), Some("1000"));
        assert_eq!(text(event, "user.effective.id"), Some("33"));
        assert_eq!(text(event, "event.outcome"), Some("success"));
        assert_eq!(text(event, "event.action"), Some("syscall"));
        assert_eq!(int(event, "auditd.serial"), Some(4567));
        assert_eq!(all(event, "file.path"), ["/bin/sh", "/tmp/a b.sh"]);
        assert_eq!(text(event, "auditd.syscall_name"), Some("execve"));
        assert_eq!(text(event, "SYSCALL"), Some("execve"));
        assert_eq!(text(event, "@timestamp"), Some("2023-11-14T22:13:20.123Z"));
        assert_eq!(event.timestamp_nanos, Some(1_700_000_000_123_000_000));
        assert_eq!(event.logsource, logsource(Some("linux"), None, Some("auditd")));
        assert_eq!(event.source_type.as_deref(), Some("auditd"));
        assert_eq!(event.raw, EXECVE_EVENT[..7].join("\n"));
    }

    #[test]
    fn user_login_nested_msg_pairs_are_parsed() {
        let events = assemble(&EXECVE_EVENT[7..]);
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(text(event, "op"), Some("login"));
        assert_eq!(text(event, "acct"), Some("root"));
        assert_eq!(text(event, "exe"), Some("/usr/sbin/sshd"));
        assert_eq!(text(event, "hostname"), Some("?"));
        assert_eq!(text(event, "terminal"), Some("ssh"));
        assert_eq!(text(event, "res"), Some("failed"));
        assert_eq!(text(event, "user.name"), Some("root"));
        assert_eq!(text(event, "source.ip"), Some("203.0.113.7"));
        assert_eq!(text(event, "event.outcome"), Some("failure"));
        assert_eq!(text(event, "event.action"), Some("user_login"));
        assert!(!event.fields.contains("msg"));
    }

    #[test]
    fn pam_record_with_words_and_parentheses() {
        let events = assemble(&[
            r#"type=USER_START msg=audit(1712000100.010:501): user pid=4410 uid=0 auid=0 msg='PAM: session open acct=root : exe="/usr/sbin/cron" (hostname=?, addr=?, terminal=cron res=success)'"#,
        ]);
        let event = &events[0];
        assert_eq!(text(event, "acct"), Some("root"));
        assert_eq!(text(event, "hostname"), Some("?"));
        assert_eq!(text(event, "addr"), Some("?"));
        assert_eq!(text(event, "terminal"), Some("cron"));
        assert_eq!(text(event, "res"), Some("success"));
        assert_eq!(text(event, "event.outcome"), Some("success"));
        assert!(!event.fields.contains("source.ip"));
    }

    #[test]
    fn a_new_serial_emits_the_previous_group() {
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let context = ParseContext::default();
        assembler.push(
            r#"type=USER_CMD msg=audit(1700000000.100:10): pid=5 uid=1000 auid=1000 ses=2 msg='cwd="/home/a" cmd=6C73202D6C61 terminal=pts/0 res=success'"#,
            None,
            &context,
            &mut out,
        );
        assert!(out.is_empty());
        assembler.push(
            r#"type=CWD msg=audit(1700000000.200:11): cwd="/""#,
            None,
            &context,
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(text(&out[0], "cmd"), Some("ls -la"));
        assert_eq!(int(&out[0], "auditd.serial"), Some(10));
        assembler.flush(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(int(&out[1], "auditd.serial"), Some(11));
    }

    #[test]
    fn flush_emits_what_is_open() {
        let events = assemble(&EXECVE_EVENT[..2]);
        assert_eq!(events.len(), 1);
        assert_eq!(text(&events[0], "process.command_line"), Some("sh -c echo a b"));
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        assembler.flush(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn interleaved_serials_meet_their_own_records() {
        let events = assemble(&[
            r#"type=SYSCALL msg=audit(1712000000.500:35): arch=c000003e syscall=23 success=yes exit=1 pid=2210 comm="sshd" exe="/usr/sbin/sshd" key=(null)"#,
            r#"type=SYSCALL msg=audit(1712000000.500:33): arch=c000003e syscall=13 success=yes exit=0 pid=2301 comm="bash" exe="/usr/bin/bash" key=(null)"#,
            r#"type=PROCTITLE msg=audit(1712000000.500:33): proctitle="bash""#,
            r#"type=PROCTITLE msg=audit(1712000000.500:35): proctitle=737368643A206C616E205B707269765D"#,
            r#"type=SYSCALL msg=audit(1712000000.500:36): arch=c000003e syscall=13 success=yes exit=0 pid=2301 comm="bash" exe="/usr/bin/bash" key=(null)"#,
            r#"type=PROCTITLE msg=audit(1712000000.500:36): proctitle="bash""#,
        ]);
        assert_eq!(events.len(), 3);
        let by_serial = |serial| {
            events
                .iter()
                .find(|event| int(event, "auditd.serial") == Some(serial))
                .unwrap()
        };
        assert_eq!(
            text(by_serial(35), "process.command_line"),
            Some("sshd: lan [priv]")
        );
        assert_eq!(text(by_serial(35), "exe"), Some("/usr/sbin/sshd"));
        assert_eq!(all(by_serial(35), "type"), ["SYSCALL", "PROCTITLE"]);
        assert_eq!(text(by_serial(33), "process.command_line"), Some("bash"));
        assert_eq!(all(by_serial(36), "type"), ["SYSCALL", "PROCTITLE"]);
        assert_eq!(text(by_serial(35), "auditd.syscall_name"), Some("select"));
    }

    #[test]
    fn open_groups_are_bounded() {
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let context = ParseContext::default();
        for serial in 0..20 {
            let line = format!(
                "type=SYSCALL msg=audit(1700000000.000:{serial}): arch=c000003e syscall=2 success=no"
            );
            assembler.push(&line, None, &context, &mut out);
            assert!(assembler.open.len() <= MAX_OPEN_GROUPS);
        }
        assert_eq!(out.len(), 20 - MAX_OPEN_GROUPS);
        assert_eq!(int(&out[0], "auditd.serial"), Some(0));
        for _ in 0..100 {
            assembler.push(
                r#"type=PATH msg=audit(1700000000.000:19): item=0 name="/x""#,
                None,
                &context,
                &mut out,
            );
        }
        assert!(
            assembler
                .open
                .iter()
                .all(|group| group.records.len() < MAX_GROUP_RECORDS)
        );
        assembler.flush(&mut out);
        assert!(assembler.open.is_empty());
    }

    #[test]
    fn stale_syscall_group_is_emitted_by_a_later_record() {
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let context = ParseContext::default();
        assembler.push(
            r#"type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=2 success=no exit=-13"#,
            None,
            &context,
            &mut out,
        );
        assembler.push(
            r#"type=SYSCALL msg=audit(1700000001.000:2): syscall=2"#,
            None,
            &context,
            &mut out,
        );
        assert!(out.is_empty());
        assembler.push(
            r#"type=SYSCALL msg=audit(1700000009.000:3): syscall=2"#,
            None,
            &context,
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(text(&out[0], "event.outcome"), Some("failure"));
    }

    #[test]
    fn hex_decoding_edge_cases() {
        // Odd length, non-hex, hex that needs no encoding: kept as written.
        assert_eq!(decode("name", "2F746D7"), None);
        assert_eq!(decode("name", "2F746D7G"), None);
        assert_eq!(decode("acct", "cafe"), None);
        assert_eq!(decode("acct", "41424344"), None);
        assert_eq!(decode("name", ""), None);
        // A NUL ends a value, except in proctitle where it separates arguments.
        assert_eq!(decode("name", "2F746D702F6100626364").as_deref(), Some("/tmp/a"));
        assert_eq!(
            decode("proctitle", "2F62696E2F6361740066696C65").as_deref(),
            Some("/bin/cat file")
        );
        assert_eq!(decode("proctitle", "6C73002D6C0000").as_deref(), Some("ls -l"));
        // Lower-case hex and UTF-8 names.
        assert_eq!(decode("name", "2f746d702f6120c3a9").as_deref(), Some("/tmp/a é"));
        // TTY data is always hex.
        assert_eq!(decode("data", "6C73").as_deref(), Some("ls"));

        let events = assemble(&[
            r#"type=SYSCALL msg=audit(1700000000.000:7): arch=c000003e syscall=257 success=yes exit=3 comm=6D7920636F6D6D exe=2F746D702F6D792065786520 key=6B6579310161757468"#,
            r#"type=CWD msg=audit(1700000000.000:7): cwd=2F686F6D652F6120620A"#,
            r#"type=PATH msg=audit(1700000000.000:7): item=0 name=deadbeef0 nametype=NORMAL"#,
            r#"type=PATH msg=audit(1700000000.000:7): item=1 name=(null) nametype=UNKNOWN"#,
        ]);
        let event = &events[0];
        assert_eq!(text(event, "comm"), Some("my comm"));
        assert_eq!(text(event, "exe"), Some("/tmp/my exe "));
        assert_eq!(all(event, "key"), ["key1", "auth"]);
        assert_eq!(text(event, "cwd"), Some("/home/a b\n"));
        assert_eq!(all(event, "name"), ["deadbeef0", "(null)"]);
        assert_eq!(all(event, "file.path"), ["/home/a b\n/deadbeef0"]);
        assert_eq!(text(event, "process.command_line"), None);
    }

    #[test]
    fn long_execve_arguments_are_joined() {
        let events = assemble(&[
            r#"type=EXECVE msg=audit(1700000000.000:8): argc=2 a0="cat" a1_len=10 a1[0]=2F746D702F a1[1]=6120622063"#,
        ]);
        assert_eq!(all(&events[0], "a1"), ["/tmp/a b c"]);
        assert_eq!(text(&events[0], "a1_len"), Some("10"));
        assert_eq!(text(&events[0], "process.command_line"), Some("cat /tmp/a b c"));
    }

    #[test]
    fn node_prefix_names_the_host() {
        let events = assemble(&[
            r#"node=web01.example.gov.vn type=ADD_GROUP msg=audit(1712000400.700:94): pid=3650 uid=0 auid=1001 ses=7 msg='op=add-group acct="ketoan" exe="/usr/sbin/groupadd" hostname=web01 addr=? terminal=pts/2 res=success'"#,
        ]);
        let event = &events[0];
        assert_eq!(event.host.as_deref(), Some("web01.example.gov.vn"));
        assert_eq!(text(event, "host.name"), Some("web01.example.gov.vn"));
        assert_eq!(text(event, "node"), Some("web01.example.gov.vn"));
        assert_eq!(text(event, "event.action"), Some("add_group"));
        assert_eq!(text(event, "user.name"), Some("ketoan"));
    }

    #[test]
    fn enriched_part_after_the_group_separator() {
        let events = assemble(&[
            "type=SYSCALL msg=audit(1700000000.000:9): arch=c000003e syscall=135 success=yes exit=0 a0=40000 pid=7 uid=1000 auid=1000 comm=\"setarch\" exe=\"/usr/bin/setarch\" key=(null)\x1dARCH=x86_64 SYSCALL=personality AUID=\"bob\" UID=\"bob\"",
        ]);
        let event = &events[0];
        assert_eq!(text(event, "ARCH"), Some("x86_64"));
        assert_eq!(all(event, "SYSCALL"), ["personality"]);
        assert_eq!(text(event, "AUID"), Some("bob"));
        assert_eq!(text(event, "user.name"), Some("bob"));
        assert_eq!(text(event, "key"), Some("(null)"));
        assert_eq!(text(event, "a0"), Some("40000"));
    }

    #[test]
    fn avc_permissions_are_named_like_auparse() {
        let events = assemble(&[
            r#"type=AVC msg=audit(1712000200.020:602): avc:  denied  { read write } for  pid=5120 comm="httpd" name="uploads" dev=sda1 ino=5521 tclass=dir"#,
        ]);
        assert_eq!(text(&events[0], "seresult"), Some("denied"));
        assert_eq!(text(&events[0], "seperms"), Some("read,write"));
        assert_eq!(text(&events[0], "name"), Some("uploads"));
        assert_eq!(text(&events[0], "event.action"), Some("avc"));
    }

    #[test]
    fn syslog_carried_apparmor_record() {
        let message = r#"audit: type=1400 audit(1712000300.250:7731): apparmor="ALLOWED" operation="open" profile="/usr/sbin/sshd" name="/etc/shadow" pid=1221 comm="sshd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0"#;
        assert!(looks_like_audit(message));
        let original = format!("Apr  1 19:38:20 web01 kernel: [ 1234.5678] {message}");
        let mut prefix = Fields::new();
        prefix.push("host.name", "web01");
        prefix.push("process.name", "kernel");
        prefix.push("message", message);
        prefix.push("log.original", original.as_str());
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        assert!(assembler.push(message, Some(prefix), &ParseContext::default(), &mut out));
        assembler.flush(&mut out);
        let event = &out[0];
        assert_eq!(event.raw, original);
        assert_eq!(all(event, "type"), ["AVC"]);
        assert_eq!(text(event, "apparmor"), Some("ALLOWED"));
        assert_eq!(text(event, "operation"), Some("open"));
        assert_eq!(text(event, "name"), Some("/etc/shadow"));
        assert_eq!(text(event, "host.name"), Some("web01"));
        assert_eq!(text(event, "log.syslog.appname"), Some("kernel"));
        assert_eq!(text(event, "process.name"), Some("sshd"));
        assert_eq!(int(event, "process.pid"), Some(1221));
        assert_eq!(event.host.as_deref(), Some("web01"));
        assert!(!event.fields.contains("message"));
        assert!(!event.fields.contains("log.original"));
        assert_eq!(event.timestamp_nanos, Some(1_712_000_300_250_000_000));
    }

    #[test]
    fn syslog_carried_auditd_record_with_node() {
        let message = r#"node=db01 type=USER_CMD msg=audit(1700000000.500:77): pid=9 uid=1000 auid=1000 ses=3 msg='cwd="/root" cmd=2F62696E2F626173682002D69 terminal=pts/1 res=success'"#;
        assert!(looks_like_audit(message));
        assert!(looks_like_audit(&format!("audispd: {message}")));
        let relayed = format!("audispd: {message}");
        let header = find_header(&relayed).unwrap();
        assert_eq!(header.node, Some("db01"));
        assert_eq!(header.kind, "USER_CMD");
    }

    #[test]
    fn syslog_carried_record_with_an_empty_node() {
        // Found by fuzzing (collector/fuzz, `rfc3164`): `node=` followed by whitespace gave the
        // node "", which replaced the syslog host with an empty host name.
        for relayed in [
            "audispd: node= type=USER_CMD msg=audit(1700000000.500:77): pid=9 res=success",
            "audispd: node=\x0b type=USER_CMD msg=audit(1700000000.500:77): pid=9 res=success",
        ] {
            let header = find_header(relayed).unwrap();
            assert_eq!(header.node, None, "{relayed:?}");
        }
        let mut prefix = Fields::new();
        prefix.push("host.name", "relay01");
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let message = "node= type=USER_CMD msg=audit(1700000000.500:77): pid=9 res=success";
        assert!(assembler.push(message, Some(prefix), &ParseContext::default(), &mut out));
        assembler.flush(&mut out);
        assert_eq!(out[0].host.as_deref(), Some("relay01"));
        assert_eq!(text(&out[0], "host.name"), Some("relay01"));
    }

    #[test]
    fn non_audit_messages_are_refused() {
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let context = ParseContext::default();
        for line in [
            "",
            "type=",
            "type=SYSCALL",
            "type=SYSCALL msg=audit(",
            "type=SYSCALL msg=audit(1700000000.1:",
            "type=SYSCALL msg=audit(1700000000:12): x=1",
            "msg=audit(1700000000.1:2): no type",
            "Failed password for root from 203.0.113.7 port 22 ssh2",
            "{\"type\": \"SYSCALL\"}",
            "audit(1700000000.1:2) type=SYSCALL",
        ] {
            assert!(!looks_like_audit(line), "{line}");
            assert!(!assembler.push(line, None, &context, &mut out), "{line}");
        }
        assert!(out.is_empty());
    }

    #[test]
    fn words_starting_with_other_whitespace_are_skipped() {
        // Found by fuzzing (collector/fuzz, `auth` and `rfc3164`): a word that is not a pair and
        // starts with a form feed, vertical tab or no-break space made `pairs` loop forever.
        for separator in ["\x0c", "\x0b", "\u{a0}", "\u{2003}", "\u{85}"] {
            let line = format!("type=USER_LOGIN msg=audit(1.1:1): a{separator}b{separator} pid=7 res=failed");
            let events = assemble(&[&line]);
            assert_eq!(events.len(), 1, "{line:?}");
            assert_eq!(text(&events[0], "res"), Some("failed"), "{line:?}");
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let big = "A".repeat(1 << 20);
        let lines = [
            format!("type=SYSCALL msg=audit(1.1:1): {big}"),
            format!("type=SYSCALL msg=audit(1.1:1): exe={big}"),
            format!("type=EXECVE msg=audit(1.1:2): a0=\"{big}"),
            format!("type=EXECVE msg=audit(1.1:2): a99999999999999999999=1 a{big}=2"),
            format!("type=USER_LOGIN msg=audit(1.1:3): msg='{big}"),
            format!("type=USER_LOGIN msg=audit(1.1:3): msg='a=\"{big}' b='"),
            format!("type=PATH msg=audit(1.1:4): {}", "a=b ".repeat(100_000)),
            format!("type=AVC msg=audit(1.1:5): avc: denied {{ {big}"),
            "type=X msg=audit(99999999999999999999.1:1): x".to_owned(),
            "type=X msg=audit(1.1:99999999999999999999): x".to_owned(),
            "type=X msg=audit(9223372036.99999999999:1): x".to_owned(),
            "type=X msg=audit(1.1:1): name=\u{1F600} cwd=C3 proctitle=FF00FE".to_owned(),
            "type=X msg=audit(1.1:1):\x1d\x1d\x1d=\"".to_owned(),
            format!("{} type=X msg=audit(1.1:1):", "type= ".repeat(100_000)),
        ];
        let mut assembler = AuditAssembler::default();
        let mut out = Vec::new();
        let context = ParseContext::default();
        for line in &lines {
            let _ = looks_like_audit(line);
            let _ = assembler.push(line, None, &context, &mut out);
        }
        assembler.flush(&mut out);
        assert!(!out.is_empty());
    }
}
