//! The collector's durable state: alerts and their triage, rule hits and rule switches, users,
//! sessions, the audit log and the hosts seen, in one embedded SQLite file.
//!
//! [`Store`] is a cheap handle (clone it freely) around one connection behind a mutex. Every
//! method is one transaction. The API layer maps [`StoreError`] to HTTP answers; everything the
//! analysts see is filtered by a [`Scope`] inside the SQL (`agency IN (...)`), so an object of
//! another agency is exactly as absent as one that does not exist.
//!
//! - Alerts ([`Store::record_match`]): repeated matches of one rule on one group key within a
//!   window fold into one [`Alert`]; a closed alert is never folded into.
//! - Users and sessions ([`Store::login`], [`Store::session`]): argon2id password hashes, a login
//!   rate limit per user name and per client address, session tokens stored only as SHA-256.
//! - Audit ([`Store::audit`]): append-only (triggers refuse UPDATE and DELETE) and hash-chained
//!   ([`Store::verify_audit_chain`] finds an edited row).
//!
//! Durability: WAL journal mode. Human actions (triage, users, sessions, audit, rule switches)
//! commit with `synchronous = FULL`, so an answered request survives a power cut. Alert matches
//! commit with `synchronous = NORMAL`: they arrive by thousands a second, a power cut can lose
//! only the last moments of them (never corrupt the file), and the next FULL commit makes them
//! durable too, since it syncs the whole WAL.
//!
//! The store writes no audit entries of its own: the API layer, which knows the client address,
//! writes one per action.

mod alerts;
mod audit;
mod auth;
mod hosts;
mod schema;

use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use alerts::{
    Alert, AlertFilter, AlertMatch, HistoryEntry, MAX_COMMENT_BYTES, MAX_EVENT_IDS, MAX_PAGE, Status, Triage,
};
pub use audit::{AuditEntry, MAX_AUDIT_ENTRIES, MAX_FIELD_CHARS};
pub use auth::{
    FAILURE_WINDOW_NANOS, LOCK_NANOS, Login, MAX_FAILURES, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, Role,
    SESSION_ABSOLUTE_NANOS, SESSION_IDLE_NANOS, Session, User,
};
pub use hosts::HostSeen;

/// What a user may see: the index's scope, so one value filters searches and alerts alike.
/// `Scope::All` sees every alert, including those with no agency; `Scope::Agencies` only alerts
/// of those agencies (none with an empty list).
pub use crate::index::Scope;

/// Where the store takes the current time from (tests use a [`ManualClock`]).
pub trait Clock: Send + Sync {
    /// Nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> i64;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `nanos` since the epoch.
    pub fn new(nanos: i64) -> ManualClock {
        ManualClock {
            nanos: AtomicI64::new(nanos),
        }
    }

    /// Moves the clock to `nanos`.
    pub fn set(&self, nanos: i64) {
        self.nanos.store(nanos, Ordering::SeqCst);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_nanos()).unwrap_or(i64::MAX);
        self.nanos.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> i64 {
        self.nanos.load(Ordering::SeqCst)
    }
}

/// How expensive password hashes are (argon2id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PasswordCost {
    /// The OWASP recommendation for argon2id: 19 MiB of memory, 2 passes, 1 lane.
    #[default]
    Recommended,
    /// The smallest parameters argon2 accepts: for tests only, where hashing must be fast.
    Minimal,
}

/// How [`Store::open_with`] opens the store.
#[derive(Clone)]
pub struct StoreOptions {
    /// Where the current time comes from.
    pub clock: Arc<dyn Clock>,
    /// The cost of new password hashes (existing hashes keep theirs).
    pub password_cost: PasswordCost,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            clock: Arc::new(SystemClock),
            password_cost: PasswordCost::Recommended,
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("StoreOptions")
            .field("password_cost", &self.password_cost)
            .finish_non_exhaustive()
    }
}

/// An error of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be created or opened.
    #[error("cannot open the store {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// SQLite refused or failed a statement.
    #[error("store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer version of the collector.
    #[error("the store schema is version {found}, newer than this collector's {supported}")]
    SchemaTooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A stored value does not decode (edited by hand, or a bug).
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// A pagination cursor that this store did not give out.
    #[error("invalid cursor")]
    InvalidCursor,
    /// A triage action that does not apply to the alert's status.
    #[error("cannot {action} an alert that is {status}")]
    InvalidTransition {
        /// The alert's status.
        status: Status,
        /// The refused action.
        action: &'static str,
    },
    /// An argument the store refuses (the message says which and why).
    #[error("{0}")]
    InvalidInput(String),
    /// A password too weak to set.
    #[error("weak password: {0}")]
    WeakPassword(String),
    /// A user of that name (compared without case) exists.
    #[error("user {0} already exists")]
    UserExists(String),
    /// No user of that name.
    #[error("no user named {0}")]
    UnknownUser(String),
    /// Argon2 failed to hash or to read a stored hash.
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    /// The system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// The commit durability of a write transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Durability {
    /// `synchronous = FULL`: the WAL is synced at commit.
    Synced,
    /// `synchronous = NORMAL`: the WAL is synced at checkpoints (and by the next synced commit).
    Relaxed,
}

/// The connection and the durability it is set to.
struct Inner {
    connection: Connection,
    durability: Durability,
}

