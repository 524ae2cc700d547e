//! The audit log: append-only and hash-chained.
//!
//! Triggers abort any UPDATE or DELETE of the `audit` table, so the store cannot change it by
//! mistake. Someone with the file can drop them; the chain shows what they did then: each row
//! stores the previous row's hash and `SHA-256(previous hash ‖ its own content)`, so an edited
//! row fails its own hash and a removed row breaks its successor's link. (Cutting rows off the
//! end leaves a valid shorter chain; ship the entries elsewhere to catch that too.)

use ring::digest::{Context, SHA256};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Durability, Store, StoreError, serialize_time};

/// The most entries [`Store::audit_entries`] returns at once.
pub const MAX_AUDIT_ENTRIES: usize = 10_000;
/// Each text field of an entry is cut to this many characters (they may carry attacker input,
/// such as the user name of a failed login).
pub const MAX_FIELD_CHARS: usize = 1024;
/// The `previous_hash` of the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// One audited action. Serialises to the API's `AuditEntry`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When.
    #[serde(rename = "time", serialize_with = "serialize_time")]
    pub time_nanos: i64,
    /// Who (the user name tried, for a failed login).
    pub user: String,
    /// The client address.
    pub address: String,
    /// What: login, login_failed, logout, search, view_event, export, acknowledge, assign, close,
    /// reopen, comment, rule_enable, rule_disable.
    pub action: String,
    /// On what (an alert id, a rule id, a query).
    pub target: String,
    /// Anything else worth keeping.
    pub detail: String,
}

impl AuditEntry {
    /// The entry with each text field cut to [`MAX_FIELD_CHARS`].
    fn bounded(&self) -> AuditEntry {
        let cut = |text: &str| text.chars().take(MAX_FIELD_CHARS).collect::<String>();
        AuditEntry {
            time_nanos: self.time_nanos,
            user: cut(&self.user),
            address: cut(&self.address),
            action: cut(&self.action),
            target: cut(&self.target),
            detail: cut(&self.detail),
        }
    }
}

/// `SHA-256(previous ‖ time ‖ each field as length ‖ bytes)`: lengths keep field boundaries
/// unambiguous.
fn chain_hash(previous: &[u8], entry: &AuditEntry) -> Vec<u8> {
    let mut context = Context::new(&SHA256);
    context.update(previous);
    context.update(&entry.time_nanos.to_be_bytes());
    for field in [
        &entry.user,
        &entry.address,
        &entry.action,
        &entry.target,
        &entry.detail,
    ] {
        context.update(&u64::try_from(field.len()).unwrap_or(u64::MAX).to_be_bytes());
        context.update(field.as_bytes());
    }
    context.finish().as_ref().to_vec()
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        time_nanos: row.get(0)?,
        user: row.get(1)?,
        address: row.get(2)?,
        action: row.get(3)?,
        target: row.get(4)?,
        detail: row.get(5)?,
    })
}

