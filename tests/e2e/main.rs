//! End-to-end tests and the workspace invariants of ARCHITECTURE.md.

#![allow(clippy::unwrap_used)]

mod agent;
mod invariants;
