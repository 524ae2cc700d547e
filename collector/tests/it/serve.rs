//! The collector service end to end: lines sent by syslog over UDP, TCP and TLS and by HTTP reach
//! the detector and produce the expected alerts from our own rules (issue 3).

use std::io::Write as _;
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use haidang_collector::serve::{ServeConfig, Server};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A self-signed certificate for 127.0.0.1 / localhost, written as PEM files.
fn certificate(directory: &Path) -> (PathBuf, PathBuf, rustls_pki_types::CertificateDer<'static>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let certificate = params.self_signed(&key).unwrap();
    let certificate_path = directory.join("collector.crt");
    let key_path = directory.join("collector.key");
    std::fs::write(&certificate_path, certificate.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (certificate_path, key_path, certificate.der().clone())
}

fn start(directory: &Path) -> (Server, rustls_pki_types::CertificateDer<'static>) {
    let (certificate_path, key_path, der) = certificate(directory);
    let config = format!(
        "version = 1\ndata_dir = {data:?}\nrules = [{rules:?}]\nthreads = 2\nwatch_rules = false\n\
         [inputs.syslog_udp]\nlisten = \"127.0.0.1:0\"\n\
         [inputs.syslog_tcp]\nlisten = \"127.0.0.1:0\"\n\
         [inputs.syslog_tls]\nlisten = \"127.0.0.1:0\"\ncertificate = {certificate:?}\nkey = {key:?}\n\
         [inputs.http]\nlisten = \"127.0.0.1:0\"\n[inputs.agents]\nlisten = \"127.0.0.1:0\"\n[ui]\nlisten = \"127.0.0.1:0\"\n",
        data = directory.join("data").display().to_string(),
        rules = repository().join("rules/haidang").display().to_string(),
        certificate = certificate_path.display().to_string(),
        key = key_path.display().to_string(),
    );
    let config = ServeConfig::parse("test.toml", &config).unwrap();
    (Server::start(config).unwrap(), der)
}

fn sudo_shell(host: &str) -> String {
    format!(
        "<86>Nov 20 08:15:00 {host} sudo:  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash\n"
    )
}

fn alerts(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Waits until `predicate` holds for the alerts (bounded: a missing alert fails, it does not hang).
fn wait_for(path: &Path, predicate: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = alerts(path);
        if predicate(&found) || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn hosts_of(alerts: &[serde_json::Value], rule_title: &str) -> Vec<String> {
    let mut hosts: Vec<String> = alerts
        .iter()
        .filter(|alert| alert["rule_title"] == rule_title)
        .filter_map(|alert| alert["event"]["host"].as_str().map(str::to_owned))
        .collect();
    hosts.sort();
    hosts
}

#[test]
fn udp_tcp_tls_and_http_inputs_reach_the_detector() {
    let directory = tempfile::tempdir().unwrap();
    let (server, der) = start(directory.path());
    let addresses = server.addresses().clone();

    // Syslog over UDP.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .send_to(sudo_shell("udp-host").as_bytes(), addresses.syslog_udp.unwrap())
        .unwrap();

    // Syslog over TCP: one newline-framed and one octet-counted message.
    let mut tcp = TcpStream::connect(addresses.syslog_tcp.unwrap()).unwrap();
    tcp.write_all(sudo_shell("tcp-host").as_bytes()).unwrap();
    let framed = sudo_shell("tcp-octet-host");
    let framed = framed.trim_end();
    tcp.write_all(format!("{} {}", framed.len(), framed).as_bytes())
        .unwrap();
    tcp.flush().unwrap();

    // Syslog over TLS (RFC 5425, octet counting), trusting the test certificate.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let client =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
    let socket = TcpStream::connect(addresses.syslog_tls.unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, socket);
    let message = sudo_shell("tls-host");
    let message = message.trim_end();
    tls.write_all(format!("{} {}", message.len(), message).as_bytes())
        .unwrap();
    tls.flush().unwrap();

    // HTTP: a Windows Security event (log cleared) as Winlogbeat sends it, through /_bulk.
    let document = r#"{"@timestamp":"2026-11-20T01:15:00Z","winlog":{"channel":"Security","event_id":1102,"computer_name":"dc01.haiphong.gov.vn","user_data":{"SubjectUserName":"eve"}},"host":{"name":"dc01"}}"#;
    let body = format!("{{\"create\":{{}}}}\n{document}\n");
    let mut http = TcpStream::connect(addresses.http.unwrap()).unwrap();
    write!(
        http,
        "POST /winlogbeat-8/_bulk HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut http, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"errors\":false"), "{response}");

    let path = server.alerts_path().to_owned();
    let found = wait_for(&path, |alerts| {
        hosts_of(alerts, "Sudo to an Interactive Shell or su").len() >= 4
            && alerts
                .iter()
                .any(|alert| alert["rule_title"] == "Windows Security Event Log Cleared")
    });
    assert_eq!(
        hosts_of(&found, "Sudo to an Interactive Shell or su"),
        vec!["tcp-host", "tcp-octet-host", "tls-host", "udp-host"],
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|alert| alert["rule_title"] == "Windows Security Event Log Cleared"),
        "{found:#?}"
    );
    let counters = server.counters();
    assert_eq!(
        counters.received_udp.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        counters.received_tcp.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert_eq!(
        counters.received_tls.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        counters.received_http.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // The same counters for Prometheus.
    let mut http = TcpStream::connect(addresses.http.unwrap()).unwrap();
    write!(
        http,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut http, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("content-type: text/plain; version=0.0.4"),
        "{response}"
    );
    for sample in [
        "haidang_received_records_total{input=\"udp\"} 1\n",
        "haidang_received_records_total{input=\"tcp\"} 2\n",
        "haidang_received_records_total{input=\"tls\"} 1\n",
        "haidang_received_records_total{input=\"http\"} 1\n",
    ] {
        assert!(response.contains(sample), "{sample} not in {response}");
    }
    drop(tls);
    drop(tcp);
    server.shutdown().unwrap();
}

#[test]
fn a_malformed_line_becomes_a_raw_event_and_the_stream_goes_on() {
    let directory = tempfile::tempdir().unwrap();
    let (server, _) = start(directory.path());
    let mut tcp = TcpStream::connect(server.addresses().syslog_tcp.unwrap()).unwrap();
    tcp.write_all(b"\x00\x01 not a log line at all \xff\n").unwrap();
    tcp.write_all(sudo_shell("after-garbage").as_bytes()).unwrap();
    tcp.flush().unwrap();
    let found = wait_for(server.alerts_path(), |alerts| {
        !hosts_of(alerts, "Sudo to an Interactive Shell or su").is_empty()
    });
    assert_eq!(
        hosts_of(&found, "Sudo to an Interactive Shell or su"),
        vec!["after-garbage"]
    );
    let counters = server.counters();
    let deadline = Instant::now() + Duration::from_secs(10);
    while counters.events.load(std::sync::atomic::Ordering::Relaxed) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(counters.events.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(counters.unparsed.load(std::sync::atomic::Ordering::Relaxed), 1);
    drop(tcp);
    server.shutdown().unwrap();
}

#[test]
fn import_sends_plain_and_json_files_through_the_pipeline() {
    use haidang_collector::commands::import::{ImportOptions, import};
    let directory = tempfile::tempdir().unwrap();
    let (server, _) = start(directory.path());
    // A plain file (with a garbage line, kept as a raw event) and a JSON-lines file with a
    // broken document (reported with its line; the rest is taken).
    let plain = directory.path().join("auth.log");
    std::fs::write(
        &plain,
        format!("{}garbage that no parser knows\n", sudo_shell("imported-host")),
    )
    .unwrap();
    let json = directory.path().join("events.jsonl");
    let document = r#"{"@timestamp":"2026-11-20T01:15:00Z","winlog":{"channel":"Security","event_id":1102,"computer_name":"dc01.haiphong.gov.vn","user_data":{"SubjectUserName":"eve"}},"host":{"name":"dc01"}}"#;
    std::fs::write(&json, format!("{document}\n{{broken\n")).unwrap();
    let summaries = import(&ImportOptions {
        collector: server.addresses().http.unwrap().to_string(),
        files: vec![plain.display().to_string(), json.display().to_string()],
        format: None,
        host: None,
    })
    .unwrap();
    assert_eq!(
        (summaries[0].kind, summaries[0].accepted, summaries[0].errors),
        ("lines", 2, 0)
    );
    assert_eq!((summaries[1].kind, summaries[1].accepted), ("json", 1));
    assert_eq!(summaries[1].errors, 1, "{:?}", summaries[1]);
    assert!(
        summaries[1].error_samples[0].contains("line 2"),
        "{:?}",
        summaries[1]
    );
    let found = wait_for(server.alerts_path(), |alerts| {
        !hosts_of(alerts, "Sudo to an Interactive Shell or su").is_empty()
            && alerts.iter().any(|alert| alert["event"]["host"] == "dc01")
    });
    assert_eq!(
        hosts_of(&found, "Sudo to an Interactive Shell or su"),
        vec!["imported-host"]
    );
    assert_eq!(
        hosts_of(&found, "Windows Security Event Log Cleared"),
        vec!["dc01"]
    );
    server.shutdown().unwrap();
}
