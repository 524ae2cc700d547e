//! Host facts reported in heartbeats: host name, operating system, addresses, agent version.

use haidang_event::wire::HostFacts;

/// The kernel's host name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// `PRETTY_NAME` from `/etc/os-release`, else the kernel's name and release.
pub fn operating_system() -> String {
    if let Ok(text) = std::fs::read_to_string("/etc/os-release") {
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("PRETTY_NAME=") {
                return value.trim_matches('"').to_owned();
            }
        }
    }
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|text| text.trim().to_owned())
            .unwrap_or_default()
    };
    format!(
        "{} {}",
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease")
    )
}

/// The facts, with the local address the collector connection uses.
pub fn host_facts(hostname: &str, local_address: Option<std::net::IpAddr>) -> HostFacts {
    HostFacts {
        hostname: hostname.to_owned(),
        os: operating_system(),
        addresses: local_address
            .map(|address| vec![address.to_string()])
            .unwrap_or_default(),
        agent_version: crate::VERSION.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_name_the_host_and_the_agent_version() {
        let facts = host_facts("web01", Some([10, 0, 0, 5].into()));
        assert_eq!(facts.hostname, "web01");
        assert_eq!(facts.addresses, ["10.0.0.5"]);
        assert_eq!(facts.agent_version, crate::VERSION);
        assert!(!facts.os.trim().is_empty());
        assert!(!hostname().is_empty());
    }
}
