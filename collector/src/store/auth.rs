//! Users, passwords, logins and sessions.
//!
//! Passwords are argon2id PHC strings. A login is refused without checking the password while
//! its user name or its client address is locked: 5 failures of either within 5 minutes lock it
//! for 5 minutes. Unknown user names are verified against a dummy hash, so they take about as
//! long as known ones. Session tokens are 32 random bytes (base64url); only their SHA-256 is
//! stored, so a copy of the database does not hold usable sessions.

use std::fmt;
use std::str::FromStr;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::{Durability, PasswordCost, Scope, Store, StoreError, UnknownName, json_strings, parsed};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted, in bytes (hashing cost must not be the attacker's choice).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Failures of one user name or one address within [`FAILURE_WINDOW_NANOS`] that lock it.
pub const MAX_FAILURES: i64 = 5;
/// The window failures are counted in: 5 minutes.
pub const FAILURE_WINDOW_NANOS: i64 = 5 * 60 * NANOS_PER_SECOND;
/// How long a lock lasts: 5 minutes.
pub const LOCK_NANOS: i64 = 5 * 60 * NANOS_PER_SECOND;
/// A session ends after this long unused: 8 hours.
pub const SESSION_IDLE_NANOS: i64 = 8 * 3600 * NANOS_PER_SECOND;
/// A session ends this long after login, used or not: 24 hours.
pub const SESSION_ABSOLUTE_NANOS: i64 = 24 * 3600 * NANOS_PER_SECOND;
/// A session's last use is written at most this often (reads need no write each time).
const SESSION_TOUCH_NANOS: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// Client addresses and user names are cut to this many characters in rate-limit keys.
const MAX_KEY_CHARS: usize = 256;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, rules and the audit log.
    Admin,
    /// Every agency's events and alerts, and triage.
    Analyst,
    /// The events and alerts of their agencies only, read-only.
    AgencyViewer,
}

impl Role {
    /// The name used in the API, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::AgencyViewer => "agency_viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    /// `admin`, `analyst`, or `agency_viewer` (also `agency-viewer`, for the command line).
    fn from_str(text: &str) -> Result<Role, UnknownName> {
        match text {
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "agency_viewer" | "agency-viewer" => Ok(Role::AgencyViewer),
            _ => Err(UnknownName::new("role", text)),
        }
    }
}

/// A user account (without its password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// The login name, as created.
    pub name: String,
    /// The role.
    pub role: Role,
    /// For agency viewers: the agencies they see (sorted); empty for the other roles.
    pub agencies: Vec<String>,
}

impl User {
    /// What the user may see.
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::Admin | Role::Analyst => Scope::All,
            Role::AgencyViewer => Scope::Agencies(self.agencies.clone()),
        }
    }
}

/// A logged-in session.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The secret the client presents (the cookie): 32 random bytes, base64url.
    pub token: String,
    /// The token the client echoes in `X-CSRF-Token` on requests that change state.
    pub csrf_token: String,
    /// When the session ends unless used again (never past 24 hours after login).
    pub expires_nanos: i64,
}

impl fmt::Debug for Session {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Session")
            .field("token", &"<secret>")
            .field("csrf_token", &"<secret>")
            .field("expires_nanos", &self.expires_nanos)
            .finish()
    }
}

/// The answer to a login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// Logged in.
    Ok(Session),
    /// Wrong user name or password.
    Denied,
    /// Too many failures for this user name or address: try again later, password unchecked.
    RateLimited {
        /// Seconds until the lock ends (at least 1).
        retry_after_seconds: u64,
    },
}

