//! The hosts the collector has received events from, so the Hosts page survives a restart.
//!
//! The pipeline keeps the live table in memory (it changes with every batch); the collector saves
//! the rows that changed every few seconds and at shutdown ([`Store::save_hosts`]), and loads
//! them at start ([`Store::hosts`]).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params;

use super::{Durability, Store, StoreError};

/// What the collector knows of one host (the pipeline's live table holds these by host name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSeen {
    /// When its newest event was received, nanoseconds since the Unix epoch.
    pub last_seen_nanos: i64,
    /// The source types seen from it.
    pub source_types: BTreeSet<String>,
    /// Its agency, if the inventory knows it.
    pub agency: Option<String>,
    /// Its information system.
    pub system: Option<String>,
    /// The system's grade.
    pub grade: Option<u8>,
}

impl Store {
    /// Writes (inserts or replaces) these hosts, by name; `last_seen` never moves back. Like
    /// alert matches they are machine data, committed without a sync of their own (see the
    /// module's durability note).
    pub fn save_hosts<'a>(
        &self,
        hosts: impl IntoIterator<Item = (&'a String, &'a HostSeen)>,
    ) -> Result<(), StoreError> {
        self.lock().write(Durability::Relaxed, |transaction| {
            let mut statement = transaction.prepare_cached(
                "INSERT INTO hosts (name, last_seen, source_types, agency, system, grade)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (name) DO UPDATE SET
                   last_seen = max(last_seen, excluded.last_seen),
                   source_types = excluded.source_types,
                   agency = excluded.agency, system = excluded.system, grade = excluded.grade",
            )?;
            for (name, host) in hosts {
                let source_types = serde_json::to_string(&host.source_types)
                    .map_err(|error| StoreError::Corrupt(format!("host {name}: {error}")))?;
                statement.execute(params![
                    name,
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
    pub fn hosts(&self) -> Result<BTreeMap<String, HostSeen>, StoreError> {
        self.lock().read(|transaction| {
            let mut statement = transaction
                .prepare("SELECT name, last_seen, source_types, agency, system, grade FROM hosts")?;
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
            let mut hosts = BTreeMap::new();
            for row in rows {
                let (name, last_seen_nanos, source_types, agency, system, grade) = row?;
                let source_types = serde_json::from_str(&source_types).map_err(|error| {
                    StoreError::Corrupt(format!("host {name}: source types {source_types:?}: {error}"))
                })?;
                let host = HostSeen {
                    last_seen_nanos,
                    source_types,
                    agency,
                    system,
                    grade,
                };
                hosts.insert(name, host);
            }
            Ok(hosts)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support;
    use super::*;

    fn host(last_seen_nanos: i64, source_types: &[&str]) -> HostSeen {
        HostSeen {
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
        let (web, mail) = ("web-a1".to_owned(), "mail-b1".to_owned());
        let moved = HostSeen {
            agency: None,
            system: None,
            grade: None,
            ..host(30, &["nginx", "sshd"])
        };
        {
            let (store, _) = test_support::open(directory.path());
            store
                .save_hosts([(&web, &host(10, &["sshd"])), (&mail, &host(20, &[]))])
                .unwrap();
            store.save_hosts([(&web, &moved)]).unwrap();
            // An older save never moves last_seen back.
            store.save_hosts([(&mail, &host(5, &["postfix"]))]).unwrap();
        }
        let (store, _) = test_support::open(directory.path());
        let expected = BTreeMap::from([(mail, host(20, &["postfix"])), (web, moved)]);
        assert_eq!(store.hosts().unwrap(), expected);
    }
}
