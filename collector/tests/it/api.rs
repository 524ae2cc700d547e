//! The analysts' API (issue 5): logging in, searching, alerts and triage, the audit log, and
//! above all isolation: an agency viewer reads nothing of another agency by any route.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use haidang_collector::serve::{ServeConfig, Server};
use haidang_collector::store::Role;
use serde_json::Value;

const INVENTORY: &str = "systems:\n  - name: Cổng dịch vụ công\n    agency: Sở A\n    grade: 3\n    hosts: ['web-a*']\n  - name: Thư điện tử\n    agency: Sở B\n    grade: 2\n    hosts: ['mail-b*']\n";

fn start(directory: &Path) -> Server {
    std::fs::write(directory.join("inventory.yml"), INVENTORY).unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/haidang");
    let config = format!(
        "version = 1\ndata_dir = {data:?}\nrules = [{rules:?}]\ninventory = {inventory:?}\nthreads = 2\nwatch_rules = false\n\
         [inputs.syslog_udp]\nenabled = false\n[inputs.syslog_tcp]\nenabled = false\n\
         [inputs.http]\nlisten = \"127.0.0.1:0\"\n[inputs.agents]\nenabled = false\n\
         [ui]\nlisten = \"127.0.0.1:0\"\ntls = false\n",
        data = directory.join("data").display().to_string(),
        rules = rules.display().to_string(),
        inventory = directory.join("inventory.yml").display().to_string(),
    );
    Server::start(ServeConfig::parse("test.toml", &config).unwrap()).unwrap()
}

/// One HTTP/1.1 request; returns the status, the headers and the body.
fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// A logged-in client.
struct Client {
    address: SocketAddr,
    cookie: String,
    csrf: String,
}

