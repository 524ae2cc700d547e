//! End-to-end tests and the workspace invariants of ARCHITECTURE.md.

mod invariants;
