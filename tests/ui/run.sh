#!/usr/bin/env bash
# Browser test of the analysts' web UI against a real collector.
#
#   tests/ui/run.sh [path/to/haidang]        (default: target/debug/haidang; builds nothing)
#   BROWSER=firefox tests/ui/run.sh [...]     (the same scenario in Firefox; default chromium)
#
# 1. A temporary data directory, an inventory (web01 and mail01 in two agencies) and a
#    configuration on free ports (UI over TLS from the collector's CA, HTTP ingest, no syslog),
#    three users (admin, analyst, agency viewer), `haidang serve`, test lines through
#    POST /ingest/lines, and a wait until search and alerts return them (seed.mjs).
# 2. The Playwright scenario (scenario.mjs) in Debian's Chromium, headless; with BROWSER=firefox
#    the same scenario in Debian's firefox-esr, headless, driven by puppeteer-core (firefox.mjs).
# 3. Screenshots of every step in tests/ui/artifacts/ (Firefox: tests/ui/artifacts/firefox/);
#    exit status non-zero on any failure; the collector is always stopped.
#
# Needs: Node 20+ and npm (playwright-core and puppeteer-core are installed here with `npm ci` when
# missing), Chromium at /usr/bin/chromium or $CHROMIUM, or for Firefox firefox-esr at
# /usr/bin/firefox-esr or $FIREFOX (either is installed with apt-get when run as root). KEEP_WORK=1
# keeps the temporary directory (configuration, collector log, data). HD_UI_SERVE_MISSING=1 lets
# the test serve UI files the collector does not embed (a Chromium trial run only; normally that
# fails).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${1:-$ROOT/target/debug/haidang}"
export BROWSER="${BROWSER:-chromium}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export FIREFOX="${FIREFOX:-/usr/bin/firefox-esr}"
ARTIFACTS="$HERE/artifacts"

fail() {
  echo "ui: $*" >&2
  exit 1
}

[ -x "$BIN" ] || fail "no collector binary at $BIN (build it first: cargo build -p haidang-collector)"
command -v node >/dev/null || fail "node is not installed (Node 20 or newer is needed)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || fail "Node $(node --version) is too old: 20 or newer is needed"
case "$BROWSER" in
  chromium) EXE="$CHROMIUM" EXE_VAR=CHROMIUM DEFAULT_EXE=/usr/bin/chromium PACKAGE=chromium NAME=Chromium ;;
  firefox)
    EXE="$FIREFOX" EXE_VAR=FIREFOX DEFAULT_EXE=/usr/bin/firefox-esr PACKAGE=firefox-esr NAME=Firefox
    # The other browser's screenshots stay where they are.
    ARTIFACTS="$HERE/artifacts/firefox"
    ;;
  *) fail "BROWSER=$BROWSER: chromium or firefox" ;;
esac
if [ ! -x "$EXE" ] && [ "$EXE" = "$DEFAULT_EXE" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ui: installing Debian's $PACKAGE (apt-get)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$PACKAGE"; } >/dev/null || fail "apt-get install $PACKAGE failed"
fi
[ -x "$EXE" ] || fail "no $NAME at $EXE: run 'sudo apt-get install -y $PACKAGE', or set $EXE_VAR"
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ] || [ ! -f "$HERE/node_modules/puppeteer-core/package.json" ]; then
  echo "ui: installing playwright-core and puppeteer-core (npm ci)"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed in $HERE"
fi

