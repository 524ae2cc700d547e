#!/usr/bin/env python3
"""Fault test: an agent ships a growing, rotating file while the agent and the collector are each
killed with SIGKILL and restarted; afterwards every line must be at the collector exactly once.

    python3 tests/fault.py                        # long form: 120 s, 12 kills of each
    python3 tests/fault.py --seconds 20 --kills 4 # short form (CI)

The writer appends 200-byte lines, each carrying its number, at --rate lines per second (5,000 by
default) to app.log, and rotates by rename (app.log -> app.log.<n>, a new app.log) every
--rotate-every seconds, keeping every generation. The agent tails `app.log*`. Kills alternate
between the agent and the collector at random moments. When the writer is done, the test waits
for the agent to catch up, stops everything, reads the collector's write-ahead log with
`haidang wal dump`, and checks that each line number 0..N-1 appears exactly once.

Prints one JSON summary line and exits non-zero if any line is missing or duplicated.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Writer(threading.Thread):
    """Appends numbered lines at a steady rate and rotates by rename."""

    def __init__(self, directory, rate, seconds, rotate_every):
        super().__init__(daemon=True)
        self.path = os.path.join(directory, "app.log")
        self.rate, self.seconds, self.rotate_every = rate, seconds, rotate_every
        self.written = 0
        self.rotations = 0

    def run(self):
        start = time.monotonic()
        next_rotation = start + self.rotate_every
        out = open(self.path, "a", encoding="ascii")
        padding = "x" * 200
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= self.seconds:
                break
            due = int(elapsed * self.rate)
            if self.written < due:
                chunk = []
                for number in range(self.written, due):
                    line = f"2026-11-27T10:00:00+07:00 web01 app[1]: line={number:09d} "
                    chunk.append(line + padding[: 199 - len(line)] + "\n")
                out.write("".join(chunk))
                out.flush()
                self.written = due
            if time.monotonic() >= next_rotation:
                out.close()
                self.rotations += 1
                os.rename(self.path, f"{self.path}.{self.rotations}")
                out = open(self.path, "a", encoding="ascii")
                next_rotation += self.rotate_every
            time.sleep(0.005)
        out.close()


class Process:
    """A child process that can be killed and restarted."""

    def __init__(self, name, command, log_path):
        self.name, self.command, self.log_path = name, command, log_path
        self.process = None
        self.starts = 0

    def start(self):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(self.command, stdout=log, stderr=log)
        self.starts += 1

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def dump_numbers(haidang, config):
    """Line numbers in the collector's WAL, with their counts."""
    output = subprocess.run(
        [haidang, "wal", "dump", "--config", config], capture_output=True, text=True, check=True
    ).stdout
    counts = {}
    for line in output.splitlines():
        text = json.loads(line).get("line", "")
        marker = text.find("line=")
        if marker >= 0:
            number = int(text[marker + 5 : marker + 14])
            counts[number] = counts.get(number, 0) + 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--kills", type=int, default=12, help="SIGKILLs of each process")
    parser.add_argument("--rate", type=int, default=5000, help="lines per second")
    parser.add_argument("--rotate-every", type=float, default=None, help="seconds (default: seconds/5)")
    parser.add_argument("--haidang", default=os.path.join(ROOT, "target/debug/haidang"))
    parser.add_argument("--agent", default=os.path.join(ROOT, "target/debug/haidang-agent"))
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    arguments = parser.parse_args()
    rotate_every = arguments.rotate_every or arguments.seconds / 5

    work = tempfile.mkdtemp(prefix="haidang-fault-")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    agent_port, http_port = free_port(), free_port()
    collector_config = os.path.join(work, "collector.toml")
    with open(collector_config, "w") as out:
        out.write(
            f"""data_dir = "{work}/collector"
rules = ["{ROOT}/rules/haidang"]
watch_rules = false
[inputs.syslog_udp]
enabled = false
[inputs.syslog_tcp]
enabled = false
[inputs.http]
listen = "127.0.0.1:{http_port}"
[inputs.agents]
listen = "127.0.0.1:{agent_port}"
[ui]
enabled = false
"""
        )
    agent_config = os.path.join(work, "agent.toml")
    with open(agent_config, "w") as out:
        out.write(
            f"""data_dir = "{work}/agent"
[collector]
addresses = ["127.0.0.1:{agent_port}"]
max_backoff_seconds = 1
[[files]]
name = "app"
include = ["{logs}/app.log*"]
start_at = "beginning"
"""
        )

    collector = Process("collector", [arguments.haidang, "serve", "--config", collector_config], f"{work}/collector.log")
    agent = Process("agent", [arguments.agent, "run", "--config", agent_config], f"{work}/agent.log")
    collector.start()
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", agent_port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or collector.process.poll() is not None:
                sys.exit(f"the collector did not start; see {work}/collector.log")
            time.sleep(0.2)
    token = subprocess.run(
        [arguments.haidang, "agents", "--config", collector_config, "token"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    subprocess.run([arguments.agent, "enroll", "--token", token, "--config", agent_config], check=True,
                   capture_output=True)
    agent.start()

    writer = Writer(logs, arguments.rate, arguments.seconds, rotate_every)
    writer.start()
    # Kills at random moments over the writing time, alternating agent and collector.
    random.seed(14423)
    moments = sorted(random.uniform(0.05, 0.95) * arguments.seconds for _ in range(2 * arguments.kills))
    start = time.monotonic()
    kills = {"agent": 0, "collector": 0}
    for index, moment in enumerate(moments):
        time.sleep(max(0.0, start + moment - time.monotonic()))
        victim = agent if index % 2 == 0 else collector
        victim.kill()
        kills[victim.name] += 1
        time.sleep(random.uniform(0.05, 0.5))
        victim.start()
    writer.join()
    total = writer.written

    # Wait for the agent to catch up: its status file shows nothing pending and all read.
    caught_up = False
    deadline = time.monotonic() + max(60, arguments.seconds)
    status_path = os.path.join(work, "agent", "status.json")
    while time.monotonic() < deadline:
        time.sleep(2)
        try:
            with open(status_path) as status_file:
                status = json.load(status_file)
        except (OSError, ValueError):
            continue
        if status["spool"]["pending_records"] == 0 and status["spool"]["next_sequence"] > 1:
            health = subprocess.run(["curl", "-s", f"http://127.0.0.1:{http_port}/health"],
                                    capture_output=True, text=True).stdout
            # Stable for one status period: done.
            time.sleep(6)
            with open(status_path) as status_file:
                again = json.load(status_file)
            if again["spool"]["next_sequence"] == status["spool"]["next_sequence"] and \
                    again["spool"]["pending_records"] == 0:
                caught_up = True
                break
    agent.stop()
    collector.stop()

    counts = dump_numbers(arguments.haidang, collector_config)
    missing = [number for number in range(total) if number not in counts]
    duplicated = [number for number, count in counts.items() if count > 1]
    extra = [number for number in counts if number >= total]
    summary = {
        "seconds": arguments.seconds,
        "rate": arguments.rate,
        "lines_written": total,
        "rotations": writer.rotations,
        "agent_kills": kills["agent"],
        "collector_kills": kills["collector"],
        "lines_at_collector": sum(counts.values()),
        "missing": len(missing),
        "duplicated": len(duplicated),
        "unexpected": len(extra),
        "caught_up": caught_up,
        "first_missing": missing[:5],
        "first_duplicated": duplicated[:5],
    }
    print(json.dumps(summary))
    ok = not missing and not duplicated and not extra
    if ok and not arguments.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"work directory kept: {work}", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
