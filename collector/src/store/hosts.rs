//! The hosts the collector has received events from, so the Hosts page survives a restart.
//!
//! The pipeline keeps the live table in memory (it changes with every batch); the collector saves
//! the rows that changed every few seconds and at shutdown ([`Store::save_hosts`]), and loads
//! them at start ([`Store::hosts`]).

use rusqlite::params;

use super::{Durability, Store, StoreError};

/// What the collector knows of one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostRecord {
    /// The host name, as events name it.
    pub name: String,
    /// When its newest event was received, nanoseconds since the Unix epoch.
    pub last_seen_nanos: i64,
    /// The source types seen from it, sorted.
    pub source_types: Vec<String>,
    /// Its agency, information system and grade, from the inventory when its events came in.
    pub agency: Option<String>,
    pub system: Option<String>,
    pub grade: Option<u8>,
}

impl Store {
    /// Writes (inserts or replaces) these hosts. Like alert matches they are machine data,
    /// committed without a sync of their own (see the module's durability note).
    pub fn save_hosts(&self, hosts: &[HostRecord]) -> Result<(), StoreError> {
        if hosts.is_empty() {
            return Ok(());
        }
        self.lock().write(Durability::Relaxed, |transaction| {
            let mut statement = transaction.prepare_cached(
                "INSERT INTO hosts (name, last_seen, source_types, agency, system, grade)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (name) DO UPDATE SET
                   last_seen = max(last_seen, excluded.last_seen),
                   source_types = excluded.source_types,
                   agency = excluded.agency, system = excluded.system, grade = excluded.grade",
            )?;
            for host in hosts {
                let source_types = serde_json::to_string(&host.source_types)
                    .map_err(|error| StoreError::Corrupt(format!("host {}: {error}", host.name)))?;
                statement.execute(params![
                    host.name,
                    host.last_seen_nanos,
                    source_types,
                    host.agency,
                    host.system,
                    host.grade,
                ])?;
            }
            Ok(())
        })
    }

    /// Every saved host, by name.
    pub fn hosts(&self) -> Result<Vec<HostRecord>, StoreError> {
        self.lock().read(|transaction| {
            let mut statement = transaction.prepare(
                "SELECT name, last_seen, source_types, agency, system, grade FROM hosts ORDER BY name",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<u8>>(5)?,
                ))
            })?;
            let mut hosts = Vec::new();
            for row in rows {
                let (name, last_seen_nanos, source_types, agency, system, grade) = row?;
                let source_types = serde_json::from_str(&source_types).map_err(|error| {
                    StoreError::Corrupt(format!("host {name}: source types {source_types:?}: {error}"))
                })?;
                hosts.push(HostRecord {
                    name,
                    last_seen_nanos,
                    source_types,
                    agency,
                    system,
                    grade,
                });
            }
            Ok(hosts)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support;
    use super::*;

    fn host(name: &str, last_seen_nanos: i64, source_types: &[&str]) -> HostRecord {
        HostRecord {
            name: name.into(),
            last_seen_nanos,
            source_types: source_types.iter().map(|&text| text.to_owned()).collect(),
            agency: Some("Sở A".into()),
            system: Some("Cổng dịch vụ công".into()),
            grade: Some(3),
        }
    }

    #[test]
    fn hosts_survive_reopening_and_updates_replace_them() {
        let directory = tempfile::tempdir().unwrap();
        {
            let (store, _) = test_support::open(directory.path());
            store
                .save_hosts(&[host("web-a1", 10, &["sshd"]), host("mail-b1", 20, &[])])
                .unwrap();
            let mut moved = host("web-a1", 30, &["nginx", "sshd"]);
            moved.agency = None;
            moved.system = None;
            moved.grade = None;
            store.save_hosts(&[moved]).unwrap();
            // An older save never moves last_seen back.
            store.save_hosts(&[host("mail-b1", 5, &["postfix"])]).unwrap();
        }
        let (store, _) = test_support::open(directory.path());
        let hosts = store.hosts().unwrap();
        assert_eq!(
            hosts,
            vec![
                host("mail-b1", 20, &["postfix"]),
                HostRecord {
                    name: "web-a1".into(),
                    last_seen_nanos: 30,
                    source_types: vec!["nginx".into(), "sshd".into()],
                    agency: None,
                    system: None,
                    grade: None,
                },
            ]
        );
    }
}