/// 32 random bytes, base64url without padding.
fn random_token(random: &SystemRandom) -> Result<String, StoreError> {
    let mut bytes = [0_u8; 32];
    random.fill(&mut bytes).map_err(|_| StoreError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn token_hash(token: &str) -> Vec<u8> {
    digest(&SHA256, token.as_bytes()).as_ref().to_vec()
}

fn argon2(cost: PasswordCost) -> Result<Argon2<'static>, StoreError> {
    let params = match cost {
        PasswordCost::Recommended => Params::new(19 * 1024, 2, 1, None),
        PasswordCost::Minimal => Params::new(Params::MIN_M_COST, 1, 1, None),
    }
    .map_err(|error| StoreError::PasswordHash(error.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// An argon2id PHC string for `password` with a fresh 16-byte salt.
fn hash_password(password: &str, cost: PasswordCost) -> Result<String, StoreError> {
    let mut salt = [0_u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| StoreError::Random)?;
    let hash = argon2(cost)?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|error| StoreError::PasswordHash(error.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash` (its own parameters are used). A hash that
/// does not parse verifies nothing.
fn verify_password(password: &str, hash: &str) -> bool {
    PasswordVerifier::<str>::verify_password(&Argon2::default(), password.as_bytes(), hash).is_ok()
}

/// Refuses names the CLI and the logs could not carry safely.
fn check_name(name: &str) -> Result<(), StoreError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "._@-".contains(character));
    if valid {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(
            "a user name is 1 to 64 of A-Z, a-z, 0-9, '.', '_', '@', '-', not starting with '-'".to_owned(),
        ))
    }
}

fn check_password(name: &str, password: &str) -> Result<(), StoreError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::WeakPassword(format!(
            "shorter than {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::WeakPassword(format!(
            "longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.eq_ignore_ascii_case(name) {
        return Err(StoreError::WeakPassword("the same as the user name".to_owned()));
    }
    Ok(())
}

/// The agencies, trimmed, sorted and without duplicates; only agency viewers have (and need)
/// them, so that no one believes an analyst is confined to an agency.
fn check_agencies(role: Role, agencies: &[String]) -> Result<Vec<String>, StoreError> {
    let mut cleaned: Vec<String> = agencies.iter().map(|agency| agency.trim().to_owned()).collect();
    cleaned.sort();
    cleaned.dedup();
    if cleaned
        .iter()
        .any(|agency| agency.is_empty() || agency.len() > 128)
    {
        return Err(StoreError::InvalidInput(
            "an agency name is 1 to 128 bytes".to_owned(),
        ));
    }
    match (role, cleaned.is_empty()) {
        (Role::AgencyViewer, true) => Err(StoreError::InvalidInput(
            "an agency viewer needs at least one agency".to_owned(),
        )),
        (Role::Admin | Role::Analyst, false) => Err(StoreError::InvalidInput(format!(
            "the {role} role sees every agency: agencies apply to agency viewers only"
        ))),
        _ => Ok(cleaned),
    }
}

/// The rate-limit keys of a login attempt.
fn limit_keys(name: &str, address: &str) -> [String; 2] {
    let name: String = name.to_lowercase().chars().take(MAX_KEY_CHARS).collect();
    let address: String = address.chars().take(MAX_KEY_CHARS).collect();
    [format!("user:{name}"), format!("address:{address}")]
}

/// Records a failed login under `keys`; a key with [`MAX_FAILURES`] in the window is locked.
fn record_failure(transaction: &Transaction<'_>, keys: &[String], now: i64) -> Result<(), StoreError> {
    transaction.execute(
        "DELETE FROM login_failures WHERE time <= ?1",
        params![now - FAILURE_WINDOW_NANOS],
    )?;
    transaction.execute("DELETE FROM login_locks WHERE locked_until <= ?1", params![now])?;
    for key in keys {
        transaction.execute(
            "INSERT INTO login_failures (key, time) VALUES (?1, ?2)",
            params![key, now],
        )?;
        let failures: i64 = transaction.query_row(
            "SELECT count(*) FROM login_failures WHERE key = ?1 AND time > ?2",
            params![key, now - FAILURE_WINDOW_NANOS],
            |row| row.get(0),
        )?;
        if failures >= MAX_FAILURES {
            transaction.execute(
                "INSERT OR REPLACE INTO login_locks (key, locked_until) VALUES (?1, ?2)",
                params![key, now + LOCK_NANOS],
            )?;
            // The count starts again when the lock ends.
            transaction.execute("DELETE FROM login_failures WHERE key = ?1", params![key])?;
        }
    }
    Ok(())
}

/// A user row: name, role, agencies.
fn user_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<User> {
    Ok(User {
        name: row.get(first)?,
        role: parsed(row, first + 1)?,
        agencies: json_strings(row, first + 2)?,
    })
}

impl Store {
    /// Creates a user. Refuses an invalid name, a weak password (fewer than
    /// [`MIN_PASSWORD_CHARS`] characters, or the user name), an existing name (compared without
    /// case), an agency viewer without agencies, and agencies on other roles.
    pub fn create_user(
        &self,
        name: &str,
        password: &str,
        role: Role,
        agencies: &[String],
    ) -> Result<(), StoreError> {
        check_name(name)?;
        check_password(name, password)?;
        let agencies = check_agencies(role, agencies)?;
        let agencies =
            serde_json::to_string(&agencies).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let exists = |store: &Store| -> Result<bool, StoreError> {
            store.lock().read(|transaction| {
                let found = transaction
                    .query_row("SELECT 1 FROM users WHERE name = ?1", params![name], |_| Ok(()))
                    .optional()?;
                Ok(found.is_some())
            })
        };
        // Checked before hashing as well as by the key, to answer a duplicate at once.
        if exists(self)? {
            return Err(StoreError::UserExists(name.to_owned()));
        }
        let hash = hash_password(password, self.password_cost)?;
        let now = self.now();
        self.lock().write(Durability::Synced, |transaction| {
            let inserted = transaction.execute(
                "INSERT INTO users (name, password_hash, role, agencies, created_at, password_changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (name) DO NOTHING",
                params![name, hash, role.as_str(), agencies, now],
            )?;
            if inserted == 0 {
                return Err(StoreError::UserExists(name.to_owned()));
            }
            Ok(())
        })
    }

    /// Sets a user's password (same rules as [`Store::create_user`]) and ends their sessions.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), StoreError> {
        check_password(name, password)?;
        let hash = hash_password(password, self.password_cost)?;
        let now = self.now();
        self.lock().write(Durability::Synced, |transaction| {
            let updated = transaction.execute(
                "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE name = ?1",
                params![name, hash, now],
            )?;
            if updated == 0 {
                return Err(StoreError::UnknownUser(name.to_owned()));
            }
            transaction.execute("DELETE FROM sessions WHERE user_name = ?1", params![name])?;
            Ok(())
        })
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.lock().read(|transaction| {
            let mut statement =
                transaction.prepare_cached("SELECT name, role, agencies FROM users ORDER BY name")?;
            let users = statement
                .query_map([], |row| user_from_row(row, 0))?
                .collect::<Result<_, _>>()?;
            Ok(users)
        })
    }

    /// Checks a login from client `address`. The password is checked outside the store's lock
    /// (argon2 takes tens of milliseconds), so concurrent attempts may each be checked before the
    /// failures of the others are counted: at most a few over the limit.
    pub fn login(&self, name: &str, password: &str, address: &str) -> Result<Login, StoreError> {
        let now = self.now();
        let keys = limit_keys(name, address);
        let (locked_until, stored) = self.lock().read(|transaction| {
            let locked_until: Option<i64> = transaction.query_row(
                "SELECT max(locked_until) FROM login_locks WHERE key IN (?1, ?2) AND locked_until > ?3",
                params![keys[0], keys[1], now],
                |row| row.get(0),
            )?;
            let stored = transaction
                .query_row(
                    "SELECT name, password_hash FROM users WHERE name = ?1",
                    params![name],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
                .optional()?;
            Ok((locked_until, stored))
        })?;
        if let Some(until) = locked_until {
            let seconds = (until - now + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND;
            return Ok(Login::RateLimited {
                retry_after_seconds: u64::try_from(seconds).unwrap_or(1),
            });
        }

        let accepted = match &stored {
            Some((_, hash)) => verify_password(password, hash),
            None => {
                verify_password(password, self.dummy_hash()?);
                false
            }
        };
        let Some((name, _)) = stored.filter(|_| accepted) else {
            self.lock().write(Durability::Synced, |transaction| {
                record_failure(transaction, &keys, now)
            })?;
            return Ok(Login::Denied);
        };

        let random = SystemRandom::new();
        let session = Session {
            token: random_token(&random)?,
            csrf_token: random_token(&random)?,
            expires_nanos: now + SESSION_IDLE_NANOS,
        };
        self.lock().write(Durability::Synced, |transaction| {
            transaction.execute("DELETE FROM login_failures WHERE key = ?1", params![keys[0]])?;
            transaction.execute(
                "DELETE FROM sessions WHERE last_used <= ?1 OR created_at <= ?2",
                params![now - SESSION_IDLE_NANOS, now - SESSION_ABSOLUTE_NANOS],
            )?;
            transaction.execute(
                "INSERT INTO sessions (token_hash, user_name, csrf_token, address, created_at, last_used)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![token_hash(&session.token), name, session.csrf_token, address, now],
            )?;
            Ok(())
        })?;
        Ok(Login::Ok(session))
    }

    /// The user and session of `token`, if the session is live; using it moves its idle expiry
    /// (8 hours after last use, never past 24 hours after login). An expired session is deleted.
    pub fn session(&self, token: &str) -> Result<Option<(User, Session)>, StoreError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let now = self.now();
        let hash = token_hash(token);
        let mut inner = self.lock();
        let found = inner.read(|transaction| {
            let found = transaction
                .prepare_cached(
                    "SELECT s.csrf_token, s.created_at, s.last_used, u.name, u.role, u.agencies
                     FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.token_hash = ?1",
                )?
                .query_row(params![hash], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, i64>(2)?,
                        user_from_row(row, 3)?,
                    ))
                })
                .optional()?;
            Ok(found)
        })?;
        let Some((csrf_token, created_at, last_used, user)) = found else {
            return Ok(None);
        };
        let absolute_end = created_at.saturating_add(SESSION_ABSOLUTE_NANOS);
        if now >= last_used.saturating_add(SESSION_IDLE_NANOS) || now >= absolute_end {
            inner.write(Durability::Synced, |transaction| {
                transaction.execute("DELETE FROM sessions WHERE token_hash = ?1", params![hash])?;
                Ok(())
            })?;
            return Ok(None);
        }
        let last_used = if now - last_used >= SESSION_TOUCH_NANOS {
            inner.write(Durability::Synced, |transaction| {
                transaction.execute(
                    "UPDATE sessions SET last_used = ?2 WHERE token_hash = ?1",
                    params![hash, now],
                )?;
                Ok(())
            })?;
            now
        } else {
            last_used
        };
        let expires_nanos = last_used.saturating_add(SESSION_IDLE_NANOS).min(absolute_end);
        Ok(Some((
            user,
            Session {
                token: token.to_owned(),
                csrf_token,
                expires_nanos,
            },
        )))
    }

    /// Ends the session of `token` (nothing happens if there is none).
    pub fn logout(&self, token: &str) -> Result<(), StoreError> {
        let hash = token_hash(token);
        self.lock().write(Durability::Synced, |transaction| {
            transaction.execute("DELETE FROM sessions WHERE token_hash = ?1", params![hash])?;
            Ok(())
        })
    }

    /// The hash unknown user names are verified against.
    fn dummy_hash(&self) -> Result<&str, StoreError> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash);
        }
        let password = random_token(&SystemRandom::new())?;
        let hash = hash_password(&password, self.password_cost)?;
        Ok(self.dummy_hash.get_or_init(|| hash))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Clock, test_support};
    use super::*;

    const PASSWORD: &str = "correct horse battery";

    fn logged_in(login: Login) -> Session {
        match login {
            Login::Ok(session) => session,
            other => panic!("not logged in: {other:?}"),
        }
    }

    #[test]
    fn create_user_refuses_weak_passwords_duplicates_and_bad_names() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        let weak = store.create_user("alice", "short", Role::Admin, &[]).unwrap_err();
        assert!(matches!(weak, StoreError::WeakPassword(_)), "{weak}");
        let nine = store
            .create_user("alice", "ninechars", Role::Admin, &[])
            .unwrap_err();
        assert!(matches!(nine, StoreError::WeakPassword(_)), "{nine}");
        let same = store
            .create_user("alice.smith", "Alice.Smith", Role::Admin, &[])
            .unwrap_err();
        assert!(matches!(same, StoreError::WeakPassword(_)), "{same}");

        store.create_user("alice", PASSWORD, Role::Admin, &[]).unwrap();
        let duplicate = store
            .create_user("alice", "another long one", Role::Analyst, &[])
            .unwrap_err();
        assert!(matches!(duplicate, StoreError::UserExists(_)), "{duplicate}");
        let case = store
            .create_user("ALICE", "another long one", Role::Analyst, &[])
            .unwrap_err();
        assert!(matches!(case, StoreError::UserExists(_)), "{case}");

        for name in ["", "-rf", "a b", "x".repeat(65).as_str()] {
            let error = store.create_user(name, PASSWORD, Role::Analyst, &[]).unwrap_err();
            assert!(matches!(error, StoreError::InvalidInput(_)), "{name:?}: {error}");
        }
        let no_agency = store
            .create_user("viewer", PASSWORD, Role::AgencyViewer, &[])
            .unwrap_err();
        assert!(matches!(no_agency, StoreError::InvalidInput(_)), "{no_agency}");
        let agency = ["a".to_owned()];
        let analyst_with_agency = store
            .create_user("bob", PASSWORD, Role::Analyst, &agency)
            .unwrap_err();
        assert!(
            matches!(analyst_with_agency, StoreError::InvalidInput(_)),
            "{analyst_with_agency}"
        );
        assert_eq!(store.users().unwrap().len(), 1);
    }

    #[test]
    fn users_lists_roles_agencies_and_scopes() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        let agencies = [" b ".to_owned(), "a".to_owned(), "b".to_owned()];
        store
            .create_user("viewer", PASSWORD, Role::AgencyViewer, &agencies)
            .unwrap();
        store.create_user("admin", PASSWORD, Role::Admin, &[]).unwrap();
        let users = store.users().unwrap();
        assert_eq!(
            users[0],
            User {
                name: "admin".to_owned(),
                role: Role::Admin,
                agencies: vec![]
            }
        );
        assert_eq!(users[1].agencies, ["a", "b"]);
        assert_eq!(users[0].scope(), Scope::All);
        assert_eq!(
            users[1].scope(),
            Scope::Agencies(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!("agency-viewer".parse::<Role>().unwrap(), Role::AgencyViewer);
        assert!("root".parse::<Role>().is_err());
        assert_eq!(serde_json::to_value(&users[1]).unwrap()["role"], "agency_viewer");
    }

    #[test]
    fn login_gives_a_session_whose_token_is_stored_hashed() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        store.create_user("alice", PASSWORD, Role::Analyst, &[]).unwrap();
        assert_eq!(
            store.login("alice", "wrong password", "10.0.0.1").unwrap(),
            Login::Denied
        );
        assert_eq!(
            store.login("nobody", PASSWORD, "10.0.0.1").unwrap(),
            Login::Denied
        );
        let session = logged_in(store.login("Alice", PASSWORD, "10.0.0.1").unwrap());
        assert_eq!(URL_SAFE_NO_PAD.decode(&session.token).unwrap().len(), 32);
        assert_ne!(session.token, session.csrf_token);
        assert_eq!(session.expires_nanos, test_support::START + SESSION_IDLE_NANOS);

        let (user, again) = store.session(&session.token).unwrap().unwrap();
        assert_eq!(user.name, "alice");
        assert_eq!(again.csrf_token, session.csrf_token);
        let stored: Vec<u8> = store
            .lock()
            .connection
            .query_row("SELECT token_hash FROM sessions", [], |row| row.get(0))
            .unwrap();
        assert_eq!(stored, token_hash(&session.token));
        assert!(!format!("{session:?}").contains(&session.token));

        store.logout(&session.token).unwrap();
        assert!(store.session(&session.token).unwrap().is_none());
        assert!(store.session("made-up").unwrap().is_none());
    }

    #[test]
    fn login_locks_a_user_name_after_five_failures_even_for_the_right_password() {
        let directory = tempfile::tempdir().unwrap();
        let (store, clock) = test_support::open(directory.path());
        store.create_user("alice", PASSWORD, Role::Analyst, &[]).unwrap();
        // From five addresses, so only the user name reaches the limit.
        for attempt in 0..5 {
            let address = format!("10.0.0.{attempt}");
            assert_eq!(
                store.login("alice", "wrong password", &address).unwrap(),
                Login::Denied
            );
            clock.advance(Duration::from_secs(10));
        }
        let locked = store.login("ALICE", PASSWORD, "10.0.0.99").unwrap();
        // Locked at the fifth failure (40 s) for 5 minutes; it is now 50 s.
        assert_eq!(
            locked,
            Login::RateLimited {
                retry_after_seconds: 290
            }
        );
        clock.advance(Duration::from_secs(289));
        assert!(matches!(
            store.login("alice", PASSWORD, "10.0.0.99").unwrap(),
            Login::RateLimited { .. }
        ));
        clock.advance(Duration::from_secs(1));
        logged_in(store.login("alice", PASSWORD, "10.0.0.99").unwrap());
    }

    #[test]
    fn login_locks_an_address_after_five_failures() {
        let directory = tempfile::tempdir().unwrap();
        let (store, clock) = test_support::open(directory.path());
        store.create_user("alice", PASSWORD, Role::Analyst, &[]).unwrap();
        // Five different (unknown) names from one address.
        for attempt in 0..5 {
            let name = format!("guess{attempt}");
            assert_eq!(store.login(&name, PASSWORD, "192.0.2.7").unwrap(), Login::Denied);
        }
        let locked = store.login("alice", PASSWORD, "192.0.2.7").unwrap();
        assert_eq!(
            locked,
            Login::RateLimited {
                retry_after_seconds: 300
            }
        );
        // Another address is not locked.
        logged_in(store.login("alice", PASSWORD, "192.0.2.8").unwrap());
        clock.advance(Duration::from_secs(300));
        logged_in(store.login("alice", PASSWORD, "192.0.2.7").unwrap());
    }

    #[test]
    fn login_failures_older_than_the_window_do_not_count() {
        let directory = tempfile::tempdir().unwrap();
        let (store, clock) = test_support::open(directory.path());
        store.create_user("alice", PASSWORD, Role::Analyst, &[]).unwrap();
        for _ in 0..4 {
            assert_eq!(
                store.login("alice", "wrong password", "10.0.0.1").unwrap(),
                Login::Denied
            );
        }
        clock.advance(Duration::from_secs(301));
        assert_eq!(
            store.login("alice", "wrong password", "10.0.0.1").unwrap(),
            Login::Denied
        );
        logged_in(store.login("alice", PASSWORD, "10.0.0.1").unwrap());
    }

    #[test]
    fn session_expires_after_eight_idle_hours() {
        let directory = tempfile::tempdir().unwrap();
        let (store, clock) = test_support::open(directory.path());
        store.create_user("alice", PASSWORD, Role::Analyst, &[]).unwrap();
        let session = logged_in(store.login("alice", PASSWORD, "10.0.0.1").unwrap());
        clock.advance(Duration::from_secs(8 * 3600 - 1));
        let (_, used) = store.session(&session.token).unwrap().unwrap();
        assert_eq!(used.expires_nanos, clock.now_nanos() + SESSION_IDLE_NANOS);
        clock.advance(Duration::from_secs(8 * 3600 - 1));
        assert!(store.session(&session.token).unwrap().is_some());
        clock.advance(Duration::from_secs(8 * 3600));
        assert!(store.session(&session.token).unwrap().is_none());
    }

    #[test]
    fn session_expires_twenty_four_hours_after_login_however_used() {
        let directory = tempfile::tempdir().unwrap();
        let (store, clock) = test_support::open(directory.path());
        store.create_user("alice", PASSWORD, Role::Analyst, &[]).unwrap();
        let session = logged_in(store.login("alice", PASSWORD, "10.0.0.1").unwrap());
        for _ in 0..5 {
            clock.advance(Duration::from_secs(4 * 3600));
            let (_, used) = store.session(&session.token).unwrap().unwrap();
            assert!(used.expires_nanos <= test_support::START + SESSION_ABSOLUTE_NANOS);
        }
        clock.advance(Duration::from_secs(4 * 3600));
        assert!(store.session(&session.token).unwrap().is_none());
    }

    #[test]
    fn set_password_changes_it_and_ends_sessions() {
        let directory = tempfile::tempdir().unwrap();
        let (store, _) = test_support::open(directory.path());
        store.create_user("alice", PASSWORD, Role::Analyst, &[]).unwrap();
        let session = logged_in(store.login("alice", PASSWORD, "10.0.0.1").unwrap());
        assert!(matches!(
            store.set_password("alice", "short"),
            Err(StoreError::WeakPassword(_))
        ));
        assert!(matches!(
            store.set_password("nobody", "a long new password"),
            Err(StoreError::UnknownUser(_))
        ));
        // Names compare without case, here too.
        store.set_password("Alice", "a long new password").unwrap();
        assert!(store.session(&session.token).unwrap().is_none());
        assert_eq!(store.login("alice", PASSWORD, "10.0.0.1").unwrap(), Login::Denied);
        logged_in(store.login("alice", "a long new password", "10.0.0.1").unwrap());
    }

    #[test]
    fn stored_hashes_are_argon2id() {
        let hash = hash_password(PASSWORD, PasswordCost::Recommended).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(PASSWORD, &hash));
        assert!(!verify_password("wrong password", &hash));
        assert!(!verify_password(PASSWORD, "not a hash"));
    }
}
