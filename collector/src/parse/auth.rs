//! Linux authentication messages: sshd, sudo, su, PAM, useradd/groupadd/usermod/passwd, cron.
//!
//! The syslog program decides the family (`sshd`, `sudo`, `su`, the shadow-utils account tools,
//! `login`, `systemd-logind`, cron), and each family has its own message grammar; a
//! `pam_xxx(service:type): ...` message is PAM's whatever the program (loghub's old
//! `sshd(pam_unix)` tag means the same without the prefix). Fields are named after the Elastic
//! Common Schema, as `rules/haidang/README.md` lists them. A message of a known program that no
//! form matches is still an auth (or cron) event, only without extracted fields; an unknown
//! program is not ours and gives `None`.
//!
//! One login attempt produces several sshd lines (`Invalid user`, `pam_unix(sshd:auth)`,
//! `Failed password`...). Only `Failed ...` and `Accepted ...` lines get `event.action:
//! ssh_login`, so that rules counting failed logins count each attempt once; the other lines get
//! their own actions.

use std::net::IpAddr;

use haidang_event::{Fields, Value};
use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_till, take_till1, take_until, take_while1},
    character::complete::{char, digit1, space0},
    combinator::{map, map_opt, opt, recognize, rest, value},
    multi::{many0, separated_list1},
    sequence::{delimited, preceded, separated_pair, terminated},
};

use super::{Recognized, logsource};

/// Parser results; the error carries nothing because a failure only ever means "not this form".
type Res<'a, O> = IResult<&'a str, O, ()>;

/// Parses the message into `fields`; `None` if it is not an auth message.
pub(crate) fn parse(program: Option<&str>, message: &str, fields: &mut Fields) -> Option<Recognized> {
    let message = unwrap_repeated(message);
    let pam = pam_prefix(message).ok();
    let pam_style_program = program.is_some_and(|program| program.contains("(pam_unix)"));
    let (family, source_type) = match (program.and_then(classify), pam) {
        (Some(known), _) => known,
        (None, Some((_, service))) => classify(service).unwrap_or((Family::Pam, "pam")),
        (None, None) if pam_style_program => (Family::Pam, "pam"),
        (None, None) => return None,
    };
    let facts = match pam {
        Some((text, _)) => pam_message(family, text),
        None if pam_style_program => pam_message(family, message),
        None => match family {
            Family::Sshd => sshd(message),
            Family::Sudo => sudo(message),
            Family::Su => su(message),
            Family::Accounts => accounts(message),
            Family::Login => login(message),
            Family::Logind => logind(message),
            Family::Cron => cron(message),
            Family::Pam => Facts::default(),
        },
    };
    facts.emit(fields);
    let service = if family == Family::Cron { "cron" } else { "auth" };
    Some(Recognized {
        logsource: logsource(Some("linux"), None, Some(service)),
        source_type,
        ..Recognized::default()
    })
}

/// The program families, each with its message grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Sshd,
    Sudo,
    Su,
    /// shadow-utils: useradd, groupadd, usermod, userdel, groupdel, groupmod, passwd, chpasswd,
    /// gpasswd, chage.
    Accounts,
    Login,
    Logind,
    Cron,
    /// Another program that logged a PAM message.
    Pam,
}

/// The family and source type of a program name. `sshd(pam_unix)` is `sshd`, `/usr/sbin/sshd`
/// too; OpenSSH 9.8+ logs sessions as `sshd-session` and authentication as `sshd-auth`.
fn classify(program: &str) -> Option<(Family, &'static str)> {
    let base = program.split('(').next().unwrap_or(program);
    let base = base.rsplit('/').next().unwrap_or(base);
    Some(match base {
        "sshd" | "sshd-session" | "sshd-auth" => (Family::Sshd, "sshd"),
        "sudo" => (Family::Sudo, "sudo"),
        "su" => (Family::Su, "su"),
        "useradd" => (Family::Accounts, "useradd"),
        "groupadd" => (Family::Accounts, "groupadd"),
        "usermod" => (Family::Accounts, "usermod"),
        "userdel" => (Family::Accounts, "userdel"),
        "groupdel" => (Family::Accounts, "groupdel"),
        "groupmod" => (Family::Accounts, "groupmod"),
        "passwd" => (Family::Accounts, "passwd"),
        "chpasswd" => (Family::Accounts, "chpasswd"),
        "gpasswd" => (Family::Accounts, "gpasswd"),
        "chage" => (Family::Accounts, "chage"),
        "login" => (Family::Login, "login"),
        "systemd-logind" => (Family::Logind, "systemd-logind"),
        "CRON" | "cron" | "crond" | "CROND" | "crontab" => (Family::Cron, "cron"),
        _ => return None,
    })
}

/// `event.outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
}

/// What a message says, before it becomes fields. Every form fills the facts it knows; `emit`
/// writes them in one fixed order and skips empty text.
#[derive(Clone, Debug, Default, PartialEq)]
struct Facts<'a> {
    action: Option<&'static str>,
    outcome: Option<Outcome>,
    reason: Option<&'a str>,
    /// The acting user: who logs in, who runs sudo or su.
    user: Option<&'a str>,
    user_id: Option<&'a str>,
    /// Whom sudo or su acts as.
    effective_user: Option<&'a str>,
    effective_user_id: Option<&'a str>,
    effective_group: Option<&'a str>,
    /// Whose crontab was changed.
    target_user: Option<&'a str>,
    source_ip: Option<&'a str>,
    source_domain: Option<&'a str>,
    source_port: Option<i64>,
    destination_ip: Option<&'a str>,
    destination_port: Option<i64>,
    command_line: Option<&'a str>,
    working_directory: Option<&'a str>,
    group_name: Option<&'a str>,
    group_id: Option<&'a str>,
    auth_method: Option<&'a str>,
    invalid_user: Option<bool>,
}

impl<'a> Facts<'a> {
    /// Facts with an action.
    fn action(action: &'static str) -> Facts<'a> {
        Facts {
            action: Some(action),
            ..Facts::default()
        }
    }

    fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = Some(outcome);
        self
    }

    fn reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }

    fn user(mut self, user: &'a str) -> Self {
        self.user = Some(user);
        self
    }

    fn invalid_user(mut self, invalid: bool) -> Self {
        self.invalid_user = Some(invalid);
        self
    }

    /// The peer: an IP address goes to `source.ip`, a host name (PAM's `rhost`, sshd with
    /// `UseDNS yes`) to `source.domain`, anything else nowhere.
    fn source(mut self, address: &'a str, port: Option<i64>) -> Self {
        if address.parse::<IpAddr>().is_ok() {
            self.source_ip = Some(address);
        } else if is_host_name(address) {
            self.source_domain = Some(address);
        }
        self.source_port = port.or(self.source_port);
        self
    }

    fn emit(&self, fields: &mut Fields) {
        let outcome = self.outcome.map(|outcome| match outcome {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        });
        push_text(fields, "event.action", self.action);
        push_text(fields, "event.outcome", outcome);
        push_text(fields, "event.reason", self.reason);
        push_text(fields, "user.name", self.user);
        push_text(fields, "user.id", self.user_id);
        push_text(fields, "user.effective.name", self.effective_user);
        push_text(fields, "user.effective.id", self.effective_user_id);
        push_text(fields, "user.effective.group.name", self.effective_group);
        push_text(fields, "user.target.name", self.target_user);
        push_text(fields, "source.ip", self.source_ip);
        push_text(fields, "source.domain", self.source_domain);
        if let Some(port) = self.source_port {
            fields.push("source.port", port);
        }
        push_text(fields, "destination.ip", self.destination_ip);
        if let Some(port) = self.destination_port {
            fields.push("destination.port", port);
        }
        push_text(fields, "process.command_line", self.command_line);
        push_text(fields, "process.working_directory", self.working_directory);
        push_text(fields, "group.name", self.group_name);
        push_text(fields, "group.id", self.group_id);
        push_text(fields, "ssh.auth_method", self.auth_method);
        if let Some(invalid) = self.invalid_user {
            fields.push("ssh.invalid_user", Value::Bool(invalid));
        }
    }
}

/// Adds a text field unless it is absent or empty (`logname=`, `Invalid user  from`).
fn push_text(fields: &mut Fields, name: &str, value: Option<&str>) {
    if let Some(value) = value.filter(|value| !value.is_empty()) {
        fields.push(name, value);
    }
}

/// A DNS name as PAM and sshd print them: letters, digits, `-`, `_`, `.`, with a letter
/// somewhere (so that a mangled address is not taken for a name).
fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && text.chars().any(|c| c.is_ascii_alphabetic())
}

// ---------------------------------------------------------------------------------------------
// Small parsers shared by the families. They are typed to the unit error so that the tuples
// built from them need no annotations.

/// A literal.
fn lit<'a>(text: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = ()> {
    tag(text)
}

/// Text up to the next space.
fn word(input: &str) -> Res<'_, &str> {
    take_till1(|c: char| c == ' ')(input)
}

/// A port number.
fn port(input: &str) -> Res<'_, i64> {
    map_opt(digit1, |digits: &str| digits.parse().ok()).parse(input)
}

/// An address token: up to the next space, without the `:` or `,` that some messages glue to it
/// (`Received disconnect from 192.0.2.1: 11: ...`, `maps to host.example,`).
fn address(input: &str) -> Res<'_, &str> {
    map(word, |token: &str| {
        token.strip_suffix([':', ',']).unwrap_or(token)
    })
    .parse(input)
}

/// `ADDRESS[ port N]`.
fn address_port(input: &str) -> Res<'_, (&str, Option<i64>)> {
    (address, opt(preceded(lit(" port "), port))).parse(input)
}

/// Everything before the last `separator`, which stays in the input. User names come before a
/// fixed tail (`... from ADDRESS port N`) and may themselves contain spaces or the words of the
/// tail, so the tail is found from the end.
fn before_last<'a>(separator: &'static str) -> impl Fn(&'a str) -> Res<'a, &'a str> {
    move |input: &'a str| match input.rfind(separator) {
        Some(index) => Ok((&input[index..], &input[..index])),
        None => Err(nom::Err::Error(())),
    }
}