impl Store {
    /// Appends an entry to the audit log (text fields cut to [`MAX_FIELD_CHARS`]), synced to
    /// disk before returning.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let entry = entry.bounded();
        self.lock().write(Durability::Synced, |transaction| {
            // The IMMEDIATE transaction holds the write lock: no other writer, in this process
            // or another, can append between reading the last hash and inserting.
            let previous: Vec<u8> = transaction
                .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |row| {
                    row.get(0)
                })
                .optional()?
                .unwrap_or_else(|| GENESIS.to_vec());
            let hash = chain_hash(&previous, &entry);
            transaction.execute(
                "INSERT INTO audit (time, user, address, action, target, detail, previous_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    entry.time_nanos,
                    entry.user,
                    entry.address,
                    entry.action,
                    entry.target,
                    entry.detail,
                    previous,
                    hash
                ],
            )?;
            Ok(())
        })
    }

    /// The newest `limit` entries (at most [`MAX_AUDIT_ENTRIES`]), newest first.
    pub fn audit_entries(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::try_from(limit.min(MAX_AUDIT_ENTRIES)).unwrap_or(0);
        self.lock().read(|transaction| {
            let mut statement = transaction.prepare_cached(
                "SELECT time, user, address, action, target, detail FROM audit
                 ORDER BY id DESC LIMIT ?1",
            )?;
            let entries = statement
                .query_map(params![limit], entry_from_row)?
                .collect::<Result<_, _>>()?;
            Ok(entries)
        })
    }

    /// Checks the whole chain: `Ok(Ok(entries))` if it holds, `Ok(Err(description))` naming the
    /// first entry (by row id) whose link or hash is wrong.
    pub fn verify_audit_chain(&self) -> Result<Result<u64, String>, StoreError> {
        self.lock().read(|transaction| {
            let mut statement = transaction.prepare(
                "SELECT time, user, address, action, target, detail, previous_hash, hash, id
                 FROM audit ORDER BY id",
            )?;
            let mut rows = statement.query([])?;
            let mut previous = GENESIS.to_vec();
            let mut count = 0_u64;
            while let Some(row) = rows.next()? {
                let entry = entry_from_row(row)?;
                let linked: Vec<u8> = row.get(6)?;
                let hash: Vec<u8> = row.get(7)?;
                let id: i64 = row.get(8)?;
                if linked != previous {
                    return Ok(Err(format!(
                        "audit entry {id}: does not link to the entry before it (one was removed or edited)"
                    )));
                }
                if hash != chain_hash(&previous, &entry) {
                    return Ok(Err(format!(
                        "audit entry {id}: content does not match its hash (edited)"
                    )));
                }
                previous = hash;
                count += 1;
            }
            Ok(Ok(count))
        })
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::super::test_support;
    use super::*;

    fn entry(index: i64) -> AuditEntry {
        AuditEntry {
            time_nanos: test_support::START + index,
            user: "alice".to_owned(),
            address: "10.0.0.1".to_owned(),
            action: "close".to_owned(),
            target: format!("alert {index}"),
            detail: String::new(),
        }
    }

    #[test]
    fn audit_entries_come_newest_first() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        for index in 0..5 {
            store.audit(&entry(index)).unwrap();
        }
        let entries = store.audit_entries(3).unwrap();
        assert_eq!(entries, [entry(4), entry(3), entry(2)]);
        assert_eq!(store.verify_audit_chain().unwrap(), Ok(5));
        let json = serde_json::to_value(&entries[0]).unwrap();
        assert_eq!(json["time"], "2023-11-14T22:13:20.000000004Z");
    }

    #[test]
    fn audit_fields_are_bounded() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        let mut long = entry(0);
        long.user = "x".repeat(100_000);
        store.audit(&long).unwrap();
        assert_eq!(store.audit_entries(1).unwrap()[0].user.len(), MAX_FIELD_CHARS);
        assert_eq!(store.verify_audit_chain().unwrap(), Ok(1));
    }

    #[test]
    fn audit_log_refuses_update_and_delete() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        store.audit(&entry(0)).unwrap();
        let connection = Connection::open(store.path()).unwrap();
        let update = connection
            .execute("UPDATE audit SET detail = 'nothing happened'", [])
            .unwrap_err();
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = connection.execute("DELETE FROM audit", []).unwrap_err();
        assert!(delete.to_string().contains("append-only"), "{delete}");
        assert_eq!(store.audit_entries(10).unwrap(), [entry(0)]);
    }

    #[test]
    fn verify_audit_chain_finds_an_edited_row() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        for index in 0..4 {
            store.audit(&entry(index)).unwrap();
        }
        let connection = Connection::open(store.path()).unwrap();
        connection
            .execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
            .unwrap();
        connection
            .execute("UPDATE audit SET user = 'mallory' WHERE id = 2", [])
            .unwrap();
        let broken = store.verify_audit_chain().unwrap().unwrap_err();
        assert!(
            broken.contains("entry 2") && broken.contains("edited"),
            "{broken}"
        );

        // Putting the content back repairs it; removing a row breaks its successor's link.
        connection
            .execute("UPDATE audit SET user = 'alice' WHERE id = 2", [])
            .unwrap();
        assert_eq!(store.verify_audit_chain().unwrap(), Ok(4));
        connection.execute("DELETE FROM audit WHERE id = 3", []).unwrap();
        let broken = store.verify_audit_chain().unwrap().unwrap_err();
        assert!(broken.contains("entry 4") && broken.contains("link"), "{broken}");
    }

    #[test]
    fn reopening_restores_dropped_guards() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        store.audit(&entry(0)).unwrap();
        let connection = Connection::open(store.path()).unwrap();
        connection.execute_batch("DROP TRIGGER audit_no_delete").unwrap();
        drop(store);
        let (_store, _) = test_support::open(directory.path());
        assert!(connection.execute("DELETE FROM audit", []).is_err());
    }
}
