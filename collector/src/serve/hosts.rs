//! Keeps the hosts table ([`HostTable`], what the Hosts page shows) in the store: loaded at start,
//! the rows that changed saved every few seconds and at shutdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::api::{HostSeen, HostTable};
use crate::store::{HostRecord, Store};

/// How often changed rows are written.
const SAVE_INTERVAL: Duration = Duration::from_secs(5);

/// The saved hosts, as the pipeline keeps them.
pub(crate) fn load(store: &Store) -> anyhow::Result<BTreeMap<String, HostSeen>> {
    Ok(store
        .hosts()?
        .into_iter()
        .map(|record| {
            let seen = HostSeen {
                last_seen_nanos: record.last_seen_nanos,
                source_types: record.source_types.into_iter().collect(),
                agency: record.agency,
                system: record.system,
                grade: record.grade,
            };
            (record.name, seen)
        })
        .collect())
}

/// Starts the thread that saves the table until `stop` is set, then saves once more and ends.
pub(crate) fn spawn_saver(
    table: HostTable,
    store: Store,
    saved: BTreeMap<String, HostSeen>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("hosts".into()).spawn(move || {
        let mut saved = saved;
        let mut last_save = Instant::now();
        loop {
            let stopping = stop.load(Ordering::Acquire);
            if stopping || last_save.elapsed() >= SAVE_INTERVAL {
                save_changes(&table, &store, &mut saved);
                last_save = Instant::now();
            }
            if stopping {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

/// Writes the rows that differ from `saved`, and remembers them once written.
fn save_changes(table: &HostTable, store: &Store, saved: &mut BTreeMap<String, HostSeen>) {
    let changed: Vec<(String, HostSeen)> = {
        let Ok(table) = table.lock() else { return };
        table
            .iter()
            .filter(|(name, seen)| saved.get(*name) != Some(seen))
            .map(|(name, seen)| (name.clone(), seen.clone()))
            .collect()
    };
    if changed.is_empty() {
        return;
    }
    let records: Vec<HostRecord> = changed
        .iter()
        .map(|(name, seen)| HostRecord {
            name: name.clone(),
            last_seen_nanos: seen.last_seen_nanos,
            source_types: seen.source_types.iter().cloned().collect(),
            agency: seen.agency.clone(),
            system: seen.system.clone(),
            grade: seen.grade,
        })
        .collect();
    match store.save_hosts(&records) {
        Ok(()) => saved.extend(changed),
        // Kept in memory and tried again at the next interval.
        Err(error) => eprintln!("haidang: cannot save the hosts table: {error}"),
    }
}
