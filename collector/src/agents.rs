//! Agent identities: the collector's certificate authority, enrollment tokens, and the registry of
//! enrolled agents.
//!
//! On first start the collector creates, under `data_dir/pki/`, a CA (`ca.pem`, `ca.key`) and a
//! server certificate for the agent listener signed by it. An administrator creates an enrollment
//! token (`haidang agents token create`); an agent presents it once with a certificate signing
//! request and receives a client certificate whose common name is its agent id. From then on the
//! agent authenticates with that certificate (mutual TLS), and the collector accepts a session
//! only when the certificate is in the registry and not revoked, so `haidang agents revoke` cuts an
//! agent off even though its certificate is still validly signed.
//!
//! The token carries the SHA-256 of the CA certificate, so the enrolling agent can check it is
//! talking to the right collector before it trusts anything it is sent.
//!
//! The registry is one JSON file, `data_dir/agents.json`, changed under an exclusive file lock
//! (the running collector and the `haidang agents` command both change it) and replaced
//! atomically. Tokens are stored as hashes only.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, bail};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use serde::{Deserialize, Serialize};

use crate::wal::write_atomically;

/// Certificates are valid this long.
const CERTIFICATE_DAYS: i64 = 825;

/// The collector's certificate authority and the agent listener's identity, as PEM files.
#[derive(Debug, Clone)]
pub struct Pki {
    /// `ca.pem`.
    pub ca_certificate: PathBuf,
    /// `ca.key`.
    pub ca_key: PathBuf,
    /// `server.pem` (the server certificate followed by the CA certificate).
    pub server_certificate: PathBuf,
    /// `server.key`.
    pub server_key: PathBuf,
}

impl Pki {
    /// Loads the PKI from `directory`, creating the CA and the server certificate (for
    /// `server_names`) when they do not exist yet.
    pub fn load_or_create(directory: &Path, server_names: &[String]) -> anyhow::Result<Pki> {
        let pki = Pki {
            ca_certificate: directory.join("ca.pem"),
            ca_key: directory.join("ca.key"),
            server_certificate: directory.join("server.pem"),
            server_key: directory.join("server.key"),
        };
        std::fs::create_dir_all(directory)
            .with_context(|| format!("cannot create {}", directory.display()))?;
        if !pki.ca_certificate.exists() {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name = name("Hải Đăng collector CA");
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            validity(&mut params, 3650);
            let certificate = params.self_signed(&key)?;
            write_secret(&pki.ca_key, key.serialize_pem().as_bytes())?;
            write_atomically(&pki.ca_certificate, certificate.pem().as_bytes())?;
        }
        if !pki.server_certificate.exists() {
            let issuer = pki.issuer()?;
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name = name("Hải Đăng collector");
            for server_name in server_names {
                params
                    .subject_alt_names
                    .push(match server_name.parse::<std::net::IpAddr>() {
                        Ok(address) => SanType::IpAddress(address),
                        Err(_) => SanType::DnsName(server_name.as_str().try_into()?),
                    });
            }
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            validity(&mut params, CERTIFICATE_DAYS);
            let certificate = params.signed_by(&key, &issuer)?;
            let ca = std::fs::read_to_string(&pki.ca_certificate)?;
            write_secret(&pki.server_key, key.serialize_pem().as_bytes())?;
            write_atomically(
                &pki.server_certificate,
                format!("{}{ca}", certificate.pem()).as_bytes(),
            )?;
        }
        Ok(pki)
    }

    fn issuer(&self) -> anyhow::Result<Issuer<'static, KeyPair>> {
        let key = std::fs::read_to_string(&self.ca_key)
            .with_context(|| format!("cannot read {}", self.ca_key.display()))?;
        let certificate = std::fs::read_to_string(&self.ca_certificate)
            .with_context(|| format!("cannot read {}", self.ca_certificate.display()))?;
        let key =
            KeyPair::from_pem(&key).with_context(|| format!("invalid key {}", self.ca_key.display()))?;
        Issuer::from_ca_cert_pem(&certificate, key)
            .with_context(|| format!("invalid CA certificate {}", self.ca_certificate.display()))
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> anyhow::Result<String> {
        std::fs::read_to_string(&self.ca_certificate)
            .with_context(|| format!("cannot read {}", self.ca_certificate.display()))
    }

