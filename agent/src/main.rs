//! `haidang-agent`: the command line of the agent.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use haidang_agent::config::AgentConfig;
use haidang_agent::run::Signals;

/// The Hải Đăng agent: tails logs and journald and ships them to the collector.
#[derive(Debug, Parser)]
#[command(name = "haidang-agent", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the agent (SIGHUP reloads the configuration; SIGINT/SIGTERM stop it).
    Run {
        /// Configuration file (TOML); see deploy/haidang-agent.example.toml.
        #[arg(long, default_value = "/etc/haidang/agent.toml")]
        config: PathBuf,
    },
    /// Obtain a client certificate from the collector with an enrollment token
    /// (`haidang agents token` on the collector makes one).
    Enroll {
        /// The token.
        #[arg(long)]
        token: String,
        /// The collector's agent address, host:port (default: the first in the configuration).
        #[arg(long)]
        collector: Option<String>,
        /// Configuration file (for the data directory and host name).
        #[arg(long, default_value = "/etc/haidang/agent.toml")]
        config: PathBuf,
    },
    /// Check a configuration file without starting anything.
    CheckConfig {
        /// The file.
        config: PathBuf,
    },
    /// Print the packet metadata of a pcap/pcapng file as JSON lines (flows, DNS, HTTP, TLS,
    /// SSH), every flow still open at the end included.
    ///
    /// Arguments: FILE [--filter BPF] [--host NAME] [--max-flows N] [--active-timeout S (0: never)]
    /// [--tcp-timeout S] [--udp-timeout S] [--icmp-timeout S] [--dns-timeout S]
    Pcap {
        /// The file and options, as above.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        arguments: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Pcap { arguments } = &cli.command {
        return haidang_agent::packet::pcap_main(arguments);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("haidang-agent: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run { config: path } => {
            let config = AgentConfig::load(&path)?;
            let signals = Signals::default();
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                signal_hook::flag::register(signal, Arc::clone(&signals.stop))?;
            }
            signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&signals.reload))?;
            haidang_agent::run::run(config, Some(path), &signals)
        }
        Command::Enroll {
            token,
            collector,
            config: path,
        } => {
            let config = AgentConfig::load(&path)?;
            let collector = collector.unwrap_or_else(|| config.collectors[0].clone());
            let agent_id =
                haidang_agent::connection::enroll(&config.data_dir, &token, &collector, &config.hostname)
                    .with_context(|| format!("enrolling with {collector}"))?;
            eprintln!(
                "enrolled as {agent_id}; identity saved in {}",
                config.data_dir.join("identity").display()
            );
            Ok(())
        }
        Command::CheckConfig { config } => {
            AgentConfig::load(&config)?;
            eprintln!("{}: valid", config.display());
            Ok(())
        }
        Command::Pcap { .. } => unreachable!("handled in main"),
    }
}
