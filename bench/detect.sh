#!/usr/bin/env bash
# Detection throughput: the SigmaHQ corpus over the OTRF Windows events, Hải Đăng against rsigma,
# in the same run, on one core (taskset -c 0), at 100, 1,000 and all rules.
#
#   bench/detect.sh [DATA_DIR] [EVENTS]
#
# DATA_DIR defaults to ../shared/data; EVENTS (default 100000) is how many events to take from the
# OTRF atomic Windows datasets, in sorted file order. rsigma 0.23.0 is installed with
# `cargo install --locked rsigma@0.23.0` when missing. Work files go to a temporary directory.
#
# Method, identical for both tools: run once over the events and once over no events; events/s =
# EVENTS / (wall time with events - wall time without). This excludes rule loading from both and
# includes reading and parsing the JSON. Each tool gets one warm-up run first (which also fills
# Hải Đăng's compile cache). Hải Đăng also reports its own matching-only rate.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(realpath "${1:-../shared/data}")
EVENTS=${2:-100000}
WORK=$(mktemp -d /tmp/haidang-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

command -v rsigma >/dev/null || cargo install --locked rsigma@0.23.0
cargo build --locked --release -p haidang-collector >&2
HAIDANG=$PWD/target/release/haidang

echo "preparing $EVENTS events from $DATA/otrf ..." >&2
find "$DATA/otrf/datasets/atomic/windows" -name '*.zip' | sort | while read -r zip; do
  unzip -p "$zip" '*.json' 2>/dev/null || true
done | grep '^{' | head -n "$EVENTS" > "$WORK/events.ndjson" || true
: > "$WORK/empty.ndjson"
EVENTS=$(wc -l < "$WORK/events.ndjson")

SIGMA=$DATA/sigmahq
find "$SIGMA/rules" "$SIGMA/rules-emerging-threats" "$SIGMA/rules-threat-hunting" \
  "$SIGMA/rules-placeholder" "$SIGMA/rules-compliance" -name '*.yml' | sort > "$WORK/all-rules.txt"
TOTAL=$(wc -l < "$WORK/all-rules.txt")

make_set() { # name count: evenly spaced rules from the sorted list
  local name=$1 count=$2 dir=$WORK/rules-$1
  mkdir -p "$dir"
  awk -v total="$TOTAL" -v count="$count" 'BEGIN { step = total / count } { if (NR - 1 >= next_pick) { print; next_pick += step } }' \
    "$WORK/all-rules.txt" | head -n "$count" | nl -ba -nrz | while read -r index path; do
    cp "$path" "$dir/${index}_$(basename "$path")"
  done
}
make_set 100 100
make_set 1000 1000
make_set all "$TOTAL"

calc() { python3 -c "print($1)"; }

seconds() { # command...: wall seconds
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  calc "$end - $start"
}

run_haidang() { taskset -c 0 "$HAIDANG" detect --count --threads 1 --cache-dir "$WORK/cache" --rules "$1" "$2"; }
run_rsigma() { taskset -c 0 rsigma engine eval -q --no-stats -r "$1" -e "@$2"; }

printf '%-8s %-9s %12s %12s %14s %10s\n' rules tool "load s" "events/s" "match-only/s" matches
for set in 100 1000 all; do
  dir=$WORK/rules-$set
  count=$(ls "$dir" | wc -l)
  for tool in haidang rsigma; do
    "run_$tool" "$dir" "$WORK/events.ndjson" > /dev/null 2>&1 || true  # warm-up
    empty=$(seconds "run_$tool" "$dir" "$WORK/empty.ndjson")
    full=$(seconds "run_$tool" "$dir" "$WORK/events.ndjson")
    rate=$(calc "$EVENTS / ($full - $empty)")
    if [ "$tool" = haidang ]; then
      stats=$(run_haidang "$dir" "$WORK/events.ndjson" 2>&1 >/dev/null | tail -n 1)
      matches=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["matches"])')
      only=$(echo "$stats" | python3 -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["events_per_second"])')
    else
      matches=$(run_rsigma "$dir" "$WORK/events.ndjson" 2>/dev/null | wc -l)
      only=-
    fi
    printf '%-8s %-9s %12.2f %12.0f %14s %10s\n' "$count" "$tool" "$empty" "$rate" "$only" "$matches"
  done
done
# Scaling: all rules, every core, Hải Đăng's matching threads (no taskset).
dir=$WORK/rules-all
for threads in 1 2; do
  run_scaled() { "$HAIDANG" detect --count --threads "$threads" --cache-dir "$WORK/cache" --rules "$1" "$2"; }
  empty=$(seconds run_scaled "$dir" "$WORK/empty.ndjson")
  full=$(seconds run_scaled "$dir" "$WORK/events.ndjson")
  printf 'scaling: all rules, %s matching thread(s), no pinning: %.0f events/s\n' "$threads" "$(calc "$EVENTS / ($full - $empty)")"
done
echo "events: $EVENTS; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