    /// The SHA-256 of the CA certificate (DER), lowercase hex: what tokens pin.
    pub fn ca_fingerprint(&self) -> anyhow::Result<String> {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_file(&self.ca_certificate)
            .with_context(|| format!("cannot read {}", self.ca_certificate.display()))?;
        Ok(sha256_hex(&der))
    }

    /// Signs an agent's certificate signing request, giving the certificate `agent_id` as its
    /// common name. Everything else the request asks for is ignored.
    pub fn sign_agent(&self, csr_pem: &str, agent_id: &str) -> anyhow::Result<String> {
        let mut request = CertificateSigningRequestParams::from_pem(csr_pem)
            .context("invalid certificate signing request")?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = name(agent_id);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        validity(&mut params, CERTIFICATE_DAYS);
        request.params = params;
        Ok(request.signed_by(&self.issuer()?)?.pem())
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "Hải Đăng SOC");
    name
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days);
}

/// Writes a file only its owner can read.
fn write_secret(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let temporary = path.with_extension("tmp");
    {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        file.write_all(content)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// SHA-256, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    use ring::rand::SecureRandom as _;
    let mut buffer = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buffer)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// A random password of 20 characters from an unambiguous alphabet (for new accounts).
pub fn random_password() -> anyhow::Result<String> {
    use ring::rand::SecureRandom as _;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
    Ok(bytes
        .iter()
        .map(|byte| ALPHABET[*byte as usize % ALPHABET.len()] as char)
        .collect())
}

fn now_text() -> String {
    crate::parse::format_nanos(time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64)
}

/// One enrolled agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentEntry {
    /// The agent id (the certificate's common name).
    pub id: String,
    /// The host name it enrolled with.
    pub hostname: String,
    /// When it enrolled.
    pub enrolled: String,
    /// SHA-256 of its certificate (DER), lowercase hex.
    pub certificate_sha256: String,
    /// When it was revoked, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<String>,
}

/// One enrollment token, stored as a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenEntry {
    /// A short public id, to list and revoke it.
    pub id: String,
    /// SHA-256 of the secret.
    pub secret_sha256: String,
    /// When it was created.
    pub created: String,
    /// Unix seconds after which it is refused.
    pub expires_unix: i64,
    /// Enrollments left.
    pub uses_left: u32,
    /// A note for the administrator (the agency, the server).
    #[serde(default)]
    pub note: String,
}

/// The registry file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    /// Enrolled agents.
    #[serde(default)]
    pub agents: Vec<AgentEntry>,
    /// Live tokens.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
}

/// What the listener decides about a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Enrolled and not revoked: the agent id.
    Accepted(String),
    /// Not in the registry.
    Unknown,
    /// Revoked.
    Revoked(String),
}

/// The registry on disk.
#[derive(Debug, Clone)]
pub struct RegistryFile {
    path: PathBuf,
}

impl RegistryFile {
    /// The registry in a data directory.
    pub fn new(data_dir: &Path) -> RegistryFile {
        RegistryFile {
            path: data_dir.join("agents.json"),
        }
    }

