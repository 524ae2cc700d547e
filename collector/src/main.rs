//! `haidang`: the Hải Đăng collector's command line.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use haidang_collector::DirectoryCache;
use haidang_collector::commands::{
    DetectOptions, EngineChoice, RuleOptions, default_tests_directory, detect, rules_check, rules_test,
};

/// Hải Đăng: the city SOC's collector, detector and search.
#[derive(Debug, Parser)]
#[command(name = "haidang", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with Sigma rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Match events (EVTX, JSON lines, concatenated JSON; `-` is standard input) against rules and
    /// print one JSON line per match.
    Detect {
        /// A rule file or directory (repeat the option for several).
        #[arg(long = "rules", required = true)]
        rules: Vec<PathBuf>,
        /// Mapping directory (default: the built-in mappings).
        #[arg(long)]
        mappings: Option<PathBuf>,
        /// Pattern engine: hyperscan or reference.
        #[arg(long, default_value = "hyperscan")]
        engine: EngineChoice,
        /// Compile cache directory (default: ~/.cache/haidang).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// Do not use the compile cache.
        #[arg(long)]
        no_cache: bool,
        /// Count matches without printing them.
        #[arg(long)]
        count: bool,
        /// Reload the rules when their files change (checked every second) or on SIGHUP; for
        /// long-running inputs such as standard input.
        #[arg(long)]
        watch: bool,
        /// Matching threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Inputs.
        #[arg(required = true)]
        inputs: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Load every rule and list those that do not load, with the reason.
    Check {
        /// Mapping directory (default: the built-in mappings).
        #[arg(long)]
        mappings: Option<PathBuf>,
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run every rule against its test events (rules/tests/*.yml).
    Test {
        /// Mapping directory (default: the built-in mappings).
        #[arg(long)]
        mappings: Option<PathBuf>,
        /// Test directory (default: `tests` beside the first rule directory).
        #[arg(long)]
        tests: Option<PathBuf>,
        /// Pattern engine: hyperscan or reference.
        #[arg(long, default_value = "hyperscan")]
        engine: EngineChoice,
        /// Rule files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

// Matching allocates and frees many small strings per event; mimalloc does that far faster than
// the system allocator (measured: see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("haidang: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<bool> {
    // Not locked: with several threads, matches are written from the output thread.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
    match cli.command {
        Command::Rules {
            command: RulesCommand::Check { mappings, paths },
        } => {
            let options = RuleOptions {
                rules: paths,
                mappings,
                ..RuleOptions::default()
            };
            let ok = rules_check(&options, &mut out)?;
            out.flush()?;
            Ok(ok)
        }
        Command::Rules {
            command:
                RulesCommand::Test {
                    mappings,
                    tests,
                    engine,
                    paths,
                },
        } => {
            let tests = tests.unwrap_or_else(|| default_tests_directory(&paths));
            let options = RuleOptions {
                rules: paths,
                mappings,
                ..RuleOptions::default()
            };
            let summary = rules_test(&options, &tests, engine, &mut out)?;
            out.flush()?;
            Ok(summary.failed == 0)
        }
        Command::Detect {
            rules,
            mappings,
            engine,
            cache_dir,
            no_cache,
            count,
            threads,
            watch,
            inputs,
        } => {
            let cache = if no_cache {
                None
            } else {
                Some(cache_dir.unwrap_or_else(DirectoryCache::default_directory))
            };
            let options = DetectOptions {
                rules: RuleOptions {
                    rules,
                    mappings,
                    cache,
                    ..RuleOptions::default()
                },
                inputs,
                engine,
                print_matches: !count,
                threads: threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
                    .max(1),
                watch: watch.then_some(std::time::Duration::from_secs(1)),
            };
            let summary = detect(&options, &mut out).context("detect")?;
            out.flush()?;
            for sample in &summary.error_samples {
                eprintln!("warning: {sample}");
            }
            let seconds = summary.match_time.as_secs_f64();
            let statistics = serde_json::json!({
                "rules": summary.rules,
                "rule_failures": summary.rule_failures,
                "load_seconds": summary.load_time.as_secs_f64(),
                "events": summary.events,
                "input_errors": summary.input_errors,
                "unrouted": summary.unrouted,
                "matches": summary.matches,
                "match_seconds": seconds,
                "events_per_second": if seconds > 0.0 { summary.events as f64 / seconds } else { 0.0 },
                "correlation_overflow": summary.correlation_overflow,
                "correlation_late": summary.correlation_late,
            });
            eprintln!("{statistics}");
            Ok(true)
        }
    }
}
