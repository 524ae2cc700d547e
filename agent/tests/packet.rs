//! `haidang-agent pcap` end to end on a capture made by `fixtures/make_mixed_pcap.py`: one
//! conversation per parser, plus hostile and non-IP frames.

use std::process::Command;

use serde_json::Value;

fn run_pcap(arguments: &[&str]) -> (Vec<Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_haidang-agent"))
        .arg("pcap")
        .args(arguments)
        .output()
        .expect("the agent binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events = String::from_utf8(output.stdout)
        .expect("JSON lines are UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
        .collect();
    (events, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn fixture() -> String {
    format!("{}/tests/fixtures/mixed.pcap", env!("CARGO_MANIFEST_DIR"))
}

fn of_dataset<'a>(events: &'a [Value], dataset: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| event["fields"]["event.dataset"] == dataset)
        .collect()
}

#[test]
fn pcap_command_emits_every_dataset_with_its_logsource() {
    let (events, summary) = run_pcap(&[&fixture()]);
    assert!(
        summary.contains("20 packets (17 decoded, 1 not IP, 2 malformed)"),
        "{summary}"
    );
    for event in &events {
        assert_eq!(event["source_type"], "packet");
        assert!(
            event["timestamp"]
                .as_str()
                .unwrap()
                .starts_with("2026-01-01T00:00:00")
        );
        assert!(
            event["fields"]["network.community_id"]
                .as_str()
                .unwrap()
                .starts_with("1:")
        );
    }

    let dns = of_dataset(&events, "dns");
    assert_eq!(dns.len(), 1);
    assert_eq!(dns[0]["logsource"]["category"], "dns");
    assert_eq!(dns[0]["fields"]["dns.question.name"], "update-check.example.top");
    assert_eq!(dns[0]["fields"]["dns.answers.data"], "203.0.113.9");
    assert_eq!(dns[0]["fields"]["dns.response_code"], "NOERROR");

    let http = of_dataset(&events, "http");
    assert_eq!(http[0]["logsource"]["category"], "proxy");
    assert_eq!(http[0]["fields"]["http.request.method"], "GET");
    assert_eq!(http[0]["fields"]["url.original"], "/download/tool.exe?id=7");
    assert_eq!(http[0]["fields"]["url.domain"], "files.example.net");
    assert_eq!(http[0]["fields"]["user_agent.original"], "Wget/1.21");

    let tls = of_dataset(&events, "tls");
    assert_eq!(tls[0]["logsource"]["service"], "tls");
    assert_eq!(tls[0]["fields"]["tls.client.server_name"], "portal.example.gov");
    assert_eq!(tls[0]["fields"]["tls.version"], "1.3");
    assert!(
        tls[0]["fields"]["tls.client.ja4"]
            .as_str()
            .unwrap()
            .starts_with("t13d0206h2_")
    );
    assert_eq!(tls[0]["fields"]["tls.client.ja3"].as_str().unwrap().len(), 32);

    let ssh = of_dataset(&events, "ssh");
    assert_eq!(ssh[0]["fields"]["ssh.client"], "SSH-2.0-libssh_0.10.6");
    assert_eq!(ssh[0]["fields"]["ssh.server"], "SSH-2.0-OpenSSH_9.6");

    let flows = of_dataset(&events, "flow");
    assert_eq!(flows.len(), 6);
    let http_flow = flows
        .iter()
        .find(|flow| flow["fields"]["destination.port"] == 80)
        .unwrap();
    assert_eq!(http_flow["logsource"]["category"], "network_connection");
    assert_eq!(http_flow["fields"]["source.packets"], 3);
    assert_eq!(http_flow["fields"]["destination.packets"], 2);
    // SYN, the request (20 + 20 + 88 bytes), FIN.
    assert_eq!(http_flow["fields"]["source.bytes"], 40 + 128 + 40);
    assert_eq!(http_flow["fields"]["network.transport"], "tcp");
    let icmp = flows
        .iter()
        .find(|flow| flow["fields"]["network.transport"] == "icmp")
        .unwrap();
    assert_eq!(icmp["fields"]["source.port"], 8);
    assert_eq!(icmp["fields"]["destination.packets"], 1);
}

#[test]
fn pcap_command_applies_a_bpf_filter() {
    let (events, _) = run_pcap(&[&fixture(), "--filter", "udp port 53"]);
    let datasets: Vec<&str> = events
        .iter()
        .map(|event| event["fields"]["event.dataset"].as_str().unwrap())
        .collect();
    assert_eq!(datasets, vec!["dns", "flow"]);
}

#[test]
fn pcap_command_rejects_a_missing_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_haidang-agent"))
        .args(["pcap", "/nonexistent/capture.pcap"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/capture.pcap"));
}
