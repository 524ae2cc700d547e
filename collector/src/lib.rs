//! The Hải Đăng collector and its `haidang` command.
//!
//! For now the collector is the command line around the detector: loading rule directories and
//! mapping files ([`load_rules`], [`load_mappings`]), reading events from EVTX and JSON inputs
//! ([`read_events`]), keeping compiled pattern databases between runs ([`DirectoryCache`]), and the
//! `rules check`, `rules test` and `detect` commands ([`commands`]).

pub mod agents;
mod cache;
pub mod commands;
pub mod index;
mod input;
mod inventory;
pub mod parse;
mod reload;
mod rules;
pub mod serve;
pub mod store;
pub mod wal;

pub use cache::DirectoryCache;
pub use input::{
    Document, InputStats, Record, event_from_json, event_from_json_owned, event_to_json, parse_record,
    read_events, read_records,
};
pub use inventory::{Inventory, System};
pub use reload::{LiveRules, ReloadOutcome, watch};
pub use rules::{LoadedRules, load_mappings, load_rules};
