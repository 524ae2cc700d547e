//! Detector integration tests. Every behaviour test runs on both pattern engines.

#![allow(clippy::unwrap_used, clippy::field_reassign_with_default)]

mod correlation;
mod helpers;
mod matching;
mod property;
