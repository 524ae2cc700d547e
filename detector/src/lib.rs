//! The Hải Đăng detection core: Sigma rules compiled onto a multi-pattern engine.
//!
//! Rule text goes through three stages:
//!
//! - [`sigma`]: YAML to a typed [`SigmaRule`] / [`SigmaCorrelation`] / [`SigmaFilter`] that mirrors
//!   the specification (v2.1).
//! - compilation: each rule, with the field map of every route that reaches it ([`Mappings`]),
//!   becomes a boolean expression over predicates; the string predicates of all rules of a route
//!   go into one pattern database per field ([`PatternEngine`]: Hyperscan, or the [`Reference`]
//!   engine on the `regex` crate).
//! - matching: a [`RuleSet`] is shared between threads; each thread has a [`Scanner`] that routes
//!   an event, scans each of its field values once, and evaluates the conditions only of the rules
//!   a hit made possible (plus those that can hold without one, like `not selection`).
//!   A [`Correlator`] keeps the windows of correlation rules.
//!
//! The crate is synchronous, deterministic and does no I/O: callers give it rule text and, if they
//! want compiled databases kept between runs, a [`CompileCache`].
//!
//! ```
//! use std::sync::Arc;
//! use haidang_detector::{Mappings, Reference, RuleSet, RuleSetOptions, RuleSource};
//! use haidang_event::{Event, Logsource};
//!
//! let mappings = Mappings::from_files([("linux.yml", "product: linux\nroutes:\n  - service: auth\n")]).unwrap();
//! let rule = RuleSource {
//!     name: "sudo.yml".into(),
//!     text: "title: Sudo to a shell\nid: r1\nlogsource: {product: linux, service: auth}\n\
//!            detection:\n  sel:\n    process.command_line|endswith: [/bin/bash, /bin/sh]\n  condition: sel\n".into(),
//! };
//! let ruleset = Arc::new(RuleSet::<Reference>::compile(&[rule], &mappings, RuleSetOptions::default(), None).unwrap());
//! let mut scanner = ruleset.scanner().unwrap();
//! let mut event = Event::default();
//! event.logsource = Logsource { product: Some("linux".into()), service: Some("auth".into()), category: None };
//! event.fields.push("process.command_line", "/usr/bin/sudo /bin/bash");
//! let mut matches = Vec::new();
//! scanner.scan(&event, &mut matches);
//! assert_eq!(ruleset.rules()[matches[0]].id, "r1");
//! ```

mod compile;
mod correlation;
mod engine;
mod error;
mod evaluate;
mod mapping;
mod ruleset;
pub mod sigma;

pub use correlation::{CorrelationMatch, CorrelationStats, Correlator};
#[cfg(feature = "hyperscan")]
pub use engine::Hyperscan;
pub use engine::{CompileFailure, PatternEngine, PatternSpec, Reference};
pub use error::{DetectorError, RuleError};
pub use mapping::{Mappings, Route};
pub use ruleset::{
    CompileCache, LoadReport, RuleFailure, RuleInfo, RuleKind, RuleSet, RuleSetOptions, RuleSource, Scanner,
};
pub use sigma::{SigmaCorrelation, SigmaFilter, SigmaRule};
