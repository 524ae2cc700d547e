#!/usr/bin/env bash
# The main job, as far as it exists today: builds the release binary and runs detection with our
# rules (and the SigmaHQ corpus when ../shared/data is beside the checkout) over the given inputs
# (EVTX, JSON lines, concatenated JSON; `-` or nothing for standard input), printing one JSON
# line per match. The collector service (`haidang serve`), the index and the UI are not built yet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked --release -p haidang-collector
rules=(--rules rules/haidang)
sigma=../shared/data/sigmahq
if [ -d "$sigma/rules" ]; then
  for folder in rules rules-emerging-threats rules-threat-hunting rules-placeholder rules-compliance; do
    rules+=(--rules "$sigma/$folder")
  done
fi
if [ $# -eq 0 ]; then set -- -; fi
exec ./target/release/haidang detect "${rules[@]}" "$@"
