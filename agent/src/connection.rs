//! The agent's side of the protocol's transport: TLS to the collector, frames in and out, and
//! enrollment.
//!
//! An enrolled agent keeps its identity in `data_dir/identity/`: its key (`agent.key`, readable
//! by its owner only), its certificate (`agent.pem`), the collector CA (`ca.pem`) and its id
//! (`agent_id`). Sessions authenticate both ways: the agent with its certificate, the collector
//! with a certificate signed by that CA.
//!
//! Enrollment happens before the agent has the CA. The token pins the CA's SHA-256: the agent
//! accepts the collector only if the chain it presents contains a CA with that fingerprint and
//! the server certificate verifies against it.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use haidang_event::wire::{self, Enroll, Message};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// Where an enrolled agent keeps its identity.
#[derive(Debug, Clone)]
pub struct Identity {
    directory: PathBuf,
}

impl Identity {
    /// The identity folder in a data directory.
    pub fn new(data_dir: &Path) -> Identity {
        Identity {
            directory: data_dir.join("identity"),
        }
    }

    fn key(&self) -> PathBuf {
        self.directory.join("agent.key")
    }
    fn certificate(&self) -> PathBuf {
        self.directory.join("agent.pem")
    }
    fn ca(&self) -> PathBuf {
        self.directory.join("ca.pem")
    }

    /// Whether the agent has enrolled.
    pub fn exists(&self) -> bool {
        self.certificate().exists() && self.key().exists() && self.ca().exists()
    }

    /// The agent id the collector gave.
    pub fn agent_id(&self) -> anyhow::Result<String> {
        let path = self.directory.join("agent_id");
        Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .trim()
            .to_owned())
    }

    /// The TLS configuration of an authenticated session.
    pub fn client_config(&self) -> anyhow::Result<Arc<ClientConfig>> {
        if !self.exists() {
            bail!(
                "not enrolled: no identity in {} (run `haidang-agent enroll --token T --collector host:port`)",
                self.directory.display()
            );
        }
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_file_iter(self.ca())
            .with_context(|| format!("cannot read {}", self.ca().display()))?
        {
            roots.add(certificate?)?;
        }
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(self.certificate())
            .with_context(|| format!("cannot read {}", self.certificate().display()))?
            .collect::<Result<_, _>>()?;
        let key = PrivateKeyDer::from_pem_file(self.key())
            .with_context(|| format!("cannot read {}", self.key().display()))?;
        let config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .context("the agent certificate and key do not match")?;
        Ok(Arc::new(config))
    }

    fn save(&self, key_pem: &str, enrolled: &wire::Enrolled) -> anyhow::Result<()> {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::create_dir_all(&self.directory)
            .with_context(|| format!("cannot create {}", self.directory.display()))?;
        let mut key = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(self.key())
            .with_context(|| format!("cannot write {}", self.key().display()))?;
        key.write_all(key_pem.as_bytes())?;
        key.sync_all()?;
        crate::write_atomically(&self.certificate(), enrolled.certificate_pem.as_bytes())?;
        crate::write_atomically(&self.ca(), enrolled.ca_pem.as_bytes())?;
        crate::write_atomically(
            &self.directory.join("agent_id"),
            format!("{}\n", enrolled.agent_id).as_bytes(),
        )?;
        Ok(())
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// One TLS session with a collector, blocking.
pub struct Session {
    stream: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    /// The local address used (a host fact).
    pub local_address: Option<std::net::IpAddr>,
}

impl Session {
    /// Connects to `address` (`host:port`) and completes the TLS handshake.
    pub fn connect(address: &str, config: Arc<ClientConfig>, timeout: Duration) -> anyhow::Result<Session> {
        let (host, _) = address
            .rsplit_once(':')
            .with_context(|| format!("`{address}` is not host:port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let server_name =
            ServerName::try_from(host.to_owned()).with_context(|| format!("invalid host `{host}`"))?;
        let socket_address = address
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {address}"))?
            .next()
            .with_context(|| format!("{address} resolves to nothing"))?;
        let tcp = TcpStream::connect_timeout(&socket_address, timeout)
            .with_context(|| format!("cannot connect to {address}"))?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        let local_address = tcp.local_addr().ok().map(|address| address.ip());
        let connection = rustls::ClientConnection::new(config, server_name)?;
        let mut stream = rustls::StreamOwned::new(connection, tcp);
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .with_context(|| format!("TLS handshake with {address}"))?;
        }
        Ok(Session {
            stream,
            local_address,
        })
    }

    /// Changes how long a read may wait.
    pub fn set_read_timeout(&self, timeout: Duration) -> std::io::Result<()> {
        self.stream.sock.set_read_timeout(Some(timeout))
    }

    /// Sends one message.
    pub fn send(&mut self, message: &Message) -> anyhow::Result<()> {
        self.stream.write_all(&message.encode()?)?;
        self.stream.flush()?;
        Ok(())
    }

    /// Waits for one message. A `Refused` becomes an error carrying its reason.
    pub fn receive(&mut self) -> anyhow::Result<Message> {
        let mut prefix = [0u8; 4];
        self.stream.read_exact(&mut prefix)?;
        let length = wire::frame_length(prefix)?;
        let mut content = vec![0u8; length];
        self.stream.read_exact(&mut content)?;
        match Message::decode(&content)? {
            Message::Refused(refused) => Err(Refused(refused.reason).into()),
            message => Ok(message),
        }
    }
}

/// The collector refused the session (the reason it gave).
#[derive(Debug, thiserror::Error)]
#[error("the collector refused: {0}")]
pub struct Refused(pub String);

/// Enrolls: makes a key, sends the token and a signing request, and saves the identity. Returns
/// the agent id.
pub fn enroll(data_dir: &Path, token: &str, collector: &str, hostname: &str) -> anyhow::Result<String> {
    let pin = token
        .trim()
        .split('.')
        .nth(3)
        .filter(|pin| pin.len() == 64)
        .with_context(|| "the token does not have the shape HD1.<id>.<secret>.<CA fingerprint>")?
        .to_ascii_lowercase();
    let key = rcgen::KeyPair::generate()?;
    let request = rcgen::CertificateParams::new(Vec::<String>::new())?
        .serialize_request(&key)?
        .pem()?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedCa {
            pin,
            provider: provider(),
        }))
        .with_no_client_auth();
    let mut session = Session::connect(collector, Arc::new(config), Duration::from_secs(15))?;
    session.send(&Message::Enroll(Enroll {
        token: token.trim().to_owned(),
        facts: crate::facts::host_facts(hostname, session.local_address),
        csr_pem: request,
    }))?;
    let Message::Enrolled(enrolled) = session.receive()? else {
        bail!("the collector answered the enrollment with something else")
    };
    Identity::new(data_dir).save(&key.serialize_pem(), &enrolled)?;
    Ok(enrolled.agent_id)
}

/// Trusts a server whose chain carries the CA the token pins, and whose certificate that CA
/// signed.
#[derive(Debug)]
struct PinnedCa {
    pin: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(ca) = intermediates
            .iter()
            .find(|certificate| sha256_hex(certificate) == self.pin)
        else {
            return Err(rustls::Error::General(
                "the collector's CA does not match the fingerprint in the token".into(),
            ));
        };
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&self.provider),
        )
        .build()
        .map_err(|error| rustls::Error::General(error.to_string()))?;
        verifier.verify_server_cert(end_entity, &[], server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