    /// Reads it (empty when it does not exist yet).
    pub fn read(&self) -> anyhow::Result<Registry> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("invalid registry {}", self.path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", self.path.display())),
        }
    }

    /// When it last changed (to reload only then).
    pub fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path)
            .and_then(|metadata| metadata.modified())
            .ok()
    }

    /// Changes it under the lock: reads, applies `change`, writes atomically.
    pub fn update<T>(&self, change: impl FnOnce(&mut Registry) -> anyhow::Result<T>) -> anyhow::Result<T> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let lock_path = self.path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let mut registry = self.read()?;
        let result = change(&mut registry)?;
        let text = serde_json::to_vec_pretty(&registry)?;
        write_atomically(&self.path, &text)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        drop(lock);
        Ok(result)
    }

    /// Creates a token valid for `valid_for` and `uses` enrollments; returns the token text to
    /// give the administrator of the agent (the only time the secret exists in clear).
    pub fn create_token(
        &self,
        pki: &Pki,
        valid_for: std::time::Duration,
        uses: u32,
        note: &str,
    ) -> anyhow::Result<String> {
        let id = random_hex(4)?;
        let secret = random_hex(16)?;
        let fingerprint = pki.ca_fingerprint()?;
        let expires_unix = time::OffsetDateTime::now_utc().unix_timestamp() + valid_for.as_secs() as i64;
        let entry = TokenEntry {
            id: id.clone(),
            secret_sha256: sha256_hex(secret.as_bytes()),
            created: now_text(),
            expires_unix,
            uses_left: uses,
            note: note.to_owned(),
        };
        self.update(|registry| {
            registry.tokens.push(entry);
            Ok(())
        })?;
        Ok(format!("HD1.{id}.{secret}.{fingerprint}"))
    }

    /// Enrolls an agent with a token: checks the token, signs the request, records the agent.
    /// Returns the agent id and its certificate.
    pub fn enroll(
        &self,
        pki: &Pki,
        token: &str,
        hostname: &str,
        csr_pem: &str,
    ) -> anyhow::Result<(String, String)> {
        let Some(parsed) = Token::parse(token) else {
            bail!("invalid enrollment token")
        };
        let hostname = sanitize_hostname(hostname);
        self.update(|registry| {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            registry
                .tokens
                .retain(|entry| entry.expires_unix > now && entry.uses_left > 0);
            let Some(entry) = registry.tokens.iter_mut().find(|entry| {
                entry.id == parsed.id && entry.secret_sha256 == sha256_hex(parsed.secret.as_bytes())
            }) else {
                bail!("invalid enrollment token (unknown, expired or used up)")
            };
            entry.uses_left -= 1;
            let token_id = entry.id.clone();
            if entry.uses_left == 0 {
                registry.tokens.retain(|entry| entry.id != token_id);
            }
            let agent_id = format!("{hostname}-{}", random_hex(3)?);
            let certificate = pki.sign_agent(csr_pem, &agent_id)?;
            let der = {
                use rustls_pki_types::pem::PemObject as _;
                rustls_pki_types::CertificateDer::from_pem_slice(certificate.as_bytes())
                    .context("signed certificate is not PEM")?
            };
            registry.agents.push(AgentEntry {
                id: agent_id.clone(),
                hostname: hostname.clone(),
                enrolled: now_text(),
                certificate_sha256: sha256_hex(&der),
                revoked: None,
            });
            Ok((agent_id, certificate))
        })
    }

    /// Revokes an agent; its sessions are refused from then on.
    pub fn revoke(&self, agent_id: &str) -> anyhow::Result<()> {
        self.update(|registry| {
            let Some(agent) = registry.agents.iter_mut().find(|agent| agent.id == agent_id) else {
                bail!("no agent `{agent_id}` in the registry")
            };
            agent.revoked.get_or_insert_with(now_text);
            Ok(())
        })
    }

    /// Revokes a token by its id.
    pub fn revoke_token(&self, token_id: &str) -> anyhow::Result<()> {
        self.update(|registry| {
            let before = registry.tokens.len();
            registry.tokens.retain(|token| token.id != token_id);
            if registry.tokens.len() == before {
                bail!("no token `{token_id}`")
            }
            Ok(())
        })
    }
}

