//! Keeps the hosts table ([`HostTable`], what the Hosts page shows) in the store: loaded at start
//! (`Store::hosts`), the rows that changed saved every few seconds and at shutdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::api::{HostSeen, HostTable};
use crate::store::Store;

/// How often changed rows are written.
const SAVE_INTERVAL: Duration = Duration::from_secs(5);

/// Starts the thread that saves the table until `stop` is set, then saves once more and ends.
/// `saved` is what the store already holds.
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
    let changed: BTreeMap<String, HostSeen> = {
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
    match store.save_hosts(&changed) {
        Ok(()) => saved.extend(changed),
        // Kept in memory and tried again at the next interval.
        Err(error) => eprintln!("haidang: cannot save the hosts table: {error}"),
    }
}
