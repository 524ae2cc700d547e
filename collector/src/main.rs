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
    /// Run the collector: agents, syslog (UDP, TCP, TLS) and HTTP JSON inputs, parsing,
    /// detection, alerts. Without --config it runs on embedded defaults, listening on localhost.
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
    /// Send EVTX, JSON-lines or plain log files to a running collector (backfill, incident
    /// response); prints a JSON summary per file.
    Import {
        /// The collector's HTTP ingest, host:port (default: `[inputs.http] listen` of --config, or
        /// 127.0.0.1:8514).
        #[arg(long)]
        collector: Option<String>,
        /// Collector configuration to take the address from.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Format of plain files' lines (default: detected per line): rfc3164, rfc5424, access,
        /// auditd, cef, leef, kv, asa, paloalto.
        #[arg(long)]
        format: Option<String>,
        /// Host name for lines that carry none (access logs, audit.log).
        #[arg(long)]
        host: Option<String>,
        /// Files.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Enroll and manage agents: tokens, the registry, revocation.
    Agents {
        /// Collector configuration (for its data directory); default: the embedded defaults.
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// Manage the analysts' accounts (web UI and API).
    Users {
        /// Collector configuration (for its data directory); default: the embedded defaults.
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Read the collector's write-ahead log (what agents sent and were acknowledged for).
    Wal {
        /// Collector configuration (for its data directory); default: the embedded defaults.
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: WalCommand,
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
enum AgentsCommand {
    /// Create an enrollment token; give it to the agent's administrator for
    /// `haidang-agent enroll --token T --collector host:port`.
    Token {
        /// How many hours the token stays valid.
        #[arg(long, default_value_t = 24)]
        valid_hours: u64,
        /// How many agents may enroll with it.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// A note (the agency, the servers it is for).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Revoke an enrollment token by its id.
    RevokeToken {
        /// The token id (second part of the token, shown by `list`).
        id: String,
    },
    /// List enrolled agents and live tokens, one JSON object per line.
    List,
    /// Revoke an agent: its sessions are refused from now on.
    Revoke {
        /// The agent id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a user. Without --password-stdin a random password is made and printed once.
    Add {
        /// The user name.
        name: String,
        /// admin, analyst (every agency) or agency_viewer (only --agency).
        #[arg(long)]
        role: String,
        /// An agency an agency viewer may see (repeat for several); the names of the inventory.
        #[arg(long = "agency")]
        agencies: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, one JSON object per line.
    List,
}

#[derive(Debug, Subcommand)]
enum WalCommand {
    /// Print every record as a JSON line (agent, sequence number, source, line or event).
    Dump {
        /// Only this agent's records.
        #[arg(long)]
        agent: Option<String>,
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

fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<haidang_collector::serve::ServeConfig> {
    Ok(match path {
        Some(path) => haidang_collector::serve::ServeConfig::load(path)?,
        None => haidang_collector::serve::ServeConfig::defaults(),
    })
}

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
        Command::Agents { config, command } => {
            use haidang_collector::commands::agents;
            let config = load_config(config.as_deref())?;
            match command {
                AgentsCommand::Token {
                    valid_hours,
                    uses,
                    note,
                } => agents::create_token(
                    &config,
                    std::time::Duration::from_secs(valid_hours * 3600),
                    uses,
                    &note,
                    &mut out,
                )?,
                AgentsCommand::RevokeToken { id } => agents::revoke_token(&config, &id)?,
                AgentsCommand::List => agents::list(&config, &mut out)?,
                AgentsCommand::Revoke { id } => agents::revoke(&config, &id)?,
            }
            out.flush()?;
            Ok(true)
        }
        Command::Import {
            collector,
            config,
            format,
            host,
            files,
        } => {
            if let Some(format) = &format {
                format
                    .parse::<haidang_collector::parse::Format>()
                    .map_err(|problem| anyhow::anyhow!("--format: {problem}"))?;
            }
            let collector = match collector {
                Some(address) => address,
                None => load_config(config.as_deref())?
                    .http
                    .map(|listener| listener.address.to_string())
                    .context("the configuration has no HTTP input; give --collector")?,
            };
            let options = haidang_collector::commands::import::ImportOptions {
                collector,
                files,
                format,
                host,
            };
            let summaries = haidang_collector::commands::import::import(&options)?;
            let mut ok = true;
            for summary in &summaries {
                ok &= summary.errors == 0;
                serde_json::to_writer(&mut out, summary)?;
                writeln!(out)?;
            }
            out.flush()?;
            Ok(ok)
        }
        Command::Users { config, command } => {
            let config = load_config(config.as_deref())?;
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
            let store = haidang_collector::store::Store::open(&config.data_dir.join("haidang.db"))?;
            match command {
                UsersCommand::Add {
                    name,
                    role,
                    agencies,
                    password_stdin,
                } => {
                    use haidang_collector::store::Role;
                    let role = match role.as_str() {
                        "admin" => Role::Admin,
                        "analyst" => Role::Analyst,
                        "agency_viewer" => Role::AgencyViewer,
                        other => anyhow::bail!("--role: `{other}` is not admin, analyst or agency_viewer"),
                    };
                    if role == Role::AgencyViewer && agencies.is_empty() {
                        anyhow::bail!("an agency viewer needs at least one --agency");
                    }
                    let (password, made) = if password_stdin {
                        let mut line = String::new();
                        std::io::stdin().read_line(&mut line)?;
                        (line.trim_end_matches(['\n', '\r']).to_owned(), false)
                    } else {
                        (haidang_collector::agents::random_password()?, true)
                    };
                    store.create_user(&name, &password, role, &agencies)?;
                    if made {
                        writeln!(out, "{password}")?;
                    }
                    eprintln!("user {name} added");
                }
                UsersCommand::List => {
                    for user in store.users()? {
                        serde_json::to_writer(&mut out, &user)?;
                        writeln!(out)?;
                    }
                }
            }
            out.flush()?;
            Ok(true)
        }
        Command::Wal {
            config,
            command: WalCommand::Dump { agent },
        } => {
            let config = load_config(config.as_deref())?;
            let count = haidang_collector::commands::agents::dump_wal(&config, agent.as_deref(), &mut out)?;
            out.flush()?;
            eprintln!("{}", serde_json::json!({ "records": count }));
            Ok(true)
        }
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
        ("http ingest (/ingest, /_bulk, /health, /metrics)", addresses.http),
        (
            "agents (mutual TLS; `haidang agents token` to enroll one)",
            addresses.agents,
        ),
        (
            "web UI and API (https; `haidang users add` for accounts)",
            addresses.ui,
        ),
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
