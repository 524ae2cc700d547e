#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test of the workspace and every
# rule's test events on both pattern engines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked --workspace --all-targets
cargo test --locked --workspace
for engine in hyperscan reference; do
  echo "rules test (${engine}):"
  ./target/debug/haidang rules test --engine "$engine" rules/haidang
done
