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
    /// Run the collector: syslog (UDP, TCP, TLS) and HTTP JSON inputs, parsing, detection,
    /// alerts. Without --config it runs on embedded defaults, listening on localhost.
    Serve {
        /// Configuration file (TOML); see deploy/haidang.example.toml.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check a configuration file without starting anything.
    CheckConfig {
        /// The file.
        config: PathBuf,
    },
    /// Parse and normalise a log file (`-` for standard input); print one JSON event per line.
    /// The output is what `haidang detect` reads.
    Parse {
        /// Format of every line (default: detected per line): auto, rfc3164, rfc5424, cef,
        /// leef, kv, asa, paloalto, access, auditd, json.
        #[arg(long, default_value = "auto")]
        format: haidang_collector::parse::Format,
        /// Offset of timestamps written without one.
        #[arg(long, default_value = "+07:00", value_parser = parse_offset)]
        default_offset: time::UtcOffset,
        /// Inventory file (hosts to information systems and agencies).
        #[arg(long)]
        inventory: Option<PathBuf>,
        /// The input.
        input: String,
    },
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

/// A UTC offset such as `+07:00`.
fn parse_offset(text: &str) -> Result<time::UtcOffset, String> {
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    time::UtcOffset::parse(text, &format).map_err(|_| format!("`{text}` is not an offset like +07:00"))
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
        Command::Serve { config } => serve(config),
        Command::CheckConfig { config } => {
            haidang_collector::serve::ServeConfig::load(&config)?;
            writeln!(out, "{}: valid", config.display())?;
            out.flush()?;
            Ok(true)
        }
        Command::Parse {
            format,
            default_offset,
            inventory,
            input,
        } => {
            let context = haidang_collector::parse::ParseContext {
                default_offset,
                ..Default::default()
            };
            let inventory = match inventory {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read inventory {}", path.display()))?;
                    Some(haidang_collector::Inventory::from_yaml(
                        &path.display().to_string(),
                        &text,
                    )?)
                }
                None => None,
            };
            let summary =
                haidang_collector::commands::parse(&input, format, context, inventory.as_ref(), &mut out)?;
            out.flush()?;
            eprintln!(
                "{}",
                serde_json::json!({"lines": summary.lines, "events": summary.events, "unparsed": summary.unparsed})
            );
            Ok(true)
        }
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

fn serve(config: Option<PathBuf>) -> anyhow::Result<bool> {
    use haidang_collector::serve::{ServeConfig, Server};
    let config = match &config {
        Some(path) => ServeConfig::load(path)?,
        None => ServeConfig::defaults(),
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, std::sync::Arc::clone(&stop))?;
    }
    let data_dir = config.data_dir.clone();
    let server = Server::start(config)?;
    let addresses = server.addresses().clone();
    let mut listening = Vec::new();
    for (name, address) in [
        ("syslog udp", addresses.syslog_udp),
        ("syslog tcp", addresses.syslog_tcp),
        ("syslog tls", addresses.syslog_tls),
        ("http ingest (/ingest, /_bulk, /health)", addresses.http),
    ] {
        if let Some(address) = address {
            listening.push(format!("  {name}: {address}"));
        }
    }
    eprintln!(
        "haidang collector running; data in {}; alerts in {}\n{}",
        data_dir.display(),
        server.alerts_path().display(),
        listening.join("\n")
    );
    while !stop.load(std::sync::atomic::Ordering::Acquire) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!("stopping: draining the queue");
    server.shutdown()?;
    Ok(true)
}