impl Client {
    fn login(address: SocketAddr, name: &str, password: &str) -> Client {
        let body = serde_json::json!({"username": name, "password": password}).to_string();
        let (status, headers, text) = request(
            address,
            "POST",
            "/api/v1/login",
            &[("Content-Type", "application/json")],
            &body,
        );
        assert_eq!(status, 200, "{text}");
        let cookie = headers
            .iter()
            .find(|(name, _)| name == "set-cookie")
            .map(|(_, value)| value.split(';').next().unwrap().to_owned())
            .unwrap();
        let me: Value = serde_json::from_str(&text).unwrap();
        Client {
            address,
            cookie,
            csrf: me["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = request(self.address, "GET", path, &[("Cookie", &self.cookie)], "");
        (status, body)
    }

    fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    fn post(&self, path: &str, body: &str, csrf: bool) -> (u16, String) {
        let mut headers = vec![
            ("Cookie", self.cookie.as_str()),
            ("Content-Type", "application/json"),
        ];
        if csrf {
            headers.push(("X-CSRF-Token", self.csrf.as_str()));
        }
        let (status, _, body) = request(self.address, "POST", path, &headers, body);
        (status, body)
    }
}

fn sudo(host: &str, user: &str) -> String {
    format!(
        "Nov 20 08:15:00 {host} sudo:  {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/bash\n"
    )
}

/// Sends raw lines through HTTP ingest; they are durable when it returns.
fn ingest(server: &Server, lines: &str) {
    let address = server.addresses().http.unwrap();
    let (status, _, body) = request(address, "POST", "/ingest/lines", &[], lines);
    assert_eq!(status, 200, "{body}");
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_agency_viewer_reads_nothing_of_another_agency_by_any_route() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(directory.path());
    let store = server.store().clone();
    store
        .create_user("analyst", "analyst-password-1", Role::Analyst, &[])
        .unwrap();
    store
        .create_user("admin", "admin-password-1", Role::Admin, &[])
        .unwrap();
    store
        .create_user(
            "viewer-a",
            "viewer-password-1",
            Role::AgencyViewer,
            &["Sở A".to_owned()],
        )
        .unwrap();
    let ui = server.addresses().ui.unwrap();
    let lines = format!(
        "{}{}{}",
        sudo("web-a1", "alice"),
        sudo("mail-b1", "bob"),
        sudo("mail-b2", "carol")
    );
    ingest(&server, &lines);

    let analyst = Client::login(ui, "analyst", "analyst-password-1");
    let range = "from=2026-11-19T00:00:00Z&to=2026-11-21T00:00:00Z";
    wait_until("all three events are searchable and alerted", || {
        analyst.get_json(&format!("/api/v1/search?q=*&{range}"))["total"] == 3
            && analyst.get_json("/api/v1/alerts")["alerts"]
                .as_array()
                .unwrap()
                .len()
                == 3
    });
    let all = analyst.get_json(&format!("/api/v1/search?q=*&{range}"));
    let id_of = |host: &str| {
        all["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|hit| hit["host"] == host)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (mine, theirs) = (id_of("web-a1"), id_of("mail-b1"));
    let alerts = analyst.get_json("/api/v1/alerts");
    let alert_of = |host: &str| {
        alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|alert| alert["host"] == host)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (my_alert, their_alert) = (alert_of("web-a1"), alert_of("mail-b1"));

    let viewer = Client::login(ui, "viewer-a", "viewer-password-1");
    // Search: only Sở A's event, and the total says so.
    let found = viewer.get_json(&format!("/api/v1/search?q=*&{range}"));
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["agency"], "Sở A");
    let found = viewer.get_json(&format!("/api/v1/search?q=host:mail-b1&{range}"));
    assert_eq!(found["total"], 0, "{found}");
    // Direct id: another agency's event is "not found", exactly like a missing one.
    assert_eq!(viewer.get(&format!("/api/v1/events/{mine}")).0, 200);
    let (status, body) = viewer.get(&format!("/api/v1/events/{theirs}"));
    let (missing_status, missing_body) = viewer.get("/api/v1/events/no-such-id");
    assert_eq!((status, body), (missing_status, missing_body));
    assert_eq!(status, 404);
    // Export.
    let (status, export) = viewer.get(&format!("/api/v1/export?q=*&{range}"));
    assert_eq!(status, 200);
    assert_eq!(export.lines().count(), 1, "{export}");
    assert!(!export.contains("mail-b"), "{export}");
    // Aggregation counts.
    let histogram = viewer.get_json(&format!("/api/v1/aggregate/histogram?q=*&{range}"));
    let counted: u64 = histogram["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bucket| bucket["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 1, "{histogram}");
    for field in ["host", "agency", "user.name"] {
        let terms = viewer.get_json(&format!("/api/v1/aggregate/terms?q=*&field={field}&{range}"));
        let text = terms.to_string();
        assert!(
            !text.contains("mail-b") && !text.contains("Sở B") && !text.contains("bob"),
            "{text}"
        );
        assert_eq!(terms["other"], 0, "{text}");
    }
    // Alerts: list, direct id, triage.
    let listed = viewer.get_json("/api/v1/alerts");
    assert_eq!(listed["alerts"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["alerts"][0]["id"], my_alert);
    assert_eq!(viewer.get(&format!("/api/v1/alerts/{their_alert}")).0, 404);
    assert_eq!(
        viewer
            .post(&format!("/api/v1/alerts/{their_alert}/acknowledge"), "{}", true)
            .0,
        403
    );
    // Hosts.
    let hosts = viewer.get_json("/api/v1/hosts").to_string();
    assert!(hosts.contains("web-a1") && !hosts.contains("mail-b"), "{hosts}");
    // Audit log: admins only.
    assert_eq!(viewer.get("/api/v1/audit").0, 403);
    server.shutdown().unwrap();
}

#[test]
fn triage_needs_csrf_and_is_audited() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(directory.path());
    let store = server.store().clone();
    store
        .create_user("analyst", "analyst-password-1", Role::Analyst, &[])
        .unwrap();
    store
        .create_user("admin", "admin-password-1", Role::Admin, &[])
        .unwrap();
    let ui = server.addresses().ui.unwrap();
    ingest(&server, &sudo("web-a1", "alice"));

    // Not logged in: 401. Wrong password: 401, audited.
    assert_eq!(request(ui, "GET", "/api/v1/alerts", &[], "").0, 401);
    let wrong = serde_json::json!({"username": "analyst", "password": "nope"}).to_string();
    assert_eq!(request(ui, "POST", "/api/v1/login", &[], &wrong).0, 401);

    let analyst = Client::login(ui, "analyst", "analyst-password-1");
    wait_until("the alert exists", || {
        !analyst.get_json("/api/v1/alerts")["alerts"]
            .as_array()
            .unwrap()
            .is_empty()
    });
    let alert = analyst.get_json("/api/v1/alerts")["alerts"][0]["id"]
        .as_i64()
        .unwrap();
    // Without the CSRF token a state change is refused.
    assert_eq!(
        analyst
            .post(&format!("/api/v1/alerts/{alert}/acknowledge"), "{}", false)
            .0,
        403
    );
    let (status, body) = analyst.post(
        &format!("/api/v1/alerts/{alert}/acknowledge"),
        r#"{"comment": "looking into it"}"#,
        true,
    );
    assert_eq!(status, 200, "{body}");
    let acknowledged: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(acknowledged["status"], "acknowledged");
    assert_eq!(
        acknowledged["history"].as_array().unwrap().last().unwrap()["comment"],
        "looking into it"
    );
    let _ = analyst.get_json("/api/v1/search?q=sudo&from=now-30d");
    // Rules are changed by admins only.
    let rules = analyst.get_json("/api/v1/rules");
    let rule = rules["rules"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        analyst
            .post(&format!("/api/v1/rules/{rule}/disable"), "{}", true)
            .0,
        403
    );

    let admin = Client::login(ui, "admin", "admin-password-1");
    let audit = admin.get_json("/api/v1/audit?limit=100");
    let actions: Vec<(String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["user"].as_str().unwrap().to_owned(),
                entry["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("analyst", "login_failed"),
        ("analyst", "login"),
        ("analyst", "acknowledge"),
        ("analyst", "search"),
        ("admin", "login"),
    ] {
        assert!(
            actions
                .iter()
                .any(|(user, action)| user == expected.0 && action == expected.1),
            "{expected:?} not in {actions:?}"
        );
    }
    // The UI itself is served, with a strict content security policy.
    let (status, headers, page) = request(ui, "GET", "/", &[], "");
    assert_eq!(status, 200);
    assert!(page.contains("<html"), "{page}");
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "content-security-policy" && value.contains("default-src 'self'"))
    );
    server.shutdown().unwrap();
}

#[test]
fn the_hosts_page_survives_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let server = start(directory.path());
    server
        .store()
        .create_user("analyst", "analyst-password-1", Role::Analyst, &[])
        .unwrap();
    ingest(&server, &sudo("web-a1", "alice"));
    let analyst = Client::login(server.addresses().ui.unwrap(), "analyst", "analyst-password-1");
    wait_until("the host is listed", || {
        analyst.get_json("/api/v1/hosts").to_string().contains("web-a1")
    });
    let before = analyst.get_json("/api/v1/hosts");
    server.shutdown().unwrap();

    // Nothing new is sent after the restart: the page shows what was seen before it.
    let server = start(directory.path());
    let analyst = Client::login(server.addresses().ui.unwrap(), "analyst", "analyst-password-1");
    let after = analyst.get_json("/api/v1/hosts");
    let row = |hosts: &Value| {
        hosts["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["host"] == "web-a1")
            .cloned()
            .unwrap_or_else(|| panic!("no web-a1 in {hosts}"))
    };
    let (before, after) = (row(&before), row(&after));
    assert_eq!(after["last_seen"], before["last_seen"]);
    assert_eq!(after["agency"], "Sở A");
    assert_eq!(after["grade"], 3);
    assert_eq!(after["source_types"], before["source_types"]);
    assert!(!after["source_types"].as_array().unwrap().is_empty(), "{after}");
    server.shutdown().unwrap();
}