WORK="$(mktemp -d -t haidang-ui.XXXXXX)"
PID=""
cleanup() {
  local status=$?
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$PID" 2>/dev/null; then
      echo "ui: the collector did not stop in 10 s; killing it" >&2
      kill -KILL "$PID" 2>/dev/null || true
    fi
    wait "$PID" 2>/dev/null || true
  fi
  if [ -f "$WORK/collector.log" ]; then
    mkdir -p "$ARTIFACTS"
    cp "$WORK/collector.log" "$ARTIFACTS/collector.log" 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
      echo "ui: last lines of the collector's log ($ARTIFACTS/collector.log):" >&2
      tail -n 25 "$WORK/collector.log" >&2 || true
    fi
  fi
  if [ -n "${KEEP_WORK:-}" ]; then
    echo "ui: kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Only this browser's files: Chromium's folder holds Firefox's as a subfolder.
mkdir -p "$ARTIFACTS" "$WORK/data"
find "$ARTIFACTS" -maxdepth 1 -type f -delete

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
UI_PORT="$(free_port)"
INGEST_PORT="$(free_port)"
while [ "$INGEST_PORT" = "$UI_PORT" ]; do INGEST_PORT="$(free_port)"; done
password() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

OTHER_AGENCY="Văn phòng UBND thành phố"
VIEWER_AGENCY="Sở Khoa học và Công nghệ"
cat >"$WORK/inventory.yml" <<EOF
# Test inventory: two hosts in two agencies (shape of deploy/inventory.example.yml).
systems:
  - name: Cổng thông tin điện tử thành phố
    agency: $OTHER_AGENCY
    grade: 3
    hosts: [web01]
  - name: Thư điện tử công vụ
    agency: $VIEWER_AGENCY
    grade: 2
    hosts: [mail01]
EOF

CONFIG="$WORK/haidang.toml"
cat >"$CONFIG" <<EOF
version = 1
data_dir = "$WORK/data"
rules = ["$ROOT/rules/haidang"]
watch_rules = false
inventory = "$WORK/inventory.yml"
default_offset = "+07:00"
threads = 2

[inputs.syslog_udp]
enabled = false

[inputs.syslog_tcp]
enabled = false

[inputs.syslog_tls]
enabled = false

[inputs.http]
listen = "127.0.0.1:$INGEST_PORT"

[inputs.agents]
listen = "127.0.0.1:0"

[ui]
listen = "127.0.0.1:$UI_PORT"
EOF
"$BIN" check-config "$CONFIG" >"$WORK/check-config.log" 2>&1 || {
  cat "$WORK/check-config.log" >&2
  fail "haidang check-config rejected the test configuration"
}

ADMIN_PASSWORD="$(password)"
ANALYST_PASSWORD="$(password)"
VIEWER_PASSWORD="$(password)"
add_user() { # name role password [agency...]
  local name=$1 role=$2 secret=$3
  shift 3
  local args=(users add "$name" --role "$role" --password-stdin --config "$CONFIG")
  local agency
  for agency in "$@"; do args+=(--agency "$agency"); done
  printf '%s\n' "$secret" | "$BIN" "${args[@]}" >>"$WORK/users.log" 2>&1 || {
    cat "$WORK/users.log" >&2
    fail "haidang users add $name --role $role failed"
  }
}
add_user hd-admin admin "$ADMIN_PASSWORD"
add_user hd-analyst analyst "$ANALYST_PASSWORD"
add_user hd-viewer agency_viewer "$VIEWER_PASSWORD" "$VIEWER_AGENCY"

echo "ui: browser $NAME ($EXE)"
echo "ui: starting $BIN serve (UI https://127.0.0.1:$UI_PORT, ingest http://127.0.0.1:$INGEST_PORT)"
"$BIN" serve --config "$CONFIG" >"$WORK/collector.log" 2>&1 &
PID=$!

ready=""
for _ in $(seq 240); do
  kill -0 "$PID" 2>/dev/null || fail "the collector exited while starting"
  ui="$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$UI_PORT/api/v1/me" || true)"
  ingest="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$INGEST_PORT/health" || true)"
  if [ "$ui" = "401" ] && [ "$ingest" = "200" ]; then
    ready=1
    break
  fi
  sleep 0.5
done
[ -n "$ready" ] || fail "the collector did not answer in 120 s (UI /api/v1/me: ${ui:-none}, ingest /health: ${ingest:-none})"

cat >"$WORK/context.json" <<EOF
{
  "baseUrl": "https://127.0.0.1:$UI_PORT",
  "ingestUrl": "http://127.0.0.1:$INGEST_PORT",
  "users": {
    "admin": {"name": "hd-admin", "password": "$ADMIN_PASSWORD"},
    "analyst": {"name": "hd-analyst", "password": "$ANALYST_PASSWORD"},
    "viewer": {"name": "hd-viewer", "password": "$VIEWER_PASSWORD"}
  },
  "hosts": {"other": "web01", "viewer": "mail01"},
  "agencies": {"other": "$OTHER_AGENCY", "viewer": "$VIEWER_AGENCY"},
  "artifacts": "$ARTIFACTS"
}
EOF

node "$HERE/seed.mjs" "$WORK/context.json" "$WORK/seed.json"
node "$HERE/scenario.mjs" "$WORK/context.json" "$WORK/seed.json"
