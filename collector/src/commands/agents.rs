//! `haidang agents ...` (enrollment tokens and the agent registry) and `haidang wal dump`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use haidang_event::wire::Body;

use crate::agents::{Pki, RegistryFile};
use crate::serve::ServeConfig;

/// The PKI of a collector configuration (created on first use, as `serve` would).
fn pki(config: &ServeConfig) -> anyhow::Result<Pki> {
    let names = config
        .agents
        .as_ref()
        .map(|listener| listener.server_names.clone())
        .unwrap_or_else(|| vec!["localhost".into(), "127.0.0.1".into()]);
    Pki::load_or_create(&config.data_dir.join("pki"), &names)
}

/// Creates an enrollment token and prints it.
pub fn create_token(
    config: &ServeConfig,
    valid_for: Duration,
    uses: u32,
    note: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let pki = pki(config)?;
    let token = RegistryFile::new(&config.data_dir).create_token(&pki, valid_for, uses, note)?;
    writeln!(out, "{token}")?;
    Ok(())
}

/// Prints the registry: agents, then live tokens (ids only; secrets are never stored).
pub fn list(config: &ServeConfig, out: &mut impl Write) -> anyhow::Result<()> {
    let registry = RegistryFile::new(&config.data_dir).read()?;
    for agent in &registry.agents {
        serde_json::to_writer(&mut *out, &serde_json::json!({"agent": agent}))?;
        writeln!(out)?;
    }
    for token in &registry.tokens {
        let expires = crate::parse::format_nanos(token.expires_unix.saturating_mul(1_000_000_000));
        let line = serde_json::json!({"token": {"id": token.id, "created": token.created, "expires": expires,
            "uses_left": token.uses_left, "note": token.note}});
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Revokes an agent.
pub fn revoke(config: &ServeConfig, agent_id: &str) -> anyhow::Result<()> {
    RegistryFile::new(&config.data_dir).revoke(agent_id)
}

/// Revokes an enrollment token.
pub fn revoke_token(config: &ServeConfig, token_id: &str) -> anyhow::Result<()> {
    RegistryFile::new(&config.data_dir).revoke_token(token_id)
}

/// Prints every record in the write-ahead log as a JSON line: agent, sequence number, source and
/// the record's line or event. Returns the number of records.
pub fn dump_wal(config: &ServeConfig, agent: Option<&str>, out: &mut impl Write) -> anyhow::Result<u64> {
    let directory = config.data_dir.join("wal");
    let entries = crate::wal::read_from(&directory, crate::wal::Position::default())
        .with_context(|| format!("cannot read the WAL in {}", directory.display()))?;
    let mut count = 0;
    for (_, entry) in entries {
        if agent.is_some_and(|agent| agent != entry.agent_id) {
            continue;
        }
        let records = entry
            .batch
            .records()
            .with_context(|| format!("agent {} batch {}", entry.agent_id, entry.batch.first_sequence))?;
        for (index, record) in records.into_iter().enumerate() {
            let mut line = serde_json::json!({
                "agent": entry.agent_id,
                "sequence": entry.batch.first_sequence + index as u64,
                "observed": crate::parse::format_nanos(record.observed_nanos),
                "source": record.source,
            });
            match record.body {
                Body::Line { text, .. } => line["line"] = text.into(),
                Body::Event(event) => line["event"] = crate::input::event_to_json(&event),
            }
            serde_json::to_writer(&mut *out, &line)?;
            writeln!(out)?;
            count += 1;
        }
    }
    Ok(count)
}
