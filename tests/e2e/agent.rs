//! The agent protocol end to end (issues 3 and 4): enrollment, acknowledged batches reaching the
//! detector, duplicates dropped by sequence number, revoked and unknown agents refused, and the
//! agent's own run loop shipping a file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use haidang_agent::connection::{Identity, Refused, Session};
use haidang_collector::agents::{Pki, RegistryFile};
use haidang_collector::serve::{ServeConfig, Server};
use haidang_event::wire::{Batch, Body, Hello, HostFacts, Message, PROTOCOL_VERSION, Record};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn start(directory: &Path) -> (Server, ServeConfig) {
    let config = format!(
        "version = 1\ndata_dir = {data:?}\nrules = [{rules:?}]\nthreads = 2\nwatch_rules = false\n\
         [inputs.syslog_udp]\nenabled = false\n[inputs.syslog_tcp]\nenabled = false\n\
         [inputs.http]\nenabled = false\n\
         [inputs.agents]\nlisten = \"127.0.0.1:0\"\n[ui]\nenabled = false\n",
        data = directory.join("collector").display().to_string(),
        rules = repository().join("rules/haidang").display().to_string(),
    );
    let config = ServeConfig::parse("test.toml", &config).unwrap();
    (Server::start(config.clone()).unwrap(), config)
}

fn token(config: &ServeConfig) -> String {
    let pki = Pki::load_or_create(&config.data_dir.join("pki"), &[]).unwrap();
    RegistryFile::new(&config.data_dir)
        .create_token(&pki, Duration::from_secs(600), 1, "test")
        .unwrap()
}

fn enroll(server: &Server, config: &ServeConfig, agent_dir: &Path) -> String {
    let address = server.addresses().agents.unwrap().to_string();
    haidang_agent::connection::enroll(agent_dir, &token(config), &address, "web01").unwrap()
}

fn connect(server: &Server, agent_dir: &Path) -> Session {
    let address = server.addresses().agents.unwrap().to_string();
    let config = Identity::new(agent_dir).client_config().unwrap();
    Session::connect(&address, config, Duration::from_secs(10)).unwrap()
}

fn hello(session: &mut Session) -> anyhow::Result<Message> {
    session.send(&Message::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        facts: HostFacts {
            hostname: "web01".into(),
            ..HostFacts::default()
        },
    }))?;
    session.receive()
}

fn line(text: &str) -> Record {
    Record {
        observed_nanos: 0,
        source: "file:/var/log/auth.log".into(),
        body: Body::Line {
            text: text.into(),
            format: None,
        },
    }
}

fn sudo_shell(user: &str) -> String {
    format!(
        "Nov 20 08:15:00 web01 sudo:  {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/bash"
    )
}