/// `USER ADDRESS[ port N]` at the end of a message (`Connection closed by authenticating user
/// root 192.0.2.1 port 22`): the address is the last word before ` port N`, the user all before.
fn user_address_port(input: &str) -> Res<'_, (&str, &str, Option<i64>)> {
    let (head, port) = match input.rsplit_once(" port ") {
        Some((head, digits)) => match digits.parse::<i64>() {
            Ok(number) => (head, Some(number)),
            Err(_) => (input, None),
        },
        None => (input, None),
    };
    match head.rsplit_once(' ') {
        Some((user, address)) => Ok(("", (user, address, port))),
        None => Err(nom::Err::Error(())),
    }
}

/// rsyslog's `message repeated 5 times: [ text]`: the text repeated.
fn unwrap_repeated(message: &str) -> &str {
    let repeated: Res<'_, &str> =
        preceded((lit("message repeated "), digit1, lit(" times: ["), space0), rest).parse(message);
    match repeated {
        Ok((_, inner)) => inner.strip_suffix(']').unwrap_or(inner).trim_end(),
        Err(_) => message,
    }
}

// ---------------------------------------------------------------------------------------------
// PAM

/// `pam_unix(sshd:auth): ` (any `pam_*` module): the rest and the PAM service.
fn pam_prefix(input: &str) -> Res<'_, &str> {
    map(
        (
            lit("pam_"),
            take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'),
            char('('),
            take_till1(|c: char| c == ':' || c == ')' || c == ' '),
            char(':'),
            take_till1(|c: char| c == ')' || c == ' '),
            lit("): "),
        ),
        |(_, _, _, service, _, _, _)| service,
    )
    .parse(input)
}

/// What the failure of a PAM authentication is, by family: for sudo, su and login it is the
/// attempt itself (`sudo_auth_failure` counts it as a failed sudo); for sshd the same attempt is
/// also logged as `Failed password`, which alone is `ssh_login`.
fn auth_failure_action(family: Family) -> &'static str {
    match family {
        Family::Sudo => "sudo",
        Family::Su => "su",
        Family::Login => "login",
        _ => "pam_auth_failure",
    }
}

/// The `key=value` pairs after `authentication failure;` (`logname= uid=0 euid=0 tty=ssh ruser=
/// rhost=192.0.2.1  user=root`); empty values are absent.
#[derive(Default)]
struct PamKeys<'a> {
    logname: Option<&'a str>,
    ruser: Option<&'a str>,
    rhost: Option<&'a str>,
    user: Option<&'a str>,
}

fn pam_keys(input: &str) -> PamKeys<'_> {
    let pairs: Res<'_, Vec<(&str, &str)>> = many0(preceded(
        space0,
        separated_pair(
            take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'),
            char('='),
            take_till(|c: char| c == ' '),
        ),
    ))
    .parse(input);
    let mut keys = PamKeys::default();
    for (key, value) in pairs.map(|(_, pairs)| pairs).unwrap_or_default() {
        let value = Some(value).filter(|value| !value.is_empty());
        match key {
            "logname" => keys.logname = value,
            "ruser" => keys.ruser = value,
            "rhost" => keys.rhost = value,
            "user" => keys.user = value,
            _ => {}
        }
    }
    keys
}

/// A PAM message (after its `pam_xxx(service:type): ` prefix, if any).
fn pam_message<'a>(family: Family, text: &'a str) -> Facts<'a> {
    let text = text.trim_end();
    let parsed = alt((
        |input: &'a str| pam_auth_failure(family, input),
        |input: &'a str| pam_user_unknown(family, input),
        |input: &'a str| pam_session(family, input),
        map(preceded(lit("password changed for "), word), |user| {
            Facts::action("password_change")
                .outcome(Outcome::Success)
                .user(user)
        }),
        map(
            preceded(
                lit("auth could not identify password for "),
                delimited(char('['), take_till1(|c| c == ']'), char(']')),
            ),
            |user| {
                Facts::action(auth_failure_action(family))
                    .outcome(Outcome::Failure)
                    .reason("could not identify password")
                    .user(user)
            },
        ),
        map(lit("conversation failed"), |reason| {
            Facts::action(auth_failure_action(family))
                .outcome(Outcome::Failure)
                .reason(reason)
        }),
    ))
    .parse(text);
    parsed.map(|(_, facts)| facts).unwrap_or_default()
}

/// `authentication failure; logname= uid=0 ... rhost=HOST  user=NAME`. For su, `user=` is the
/// account switched to and `ruser=` the one asking; elsewhere `user=` is who authenticates.
fn pam_auth_failure(family: Family, input: &str) -> Res<'_, Facts<'_>> {
    let (input, reason) = lit("authentication failure").parse(input)?;
    let (input, _) = char(';').parse(input)?;
    Ok(("", auth_failure_facts(family, reason, pam_keys(input))))
}

fn auth_failure_facts<'a>(family: Family, reason: &'a str, keys: PamKeys<'a>) -> Facts<'a> {
    let mut facts = Facts::action(auth_failure_action(family))
        .outcome(Outcome::Failure)
        .reason(reason);
    if family == Family::Su {
        facts.user = keys.ruser.or(keys.logname);
        facts.effective_user = keys.user;
    } else {
        facts.user = keys.user.or(keys.ruser);
    }
    match keys.rhost {
        Some(host) => facts.source(host, None),
        None => facts,
    }
}

/// `check pass; user unknown`: the account does not exist.
fn pam_user_unknown(family: Family, input: &str) -> Res<'_, Facts<'_>> {
    map(preceded(lit("check pass; "), lit("user unknown")), |reason| {
        let facts = Facts::action(auth_failure_action(family))
            .outcome(Outcome::Failure)
            .reason(reason);
        if family == Family::Sshd {
            facts.invalid_user(true)
        } else {
            facts
        }
    })
    .parse(input)
}

/// `session opened for user root(uid=0) by alice(uid=1000)`, `session opened for user test by
/// (uid=509)`, `session closed for user test`. For sudo and su the session's user is whom the
/// actor became (`user.effective.*`) and the `by` user is the actor; elsewhere the session's
/// user is the user.
fn pam_session(family: Family, input: &str) -> Res<'_, Facts<'_>> {
    let (input, action) = alt((
        value("session_open", lit("session opened for user ")),
        value("session_close", lit("session closed for user ")),
    ))
    .parse(input)?;
    let (input, (target, target_uid)) =
        (take_till1(|c: char| c == '(' || c == ' '), opt(uid)).parse(input)?;
    let (input, by) = opt(preceded(
        lit(" by "),
        (take_till(|c: char| c == '(' || c == ' '), opt(uid)),
    ))
    .parse(input)?;
    let (by_user, by_uid) = by.unwrap_or_default();
    let mut facts = Facts::action(action);
    if matches!(family, Family::Sudo | Family::Su) {
        facts.effective_user = Some(target);
        facts.effective_user_id = target_uid;
        facts.user = Some(by_user);
        facts.user_id = by_uid;
    } else {
        facts.user = Some(target);
        facts.user_id = target_uid;
    }
    Ok((input, facts))
}

/// `(uid=1000)`.
fn uid(input: &str) -> Res<'_, &str> {
    delimited(lit("(uid="), digit1, char(')')).parse(input)
}

// ---------------------------------------------------------------------------------------------
// sshd

/// An sshd message. The `[preauth]` marker and an `error: ` prefix say nothing about what
/// happened and are set aside first.
fn sshd(message: &str) -> Facts<'_> {
    let text = message.trim_end();
    let text = text.strip_suffix("[preauth]").map_or(text, str::trim_end);
    let (text, error) = match text.strip_prefix("error: ") {
        Some(text) => (text, true),
        None => (text, false),
    };
    let parsed = alt((
        alt((
            ssh_login,
            ssh_invalid_user,
            ssh_connection_end,
            ssh_received_disconnect,
            ssh_disconnecting,
            ssh_max_attempts,
            ssh_pam_more_failures,
        )),
        alt((
            ssh_reverse_mapping,
            ssh_address_mismatch,
            ssh_no_identification,
            ssh_user_not_allowed,
            ssh_unable_to_negotiate,
            ssh_bad_protocol,
            ssh_connection_from,
            ssh_timeout,
            ssh_listening,
            ssh_fatal,
        )),
    ))
    .parse(text);
    match parsed {
        Ok((_, facts)) => facts,
        Err(_) => {
            let facts = if error {
                Facts::action("ssh_error").reason(text)
            } else {
                Facts::default()
            };
            match first_ip_address(text) {
                Some((ip, port)) => facts.source(ip, port),
                None => facts,
            }
        }
    }
}

/// For messages without a form here (`Starting session: ... from 192.0.2.1 port 22 id 0`,
/// `Postponed publickey for ...`): the first word that is an IP address, and the port after it.
fn first_ip_address(text: &str) -> Option<(&str, Option<i64>)> {
    let mut words = text.split(' ');
    while let Some(token) = words.next() {
        let token = token
            .trim_end_matches([':', ',', ';', ']', ')'])
            .trim_start_matches(['[', '(']);
        if token.parse::<IpAddr>().is_ok() {
            let port = match (words.next(), words.next()) {
                (Some("port"), Some(number)) => number.trim_end_matches([':', ',', '.']).parse().ok(),
                _ => None,
            };
            return Some((token, port));
        }
    }
    None
}

/// `Failed password for [invalid user ]NAME from ADDRESS port N ssh2` and `Accepted
/// publickey|password|keyboard-interactive/pam for NAME from ADDRESS port N ssh2[: RSA SHA256:...]`.
fn ssh_login(input: &str) -> Res<'_, Facts<'_>> {
    let (input, outcome) = alt((
        value(Outcome::Failure, lit("Failed ")),
        value(Outcome::Success, lit("Accepted ")),
    ))
    .parse(input)?;
    let (input, method) = terminated(word, lit(" for ")).parse(input)?;
    let (input, invalid) = opt(lit("invalid user ")).parse(input)?;
    let (input, user) = before_last(" from ").parse(input)?;
    let (input, (address, port)) = preceded(lit(" from "), address_port).parse(input)?;
    // `keyboard-interactive/pam` is keyboard-interactive through PAM.
    let method = method.split('/').next().unwrap_or(method);
    let mut facts = Facts::action("ssh_login")
        .outcome(outcome)
        .user(user)
        .invalid_user(invalid.is_some());
    facts.auth_method = Some(method);
    Ok((input, facts.source(address, port)))
}