impl Inner {
    /// Runs `body` in an IMMEDIATE transaction (the write lock is taken at the start, so two
    /// processes on one file, such as `haidang serve` and `haidang users add`, queue rather than
    /// fail on a lock upgrade) committed with `durability`.
    fn write<T>(
        &mut self,
        durability: Durability,
        body: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.durability != durability {
            let pragma = match durability {
                Durability::Synced => "PRAGMA synchronous = FULL",
                Durability::Relaxed => "PRAGMA synchronous = NORMAL",
            };
            self.connection.execute_batch(pragma)?;
            self.durability = durability;
        }
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = body(&transaction)?;
        transaction.commit()?;
        Ok(value)
    }

    /// Runs `body` in a read transaction: one consistent snapshot for several statements.
    fn read<T>(
        &mut self,
        body: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Deferred)?;
        let value = body(&transaction)?;
        transaction.commit()?;
        Ok(value)
    }
}

/// The collector's durable state. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    path: Arc<PathBuf>,
    clock: Arc<dyn Clock>,
    password_cost: PasswordCost,
    /// A hash of a random password, verified against for unknown user names so that a login
    /// takes about as long whether the user exists or not. Made on first need: hashing costs.
    dummy_hash: Arc<OnceLock<String>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store at `path` (created if missing, mode 0600 on Unix: it holds password
    /// hashes) with the system clock and recommended password hashing, and brings its schema
    /// up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Opens the store at `path` with `options`.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        create_private_file(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let connection = Connection::open(path)?;
        let mut inner = Inner {
            connection,
            durability: Durability::Synced,
        };
        schema::prepare(&mut inner)?;
        Ok(Store {
            inner: Arc::new(Mutex::new(inner)),
            path: Arc::new(path.to_path_buf()),
            clock: options.clock,
            password_cost: options.password_cost,
            dummy_hash: Arc::new(OnceLock::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection. A panic while it was held leaves nothing half-written (the transaction
    /// rolls back as it unwinds), so a poisoned lock is taken over rather than passed on.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> i64 {
        self.clock.now_nanos()
    }
}

/// Creates `path` readable by its owner only, if it does not exist; SQLite gives its `-wal` and
/// `-shm` files the same permissions.
fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// The SQL condition and arguments that keep `column` within `scope`.
fn scope_condition(scope: &Scope, column: &str, arguments: &mut Vec<rusqlite::types::Value>) -> String {
    match scope {
        Scope::All => "1".to_owned(),
        Scope::Agencies(agencies) if agencies.is_empty() => "0".to_owned(),
        Scope::Agencies(agencies) => {
            arguments.extend(agencies.iter().cloned().map(rusqlite::types::Value::Text));
            let marks = vec!["?"; agencies.len()].join(", ");
            format!("{column} IN ({marks})")
        }
    }
}

/// `nanos` since the epoch as RFC 3339 (UTC).
fn rfc3339(nanos: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Serialises nanoseconds since the epoch as an RFC 3339 string.
fn serialize_time<S: serde::Serializer>(nanos: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*nanos))
}

/// A JSON array of strings from column `index`.
fn json_strings(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(error))
    })
}

/// A name from column `index` parsed into one of the store's enums.
fn parsed<T>(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr<Err = UnknownName>,
{
    let text: String = row.get(index)?;
    text.parse().map_err(|error: UnknownName| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(error))
    })
}

/// A name that is not one of an enum's (a status, role or triage action).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownName {
    /// What was being named ("status", "role", "triage action").
    pub kind: &'static str,
    /// The name given, cut to 64 characters.
    pub value: String,
}

impl UnknownName {
    fn new(kind: &'static str, value: &str) -> UnknownName {
        UnknownName {
            kind,
            value: value.chars().take(64).collect(),
        }
    }
}

#[cfg(test)]
mod test_support {
    use std::path::Path;
    use std::sync::Arc;

    use super::{ManualClock, PasswordCost, Store, StoreOptions};

    /// 2023-11-14T22:13:20Z.
    pub(super) const START: i64 = 1_700_000_000_000_000_000;

    /// A store in `directory` with a manual clock and cheap password hashes.
    pub(super) fn open(directory: &Path) -> (Store, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(START));
        let options = StoreOptions {
            clock: clock.clone(),
            password_cost: PasswordCost::Minimal,
        };
        let store = Store::open_with(&directory.join("state.db"), options).expect("open store");
        (store, clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Store>();
    }

    #[test]
    fn open_uses_wal_and_creates_a_private_file() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        let mode: String = store
            .lock()
            .connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let permissions = std::fs::metadata(store.path()).unwrap().permissions();
            assert_eq!(permissions.mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn open_fails_with_the_path_when_the_directory_is_missing() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("missing").join("state.db");
        let error = Store::open(&path).unwrap_err();
        assert!(matches!(error, StoreError::Open { .. }), "{error}");
        assert!(error.to_string().contains("missing"), "{error}");
    }

    #[test]
    fn scope_condition_lists_agencies_and_sees_nothing_without_any() {
        let mut arguments = Vec::new();
        assert_eq!(scope_condition(&Scope::All, "agency", &mut arguments), "1");
        assert_eq!(
            scope_condition(&Scope::Agencies(vec![]), "agency", &mut arguments),
            "0"
        );
        let agencies = Scope::Agencies(vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(
            scope_condition(&agencies, "agency", &mut arguments),
            "agency IN (?, ?)"
        );
        assert_eq!(arguments.len(), 2);
    }

    #[test]
    fn rfc3339_formats_nanoseconds() {
        assert_eq!(rfc3339(test_support::START), "2023-11-14T22:13:20Z");
        assert_eq!(
            rfc3339(test_support::START + 5_000_000),
            "2023-11-14T22:13:20.005Z"
        );
    }
}
