#!/usr/bin/env bash
# The main job: builds the release binary and runs the collector on its embedded defaults
# (syslog UDP/TCP on 127.0.0.1:5514, HTTP ingest and /health on 127.0.0.1:8514, our rules from
# rules/haidang, data and alerts.jsonl in haidang-data/). Extra arguments go to `haidang serve`
# (e.g. `--config deploy/haidang.example.toml`). The agent, the index and the UI are not built yet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked --release -p haidang-collector
exec ./target/release/haidang serve "$@"