impl Registry {
    /// What to do with a client presenting this certificate (DER).
    pub fn verdict(&self, certificate_der: &[u8]) -> Verdict {
        let fingerprint = sha256_hex(certificate_der);
        match self
            .agents
            .iter()
            .find(|agent| agent.certificate_sha256 == fingerprint)
        {
            Some(agent) if agent.revoked.is_some() => Verdict::Revoked(agent.id.clone()),
            Some(agent) => Verdict::Accepted(agent.id.clone()),
            None => Verdict::Unknown,
        }
    }
}

/// A parsed enrollment token: `HD1.<id>.<secret>.<CA SHA-256>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The public id.
    pub id: String,
    /// The secret.
    pub secret: String,
    /// The CA's fingerprint the agent must see.
    pub ca_sha256: String,
}

impl Token {
    /// Parses a token; `None` if it does not have the shape.
    pub fn parse(text: &str) -> Option<Token> {
        let mut parts = text.trim().split('.');
        let (Some("HD1"), Some(id), Some(secret), Some(ca_sha256), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let hex = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_hexdigit());
        (hex(id) && hex(secret) && hex(ca_sha256) && ca_sha256.len() == 64).then(|| Token {
            id: id.to_owned(),
            secret: secret.to_owned(),
            ca_sha256: ca_sha256.to_ascii_lowercase(),
        })
    }
}

/// Host names become part of agent ids and certificate names: keep them to a safe alphabet.
fn sanitize_hostname(hostname: &str) -> String {
    let cleaned: String = hostname
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '-' || character == '.' {
                character.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    if cleaned.is_empty() {
        "agent".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn csr() -> String {
        let key = KeyPair::generate().unwrap();
        CertificateParams::new(vec!["ignored".to_string()])
            .unwrap()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap()
    }

    #[test]
    fn a_token_enrolls_once_and_the_agent_can_be_revoked() {
        let directory = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(&directory.path().join("pki"), &["localhost".into()]).unwrap();
        let registry = RegistryFile::new(directory.path());
        let token = registry
            .create_token(&pki, std::time::Duration::from_secs(3600), 1, "test")
            .unwrap();
        let parsed = Token::parse(&token).unwrap();
        assert_eq!(parsed.ca_sha256, pki.ca_fingerprint().unwrap());

        let (agent_id, certificate) = registry.enroll(&pki, &token, "Web 01", &csr()).unwrap();
        assert!(agent_id.starts_with("web-01-"), "{agent_id}");
        let error = registry.enroll(&pki, &token, "web02", &csr()).unwrap_err();
        assert!(error.to_string().contains("invalid enrollment token"), "{error}");

        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(certificate.as_bytes()).unwrap();
        assert_eq!(
            registry.read().unwrap().verdict(&der),
            Verdict::Accepted(agent_id.clone())
        );
        registry.revoke(&agent_id).unwrap();
        assert_eq!(registry.read().unwrap().verdict(&der), Verdict::Revoked(agent_id));
        assert_eq!(registry.read().unwrap().verdict(b"other"), Verdict::Unknown);
        assert!(
            registry.read().unwrap().tokens.is_empty(),
            "a used-up token is removed"
        );
    }

    #[test]
    fn the_pki_is_created_once_and_reused() {
        let directory = tempfile::tempdir().unwrap();
        let first = Pki::load_or_create(directory.path(), &["127.0.0.1".into()]).unwrap();
        let fingerprint = first.ca_fingerprint().unwrap();
        let second = Pki::load_or_create(directory.path(), &["127.0.0.1".into()]).unwrap();
        assert_eq!(second.ca_fingerprint().unwrap(), fingerprint);
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&first.ca_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the CA key is private to its owner");
    }

    #[test]
    fn malformed_tokens_and_requests_are_refused() {
        assert!(Token::parse("HD1.ab.cd").is_none());
        assert!(Token::parse("HD2.ab.cd.ef").is_none());
        assert!(Token::parse(&format!("HD1.zz.cd.{}", "a".repeat(64))).is_none());
        let directory = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(directory.path(), &["localhost".into()]).unwrap();
        assert!(pki.sign_agent("not a request", "x").is_err());
    }
}