/// `Invalid user NAME from ADDRESS[ port N]` and `input_userauth_request: invalid user NAME`.
fn ssh_invalid_user(input: &str) -> Res<'_, Facts<'_>> {
    let facts = |user| {
        Facts::action("ssh_invalid_user")
            .outcome(Outcome::Failure)
            .user(user)
            .invalid_user(true)
    };
    alt((
        map(
            (
                preceded(lit("Invalid user "), before_last(" from ")),
                preceded(lit(" from "), address_port),
            ),
            |(user, (address, port))| facts(user).source(address, port),
        ),
        map(
            preceded(lit("input_userauth_request: invalid user "), rest),
            facts,
        ),
    ))
    .parse(input)
}

/// `authenticating user NAME` / `invalid user NAME` / `user NAME` before an address: whether
/// the user is invalid.
fn user_kind(input: &str) -> Res<'_, bool> {
    alt((
        value(false, lit("authenticating user ")),
        value(true, lit("invalid user ")),
        value(false, lit("user ")),
    ))
    .parse(input)
}

/// `Connection closed by|Connection reset by|Disconnected from [authenticating |invalid ]user
/// NAME ADDRESS port N`, or the same with just `ADDRESS[ port N]`.
fn ssh_connection_end(input: &str) -> Res<'_, Facts<'_>> {
    preceded(
        alt((
            lit("Connection closed by "),
            lit("Connection reset by "),
            lit("Disconnected from "),
        )),
        alt((
            map(
                (user_kind, user_address_port),
                |(invalid, (user, address, port))| {
                    Facts::action("ssh_disconnect")
                        .user(user)
                        .invalid_user(invalid)
                        .source(address, port)
                },
            ),
            map(address_port, |(address, port)| {
                Facts::action("ssh_disconnect").source(address, port)
            }),
        )),
    )
    .parse(input)
}

/// `Received disconnect from ADDRESS port N:11: Bye Bye` (OpenSSH 7+) and `Received disconnect
/// from ADDRESS: 11: Bye Bye` (older): the text is why.
fn ssh_received_disconnect(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            preceded(lit("Received disconnect from "), address_port),
            preceded((opt(char(':')), space0, digit1, char(':'), space0), rest),
        ),
        |((address, port), reason)| {
            Facts::action("ssh_disconnect")
                .reason(reason)
                .source(address, port)
        },
    )
    .parse(input)
}

/// What sshd says when it gives up on too many failed attempts.
const TOO_MANY_FAILURES: &str = "Too many authentication failures";

/// `Disconnecting: Too many authentication failures for NAME` (older), `Disconnecting
/// authenticating user NAME ADDRESS port N: Too many authentication failures`, and any other
/// `Disconnecting...: reason`.
fn ssh_disconnecting(input: &str) -> Res<'_, Facts<'_>> {
    let (input, _) = lit("Disconnecting").parse(input)?;
    alt((
        map(
            (
                preceded(lit(": "), lit(TOO_MANY_FAILURES)),
                opt(preceded(lit(" for "), (opt(lit("invalid user ")), rest))),
            ),
            |(reason, target)| match target {
                Some((invalid, user)) => disconnect_facts(reason)
                    .user(user)
                    .invalid_user(invalid.is_some()),
                None => disconnect_facts(reason),
            },
        ),
        map(preceded(lit(": "), rest), disconnect_facts),
        map_opt(preceded(char(' '), (user_kind, rest)), |(invalid, tail)| {
            let (who, reason) = tail.split_once(": ")?;
            let (_, (user, address, port)) = user_address_port(who).ok()?;
            Some(
                disconnect_facts(reason)
                    .user(user)
                    .invalid_user(invalid)
                    .source(address, port),
            )
        }),
    ))
    .parse(input)
}

/// Too many failed attempts ends a login burst; any other reason is a plain disconnect.
fn disconnect_facts(reason: &str) -> Facts<'_> {
    let facts = if reason == TOO_MANY_FAILURES {
        Facts::action("ssh_max_auth_attempts").outcome(Outcome::Failure)
    } else {
        Facts::action("ssh_disconnect")
    };
    facts.reason(reason)
}

/// `maximum authentication attempts exceeded for [invalid user ]NAME from ADDRESS port N ssh2`
/// (logged as `error:`).
fn ssh_max_attempts(input: &str) -> Res<'_, Facts<'_>> {
    let (input, reason) = lit("maximum authentication attempts exceeded").parse(input)?;
    let (input, invalid) = preceded(lit(" for "), opt(lit("invalid user "))).parse(input)?;
    let (input, user) = before_last(" from ").parse(input)?;
    let (input, (address, port)) = preceded(lit(" from "), address_port).parse(input)?;
    let facts = Facts::action("ssh_max_auth_attempts")
        .outcome(Outcome::Failure)
        .reason(reason)
        .user(user)
        .invalid_user(invalid.is_some());
    Ok((input, facts.source(address, port)))
}

/// `PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=ADDRESS
/// user=NAME`: sshd's summary of the PAM failures after the first one of a connection.
fn ssh_pam_more_failures(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            preceded(
                lit("PAM "),
                recognize((digit1, lit(" more authentication failure"), opt(char('s')))),
            ),
            preceded(char(';'), rest),
        ),
        |(reason, keys)| auth_failure_facts(Family::Sshd, reason, pam_keys(keys)),
    )
    .parse(input)
}

/// `reverse mapping checking getaddrinfo for HOST [ADDRESS] failed - POSSIBLE BREAK-IN ATTEMPT!`:
/// the peer's address resolves to a name that does not resolve back.
fn ssh_reverse_mapping(input: &str) -> Res<'_, Facts<'_>> {
    map(
        preceded(
            lit("reverse mapping checking getaddrinfo for "),
            (word, delimited(lit(" ["), take_till1(|c| c == ']'), char(']'))),
        ),
        |(host, address)| {
            let mut facts = Facts::action("ssh_dns_mismatch").source(address, None);
            facts.source_domain = Some(host);
            facts
        },
    )
    .parse(input)
}

/// `Address ADDRESS maps to HOST, but this does not map back to the address - POSSIBLE BREAK-IN
/// ATTEMPT!`.
fn ssh_address_mismatch(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            preceded(lit("Address "), word),
            preceded(lit(" maps to "), take_till1(|c| c == ',' || c == ' ')),
        ),
        |(address, host)| {
            let mut facts = Facts::action("ssh_dns_mismatch").source(address, None);
            facts.source_domain = Some(host);
            facts
        },
    )
    .parse(input)
}

/// `Did not receive identification string from ADDRESS[ port N]`: a scanner that connected and
/// said nothing.
fn ssh_no_identification(input: &str) -> Res<'_, Facts<'_>> {
    map(
        preceded(lit("Did not receive identification string from "), address_port),
        |(address, port)| Facts::action("ssh_no_identification").source(address, port),
    )
    .parse(input)
}

/// `User NAME from ADDRESS not allowed because not listed in AllowUsers`.
fn ssh_user_not_allowed(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            preceded(lit("User "), take_until(" from ")),
            preceded(lit(" from "), address),
            preceded(lit(" not allowed because "), rest),
        ),
        |(user, address, reason)| {
            Facts::action("ssh_user_not_allowed")
                .outcome(Outcome::Failure)
                .reason(reason)
                .user(user)
                .source(address, None)
        },
    )
    .parse(input)
}

/// `Unable to negotiate with ADDRESS port N: no matching key exchange method found. ...`.
fn ssh_unable_to_negotiate(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            preceded(lit("Unable to negotiate with "), address_port),
            preceded(opt(char(':')), preceded(space0, rest)),
        ),
        |((address, port), reason)| {
            Facts::action("ssh_negotiation_failure")
                .outcome(Outcome::Failure)
                .reason(reason)
                .source(address, port)
        },
    )
    .parse(input)
}

/// `Bad protocol version identification 'GET / HTTP/1.1' from ADDRESS port N`.
fn ssh_bad_protocol(input: &str) -> Res<'_, Facts<'_>> {
    map(
        preceded(
            (
                lit("Bad protocol version identification"),
                before_last(" from "),
                lit(" from "),
            ),
            address_port,
        ),
        |(address, port)| Facts::action("ssh_bad_protocol").source(address, port),
    )
    .parse(input)
}

/// `Connection from ADDRESS port N on ADDRESS port N[ rdomain "..."]` (LogLevel VERBOSE): the
/// peer, and the local end as the destination.
fn ssh_connection_from(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            preceded(lit("Connection from "), address_port),
            preceded(lit(" on "), address_port),
        ),
        |((address, port), (local, local_port))| {
            let mut facts = Facts::action("ssh_connection").source(address, port);
            if local.parse::<IpAddr>().is_ok() {
                facts.destination_ip = Some(local);
            }
            facts.destination_port = local_port;
            facts
        },
    )
    .parse(input)
}

/// `Timeout before authentication for ADDRESS port N`.
fn ssh_timeout(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            lit("Timeout before authentication"),
            preceded(lit(" for "), address_port),
        ),
        |(reason, (address, port))| Facts::action("ssh_timeout").reason(reason).source(address, port),
    )
    .parse(input)
}

/// `Server listening on 0.0.0.0 port 22.`: the daemon started; the address is its own, not a peer.
fn ssh_listening(input: &str) -> Res<'_, Facts<'_>> {
    map(lit("Server listening on "), |_| {
        Facts::action("ssh_server_listening")
    })
    .parse(input)
}

/// `fatal: Read from socket failed: Connection reset by peer`: why the connection ended.
fn ssh_fatal(input: &str) -> Res<'_, Facts<'_>> {
    map(preceded(lit("fatal: "), rest), |reason: &str| {
        let facts = Facts::action("ssh_error").reason(reason);
        match first_ip_address(reason) {
            Some((ip, port)) => facts.source(ip, port),
            None => facts,
        }
    })
    .parse(input)
}

// ---------------------------------------------------------------------------------------------
// sudo

