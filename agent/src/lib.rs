//! The Hải Đăng agent: reads logs on a server and ships them to the collector without losing any.
//!
//! ```text
//! sources (files, journald) ─► run loop ─► spool (disk, bounded) ─► shipper ─► collector
//!                                 └── checkpoint stored with each spool entry     (mutual TLS,
//!                                                                                  acked batches)
//! ```
//!
//! - [`source`]: tailing files (rotation by rename and copytruncate, inode reuse recognised by
//!   fingerprint, multi-line records) and following journald.
//! - [`spool`]: synced, compressed batches with sequence numbers, deleted only once acknowledged.
//! - [`shipper`] and [`connection`]: the protocol of `haidang_event::wire` over rustls, enrollment.
//! - [`run`]: the loop tying them together; [`config`]: the TOML configuration.
//!
//! It depends only on `haidang-event`, never on the detector.

/// The agent's version, reported in heartbeats once shipping exists.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod config;
pub mod connection;
mod durable;
pub mod facts;
pub mod packet;
pub mod run;
pub mod shipper;
pub mod source;
pub mod spool;

pub(crate) use durable::write_atomically;
pub use packet::{LiveCapture, LiveCaptureConfig, PacketConfig, PacketProcessor, PacketStats};
pub use source::{
    FileCheckpoint, FileRecord, FileSource, FileSourceConfig, JournalRecord, JournaldSource, SourceError,
    StartAt,
};
