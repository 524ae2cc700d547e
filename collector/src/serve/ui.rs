//! The UI listener: the analysts' API and web UI over TLS (or plain HTTP when configured so, for
//! a deployment behind a TLS-terminating proxy).
//!
//! TLS handshakes run in their own tasks, so one slow client never holds up the others; finished
//! connections reach axum through [`TlsListener`].

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::api::{self, ApiState};

/// The client's address, as the API's handlers see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub(crate) SocketAddr);

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Accepted, handshaken TLS connections.
pub(crate) struct TlsListener {
    connections: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.connections.recv().await {
            Some(connection) => connection,
            // The accept loop ended (shutdown): never return; graceful shutdown ends the server.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Where the UI listens and how.
#[derive(Debug, Clone)]
pub struct UiListener {
    /// Address.
    pub address: SocketAddr,
    /// Certificate chain and key (PEM); `None` with `tls` on means: a certificate from the
    /// collector's own CA, created on first start.
    pub certificate: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// TLS on (default) or plain HTTP.
    pub tls: bool,
}

/// Binds the UI listener and serves the API and UI.
pub(crate) async fn serve(
    listener: &UiListener,
    pki: Option<&crate::agents::Pki>,
    state: ApiState,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let socket = TcpListener::bind(listener.address)
        .await
        .with_context(|| format!("cannot listen for the UI on {}", listener.address))?;
    let local = socket.local_addr()?;
    let app = api::router(state).into_make_service_with_connect_info::<Peer>();
    if !listener.tls {
        tokio::spawn(async move {
            let _ = axum::serve(socket, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
        });
        return Ok(local);
    }
    let (chain, key) = match &listener.certificate {
        Some((certificate, key)) => (certificate.clone(), key.clone()),
        None => {
            let pki = pki.context("the UI needs a certificate: set ui.certificate and ui.key")?;
            (pki.server_certificate.clone(), pki.server_key.clone())
        }
    };
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&chain)
        .with_context(|| format!("cannot read {}", chain.display()))?
        .collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&key).with_context(|| format!("cannot read {}", key.display()))?;
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certificates, key)
            .context("the UI certificate and key do not form a TLS identity")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (sender, connections) = mpsc::channel(64);
    let mut stop_accepting = stop.clone();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop_accepting.changed() => break,
                accepted = socket.accept() => accepted,
            };
            let Ok((stream, peer)) = accepted else { continue };
            let acceptor = acceptor.clone();
            let sender = sender.clone();
            tokio::spawn(async move {
                let handshake =
                    tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream));
                if let Ok(Ok(tls)) = handshake.await {
                    let _ = sender.send((tls, peer)).await;
                }
            });
        }
    });
    let tls_listener = TlsListener { connections, local };
    tokio::spawn(async move {
        let _ = axum::serve(tls_listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    });
    Ok(local)
}
