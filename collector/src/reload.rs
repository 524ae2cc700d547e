//! Rules that change at run time: a compiled rule set swapped atomically when the rule files
//! change or on SIGHUP, while matching goes on.
//!
//! Matching threads hold an `Arc` of the rule set they started a batch with, so a swap never
//! disturbs a scan in progress; each thread looks at [`LiveRules::generation`] between batches and
//! takes the new set (with a new scanner) when it moved. Nothing is dropped: events in flight are
//! matched by the old rules, the next ones by the new.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use haidang_detector::{PatternEngine, RuleSet};

use crate::commands::{RuleOptions, compile};

/// The current compiled rules and a counter of swaps.
pub struct LiveRules<E: PatternEngine> {
    options: RuleOptions,
    current: RwLock<Arc<RuleSet<E>>>,
    generation: AtomicU64,
    mappings: haidang_detector::Mappings,
    unreadable: std::sync::atomic::AtomicUsize,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// The generation now in use.
    pub generation: u64,
    /// Rules loaded.
    pub rules: usize,
    /// Rules that did not load.
    pub failures: usize,
}

impl<E: PatternEngine> LiveRules<E> {
    /// Loads the rules for the first time.
    pub fn load(options: RuleOptions) -> anyhow::Result<LiveRules<E>> {
        let compiled = compile::<E>(&options)?;
        Ok(LiveRules {
            options,
            current: RwLock::new(compiled.ruleset),
            generation: AtomicU64::new(0),
            mappings: compiled.mappings,
            unreadable: std::sync::atomic::AtomicUsize::new(compiled.loaded.unreadable.len()),
        })
    }

    /// The mappings the rules were loaded with.
    pub fn mappings(&self) -> &haidang_detector::Mappings {
        &self.mappings
    }

    /// The rule set in use and its generation.
    pub fn current(&self) -> (u64, Arc<RuleSet<E>>) {
        // The generation is read under the lock so that the pair is consistent.
        let guard = match self.current.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        (self.generation.load(Ordering::Acquire), Arc::clone(&guard))
    }

    /// Rule files of the current load that could not be read.
    pub fn unreadable(&self) -> usize {
        self.unreadable.load(Ordering::Acquire)
    }

    /// The generation in use (cheap: a thread checks it between batches).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Loads and compiles the rules again and swaps them in. Compilation happens before the swap,
    /// outside the lock; if it fails as a whole, the current rules stay.
    pub fn reload(&self) -> anyhow::Result<ReloadOutcome> {
        let compiled = compile::<E>(&self.options)?;
        let rules = compiled.ruleset.rules().len();
        let failures = compiled.ruleset.report().failures.len() + compiled.loaded.unreadable.len();
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = compiled.ruleset;
        self.unreadable
            .store(compiled.loaded.unreadable.len(), Ordering::Release);
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        Ok(ReloadOutcome {
            generation,
            rules,
            failures,
        })
    }

    /// A fingerprint of the rule files: every path with its size and modification time.
    pub fn fingerprint(&self) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
        let mut files = Vec::new();
        for path in &self.options.rules {
            collect(path, &mut files);
        }
        files.sort();
        files
    }
}

fn collect(path: &std::path::Path, out: &mut Vec<(PathBuf, u64, Option<SystemTime>)>) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    if metadata.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                collect(&entry.path(), out);
            }
        }
    } else {
        out.push((path.to_owned(), metadata.len(), metadata.modified().ok()));
    }
}

/// Watches for rule changes (polling the files every `interval`) and SIGHUP, reloading `live`
/// until `stop` is set. Each reload is reported on stderr.
pub fn watch<E: PatternEngine>(
    live: Arc<LiveRules<E>>,
    interval: Duration,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let hangup = Arc::new(AtomicBool::new(false));
    if let Err(error) = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&hangup)) {
        eprintln!("warning: cannot listen for SIGHUP: {error}");
    }
    // Taken before the thread starts, so a change made right after `watch` returns is seen.
    let mut last = live.fingerprint();
    std::thread::spawn(move || {
        let step = Duration::from_millis(50).min(interval);
        let mut waited = Duration::ZERO;
        while !stop.load(Ordering::Acquire) {
            std::thread::sleep(step);
            waited += step;
            let signalled = hangup.swap(false, Ordering::AcqRel);
            if !signalled && waited < interval {
                continue;
            }
            waited = Duration::ZERO;
            let now = live.fingerprint();
            if !signalled && now == last {
                continue;
            }
            last = now;
            match live.reload() {
                Ok(outcome) => eprintln!(
                    "rules reloaded: generation {}, {} rules, {} not loaded",
                    outcome.generation, outcome.rules, outcome.failures
                ),
                Err(error) => eprintln!("warning: rules not reloaded, keeping the current ones: {error:#}"),
            }
        }
    })
}
