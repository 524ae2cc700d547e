//! `haidang-agent`: not built yet beyond `--version`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let argument = std::env::args().nth(1);
    if matches!(argument.as_deref(), Some("--version" | "-V")) {
        eprintln!("haidang-agent {}", haidang_agent::VERSION);
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "haidang-agent {}: collection and shipping are not implemented yet",
        haidang_agent::VERSION
    );
    ExitCode::from(2)
}
