#!/usr/bin/env bash
# Fuzzes the Sigma rule parser (detector/fuzz). Short form for CI: `scripts/fuzz.sh 30`; the long
# form is `scripts/fuzz.sh 660` (or more). Installs cargo-fuzz when missing. Stable Rust needs
# RUSTC_BOOTSTRAP=1 for the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/../detector/fuzz"
seconds=${1:-30}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
mkdir -p corpus/rule_parser
# Seed with our own rules (the corpus folder is git-ignored).
for file in $(find ../../rules/haidang -name '*.yml'); do
  cp "$file" "corpus/rule_parser/seed_$(basename "$file")"
done
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . rule_parser -- \
  -max_total_time="$seconds" -dict=sigma.dict -max_len=4096 -print_final_stats=1 2>&1 | tail -n 20