/// `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash -i`, with a reason
/// segment before the keys when sudo refused (`user NOT in sudoers`, `3 incorrect password
/// attempts`, `command not allowed`). `COMMAND=` is last and taken whole: a command may contain
/// ` ; ` itself.
fn sudo(message: &str) -> Facts<'_> {
    let parsed: Res<'_, &str> = terminated(word, lit(" : ")).parse(message.trim());
    let Ok((mut segments, user)) = parsed else {
        return Facts::default();
    };
    let mut facts = Facts::action("sudo").user(user);
    let mut saw_key = false;
    loop {
        if let Some(command) = segments.strip_prefix("COMMAND=") {
            facts.command_line = Some(command);
            saw_key = true;
            break;
        }
        let (segment, next) = segments.split_once(" ; ").unwrap_or((segments, ""));
        match segment.split_once('=') {
            Some((key, value))
                if !key.is_empty() && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
            {
                saw_key = true;
                match key {
                    "PWD" => facts.working_directory = Some(value),
                    "USER" => facts.effective_user = Some(value),
                    "GROUP" => facts.effective_group = Some(value),
                    _ => {}
                }
            }
            _ if facts.reason.is_none() => facts.reason = Some(segment),
            _ => {}
        }
        if next.is_empty() {
            break;
        }
        segments = next;
    }
    if !saw_key {
        // `alice : unable to resolve host db01` and the like: not a command record.
        return Facts::default();
    }
    let outcome = if facts.reason.is_some() {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    facts.outcome(outcome)
}

// ---------------------------------------------------------------------------------------------
// su

/// util-linux `(to root) alice on pts/0` and `FAILED SU (to root) alice on pts/0`; shadow-utils
/// `Successful su for root by alice`, `FAILED su for root by alice`, `+ pts/0 alice:root` and
/// `- pts/0 alice:root`; `pam_authenticate: Authentication failure`.
fn su(message: &str) -> Facts<'_> {
    alt((su_to, su_for_by, su_sulog, su_pam_authenticate))
        .parse(message.trim())
        .map(|(_, facts)| facts)
        .unwrap_or_default()
}

/// `[FAILED SU ](to root) alice on pts/0`.
fn su_to(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            opt(map(lit("FAILED SU "), str::trim_end)),
            delimited(lit("(to "), take_till1(|c| c == ')'), lit(") ")),
            take_until(" on "),
        ),
        |(failed, target, user)| su_facts(failed, user, target),
    )
    .parse(input)
}

/// `Successful su for root by alice`, `FAILED su for root by alice`.
fn su_for_by(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            alt((
                value(None, lit("Successful su for ")),
                map(lit("FAILED su for "), |_| Some("FAILED su")),
            )),
            take_until(" by "),
            preceded(lit(" by "), rest),
        ),
        |(failed, target, user)| su_facts(failed, user, target),
    )
    .parse(input)
}

/// sulog style `+ pts/0 alice:root` (success) and `- pts/0 alice:root` (failure).
fn su_sulog(input: &str) -> Res<'_, Facts<'_>> {
    map(
        (
            alt((value(None, lit("+ ")), map(lit("- "), |_| Some("FAILED su")))),
            word,
            preceded(
                char(' '),
                separated_pair(take_till1(|c| c == ':'), char(':'), rest),
            ),
        ),
        |(failed, _tty, (user, target))| su_facts(failed, user, target),
    )
    .parse(input)
}

/// `pam_authenticate: Authentication failure` (RHEL su).
fn su_pam_authenticate(input: &str) -> Res<'_, Facts<'_>> {
    map(preceded(lit("pam_authenticate: "), rest), |reason| {
        Facts::action("su").outcome(Outcome::Failure).reason(reason)
    })
    .parse(input)
}

/// A switch of user: `user` became `target`, or failed to (`failed` is the reason).
fn su_facts<'a>(failed: Option<&'a str>, user: &'a str, target: &'a str) -> Facts<'a> {
    let mut facts = Facts::action("su").user(user);
    facts.effective_user = Some(target);
    match failed {
        Some(reason) => facts.outcome(Outcome::Failure).reason(reason),
        None => facts.outcome(Outcome::Success),
    }
}

// ---------------------------------------------------------------------------------------------
// shadow-utils account tools

/// `name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0`.
fn key_values(input: &str) -> Res<'_, Vec<(&str, &str)>> {
    separated_list1(
        lit(", "),
        separated_pair(
            take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'),
            char('='),
            take_till(|c| c == ','),
        ),
    )
    .parse(input)
}

/// The value of `key` in a [`key_values`] list.
fn lookup<'a>(pairs: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, value)| *value)
}

/// A name in single quotes.
fn quoted(input: &str) -> Res<'_, &str> {
    delimited(char('\''), take_till(|c| c == '\''), char('\'')).parse(input)
}

/// useradd, groupadd, usermod, userdel, groupdel, groupmod, passwd, chpasswd, gpasswd, chage.
/// The same line can come from several of them (useradd and usermod both log `add 'bob' to
/// group 'sudo'`), so forms are tried whatever the program.
fn accounts(message: &str) -> Facts<'_> {
    alt((account_creation, group_membership, account_change))
        .parse(message.trim_end())
        .map(|(_, facts)| facts)
        .unwrap_or_default()
}

/// `new user: ...`, `new group: ...`, `group added to /etc/group: ...`, `failed adding user 'bob',
/// data deleted`, `delete user 'bob'`, `removed group 'bob' owned by 'bob'`, `group 'devs' removed`.
fn account_creation(input: &str) -> Res<'_, Facts<'_>> {
    alt((
        map(preceded(lit("new user: "), key_values), |pairs| {
            let mut facts = Facts::action("user_add").outcome(Outcome::Success);
            facts.user = lookup(&pairs, "name");
            facts.user_id = lookup(&pairs, "UID");
            facts.group_id = lookup(&pairs, "GID");
            facts
        }),
        map(
            preceded(
                alt((
                    lit("new group: "),
                    recognize((lit("group added to "), take_until(": "), lit(": "))),
                )),
                key_values,
            ),
            |pairs| {
                let mut facts = Facts::action("group_add").outcome(Outcome::Success);
                facts.group_name = lookup(&pairs, "name");
                facts.group_id = lookup(&pairs, "GID");
                facts
            },
        ),
        map(preceded(lit("failed adding user "), quoted), |user| {
            Facts::action("user_add")
                .outcome(Outcome::Failure)
                .reason("failed adding user")
                .user(user)
        }),
        map(preceded(lit("delete user "), quoted), |user| {
            Facts::action("user_delete").outcome(Outcome::Success).user(user)
        }),
        map(
            (
                preceded(alt((lit("removed group "), lit("removed shadow group "))), quoted),
                opt(preceded(lit(" owned by "), quoted)),
            ),
            |(group, owner)| {
                let mut facts = Facts::action("group_delete").outcome(Outcome::Success);
                facts.group_name = Some(group);
                facts.user = owner;
                facts
            },
        ),
        map(delimited(lit("group "), quoted, lit(" removed")), |group| {
            let mut facts = Facts::action("group_delete").outcome(Outcome::Success);
            facts.group_name = Some(group);
            facts
        }),
    ))
    .parse(input)
}

/// Group membership: `add 'bob' to [shadow ]group 'sudo'`, `delete 'bob' from [shadow ]group
/// 'sudo'` (useradd, usermod, gpasswd), and gpasswd's `user bob added by root to group docker` /
/// `user bob removed by root from group docker`. All change the user; the message says which way.
fn group_membership(input: &str) -> Res<'_, Facts<'_>> {
    let membership = |(user, group)| {
        let mut facts = Facts::action("user_change").outcome(Outcome::Success).user(user);
        facts.group_name = Some(group);
        facts
    };
    alt((
        map(
            (
                preceded(alt((lit("add "), lit("delete "))), quoted),
                preceded(
                    (
                        alt((lit(" to "), lit(" from "))),
                        opt(lit("shadow ")),
                        lit("group "),
                    ),
                    quoted,
                ),
            ),
            membership,
        ),
        map(
            (
                preceded(lit("user "), take_until(" ")),
                preceded(
                    (
                        alt((lit(" added by "), lit(" removed by "))),
                        word,
                        alt((lit(" to group "), lit(" from group "))),
                    ),
                    word,
                ),
            ),
            membership,
        ),
    ))
    .parse(input)
}

/// Other changes: `change user 'bob' UID from '1001' to '0'` (and shell, home, ...), `change user
/// name 'old' to 'new'`, `lock user 'bob' password`, `password for 'bob' changed by 'root'`,
/// `changed password expiry for bob`, `members of group docker set by root to a,b`.
fn account_change(input: &str) -> Res<'_, Facts<'_>> {
    let changed = |user| Facts::action("user_change").outcome(Outcome::Success).user(user);
    alt((
        map(preceded(lit("change user name "), quoted), changed),
        map(preceded(lit("change user "), quoted), changed),
        map(
            preceded(alt((lit("lock user "), lit("unlock user "))), quoted),
            changed,
        ),
        map(preceded(lit("changed password expiry for "), word), changed),
        map(preceded(lit("password for "), quoted), |user| {
            Facts::action("password_change")
                .outcome(Outcome::Success)
                .user(user)
        }),
        map(preceded(lit("members of group "), word), |group| {
            let mut facts = Facts::action("group_change").outcome(Outcome::Success);
            facts.group_name = Some(group);
            facts
        }),
    ))
    .parse(input)
}

// ---------------------------------------------------------------------------------------------
// login, systemd-logind

/// `FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', Authentication failure`, `FAILED LOGIN 1 FROM
/// (null) FOR root, Authentication failure`, `ROOT LOGIN  on '/dev/tty1'`, `LOGIN ON tty1 BY
/// alice`.
fn login(message: &str) -> Facts<'_> {
    alt((login_failed, login_root, login_by))
        .parse(message.trim())
        .map(|(_, facts)| facts)
        .unwrap_or_default()
}

fn login_failed(input: &str) -> Res<'_, Facts<'_>> {
    map(
        preceded(
            (lit("FAILED LOGIN"), take_until(" FOR "), lit(" FOR ")),
            (take_till1(|c| c == ','), opt(preceded(lit(", "), rest))),
        ),
        |(user, reason)| {
            let mut facts = Facts::action("login").outcome(Outcome::Failure);
            facts.reason = reason;
            let user = user.trim_matches('\'');
            // `UNKNOWN` is what login writes for a name that is not an account.
            if user != "UNKNOWN" {
                facts.user = Some(user);
            }
            facts
        },
    )
    .parse(input)
}

