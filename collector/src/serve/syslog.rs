//! Syslog inputs: UDP (one message per datagram), TCP and TLS (RFC 6587 framing: newline, or
//! octet counting `LEN SP MSG`, decided per message).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};

use super::config::Listener;
use super::{Counters, Ingested};

/// Per-input limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Longest line kept.
    pub(crate) max_line_bytes: usize,
}

/// Binds the UDP input and starts receiving.
pub(crate) async fn udp(
    listener: &Listener,
    sender: mpsc::Sender<Ingested>,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) -> anyhow::Result<SocketAddr> {
    let socket = UdpSocket::bind(listener.address)
        .await
        .with_context(|| format!("cannot listen for syslog on udp {}", listener.address))?;
    let address = socket.local_addr()?;
    let format = listener.format;
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 65_536];
        loop {
            let received = tokio::select! {
                _ = stop.changed() => break,
                received = socket.recv_from(&mut buffer) => received,
            };
            let Ok((length, _peer)) = received else { continue };
            Counters::add(&counters.received_udp, 1);
            let mut datagram = &buffer[..length];
            if datagram.len() > limits.max_line_bytes {
                datagram = &datagram[..limits.max_line_bytes];
                Counters::add(&counters.lines_truncated, 1);
            }
            let text = String::from_utf8_lossy(datagram)
                .trim_end_matches(['\n', '\r', '\0'])
                .to_owned();
            // UDP has no way to slow the sender: a full queue drops the datagram, counted.
            if let Err(mpsc::error::TrySendError::Full(_)) = sender.try_send(Ingested::line(text, format)) {
                Counters::add(&counters.udp_dropped, 1);
            }
        }
    });
    Ok(address)
}

/// Builds the TLS acceptor of a listener from its PEM files.
pub(crate) fn tls_acceptor(listener: &Listener) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let Some(files) = &listener.tls else {
        anyhow::bail!("no certificate and key for {}", listener.address)
    };
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.certificate)
        .with_context(|| format!("cannot read certificate {}", files.certificate.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("invalid certificate {}", files.certificate.display()))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("cannot read private key {}", files.key.display()))?;
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certificates, key)
            .context("certificate and key do not form a TLS identity")?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Binds a TCP (or, with an acceptor, TLS) input and starts accepting connections.
pub(crate) async fn tcp(
    listener: &Listener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    sender: mpsc::Sender<Ingested>,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) -> anyhow::Result<SocketAddr> {
    let kind = if acceptor.is_some() { "tls" } else { "tcp" };
    let socket = TcpListener::bind(listener.address)
        .await
        .with_context(|| format!("cannot listen for syslog on {kind} {}", listener.address))?;
    let address = socket.local_addr()?;
    let format = listener.format;
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop.changed() => break,
                accepted = socket.accept() => accepted,
            };
            let Ok((stream, _peer)) = accepted else { continue };
            let sender = sender.clone();
            let counters = Arc::clone(&counters);
            let stop = stop.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    None => {
                        read_frames(stream, &sender, &counters, stop, limits, format, false).await;
                    }
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(stream) => {
                            read_frames(stream, &sender, &counters, stop, limits, format, true).await
                        }
                        Err(_) => Counters::add(&counters.input_errors, 1),
                    },
                }
            });
        }
    });
    Ok(address)
}

/// Reads messages off one connection until it closes or the service stops. Each message is
/// queued before the next is read, so a full queue stops reading and TCP slows the sender.
async fn read_frames(
    stream: impl AsyncRead + Unpin,
    sender: &mpsc::Sender<Ingested>,
    counters: &Counters,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
    format: crate::parse::Format,
    tls: bool,
) {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let received = if tls {
        &counters.received_tls
    } else {
        &counters.received_tcp
    };
    loop {
        let frame = tokio::select! {
            _ = stop.changed() => return,
            frame = next_frame(&mut reader, limits.max_line_bytes) => frame,
        };
        let (bytes, truncated) = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) | Err(_) => return,
        };
        if truncated {
            Counters::add(&counters.lines_truncated, 1);
        }
        let text = String::from_utf8_lossy(&bytes)
            .trim_end_matches(['\n', '\r', '\0'])
            .to_owned();
        if text.is_empty() {
            continue;
        }
        Counters::add(received, 1);
        if sender.send(Ingested::line(text, format)).await.is_err() {
            return;
        }
    }
}

/// One frame: octet counting when the frame starts with digits and a space (RFC 6587 3.4.1),
/// else up to the next newline. Frames longer than `max` are cut (the rest is read and dropped).
async fn next_frame(
    reader: &mut (impl tokio::io::AsyncBufRead + Unpin),
    max: usize,
) -> std::io::Result<Option<(Vec<u8>, bool)>> {
    let available = reader.fill_buf().await?;
    if available.is_empty() {
        return Ok(None);
    }
    let digits = available.iter().take_while(|byte| byte.is_ascii_digit()).count();
    if digits > 0 && digits <= 9 && available.get(digits) == Some(&b' ') {
        let length: usize = std::str::from_utf8(&available[..digits])
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        reader.consume(digits + 1);
        let keep = length.min(max);
        let mut frame = vec![0u8; keep];
        reader.read_exact(&mut frame).await?;
        let mut rest = (length - keep) as u64;
        while rest > 0 {
            let skipped = tokio::io::copy(&mut (&mut *reader).take(rest), &mut tokio::io::sink()).await?;
            if skipped == 0 {
                break;
            }
            rest -= skipped;
        }
        return Ok(Some((frame, length > keep)));
    }
    let mut frame = Vec::new();
    let mut truncated = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            break;
        }
        let (chunk, done) = match available.iter().position(|&byte| byte == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        let room = max.saturating_sub(frame.len());
        let content = if done { chunk - 1 } else { chunk };
        truncated |= content > room;
        frame.extend_from_slice(&available[..content.min(room)]);
        reader.consume(chunk);
        if done {
            break;
        }
    }
    Ok(Some((frame, truncated)))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        while let Some((bytes, truncated)) = next_frame(&mut reader, max).await.unwrap() {
            out.push((String::from_utf8_lossy(&bytes).trim_end().to_owned(), truncated));
        }
        out
    }

    #[tokio::test]
    async fn newline_and_octet_counting_frames_mix() {
        let input = b"<13>Nov 20 08:15:00 a b: one\n21 <13>1 - - - - - - two<14>Nov 20 08:15:01 h p: three\n";
        let got = frames(input, 1024).await;
        assert_eq!(got[0].0, "<13>Nov 20 08:15:00 a b: one");
        assert_eq!(got[1].0, "<13>1 - - - - - - two");
        assert_eq!(got[2].0, "<14>Nov 20 08:15:01 h p: three");
        assert!(got.iter().all(|(_, truncated)| !truncated));
    }

    #[tokio::test]
    async fn long_frames_are_cut_and_flagged_and_the_next_survives() {
        let mut input = vec![b'x'; 100];
        input.extend_from_slice(b"\nshort\n");
        let got = frames(&input, 10).await;
        assert_eq!(got[0], ("x".repeat(10), true));
        assert_eq!(got[1], ("short".to_owned(), false));
        let got = frames(b"30 0123456789012345678901234567895 tail\n", 10).await;
        assert_eq!(got[0], ("0123456789".to_owned(), true));
        assert_eq!(got[1].0, "tail");
    }
}
