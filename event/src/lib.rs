//! The event model shared by every Hải Đăng component.
//!
//! An [`Event`] is one normalised log record: when it happened, where it came from (host, agency,
//! information system, source type), the Sigma [`Logsource`] the detector routes it by, the raw line
//! verbatim, and its typed [`Fields`]. Field names are flat, dotted strings (`source.ip`,
//! `process.command_line`, `EventID`); a field may repeat, which is how list values are kept.
//!
//! [`flatten_json`] turns a foreign JSON document (the `evtx` crate's output, Winlogbeat, NXLog)
//! into flat fields. [`wire`] is the agent ↔ collector protocol: its messages, frames and
//! compressed batches. This crate is plain data: no I/O, no async runtime.

mod event;
mod flatten;
pub mod wire;

pub use event::{Event, Fields, Logsource, Value};
pub use flatten::{flatten_json, flatten_json_owned};
