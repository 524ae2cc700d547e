#!/usr/bin/env python3
"""Crash test of the index: the collector is killed with SIGKILL during ingest and restarted;
afterwards every event it acknowledged is searchable, once.

    python3 tests/crash.py                          # long form: 60 s, 8 collector kills
    python3 tests/crash.py --seconds 15 --kills 3   # short form (CI)

An agent ships a growing file (numbered lines, --rate per second) to the collector, and an HTTP
client posts numbered lines to `/ingest/lines`, while the collector is SIGKILLed --kills times.
Acknowledged means: for the agent, in the collector's write-ahead log (`haidang wal dump`); for
HTTP, answered 200 (a request that failed is not counted, and is not sent again). When the agent has caught up, the test logs in to the analysts' API (HTTPS,
the collector's own certificate) as an analyst and exports every event of the time range; every
acknowledged line number must be there exactly once.

Prints one JSON summary line; exits non-zero on any missing or duplicated event.
"""

import argparse
import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault import ROOT, Process, Writer, free_port  # noqa: E402


def wait_for_port(port, process, log, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.process.poll() is not None:
                sys.exit(f"the collector stopped; see {log}")
            time.sleep(0.2)
    sys.exit(f"the collector did not start; see {log}")


class Api:
    """The analysts' API over HTTPS, trusting the collector's own certificate."""

    def __init__(self, port):
        self.base = f"https://127.0.0.1:{port}"
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE
        self.cookie = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        with urllib.request.urlopen(request, context=self.context, timeout=120) as response:
            cookie = response.headers.get("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";")[0]
            return response.read().decode()

    def login(self, user, password):
        self.call("POST", "/api/v1/login", {"username": user, "password": password})


class HttpSender(threading.Thread):
    """Posts batches of numbered lines; remembers the numbers of the batches answered 200."""

    def __init__(self, port, seconds):
        super().__init__(daemon=True)
        self.port, self.seconds = port, seconds
        self.acknowledged = set()
        self.failed = 0

    def run(self):
        start = time.monotonic()
        number = 0
        while time.monotonic() - start < self.seconds:
            numbers = range(number, number + 50)
            number += 50
            body = "".join(f"2026-11-27T10:00:00+07:00 web02 app[2]: http={n:09d}\n" for n in numbers).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{self.port}/ingest/lines", data=body, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    if response.status == 200:
                        self.acknowledged.update(numbers)
            except OSError:
                self.failed += 1
            time.sleep(0.05)


def numbers_after(text, marker):
    position = text.find(marker)
    return int(text[position + len(marker): position + len(marker) + 9]) if position >= 0 else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--haidang", default=os.path.join(ROOT, "target/debug/haidang"))
    parser.add_argument("--agent", default=os.path.join(ROOT, "target/debug/haidang-agent"))
    parser.add_argument("--keep", action="store_true")
    arguments = parser.parse_args()

    work = tempfile.mkdtemp(prefix="haidang-crash-")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    agent_port, ui_port, http_port = free_port(), free_port(), free_port()
    config = os.path.join(work, "collector.toml")
    with open(config, "w") as out:
        out.write(f"""data_dir = "{work}/collector"
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
listen = "127.0.0.1:{ui_port}"
""")
    agent_config = os.path.join(work, "agent.toml")
    with open(agent_config, "w") as out:
        out.write(f"""data_dir = "{work}/agent"
[collector]
addresses = ["127.0.0.1:{agent_port}"]
max_backoff_seconds = 1
[[files]]
name = "app"
include = ["{logs}/app.log*"]
start_at = "beginning"
""")
    subprocess.run(
        [arguments.haidang, "users", "--config", config, "add", "analyst", "--role", "analyst", "--password-stdin"],
        input="crash-test-password\n", text=True, check=True, capture_output=True,
    )
    collector = Process("collector", [arguments.haidang, "serve", "--config", config], f"{work}/collector.log")
    agent = Process("agent", [arguments.agent, "run", "--config", agent_config], f"{work}/agent.log")
    collector.start()
    wait_for_port(agent_port, collector, f"{work}/collector.log")
    token = subprocess.run([arguments.haidang, "agents", "--config", config, "token"],
                           capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([arguments.agent, "enroll", "--token", token, "--config", agent_config],
                   check=True, capture_output=True)
    agent.start()

    writer = Writer(logs, arguments.rate, arguments.seconds, arguments.seconds / 2)
    writer.start()
    http = HttpSender(http_port, arguments.seconds)
    http.start()
    random.seed(331)
    start = time.monotonic()
    for moment in sorted(random.uniform(0.1, 0.9) * arguments.seconds for _ in range(arguments.kills)):
        time.sleep(max(0.0, start + moment - time.monotonic()))
        collector.kill()
        time.sleep(random.uniform(0.1, 0.5))
        collector.start()
    writer.join()
    http.join()
    total = writer.written

    # Wait until the agent has nothing pending, then give the index a few commits.
    status_path = os.path.join(work, "agent", "status.json")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        time.sleep(1)
        try:
            with open(status_path) as status_file:
                status = json.load(status_file)
        except (OSError, ValueError):
            continue
        if status["spool"]["pending_records"] == 0 and status["spool"]["acked"] >= total:
            break
    time.sleep(4)
    wait_for_port(ui_port, collector, f"{work}/collector.log")

    acknowledged = set()
    dump = subprocess.run([arguments.haidang, "wal", "dump", "--config", config],
                          capture_output=True, text=True, check=True).stdout
    for line in dump.splitlines():
        text = json.loads(line).get("line", "")
        marker = text.find("line=")
        if marker >= 0:
            acknowledged.add(int(text[marker + 5: marker + 14]))

    api = Api(ui_port)
    api.login("analyst", "crash-test-password")
    exported = api.call("GET", "/api/v1/export?q=*&from=2026-01-01T00:00:00Z&to=now%2B1d")
    counts, http_counts = {}, {}
    for line in exported.splitlines():
        raw = json.loads(line).get("raw", "")
        for marker, table in (("line=", counts), ("http=", http_counts)):
            number = numbers_after(raw, marker)
            if number is not None:
                table[number] = table.get(number, 0) + 1
    agent.stop()
    collector.stop()

    missing = sorted(number for number in acknowledged if number not in counts)
    duplicated = sorted(number for number, count in counts.items() if count > 1)
    http_missing = sorted(number for number in http.acknowledged if number not in http_counts)
    http_duplicated = sorted(number for number, count in http_counts.items() if count > 1)
    summary = {
        "seconds": arguments.seconds,
        "lines_written": total,
        "collector_kills": arguments.kills,
        "acknowledged": len(acknowledged),
        "searchable": len(counts),
        "missing": len(missing),
        "duplicated": len(duplicated),
        "first_missing": missing[:5],
        "first_duplicated": duplicated[:5],
        "http_acknowledged": len(http.acknowledged),
        "http_failed_requests": http.failed,
        "http_missing": len(http_missing),
        "http_duplicated": len(http_duplicated),
    }
    print(json.dumps(summary))
    ok = (not missing and not duplicated and len(acknowledged) == total
          and not http_missing and not http_duplicated and http.acknowledged)
    if ok and not arguments.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"work directory kept: {work}", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
