//! The Hải Đăng agent. A skeleton: file tailing, journald, packet metadata, the spool and the
//! shipper come with the agent issue. It depends only on `haidang-event`, never on the detector.

/// The agent's version, reported in heartbeats once shipping exists.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
