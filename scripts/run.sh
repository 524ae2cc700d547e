#!/usr/bin/env bash
# The main job: builds the release binaries and runs, on embedded defaults,
#  - the collector (`haidang serve`): syslog UDP/TCP on 127.0.0.1:5514, HTTP ingest and /health on
#    127.0.0.1:8514, agents on 127.0.0.1:5044, our rules from rules/haidang, data and alerts.jsonl
#    in haidang-data/, with the event index, the alert store and the analysts' web UI on
#    https://127.0.0.1:8443 (make an account: `./target/release/haidang users add NAME --role admin`);
#  - a local agent enrolled with it on first run (identity, spool and status.json in
#    haidang-data/agent/), tailing this machine's auth, syslog and web logs that it can read,
#    and journald when `journalctl` is present.
# Extra arguments go to `haidang serve` (e.g. `--config deploy/haidang.example.toml`; the agent
# then needs `[inputs.agents]` on 127.0.0.1:5044 or its own configuration). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --locked --release -p haidang-collector -p haidang-agent
data=haidang-data
mkdir -p "$data/agent"

./target/release/haidang serve "$@" &
collector=$!
stop() {
  kill ${agent:-} $collector 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
# Wait for the collector (its HTTP port answers once every input is up).
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/8514) 2>/dev/null && break
  kill -0 $collector 2>/dev/null || { echo "run: the collector stopped" >&2; exit 1; }
  sleep 0.2
done

agent_config="$data/agent/agent.toml"
if [ ! -f "$agent_config" ]; then
  journald=false
  command -v journalctl >/dev/null 2>&1 && journald=true
  cat > "$agent_config" <<EOF
# Written by scripts/run.sh: the local agent of the embedded-defaults setup.
data_dir = "$PWD/$data/agent"
[collector]
addresses = ["127.0.0.1:5044"]
[[files]]
name = "system"
include = ["/var/log/auth.log", "/var/log/secure", "/var/log/syslog", "/var/log/messages"]
start_at = "end"
[[files]]
name = "web"
include = ["/var/log/nginx/*access*.log", "/var/log/apache2/*access*.log"]
format = "access"
start_at = "end"
[journald]
enabled = $journald
EOF
fi
if [ ! -f "$data/agent/identity/agent.pem" ]; then
  token=$(./target/release/haidang agents "$@" token --note "local agent (scripts/run.sh)")
  ./target/release/haidang-agent enroll --token "$token" --config "$agent_config"
fi
./target/release/haidang-agent run --config "$agent_config" &
agent=$!
wait $collector
