//! The inventory: which information system and agency each host belongs to, and the system's
//! security grade (cấp độ 1–5). Data, not code: a YAML file the SOC maintains.
//!
//! ```yaml
//! systems:
//!   - name: Cổng dịch vụ công thành phố
//!     agency: Sở Khoa học và Công nghệ
//!     grade: 3
//!     hosts: [portal.haiphong.gov.vn, "web-dvc-*", 10.10.1.0/24]
//! ```
//!
//! A host entry is an exact name (case-insensitive), a name pattern with `*`, an IP address or a
//! CIDR network. The first system that claims a host wins.

use std::net::IpAddr;

use haidang_event::Event;
use ipnet::IpNet;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    #[serde(default)]
    systems: Vec<SystemFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemFile {
    name: String,
    agency: String,
    #[serde(default)]
    grade: Option<u8>,
    #[serde(default)]
    hosts: Vec<String>,
}

/// An information system of the estate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    /// Its name.
    pub name: String,
    /// The agency that owns it.
    pub agency: String,
    /// Its security grade (1–5), when assigned.
    pub grade: Option<u8>,
}

#[derive(Debug, Clone)]
enum HostMatcher {
    Name(String),
    Pattern(String),
    Network(IpNet),
}

/// Hosts to systems.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    systems: Vec<System>,
    hosts: Vec<(HostMatcher, usize)>,
}

impl Inventory {
    /// Reads an inventory file's text; errors name the file and the place.
    pub fn from_yaml(name: &str, text: &str) -> anyhow::Result<Inventory> {
        let file: InventoryFile =
            serde_saphyr::from_str(text).map_err(|error| anyhow::anyhow!("inventory {name}: {error}"))?;
        let mut inventory = Inventory::default();
        for (index, system) in file.systems.into_iter().enumerate() {
            if let Some(grade) = system.grade
                && !(1..=5).contains(&grade)
            {
                anyhow::bail!(
                    "inventory {name}: system `{}`: grade {grade} is not 1 to 5",
                    system.name
                );
            }
            for host in &system.hosts {
                let matcher = if let Ok(network) = host.parse::<IpNet>() {
                    HostMatcher::Network(network)
                } else if let Ok(address) = host.parse::<IpAddr>() {
                    HostMatcher::Network(IpNet::from(address))
                } else if host.contains('*') {
                    HostMatcher::Pattern(host.to_ascii_lowercase())
                } else {
                    HostMatcher::Name(host.to_ascii_lowercase())
                };
                inventory.hosts.push((matcher, index));
            }
            inventory.systems.push(System {
                name: system.name,
                agency: system.agency,
                grade: system.grade,
            });
        }
        Ok(inventory)
    }

    /// The system a host (name or address) belongs to.
    pub fn lookup(&self, host: &str) -> Option<&System> {
        let lowered = host.to_ascii_lowercase();
        let address = host.parse::<IpAddr>().ok();
        self.hosts
            .iter()
            .find(|(matcher, _)| match matcher {
                HostMatcher::Name(name) => *name == lowered,
                HostMatcher::Pattern(pattern) => wildcard(pattern.as_bytes(), lowered.as_bytes()),
                HostMatcher::Network(network) => address.is_some_and(|address| network.contains(&address)),
            })
            .map(|(_, index)| &self.systems[*index])
    }

    /// Fills the event's agency and system (and `haidang.grade`) from its host.
    pub fn enrich(&self, event: &mut Event) {
        let Some(host) = event.host.as_deref() else { return };
        if let Some(system) = self.lookup(host) {
            event.agency = Some(system.agency.clone());
            event.system = Some(system.name.clone());
            if let Some(grade) = system.grade {
                event.fields.push("haidang.grade", i64::from(grade));
            }
        }
    }
}

fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| wildcard(rest, &text[skip..])),
        Some((first, rest)) => text.first() == Some(first) && wildcard(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY: &str = "systems:\n  - name: Cổng dịch vụ công\n    agency: Sở KH&CN\n    grade: 3\n    hosts: [portal.haiphong.gov.vn, 'web-dvc-*', 10.10.1.0/24]\n  - name: Thư điện tử\n    agency: Văn phòng UBND\n    hosts: [mail01]\n";

    #[test]
    fn hosts_match_by_name_pattern_and_network() {
        let inventory = Inventory::from_yaml("inventory.yml", INVENTORY).unwrap();
        assert_eq!(inventory.lookup("PORTAL.haiphong.gov.vn").unwrap().grade, Some(3));
        assert_eq!(inventory.lookup("web-dvc-02").unwrap().name, "Cổng dịch vụ công");
        assert_eq!(inventory.lookup("10.10.1.77").unwrap().agency, "Sở KH&CN");
        assert_eq!(inventory.lookup("mail01").unwrap().grade, None);
        assert!(inventory.lookup("10.10.2.1").is_none());
    }

    #[test]
    fn enrich_sets_agency_system_and_grade() {
        let inventory = Inventory::from_yaml("inventory.yml", INVENTORY).unwrap();
        let mut event = Event {
            host: Some("web-dvc-01".into()),
            ..Event::default()
        };
        inventory.enrich(&mut event);
        assert_eq!(event.agency.as_deref(), Some("Sở KH&CN"));
        assert_eq!(
            event.fields.get("haidang.grade"),
            Some(&haidang_event::Value::Int(3))
        );
    }

    #[test]
    fn errors_name_the_file_and_reject_bad_grades() {
        let error = Inventory::from_yaml("inv.yml", "systems:\n  - name: x\n    agency: y\n    grade: 9\n")
            .unwrap_err();
        assert!(
            error.to_string().contains("inv.yml") && error.to_string().contains("grade 9"),
            "{error}"
        );
        let error = Inventory::from_yaml(
            "inv.yml",
            "systems:\n  - name: x\n    agency: y\n    colour: red\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("inv.yml"), "{error}");
    }
}

#[cfg(test)]
mod example {
    /// The example inventory shipped in `deploy/` must stay valid.
    #[test]
    fn deploy_example_parses() {
        let text = include_str!("../../deploy/inventory.example.yml");
        let inventory = super::Inventory::from_yaml("deploy/inventory.example.yml", text).unwrap();
        assert_eq!(inventory.lookup("fw-core-01").unwrap().grade, Some(4));
    }
}