fn login_root(input: &str) -> Res<'_, Facts<'_>> {
    map(lit("ROOT LOGIN "), |_| {
        Facts::action("login").outcome(Outcome::Success).user("root")
    })
    .parse(input)
}

fn login_by(input: &str) -> Res<'_, Facts<'_>> {
    map(preceded((lit("LOGIN ON "), word, lit(" BY ")), word), |user| {
        Facts::action("login").outcome(Outcome::Success).user(user)
    })
    .parse(input)
}

/// `New session 12 of user alice.`, `Session 12 logged out. Waiting for processes to exit.`,
/// `Removed session 12.`.
fn logind(message: &str) -> Facts<'_> {
    let parsed: Res<'_, Facts<'_>> = alt((
        map(
            preceded((lit("New session "), word, lit(" of user ")), word),
            |user: &str| Facts::action("session_open").user(user.strip_suffix('.').unwrap_or(user)),
        ),
        map(
            alt((
                recognize((lit("Session "), word, lit(" logged out"))),
                lit("Removed session "),
            )),
            |_| Facts::action("session_close"),
        ),
    ))
    .parse(message.trim());
    parsed.map(|(_, facts)| facts).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// cron

/// `(root) CMD (command)`: cron ran a job for root; `(root) REPLACE (bob)`, `(root) DELETE
/// (bob)`, `(bob) BEGIN EDIT (bob)`, `(bob) END EDIT (bob)`, `(root) LIST (root)`: crontab(1) as
/// root acting on bob's table. Other verbs (`(CRON) info (...)`, `(*system*) RELOAD (...)`,
/// `MAIL`) carry no user and no action.
fn cron(message: &str) -> Facts<'_> {
    let parsed: Res<'_, (&str, &str, &str)> = (
        delimited(char('('), take_till1(|c| c == ')'), lit(") ")),
        take_until(" ("),
        preceded(lit(" ("), rest),
    )
        .parse(message.trim_end());
    let Ok((_, (user, verb, argument))) = parsed else {
        return Facts::default();
    };
    // The argument closes with `)`; a command that itself ends in `)` keeps its own.
    let argument = argument.strip_suffix(')').unwrap_or(argument);
    let action = match verb {
        "CMD" => "cron_exec",
        "REPLACE" => "crontab_replace",
        "DELETE" => "crontab_delete",
        "BEGIN EDIT" | "END EDIT" => "crontab_edit",
        "LIST" => "crontab_list",
        _ => return Facts::default(),
    };
    let mut facts = Facts::action(action).user(user);
    if verb == "CMD" {
        facts.command_line = Some(argument);
    } else {
        facts.target_user = Some(argument);
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses and renders every produced field as text, in order.
    fn run(program: Option<&str>, message: &str) -> Option<(Recognized, Vec<(String, String)>)> {
        let mut fields = Fields::new();
        let recognized = parse(program, message, &mut fields)?;
        let rendered = fields
            .iter()
            .map(|(name, value)| (name.to_owned(), value.as_text().unwrap_or_default().into_owned()))
            .collect();
        Some((recognized, rendered))
    }

    /// Asserts the logsource service, the source type and exactly `expected` fields.
    fn check(program: &str, message: &str, service: &str, source_type: &str, expected: &[(&str, &str)]) {
        let (recognized, fields) =
            run(Some(program), message).unwrap_or_else(|| panic!("not recognised: {program}: {message}"));
        assert_eq!(
            recognized.logsource,
            logsource(Some("linux"), None, Some(service)),
            "{message}"
        );
        assert_eq!(recognized.source_type, source_type, "{message}");
        assert_eq!(recognized.timestamp_nanos, None);
        assert_eq!(recognized.host, None);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        assert_eq!(fields, expected, "{program}: {message}");
    }

    fn auth(program: &str, message: &str, source_type: &str, expected: &[(&str, &str)]) {
        check(program, message, "auth", source_type, expected);
    }

    fn sshd(message: &str, expected: &[(&str, &str)]) {
        auth("sshd", message, "sshd", expected);
    }

    // -- sshd -----------------------------------------------------------------------------------

    #[test]
    fn parses_failed_password() {
        sshd(
            "Failed password for root from 203.0.113.7 port 52144 ssh2",
            &[
                ("event.action", "ssh_login"),
                ("event.outcome", "failure"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.auth_method", "password"),
                ("ssh.invalid_user", "false"),
            ],
        );
    }

    #[test]
    fn parses_failed_password_for_invalid_user() {
        sshd(
            "Failed password for invalid user admin from 198.51.100.23 port 39811 ssh2",
            &[
                ("event.action", "ssh_login"),
                ("event.outcome", "failure"),
                ("user.name", "admin"),
                ("source.ip", "198.51.100.23"),
                ("source.port", "39811"),
                ("ssh.auth_method", "password"),
                ("ssh.invalid_user", "true"),
            ],
        );
    }

    #[test]
    fn failed_login_with_empty_or_spaced_user_name() {
        sshd(
            "Failed password for invalid user  from 198.51.100.23 port 39811 ssh2",
            &[
                ("event.action", "ssh_login"),
                ("event.outcome", "failure"),
                ("source.ip", "198.51.100.23"),
                ("source.port", "39811"),
                ("ssh.auth_method", "password"),
                ("ssh.invalid_user", "true"),
            ],
        );
        sshd(
            "Failed none for invalid user admin from 1 from 198.51.100.23 port 1 ssh2",
            &[
                ("event.action", "ssh_login"),
                ("event.outcome", "failure"),
                ("user.name", "admin from 1"),
                ("source.ip", "198.51.100.23"),
                ("source.port", "1"),
                ("ssh.auth_method", "none"),
                ("ssh.invalid_user", "true"),
            ],
        );
    }

    #[test]
    fn parses_accepted_logins_of_each_method() {
        for (message, method) in [
            (
                "Accepted password for nguyenvana from 10.10.5.21 port 51022 ssh2",
                "password",
            ),
            (
                "Accepted publickey for nguyenvana from 10.10.5.21 port 51022 ssh2: RSA SHA256:Zm9vYmFyYmF6cXV4",
                "publickey",
            ),
            (
                "Accepted keyboard-interactive/pam for nguyenvana from 10.10.5.21 port 51022 ssh2",
                "keyboard-interactive",
            ),
        ] {
            sshd(
                message,
                &[
                    ("event.action", "ssh_login"),
                    ("event.outcome", "success"),
                    ("user.name", "nguyenvana"),
                    ("source.ip", "10.10.5.21"),
                    ("source.port", "51022"),
                    ("ssh.auth_method", method),
                    ("ssh.invalid_user", "false"),
                ],
            );
        }
    }

    #[test]
    fn accepted_login_from_ipv6_and_from_host_name() {
        sshd(
            "Accepted publickey for root from 2001:db8::7 port 40022 ssh2",
            &[
                ("event.action", "ssh_login"),
                ("event.outcome", "success"),
                ("user.name", "root"),
                ("source.ip", "2001:db8::7"),
                ("source.port", "40022"),
                ("ssh.auth_method", "publickey"),
                ("ssh.invalid_user", "false"),
            ],
        );
        sshd(
            "Failed password for root from jump.example.net port 40022 ssh2",
            &[
                ("event.action", "ssh_login"),
                ("event.outcome", "failure"),
                ("user.name", "root"),
                ("source.domain", "jump.example.net"),
                ("source.port", "40022"),
                ("ssh.auth_method", "password"),
                ("ssh.invalid_user", "false"),
            ],
        );
    }

    #[test]
    fn typed_values_port_is_number_and_invalid_user_is_boolean() {
        let mut fields = Fields::new();
        parse(
            Some("sshd"),
            "Failed password for invalid user x from 192.0.2.1 port 22 ssh2",
            &mut fields,
        )
        .expect("recognised");
        assert_eq!(fields.get("source.port"), Some(&Value::Int(22)));
        assert_eq!(fields.get("ssh.invalid_user"), Some(&Value::Bool(true)));
        assert!(!fields.contains("message"));
    }

    #[test]
    fn parses_invalid_user_with_and_without_port() {
        let expected = |port: Option<&'static str>| {
            let mut fields = vec![
                ("event.action", "ssh_invalid_user"),
                ("event.outcome", "failure"),
                ("user.name", "webmaster"),
                ("source.ip", "192.0.2.186"),
            ];
            if let Some(port) = port {
                fields.push(("source.port", port));
            }
            fields.push(("ssh.invalid_user", "true"));
            fields
        };
        sshd("Invalid user webmaster from 192.0.2.186", &expected(None));
        sshd(
            "Invalid user webmaster from 192.0.2.186 port 38926",
            &expected(Some("38926")),
        );
    }

    #[test]
    fn parses_input_userauth_request_invalid_user() {
        sshd(
            "input_userauth_request: invalid user test9 [preauth]",
            &[
                ("event.action", "ssh_invalid_user"),
                ("event.outcome", "failure"),
                ("user.name", "test9"),
                ("ssh.invalid_user", "true"),
            ],
        );
    }

    #[test]
    fn parses_connection_closed_by_user_kinds() {
        sshd(
            "Connection closed by authenticating user root 203.0.113.7 port 52144 [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "false"),
            ],
        );
        sshd(
            "Connection closed by invalid user oracle 203.0.113.7 port 52144 [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("user.name", "oracle"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "true"),
            ],
        );
        sshd(
            "Connection reset by authenticating user root 203.0.113.7 port 52144 [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "false"),
            ],
        );
    }

    #[test]
    fn parses_disconnected_from_user_kinds() {
        sshd(
            "Disconnected from user nguyenvana 10.10.5.21 port 51022",
            &[
                ("event.action", "ssh_disconnect"),
                ("user.name", "nguyenvana"),
                ("source.ip", "10.10.5.21"),
                ("source.port", "51022"),
                ("ssh.invalid_user", "false"),
            ],
        );
        sshd(
            "Disconnected from invalid user admin 203.0.113.7 port 52144 [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("user.name", "admin"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "true"),
            ],
        );
        sshd(
            "Disconnected from authenticating user root 203.0.113.7 port 52144 [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "false"),
            ],
        );
    }

    #[test]
    fn parses_connection_closed_by_address() {
        sshd(
            "Connection closed by 192.0.2.145 [preauth]",
            &[("event.action", "ssh_disconnect"), ("source.ip", "192.0.2.145")],
        );
        sshd(
            "Connection closed by 192.0.2.145 port 40122 [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("source.ip", "192.0.2.145"),
                ("source.port", "40122"),
            ],
        );
        sshd(
            "Disconnected from 192.0.2.145 port 40122",
            &[
                ("event.action", "ssh_disconnect"),
                ("source.ip", "192.0.2.145"),
                ("source.port", "40122"),
            ],
        );
    }

    #[test]
    fn parses_received_disconnect_old_and_new() {
        sshd(
            "Received disconnect from 192.0.2.196 port 36060:11: Bye Bye [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("event.reason", "Bye Bye"),
                ("source.ip", "192.0.2.196"),
                ("source.port", "36060"),
            ],
        );
        sshd(
            "Received disconnect from 192.0.2.196: 11: disconnected by user",
            &[
                ("event.action", "ssh_disconnect"),
                ("event.reason", "disconnected by user"),
                ("source.ip", "192.0.2.196"),
            ],
        );
        sshd(
            "error: Received disconnect from 192.0.2.9: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                ("event.reason", "com.jcraft.jsch.JSchException: Auth fail"),
                ("source.ip", "192.0.2.9"),
            ],
        );
    }

    #[test]
    fn parses_reverse_mapping_break_in_attempt() {
        sshd(
            "reverse mapping checking getaddrinfo for ns.example.com [192.0.2.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
            &[
                ("event.action", "ssh_dns_mismatch"),
                ("source.ip", "192.0.2.186"),
                ("source.domain", "ns.example.com"),
            ],
        );
    }

    #[test]
    fn parses_address_maps_to_host_break_in_attempt() {
        sshd(
            "Address 192.0.2.77 maps to host-77.example.org, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
            &[
                ("event.action", "ssh_dns_mismatch"),
                ("source.ip", "192.0.2.77"),
                ("source.domain", "host-77.example.org"),
            ],
        );
    }

    #[test]
    fn parses_did_not_receive_identification() {
        sshd(
            "Did not receive identification string from 192.0.2.50",
            &[
                ("event.action", "ssh_no_identification"),
                ("source.ip", "192.0.2.50"),
            ],
        );
        sshd(
            "Did not receive identification string from 192.0.2.50 port 61000",
            &[
                ("event.action", "ssh_no_identification"),
                ("source.ip", "192.0.2.50"),
                ("source.port", "61000"),
            ],
        );
    }

    #[test]
    fn parses_maximum_authentication_attempts_exceeded() {
        sshd(
            "error: maximum authentication attempts exceeded for invalid user admin from 203.0.113.7 port 52144 ssh2 [preauth]",
            &[
                ("event.action", "ssh_max_auth_attempts"),
                ("event.outcome", "failure"),
                ("event.reason", "maximum authentication attempts exceeded"),
                ("user.name", "admin"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "true"),
            ],
        );
        sshd(
            "error: maximum authentication attempts exceeded for root from 203.0.113.7 port 52144 ssh2 [preauth]",
            &[
                ("event.action", "ssh_max_auth_attempts"),
                ("event.outcome", "failure"),
                ("event.reason", "maximum authentication attempts exceeded"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "false"),
            ],
        );
    }

    #[test]
    fn parses_disconnecting_too_many_authentication_failures() {
        sshd(
            "Disconnecting: Too many authentication failures for admin [preauth]",
            &[
                ("event.action", "ssh_max_auth_attempts"),
                ("event.outcome", "failure"),
                ("event.reason", "Too many authentication failures"),
                ("user.name", "admin"),
                ("ssh.invalid_user", "false"),
            ],
        );
        sshd(
            "Disconnecting authenticating user root 203.0.113.7 port 52144: Too many authentication failures [preauth]",
            &[
                ("event.action", "ssh_max_auth_attempts"),
                ("event.outcome", "failure"),
                ("event.reason", "Too many authentication failures"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "false"),
            ],
        );
        sshd(
            "Disconnecting invalid user test 203.0.113.7 port 52144: Change of username or service not allowed: (test,ssh-connection) -> (x,ssh-connection) [preauth]",
            &[
                ("event.action", "ssh_disconnect"),
                (
                    "event.reason",
                    "Change of username or service not allowed: (test,ssh-connection) -> (x,ssh-connection)",
                ),
                ("user.name", "test"),
                ("source.ip", "203.0.113.7"),
                ("source.port", "52144"),
                ("ssh.invalid_user", "true"),
            ],
        );
    }

    #[test]
    fn parses_pam_more_authentication_failures() {
        sshd(
            "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "2 more authentication failures"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.7"),
            ],
        );
        sshd(
            "PAM 1 more authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=bad.example.net",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "1 more authentication failure"),
                ("source.domain", "bad.example.net"),
            ],
        );
    }

    #[test]
    fn parses_pam_unix_sshd_auth_failure() {
        sshd(
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.186 ",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "authentication failure"),
                ("source.ip", "192.0.2.186"),
            ],
        );
        sshd(
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.36.59.76.dsl.example.net  user=root",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "authentication failure"),
                ("user.name", "root"),
                ("source.domain", "5.36.59.76.dsl.example.net"),
            ],
        );
    }

    #[test]
    fn parses_pam_unix_check_pass_user_unknown() {
        sshd(
            "pam_unix(sshd:auth): check pass; user unknown",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "user unknown"),
                ("ssh.invalid_user", "true"),
            ],
        );
    }

    #[test]
    fn parses_pam_unix_sshd_sessions() {
        sshd(
            "pam_unix(sshd:session): session opened for user nguyenvana(uid=1000) by (uid=0)",
            &[
                ("event.action", "session_open"),
                ("user.name", "nguyenvana"),
                ("user.id", "1000"),
            ],
        );
        sshd(
            "pam_unix(sshd:session): session opened for user fztu by (uid=0)",
            &[("event.action", "session_open"), ("user.name", "fztu")],
        );
        sshd(
            "pam_unix(sshd:session): session closed for user fztu",
            &[("event.action", "session_close"), ("user.name", "fztu")],
        );
    }

    #[test]
    fn parses_server_listening_without_source() {
        sshd(
            "Server listening on 0.0.0.0 port 22.",
            &[("event.action", "ssh_server_listening")],
        );
        sshd(
            "Server listening on :: port 22.",
            &[("event.action", "ssh_server_listening")],
        );
    }

    #[test]
    fn parses_fatal_errors() {
        sshd(
            "fatal: Read from socket failed: Connection reset by peer [preauth]",
            &[
                ("event.action", "ssh_error"),
                (
                    "event.reason",
                    "Read from socket failed: Connection reset by peer",
                ),
            ],
        );
        sshd(
            "fatal: Write failed: Connection reset by peer [preauth]",
            &[
                ("event.action", "ssh_error"),
                ("event.reason", "Write failed: Connection reset by peer"),
            ],
        );
        sshd(
            "error: kex_exchange_identification: Connection closed by remote host",
            &[
                ("event.action", "ssh_error"),
                (
                    "event.reason",
                    "kex_exchange_identification: Connection closed by remote host",
                ),
            ],
        );
    }

    #[test]
    fn parses_bad_protocol_version() {
        sshd(
            "Bad protocol version identification 'GET / HTTP/1.1' from 198.51.100.9 port 50112",
            &[
                ("event.action", "ssh_bad_protocol"),
                ("source.ip", "198.51.100.9"),
                ("source.port", "50112"),
            ],
        );
    }

    #[test]
    fn parses_connection_from_with_local_end() {
        sshd(
            "Connection from 198.51.100.9 port 50112 on 10.0.0.5 port 22 rdomain \"\"",
            &[
                ("event.action", "ssh_connection"),
                ("source.ip", "198.51.100.9"),
                ("source.port", "50112"),
                ("destination.ip", "10.0.0.5"),
                ("destination.port", "22"),
            ],
        );
    }

    #[test]
    fn parses_other_connection_failures() {
        sshd(
            "Unable to negotiate with 198.51.100.9 port 50112: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
            &[
                ("event.action", "ssh_negotiation_failure"),
                ("event.outcome", "failure"),
                (
                    "event.reason",
                    "no matching key exchange method found. Their offer: diffie-hellman-group1-sha1",
                ),
                ("source.ip", "198.51.100.9"),
                ("source.port", "50112"),
            ],
        );
        sshd(
            "User root from 198.51.100.9 not allowed because not listed in AllowUsers",
            &[
                ("event.action", "ssh_user_not_allowed"),
                ("event.outcome", "failure"),
                ("event.reason", "not listed in AllowUsers"),
                ("user.name", "root"),
                ("source.ip", "198.51.100.9"),
            ],
        );
        sshd(
            "Timeout before authentication for 198.51.100.9 port 50112",
            &[
                ("event.action", "ssh_timeout"),
                ("event.reason", "Timeout before authentication"),
                ("source.ip", "198.51.100.9"),
                ("source.port", "50112"),
            ],
        );
    }

    #[test]
    fn unknown_sshd_message_still_yields_its_address() {
        sshd(
            "Starting session: shell on pts/0 for root from 198.51.100.9 port 50112 id 0",
            &[("source.ip", "198.51.100.9"), ("source.port", "50112")],
        );
        sshd("PAM service(sshd) ignoring max retries; 6 > 3", &[]);
        sshd("Received signal 15; terminating.", &[]);
    }

    #[test]
    fn message_repeated_is_parsed_as_its_text() {
        sshd(
            "message repeated 5 times: [ Failed password for root from 203.0.113.76 port 42393 ssh2]",
            &[
                ("event.action", "ssh_login"),
                ("event.outcome", "failure"),
                ("user.name", "root"),
                ("source.ip", "203.0.113.76"),
                ("source.port", "42393"),
                ("ssh.auth_method", "password"),
                ("ssh.invalid_user", "false"),
            ],
        );
    }

    #[test]
    fn sshd_session_and_path_program_names_are_sshd() {
        for program in ["sshd-session", "sshd-auth", "/usr/sbin/sshd"] {
            auth(
                program,
                "Accepted publickey for root from 203.0.113.9 port 51022 ssh2",
                "sshd",
                &[
                    ("event.action", "ssh_login"),
                    ("event.outcome", "success"),
                    ("user.name", "root"),
                    ("source.ip", "203.0.113.9"),
                    ("source.port", "51022"),
                    ("ssh.auth_method", "publickey"),
                    ("ssh.invalid_user", "false"),
                ],
            );
        }
    }

    // -- loghub's sshd(pam_unix) ----------------------------------------------------------------

    #[test]
    fn parses_old_pam_unix_program_auth_failure_with_trailing_space() {
        auth(
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=192.0.2.4 ",
            "sshd",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "authentication failure"),
                ("source.ip", "192.0.2.4"),
            ],
        );
    }

    #[test]
    fn parses_old_pam_unix_program_auth_failure_with_host_name_and_user() {
        auth(
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=host.example.com  user=root",
            "sshd",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "authentication failure"),
                ("user.name", "root"),
                ("source.domain", "host.example.com"),
            ],
        );
    }

    #[test]
    fn parses_old_pam_unix_program_check_pass_and_sessions() {
        auth(
            "sshd(pam_unix)",
            "check pass; user unknown",
            "sshd",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "user unknown"),
                ("ssh.invalid_user", "true"),
            ],
        );
        auth(
            "sshd(pam_unix)",
            "session opened for user test by (uid=509)",
            "sshd",
            &[("event.action", "session_open"), ("user.name", "test")],
        );
        auth(
            "sshd(pam_unix)",
            "session closed for user test",
            "sshd",
            &[("event.action", "session_close"), ("user.name", "test")],
        );
    }

    #[test]
    fn old_pam_unix_tag_of_unknown_program_is_pam() {
        auth(
            "gdm(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=:0 ruser= rhost=",
            "pam",
            &[
                ("event.action", "pam_auth_failure"),
                ("event.outcome", "failure"),
                ("event.reason", "authentication failure"),
            ],
        );
        auth(
            "login(pam_unix)",
            "session opened for user root by LOGIN(uid=0)",
            "login",
            &[("event.action", "session_open"), ("user.name", "root")],
        );
    }

    // -- sudo -----------------------------------------------------------------------------------

    #[test]
    fn parses_sudo_command() {
        auth(
            "sudo",
            "  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash -i",
            "sudo",
            &[
                ("event.action", "sudo"),
                ("event.outcome", "success"),
                ("user.name", "alice"),
                ("user.effective.name", "root"),
                ("process.command_line", "/bin/bash -i"),
                ("process.working_directory", "/home/alice"),
            ],
        );
    }

    #[test]
    fn sudo_command_keeps_semicolons_and_group() {
        auth(
            "sudo",
            "alice : TTY=pts/1 ; PWD=/srv ; USER=postgres ; GROUP=dba ; TSID=000012 ; COMMAND=/bin/sh -c echo a ; echo b",
            "sudo",
            &[
                ("event.action", "sudo"),
                ("event.outcome", "success"),
                ("user.name", "alice"),
                ("user.effective.name", "postgres"),
                ("user.effective.group.name", "dba"),
                ("process.command_line", "/bin/sh -c echo a ; echo b"),
                ("process.working_directory", "/srv"),
            ],
        );
    }

    #[test]
    fn parses_sudo_refusals_with_reason() {
        for reason in [
            "user NOT in sudoers",
            "3 incorrect password attempts",
            "command not allowed",
        ] {
            auth(
                "sudo",
                &format!(
                    "www-data : {reason} ; TTY=unknown ; PWD=/var/www/html ; USER=root ; COMMAND=/bin/bash"
                ),
                "sudo",
                &[
                    ("event.action", "sudo"),
                    ("event.outcome", "failure"),
                    ("event.reason", reason),
                    ("user.name", "www-data"),
                    ("user.effective.name", "root"),
                    ("process.command_line", "/bin/bash"),
                    ("process.working_directory", "/var/www/html"),
                ],
            );
        }
    }

    #[test]
    fn parses_sudo_pam_auth_failure() {
        auth(
            "sudo",
            "pam_unix(sudo:auth): authentication failure; logname=tranthib uid=1001 euid=0 tty=/dev/pts/1 ruser=tranthib rhost=  user=tranthib",
            "sudo",
            &[
                ("event.action", "sudo"),
                ("event.outcome", "failure"),
                ("event.reason", "authentication failure"),
                ("user.name", "tranthib"),
            ],
        );
        auth(
            "sudo",
            "pam_unix(sudo:auth): auth could not identify password for [alice]",
            "sudo",
            &[
                ("event.action", "sudo"),
                ("event.outcome", "failure"),
                ("event.reason", "could not identify password"),
                ("user.name", "alice"),
            ],
        );
        auth(
            "sudo",
            "pam_unix(sudo:auth): conversation failed",
            "sudo",
            &[
                ("event.action", "sudo"),
                ("event.outcome", "failure"),
                ("event.reason", "conversation failed"),
            ],
        );
    }

    #[test]
    fn parses_sudo_pam_session() {
        auth(
            "sudo",
            "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
            "sudo",
            &[
                ("event.action", "session_open"),
                ("user.name", "alice"),
                ("user.id", "1000"),
                ("user.effective.name", "root"),
                ("user.effective.id", "0"),
            ],
        );
        auth(
            "sudo",
            "pam_unix(sudo:session): session closed for user root",
            "sudo",
            &[("event.action", "session_close"), ("user.effective.name", "root")],
        );
    }

    #[test]
    fn sudo_line_without_keys_has_no_action() {
        auth(
            "sudo",
            "alice : unable to resolve host db01: Name or service not known",
            "sudo",
            &[],
        );
    }

    // -- su -------------------------------------------------------------------------------------

    #[test]
    fn parses_su_switches() {
        let expected = |outcome: &'static str, reason: Option<&'static str>| {
            let mut fields = vec![("event.action", "su"), ("event.outcome", outcome)];
            fields.extend(reason.map(|reason| ("event.reason", reason)));
            fields.extend([("user.name", "alice"), ("user.effective.name", "root")]);
            fields
        };
        auth("su", "(to root) alice on pts/0", "su", &expected("success", None));
        auth(
            "su",
            "FAILED SU (to root) alice on pts/0",
            "su",
            &expected("failure", Some("FAILED SU")),
        );
        auth(
            "su",
            "Successful su for root by alice",
            "su",
            &expected("success", None),
        );
        auth(
            "su",
            "FAILED su for root by alice",
            "su",
            &expected("failure", Some("FAILED su")),
        );
        auth("su", "+ pts/0 alice:root", "su", &expected("success", None));
        auth(
            "su",
            "- pts/0 alice:root",
            "su",
            &expected("failure", Some("FAILED su")),
        );
    }

    #[test]
    fn parses_su_pam_lines() {
        auth(
            "su",
            "pam_unix(su:session): session opened for user root by alice(uid=1000)",
            "su",
            &[
                ("event.action", "session_open"),
                ("user.name", "alice"),
                ("user.id", "1000"),
                ("user.effective.name", "root"),
            ],
        );
        auth(
            "su",
            "pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root",
            "su",
            &[
                ("event.action", "su"),
                ("event.outcome", "failure"),
                ("event.reason", "authentication failure"),
                ("user.name", "alice"),
                ("user.effective.name", "root"),
            ],
        );
        auth(
            "su(pam_unix)",
            "session opened for user cyrus by (uid=0)",
            "su",
            &[
                ("event.action", "session_open"),
                ("user.id", "0"),
                ("user.effective.name", "cyrus"),
            ],
        );
        auth(
            "su",
            "pam_authenticate: Authentication failure",
            "su",
            &[
                ("event.action", "su"),
                ("event.outcome", "failure"),
                ("event.reason", "Authentication failure"),
            ],
        );
    }

    // -- account tools --------------------------------------------------------------------------

    #[test]
    fn parses_useradd_new_user() {
        auth(
            "useradd",
            "new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0",
            "useradd",
            &[
                ("event.action", "user_add"),
                ("event.outcome", "success"),
                ("user.name", "bob"),
                ("user.id", "1001"),
                ("group.id", "1001"),
            ],
        );
        auth(
            "useradd",
            "new user: name=sysbackup, UID=0, GID=0, home=/root, shell=/bin/bash",
            "useradd",
            &[
                ("event.action", "user_add"),
                ("event.outcome", "success"),
                ("user.name", "sysbackup"),
                ("user.id", "0"),
                ("group.id", "0"),
            ],
        );
        auth(
            "useradd",
            "failed adding user 'bob', data deleted",
            "useradd",
            &[
                ("event.action", "user_add"),
                ("event.outcome", "failure"),
                ("event.reason", "failed adding user"),
                ("user.name", "bob"),
            ],
        );
    }

    #[test]
    fn parses_new_groups() {
        let expected = |name: &'static str, gid: Option<&'static str>| {
            let mut fields = vec![
                ("event.action", "group_add"),
                ("event.outcome", "success"),
                ("group.name", name),
            ];
            fields.extend(gid.map(|gid| ("group.id", gid)));
            fields
        };
        auth(
            "useradd",
            "new group: name=bob, GID=1001",
            "useradd",
            &expected("bob", Some("1001")),
        );
        auth(
            "groupadd",
            "new group: name=devs, GID=1002",
            "groupadd",
            &expected("devs", Some("1002")),
        );
        auth(
            "groupadd",
            "group added to /etc/group: name=devs, GID=1002",
            "groupadd",
            &expected("devs", Some("1002")),
        );
        auth(
            "groupadd",
            "group added to /etc/gshadow: name=devs",
            "groupadd",
            &expected("devs", None),
        );
    }

    #[test]
    fn parses_group_membership_changes() {
        let expected = |user: &'static str, group: &'static str| {
            vec![
                ("event.action", "user_change"),
                ("event.outcome", "success"),
                ("user.name", user),
                ("group.name", group),
            ]
        };
        auth(
            "usermod",
            "add 'bob' to group 'sudo'",
            "usermod",
            &expected("bob", "sudo"),
        );
        auth(
            "usermod",
            "add 'bob' to shadow group 'sudo'",
            "usermod",
            &expected("bob", "sudo"),
        );
        auth(
            "useradd",
            "add 'bob' to group 'docker'",
            "useradd",
            &expected("bob", "docker"),
        );
        auth(
            "usermod",
            "delete 'bob' from group 'sudo'",
            "usermod",
            &expected("bob", "sudo"),
        );
        auth(
            "usermod",
            "delete 'bob' from shadow group 'sudo'",
            "usermod",
            &expected("bob", "sudo"),
        );
        auth(
            "gpasswd",
            "user www-data added by root to group docker",
            "gpasswd",
            &expected("www-data", "docker"),
        );
        auth(
            "gpasswd",
            "user www-data removed by root from group docker",
            "gpasswd",
            &expected("www-data", "docker"),
        );
    }

    #[test]
    fn parses_user_changes_and_deletions() {
        let changed = |user: &'static str| {
            vec![
                ("event.action", "user_change"),
                ("event.outcome", "success"),
                ("user.name", user),
            ]
        };
        auth(
            "usermod",
            "change user 'backup' UID from '1001' to '0'",
            "usermod",
            &changed("backup"),
        );
        auth(
            "usermod",
            "change user 'bob' shell from '/bin/sh' to '/bin/bash'",
            "usermod",
            &changed("bob"),
        );
        auth(
            "usermod",
            "change user name 'bob' to 'robert'",
            "usermod",
            &changed("bob"),
        );
        auth("usermod", "lock user 'bob' password", "usermod", &changed("bob"));
        auth(
            "chage",
            "changed password expiry for bob",
            "chage",
            &changed("bob"),
        );
        auth(
            "userdel",
            "delete user 'bob'",
            "userdel",
            &[
                ("event.action", "user_delete"),
                ("event.outcome", "success"),
                ("user.name", "bob"),
            ],
        );
        auth(
            "userdel",
            "removed group 'bob' owned by 'bob'",
            "userdel",
            &[
                ("event.action", "group_delete"),
                ("event.outcome", "success"),
                ("user.name", "bob"),
                ("group.name", "bob"),
            ],
        );
        auth(
            "userdel",
            "removed shadow group 'bob' owned by 'bob'",
            "userdel",
            &[
                ("event.action", "group_delete"),
                ("event.outcome", "success"),
                ("user.name", "bob"),
                ("group.name", "bob"),
            ],
        );
        auth(
            "groupdel",
            "group 'devs' removed from /etc/group",
            "groupdel",
            &[
                ("event.action", "group_delete"),
                ("event.outcome", "success"),
                ("group.name", "devs"),
            ],
        );
        auth(
            "gpasswd",
            "members of group docker set by root to alice,bob",
            "gpasswd",
            &[
                ("event.action", "group_change"),
                ("event.outcome", "success"),
                ("group.name", "docker"),
            ],
        );
    }

    #[test]
    fn parses_password_changes() {
        let expected = [
            ("event.action", "password_change"),
            ("event.outcome", "success"),
            ("user.name", "bob"),
        ];
        auth(
            "passwd",
            "pam_unix(passwd:chauthtok): password changed for bob",
            "passwd",
            &expected,
        );
        auth(
            "chpasswd",
            "pam_unix(chpasswd:chauthtok): password changed for bob",
            "chpasswd",
            &expected,
        );
        auth(
            "passwd",
            "password for 'bob' changed by 'root'",
            "passwd",
            &expected,
        );
    }

    // -- login, logind, other PAM programs -------------------------------------------------------

    #[test]
    fn parses_login_lines() {
        auth(
            "login",
            "FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', Authentication failure",
            "login",
            &[
                ("event.action", "login"),
                ("event.outcome", "failure"),
                ("event.reason", "Authentication failure"),
                ("user.name", "alice"),
            ],
        );
        auth(
            "login",
            "FAILED LOGIN (2) on '/dev/tty1' FOR 'UNKNOWN', User not known to the underlying authentication module",
            "login",
            &[
                ("event.action", "login"),
                ("event.outcome", "failure"),
                (
                    "event.reason",
                    "User not known to the underlying authentication module",
                ),
            ],
        );
        auth(
            "login",
            "ROOT LOGIN  on '/dev/tty1'",
            "login",
            &[
                ("event.action", "login"),
                ("event.outcome", "success"),
                ("user.name", "root"),
            ],
        );
    }

    #[test]
    fn parses_logind_sessions() {
        auth(
            "systemd-logind",
            "New session 12 of user alice.",
            "systemd-logind",
            &[("event.action", "session_open"), ("user.name", "alice")],
        );
        auth(
            "systemd-logind",
            "Session 12 logged out. Waiting for processes to exit.",
            "systemd-logind",
            &[("event.action", "session_close")],
        );
        auth(
            "systemd-logind",
            "Removed session 12.",
            "systemd-logind",
            &[("event.action", "session_close")],
        );
        auth(
            "systemd-logind",
            "Watching system buttons on /dev/input/event1",
            "systemd-logind",
            &[],
        );
    }

    #[test]
    fn pam_message_of_any_program_is_auth() {
        auth(
            "systemd",
            "pam_unix(systemd-user:session): session opened for user alice(uid=1000) by (uid=0)",
            "pam",
            &[
                ("event.action", "session_open"),
                ("user.name", "alice"),
                ("user.id", "1000"),
            ],
        );
        let (recognized, _) = run(None, "pam_unix(sshd:auth): check pass; user unknown").expect("recognised");
        assert_eq!(recognized.source_type, "sshd");
    }

    // -- cron -----------------------------------------------------------------------------------

    fn cron_check(program: &str, message: &str, expected: &[(&str, &str)]) {
        check(program, message, "cron", "cron", expected);
    }

    #[test]
    fn parses_cron_command() {
        cron_check(
            "CRON",
            "(root) CMD (/usr/local/bin/backup.sh > /dev/null 2>&1)",
            &[
                ("event.action", "cron_exec"),
                ("user.name", "root"),
                (
                    "process.command_line",
                    "/usr/local/bin/backup.sh > /dev/null 2>&1",
                ),
            ],
        );
        cron_check(
            "crond",
            "(www-data) CMD ([ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi)",
            &[
                ("event.action", "cron_exec"),
                ("user.name", "www-data"),
                (
                    "process.command_line",
                    "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
                ),
            ],
        );
        cron_check(
            "CROND",
            "(root) CMD (echo $(date))",
            &[
                ("event.action", "cron_exec"),
                ("user.name", "root"),
                ("process.command_line", "echo $(date)"),
            ],
        );
    }

    #[test]
    fn parses_crontab_edits() {
        for (message, action, user, target) in [
            ("(root) REPLACE (root)", "crontab_replace", "root", "root"),
            ("(bob) BEGIN EDIT (bob)", "crontab_edit", "bob", "bob"),
            ("(root) END EDIT (root)", "crontab_edit", "root", "root"),
            (
                "(root) DELETE (nguyenvana)",
                "crontab_delete",
                "root",
                "nguyenvana",
            ),
            ("(root) LIST (root)", "crontab_list", "root", "root"),
        ] {
            cron_check(
                "crontab",
                message,
                &[
                    ("event.action", action),
                    ("user.name", user),
                    ("user.target.name", target),
                ],
            );
        }
    }

    #[test]
    fn parses_cron_pam_session_and_ignores_other_verbs() {
        cron_check(
            "CRON",
            "pam_unix(cron:session): session opened for user root by (uid=0)",
            &[("event.action", "session_open"), ("user.name", "root")],
        );
        cron_check(
            "CRON",
            "pam_unix(cron:session): session closed for user root",
            &[("event.action", "session_close"), ("user.name", "root")],
        );
        cron_check("cron", "(CRON) INFO (pidfile fd = 3)", &[]);
        cron_check("crond", "(*system*) RELOAD (/etc/crontab)", &[]);
    }

    // -- not ours, malformed --------------------------------------------------------------------

    #[test]
    fn other_programs_are_not_auth() {
        let mut fields = Fields::new();
        assert_eq!(
            parse(
                Some("kernel"),
                "Failed password for root from 192.0.2.1 port 22 ssh2",
                &mut fields
            ),
            None
        );
        assert_eq!(
            parse(
                Some("ftpd"),
                "connection from 192.0.2.1 () at Sun Jul 10 03:55:15 2005",
                &mut fields
            ),
            None
        );
        assert_eq!(
            parse(
                None,
                "Failed password for root from 192.0.2.1 port 22 ssh2",
                &mut fields
            ),
            None
        );
        assert!(fields.is_empty());
    }

    #[test]
    fn malformed_messages_do_not_panic() {
        let long = format!(
            "Failed password for {} from 192.0.2.1 port 22 ssh2",
            "a".repeat(100_000)
        );
        let messages = [
            "",
            " ",
            "Failed",
            "Failed password for",
            "Failed password for root from",
            "Failed password for root from 192.0.2.1 port",
            "Failed password for root from 192.0.2.1 port 99999999999999999999999",
            "Accepted publickey for",
            "Invalid user",
            "Connection closed by",
            "Connection closed by invalid user",
            "Disconnecting",
            "Disconnecting ",
            "Received disconnect from",
            "reverse mapping checking getaddrinfo for",
            "PAM",
            "pam_unix(",
            "pam_unix(sshd:auth): ",
            "pam_unix(sshd:session): session opened for user ",
            "message repeated 3 times: [",
            ":",
            " : ",
            "alice : ",
            "(to ",
            "new user: ",
            "add '",
            "(",
            "(root) CMD (",
            "Đăng nhập thất bại cho người dùng ‘quản_trị’ từ 203.0.113.5",
            "Failed password for người_dùng from 203.0.113.5 port 22 ssh2",
            long.as_str(),
        ];
        for program in [
            "sshd",
            "sudo",
            "su",
            "useradd",
            "usermod",
            "login",
            "systemd-logind",
            "CRON",
            "sshd(pam_unix)",
        ] {
            for message in messages {
                let mut fields = Fields::new();
                let recognized = parse(Some(program), message, &mut fields);
                assert!(recognized.is_some(), "{program}: {message:.60}");
            }
        }
        // A port too large for a number is no port.
        let (_, fields) = run(
            Some("sshd"),
            "Failed password for root from 192.0.2.1 port 99999999999999999999999",
        )
        .expect("ours");
        assert!(!fields.iter().any(|(name, _)| name == "source.port"));
        let (_, fields) = run(
            Some("sshd"),
            "Failed password for người_dùng from 203.0.113.5 port 22 ssh2",
        )
        .expect("ours");
        assert!(fields.contains(&("user.name".to_owned(), "người_dùng".to_owned())));
    }
}
