#!/usr/bin/env python3
"""How long an event takes from ingest to search: sends one line at a time through the HTTP ingest
and polls the analysts' search API until the line is found; prints the delays.

    python3 bench/visibility.py [--events 50] [--haidang target/release/haidang]

The collector runs on a temporary data directory with its own configuration; the target is
"searchable within about 2 s" (the index commits once a second).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from crash import Api, wait_for_port  # noqa: E402
from fault import ROOT, Process, free_port  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--haidang", default=os.path.join(ROOT, "target/release/haidang"))
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="haidang-visibility-")
    http_port, ui_port = free_port(), free_port()
    config = os.path.join(work, "collector.toml")
    with open(config, "w") as out:
        out.write(f"""data_dir = "{work}/data"
rules = ["{ROOT}/rules/haidang"]
[inputs.syslog_udp]
enabled = false
[inputs.syslog_tcp]
enabled = false
[inputs.agents]
enabled = false
[inputs.http]
listen = "127.0.0.1:{http_port}"
[ui]
listen = "127.0.0.1:{ui_port}"
""")
    subprocess.run([arguments.haidang, "users", "--config", config, "add", "bench", "--role", "analyst",
                    "--password-stdin"], input="visibility-bench\n", text=True, check=True, capture_output=True)
    collector = Process("collector", [arguments.haidang, "serve", "--config", config], f"{work}/collector.log")
    collector.start()
    wait_for_port(ui_port, collector, f"{work}/collector.log")
    api = Api(ui_port)
    api.login("bench", "visibility-bench")
    delays = []
    for number in range(arguments.events):
        marker = f"visibility{number:06d}x{os.getpid()}"
        line = f"Nov 27 10:00:00 web01 app[1]: {marker}\n".encode()
        request = urllib.request.Request(f"http://127.0.0.1:{http_port}/ingest/lines", data=line, method="POST")
        started = time.monotonic()
        urllib.request.urlopen(request, timeout=30).read()
        while True:
            found = json.loads(api.call("GET", f"/api/v1/search?q={marker}&from=now-30d&to=now%2B1d&size=1"))
            if found["total"] >= 1:
                break
            if time.monotonic() - started > 30:
                sys.exit(f"event {marker} not searchable after 30 s")
            time.sleep(0.02)
        delays.append(time.monotonic() - started)
        time.sleep(0.3 * (number % 4))  # land at different moments of the commit cycle
    collector.stop()
    delays.sort()
    print(json.dumps({
        "events": len(delays),
        "p50_s": round(statistics.median(delays), 3),
        "p95_s": round(delays[int(0.95 * (len(delays) - 1))], 3),
        "max_s": round(delays[-1], 3),
    }))


if __name__ == "__main__":
    main()