fn wait_until(what: &str, mut predicate: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !predicate() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wal_lines(config: &ServeConfig) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    haidang_collector::commands::agents::dump_wal(config, None, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn acknowledged_batches_reach_the_detector_once_even_when_sent_again() {
    let directory = tempfile::tempdir().unwrap();
    let (server, config) = start(directory.path());
    let agent_dir = directory.path().join("agent");
    let agent_id = enroll(&server, &config, &agent_dir);
    assert!(agent_id.starts_with("web01-"), "{agent_id}");

    let mut session = connect(&server, &agent_dir);
    let Message::Welcome(welcome) = hello(&mut session).unwrap() else {
        panic!("no welcome")
    };
    assert_eq!(
        (welcome.agent_id.as_str(), welcome.last_sequence),
        (agent_id.as_str(), 0)
    );
    let batch = Batch::compress(
        1,
        &[
            line(&sudo_shell("alice")),
            line("just noise"),
            line(&sudo_shell("bob")),
        ],
    )
    .unwrap();
    session.send(&Message::Batch(batch.clone())).unwrap();
    assert_eq!(session.receive().unwrap(), Message::Ack(3));
    // The same batch again (as after a lost acknowledgement): acknowledged, not stored twice.
    session.send(&Message::Batch(batch)).unwrap();
    assert_eq!(session.receive().unwrap(), Message::Ack(3));
    // A batch overlapping the last one keeps only its new record.
    let overlapping = Batch::compress(3, &[line(&sudo_shell("bob")), line("fourth")]).unwrap();
    session.send(&Message::Batch(overlapping)).unwrap();
    assert_eq!(session.receive().unwrap(), Message::Ack(4));
    drop(session);

    // A new session learns where the collector is.
    let mut session = connect(&server, &agent_dir);
    let Message::Welcome(welcome) = hello(&mut session).unwrap() else {
        panic!("no welcome")
    };
    assert_eq!(welcome.last_sequence, 4);
    drop(session);

    let counters = server.counters();
    wait_until("the alerts are written", || {
        counters.alerts.load(Ordering::Relaxed) >= 2
    });
    assert_eq!(counters.agent_duplicates.load(Ordering::Relaxed), 4);
    let alerts_path = server.alerts_path().to_owned();
    server.shutdown().unwrap();
    let alerts: Vec<serde_json::Value> = std::fs::read_to_string(alerts_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let sudo: Vec<_> = alerts
        .iter()
        .filter(|alert| {
            alert["rule_title"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase()
                .contains("sudo")
        })
        .collect();
    assert_eq!(sudo.len(), 2, "one alert per sudo line, none twice: {alerts:#?}");
    assert_eq!(sudo[0]["event"]["fields"]["agent.id"], agent_id.as_str());
    assert_eq!(sudo[0]["event"]["host"], "web01");

    let stored: Vec<u64> = wal_lines(&config)
        .iter()
        .map(|line| line["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(stored, [1, 2, 3, 4]);
}

#[test]
fn revoked_and_unknown_agents_are_refused() {
    let directory = tempfile::tempdir().unwrap();
    let (server, config) = start(directory.path());
    let agent_dir = directory.path().join("agent");
    let agent_id = enroll(&server, &config, &agent_dir);

    let mut session = connect(&server, &agent_dir);
    assert!(matches!(hello(&mut session).unwrap(), Message::Welcome(_)));
    RegistryFile::new(&config.data_dir).revoke(&agent_id).unwrap();
    // The open session is cut at its next batch.
    session
        .send(&Message::Batch(
            Batch::compress(1, &[line("after revocation")]).unwrap(),
        ))
        .unwrap();
    let error = session.receive().unwrap_err();
    let refused = error.downcast_ref::<Refused>().expect("a refusal");
    assert!(refused.0.contains("revoked"), "{refused}");
    // And a new session is refused at hello.
    let mut session = connect(&server, &agent_dir);
    let error = hello(&mut session).unwrap_err();
    assert!(
        error
            .downcast_ref::<Refused>()
            .is_some_and(|refused| refused.0.contains("revoked")),
        "{error:#}"
    );
    assert!(
        wal_lines(&config).is_empty(),
        "nothing from a revoked agent is stored"
    );

    // A certificate signed by the collector's CA but never enrolled is unknown.
    let pki = Pki::load_or_create(&config.data_dir.join("pki"), &[]).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let request = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let forged = directory.path().join("forged/identity");
    std::fs::create_dir_all(&forged).unwrap();
    std::fs::write(
        forged.join("agent.pem"),
        pki.sign_agent(&request, "intruder").unwrap(),
    )
    .unwrap();
    std::fs::write(forged.join("agent.key"), key.serialize_pem()).unwrap();
    std::fs::write(forged.join("ca.pem"), pki.ca_pem().unwrap()).unwrap();
    std::fs::write(forged.join("agent_id"), "intruder").unwrap();
    let mut session = connect(&server, &directory.path().join("forged"));
    let error = hello(&mut session).unwrap_err();
    assert!(
        error
            .downcast_ref::<Refused>()
            .is_some_and(|refused| refused.0.contains("unknown agent")),
        "{error:#}"
    );

    // A token enrolls once; a wrong token is refused.
    let address = server.addresses().agents.unwrap().to_string();
    let wrong = format!(
        "HD1.00000000.{}.{}",
        "0".repeat(32),
        pki.ca_fingerprint().unwrap()
    );
    let error = haidang_agent::connection::enroll(&directory.path().join("other"), &wrong, &address, "db01")
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("invalid enrollment token"),
        "{error:#}"
    );
    server.shutdown().unwrap();
}

#[test]
fn a_token_for_another_collector_is_not_trusted() {
    let directory = tempfile::tempdir().unwrap();
    let (server, config) = start(directory.path());
    let address = server.addresses().agents.unwrap().to_string();
    let genuine = token(&config);
    // Same token, but pinning a different CA: the agent refuses the collector before sending it.
    let (head, _) = genuine.rsplit_once('.').unwrap();
    let other = format!("{head}.{}", "ab".repeat(32));
    let error = haidang_agent::connection::enroll(&directory.path().join("agent"), &other, &address, "web01")
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("does not match the fingerprint"),
        "{error:#}"
    );
    server.shutdown().unwrap();
}

#[test]
fn the_agent_fails_over_ships_a_file_and_resumes_after_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let (server, config) = start(directory.path());
    let agent_dir = directory.path().join("agent");
    enroll(&server, &config, &agent_dir);
    let logs = directory.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("app.log");
    std::fs::write(
        &log,
        (0..100)
            .map(|index| format!("line {index}\n"))
            .collect::<String>(),
    )
    .unwrap();
    // The first collector address answers nothing: the agent fails over to the second.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let agent_config = format!(
        "data_dir = {data:?}\n[collector]\naddresses = [{dead:?}, {address:?}]\nmax_backoff_seconds = 1\n\
         [[files]]\nname = \"app\"\ninclude = [{include:?}]\nstart_at = \"beginning\"\n",
        data = agent_dir.display().to_string(),
        dead = dead.to_string(),
        address = server.addresses().agents.unwrap().to_string(),
        include = format!("{}/app.log*", logs.display()),
    );
    let run_agent = || {
        let config = haidang_agent::config::AgentConfig::parse("agent.toml", &agent_config).unwrap();
        let signals = haidang_agent::run::Signals::default();
        let stop = Arc::clone(&signals.stop);
        let thread = std::thread::spawn(move || haidang_agent::run::run(config, None, &signals));
        (stop, thread)
    };
    let (stop, thread) = run_agent();
    wait_until("100 lines are stored", || wal_lines(&config).len() == 100);
    stop.store(true, Ordering::Release);
    thread.join().unwrap().unwrap();

    // Rotated while the agent was stopped, and grown: the rest arrives, nothing twice.
    std::fs::rename(&log, logs.join("app.log.1")).unwrap();
    std::fs::write(
        &log,
        (100..150)
            .map(|index| format!("line {index}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let (stop, thread) = run_agent();
    wait_until("150 lines are stored", || wal_lines(&config).len() >= 150);
    stop.store(true, Ordering::Release);
    thread.join().unwrap().unwrap();
    let mut texts: Vec<String> = wal_lines(&config)
        .iter()
        .map(|line| line["line"].as_str().unwrap().to_owned())
        .collect();
    texts.sort_by_key(|text| text[5..].parse::<u32>().unwrap());
    let expected: Vec<String> = (0..150).map(|index| format!("line {index}")).collect();
    assert_eq!(texts, expected);
    server.shutdown().unwrap();
}

#[test]
fn a_reload_takes_new_sources_and_keeps_the_old_ones_places() {
    let directory = tempfile::tempdir().unwrap();
    let (server, config) = start(directory.path());
    let agent_dir = directory.path().join("agent");
    enroll(&server, &config, &agent_dir);
    let logs = directory.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("a.log"), "a 1\na 2\n").unwrap();
    let write_config = |includes: &str| {
        let text = format!(
            "data_dir = {data:?}\n[collector]\naddresses = [{address:?}]\n\
             [[files]]\nname = \"app\"\ninclude = [{includes}]\nstart_at = \"beginning\"\n",
            data = agent_dir.display().to_string(),
            address = server.addresses().agents.unwrap().to_string(),
        );
        let path = directory.path().join("agent.toml");
        std::fs::write(&path, text).unwrap();
        path
    };
    let a = format!("{:?}", logs.join("a.log").display().to_string());
    let b = format!("{:?}", logs.join("b.log").display().to_string());
    let path = write_config(&a);
    let agent_config = haidang_agent::config::AgentConfig::load(&path).unwrap();
    let signals = haidang_agent::run::Signals::default();
    let (stop, reload) = (Arc::clone(&signals.stop), Arc::clone(&signals.reload));
    let thread = std::thread::spawn(move || haidang_agent::run::run(agent_config, Some(path), &signals));
    wait_until("a.log is shipped", || wal_lines(&config).len() == 2);

    // SIGHUP with a broken file keeps the running configuration.
    std::fs::write(directory.path().join("agent.toml"), "colour = 1\n").unwrap();
    reload.store(true, Ordering::Release);
    std::thread::sleep(Duration::from_millis(500));
    // SIGHUP with b.log added: b.log is read, a.log is not read again.
    write_config(&format!("{a}, {b}"));
    std::fs::write(logs.join("b.log"), "b 1\n").unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(logs.join("a.log"))
        .and_then(|mut file| std::io::Write::write_all(&mut file, b"a 3\n"))
        .unwrap();
    reload.store(true, Ordering::Release);
    wait_until("b.log and the new a.log line are shipped", || {
        wal_lines(&config).len() == 4
    });
    stop.store(true, Ordering::Release);
    thread.join().unwrap().unwrap();
    let mut texts: Vec<String> = wal_lines(&config)
        .iter()
        .map(|line| line["line"].as_str().unwrap().to_owned())
        .collect();
    texts.sort();
    assert_eq!(texts, ["a 1", "a 2", "a 3", "b 1"]);
    server.shutdown().unwrap();
}
