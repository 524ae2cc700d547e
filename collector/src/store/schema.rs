//! The schema, its versions and the connection settings.
//!
//! `schema_version` holds one row per applied migration. A migration is appended to
//! [`MIGRATIONS`], never edited: a file of version N gets migrations N+1.. at open. A file newer
//! than this build is refused rather than misread.

use std::time::Duration;

use rusqlite::params;

use super::{Durability, Inner, StoreError};

/// The migrations, in order; the version of a file is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: alerts, rules, users, sessions, login limits, audit.
    "
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        rule_id TEXT NOT NULL,
        rule_title TEXT NOT NULL,
        level TEXT NOT NULL,
        tags TEXT NOT NULL,              -- JSON array of strings
        kind TEXT NOT NULL,              -- detection | correlation
        host TEXT,
        agency TEXT,
        system TEXT,
        grade INTEGER,
        group_key TEXT NOT NULL,
        first_seen INTEGER NOT NULL,     -- nanoseconds since the epoch
        last_seen INTEGER NOT NULL,
        count INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'assigned', 'closed')),
        assignee TEXT,
        event_ids TEXT NOT NULL          -- JSON array, the first 100 matched events
    );
    -- Folding looks for the open alert of a rule and group key.
    CREATE INDEX alerts_open_group ON alerts (rule_id, group_key, last_seen)
        WHERE status <> 'closed';
    -- Listing: newest first, optionally by status or agency.
    CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
    CREATE INDEX alerts_status ON alerts (status, last_seen, id);
    CREATE INDEX alerts_agency ON alerts (agency, last_seen, id);

    CREATE TABLE alert_history (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL REFERENCES alerts (id),
        time INTEGER NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        assignee TEXT,
        comment TEXT NOT NULL
    );
    CREATE INDEX alert_history_alert ON alert_history (alert_id, id);

    CREATE TABLE rule_hits (
        rule_id TEXT PRIMARY KEY,
        hits INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE rule_state (
        rule_id TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        changed_by TEXT NOT NULL,
        changed_at INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE users (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        password_hash TEXT NOT NULL,     -- PHC string, argon2id
        role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'agency_viewer')),
        agencies TEXT NOT NULL,          -- JSON array of strings
        created_at INTEGER NOT NULL,
        password_changed_at INTEGER NOT NULL
    );

    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,     -- SHA-256 of the token; the token itself is not stored
        user_name TEXT NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        address TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_user ON sessions (user_name);

    -- Login failures of the last minutes, by key ('user:NAME' or 'address:ADDRESS').
    CREATE TABLE login_failures (
        key TEXT NOT NULL,
        time INTEGER NOT NULL
    );
    CREATE INDEX login_failures_key ON login_failures (key, time);
    CREATE TABLE login_locks (
        key TEXT PRIMARY KEY,
        locked_until INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        user TEXT NOT NULL,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL,
        previous_hash BLOB NOT NULL,     -- the previous row's hash (zeros for the first)
        hash BLOB NOT NULL               -- SHA-256 of previous_hash and this row's content
    );
    ",
    // 2: the hosts events came from (the Hosts page across restarts).
    "
    CREATE TABLE hosts (
        name TEXT PRIMARY KEY,
        last_seen INTEGER NOT NULL,      -- nanoseconds since the Unix epoch
        source_types TEXT NOT NULL,      -- JSON array of strings, sorted
        agency TEXT,
        system TEXT,
        grade INTEGER
    );
    ",
];

/// Statements run at every open, after the migrations: the audit log's guards. Created again if
/// someone dropped them (the hash chain still shows what was changed meanwhile).
const GUARDS: &str = "
    CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// The schema version this build writes.
pub(super) fn supported_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Sets up a fresh connection and migrates the file.
pub(super) fn prepare(inner: &mut Inner) -> Result<(), StoreError> {
    let connection = &inner.connection;
    // Another process (the `haidang users` command next to `haidang serve`) may hold the write
    // lock for a moment.
    connection.busy_timeout(Duration::from_secs(5))?;
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!("journal mode {mode} instead of wal")));
    }
    // FULL until a write asks for less (see `Durability`); a checkpoint every 10,000 pages
    // (40 MiB of WAL) rather than 1,000, since each checkpoint syncs both files.
    connection.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA wal_autocheckpoint = 10000;",
    )?;
    inner.durability = Durability::Synced;

    inner.write(Durability::Synced, |transaction| {
        transaction.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY,
                applied_at INTEGER NOT NULL
            )",
        )?;
        let found: i64 = transaction.query_row(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            [],
            |row| row.get(0),
        )?;
        let supported = supported_version();
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        for (version, migration) in (1..).zip(MIGRATIONS).skip(usize::try_from(found).unwrap_or(0)) {
            transaction.execute_batch(migration)?;
            transaction.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?1, unixepoch())",
                params![version],
            )?;
        }
        transaction.execute_batch(GUARDS)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::super::{Scope, Store, StoreError, test_support};
    use super::*;

    #[test]
    fn schema_reopen_keeps_data_and_does_not_migrate_twice() {
        let directory = tempfile::tempdir().unwrap();
        let path = {
            let (store, _) = test_support::open(directory.path());
            store
                .create_user("alice", "correct horse battery", super::super::Role::Analyst, &[])
                .unwrap();
            store
                .record_match(&super::super::alerts::tests::sample_match("r1", 0))
                .unwrap();
            store.path().to_path_buf()
        };
        let (store, _) = test_support::open(directory.path());
        assert_eq!(store.path(), path);
        assert_eq!(store.users().unwrap().len(), 1);
        let (alerts, _) = store.alerts(&Default::default(), &Scope::All).unwrap();
        assert_eq!(alerts.len(), 1);
        let versions: i64 = store
            .lock()
            .connection
            .query_row("SELECT count(*) FROM schema_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(versions, supported_version());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.db");
        drop(Store::open(&path).unwrap());
        let connection = Connection::open(&path).unwrap();
        connection
            .execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (999, 0)",
                [],
            )
            .unwrap();
        drop(connection);
        let error = Store::open(&path).unwrap_err();
        assert!(
            matches!(error, StoreError::SchemaTooNew { found: 999, .. }),
            "{error}"
        );
    }
}
